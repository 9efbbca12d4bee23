// MemoryRevocationStore and NullRevocationStore: every operation at its time boundaries, pruning,
// the entry bound, shared copies and concurrent use. Time is always passed explicitly.
#include <atomic>
#include <barrier>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tegata/store/memory.hpp"
#include "tegata/store/null.hpp"

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using tegata::errc;
using tegata::MemoryRevocationStore;
using tegata::RefreshUse;

constexpr std::int64_t kStart = 1'700'000'000;

constexpr sys_seconds at(std::int64_t offset) { return sys_seconds{seconds{kStart + offset}}; }

bool token_revoked(const MemoryRevocationStore& store, std::string_view jti, sys_seconds now) {
  const auto status = store.status(jti, "no-such-sid", "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->token_revoked;
}

bool family_revoked(const MemoryRevocationStore& store, std::string_view sid, sys_seconds now) {
  const auto status = store.status("no-such-jti", sid, "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->family_revoked;
}

std::uint64_t min_version(const MemoryRevocationStore& store, std::string_view subject,
                          sys_seconds now) {
  const auto status = store.status("no-such-jti", "no-such-sid", subject, now);
  REQUIRE(status.has_value());
  return status->min_version;
}

RefreshUse consume(MemoryRevocationStore& store, std::string_view sid, std::string_view jti,
                   sys_seconds until, sys_seconds now, seconds grace = seconds{0}) {
  const auto use = store.consume_refresh(sid, jti, until, now, grace);
  REQUIRE(use.has_value());
  return *use;
}

MemoryRevocationStore small_store(std::size_t max_entries, std::size_t shards) {
  return MemoryRevocationStore(
      MemoryRevocationStore::Options{.max_entries = max_entries, .shards = shards});
}

}  // namespace

TEST_CASE("options are validated at construction", "[memory_store]") {
  using Options = MemoryRevocationStore::Options;
  CHECK_THROWS_AS(MemoryRevocationStore(Options{.max_entries = 100, .shards = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(MemoryRevocationStore(Options{.max_entries = 100, .shards = 3}),
                  std::invalid_argument);
  CHECK_THROWS_AS(MemoryRevocationStore(Options{.max_entries = 100, .shards = 12}),
                  std::invalid_argument);
  CHECK_THROWS_AS(MemoryRevocationStore(Options{.max_entries = 7, .shards = 8}),
                  std::invalid_argument);
  CHECK_NOTHROW(MemoryRevocationStore(Options{.max_entries = 1, .shards = 1}));
  CHECK_NOTHROW(MemoryRevocationStore(Options{.max_entries = 8, .shards = 8}));
  CHECK_NOTHROW(MemoryRevocationStore(Options{}));
  const MemoryRevocationStore store;
  CHECK(store.size() == 0);
}

TEST_CASE("an empty store reports nothing revoked and version 0", "[memory_store]") {
  const MemoryRevocationStore store;
  const auto status = store.status("jti", "sid", "alice", at(0));
  REQUIRE(status.has_value());
  CHECK_FALSE(status->token_revoked);
  CHECK_FALSE(status->family_revoked);
  CHECK(status->min_version == 0);
  const auto empty = store.status("", "", "", at(0));
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->token_revoked);
}

TEST_CASE("revoke_token holds until its time, exclusive", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_token("jti-1", at(100), at(0)));
  CHECK(store.size() == 1);
  CHECK(token_revoked(store, "jti-1", at(0)));
  CHECK(token_revoked(store, "jti-1", at(99)));
  CHECK_FALSE(token_revoked(store, "jti-1", at(100)));  // until == now: expired, not yet pruned
  CHECK(store.size() == 1);
  CHECK_FALSE(token_revoked(store, "jti-2", at(0)));
  CHECK_FALSE(family_revoked(store, "jti-1", at(0)));  // a jti is not a sid

  SECTION("a later until extends it") {
    REQUIRE(store.revoke_token("jti-1", at(200), at(50)));
    CHECK(store.size() == 1);
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
    CHECK(store.size() == 1);
    CHECK(token_revoked(store, "jti-1", at(299)));
    CHECK_FALSE(token_revoked(store, "jti-1", at(300)));
  }
}

TEST_CASE("a revocation that is already over stores nothing", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_token("jti", at(10), at(10)));
  REQUIRE(store.revoke_token("jti", at(5), at(10)));
  REQUIRE(store.revoke_family("sid", at(10), at(10)));
  CHECK(store.size() == 0);
  CHECK_FALSE(token_revoked(store, "jti", at(10)));
  CHECK_FALSE(family_revoked(store, "sid", at(10)));
  CHECK_FALSE(family_revoked(store, "sid", at(9)));
}

TEST_CASE("revoke_family holds until its time and extends", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_family("sid-1", at(100), at(0)));
  CHECK(store.size() == 1);
  CHECK(family_revoked(store, "sid-1", at(0)));
  CHECK(family_revoked(store, "sid-1", at(99)));
  CHECK_FALSE(family_revoked(store, "sid-1", at(100)));
  CHECK_FALSE(family_revoked(store, "sid-2", at(0)));
  CHECK_FALSE(token_revoked(store, "sid-1", at(0)));  // a sid is not a jti

  REQUIRE(store.revoke_family("sid-1", at(500), at(10)));
  CHECK(store.size() == 1);
  CHECK(family_revoked(store, "sid-1", at(499)));
  CHECK_FALSE(family_revoked(store, "sid-1", at(500)));
  REQUIRE(store.revoke_family("sid-1", at(20), at(10)));
  CHECK(family_revoked(store, "sid-1", at(499)));
}

TEST_CASE("consuming refresh tokens does not revoke their family", "[memory_store]") {
  MemoryRevocationStore store;
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r1", at(100), at(1)) == RefreshUse::reused);
  CHECK_FALSE(family_revoked(store, "sid", at(1)));

  SECTION("revoking a family that has consumed tokens") {
    REQUIRE(store.revoke_family("sid", at(50), at(2)));
    CHECK(family_revoked(store, "sid", at(49)));
    CHECK_FALSE(family_revoked(store, "sid", at(50)));  // the entry lives on for r1, unrevoked
    CHECK(consume(store, "sid", "r1", at(100), at(60)) == RefreshUse::reused);
  }
}

TEST_CASE("bump_version: seconds since the epoch, strictly increasing", "[memory_store]") {
  MemoryRevocationStore store;
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
  CHECK(store.size() == 1);

  const auto v4 = store.bump_version("alice", at(300), at(50));
  REQUIRE(v4.has_value());
  CHECK(*v4 == static_cast<std::uint64_t>(kStart + 50));
  CHECK(min_version(store, "alice", at(299)) == *v4);
  CHECK(min_version(store, "alice", at(300)) == 0);  // until == now: forgotten
}

TEST_CASE("bump_version stays correct after the version is forgotten", "[memory_store]") {
  MemoryRevocationStore store(MemoryRevocationStore::Options{.max_entries = 100, .shards = 1});
  const auto v1 = store.bump_version("alice", at(1), at(0));
  const auto v2 = store.bump_version("alice", at(1), at(0));
  const auto v3 = store.bump_version("alice", at(1), at(0));
  REQUIRE(v3.has_value());
  REQUIRE(*v3 == static_cast<std::uint64_t>(kStart + 2));
  CHECK(*v1 < *v2);
  CHECK(*v2 < *v3);
  // The version ran two seconds ahead of the clock: it is kept until the clock has passed it,
  // even though `until` was at(1), so that the next bump cannot hand out a smaller number.
  CHECK(min_version(store, "alice", at(1)) == *v3);
  CHECK(min_version(store, "alice", at(2)) == *v3);
  CHECK(min_version(store, "alice", at(3)) == 0);
  store.prune(at(3));
  CHECK(store.size() == 0);
  const auto v4 = store.bump_version("alice", at(10), at(3));
  REQUIRE(v4.has_value());
  CHECK(*v4 > *v3);
  CHECK(*v4 == static_cast<std::uint64_t>(kStart + 3));
}

TEST_CASE("bump_version before the epoch still starts at 1", "[memory_store]") {
  MemoryRevocationStore store;
  const auto v = store.bump_version("alice", sys_seconds{seconds{10}}, sys_seconds{seconds{-5}});
  REQUIRE(v.has_value());
  CHECK(*v == 1);
  CHECK(min_version(store, "alice", sys_seconds{seconds{0}}) == 1);
}

TEST_CASE("consume_refresh: first use, then reuse", "[memory_store]") {
  MemoryRevocationStore store;
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(store.size() == 2);  // the consumed jti and its family
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::reused);
  CHECK(consume(store, "sid", "r1", at(100), at(99)) == RefreshUse::reused);
  CHECK(store.size() == 2);

  // The same jti in another family, and another jti in the same family, are separate tokens.
  CHECK(consume(store, "other", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r2", at(100), at(0)) == RefreshUse::first);
  CHECK(store.size() == 5);

  SECTION("a use is forgotten once the token has expired") {
    CHECK(consume(store, "sid", "r1", at(200), at(100)) == RefreshUse::first);
    CHECK(consume(store, "sid", "r1", at(200), at(101)) == RefreshUse::reused);
  }
}

TEST_CASE("consume_refresh refuses a use it would forget at once", "[memory_store]") {
  MemoryRevocationStore store;
  const auto at_now = store.consume_refresh("sid", "r1", at(10), at(10), seconds{0});
  CHECK(at_now.error() == errc::invalid_argument);
  const auto before = store.consume_refresh("sid", "r1", at(9), at(10), seconds{30});
  CHECK(before.error() == errc::invalid_argument);
  CHECK(store.size() == 0);
  CHECK(consume(store, "sid", "r1", at(11), at(10)) == RefreshUse::first);
}

TEST_CASE("consume_refresh grace window", "[memory_store]") {
  MemoryRevocationStore store;
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
}

TEST_CASE("prune drops every expired entry", "[memory_store]") {
  MemoryRevocationStore store;
  for (int i = 0; i < 50; ++i) {
    const auto id = std::to_string(i);
    REQUIRE(store.revoke_token("jti-" + id, at(100 + i), at(0)));
    REQUIRE(store.revoke_family("sid-" + id, at(200 + i), at(0)));
    REQUIRE(store.bump_version("user-" + id, at(150), at(0)));
    REQUIRE(consume(store, "fam-" + id, "r-" + id, at(300), at(0)) == RefreshUse::first);
  }
  CHECK(store.size() == 250);  // 50 each of jti, revoked family, version, consumed jti + family

  store.prune(at(99));
  CHECK(store.size() == 250);
  store.prune(at(100));
  CHECK(store.size() == 249);
  store.prune(at(150));
  CHECK(store.size() == 150);  // jtis and versions gone
  CHECK(family_revoked(store, "sid-0", at(150)));
  CHECK(consume(store, "fam-0", "r-0", at(300), at(150)) == RefreshUse::reused);
  store.prune(at(299));
  CHECK(store.size() == 100);
  store.prune(at(300));
  CHECK(store.size() == 0);
  CHECK_FALSE(family_revoked(store, "sid-0", at(300)));
}

TEST_CASE("writes drop the expired entries of their shard", "[memory_store]") {
  MemoryRevocationStore store = small_store(1000, 1);
  for (int i = 0; i < 20; ++i) {
    const auto id = std::to_string(i);
    REQUIRE(store.revoke_token("jti-" + id, at(10), at(0)));
    REQUIRE(store.revoke_family("sid-" + id, at(20), at(0)));
    REQUIRE(store.bump_version("user-" + id, at(10), at(0)));
    REQUIRE(consume(store, "fam-" + id, "r-" + id, at(30), at(0)) == RefreshUse::first);
  }
  CHECK(store.size() == 100);
  REQUIRE(store.revoke_token("late", at(100), at(30)));
  CHECK(store.size() == 1);
  REQUIRE(consume(store, "fam-late", "r", at(200), at(100)) == RefreshUse::first);
  CHECK(store.size() == 2);  // "late" expired at 100 and went with that write
  store.prune(at(200));
  CHECK(store.size() == 0);
}

TEST_CASE("the entry bound refuses new entries, never reads", "[memory_store]") {
  MemoryRevocationStore store = small_store(4, 1);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(store.revoke_token("jti-" + std::to_string(i), at(100), at(0)));
  }
  CHECK(store.size() == 4);

  CHECK(store.revoke_token("jti-4", at(100), at(1)).error() == errc::store_full);
  CHECK(store.revoke_family("sid", at(100), at(1)).error() == errc::store_full);
  CHECK(store.bump_version("alice", at(100), at(1)).error() == errc::store_full);
  CHECK(store.consume_refresh("sid", "r1", at(100), at(1), seconds{0}).error() == errc::store_full);
  CHECK(store.size() == 4);

  // Extending what is already there needs no new entry.
  REQUIRE(store.revoke_token("jti-0", at(200), at(1)));
  // Reads are unaffected.
  CHECK(token_revoked(store, "jti-3", at(1)));
  CHECK_FALSE(token_revoked(store, "jti-4", at(1)));

  // Once time has passed, writes make room again by dropping what expired.
  REQUIRE(store.revoke_token("jti-4", at(300), at(100)));
  CHECK(store.size() == 2);  // jti-0 (extended to 200) and jti-4
  CHECK(token_revoked(store, "jti-0", at(100)));
}

TEST_CASE("a refresh use that needs two entries is refused whole", "[memory_store]") {
  MemoryRevocationStore store = small_store(3, 1);
  REQUIRE(store.revoke_token("a", at(100), at(0)));
  REQUIRE(store.revoke_token("b", at(100), at(0)));
  // A new family needs its family entry and the consumed jti: only one slot is left.
  CHECK(store.consume_refresh("sid", "r1", at(100), at(0), seconds{0}).error() == errc::store_full);
  CHECK(store.size() == 2);
  CHECK_FALSE(family_revoked(store, "sid", at(0)));
  REQUIRE(store.revoke_family("sid", at(100), at(0)));
  CHECK(store.size() == 3);
  // The family exists now, but the consumed jti would still be a fourth entry.
  CHECK(store.consume_refresh("sid", "r1", at(100), at(0), seconds{0}).error() == errc::store_full);
  CHECK(store.size() == 3);
  store.prune(at(100));
  CHECK(store.size() == 0);
  CHECK(consume(store, "sid", "r1", at(200), at(100)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r1", at(200), at(101)) == RefreshUse::reused);
}

TEST_CASE("a full store sweeps every shard before refusing", "[memory_store]") {
  MemoryRevocationStore store = small_store(16, 16);
  REQUIRE(store.revoke_token("long-lived", at(1000), at(0)));
  for (int i = 0; i < 15; ++i) {
    REQUIRE(store.revoke_token("jti-" + std::to_string(i), at(10), at(0)));
  }
  CHECK(store.revoke_token("one-more", at(1000), at(0)).error() == errc::store_full);
  // At 10 the 15 expired entries are spread over the shards. A write whose own shard holds none of
  // them still succeeds, because a full store sweeps every shard before refusing: all 15 new
  // entries fit, wherever they land.
  for (int i = 0; i < 15; ++i) {
    REQUIRE(store.revoke_token("new-" + std::to_string(i), at(1000), at(10)));
  }
  CHECK(store.size() == 16);
  CHECK(store.revoke_token("one-more", at(1000), at(10)).error() == errc::store_full);
  CHECK(token_revoked(store, "long-lived", at(10)));
  CHECK(token_revoked(store, "new-14", at(10)));
  CHECK_FALSE(token_revoked(store, "jti-0", at(10)));
}

TEST_CASE("copies share one store", "[memory_store]") {
  MemoryRevocationStore original;
  MemoryRevocationStore copy = original;
  REQUIRE(copy.revoke_family("sid", at(100), at(0)));
  CHECK(family_revoked(original, "sid", at(1)));
  CHECK(original.size() == 1);

  MemoryRevocationStore assigned = small_store(10, 1);
  assigned = original;
  CHECK(consume(assigned, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(original, "sid", "r1", at(100), at(0)) == RefreshUse::reused);
  CHECK(copy.size() == 2);
}

TEST_CASE("concurrent consumption of one refresh token yields one first use", "[memory_store]") {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  MemoryRevocationStore store;
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
  CHECK(store.size() == kRounds + 7);
}

TEST_CASE("status stays consistent while others revoke and bump", "[memory_store]") {
  constexpr int kFamilies = 400;
  constexpr int kBumps = 400;
  constexpr int kReaders = 4;
  constexpr long kMinChecksPerReader = 500;
  MemoryRevocationStore store;
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

TEST_CASE("NullRevocationStore keeps nothing and says so", "[null_store]") {
  tegata::NullRevocationStore store;
  CHECK(store.revoke_token("jti", at(100), at(0)).error() == errc::not_supported);
  CHECK(store.revoke_family("sid", at(100), at(0)).error() == errc::not_supported);
  CHECK(store.bump_version("alice", at(100), at(0)).error() == errc::not_supported);

  const auto status = store.status("jti", "sid", "alice", at(1));
  REQUIRE(status.has_value());
  CHECK_FALSE(status->token_revoked);
  CHECK_FALSE(status->family_revoked);
  CHECK(status->min_version == 0);

  // No reuse detection: every presentation is a first use.
  for (int i = 0; i < 3; ++i) {
    const auto use = store.consume_refresh("sid", "r1", at(100), at(i), seconds{0});
    REQUIRE(use.has_value());
    CHECK(*use == RefreshUse::first);
  }
}
