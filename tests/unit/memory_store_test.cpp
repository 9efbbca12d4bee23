// MemoryRevocationStore: what only the memory store has (entry counting, pruning, the entry
// bound) and NullRevocationStore. The behaviour every store shares is the contract suite in
// tests/support/store_contract.hpp, instantiated here for MemoryRevocationStore (and in
// tests/redis/ for the Redis store). Time is always passed explicitly.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>

#include "tegata/store/memory.hpp"
#include "tegata/store/null.hpp"

namespace store_contract {
struct Memory {
  static tegata::MemoryRevocationStore make() { return tegata::MemoryRevocationStore{}; }
};
using Stores = std::tuple<Memory>;
}  // namespace store_contract

#include "support/store_contract.hpp"

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using store_contract::at;
using store_contract::consume;
using store_contract::family_revoked;
using store_contract::kStart;
using store_contract::min_version;
using store_contract::token_revoked;
using tegata::errc;
using tegata::MemoryRevocationStore;
using tegata::RefreshUse;

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

TEST_CASE("every fact is one entry, counted until it is dropped", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_token("jti-1", at(100), at(0)));
  CHECK(store.size() == 1);
  REQUIRE(store.revoke_token("jti-1", at(200), at(50)));  // extended in place
  CHECK(store.size() == 1);
  CHECK_FALSE(token_revoked(store, "jti-1", at(200)));  // expired, not yet dropped
  CHECK(store.size() == 1);

  REQUIRE(store.revoke_family("sid-1", at(100), at(0)));
  REQUIRE(store.revoke_family("sid-1", at(500), at(10)));
  CHECK(store.size() == 2);

  const auto v1 = store.bump_version("alice", at(100), at(0));
  const auto v2 = store.bump_version("alice", at(100), at(0));
  REQUIRE(v1.has_value());
  REQUIRE(v2.has_value());
  CHECK(store.size() == 3);

  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(store.size() == 5);  // the consumed jti and its family
  CHECK(consume(store, "sid", "r1", at(100), at(0)) == RefreshUse::reused);
  CHECK(store.size() == 5);
  CHECK(consume(store, "other", "r1", at(100), at(0)) == RefreshUse::first);
  CHECK(consume(store, "sid", "r2", at(100), at(0)) == RefreshUse::first);
  CHECK(store.size() == 8);

  MemoryRevocationStore copy = store;
  CHECK(copy.size() == 8);
}

TEST_CASE("nothing is stored for a fact that is already over or refused", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_token("jti", at(10), at(10)));
  REQUIRE(store.revoke_token("jti", at(5), at(10)));
  REQUIRE(store.revoke_family("sid", at(10), at(10)));
  CHECK(store.consume_refresh("sid", "r1", at(10), at(10), seconds{0}).error() ==
        errc::invalid_argument);
  CHECK(store.size() == 0);
}

TEST_CASE("a version ahead of the clock is dropped once the clock has passed it",
          "[memory_store]") {
  MemoryRevocationStore store = small_store(100, 1);
  for (int i = 0; i < 3; ++i) REQUIRE(store.bump_version("alice", at(1), at(0)));
  store.prune(at(2));
  CHECK(store.size() == 1);
  CHECK(min_version(store, "alice", at(2)) == static_cast<std::uint64_t>(kStart + 2));
  store.prune(at(3));
  CHECK(store.size() == 0);
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
