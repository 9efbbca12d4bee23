// tegata_redis_peer: a small server stand-in for the two-process tests. One SessionManager over
// the Redis store, driven by one command per line on stdin, one answer per line on stdout:
//   issue <subject>                -> ok <access> <refresh> | err <errc>
//   validate <access>              -> ok | err <errc>
//   refresh <refresh>              -> ok <access> <refresh> | err <errc>
//   revoke <token>                 -> ok | err <errc>
//   revoke_all <subject>           -> ok | err <errc>
//   race <refresh> <n> <start_ns>  -> race <successes> <refresh_reused> <session_revoked> <other>
//      n threads refresh the same token at steady_clock time start_ns (a system-wide clock on
//      Linux, so two peers start together).
//   ready                          -> ok once the local cache (if enabled) is fresh
// Usage: tegata_redis_peer <host:port> <prefix> <max_staleness_ms, 0: no local cache>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>
#include <tegata/tegata.hpp>
#include <thread>
#include <vector>

#include "tegata/store/redis.hpp"

namespace {

using Manager =
    tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::redis::RevocationStore>;

std::string name(std::error_code ec) { return std::string(tegata::to_string(ec)); }

std::string answer(const tegata::Result<tegata::TokenPair>& pair) {
  if (!pair) return "err " + name(pair.error());
  return "ok " + pair->access_token + " " + pair->refresh_token;
}

std::string answer(const auto& result) { return result ? "ok" : "err " + name(result.error()); }

std::string race(Manager& manager, const std::string& token, int threads, std::int64_t start) {
  std::atomic<int> ok{0}, reused{0}, revoked{0}, other{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      while (std::chrono::steady_clock::now().time_since_epoch().count() < start) {
      }
      const auto r = manager.refresh(token);
      if (r) {
        ++ok;
      } else if (r.error() == tegata::errc::refresh_reused) {
        ++reused;
      } else if (r.error() == tegata::errc::session_revoked) {
        ++revoked;
      } else {
        ++other;
      }
    });
  }
  for (auto& w : workers) w.join();
  std::ostringstream out;
  out << "race " << ok << ' ' << reused << ' ' << revoked << ' ' << other;
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: tegata_redis_peer <host:port> <prefix> <max_staleness_ms>\n";
    return 2;
  }
  const std::string where = argv[1];
  const auto colon = where.rfind(':');
  tegata::redis::Options options;
  options.host = where.substr(0, colon);
  options.port = std::stoi(where.substr(colon + 1));
  options.prefix = argv[2];
  options.pool_size = 8;
  options.connect_timeout = std::chrono::seconds{5};
  options.command_timeout = std::chrono::seconds{5};
  const long staleness = std::stol(argv[3]);
  options.local_cache.enabled = staleness > 0;
  options.local_cache.max_staleness = std::chrono::milliseconds{staleness > 0 ? staleness : 1};

  tegata::SessionOptions session;
  session.issuer = "https://auth.example";
  session.audience = "api";
  session.access_ttl = std::chrono::minutes{15};
  session.refresh_ttl = std::chrono::hours{24};
  session.absolute_ttl = std::chrono::hours{72};
  // Any second use is theft: the tests race refreshes across processes and count the verdicts.
  session.reuse_grace = std::chrono::seconds{0};
  tegata::ManualClock clock{std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}}};
  tegata::redis::RevocationStore store(options);
  Manager manager(tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 's'), "k1"), session,
                  clock, store);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command, arg;
    in >> command >> arg;
    std::string reply = "err unknown_command";
    if (command == "issue") reply = answer(manager.issue(arg));
    if (command == "validate") reply = answer(manager.validate(arg));
    if (command == "refresh") reply = answer(manager.refresh(arg));
    if (command == "revoke") reply = answer(manager.revoke(arg));
    if (command == "revoke_all") reply = answer(manager.revoke_all(arg));
    if (command == "race") {
      int threads = 0;
      std::int64_t start = 0;
      in >> threads >> start;
      reply = race(manager, arg, threads, start);
    }
    if (command == "ready") {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
      while (options.local_cache.enabled && !store.cache_fresh() &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      }
      reply = !options.local_cache.enabled || store.cache_fresh() ? "ok" : "err not_fresh";
    }
    std::cout << reply << std::endl;
  }
  return 0;
}
