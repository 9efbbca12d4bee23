// The Redis store against real redis-server and redis-sentinel processes of the test's own:
// eviction policies that could forget a revocation are refused, a full Redis (OOM) fails writes
// closed, and with Sentinels the store finds the primary and follows a failover.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "redis/redis_support.hpp"
#include "tegata/store/redis.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;
using tegata::errc;
using tegata::redis::RevocationStore;

constexpr sys_seconds at(std::int64_t offset) {
  return sys_seconds{std::chrono::seconds{1'700'000'000 + offset}};
}

bool revoked(const RevocationStore& store, std::string_view jti) {
  const auto status = store.status(jti, "no-family", "nobody", at(1));
  REQUIRE(status);
  return status->token_revoked;
}

}  // namespace

TEST_CASE("eviction: a Redis that may evict tegata's keys is refused unless allowed",
          "[redis][eviction]") {
  redis_test::require_redis();
  const char* policy = GENERATE("allkeys-lru", "volatile-ttl", "allkeys-random");
  CAPTURE(policy);
  redis_test::server server({"--maxmemory-policy", policy});
  server.start();
  auto options = redis_test::options(server.where(), redis_test::unique_prefix());
  {
    const RevocationStore store(options);
    CHECK(store.ping().error() == errc::not_supported);
    RevocationStore writer(options);
    CHECK(writer.revoke_token("j", at(100), at(0)).error() == errc::store_unavailable);
    CHECK(store.status("j", "f", "s", at(1)).error() == errc::store_unavailable);
  }
  options.allow_eviction = true;
  RevocationStore store(options);
  CHECK(store.ping());
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  CHECK(revoked(store, "j"));

  // noeviction, the Redis default, is accepted as it is.
  redis_test::server plain({"--maxmemory-policy", "noeviction"});
  plain.start();
  const RevocationStore strict(redis_test::options(plain.where(), redis_test::unique_prefix()));
  CHECK(strict.ping());
}

TEST_CASE("eviction: a policy changed to evict is refused from the next connection on",
          "[redis][eviction]") {
  redis_test::require_redis();
  redis_test::server server;
  server.start();
  auto options = redis_test::options(server.where(), redis_test::unique_prefix());
  options.pool_size = 1;
  RevocationStore store(options);
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  redis_test::client admin(server.where());
  admin({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  admin({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  CHECK(store.revoke_token("k", at(100), at(0)).error() == errc::store_unavailable);
  CHECK(store.ping().error() == errc::not_supported);
  admin({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  REQUIRE(redis_test::eventually([&] { return store.ping().has_value(); }));
  CHECK(revoked(store, "j"));
}

TEST_CASE("OOM: a Redis at maxmemory refuses writes, and the store fails closed",
          "[redis][eviction]") {
  redis_test::require_redis();
  redis_test::server server({"--maxmemory-policy", "noeviction"});
  server.start();
  RevocationStore store(redis_test::options(server.where(), redis_test::unique_prefix()));
  REQUIRE(store.revoke_token("before", at(100), at(0)));
  redis_test::client admin(server.where());
  admin({"CONFIG", "SET", "maxmemory", "1"});  // below what Redis already uses: every write is OOM
  const auto oom = store.revoke_token("during", at(100), at(0));
  REQUIRE_FALSE(oom);
  CHECK(oom.error() == errc::store_unavailable);
  CHECK(revoked(store, "before"));  // reads still work
  admin({"CONFIG", "SET", "maxmemory", "0"});
  CHECK_FALSE(revoked(store, "during"));  // nothing was half-written: the caller saw the failure
  REQUIRE(store.revoke_token("during", at(100), at(0)));
  CHECK(revoked(store, "during"));
}

TEST_CASE("sentinel: misconfiguration fails at construction", "[redis][sentinel]") {
  tegata::redis::Options o;
  o.sentinels = {"127.0.0.1:26379"};
  CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);  // no master_name
  o.master_name = "tegata";
  CHECK_NOTHROW(RevocationStore(o));
  o.sentinels = {"127.0.0.1"};
  CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);
  o.sentinels = {"127.0.0.1:0"};
  CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);
  o.sentinels = {};
  CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);  // master_name alone
  o.sentinels = {"127.0.0.1:26379"};
  o.unix_socket = "/tmp/redis.sock";
  CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);
}

TEST_CASE("sentinel: no Sentinel reachable fails closed, fast", "[redis][sentinel]") {
  tegata::redis::Options o;
  o.sentinels = {"127.0.0.1:" + std::to_string(redis_test::free_port()),
                 "127.0.0.1:" + std::to_string(redis_test::free_port())};
  o.master_name = "tegata";
  o.connect_timeout = 200ms;
  const RevocationStore store(o);
  const auto start = std::chrono::steady_clock::now();
  CHECK(store.ping().error() == errc::store_unavailable);
  CHECK(store.status("j", "f", "s", at(1)).error() == errc::store_unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("sentinel: the store finds the primary and follows a failover", "[redis][sentinel]") {
  redis_test::require_redis();
  redis_test::replicated redis(1);
  RevocationStore store(redis.options(redis_test::unique_prefix()));
  REQUIRE(store.ping());
  REQUIRE(store.revoke_token("before", at(100), at(0)));
  redis_test::client admin(redis.primary().where());
  admin({"WAIT", "1", "5000"});  // on the replica before the crash

  INFO("primary " << redis.primary().where().port << ", replica " << redis.replica(0).where().port);
  redis.primary().crash();
  // Until a Sentinel has promoted the replica, writes fail closed; then they succeed, there.
  const auto failover_started = std::chrono::steady_clock::now();
  REQUIRE(redis_test::eventually(
      [&] { return store.revoke_token("after", at(100), at(0)).has_value(); }, 60s));
  const auto unavailable_for = std::chrono::steady_clock::now() - failover_started;
  WARN("store unavailable for "
       << std::chrono::duration_cast<std::chrono::milliseconds>(unavailable_for).count()
       << " ms during the failover");
  // The Sentinel that led the failover knows first; the others learn it from it.
  CHECK(redis_test::eventually([&] { return redis.failed_over(); }));
  CHECK(revoked(store, "before"));
  CHECK(revoked(store, "after"));
  redis_test::client promoted(redis.replica(0).where());
  CHECK(redis_test::rd::text(promoted({"ROLE"})->element[0]) == "master");
}

TEST_CASE("sentinel: a switch the Sentinels announce moves pooled connections to the new primary",
          "[redis][sentinel]") {
  redis_test::require_redis();
  redis_test::replicated redis(1);
  auto options = redis.options(redis_test::unique_prefix());
  options.pool_size = 1;  // one connection, opened to the first primary below
  RevocationStore store(options);
  REQUIRE(store.revoke_token("before", at(100), at(0)));

  // A failover the Sentinels run while the old primary is healthy: nothing fails on the store's
  // connection, which would go on writing to the old primary (until it is made a replica, and
  // then meet READONLY) but for the +switch-master announcement.
  {
    redis_test::rd::context_ptr sentinel(redisConnect(
        "127.0.0.1", redis_test::parse_address(redis.sentinel_at(0).where())->port));
    REQUIRE(sentinel != nullptr);
    const auto reply =
        redis_test::rd::run(sentinel.get(), redis_test::rd::command({"SENTINEL", "FAILOVER", redis.name()}));
    REQUIRE(reply != nullptr);
    REQUIRE(redis_test::rd::text(reply.get()) == "OK");
  }
  REQUIRE(redis_test::eventually([&] { return redis.failed_over(); }, 60s));
  redis_test::client promoted(redis.replica(0).where());
  REQUIRE(redis_test::eventually(
      [&] { return redis_test::rd::text(promoted({"ROLE"})->element[0]) == "master"; }));
  std::this_thread::sleep_for(300ms);  // the announcement reaches the store's watcher

  // The next write goes to the new primary at the first attempt.
  REQUIRE(store.revoke_token("after", at(100), at(0)));
  CHECK(promoted({"EXISTS", options.prefix + "t:after"})->integer == 1);
}

TEST_CASE("eviction: an ACL user that may not read INFO cannot show the policy, and is refused",
          "[redis][eviction]") {
  redis_test::require_redis();
  redis_test::server server;
  server.start();
  redis_test::client admin(server.where());
  admin({"ACL", "SETUSER", "no-info", "on", ">secret", "~*", "&*", "+@all", "-info"});
  auto options = redis_test::options(server.where(), redis_test::unique_prefix());
  options.username = "no-info";
  options.password = "secret";
  CHECK(RevocationStore(options).ping().error() == errc::store_unavailable);
  options.allow_eviction = true;  // the application vouches for the server's policy
  CHECK(RevocationStore(options).ping());
}
