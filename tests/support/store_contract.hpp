// The behaviour every stateful RevocationStore shares: each operation at its time boundaries,
// extension rules, versions, refresh-token consumption and its grace rule, shared copies and
// concurrent use. One suite, run against MemoryRevocationStore (tests/unit/memory_store_test.cpp)
// and the Redis store (tests/redis/store_contract_test.cpp), so the two cannot drift apart.
//
// Usage: before including this header, declare the stores to test as
//   namespace store_contract { using Stores = std::tuple<Factory...>; }
// where each Factory has `static auto make()` returning a new, empty store (it may SKIP when its
// backend is not available). Every test case then runs once per factory. Time is always passed
// explicitly; nothing here depends on how long anything takes.
#pragma once

#include <atomic>
#include <barrier>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <latch>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tegata/error.hpp"
#include "tegata/store/revocation_store.hpp"

namespace store_contract {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using tegata::errc;
using tegata::RefreshUse;

inline constexpr std::int64_t kStart = 1'700'000'000;

constexpr sys_seconds at(std::int64_t offset) { return sys_seconds{seconds{kStart + offset}}; }

template <class Store>
bool token_revoked(const Store& store, std::string_view jti, sys_seconds now) {
  const auto status = store.status(jti, "no-such-sid", "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->token_revoked;
}

template <class Store>
bool family_revoked(const Store& store, std::string_view sid, sys_seconds now) {
  const auto status = store.status("no-such-jti", sid, "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->family_revoked;
}

template <class Store>
std::uint64_t min_version(const Store& store, std::string_view subject, sys_seconds now) {
  const auto status = store.status("no-such-jti", "no-such-sid", subject, now);
  REQUIRE(status.has_value());
  return status->min_version;
}

template <class Store>
RefreshUse consume(Store& store, std::string_view sid, std::string_view jti, sys_seconds until,
                   sys_seconds now, seconds grace = seconds{0}) {
  const auto use = store.consume_refresh(sid, jti, until, now, grace);
  REQUIRE(use.has_value());
  return *use;
}

}  // namespace store_contract

TEMPLATE_LIST_TEST_CASE("an empty store reports nothing revoked and version 0", "[store_contract]",
                        store_contract::Stores) {
  const auto store = TestType::make();
  const auto status = store.status("jti", "sid", "alice", store_contract::at(0));
  REQUIRE(status.has_value());
  CHECK_FALSE(status->token_revoked);
  CHECK_FALSE(status->family_revoked);
  CHECK(status->min_version == 0);
  const auto empty = store.status("", "", "", store_contract::at(0));
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->token_revoked);
  CHECK_FALSE(empty->family_revoked);
  CHECK(empty->min_version == 0);
}

TEMPLATE_LIST_TEST_CASE("revoke_token holds until its time, exclusive", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  REQUIRE(store.revoke_token("jti-1", at(100), at(0)));
  CHECK(token_revoked(store, "jti-1", at(0)));
  CHECK(token_revoked(store, "jti-1", at(99)));
  CHECK_FALSE(token_revoked(store, "jti-1", at(100)));  // until == now: expired
  CHECK_FALSE(token_revoked(store, "jti-2", at(0)));
  CHECK_FALSE(family_revoked(store, "jti-1", at(0)));  // a jti is not a sid

  SECTION("a later until extends it") {
    REQUIRE(store.revoke_token("jti-1", at(200), at(50)));
    CHECK(token_revoked(store, "jti-1", at(199)));
    CHECK_FALSE(token_revoked(store, "jti-1", at(200)));
  }
  SECTION("an earlier until does not shorten it") {
    REQUIRE(store.revoke_token("jti-1", at(60), at(50)));
    CHECK(token_revoked(store, "jti-1", at(99)));
    CHECK_FALSE(token_revoked(store, "jti-1", at(100)));
  }
  SECTION("revoking again after it expired starts afresh") {
    REQUIRE(store.revoke_token("jti-1", at(300), at(150)));
    CHECK(token_revoked(store, "jti-1", at(299)));
    CHECK_FALSE(token_revoked(store, "jti-1", at(300)));
  }
}

TEMPLATE_LIST_TEST_CASE("a revocation that is already over changes nothing", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  REQUIRE(store.revoke_token("jti", at(10), at(10)));
  REQUIRE(store.revoke_token("jti", at(5), at(10)));
  REQUIRE(store.revoke_family("sid", at(10), at(10)));
  CHECK_FALSE(token_revoked(store, "jti", at(10)));
  CHECK_FALSE(token_revoked(store, "jti", at(9)));
  CHECK_FALSE(family_revoked(store, "sid", at(10)));
  CHECK_FALSE(family_revoked(store, "sid", at(9)));
}

TEMPLATE_LIST_TEST_CASE("revoke_family holds until its time and extends", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  REQUIRE(store.revoke_family("sid-1", at(100), at(0)));
  CHECK(family_revoked(store, "sid-1", at(0)));
  CHECK(family_revoked(store, "sid-1", at(99)));
  CHECK_FALSE(family_revoked(store, "sid-1", at(100)));
  CHECK_FALSE(family_revoked(store, "sid-2", at(0)));
  CHECK_FALSE(token_revoked(store, "sid-1", at(0)));  // a sid is not a jti

  REQUIRE(store.revoke_family("sid-1", at(500), at(10)));
  CHECK(family_revoked(store, "sid-1", at(499)));
  CHECK_FALSE(family_revoked(store, "sid-1", at(500)));
  REQUIRE(store.revoke_family("sid-1", at(20), at(10)));
  CHECK(family_revoked(store, "sid-1", at(499)));
}

TEMPLATE_LIST_TEST_CASE("consuming refresh tokens does not revoke their family", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r1", at(100), at(1)) == RefreshUse::reused);
  CHECK_FALSE(family_revoked(store, "sid", at(1)));

  SECTION("revoking a family that has consumed tokens") {
    REQUIRE(store.revoke_family("sid", at(50), at(2)));
    CHECK(family_revoked(store, "sid", at(49)));
    CHECK_FALSE(family_revoked(store, "sid", at(50)));  // the family lives on for r1, unrevoked
    CHECK(consume(store, "sid", "r1", at(100), at(60)) == RefreshUse::reused);
  }
}

TEMPLATE_LIST_TEST_CASE("bump_version: seconds since the epoch, strictly increasing",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  CHECK(min_version(store, "alice", at(0)) == 0);

  const auto v1 = store.bump_version("alice", at(100), at(0));
  REQUIRE(v1.has_value());
  CHECK(*v1 == static_cast<std::uint64_t>(kStart));
  CHECK(min_version(store, "alice", at(0)) == *v1);
  CHECK(min_version(store, "bob", at(0)) == 0);

  const auto v2 = store.bump_version("alice", at(100), at(0));  // same second
  REQUIRE(v2.has_value());
  CHECK(*v2 == *v1 + 1);
  const auto v3 = store.bump_version("alice", at(100), at(0));
  REQUIRE(v3.has_value());
  CHECK(*v3 == *v1 + 2);
  CHECK(min_version(store, "alice", at(0)) == *v3);

  const auto v4 = store.bump_version("alice", at(300), at(50));
  REQUIRE(v4.has_value());
  CHECK(*v4 == static_cast<std::uint64_t>(kStart + 50));
  CHECK(min_version(store, "alice", at(299)) == *v4);
  CHECK(min_version(store, "alice", at(300)) == 0);  // until == now: forgotten
}

TEMPLATE_LIST_TEST_CASE("bump_version stays correct after the version is forgotten",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const auto v1 = store.bump_version("alice", at(1), at(0));
  const auto v2 = store.bump_version("alice", at(1), at(0));
  const auto v3 = store.bump_version("alice", at(1), at(0));
  REQUIRE(v1.has_value());
  REQUIRE(v2.has_value());
  REQUIRE(v3.has_value());
  REQUIRE(*v3 == static_cast<std::uint64_t>(kStart + 2));
  CHECK(*v1 < *v2);
  CHECK(*v2 < *v3);
  // The version ran two seconds ahead of the clock: it is kept until the clock has passed it,
  // even though `until` was at(1), so that the next bump cannot hand out a smaller number.
  CHECK(min_version(store, "alice", at(1)) == *v3);
  CHECK(min_version(store, "alice", at(2)) == *v3);
  CHECK(min_version(store, "alice", at(3)) == 0);
  const auto v4 = store.bump_version("alice", at(10), at(3));
  REQUIRE(v4.has_value());
  CHECK(*v4 > *v3);
  CHECK(*v4 == static_cast<std::uint64_t>(kStart + 3));
}

TEMPLATE_LIST_TEST_CASE("bump_version before the epoch still starts at 1", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const auto v = store.bump_version("alice", sys_seconds{seconds{10}}, sys_seconds{seconds{-5}});
  REQUIRE(v.has_value());
  CHECK(*v == 1);
  CHECK(min_version(store, "alice", sys_seconds{seconds{0}}) == 1);
}

TEMPLATE_LIST_TEST_CASE("consume_refresh: first use, then reuse", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::reused);
  CHECK(consume(store, "sid", "r1", at(100), at(99)) == RefreshUse::reused);

  // The same jti in another family, and another jti in the same family, are separate tokens.
  CHECK(consume(store, "other", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r2", at(100), at(0)) == RefreshUse::first);

  SECTION("a use is forgotten once the token has expired") {
    CHECK(consume(store, "sid", "r1", at(200), at(100)) == RefreshUse::first);
    CHECK(consume(store, "sid", "r1", at(200), at(101)) == RefreshUse::reused);
  }
  SECTION("ids are compared exactly, whatever bytes they hold") {
    CHECK(consume(store, "a", "}b", at(100), at(0)) == RefreshUse::first);
    CHECK(consume(store, "a}", "b", at(100), at(0)) == RefreshUse::first);
    CHECK(consume(store, "a}", "b", at(100), at(0)) == RefreshUse::reused);
    CHECK(consume(store, std::string("n\0l", 3), "x", at(100), at(0)) == RefreshUse::first);
    CHECK(consume(store, "n", std::string("\0lx", 3), at(100), at(0)) == RefreshUse::first);
  }
}

TEMPLATE_LIST_TEST_CASE("consume_refresh refuses a use it would forget at once", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const auto at_now = store.consume_refresh("sid", "r1", at(10), at(10), seconds{0});
  CHECK(at_now.error() == errc::invalid_argument);
  const auto before = store.consume_refresh("sid", "r1", at(9), at(10), seconds{30});
  CHECK(before.error() == errc::invalid_argument);
  CHECK(consume(store, "sid", "r1", at(11), at(10)) == RefreshUse::first);
}

TEMPLATE_LIST_TEST_CASE("consume_refresh grace window", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const seconds grace{10};
  REQUIRE(consume(store, "sid", "r1", at(1000), at(0), grace) == RefreshUse::first);

  SECTION("inclusive boundary") {
    CHECK(consume(store, "sid", "r1", at(1000), at(0), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r1", at(1000), at(9), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r1", at(1000), at(10), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r1", at(1000), at(11), grace) == RefreshUse::reused);
  }
  SECTION("measured from the first use, not from the last repeat") {
    CHECK(consume(store, "sid", "r1", at(1000), at(8), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r1", at(1000), at(11), grace) == RefreshUse::reused);
  }
  SECTION("no grace: every repeat is reuse") {
    CHECK(consume(store, "sid", "r1", at(1000), at(0), seconds{0}) == RefreshUse::reused);
    CHECK(consume(store, "sid", "r1", at(1000), at(0), seconds{-5}) == RefreshUse::reused);
  }
  SECTION("only the family's most recent token is excused") {
    REQUIRE(consume(store, "sid", "r2", at(1000), at(2), grace) == RefreshUse::first);
    CHECK(consume(store, "sid", "r1", at(1000), at(3), grace) == RefreshUse::reused);
    CHECK(consume(store, "sid", "r2", at(1000), at(3), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r2", at(1000), at(12), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid", "r2", at(1000), at(13), grace) == RefreshUse::reused);
  }
  SECTION("another family's newer token does not affect this one") {
    REQUIRE(consume(store, "sid-b", "b1", at(1000), at(1), grace) == RefreshUse::first);
    CHECK(consume(store, "sid", "r1", at(1000), at(5), grace) == RefreshUse::within_grace);
  }
  SECTION("uses and their family are forgotten when they expire") {
    REQUIRE(consume(store, "sid-c", "c1", at(20), at(0), grace) == RefreshUse::first);
    REQUIRE(consume(store, "sid-c", "c2", at(40), at(30), grace) == RefreshUse::first);
    CHECK(consume(store, "sid-c", "c2", at(40), at(35), grace) == RefreshUse::within_grace);
    CHECK(consume(store, "sid-c", "c1", at(40), at(35), grace) == RefreshUse::first);
  }
}

TEMPLATE_LIST_TEST_CASE("copies share one store", "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto original = TestType::make();
  auto copy = original;
  REQUIRE(copy.revoke_family("sid", at(100), at(0)));
  CHECK(family_revoked(original, "sid", at(1)));

  auto assigned = TestType::make();
  assigned = original;
  CHECK(consume(assigned, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(original, "sid", "r1", at(100), at(0)) == RefreshUse::reused);
  REQUIRE(assigned.bump_version("alice", at(100), at(0)));
  CHECK(min_version(copy, "alice", at(0)) == static_cast<std::uint64_t>(kStart));
}

TEMPLATE_LIST_TEST_CASE("concurrent consumption of one refresh token yields one first use",
                        "[store_contract][concurrency]", store_contract::Stores) {
  using namespace store_contract;
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  auto store = TestType::make();
  std::barrier start(kThreads);
  std::vector<std::vector<RefreshUse>> uses(kThreads, std::vector<RefreshUse>(kRounds));
  std::vector<std::vector<char>> failed(kThreads, std::vector<char>(kRounds, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string sid = "sid-" + std::to_string(round % 7);
        const std::string jti = "jti-" + std::to_string(round);
        // Odd rounds allow grace: the repeats are then excused, never a second first use.
        const seconds grace{round % 2};
        start.arrive_and_wait();
        const auto use = store.consume_refresh(sid, jti, at(1000), at(0), grace);
        if (use) {
          uses[t][round] = *use;
        } else {
          failed[t][round] = 1;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  for (int round = 0; round < kRounds; ++round) {
    int first = 0;
    int repeats = 0;
    const RefreshUse repeat = round % 2 == 1 ? RefreshUse::within_grace : RefreshUse::reused;
    for (int t = 0; t < kThreads; ++t) {
      CHECK(failed[t][round] == 0);
      if (uses[t][round] == RefreshUse::first) ++first;
      if (uses[t][round] == repeat) ++repeats;
    }
    CHECK(first == 1);
    CHECK(repeats == kThreads - 1);
  }
}

TEMPLATE_LIST_TEST_CASE("status stays consistent while others revoke and bump",
                        "[store_contract][concurrency]", store_contract::Stores) {
  using namespace store_contract;
  constexpr int kFamilies = 400;
  constexpr int kBumps = 400;
  constexpr int kReaders = 4;
  constexpr long kMinChecksPerReader = 500;
  auto store = TestType::make();
  std::latch start(kReaders + 2);  // writers and readers begin together
  // Each writer publishes how far it got only after the store call returned.
  std::atomic<int> families_revoked{0};
  std::atomic<std::uint64_t> version_published{0};
  std::atomic<bool> done{false};
  std::atomic<int> inconsistencies{0};
  std::atomic<int> failures{0};
  std::atomic<long> checks{0};

  std::thread revoker([&] {
    start.arrive_and_wait();
    for (int i = 0; i < kFamilies; ++i) {
      if (!store.revoke_family("sid-" + std::to_string(i), at(10'000), at(0))) ++failures;
      families_revoked.store(i + 1, std::memory_order_release);
    }
  });
  std::thread bumper([&] {
    start.arrive_and_wait();
    for (int i = 0; i < kBumps; ++i) {
      const auto v = store.bump_version("alice", at(10'000), at(i / 4));
      if (!v) {
        ++failures;
        continue;
      }
      if (*v <= version_published.load(std::memory_order_relaxed)) ++inconsistencies;
      version_published.store(*v, std::memory_order_release);
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::uint64_t last_seen = 0;
      int i = r;
      long own_checks = 0;
      start.arrive_and_wait();
      // Runs while the writers do, and at least kMinChecksPerReader times however it is scheduled.
      while (!done.load(std::memory_order_acquire) || own_checks < kMinChecksPerReader) {
        const int revoked = families_revoked.load(std::memory_order_acquire);
        const std::uint64_t published = version_published.load(std::memory_order_acquire);
        const int probe = revoked > 0 ? i++ % revoked : 0;
        const auto status = store.status("jti", "sid-" + std::to_string(probe), "alice", at(5));
        if (!status) {
          ++failures;
          continue;
        }
        if (revoked > 0 && !status->family_revoked) ++inconsistencies;
        if (status->min_version < published || status->min_version < last_seen) ++inconsistencies;
        if (status->token_revoked) ++inconsistencies;
        last_seen = status->min_version;
        ++own_checks;
        checks.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  revoker.join();
  bumper.join();
  done.store(true, std::memory_order_release);
  for (auto& reader : readers) reader.join();

  CHECK(failures.load() == 0);
  CHECK(inconsistencies.load() == 0);
  CHECK(checks.load() >= kReaders * kMinChecksPerReader);
  CHECK(min_version(store, "alice", at(5)) == version_published.load());
  for (int i = 0; i < kFamilies; ++i) {
    CHECK(family_revoked(store, "sid-" + std::to_string(i), at(5)));
  }
}
