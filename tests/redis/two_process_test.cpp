// Two server processes (tests/redis/peer.cpp) sharing one Redis: each sees the other's logouts,
// version bumps and consumed refresh tokens, and eight concurrent refreshes of one token spread
// over both yield exactly one new pair. Run without and with the local cache; with it, a write
// made by one process is guaranteed visible to the other once max_staleness has passed.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "redis/redis_support.hpp"

#ifndef TEGATA_REDIS_PEER
#error "TEGATA_REDIS_PEER must name the tegata_redis_peer executable"
#endif

using namespace std::chrono_literals;

namespace {

struct Pair {
  std::string access, refresh;
};

class peer {
 public:
  peer(const redis_test::address& where, const std::string& prefix,
       std::chrono::milliseconds staleness)
      : process_({TEGATA_REDIS_PEER, where.host + ":" + std::to_string(where.port), prefix,
                  std::to_string(staleness.count())},
                 /*talk=*/true) {
    REQUIRE(process_.started());
    REQUIRE(process_.request("ready") == "ok");
  }

  Pair issue(const std::string& subject) { return pair(process_.request("issue " + subject)); }
  Pair refresh(const Pair& p) { return pair(process_.request("refresh " + p.refresh)); }
  std::string attempt_refresh(const Pair& p) { return process_.request("refresh " + p.refresh); }
  std::string validate(const Pair& p) { return process_.request("validate " + p.access); }
  std::string revoke(const Pair& p) { return process_.request("revoke " + p.access); }
  std::string revoke_all(const std::string& subject) {
    return process_.request("revoke_all " + subject);
  }
  void send(const std::string& line) { process_.send(line); }
  std::string receive() { return process_.receive(); }

 private:
  static Pair pair(const std::string& reply) {
    std::istringstream in(reply);
    std::string status;
    Pair p;
    in >> status >> p.access >> p.refresh;
    INFO(reply);
    REQUIRE(status == "ok");
    return p;
  }
  redis_test::child process_;
};

}  // namespace

TEST_CASE("two processes see each other's logouts, version bumps and consumed refresh tokens",
          "[redis][two_process]") {
  const auto where = redis_test::require_redis();
  const auto staleness = GENERATE(0ms, 200ms);  // 0: no local cache
  const std::string prefix = redis_test::unique_prefix();
  peer a(where, prefix, staleness);
  peer b(where, prefix, staleness);
  // The staleness bound: what another process wrote is visible once it has passed.
  auto settle = [&] { std::this_thread::sleep_for(staleness); };

  SECTION("logout") {
    const Pair alice = a.issue("alice");
    CHECK(b.validate(alice) == "ok");
    REQUIRE(b.revoke(alice) == "ok");
    settle();
    CHECK(a.validate(alice) == "err session_revoked");
    CHECK(a.attempt_refresh(alice) == "err session_revoked");
  }
  SECTION("log out everywhere") {
    const Pair bob = a.issue("bob");
    REQUIRE(b.revoke_all("bob") == "ok");
    settle();
    CHECK(a.validate(bob) == "err version_mismatch");
    CHECK(a.attempt_refresh(bob) == "err version_mismatch");
    const Pair again = a.issue("bob");
    CHECK(b.validate(again) == "ok");
  }
  SECTION("a refresh token consumed in one process is reuse in the other") {
    const Pair carol = a.issue("carol");
    const Pair rotated = a.refresh(carol);
    CHECK(b.attempt_refresh(carol) == "err refresh_reused");
    settle();
    CHECK(a.validate(rotated) == "err session_revoked");
    CHECK(a.attempt_refresh(rotated) == "err session_revoked");
  }
  SECTION("eight concurrent refreshes of one token over two processes: exactly one wins") {
    const Pair dave = a.issue("dave");
    const auto start = std::chrono::steady_clock::now() + 300ms;
    const std::string race =
        "race " + dave.refresh + " 4 " + std::to_string(start.time_since_epoch().count());
    a.send(race);
    b.send(race);
    int ok = 0, reused = 0, revoked = 0, other = 0;
    for (peer* p : {&a, &b}) {
      std::istringstream in(p->receive());
      std::string word;
      int n_ok = 0, n_reused = 0, n_revoked = 0, n_other = 0;
      in >> word >> n_ok >> n_reused >> n_revoked >> n_other;
      REQUIRE(word == "race");
      ok += n_ok;
      reused += n_reused;
      revoked += n_revoked;
      other += n_other;
    }
    CHECK(ok == 1);
    CHECK(reused + revoked == 7);
    CHECK(reused >= 1);
    CHECK(other == 0);
    settle();
    CHECK(a.validate(dave) == "err session_revoked");
    CHECK(b.validate(dave) == "err session_revoked");
  }
}
