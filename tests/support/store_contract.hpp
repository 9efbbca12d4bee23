// The behaviour every stateful RevocationStore shares: each operation at its time boundaries,
// extension rules, versions, session records (creation, the refresh compare-and-set and its grace
// rule, ending, inventory, eviction, the DPoP key thumbprint), the DPoP proof replay cache
// (use_proof), shared copies and concurrent use. One suite, run against MemoryRevocationStore
// (tests/unit/memory_store_test.cpp), the Redis store (tests/redis/store_contract_test.cpp) and
// the SQLite store (tests/sqlite/store_contract_test.cpp), so they cannot drift apart.
//
// Every store it runs against must be a ProofReplayCache: the use_proof cases are compiled only
// for stores that have use_proof (so the suite builds for each), and FAIL for one that has not.
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
#include <optional>
#include <set>
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
using tegata::RotationRequest;
using tegata::RotationVerdict;
using tegata::SessionRecord;

inline constexpr std::int64_t kStart = 1'700'000'000;

constexpr sys_seconds at(std::int64_t offset) { return sys_seconds{seconds{kStart + offset}}; }

template <class Store>
bool token_revoked(const Store& store, std::string_view jti, sys_seconds now) {
  const auto status = store.status(jti, "no-such-sid", "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->token_revoked;
}

template <class Store>
std::uint64_t min_version(const Store& store, std::string_view subject, sys_seconds now) {
  const auto status = store.status("no-such-jti", "no-such-sid", subject, now);
  REQUIRE(status.has_value());
  return status->min_version;
}

// A record as the manager writes it at login at `now`: idle limit ttl, access tokens accepted
// until now + 10, absolute end at now + 4 * ttl.
inline SessionRecord record(std::string sid, std::string refresh_id, sys_seconds now,
                            seconds ttl = seconds{100}, std::string metadata = {}) {
  SessionRecord r;
  r.session_id = std::move(sid);
  r.refresh_id = std::move(refresh_id);
  r.auth_time = now;
  r.last_refresh = now;
  r.expires_at = now + ttl;
  r.absolute_end = now + 4 * ttl;
  r.refresh_ttl = ttl;
  r.access_until = now + seconds{10};
  r.until = r.expires_at;
  r.metadata = std::move(metadata);
  return r;
}

template <class Store>
std::vector<std::string> create(Store& store, std::string_view subject, const SessionRecord& r,
                                sys_seconds now, std::size_t max_sessions = 100) {
  auto evicted = store.create_session(subject, r, max_sessions, now);
  REQUIRE(evicted.has_value());
  return *evicted;
}

// A refresh at now presenting `presented` and proposing `next`, whose tokens end at now + ttl
// (refresh) and now + 10 (access).
template <class Store>
tegata::Rotation rotate(Store& store, std::string_view subject, std::string_view sid,
                        std::string_view presented, std::string_view next, sys_seconds now,
                        seconds grace = seconds{0}, seconds ttl = seconds{100}) {
  const RotationRequest request{presented,         next,     now, grace, now + ttl,
                                now + seconds{10}, now + ttl};
  auto rotation = store.rotate_session(subject, sid, request);
  REQUIRE(rotation.has_value());
  return *rotation;
}

template <class Store>
bool family_revoked(const Store& store, std::string_view subject, std::string_view sid,
                    sys_seconds now) {
  const auto status = store.status("no-such-jti", sid, subject, now);
  REQUIRE(status.has_value());
  return status->family_revoked;
}

template <class Store>
std::optional<SessionRecord> live_record(const Store& store, std::string_view subject,
                                         std::string_view sid, sys_seconds now) {
  const auto lookup = store.find_session("no-such-jti", sid, subject, now);
  REQUIRE(lookup.has_value());
  return lookup->record;
}

template <class Store>
std::vector<std::string> listed(const Store& store, std::string_view subject, sys_seconds now) {
  const auto records = store.sessions(subject, now);
  REQUIRE(records.has_value());
  std::vector<std::string> ids;
  for (const auto& r : *records) ids.push_back(r.session_id);
  return ids;
}

using ids = std::vector<std::string>;

// A key thumbprint as the manager gets it (RFC 7638 §3.1's example: 43 base64url characters).
inline const std::string kJkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

// Whether use_proof recorded key (true) or found it used (false); fails on an error.
template <class Store>
bool use_proof(const Store& store, std::string_view key, sys_seconds until, sys_seconds now) {
  const auto used = store.use_proof(key, until, now);
  REQUIRE(used.has_value());
  return *used;
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
  CHECK_FALSE(family_revoked(store, "alice", "jti-1", at(0)));  // a jti is not a sid

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
  const auto ended = store.end_session("alice", "sid", at(10), at(10));
  REQUIRE(ended.has_value());
  CHECK_FALSE(*ended);
  CHECK_FALSE(token_revoked(store, "jti", at(10)));
  CHECK_FALSE(token_revoked(store, "jti", at(9)));
  CHECK_FALSE(family_revoked(store, "alice", "sid", at(10)));
  CHECK_FALSE(family_revoked(store, "alice", "sid", at(9)));
}

TEMPLATE_LIST_TEST_CASE("end_session without a record refuses the family until its time",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const auto ended = store.end_session("alice", "sid-1", at(100), at(0));
  REQUIRE(ended.has_value());
  CHECK_FALSE(*ended);  // there was no live record
  CHECK(family_revoked(store, "alice", "sid-1", at(0)));
  CHECK(family_revoked(store, "alice", "sid-1", at(99)));
  CHECK_FALSE(family_revoked(store, "alice", "sid-1", at(100)));
  CHECK_FALSE(family_revoked(store, "alice", "sid-2", at(0)));
  CHECK_FALSE(token_revoked(store, "sid-1", at(0)));  // a sid is not a jti
  CHECK(listed(store, "alice", at(0)).empty());

  REQUIRE(store.end_session("alice", "sid-1", at(500), at(10)));  // extends
  CHECK(family_revoked(store, "alice", "sid-1", at(499)));
  CHECK_FALSE(family_revoked(store, "alice", "sid-1", at(500)));
  REQUIRE(store.end_session("alice", "sid-1", at(20), at(10)));  // never shortens
  CHECK(family_revoked(store, "alice", "sid-1", at(499)));
  // A record cannot be created for a family that ended.
  CHECK(store.create_session("alice", record("sid-1", "r1", at(30)), 100, at(30)).error() ==
        errc::invalid_argument);
}

TEMPLATE_LIST_TEST_CASE("create_session: the record is read back, listed, and gone at its until",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  SessionRecord r = record("sid", "r1", at(0), seconds{100}, "Firefox on a laptop");
  r.persistent = false;
  r.refresh_ttl = seconds{90};
  r.absolute_end = at(250);
  r.access_until = at(15);
  r.until = at(105);
  CHECK(create(store, "alice", r, at(0)).empty());

  const auto found = live_record(store, "alice", "sid", at(1));
  REQUIRE(found.has_value());
  CHECK(found->session_id == "sid");
  CHECK(found->refresh_id == "r1");
  CHECK(found->auth_time == at(0));
  CHECK(found->last_refresh == at(0));
  CHECK(found->expires_at == at(100));
  CHECK(found->absolute_end == at(250));
  CHECK(found->refresh_ttl == seconds{90});
  CHECK(found->access_until == at(15));
  CHECK(found->until == at(105));
  CHECK_FALSE(found->persistent);
  CHECK(found->metadata == "Firefox on a laptop");
  CHECK_FALSE(family_revoked(store, "alice", "sid", at(1)));
  CHECK(listed(store, "alice", at(1)) == ids{"sid"});

  // Only its subject owns it.
  CHECK_FALSE(live_record(store, "bob", "sid", at(1)).has_value());
  CHECK(listed(store, "bob", at(1)).empty());

  CHECK(live_record(store, "alice", "sid", at(104)).has_value());
  CHECK_FALSE(live_record(store, "alice", "sid", at(105)).has_value());
  CHECK(listed(store, "alice", at(105)).empty());
  CHECK_FALSE(family_revoked(store, "alice", "sid", at(105)));  // gone, not revoked

  SECTION("a session id is created once") {
    CHECK(store.create_session("alice", record("sid", "r9", at(1)), 100, at(1)).error() ==
          errc::invalid_argument);
  }
  SECTION("a record forgotten at once is refused") {
    CHECK(
        store.create_session("bob", record("sid-b", "r", at(0), seconds{0}), 100, at(0)).error() ==
        errc::invalid_argument);
  }
}

TEMPLATE_LIST_TEST_CASE("rotate_session: the current token rotates, the chain moves on",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  create(store, "alice", record("sid", "r1", at(0)), at(0));

  const auto first = rotate(store, "alice", "sid", "r1", "r2", at(50));
  CHECK(first.verdict == RotationVerdict::rotated);
  CHECK(first.current == "r2");
  CHECK(first.expires_at == at(150));
  auto r = live_record(store, "alice", "sid", at(50));
  REQUIRE(r.has_value());
  CHECK(r->refresh_id == "r2");
  CHECK(r->last_refresh == at(50));
  CHECK(r->expires_at == at(150));
  CHECK(r->access_until == at(60));
  CHECK(r->auth_time == at(0));
  // The rotation moved the record's end: it outlives its first until (100).
  CHECK(live_record(store, "alice", "sid", at(120)).has_value());
  CHECK(rotate(store, "alice", "sid", "r2", "r3", at(120)).verdict == RotationVerdict::rotated);
  CHECK(live_record(store, "alice", "sid", at(219)).has_value());
  CHECK_FALSE(live_record(store, "alice", "sid", at(220)).has_value());
  // Once the record is gone, nothing rotates.
  CHECK(rotate(store, "alice", "sid", "r3", "r4", at(220)).verdict == RotationVerdict::ended);
}

TEMPLATE_LIST_TEST_CASE("rotate_session: grace, theft, and sessions that ended", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  const seconds grace{10};
  create(store, "alice", record("sid", "r1", at(0), seconds{1000}), at(0));
  REQUIRE(rotate(store, "alice", "sid", "r1", "r2", at(100), grace).verdict ==
          RotationVerdict::rotated);  // at(100): r1 first used, r2 current until at(200)

  SECTION("the previous token within grace: the same chain, nothing rotates") {
    for (const int t : {100, 105, 110}) {
      const auto again = rotate(store, "alice", "sid", "r1", "x" + std::to_string(t), at(t), grace);
      CHECK(again.verdict == RotationVerdict::within_grace);
      CHECK(again.current == "r2");
      CHECK(again.expires_at == at(200));
    }
    const auto r = live_record(store, "alice", "sid", at(110));
    REQUIRE(r.has_value());
    CHECK(r->refresh_id == "r2");
    CHECK(r->expires_at == at(200));
    CHECK(r->access_until == at(120));  // the grace pair's access token
    // The chain continues from the current token.
    CHECK(rotate(store, "alice", "sid", "r2", "r3", at(111), grace).verdict ==
          RotationVerdict::rotated);
  }
  SECTION("the previous token beyond grace: theft ends the family at once") {
    CHECK(rotate(store, "alice", "sid", "r1", "x", at(111), grace).verdict ==
          RotationVerdict::reused);
    CHECK_FALSE(live_record(store, "alice", "sid", at(111)).has_value());
    CHECK(listed(store, "alice", at(111)).empty());
    // Its access tokens are refused as long as one could be accepted (access_until 110 < 111:
    // none), and the current token is refused too.
    CHECK(rotate(store, "alice", "sid", "r2", "y", at(112), grace).verdict ==
          RotationVerdict::ended);
  }
  SECTION("theft keeps the family refused while an access token may live") {
    REQUIRE(rotate(store, "alice", "sid", "r1", "x", at(105), grace).verdict ==
            RotationVerdict::within_grace);  // access_until is now 115
    CHECK(rotate(store, "alice", "sid", "r0", "x", at(106), grace).verdict ==
          RotationVerdict::reused);  // an older token
    CHECK(family_revoked(store, "alice", "sid", at(106)));
    CHECK(family_revoked(store, "alice", "sid", at(114)));
    CHECK_FALSE(family_revoked(store, "alice", "sid", at(115)));
    CHECK(rotate(store, "alice", "sid", "r2", "y", at(107), grace).verdict ==
          RotationVerdict::ended);
  }
  SECTION("no grace: the previous token is theft even at once") {
    CHECK(rotate(store, "alice", "sid", "r1", "x", at(100), seconds{0}).verdict ==
          RotationVerdict::reused);
    CHECK(family_revoked(store, "alice", "sid", at(100)));
  }
  SECTION("an unknown token is theft") {
    CHECK(rotate(store, "alice", "sid", "forged", "x", at(101), grace).verdict ==
          RotationVerdict::reused);
  }
  SECTION("only the owner's session rotates") {
    CHECK(rotate(store, "bob", "sid", "r2", "x", at(101), grace).verdict == RotationVerdict::ended);
    CHECK(rotate(store, "alice", "sid", "r2", "r3", at(101), grace).verdict ==
          RotationVerdict::rotated);
  }
  SECTION("ids are compared exactly, whatever bytes they hold") {
    const std::string sid("n\0l", 3);
    const std::string token("a\0b", 3);
    create(store, "alice", record(sid, token, at(100)), at(100));
    CHECK(live_record(store, "alice", sid, at(101)).has_value());
    CHECK_FALSE(live_record(store, "alice", "n", at(101)).has_value());
    CHECK(rotate(store, "alice", sid, "a", "x", at(101), grace).verdict ==
          RotationVerdict::reused);  // "a" is a prefix of the current id, not the id
    CHECK(rotate(store, "alice", sid, token, "x", at(101), grace).verdict ==
          RotationVerdict::ended);
  }
}

TEMPLATE_LIST_TEST_CASE("end_session: only the owner's live session, refused while it matters",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  create(store, "alice", record("sid-a", "r1", at(0)), at(0));  // access_until at(10)
  create(store, "bob", record("sid-b", "r1", at(0)), at(0));

  const auto guessed = store.end_session("bob", "sid-a", at(5), at(5));
  REQUIRE(guessed.has_value());
  CHECK_FALSE(*guessed);
  CHECK(live_record(store, "alice", "sid-a", at(5)).has_value());
  CHECK_FALSE(family_revoked(store, "alice", "sid-a", at(5)));

  const auto ended = store.end_session("alice", "sid-a", at(5), at(5));
  REQUIRE(ended.has_value());
  CHECK(*ended);
  CHECK_FALSE(live_record(store, "alice", "sid-a", at(5)).has_value());
  CHECK(listed(store, "alice", at(5)).empty());
  CHECK(family_revoked(store, "alice", "sid-a", at(9)));  // until its access_until
  CHECK_FALSE(family_revoked(store, "alice", "sid-a", at(10)));
  CHECK(rotate(store, "alice", "sid-a", "r1", "r2", at(6)).verdict == RotationVerdict::ended);
  const auto again = store.end_session("alice", "sid-a", at(6), at(6));
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
  // bob's session is untouched.
  CHECK(listed(store, "bob", at(6)) == ids{"sid-b"});

  SECTION("a later until keeps it refused longer") {
    REQUIRE(store.end_session("bob", "sid-b", at(50), at(6)));
    CHECK(family_revoked(store, "bob", "sid-b", at(49)));
    CHECK_FALSE(family_revoked(store, "bob", "sid-b", at(50)));
  }
}

TEMPLATE_LIST_TEST_CASE("sessions: live ones, most recently used first", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  create(store, "alice", record("s1", "a", at(0), seconds{100}, "phone"), at(0));
  create(store, "alice", record("s2", "a", at(1), seconds{100}, "laptop"), at(1));
  create(store, "alice", record("s3", "a", at(2), seconds{20}), at(2));  // ends at 22
  create(store, "bob", record("s4", "a", at(3)), at(3));
  CHECK(listed(store, "alice", at(3)) == ids{"s3", "s2", "s1"});
  REQUIRE(rotate(store, "alice", "s1", "a", "b", at(4)).verdict == RotationVerdict::rotated);
  CHECK(listed(store, "alice", at(4)) == ids{"s1", "s3", "s2"});
  // In the same second, the later use still comes first.
  REQUIRE(rotate(store, "alice", "s2", "a", "b", at(4)).verdict == RotationVerdict::rotated);
  CHECK(listed(store, "alice", at(4)) == ids{"s2", "s1", "s3"});
  CHECK(listed(store, "alice", at(22)) == ids{"s2", "s1"});
  CHECK(listed(store, "bob", at(22)) == ids{"s4"});

  const auto records = store.sessions("alice", at(5));
  REQUIRE(records.has_value());
  REQUIRE(records->size() == 3);
  CHECK((*records)[0].metadata == "laptop");
  CHECK((*records)[0].last_refresh == at(4));
  CHECK((*records)[0].auth_time == at(1));
  CHECK((*records)[2].metadata.empty());
}

TEMPLATE_LIST_TEST_CASE("create_session beyond max_sessions ends the least recently used",
                        "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  CHECK(create(store, "alice", record("s1", "a", at(0)), at(0), 2).empty());
  CHECK(create(store, "alice", record("s2", "a", at(1)), at(1), 2).empty());
  REQUIRE(rotate(store, "alice", "s1", "a", "b", at(2)).verdict == RotationVerdict::rotated);
  CHECK(create(store, "bob", record("s9", "a", at(2)), at(2), 2).empty());
  CHECK(create(store, "alice", record("s3", "a", at(3)), at(3), 2) == ids{"s2"});
  CHECK(listed(store, "alice", at(3)) == ids{"s3", "s1"});
  CHECK_FALSE(live_record(store, "alice", "s2", at(3)).has_value());
  CHECK(family_revoked(store, "alice", "s2", at(3)));  // its access token may still live
  CHECK_FALSE(family_revoked(store, "alice", "s2", at(11)));
  CHECK(rotate(store, "alice", "s2", "a", "b", at(4)).verdict == RotationVerdict::ended);
  CHECK(listed(store, "bob", at(3)) == ids{"s9"});
  // A smaller bound than the sessions already there ends as many as needed.
  CHECK(create(store, "alice", record("s4", "a", at(5)), at(5), 1) == ids{"s1", "s3"});
  CHECK(listed(store, "alice", at(5)) == ids{"s4"});
}

TEMPLATE_LIST_TEST_CASE("bump_version ends every session of the subject", "[store_contract]",
                        store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  create(store, "alice", record("s1", "a", at(0)), at(0));
  create(store, "alice", record("s2", "a", at(0)), at(0));
  create(store, "bob", record("s3", "a", at(0)), at(0));
  REQUIRE(store.bump_version("alice", at(500), at(1)));
  CHECK(listed(store, "alice", at(1)).empty());
  CHECK_FALSE(live_record(store, "alice", "s1", at(1)).has_value());
  CHECK(rotate(store, "alice", "s2", "a", "b", at(1)).verdict == RotationVerdict::ended);
  CHECK(listed(store, "bob", at(1)) == ids{"s3"});
  // New logins work.
  create(store, "alice", record("s4", "a", at(2)), at(2));
  CHECK(listed(store, "alice", at(2)) == ids{"s4"});
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

TEMPLATE_LIST_TEST_CASE("copies share one store", "[store_contract]", store_contract::Stores) {
  using namespace store_contract;
  auto original = TestType::make();
  auto copy = original;
  REQUIRE(copy.end_session("alice", "sid", at(100), at(0)));
  CHECK(family_revoked(original, "alice", "sid", at(1)));

  auto assigned = TestType::make();
  assigned = original;
  create(assigned, "alice", record("sid-2", "r1", at(0)), at(0));
  CHECK(rotate(original, "alice", "sid-2", "r1", "r2", at(0)).verdict == RotationVerdict::rotated);
  CHECK(rotate(assigned, "alice", "sid-2", "r1", "r3", at(0)).verdict == RotationVerdict::reused);
  REQUIRE(assigned.bump_version("alice", at(100), at(0)));
  CHECK(min_version(copy, "alice", at(0)) == static_cast<std::uint64_t>(kStart));
}

TEMPLATE_LIST_TEST_CASE("concurrent refreshes of one token: exactly one rotation",
                        "[store_contract][concurrency]", store_contract::Stores) {
  using namespace store_contract;
  constexpr int kThreads = 8;
  constexpr int kRounds = 100;
  auto store = TestType::make();
  for (int round = 0; round < kRounds; ++round) {
    create(store, "alice", record("sid-" + std::to_string(round), "r0", at(0)), at(0), kRounds);
  }
  std::barrier start(kThreads);
  std::vector<std::vector<RotationVerdict>> verdicts(
      kThreads, std::vector<RotationVerdict>(kRounds, RotationVerdict::ended));
  std::vector<std::vector<std::string>> currents(kThreads, std::vector<std::string>(kRounds));
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        // Odd rounds allow grace: the losers then get the winner's chain, never a second rotation.
        const seconds grace{10 * (round % 2)};
        const std::string next = "r1-" + std::to_string(t);
        const RotationRequest request{"r0", next, at(1), grace, at(100), at(11), at(100)};
        start.arrive_and_wait();
        const auto rotation =
            store.rotate_session("alice", "sid-" + std::to_string(round), request);
        if (rotation) {
          verdicts[t][round] = rotation->verdict;
          currents[t][round] = rotation->current;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failed.load() == 0);

  for (int round = 0; round < kRounds; ++round) {
    int rotated = 0, grace = 0, reused = 0, ended = 0;
    std::string winner;
    for (int t = 0; t < kThreads; ++t) {
      switch (verdicts[t][round]) {
        case RotationVerdict::rotated:
          ++rotated;
          winner = "r1-" + std::to_string(t);
          break;
        case RotationVerdict::within_grace: ++grace; break;
        case RotationVerdict::reused: ++reused; break;
        case RotationVerdict::ended: ++ended; break;
      }
    }
    CHECK(rotated == 1);
    if (round % 2 == 1) {
      CHECK(grace == kThreads - 1);
      for (int t = 0; t < kThreads; ++t) CHECK(currents[t][round] == winner);
    } else {
      // The first loser is the theft verdict; it ended the family, so later ones find it ended.
      CHECK(reused >= 1);
      CHECK(reused + ended == kThreads - 1);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("sessions() stays consistent while others log in and out",
                        "[store_contract][concurrency]", store_contract::Stores) {
  using namespace store_contract;
  constexpr int kStable = 5;
  constexpr int kChurn = 300;
  constexpr int kReaders = 3;
  auto store = TestType::make();
  for (int i = 0; i < kStable; ++i) {
    create(store, "alice", record("stable-" + std::to_string(i), "r", at(0), seconds{1000}), at(0));
  }
  std::atomic<int> ended{0};  // churn sessions 0 .. ended-1 have ended
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> inconsistencies{0};
  std::latch start(kReaders + 1);
  std::thread churner([&] {
    start.arrive_and_wait();
    for (int i = 0; i < kChurn; ++i) {
      const std::string sid = "churn-" + std::to_string(i);
      if (!store.create_session("alice", record(sid, "r", at(1), seconds{1000}), 100, at(1))) {
        ++failures;
      }
      const auto e = store.end_session("alice", sid, at(1), at(1));
      if (!e || !*e) ++failures;
      ended.store(i + 1, std::memory_order_release);
    }
    done.store(true, std::memory_order_release);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      start.arrive_and_wait();
      int reads = 0;
      while (!done.load(std::memory_order_acquire) || reads < 20) {
        const int ended_before = ended.load(std::memory_order_acquire);
        const auto records = store.sessions("alice", at(1));
        ++reads;
        if (!records) {
          ++failures;
          continue;
        }
        std::set<std::string> seen;
        int stable = 0;
        for (const auto& rec : *records) {
          if (!seen.insert(rec.session_id).second) ++inconsistencies;  // listed twice
          if (rec.session_id.starts_with("stable-")) {
            ++stable;
          } else if (std::stoi(rec.session_id.substr(6)) < ended_before) {
            ++inconsistencies;  // a session that had already ended
          }
        }
        if (stable != kStable) ++inconsistencies;  // a live session hidden
        if (records->size() > static_cast<std::size_t>(kStable + 1)) ++inconsistencies;
      }
    });
  }
  churner.join();
  for (auto& reader : readers) reader.join();
  CHECK(failures.load() == 0);
  CHECK(inconsistencies.load() == 0);
  CHECK(listed(store, "alice", at(1)).size() == static_cast<std::size_t>(kStable));
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
      if (!store.end_session("alice", "sid-" + std::to_string(i), at(10'000), at(0))) {
        ++failures;
      }
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
    CHECK(family_revoked(store, "alice", "sid-" + std::to_string(i), at(5)));
  }
}

TEMPLATE_LIST_TEST_CASE("a session's DPoP key thumbprint (jkt) is kept with its record",
                        "[store_contract][dpop]", store_contract::Stores) {
  using namespace store_contract;
  auto store = TestType::make();
  SessionRecord bound = record("bound", "r1", at(0), seconds{100}, "phone");
  bound.jkt = kJkt;
  create(store, "alice", bound, at(0));
  create(store, "alice", record("plain", "r1", at(1)), at(1));

  const auto found = live_record(store, "alice", "bound", at(2));
  REQUIRE(found.has_value());
  CHECK(found->jkt == kJkt);
  CHECK(found->metadata == "phone");
  const auto unbound = live_record(store, "alice", "plain", at(2));
  REQUIRE(unbound.has_value());
  CHECK(unbound->jkt.empty());

  const auto listed_records = store.sessions("alice", at(2));
  REQUIRE(listed_records.has_value());
  REQUIRE(listed_records->size() == 2);
  CHECK((*listed_records)[0].session_id == "plain");
  CHECK((*listed_records)[0].jkt.empty());
  CHECK((*listed_records)[1].session_id == "bound");
  CHECK((*listed_records)[1].jkt == kJkt);

  // A refresh never changes it, whichever verdict it gets.
  REQUIRE(rotate(store, "alice", "bound", "r1", "r2", at(3), seconds{10}).verdict ==
          RotationVerdict::rotated);
  REQUIRE(rotate(store, "alice", "bound", "r1", "x", at(4), seconds{10}).verdict ==
          RotationVerdict::within_grace);
  const auto rotated = live_record(store, "alice", "bound", at(5));
  REQUIRE(rotated.has_value());
  CHECK(rotated->refresh_id == "r2");
  CHECK(rotated->jkt == kJkt);

  // Gone with the session, like the metadata.
  REQUIRE(store.end_session("alice", "bound", at(5), at(5)));
  CHECK_FALSE(live_record(store, "alice", "bound", at(5)).has_value());
  CHECK(listed(store, "alice", at(5)) == ids{"plain"});
  const auto lookup = store.find_session("no-such-jti", "bound", "alice", at(5));
  REQUIRE(lookup.has_value());
  CHECK(lookup->status.family_revoked);
  CHECK_FALSE(lookup->record.has_value());
}

TEMPLATE_LIST_TEST_CASE("use_proof: a proof is used once while its until lasts",
                        "[store_contract][dpop]", store_contract::Stores) {
  using namespace store_contract;
  if constexpr (!tegata::ProofReplayCache<decltype(TestType::make())>) {
    FAIL("this store has no use_proof (the ProofReplayCache concept)");
  } else {
    const auto store = TestType::make();               // const: a validation records proofs
    const std::string key = "bBp2Yd-q5r1cG2Lx0n8Z7A";  // 22 characters, as the manager makes them
    CHECK(use_proof(store, key, at(100), at(0)));
    CHECK_FALSE(use_proof(store, key, at(100), at(0)));
    CHECK_FALSE(use_proof(store, key, at(100), at(99)));
    // A replay records nothing: a later until in it does not extend the first.
    CHECK_FALSE(use_proof(store, key, at(500), at(50)));
    CHECK(use_proof(store, "another-key-of-22-char", at(100), at(0)));

    // At its until (exclusive) it is forgotten, and the key may be recorded again.
    CHECK(use_proof(store, key, at(200), at(100)));
    CHECK_FALSE(use_proof(store, key, at(200), at(150)));
    CHECK(use_proof(store, key, at(300), at(200)));

    SECTION("copies share the proofs") {
      const auto copy = store;
      CHECK_FALSE(use_proof(copy, key, at(300), at(250)));
      CHECK(use_proof(copy, "fresh", at(300), at(250)));
      CHECK_FALSE(use_proof(store, "fresh", at(300), at(250)));
    }
    SECTION("until <= now: true, and nothing is stored") {
      CHECK(use_proof(store, "late", at(10), at(10)));
      CHECK(use_proof(store, "late", at(5), at(10)));
      CHECK(use_proof(store, "late", at(20), at(10)));  // recorded only now
      CHECK_FALSE(use_proof(store, "late", at(20), at(10)));
    }
    SECTION("keys are compared exactly, whatever bytes they hold") {
      const std::string nul("a\0b", 3);
      CHECK(use_proof(store, nul, at(100), at(0)));
      CHECK(use_proof(store, "a", at(100), at(0)));
      CHECK_FALSE(use_proof(store, nul, at(100), at(0)));
      CHECK(use_proof(store, "A", at(100), at(0)));
    }
    SECTION("an empty key, or one over 128 bytes, is refused") {
      CHECK(store.use_proof("", at(100), at(0)).error() == errc::invalid_argument);
      const std::string longest(128, 'k');
      CHECK(store.use_proof(longest + "k", at(100), at(0)).error() == errc::invalid_argument);
      CHECK(use_proof(store, longest, at(100), at(0)));
      CHECK_FALSE(use_proof(store, longest, at(100), at(0)));
    }
    SECTION("proofs are not tokens, families nor versions") {
      const auto status = store.status(key, key, key, at(250));
      REQUIRE(status.has_value());
      CHECK_FALSE(status->token_revoked);
      CHECK_FALSE(status->family_revoked);
      CHECK(status->min_version == 0);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("use_proof: concurrent uses of one key, exactly one true",
                        "[store_contract][dpop][concurrency]", store_contract::Stores) {
  using namespace store_contract;
  if constexpr (!tegata::ProofReplayCache<decltype(TestType::make())>) {
    FAIL("this store has no use_proof (the ProofReplayCache concept)");
  } else {
    constexpr int kThreads = 8;
    constexpr int kRounds = 50;
    const auto store = TestType::make();
    std::barrier start(kThreads);
    std::vector<std::vector<int>> answers(kThreads, std::vector<int>(kRounds, -1));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < kRounds; ++round) {
          const std::string key = "race-" + std::to_string(round);
          start.arrive_and_wait();
          const auto used = store.use_proof(key, at(100), at(1));
          answers[t][round] = used ? (*used ? 1 : 0) : -1;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int round = 0; round < kRounds; ++round) {
      int winners = 0, losers = 0;
      for (int t = 0; t < kThreads; ++t) {
        if (answers[t][round] == 1) ++winners;
        if (answers[t][round] == 0) ++losers;
      }
      INFO("round " << round);
      CHECK(winners == 1);
      CHECK(losers == kThreads - 1);
    }
  }
}
