// The MemoryRevocationStore under a flood of logins, logouts and revocations driven through a
// ManualClock. Its entry count never exceeds the configured bound, room comes back as facts
// expire, and once every fact has expired the store is empty.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "tegata/tegata.hpp"

namespace {

using namespace std::chrono_literals;
using tegata::errc;

constexpr std::chrono::sys_seconds kStart{1'700'000'000s};

// A distinct id per operation, short enough to stay in std::string's inline buffer.
std::string id(char kind, std::size_t n) { return kind + std::to_string(n); }

// A login's record at now, ending at now + lifetime.
tegata::SessionRecord login(std::size_t n, std::chrono::sys_seconds now,
                            std::chrono::seconds lifetime) {
  tegata::SessionRecord r;
  r.session_id = id('s', n);
  r.refresh_id = id('r', n);
  r.auth_time = r.last_refresh = now;
  r.expires_at = r.until = r.absolute_end = now + lifetime;
  r.refresh_ttl = lifetime;
  r.access_until = now + 60s;
  return r;
}

}  // namespace

TEST_CASE("memory store: a flood of 700,000 operations stays within the bound and drains",
          "[store_flood]") {
  // 700,000 operations, 100 per simulated second, each fact kept for 60 to 1,200 s: about 26,000
  // facts would be live at once, beyond the bound. The count is what fits in about 2.5 s of
  // an unoptimised (Debug) build on a 2-core development machine, where 10^6 took 3.7 s. It is
  // already more than 30 times the bound and 5 times the longest lifetime, so every entry is
  // replaced many times over.
  constexpr std::size_t kOperations = 700'000;
  constexpr std::size_t kPerSecond = 100;
  constexpr std::size_t kBound = 20'000;
  tegata::ManualClock clock(kStart);
  tegata::MemoryRevocationStore store({.max_entries = kBound, .shards = 16});

  std::size_t largest = 0;
  std::size_t refused = 0;        // errc::store_full
  std::size_t other_errors = 0;   // anything else would be a bug
  std::size_t admitted_late = 0;  // writes that succeeded in the last tenth, after it filled up
  for (std::size_t i = 0; i < kOperations; ++i) {
    if (i % kPerSecond == 0) clock.advance(1s);
    const auto now = clock.now();
    std::error_code ec;
    switch (i % 4) {
      case 0:  // a login: its record, and its subject's index (2,500 subjects)
        ec = store.create_session(id('u', i % 10'000), login(i, now, 1200s), 100, now).error();
        break;
      case 1:  // every other login logs out at once: its record becomes a marker
        if (i % 8 == 1) {
          ec =
              store.end_session(id('u', (i - 1) % 10'000), id('s', i - 1), now + 300s, now).error();
        }
        break;
      case 2:  // a revoked access token
        ec = store.revoke_token(id('j', i), now + 60s, now).error();
        break;
      default:  // a log-out-everywhere, among 5,000 subjects
        ec = store.bump_version(id('u', i % 5'000), now + 120s, now).error();
        break;
    }
    if (ec == errc::store_full) {
      ++refused;
    } else if (ec) {
      ++other_errors;
    } else if (i >= kOperations / 10 * 9) {
      ++admitted_late;
    }
    if (store.size() > largest) largest = store.size();
  }

  CHECK(largest <= kBound);
  CHECK(largest >= kBound - 16);  // the flood did reach the bound
  CHECK(refused > 0);             // and was refused there, as documented
  CHECK(other_errors == 0);
  CHECK(admitted_late > 0);  // expiry made room again: the store is not stuck full

  // Past the longest lifetime every fact has expired; a sweep leaves nothing behind.
  clock.advance(1201s);
  store.prune(clock.now());
  CHECK(store.size() == 0);
  CHECK(store.revoke_token("after", clock.now() + 60s, clock.now()));
  CHECK(store.size() == 1);
}

TEST_CASE("memory store: logins and logouts through a SessionManager respect the bound",
          "[store_flood]") {
  // Signing dominates here, so a smaller flood: 3,000 sessions against a bound of 600.
  constexpr std::size_t kSessions = 3'000;
  constexpr std::size_t kBound = 600;
  tegata::ManualClock clock(kStart);
  tegata::MemoryRevocationStore store({.max_entries = kBound, .shards = 8});
  tegata::SessionManager manager(
      tegata::HmacKey(tegata::Algorithm::HS256, "store flood test secret of 32+ bytes!"),
      tegata::SessionOptions{.issuer = "https://issuer.example",
                             .audience = "api",
                             .access_ttl = 300s,
                             .refresh_ttl = 3'600s,
                             .absolute_ttl = 7'200s},
      clock, store);

  std::size_t largest = 0;
  std::size_t full = 0;
  for (std::size_t i = 0; i < kSessions; ++i) {
    if (i % 10 == 0) clock.advance(1s);
    const auto pair = manager.issue("user-" + std::to_string(i % 100));
    if (!pair) {
      // A full store refuses the login (its record would not fit): it fails closed.
      CHECK(pair.error() == errc::store_full);
      ++full;
      continue;
    }
    // Ending a live session needs no new entry (its record becomes the marker): a logout is
    // never refused for room.
    REQUIRE(manager.revoke(pair->refresh_token));
    CHECK(manager.validate(pair->access_token).error() == errc::session_revoked);
    if (store.size() > largest) largest = store.size();
  }
  CHECK(largest <= kBound);
  CHECK(full > 0);

  // An ended session is remembered while its access token lives (300 s), then forgotten.
  clock.advance(301s);
  store.prune(clock.now());
  CHECK(store.size() == 0);
}
