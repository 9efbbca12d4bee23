// MemoryRevocationStore: what only the memory store has (entry counting, pruning, the entry
// bound, records that do not grow with refreshes) and NullRevocationStore. The behaviour every
// store shares is the contract suite in tests/support/store_contract.hpp, instantiated here for
// MemoryRevocationStore (and in tests/redis/ for the Redis store). Time is always passed
// explicitly.
#include <array>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

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
using store_contract::create;
using store_contract::family_revoked;
using store_contract::kStart;
using store_contract::listed;
using store_contract::min_version;
using store_contract::record;
using store_contract::rotate;
using store_contract::token_revoked;
using tegata::errc;
using tegata::MemoryRevocationStore;
using tegata::RotationVerdict;

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

  REQUIRE(store.end_session("alice", "sid-1", at(100), at(0)));  // a marker without a record
  REQUIRE(store.end_session("alice", "sid-1", at(500), at(10)));
  CHECK(store.size() == 2);

  const auto v1 = store.bump_version("alice", at(100), at(0));
  const auto v2 = store.bump_version("alice", at(100), at(0));
  REQUIRE(v1.has_value());
  REQUIRE(v2.has_value());
  CHECK(store.size() == 3);

  // A session: its record and its subject's index; a second session of the subject, one more.
  create(store, "bob", record("sid-2", "r1", at(0)), at(0));
  CHECK(store.size() == 5);
  create(store, "bob", record("sid-3", "r1", at(0)), at(0));
  CHECK(store.size() == 6);
  // Refreshes change the record in place, however many there are.
  std::string current = "r1";
  for (int i = 0; i < 1000; ++i) {
    const std::string next = "r" + std::to_string(i + 2);
    REQUIRE(rotate(store, "bob", "sid-2", current, next, at(1)).verdict ==
            RotationVerdict::rotated);
    current = next;
  }
  CHECK(store.size() == 6);
  // An ended session is its marker (while its access tokens live): the index entry stays for
  // sid-3, and goes with the last live session of the subject.
  REQUIRE(store.end_session("bob", "sid-2", at(1), at(1)));
  CHECK(store.size() == 6);
  REQUIRE(store.end_session("bob", "sid-3", at(1), at(1)));
  CHECK(store.size() == 5);

  MemoryRevocationStore copy = store;
  CHECK(copy.size() == 5);
}

TEST_CASE("nothing is stored for a fact that is already over or refused", "[memory_store]") {
  MemoryRevocationStore store;
  REQUIRE(store.revoke_token("jti", at(10), at(10)));
  REQUIRE(store.revoke_token("jti", at(5), at(10)));
  REQUIRE(store.end_session("alice", "sid", at(10), at(10)));
  CHECK(
      store.create_session("alice", record("sid", "r", at(10), seconds{0}), 100, at(10)).error() ==
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
    REQUIRE(store.end_session("user-" + id, "sid-" + id, at(200 + i), at(0)));
    REQUIRE(store.bump_version("user-" + id, at(150), at(0)));
    create(store, "user-" + id, record("fam-" + id, "r-" + id, at(0), seconds{300}), at(0));
  }
  CHECK(store.size() == 250);  // 50 each of jti, marker, version, record, subject index

  store.prune(at(99));
  CHECK(store.size() == 250);
  store.prune(at(100));
  CHECK(store.size() == 249);
  store.prune(at(150));
  CHECK(store.size() == 150);  // jtis and versions gone
  CHECK(family_revoked(store, "user-0", "sid-0", at(150)));
  CHECK(listed(store, "user-0", at(150)) == store_contract::ids{"fam-0"});
  store.prune(at(249));
  CHECK(store.size() == 100);
  store.prune(at(300));  // the records end, and their subjects' indexes with them
  CHECK(store.size() == 0);
  CHECK_FALSE(family_revoked(store, "user-0", "sid-0", at(300)));
  CHECK(listed(store, "user-0", at(300)).empty());
  // The index is gone, and a new session starts afresh.
  create(store, "user-0", record("fam-new", "r", at(300)), at(300));
  CHECK(listed(store, "user-0", at(300)) == store_contract::ids{"fam-new"});
  CHECK(store.size() == 2);
}

TEST_CASE("writes drop the expired entries of their shard", "[memory_store]") {
  MemoryRevocationStore store = small_store(1000, 1);
  for (int i = 0; i < 20; ++i) {
    const auto id = std::to_string(i);
    REQUIRE(store.revoke_token("jti-" + id, at(10), at(0)));
    REQUIRE(store.end_session("user-" + id, "sid-" + id, at(20), at(0)));
    REQUIRE(store.bump_version("user-" + id, at(10), at(0)));
    create(store, "user-" + id, record("fam-" + id, "r-" + id, at(0), seconds{30}), at(0));
  }
  CHECK(store.size() == 100);
  REQUIRE(store.revoke_token("late", at(100), at(30)));
  CHECK(store.size() == 1);
  create(store, "late", record("fam-late", "r", at(100)), at(100));
  CHECK(store.size() == 2);  // "late" expired at 100 and went with that write
  store.prune(at(200));
  CHECK(store.size() == 0);
}

TEST_CASE("the entry bound refuses new entries, never reads nor refreshes", "[memory_store]") {
  MemoryRevocationStore store = small_store(4, 1);
  create(store, "alice", record("sid", "r1", at(0), seconds{1000}), at(0));  // two entries
  for (int i = 0; i < 2; ++i) {
    REQUIRE(store.revoke_token("jti-" + std::to_string(i), at(100), at(0)));
  }
  CHECK(store.size() == 4);

  CHECK(store.revoke_token("jti-4", at(100), at(1)).error() == errc::store_full);
  CHECK(store.end_session("bob", "sid", at(100), at(1)).error() == errc::store_full);
  CHECK(store.bump_version("bob", at(100), at(1)).error() == errc::store_full);
  CHECK(store.create_session("bob", record("sid-b", "r", at(1)), 100, at(1)).error() ==
        errc::store_full);
  // A second session of alice would need one entry: refused whole, nothing evicted.
  CHECK(store.create_session("alice", record("sid-2", "r", at(1)), 1, at(1)).error() ==
        errc::store_full);
  CHECK(listed(store, "alice", at(1)) == store_contract::ids{"sid"});
  CHECK(store.size() == 4);

  // Refreshing and ending a live session need no new entry.
  CHECK(rotate(store, "alice", "sid", "r1", "r2", at(1)).verdict == RotationVerdict::rotated);
  REQUIRE(store.revoke_token("jti-0", at(200), at(1)));  // extending, likewise
  CHECK(token_revoked(store, "jti-1", at(1)));
  CHECK_FALSE(token_revoked(store, "jti-4", at(1)));
  const auto ended = store.end_session("alice", "sid", at(50), at(1));
  REQUIRE(ended.has_value());
  CHECK(*ended);
  CHECK(store.size() == 3);  // the marker, the two jtis; the index went

  // Once time has passed, writes make room again by dropping what expired.
  REQUIRE(store.revoke_token("jti-4", at(300), at(100)));
  CHECK(store.size() == 2);  // jti-0 (extended to 200) and jti-4
  CHECK(token_revoked(store, "jti-0", at(100)));
}

TEST_CASE("one account rotating far beyond the bound leaves room for everyone else",
          "[memory_store]") {
  MemoryRevocationStore store = small_store(1000, 4);
  create(store, "mallory", record("m", "r0", at(0), seconds{100'000}), at(0));
  std::string current = "r0";
  for (int i = 1; i <= 3000; ++i) {
    const std::string next = "r" + std::to_string(i);
    REQUIRE(rotate(store, "mallory", "m", current, next, at(i)).verdict ==
            RotationVerdict::rotated);
    current = next;
  }
  CHECK(store.size() == 2);
  for (int u = 0; u < 400; ++u) {
    create(store, "user-" + std::to_string(u), record("s" + std::to_string(u), "r", at(3001)),
           at(3001));
  }
  CHECK(store.size() == 802);
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

TEST_CASE("a record keeps its idle limit (clamped to 31 bits) and persistence", "[memory_store]") {
  MemoryRevocationStore store;
  const auto read_back = [&](const std::string& sid, seconds ttl, bool persistent) {
    auto r = record(sid, "r", at(0));
    r.refresh_ttl = ttl;
    r.persistent = persistent;
    create(store, "alice", r, at(0));
    const auto found = store_contract::live_record(store, "alice", sid, at(0));
    REQUIRE(found.has_value());
    CHECK(found->persistent == persistent);
    return found->refresh_ttl;
  };
  const seconds ten_years{10LL * 366 * 24 * 3600};  // SessionOptions' bound on absolute_ttl
  const seconds limit{(1LL << 30) - 1};
  CHECK(read_back("a", seconds{1}, false) == seconds{1});
  CHECK(read_back("b", ten_years, true) == ten_years);
  CHECK(read_back("c", limit, false) == limit);
  CHECK(read_back("d", -limit - seconds{1}, true) == -limit - seconds{1});
  // Beyond 31 bits only another caller than the manager can go: clamped, never longer.
  CHECK(read_back("e", limit + seconds{1}, true) == limit);
  CHECK(read_back("f", seconds::max(), false) == limit);
  CHECK(read_back("g", seconds::min(), true) == -limit - seconds{1});
}

// The subjects' lists of live sessions against a model, through every way a session joins,
// moves in or leaves its list, with several subjects in one shard so that entries are freed and
// reused across lists.
TEST_CASE("the lists of live sessions match a model through random operations", "[memory_store]") {
  struct live {
    std::string sid;
    std::string refresh;
    sys_seconds until;
  };
  const std::array<std::string, 3> subjects{"alice", "bob", "carol"};
  constexpr std::size_t kMaxSessions = 4;
  MemoryRevocationStore store = small_store(100'000, 1);
  std::array<std::vector<live>, 3> model;  // per subject, most recently used first
  std::mt19937 random(20240613);           // a fixed seed: reproducible
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };
  int next_id = 0;
  std::int64_t t = 0;
  for (int step = 0; step < 4000; ++step) {
    t += pick(3) == 0 ? 40 : 1;
    const sys_seconds now = at(t);
    const std::size_t u = pick(subjects.size());
    const std::string& subject = subjects[u];
    auto& sessions = model[u];
    // What the store drops before every write: the sessions whose time has come.
    std::erase_if(sessions, [&](const live& l) { return l.until <= now; });
    const std::size_t op = pick(10);
    if (op < 4 || sessions.empty()) {
      const std::string sid = "s" + std::to_string(next_id++);
      const auto r = record(sid, "r-" + sid, now);
      store_contract::ids expected;
      while (sessions.size() >= kMaxSessions) {
        expected.push_back(sessions.back().sid);
        sessions.pop_back();
      }
      CHECK(create(store, subject, r, now, kMaxSessions) == expected);
      sessions.insert(sessions.begin(), live{sid, r.refresh_id, r.until});
    } else if (op < 7) {
      const std::size_t i = pick(sessions.size());
      const std::string next = "r" + std::to_string(next_id++);
      REQUIRE(rotate(store, subject, sessions[i].sid, sessions[i].refresh, next, now).verdict ==
              RotationVerdict::rotated);
      live moved{sessions[i].sid, next, now + seconds{100}};
      sessions.erase(sessions.begin() + static_cast<std::ptrdiff_t>(i));
      sessions.insert(sessions.begin(), std::move(moved));
    } else if (op < 9) {
      const std::size_t i = pick(sessions.size());
      const auto ended = store.end_session(subject, sessions[i].sid, now, now);
      REQUIRE(ended.has_value());
      CHECK(*ended);
      sessions.erase(sessions.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      REQUIRE(store.bump_version(subject, now, now).has_value());
      sessions.clear();
    }
    for (std::size_t v = 0; v < subjects.size(); ++v) {
      store_contract::ids expected;
      for (const live& l : model[v]) {
        if (l.until > now) expected.push_back(l.sid);
      }
      REQUIRE(listed(store, subjects[v], now) == expected);
    }
  }
}

TEST_CASE("NullRevocationStore keeps nothing and says so", "[null_store]") {
  tegata::NullRevocationStore store;
  static_assert(!tegata::keeps_records<tegata::NullRevocationStore>);
  static_assert(tegata::keeps_records<MemoryRevocationStore>);
  CHECK(store.revoke_token("jti", at(100), at(0)).error() == errc::not_supported);
  CHECK(store.end_session("alice", "sid", at(100), at(0)).error() == errc::not_supported);
  CHECK(store.bump_version("alice", at(100), at(0)).error() == errc::not_supported);
  CHECK(store.sessions("alice", at(0)).error() == errc::not_supported);

  const auto status = store.status("jti", "sid", "alice", at(1));
  REQUIRE(status.has_value());
  CHECK_FALSE(status->token_revoked);
  CHECK_FALSE(status->family_revoked);
  CHECK(status->min_version == 0);

  const auto created = store.create_session("alice", record("sid", "r1", at(0)), 1, at(0));
  REQUIRE(created.has_value());
  CHECK(created->empty());
  const auto lookup = store.find_session("r1", "sid", "alice", at(1));
  REQUIRE(lookup.has_value());
  CHECK_FALSE(lookup->record.has_value());
  // No reuse detection: every presentation rotates.
  for (int i = 0; i < 3; ++i) {
    CHECK(rotate(store, "alice", "sid", "r1", "r2", at(i)).verdict == RotationVerdict::rotated);
  }
}
