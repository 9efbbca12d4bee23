// SessionManager over session records: one record per session however often it rotates, the
// grace window's same-chain pairs, "remember me", the inventory (sessions, revoke_session), the
// per-subject bound and the Events policy. Time comes from a ManualClock.
#include <algorithm>
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using tegata::errc;
using tegata::SessionEventKind;

namespace {

const std::chrono::sys_seconds kStart{std::chrono::seconds{1'800'000'000}};

tegata::HmacKey test_key() {
  return tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 'r'), "k1");
}

tegata::SessionOptions test_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  o.access_ttl = 15min;
  o.refresh_ttl = 24h;
  o.absolute_ttl = 72h;
  return o;  // reuse_grace: the default, 10 s
}

// Every event, in order. Copies of the policy share one log, so a test can read it through
// manager.events() or through its own copy.
struct Recorder {
  struct Seen {
    SessionEventKind kind;
    std::string subject, session_id;
    std::chrono::sys_seconds time;
  };
  struct Log {
    std::mutex mutex;
    std::vector<Seen> events;
  };
  std::shared_ptr<Log> log = std::make_shared<Log>();

  void on_event(const tegata::SessionEvent& e) noexcept {
    const std::lock_guard lock(log->mutex);
    log->events.push_back({e.kind, std::string(e.subject), std::string(e.session_id), e.time});
  }
  std::vector<Seen> take() {
    const std::lock_guard lock(log->mutex);
    return std::exchange(log->events, {});
  }
  std::size_t count(SessionEventKind kind) {
    const std::lock_guard lock(log->mutex);
    return static_cast<std::size_t>(std::count_if(log->events.begin(), log->events.end(),
                                                  [&](const Seen& s) { return s.kind == kind; }));
  }
};
static_assert(tegata::SessionEvents<Recorder>);
static_assert(tegata::SessionEvents<tegata::NoEvents>);

using Manager = tegata::SessionManager<tegata::HmacKey, tegata::ManualClock,
                                       tegata::MemoryRevocationStore, Recorder>;

struct Fixture {
  explicit Fixture(tegata::SessionOptions options = test_options(),
                   tegata::MemoryRevocationStore::Options store_options = {})
      : store(store_options), manager(test_key(), std::move(options), clock, store, events) {}
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Recorder events;
  Manager manager;
};

std::string jti_of(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  return nlohmann::json::parse(
             *tegata::base64url_decode(token.substr(first + 1, second - first - 1)))
      .at("jti")
      .get<std::string>();
}

template <class M>
std::vector<std::string> session_ids(const M& m, std::string_view subject) {
  const auto list = m.sessions(subject);
  REQUIRE(list);
  std::vector<std::string> ids;
  for (const auto& s : *list) ids.push_back(s.session_id);
  return ids;
}

}  // namespace

TEST_CASE("a session is one record, however often it rotates", "[session][records]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  const std::size_t after_login = f.store.size();
  CHECK(after_login == 2);  // the record and alice's index
  for (int i = 0; i < 1000; ++i) {
    f.clock.advance(1s);
    auto next = f.manager.refresh(pair->refresh_token);
    REQUIRE(next);
    pair = std::move(next);
  }
  CHECK(f.store.size() == after_login);
  const auto list = f.manager.sessions("alice");
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].session_id == pair->session_id);
  CHECK((*list)[0].auth_time == kStart);
  CHECK((*list)[0].last_refresh == kStart + 1000s);
  CHECK((*list)[0].expires_at == kStart + 1000s + 24h);
}

TEST_CASE("one account rotating 3000 times against max_entries = 1000 locks nobody out",
          "[session][records][store_flood]") {
  Fixture f(test_options(), {.max_entries = 1000, .shards = 4});
  auto mallory = f.manager.issue("mallory");
  REQUIRE(mallory);
  for (int i = 0; i < 3000; ++i) {
    f.clock.advance(1s);
    auto next = f.manager.refresh(mallory->refresh_token);
    REQUIRE(next);
    mallory = std::move(next);
  }
  CHECK(f.store.size() == 2);
  // Every other user can log in, refresh, log out, and log out everywhere.
  for (int u = 0; u < 200; ++u) {
    const std::string user = "user-" + std::to_string(u);
    auto first = f.manager.issue(user);
    REQUIRE(first);
    auto second = f.manager.issue(user);
    REQUIRE(second);
    auto refreshed = f.manager.refresh(first->refresh_token);
    REQUIRE(refreshed);
    REQUIRE(f.manager.revoke(refreshed->access_token));
    CHECK(f.manager.validate(refreshed->access_token).error() == errc::session_revoked);
    CHECK(f.manager.validate(second->access_token));
    REQUIRE(f.manager.revoke_all(user));
    CHECK(f.manager.validate(second->access_token).error() == errc::version_mismatch);
  }
  CHECK(f.manager.validate(mallory->access_token));
  CHECK(f.store.size() <= 1000);
}

TEST_CASE("grace: the previous token gets a pair on the same chain, and the chain continues",
          "[session][records][grace]") {
  Fixture f;
  auto p0 = f.manager.issue("alice");
  REQUIRE(p0);
  f.clock.advance(1min);
  auto p1 = f.manager.refresh(p0->refresh_token);  // the winner: R0 -> R1
  REQUIRE(p1);
  f.clock.advance(5s);
  auto loser = f.manager.refresh(p0->refresh_token);  // another tab, with R0, within 10 s
  REQUIRE(loser);
  // The same chain: its refresh token is the current one, R1, ending when R1 ends.
  CHECK(jti_of(loser->refresh_token) == jti_of(p1->refresh_token));
  CHECK(loser->refresh_expires_at == p1->refresh_expires_at);
  CHECK(loser->session_id == p1->session_id);
  CHECK(jti_of(loser->access_token) != jti_of(p1->access_token));
  CHECK(f.manager.validate(loser->access_token));
  CHECK(f.manager.validate(p1->access_token));

  // Either copy of R1 rotates the chain; the other is then the previous token.
  auto p2 = f.manager.refresh(loser->refresh_token);  // R1 -> R2
  REQUIRE(p2);
  auto again = f.manager.refresh(p1->refresh_token);  // R1 again, within grace: R2
  REQUIRE(again);
  CHECK(jti_of(again->refresh_token) == jti_of(p2->refresh_token));
  const auto list = f.manager.sessions("alice");
  REQUIRE(list);
  REQUIRE(list->size() == 1);  // never forked

  SECTION("beyond the window the previous token is theft and ends the family") {
    f.clock.advance(11s);
    CHECK(f.manager.refresh(p1->refresh_token).error() == errc::refresh_reused);
    CHECK(f.manager.validate(p2->access_token).error() == errc::session_revoked);
    CHECK(f.manager.refresh(p2->refresh_token).error() == errc::session_revoked);
    CHECK(f.manager.sessions("alice")->empty());
  }
  SECTION("an older token is theft, even within the window") {
    CHECK(f.manager.refresh(p0->refresh_token).error() == errc::refresh_reused);
    CHECK(f.manager.validate(again->access_token).error() == errc::session_revoked);
  }
}

TEST_CASE("8 threads refreshing one token: one rotation, the others on the same chain",
          "[session][records][concurrency]") {
  constexpr int kThreads = 8;
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  std::vector<tegata::Result<tegata::TokenPair>> results(kThreads, errc::malformed);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[static_cast<std::size_t>(i)] = f.manager.refresh(pair->refresh_token);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  std::set<std::string> refresh_ids;
  for (const auto& r : results) {
    REQUIRE(r);
    refresh_ids.insert(jti_of(r->refresh_token));
    CHECK(f.manager.validate(r->access_token));
  }
  // One rotation happened: every pair carries the one new refresh token id, which the record
  // holds as current.
  CHECK(refresh_ids.size() == 1);
  const auto lookup = f.store.find_session("-", pair->session_id, "alice", f.clock.now());
  REQUIRE(lookup);
  REQUIRE(lookup->record);
  CHECK(lookup->record->refresh_id == *refresh_ids.begin());
  CHECK(f.events.count(SessionEventKind::refresh) == kThreads);
  CHECK(f.events.count(SessionEventKind::reuse_detected) == 0);
  // The chain goes on from any of them.
  REQUIRE(f.manager.refresh(results[3]->refresh_token));

  SECTION("beyond the window the original token is theft") {
    f.clock.advance(11s);
    CHECK(f.manager.refresh(pair->refresh_token).error() == errc::refresh_reused);
  }
}

TEST_CASE("remember me: a shorter, non-persistent session stays so across rotations",
          "[session][records][remember_me]") {
  Fixture f;
  tegata::IssueOptions options;
  options.persistent = false;
  options.refresh_ttl = 1h;
  options.absolute_ttl = 3h;
  options.metadata = "Firefox on Linux";
  auto pair = f.manager.issue("alice", options);
  REQUIRE(pair);
  CHECK_FALSE(pair->persistent);
  CHECK(pair->refresh_expires_at == kStart + 1h);
  CHECK(pair->access_expires_at == kStart + 15min);

  const tegata::http::CookieWriter cookies;
  for (int i = 0; i < 5; ++i) {
    f.clock.advance(30min);
    auto next = f.manager.refresh(pair->refresh_token);
    REQUIRE(next);
    pair = std::move(next);
    CHECK_FALSE(pair->persistent);
    CHECK(pair->refresh_expires_at == std::min(f.clock.now() + 1h, kStart + 3h));
    const auto set = cookies.write(*pair, f.clock.now());
    REQUIRE(set);
    CHECK(set->access.find("Max-Age") == std::string::npos);
    CHECK(set->refresh.find("Max-Age") == std::string::npos);
  }
  const auto list = f.manager.sessions("alice");
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK_FALSE((*list)[0].persistent);
  CHECK((*list)[0].metadata == "Firefox on Linux");
  // Its refresh tokens end at its absolute end: then it is over (the manager's own absolute end
  // is reported as session_expired; a shortened one shows as its refresh token's expiry).
  f.clock.set(kStart + 3h);
  CHECK(f.manager.refresh(pair->refresh_token).error() == errc::expired);
  CHECK(f.manager.sessions("alice")->empty());

  SECTION("a persistent session's cookies carry Max-Age") {
    auto kept = f.manager.issue("bob", tegata::IssueOptions{});
    REQUIRE(kept);
    CHECK(kept->persistent);
    CHECK(kept->refresh_expires_at == f.clock.now() + 24h);
    const auto set = cookies.write(*kept, f.clock.now());
    REQUIRE(set);
    CHECK(set->access.find("; Max-Age=900") != std::string::npos);
    CHECK(set->refresh.find("; Max-Age=86400") != std::string::npos);
  }
}

TEST_CASE("IssueOptions: limits are checked and never lengthen a session",
          "[session][records][remember_me]") {
  Fixture f;
  tegata::IssueOptions too_much;
  too_much.metadata = std::string(1025, 'm');
  CHECK(f.manager.issue("alice", too_much).error() == errc::invalid_argument);
  too_much.metadata = std::string(1024, 'm');
  CHECK(f.manager.issue("alice", too_much));

  tegata::IssueOptions zero;
  zero.refresh_ttl = 0s;
  CHECK(f.manager.issue("alice", zero).error() == errc::invalid_argument);
  zero.refresh_ttl.reset();
  zero.absolute_ttl = -1s;
  CHECK(f.manager.issue("alice", zero).error() == errc::invalid_argument);

  tegata::IssueOptions longer;
  longer.refresh_ttl = 1000h;
  longer.absolute_ttl = 1000h;
  longer.extra = {{"role", "editor"}};
  const auto pair = f.manager.issue("alice", longer);
  REQUIRE(pair);
  CHECK(pair->refresh_expires_at == kStart + 24h);
  const auto claims = f.manager.validate(pair->access_token);
  REQUIRE(claims);
  CHECK(claims->extra.at("role") == "editor");
  f.clock.set(kStart + 72h);
  CHECK(f.manager.refresh(pair->refresh_token).error() == errc::session_expired);
  CHECK(f.events.count(SessionEventKind::login) == 2);  // the refused ones report nothing
}

TEST_CASE("inventory: most recently used first; another user's id is not_found and ends nothing",
          "[session][records][inventory]") {
  Fixture f;
  tegata::IssueOptions phone;
  phone.metadata = "phone";
  tegata::IssueOptions laptop;
  laptop.metadata = "laptop";
  auto a1 = f.manager.issue("alice", phone);
  f.clock.advance(1min);
  auto a2 = f.manager.issue("alice", laptop);
  f.clock.advance(1min);
  auto b1 = f.manager.issue("bob");
  REQUIRE(a1);
  REQUIRE(a2);
  REQUIRE(b1);
  CHECK(session_ids(f.manager, "alice") ==
        std::vector<std::string>{a2->session_id, a1->session_id});
  f.clock.advance(1min);
  auto a1r = f.manager.refresh(a1->refresh_token);
  REQUIRE(a1r);
  CHECK(session_ids(f.manager, "alice") ==
        std::vector<std::string>{a1->session_id, a2->session_id});
  const auto list = f.manager.sessions("alice");
  REQUIRE(list);
  CHECK((*list)[0].metadata == "phone");
  CHECK((*list)[0].auth_time == kStart);
  CHECK((*list)[0].last_refresh == kStart + 3min);
  CHECK((*list)[1].metadata == "laptop");
  CHECK((*list)[1].last_refresh == kStart + 1min);
  CHECK(session_ids(f.manager, "bob") == std::vector<std::string>{b1->session_id});
  CHECK(f.manager.sessions("nobody")->empty());

  // bob guesses (or knows) alice's session id: nothing is revealed, nothing ends.
  CHECK(f.manager.revoke_session("bob", a2->session_id).error() == errc::not_found);
  CHECK(f.manager.revoke_session("alice", "no-such-session").error() == errc::not_found);
  CHECK(f.manager.validate(a2->access_token));
  CHECK(session_ids(f.manager, "alice").size() == 2);
  CHECK(f.events.count(SessionEventKind::session_revoked) == 0);

  // alice signs her laptop out from her phone.
  REQUIRE(f.manager.revoke_session("alice", a2->session_id));
  CHECK(f.manager.validate(a2->access_token).error() == errc::session_revoked);
  CHECK(f.manager.refresh(a2->refresh_token).error() == errc::session_revoked);
  CHECK(session_ids(f.manager, "alice") == std::vector<std::string>{a1->session_id});
  CHECK(f.manager.revoke_session("alice", a2->session_id).error() == errc::not_found);
  CHECK(f.manager.validate(a1r->access_token));
  CHECK(f.manager.validate(b1->access_token));
  CHECK(f.events.count(SessionEventKind::session_revoked) == 1);

  // Log out everywhere empties the list.
  REQUIRE(f.manager.revoke_all("alice"));
  CHECK(f.manager.sessions("alice")->empty());
  CHECK(f.manager.refresh(a1r->refresh_token).error() == errc::version_mismatch);
}

TEST_CASE("max_sessions_per_subject: a login beyond it evicts the least recently used",
          "[session][records][inventory]") {
  auto options = test_options();
  options.max_sessions_per_subject = 3;
  Fixture f(options);
  std::vector<tegata::TokenPair> pairs;
  for (int i = 0; i < 3; ++i) {
    auto p = f.manager.issue("alice");
    REQUIRE(p);
    pairs.push_back(*p);
    f.clock.advance(1min);
  }
  REQUIRE(f.manager.refresh(pairs[0].refresh_token));  // pairs[1] is now the least recent
  (void)f.events.take();
  auto fourth = f.manager.issue("alice");
  REQUIRE(fourth);
  const auto seen = f.events.take();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].kind == SessionEventKind::login);
  CHECK(seen[0].session_id == fourth->session_id);
  CHECK(seen[1].kind == SessionEventKind::evicted);
  CHECK(seen[1].subject == "alice");
  CHECK(seen[1].session_id == pairs[1].session_id);
  CHECK(session_ids(f.manager, "alice").size() == 3);
  CHECK(f.manager.validate(pairs[1].access_token).error() == errc::session_revoked);
  CHECK(f.manager.refresh(pairs[1].refresh_token).error() == errc::session_revoked);
  CHECK(f.manager.validate(pairs[2].access_token));
  // Other subjects are not counted against alice.
  for (int i = 0; i < 5; ++i) REQUIRE(f.manager.issue("bob"));
  CHECK(session_ids(f.manager, "alice").size() == 3);
  CHECK(session_ids(f.manager, "bob").size() == 3);
}

TEST_CASE("events: each change reported once, after it happened; failures report nothing",
          "[session][records][events]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  f.clock.advance(1min);
  auto next = f.manager.refresh(pair->refresh_token);
  REQUIRE(next);
  auto other = f.manager.issue("alice");
  REQUIRE(other);
  REQUIRE(f.manager.revoke(other->access_token));

  // Failures: a forged token, a revoked session, an unknown session id, bad options.
  CHECK_FALSE(f.manager.refresh(next->refresh_token + "x"));
  CHECK(f.manager.revoke(other->refresh_token));  // already ended: success, nothing changed
  CHECK(f.manager.refresh(other->refresh_token).error() == errc::session_revoked);
  CHECK(f.manager.revoke_session("alice", "nope").error() == errc::not_found);
  CHECK(f.manager.issue("", tegata::IssueOptions{}).error() == errc::invalid_argument);

  f.clock.advance(1min);  // beyond the grace window
  CHECK(f.manager.refresh(pair->refresh_token).error() == errc::refresh_reused);
  CHECK(f.manager.refresh(pair->refresh_token).error() == errc::session_revoked);  // no 2nd alarm
  auto third = f.manager.issue("alice");
  REQUIRE(third);
  REQUIRE(f.manager.revoke_session("alice", third->session_id));
  REQUIRE(f.manager.revoke_all("alice"));

  const auto seen = f.events.take();
  const std::vector<SessionEventKind> expected{
      SessionEventKind::login,           SessionEventKind::refresh,        SessionEventKind::login,
      SessionEventKind::logout,          SessionEventKind::reuse_detected, SessionEventKind::login,
      SessionEventKind::session_revoked, SessionEventKind::logout_all};
  REQUIRE(seen.size() == expected.size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].kind == expected[i]);
    CHECK(seen[i].subject == "alice");
  }
  CHECK(seen[0].session_id == pair->session_id);
  CHECK(seen[1].session_id == pair->session_id);
  CHECK(seen[1].time == kStart + 1min);
  CHECK(seen[3].session_id == other->session_id);
  CHECK(seen[4].session_id == pair->session_id);
  CHECK(seen[6].session_id == third->session_id);
  CHECK(seen[7].session_id.empty());
}

TEST_CASE("events: nothing is reported when the store refuses the change",
          "[session][records][events]") {
  Fixture f(test_options(), {.max_entries = 2, .shards = 1});
  REQUIRE(f.manager.issue("alice"));  // the record and alice's index fill the store
  CHECK(f.manager.issue("bob").error() == errc::store_full);
  CHECK(f.manager.revoke_all("bob").error() == errc::store_full);
  CHECK(f.events.take().size() == 1);  // alice's login only
}

TEST_CASE("the stateless mode keeps no records and says so", "[session][records]") {
  tegata::ManualClock clock{kStart};
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::NullRevocationStore> m(
      test_key(), test_options(), clock);
  tegata::IssueOptions session_only;
  session_only.persistent = false;
  CHECK(m.issue("alice", session_only).error() == errc::not_supported);
  tegata::IssueOptions shorter;
  shorter.refresh_ttl = 1h;
  CHECK(m.issue("alice", shorter).error() == errc::not_supported);
  auto pair = m.issue("alice", tegata::IssueOptions{});
  REQUIRE(pair);
  CHECK(m.sessions("alice").error() == errc::not_supported);
  CHECK(m.revoke_session("alice", pair->session_id).error() == errc::not_supported);
  auto next = m.refresh(pair->refresh_token);
  REQUIRE(next);
  CHECK(next->refresh_expires_at == kStart + 24h);
}

namespace {

// A MemoryRevocationStore whose writes can be made to fail, as an unreachable backend would:
// each operation named in `failing` answers store_unavailable without doing anything.
struct FlakyStore {
  tegata::MemoryRevocationStore inner;
  std::shared_ptr<std::set<std::string>> failing = std::make_shared<std::set<std::string>>();

  bool fails(const char* what) const { return failing->count(what) != 0; }

  tegata::Result<tegata::TokenStatus> status(std::string_view jti, std::string_view sid,
                                             std::string_view subject,
                                             std::chrono::sys_seconds now) const {
    if (fails("status")) return errc::store_unavailable;
    return inner.status(jti, sid, subject, now);
  }
  tegata::Result<tegata::SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                                     std::string_view subject,
                                                     std::chrono::sys_seconds now) const {
    if (fails("find_session")) return errc::store_unavailable;
    return inner.find_session(jti, sid, subject, now);
  }
  tegata::Result<std::vector<std::string>> create_session(std::string_view subject,
                                                          const tegata::SessionRecord& record,
                                                          std::size_t max,
                                                          std::chrono::sys_seconds now) {
    if (fails("create_session")) return errc::store_unavailable;
    return inner.create_session(subject, record, max, now);
  }
  tegata::Result<tegata::Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                                  const tegata::RotationRequest& request) {
    if (fails("rotate_session")) return errc::store_unavailable;
    return inner.rotate_session(subject, sid, request);
  }
  tegata::Result<bool> end_session(std::string_view subject, std::string_view sid,
                                   std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
    if (fails("end_session")) return errc::store_unavailable;
    return inner.end_session(subject, sid, until, now);
  }
  tegata::Result<std::vector<tegata::SessionRecord>> sessions(std::string_view subject,
                                                              std::chrono::sys_seconds now) const {
    if (fails("sessions")) return errc::store_unavailable;
    return inner.sessions(subject, now);
  }
  tegata::Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                                    std::chrono::sys_seconds now) {
    if (fails("revoke_token")) return errc::store_unavailable;
    return inner.revoke_token(jti, until, now);
  }
  tegata::Result<std::uint64_t> bump_version(std::string_view subject,
                                             std::chrono::sys_seconds until,
                                             std::chrono::sys_seconds now) {
    if (fails("bump_version")) return errc::store_unavailable;
    return inner.bump_version(subject, until, now);
  }
};
static_assert(tegata::RevocationStore<FlakyStore>);

}  // namespace

TEST_CASE(
    "a store that cannot answer fails every operation closed, reports nothing, consumes "
    "nothing",
    "[session][records][events]") {
  tegata::ManualClock clock{kStart};
  FlakyStore store;
  Recorder events;
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, FlakyStore, Recorder> m(
      test_key(), test_options(), clock, store, events);
  auto pair = m.issue("alice");
  REQUIRE(pair);
  (void)events.take();

  store.failing->insert("create_session");
  CHECK(m.issue("alice").error() == errc::store_unavailable);

  store.failing->insert("rotate_session");
  CHECK(m.refresh(pair->refresh_token).error() == errc::store_unavailable);
  store.failing->insert("find_session");
  CHECK(m.refresh(pair->refresh_token).error() == errc::store_unavailable);

  store.failing->insert("end_session");
  CHECK(m.revoke(pair->access_token).error() == errc::store_unavailable);
  CHECK(m.revoke_session("alice", pair->session_id).error() == errc::store_unavailable);
  store.failing->insert("bump_version");
  CHECK(m.revoke_all("alice").error() == errc::store_unavailable);
  store.failing->insert("sessions");
  CHECK(m.sessions("alice").error() == errc::store_unavailable);
  store.failing->insert("status");
  CHECK(m.validate(pair->access_token).error() == errc::store_unavailable);
  CHECK(events.take().empty());

  // Once the store answers again, the refresh token that every failure above left alone is still
  // the current one: it rotates, and the session is the one and only one of alice.
  store.failing->clear();
  CHECK(m.validate(pair->access_token));
  auto next = m.refresh(pair->refresh_token);
  REQUIRE(next);
  CHECK(session_ids(m, "alice") == std::vector<std::string>{pair->session_id});
  CHECK(events.count(SessionEventKind::refresh) == 1);
}
