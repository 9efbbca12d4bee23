// What only the Redis store has: configuration, the key layout and its expiry, connection
// failures, a Redis restart, AUTH, the local cache, and the SessionManager running on it. The
// behaviour it shares with the memory store is in store_contract_test.cpp.
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <tegata/tegata.hpp>
#include <thread>
#include <vector>

#include "redis/redis_support.hpp"
#include "support/dpop_client.hpp"
#include "tegata/store/redis.hpp"

using namespace std::chrono_literals;
using std::chrono::seconds;
using std::chrono::sys_seconds;
using tegata::errc;
using tegata::RotationVerdict;
using tegata::redis::RevocationStore;

namespace {

constexpr sys_seconds at(std::int64_t offset) {
  return sys_seconds{seconds{1'700'000'000 + offset}};
}

const sys_seconds kStart{seconds{1'800'000'000}};

using Manager = tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, RevocationStore>;

tegata::HmacKey test_key() {
  return tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 's'), "k1");
}

tegata::SessionOptions session_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  o.access_ttl = 15min;
  o.refresh_ttl = 24h;
  o.absolute_ttl = 72h;
  o.reuse_grace = 0s;  // any second use is theft here; the grace rule is in the contract suite
  return o;
}

tegata::redis::Options cached(tegata::redis::Options o, std::chrono::milliseconds staleness) {
  o.local_cache.enabled = true;
  o.local_cache.max_staleness = staleness;
  return o;
}

bool token_revoked(const RevocationStore& store, std::string_view jti, sys_seconds now) {
  const auto status = store.status(jti, "no-such-sid", "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->token_revoked;
}

bool family_revoked(const RevocationStore& store, std::string_view sid, sys_seconds now) {
  const auto status = store.status("no-such-jti", sid, "no-such-subject", now);
  REQUIRE(status.has_value());
  return status->family_revoked;
}

std::uint64_t min_version(const RevocationStore& store, std::string_view subject, sys_seconds now) {
  const auto status = store.status("no-such-jti", "no-such-sid", subject, now);
  REQUIRE(status.has_value());
  return status->min_version;
}

// The part of a key that Redis Cluster hashes to pick its slot (the hash tag rule).
std::string hashed_part(const std::string& key) {
  const auto open = key.find('{');
  if (open == std::string::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

// A login of subject at now: the record of session sid, current refresh token id refresh_id,
// kept until `until`.
tegata::SessionRecord login_record(std::string_view sid, std::string_view refresh_id,
                                   sys_seconds until, sys_seconds now) {
  tegata::SessionRecord r;
  r.session_id = sid;
  r.refresh_id = refresh_id;
  r.auth_time = r.last_refresh = now;
  r.expires_at = r.until = r.absolute_end = r.access_until = until;
  r.refresh_ttl = until - now;
  return r;
}

void login(RevocationStore& store, std::string_view subject, std::string_view sid,
           std::string_view refresh_id, sys_seconds until, sys_seconds now) {
  const auto created =
      store.create_session(subject, login_record(sid, refresh_id, until, now), 100, now);
  REQUIRE(created.has_value());
}

tegata::RotationRequest rotation(std::string_view presented, std::string_view next,
                                 sys_seconds until, sys_seconds now) {
  return {presented, next, now, seconds{0}, until, until, until};
}

RotationVerdict rotate(RevocationStore& store, std::string_view subject, std::string_view sid,
                       std::string_view presented, std::string_view next, sys_seconds until,
                       sys_seconds now) {
  const auto rotated = store.rotate_session(subject, sid, rotation(presented, next, until, now));
  REQUIRE(rotated.has_value());
  return rotated->verdict;
}

std::set<std::string> key_set(redis_test::client& redis, const std::string& prefix) {
  const auto keys = redis.keys(prefix);
  return {keys.begin(), keys.end()};
}

// Makes the cache's reload race happen on demand, with the pause points of cache.hpp (this
// executable defines TEGATA_REDIS_TEST_HOOKS). Once armed, the next status() that passes the
// freshness check stops before its lookup, runs `interrupt` (which breaks the subscription) and
// waits until the cache thread has cleared its mirror for the reload; the cache thread stays
// there, mirror empty, until release(). Create it before the store: the cache thread reads the
// hooks, so they are set before that thread starts and reset after it has been joined.
class reload_race {
 public:
  reload_race() {
    redis_test::rd::test_hooks::after_fresh_check = [this] { on_request(); };
    redis_test::rd::test_hooks::after_clear = [this] { on_clear(); };
  }
  ~reload_race() {
    release();
    redis_test::rd::test_hooks::after_fresh_check = nullptr;
    redis_test::rd::test_hooks::after_clear = nullptr;
  }
  reload_race(const reload_race&) = delete;
  reload_race& operator=(const reload_race&) = delete;

  void arm(std::function<void()> interrupt) {
    const std::scoped_lock lock(mutex_);
    interrupt_ = std::move(interrupt);
    catching_ = true;
    armed_ = true;
  }

  void release() {
    const std::scoped_lock lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  // Whether it happened as intended: a status() passed the freshness check, the subscription was
  // broken, and the mirror was cleared before that status() went on to its lookup.
  bool happened() {
    const std::scoped_lock lock(mutex_);
    return interrupted_ && cleared_;
  }

 private:
  // The request thread, in cache::status() (noexcept: nothing may escape).
  void on_request() noexcept {
    std::unique_lock lock(mutex_);
    if (!armed_) return;
    armed_ = false;
    paused_ = true;
    lock.unlock();
    bool ok = false;
    try {
      interrupt_();
      ok = true;
    } catch (...) {
    }
    lock.lock();
    interrupted_ = ok;
    changed_.wait_for(lock, 30s, [this] { return cleared_; });
  }

  // The cache thread, in listen() just after mirror::clear().
  void on_clear() {
    std::unique_lock lock(mutex_);
    if (!catching_ || !paused_) return;  // only the clear while the request is paused
    catching_ = false;
    cleared_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, 60s, [this] { return released_; });
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> interrupt_;
  bool armed_ = false;
  bool catching_ = false;
  bool paused_ = false;
  bool interrupted_ = false;
  bool cleared_ = false;
  bool released_ = false;
};

}  // namespace

TEST_CASE("misconfiguration fails at construction", "[redis]") {
  using Options = tegata::redis::Options;
  auto refused = [](auto mutate) {
    Options o;
    mutate(o);
    CHECK_THROWS_AS(RevocationStore(o), std::invalid_argument);
  };
  refused([](Options& o) { o.host.clear(); });
  refused([](Options& o) { o.port = 0; });
  refused([](Options& o) { o.port = 65536; });
  refused([](Options& o) { o.pool_size = 0; });
  refused([](Options& o) { o.connect_timeout = 0ms; });
  refused([](Options& o) { o.command_timeout = -1ms; });
  refused([](Options& o) { o.reconnect_delay = -1ms; });
  refused([](Options& o) { o.expiry_margin = -1s; });
  refused([](Options& o) { o.expiry_margin = 25h; });
  refused([](Options& o) { o.username = "tegata"; });  // a user without a password
  refused([](Options& o) { o.prefix = "app{tegata:"; });
  refused([](Options& o) { o.prefix = "app{}tegata:"; });
  refused([](Options& o) {
    o.local_cache.enabled = true;
    o.local_cache.max_staleness = 0ms;
  });
  refused([](Options& o) {
    o.local_cache.enabled = true;
    o.local_cache.max_entries = 0;
  });
  // Construction does not connect: nothing listens on these, and that is fine until first use.
  CHECK_NOTHROW(RevocationStore(Options{}));
  CHECK_NOTHROW(RevocationStore(Options{.host = "", .unix_socket = "/nonexistent/redis.sock"}));
  CHECK_NOTHROW(RevocationStore(Options{.prefix = "{tegata}:"}));

#if !TEGATA_REDIS_TLS
  SECTION("TLS in a build without hiredis_ssl is refused, and the message holds no secret") {
    Options o;
    o.password = "hunter2-password";
    o.tls.enabled = true;
    try {
      RevocationStore store(o);
      FAIL("TLS was accepted without hiredis_ssl");
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      CHECK(what.find("hiredis_ssl") != std::string::npos);
      CHECK(what.find("hunter2") == std::string::npos);
    }
  }
#endif
}

TEST_CASE("an unreachable Redis fails closed, fast", "[redis]") {
  const bool with_cache = GENERATE(false, true);
  auto options = redis_test::options({"127.0.0.1", redis_test::free_port()}, "unreachable:");
  options.connect_timeout = 200ms;
  options.reconnect_delay = 1000ms;
  if (with_cache) options = cached(options, 100ms);
  RevocationStore store(options);

  CHECK(store.status("jti", "sid", "alice", at(0)).error() == errc::store_unavailable);
  CHECK(store.revoke_token("jti", at(100), at(0)).error() == errc::store_unavailable);
  CHECK(store.end_session("alice", "sid", at(100), at(0)).error() == errc::store_unavailable);
  CHECK(store.bump_version("alice", at(100), at(0)).error() == errc::store_unavailable);
  CHECK(store.create_session("alice", login_record("sid", "r1", at(100), at(0)), 100, at(0))
            .error() == errc::store_unavailable);
  CHECK(store.rotate_session("alice", "sid", rotation("r1", "r2", at(100), at(0))).error() ==
        errc::store_unavailable);
  CHECK(store.find_session("r1", "sid", "alice", at(0)).error() == errc::store_unavailable);
  CHECK(store.sessions("alice", at(0)).error() == errc::store_unavailable);
  CHECK(store.use_proof("proof", at(100), at(0)).error() == errc::store_unavailable);
  CHECK(store.ping().error() == errc::store_unavailable);
  CHECK_FALSE(store.cache_fresh());
  // What needs no round trip behaves as in every store.
  CHECK(store.revoke_token("jti", at(0), at(0)));
  CHECK(*store.use_proof("proof", at(0), at(0)));
  CHECK(store.use_proof("", at(100), at(0)).error() == errc::invalid_argument);
  CHECK(
      store.create_session("alice", login_record("sid", "r1", at(0), at(0)), 100, at(0)).error() ==
      errc::invalid_argument);

  // The manager refuses every token it cannot check.
  tegata::ManualClock clock{kStart};
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock> issuer(test_key(), session_options(),
                                                                      clock);
  const auto pair = issuer.issue("alice");
  REQUIRE(pair);
  Manager manager(test_key(), session_options(), clock, store);
  CHECK(manager.validate(pair->access_token).error() == errc::store_unavailable);
  CHECK(manager.refresh(pair->refresh_token).error() == errc::store_unavailable);
  CHECK(manager.revoke(pair->access_token).error() == errc::store_unavailable);
  CHECK(manager.revoke_all("alice").error() == errc::store_unavailable);
  CHECK(manager.issue("alice").error() == errc::store_unavailable);
  CHECK(manager.sessions("alice").error() == errc::store_unavailable);
  CHECK(manager.revoke_session("alice", pair->session_id).error() == errc::store_unavailable);
}

TEST_CASE("keys are namespaced by the prefix, and every key has a TTL", "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  auto options = redis_test::options(where, prefix);
  options.expiry_margin = 0s;
  RevocationStore store(options);

  REQUIRE(store.revoke_token("j", at(100), at(0)));
  REQUIRE(store.end_session("alice", "s", at(200), at(0)));
  REQUIRE(store.bump_version("alice", at(300), at(0)));
  login(store, "bob", "s2", "r", at(400), at(0));

  const std::set<std::string> expected = {prefix + "t:j", prefix + "f:{s}", prefix + "v:alice",
                                          prefix + "f:{s2}", prefix + "s:{bob}"};
  CHECK(key_set(redis, prefix) == expected);
  // TTL = (until - now) from the caller's clock, never Redis's; with no margin, at most that.
  CHECK(redis.pttl(prefix + "t:j") > 90'000);
  CHECK(redis.pttl(prefix + "t:j") <= 100'000);
  CHECK(redis.pttl(prefix + "f:{s}") <= 200'000);
  CHECK(redis.pttl(prefix + "v:alice") <= 300'000);
  CHECK(redis.pttl(prefix + "s:{bob}") <= 400'000);
  CHECK(redis.pttl(prefix + "f:{s2}") <= 400'000);
  for (const auto& key : expected) CHECK(redis.pttl(key) > 0);

  SECTION("the margin lengthens the TTL, not the revocation") {
    auto with_margin = redis_test::options(where, prefix);
    with_margin.expiry_margin = 60s;
    RevocationStore other(with_margin);
    REQUIRE(other.revoke_token("j2", at(100), at(0)));
    CHECK(redis.pttl(prefix + "t:j2") > 150'000);
    CHECK(token_revoked(other, "j2", at(99)));
    CHECK_FALSE(token_revoked(other, "j2", at(100)));
  }
  SECTION("another prefix is another store") {
    RevocationStore other(redis_test::options(where, redis_test::unique_prefix()));
    const auto status = other.status("j", "s", "alice", at(1));
    REQUIRE(status.has_value());
    CHECK_FALSE(status->token_revoked);
    CHECK_FALSE(status->family_revoked);
    CHECK(status->min_version == 0);
    login(other, "bob", "s2", "r", at(400), at(1));
    CHECK(rotate(other, "bob", "s2", "r", "r2", at(400), at(1)) == RotationVerdict::rotated);
  }
  SECTION("a hash-tag prefix keeps every key in one Cluster slot") {
    const std::string tagged = "{" + prefix + "}:";
    RevocationStore other(redis_test::options(where, tagged));
    login(other, "bob", "sid", "r", at(400), at(0));
    REQUIRE(other.revoke_token("j", at(100), at(0)));
    REQUIRE(*other.use_proof("proof", at(100), at(0)));
    CHECK(redis.keys(tagged).size() == 4);  // f:{sid}, s:{bob}, t:j, p:proof
    std::set<std::string> slots;
    for (const auto& key : redis.keys(tagged)) slots.insert(hashed_part(key));
    CHECK(slots == std::set<std::string>{prefix});
    redis.delete_all(tagged);
  }
}

TEST_CASE("a session is one key whatever its id; its subject's index is one more", "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  RevocationStore store(redis_test::options(where, prefix));
  for (const std::string sid : {"abc", "a}b", "{x}", "s:1"}) {
    login(store, "alice", sid, "r1", at(100), at(0));
    REQUIRE(rotate(store, "alice", sid, "r1", "r2", at(100), at(0)) == RotationVerdict::rotated);
    REQUIRE(rotate(store, "alice", sid, "r2", "r3", at(100), at(0)) == RotationVerdict::rotated);
  }
  const auto keys = redis.keys(prefix);
  CHECK(keys.size() == 5);  // however often each rotated
  CHECK(key_set(redis, prefix).count(prefix + "s:{alice}") == 1);
  for (const std::string sid : {"abc", "a}b", "{x}", "s:1"}) {
    INFO(sid);
    CHECK(key_set(redis, prefix).count(prefix + "f:{" + sid + "}") == 1);
  }
  const auto listed = store.sessions("alice", at(1));
  REQUIRE(listed.has_value());
  CHECK(listed->size() == 4);
}

TEST_CASE("the subject index: a stale entry never shows a dead session nor hides a live one",
          "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  RevocationStore store(redis_test::options(where, prefix));
  const std::string index = prefix + "s:{alice}";
  login(store, "alice", "live", "r1", at(100), at(0));
  login(store, "alice", "stolen", "r1", at(100), at(1));
  login(store, "alice", "lost", "r1", at(100), at(2));
  // Theft ends "stolen" in its own key's script; its index entry stays (another slot).
  REQUIRE(rotate(store, "alice", "stolen", "forged", "x", at(100), at(3)) ==
          RotationVerdict::reused);
  // "lost" disappears behind the index's back (as after a flush of that key).
  redis({"DEL", prefix + "f:{lost}"});
  CHECK(redis({"HLEN", index})->integer == 5);  // 3 sessions, n, u

  const auto listed = store.sessions("alice", at(4));
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].session_id == "live");
  // Another subject's index cannot show alice's sessions, nor end them.
  CHECK(store.sessions("bob", at(4))->empty());
  CHECK_FALSE(*store.end_session("bob", "live", at(4), at(4)));
  CHECK(store.find_session("j", "live", "alice", at(4))->record.has_value());

  // A login beyond the bound drops the stale entries first and ends only what it must.
  auto evicted = store.create_session("alice", login_record("new", "r1", at(100), at(5)), 2, at(5));
  REQUIRE(evicted.has_value());
  CHECK(evicted->empty());  // "live" and "new" fit in 2 once the dead entries are gone
  CHECK(redis({"HLEN", index})->integer == 4);
  evicted = store.create_session("alice", login_record("newer", "r1", at(100), at(6)), 2, at(6));
  REQUIRE(evicted.has_value());
  CHECK(*evicted == std::vector<std::string>{"live"});
  const auto after = store.sessions("alice", at(6));
  REQUIRE(after.has_value());
  REQUIRE(after->size() == 2);
  CHECK((*after)[0].session_id == "newer");
  CHECK((*after)[1].session_id == "new");
}

TEST_CASE("after the TTLs pass no key remains but versions, then none", "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  auto options = redis_test::options(where, prefix);
  options.expiry_margin = 0s;
  RevocationStore store(options);
  // The manager's until values are relative to its now: here one second away (three for the
  // version), so the keys go after that much real time.
  const sys_seconds now = at(0);
  REQUIRE(store.revoke_token("j", now + 1s, now));
  REQUIRE(store.end_session("alice", "s", now + 1s, now));
  login(store, "bob", "s2", "r", now + 1s, now);
  REQUIRE(*store.use_proof("proof", now + 1s, now));
  const auto version = store.bump_version("alice", now + 3s, now);
  REQUIRE(version);
  CHECK(redis.keys(prefix).size() == 6);  // t:j, f:{s}, f:{s2}, s:{bob}, p:proof, v:alice

  const std::set<std::string> versions_only = {prefix + "v:alice"};
  REQUIRE(redis_test::eventually([&] { return key_set(redis, prefix) == versions_only; }));
  CHECK(min_version(store, "alice", now + 2s) == *version);
  REQUIRE(redis_test::eventually([&] { return redis.keys(prefix).empty(); }));
}

TEST_CASE("a used DPoP proof is one key, p:<key>, holding its until and expiring with it",
          "[redis][dpop]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  auto options = redis_test::options(where, prefix);
  options.expiry_margin = 0s;
  const RevocationStore store(options);
  const std::string key = "bBp2Yd-q5r1cG2Lx0n8Z7A";  // 22 characters, as the manager makes them
  const std::string name = prefix + "p:" + key;
  const std::string until = std::to_string(at(100).time_since_epoch().count());
  REQUIRE(*store.use_proof(key, at(100), at(0)));
  CHECK(key_set(redis, prefix) == std::set<std::string>{name});
  CHECK(redis_test::rd::text(redis({"GET", name}).get()) == until);
  CHECK(redis.pttl(name) > 90'000);
  CHECK(redis.pttl(name) <= 100'000);
  // A replay writes nothing: neither a later until nor a longer TTL.
  REQUIRE_FALSE(*store.use_proof(key, at(500), at(1)));
  CHECK(redis_test::rd::text(redis({"GET", name}).get()) == until);
  CHECK(redis.pttl(name) <= 100'000);
  // Small: a string whose value Redis keeps as an integer, no allocation of its own. With the
  // default prefix MEMORY USAGE says 88 bytes on Redis 7.0 (docs/redis.md); the test's prefix
  // is longer.
  CHECK(redis_test::rd::text(redis({"OBJECT", "ENCODING", name}).get()) == "int");
  const auto usage = redis({"MEMORY", "USAGE", name});
  REQUIRE(usage->type == REDIS_REPLY_INTEGER);
  CHECK(usage->integer <= 160);

  SECTION("the answer is the caller's now against the until, not whether the key exists") {
    // Past its until the key may still be there (the margin, a clock behind Redis's): it counts
    // as absent, and is recorded again.
    REQUIRE(redis.pttl(name) > 0);
    CHECK(*store.use_proof(key, at(200), at(100)));
    CHECK(redis_test::rd::text(redis({"GET", name}).get()) ==
          std::to_string(at(200).time_since_epoch().count()));
    CHECK_FALSE(*store.use_proof(key, at(200), at(150)));
  }
}

TEST_CASE("a bound session's key thumbprint is field j of its family, and goes with it",
          "[redis][dpop]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  RevocationStore store(redis_test::options(where, prefix));
  const std::string jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
  auto bound = login_record("bound", "r1", at(100), at(0));
  bound.jkt = jkt;
  REQUIRE(store.create_session("alice", bound, 100, at(0)));
  login(store, "alice", "plain", "r1", at(100), at(0));
  CHECK(redis_test::rd::text(redis({"HGET", prefix + "f:{bound}", "j"}).get()) == jkt);
  // An unbound session has no j at all, like every record written before j existed: both read
  // as unbound.
  CHECK(redis({"HEXISTS", prefix + "f:{plain}", "j"})->integer == 0);
  CHECK(store.find_session("x", "plain", "alice", at(1))->record->jkt.empty());
  CHECK(store.find_session("x", "bound", "alice", at(1))->record->jkt == jkt);
  // A rotation leaves it; the end of the session takes it (only the marker stays).
  REQUIRE(rotate(store, "alice", "bound", "r1", "r2", at(100), at(1)) == RotationVerdict::rotated);
  CHECK(redis_test::rd::text(redis({"HGET", prefix + "f:{bound}", "j"}).get()) == jkt);
  REQUIRE(*store.end_session("alice", "bound", at(50), at(2)));
  CHECK(redis({"HEXISTS", prefix + "f:{bound}", "j"})->integer == 0);
  CHECK(redis({"HEXISTS", prefix + "f:{bound}", "r"})->integer == 1);
}

TEST_CASE("a SessionManager on two servers sharing Redis: a DPoP proof is accepted once",
          "[redis][dpop][session]") {
  const auto where = redis_test::require_redis();
  const std::string prefix = redis_test::unique_prefix();
  const std::string api = "https://app.example/api";
  tegata::ManualClock clock{kStart};
  tegata_test::DpopClient client;
  Manager one(test_key(), session_options(), clock,
              RevocationStore(redis_test::options(where, prefix)));
  // The other server validates from its local cache; proofs still go to Redis.
  RevocationStore cached_store(cached(redis_test::options(where, prefix), 30s));
  redis_test::wait_until_fresh(cached_store);
  Manager two(test_key(), session_options(), clock, cached_store);

  const auto pair = tegata_test::bound_login(one, client, "alice", api);
  const std::string proof = client.proof("GET", api, clock.now(), pair.access_token);
  REQUIRE(two.validate(pair.access_token, proof, "GET", api));
  CHECK(cached_store.cache_fresh());
  CHECK(one.validate(pair.access_token, proof, "GET", api).error() == errc::dpop_replayed);
  CHECK(two.validate(pair.access_token, proof, "GET", api).error() == errc::dpop_replayed);
  CHECK(two.sessions("alice")->at(0).jkt == client.jkt());
  const std::string refresh = "https://app.example/refresh";
  CHECK(two.refresh(pair.refresh_token).error() == errc::dpop_required);
  const auto next =
      two.refresh(pair.refresh_token, client.proof("POST", refresh, clock.now()), "POST", refresh);
  REQUIRE(next);
  CHECK(one.validate(next->access_token, client.proof("GET", api, clock.now(), next->access_token),
                     "GET", api));
}

TEST_CASE("keys written by a SessionManager expire with its sessions", "[redis][session]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  auto options = redis_test::options(where, prefix);
  options.expiry_margin = 0s;
  auto session = session_options();
  session.access_ttl = 1s;
  session.refresh_ttl = 1s;
  session.absolute_ttl = 2s;
  tegata::ManualClock clock{kStart};
  Manager manager(test_key(), session, clock, RevocationStore(options));

  const auto first = manager.issue("alice");
  REQUIRE(first);
  const auto second = manager.refresh(first->refresh_token);
  REQUIRE(second);
  CHECK(manager.refresh(first->refresh_token).error() == errc::refresh_reused);
  const auto other = manager.issue("bob");
  REQUIRE(other);
  REQUIRE(manager.revoke(other->access_token));
  REQUIRE(manager.revoke_all("carol"));
  CHECK_FALSE(redis.keys(prefix).empty());
  // Everything concerns sessions that end 2 seconds after kStart, versions included.
  REQUIRE(redis_test::eventually([&] { return redis.keys(prefix).empty(); }));
}

TEST_CASE("a flushed script cache is refilled (NOSCRIPT)", "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  RevocationStore store(redis_test::options(where, redis_test::unique_prefix()));
  REQUIRE(store.revoke_token("j1", at(100), at(0)));
  redis({"SCRIPT", "FLUSH"});
  REQUIRE(store.revoke_token("j2", at(100), at(0)));
  REQUIRE(store.end_session("alice", "s", at(100), at(0)));
  redis({"SCRIPT", "FLUSH"});
  login(store, "bob", "s2", "r", at(100), at(0));
  redis({"SCRIPT", "FLUSH"});
  CHECK(rotate(store, "bob", "s2", "r", "r2", at(100), at(0)) == RotationVerdict::rotated);
  const auto version = store.bump_version("alice", at(100), at(0));
  REQUIRE(version.has_value());
  CHECK(*version == static_cast<std::uint64_t>(at(0).time_since_epoch().count()));
  CHECK(token_revoked(store, "j1", at(1)));
  CHECK(token_revoked(store, "j2", at(1)));
  CHECK(family_revoked(store, "s", at(1)));
}

TEST_CASE("connections killed by Redis are reopened", "[redis]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  auto options = redis_test::options(where, redis_test::unique_prefix());
  options.client_name = "tegata-kill-" + std::to_string(::getpid());
  RevocationStore store(options);
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  login(store, "alice", "s", "r1", at(100), at(0));

  auto kill_ours = [&] {
    const std::string list(redis_test::rd::text(redis({"CLIENT", "LIST"}).get()));
    int killed = 0;
    std::size_t line = 0;
    while (line < list.size()) {
      const auto end = list.find('\n', line);
      const std::string entry = list.substr(line, end - line);
      line = end == std::string::npos ? list.size() : end + 1;
      if (entry.find(" name=" + options.client_name + " ") == std::string::npos) continue;
      const auto id = entry.substr(3, entry.find(' ') - 3);  // "id=<n> ..."
      redis({"CLIENT", "KILL", "ID", id});
      ++killed;
    }
    return killed;
  };

  REQUIRE(kill_ours() >= 1);
  // Reads and revocations are retried once on a fresh connection.
  CHECK(token_revoked(store, "j", at(1)));
  REQUIRE(kill_ours() >= 1);
  CHECK(store.end_session("alice", "s9", at(100), at(1)));
  REQUIRE(kill_ours() >= 1);
  // rotate_session is never retried; a connection found closed before use is replaced, and
  // at worst the caller sees store_unavailable once (the rotation then did not happen).
  auto rotated = store.rotate_session("alice", "s", rotation("r1", "r2", at(100), at(1)));
  if (!rotated) {
    CHECK(rotated.error() == errc::store_unavailable);
    rotated = store.rotate_session("alice", "s", rotation("r1", "r2", at(100), at(1)));
  }
  REQUIRE(rotated.has_value());
  CHECK(rotated->verdict == RotationVerdict::rotated);
  CHECK(rotate(store, "alice", "s", "r1", "r3", at(100), at(1)) == RotationVerdict::reused);
}

TEST_CASE("a connection to a primary demoted by a failover is replaced (READONLY)",
          "[redis][restart]") {
  redis_test::require_redis();
  redis_test::server primary;
  redis_test::server other;
  primary.start();
  other.start();
  auto options = redis_test::options(primary.where(), redis_test::unique_prefix());
  options.client_name = "tegata-readonly-" + std::to_string(::getpid());
  options.pool_size = 1;
  RevocationStore store(options);
  redis_test::client admin(primary.where());
  auto our_connection = [&] {
    const std::string list(redis_test::rd::text(admin({"CLIENT", "LIST"}).get()));
    const auto at = list.find(" name=" + options.client_name + " ");
    REQUIRE(at != std::string::npos);
    const auto line = list.rfind('\n', at);
    const auto start = line == std::string::npos ? 0 : line + 1;
    return list.substr(start, list.find(' ', start) - start);  // "id=<n>"
  };
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  const std::string before = our_connection();

  admin({"REPLICAOF", "127.0.0.1", std::to_string(other.where().port)});
  CHECK(store.revoke_token("k", at(100), at(0)).error() == errc::store_unavailable);
  admin({"REPLICAOF", "NO", "ONE"});
  REQUIRE(store.revoke_token("k", at(100), at(0)));
  CHECK(token_revoked(store, "k", at(1)));
  CHECK(our_connection() != before);
}

TEST_CASE("Redis stopped and restarted: unavailable while down, never lets a revoked token through",
          "[redis][restart]") {
  redis_test::require_redis();
  const bool with_cache = GENERATE(false, true);
  redis_test::server server;
  server.start();
  auto options = redis_test::options(server.where(), redis_test::unique_prefix());
  options.connect_timeout = 200ms;
  options.command_timeout = 1000ms;
  if (with_cache) options = cached(options, 200ms);
  RevocationStore store(options);
  if (with_cache) redis_test::wait_until_fresh(store);
  tegata::ManualClock clock{kStart};
  Manager manager(test_key(), session_options(), clock, store);

  const auto revoked = manager.issue("alice");
  const auto kept = manager.issue("bob");
  REQUIRE(revoked);
  REQUIRE(kept);
  REQUIRE(manager.revoke(revoked->access_token));
  REQUIRE(manager.validate(revoked->access_token).error() == errc::session_revoked);
  REQUIRE(manager.validate(kept->access_token));

  // Throughout, another thread keeps presenting the revoked token.
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0}, unexpected{0}, checks{0};
  std::thread watcher([&] {
    while (!stop.load()) {
      const auto r = manager.validate(revoked->access_token);
      if (r) {
        ++accepted;
      } else if (r.error() != errc::session_revoked && r.error() != errc::store_unavailable) {
        ++unexpected;
      }
      ++checks;
      std::this_thread::sleep_for(1ms);
    }
  });

  server.stop();
  // Once the cache (if any) is past its staleness bound, nothing can be checked: fail closed.
  REQUIRE(redis_test::eventually(
      [&] { return manager.validate(kept->access_token).error() == errc::store_unavailable; }));
  CHECK_FALSE(store.cache_fresh());
  CHECK(manager.validate(revoked->access_token).error() == errc::store_unavailable);
  CHECK(manager.refresh(kept->refresh_token).error() == errc::store_unavailable);
  CHECK(manager.revoke_all("bob").error() == errc::store_unavailable);
  CHECK(manager.issue("carol").error() == errc::store_unavailable);
  CHECK(store.ping().error() == errc::store_unavailable);

  server.start();  // same port, same append-only file
  REQUIRE(redis_test::eventually([&] { return store.ping().has_value(); }));
  CHECK(manager.validate(revoked->access_token).error() == errc::session_revoked);
  CHECK(manager.validate(kept->access_token));
  const auto rotated = manager.refresh(kept->refresh_token);
  REQUIRE(rotated);
  CHECK(manager.validate(rotated->access_token));
  CHECK(manager.refresh(kept->refresh_token).error() == errc::refresh_reused);
  if (with_cache) {
    // The cache reloads from Redis after the restart, revocations included.
    redis_test::wait_until_fresh(store);
    CHECK(manager.validate(revoked->access_token).error() == errc::session_revoked);
    CHECK(manager.validate(rotated->access_token).error() == errc::session_revoked);
  }

  stop = true;
  watcher.join();
  CHECK(accepted == 0);
  CHECK(unexpected == 0);
  CHECK(checks > 0);
}

TEST_CASE("AUTH with requirepass and with an ACL user", "[redis]") {
  redis_test::require_redis();
  redis_test::server server({"--requirepass", "server-secret"});
  server.start();
  auto options = redis_test::options(server.where(), redis_test::unique_prefix());

  CHECK(RevocationStore(options).ping().error() == errc::store_unavailable);
  options.password = "wrong";
  CHECK(RevocationStore(options).ping().error() == errc::store_unavailable);
  options.password = "server-secret";
  RevocationStore store(options);
  REQUIRE(store.ping());
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  CHECK(token_revoked(store, "j", at(1)));

  redis_test::client admin(server.where(), "server-secret");
  admin({"ACL", "SETUSER", "tegata", "on", ">user-secret", "~*", "&*", "+@all"});
  options.username = "tegata";
  options.password = "user-secret";
  RevocationStore as_user(options);
  REQUIRE(as_user.ping());
  CHECK(token_revoked(as_user, "j", at(1)));
  options.password = "server-secret";
  CHECK(RevocationStore(options).ping().error() == errc::store_unavailable);
}

TEST_CASE("local cache: another server's writes arrive within the staleness bound",
          "[redis][cache]") {
  const auto where = redis_test::require_redis();
  const std::string prefix = redis_test::unique_prefix();
  constexpr auto staleness = 250ms;
  RevocationStore writer(redis_test::options(where, prefix));
  RevocationStore reader(cached(redis_test::options(where, prefix), staleness));
  redis_test::wait_until_fresh(reader);

  // After a write has returned and the bound has passed, the reader knows: from its cache if the
  // cache is fresh (then it has applied every write older than the bound), else from Redis.
  REQUIRE(writer.revoke_token("j", at(100), at(0)));
  std::this_thread::sleep_for(staleness);
  CHECK(token_revoked(reader, "j", at(1)));
  REQUIRE(writer.end_session("alice", "s", at(100), at(0)));
  std::this_thread::sleep_for(staleness);
  CHECK(family_revoked(reader, "s", at(1)));
  const auto version = writer.bump_version("alice", at(100), at(0));
  REQUIRE(version);
  std::this_thread::sleep_for(staleness);
  CHECK(min_version(reader, "alice", at(1)) == *version);
  CHECK_FALSE(token_revoked(reader, "j", at(100)));  // until still compared with the caller's now
}

TEST_CASE("local cache: loaded at start, kept current, answers without a round trip",
          "[redis][cache]") {
  const auto where = redis_test::require_redis();
  redis_test::client redis(where);
  const std::string prefix = redis_test::unique_prefix();
  RevocationStore writer(redis_test::options(where, prefix));
  REQUIRE(writer.revoke_token("old-jti", at(100), at(0)));
  REQUIRE(writer.end_session("alice", "old-sid", at(100), at(0)));
  const auto version = writer.bump_version("alice", at(100), at(0));
  REQUIRE(version);
  login(writer, "bob", "sid", "r", at(100), at(0));

  RevocationStore reader(cached(redis_test::options(where, prefix), 30s));
  redis_test::wait_until_fresh(reader);
  REQUIRE(writer.revoke_token("new-jti", at(100), at(0)));
  REQUIRE(redis_test::eventually([&] { return token_revoked(reader, "new-jti", at(1)); }));

  // With the keys gone from Redis, only a cache can still know these facts.
  redis.delete_all(prefix);
  CHECK_FALSE(token_revoked(writer, "old-jti", at(1)));
  REQUIRE(reader.cache_fresh());
  CHECK(token_revoked(reader, "old-jti", at(1)));
  CHECK(token_revoked(reader, "new-jti", at(1)));
  CHECK(family_revoked(reader, "old-sid", at(1)));
  CHECK(min_version(reader, "alice", at(1)) == *version);
  CHECK_FALSE(family_revoked(reader, "sid", at(1)));  // a live session is not revoked
  CHECK_FALSE(token_revoked(reader, "old-jti", at(100)));
}

TEST_CASE("local cache: a stalled Redis makes the cache step aside", "[redis][cache]") {
  redis_test::require_redis();
  redis_test::server server({"--enable-debug-command", "yes"});
  server.start();
  RevocationStore store(
      cached(redis_test::options(server.where(), redis_test::unique_prefix()), 200ms));
  redis_test::wait_until_fresh(store);
  REQUIRE(store.end_session("alice", "s", at(100), at(0)));

  // Redis answers nothing for two seconds: no PING is answered, so within max_staleness the
  // cache no longer counts as fresh, and status() waits for Redis instead.
  std::thread stall([&] {
    redis_test::client admin(server.where());
    admin({"DEBUG", "SLEEP", "2"});
  });
  CHECK(redis_test::eventually([&] { return !store.cache_fresh(); }));
  stall.join();
  CHECK(family_revoked(store, "s", at(1)));
  redis_test::wait_until_fresh(store);
  CHECK(family_revoked(store, "s", at(1)));
}

TEST_CASE("local cache: a full cache hands over to Redis", "[redis][cache]") {
  const auto where = redis_test::require_redis();
  auto options = cached(redis_test::options(where, redis_test::unique_prefix()), 30s);
  options.local_cache.max_entries = 2;
  RevocationStore store(options);
  redis_test::wait_until_fresh(store);
  REQUIRE(store.revoke_token("a", at(100), at(0)));
  REQUIRE(store.revoke_token("b", at(100), at(0)));
  CHECK(store.cache_fresh());
  REQUIRE(store.revoke_token("c", at(100), at(0)));  // does not fit
  CHECK_FALSE(store.cache_fresh());
  CHECK(token_revoked(store, "a", at(1)));
  CHECK(token_revoked(store, "b", at(1)));
  CHECK(token_revoked(store, "c", at(1)));
  CHECK_FALSE(token_revoked(store, "d", at(1)));
}

// Issue 12, item 4: status() checked freshness, then read the mirror. A reload in between (the
// subscription broke: the cache thread marks itself stale, clears the mirror, reloads) left it
// reading an empty or half-loaded mirror and answering "not revoked", even with Redis down.
TEST_CASE("local cache: a reload between the freshness check and the lookup is not trusted",
          "[redis][cache]") {
  redis_test::require_redis();
  const bool redis_down = GENERATE(false, true);
  reload_race race;  // before the store: see reload_race
  redis_test::server server;
  server.start();
  auto options = cached(redis_test::options(server.where(), redis_test::unique_prefix()), 30s);
  options.connect_timeout = 200ms;
  RevocationStore store(options);
  redis_test::wait_until_fresh(store);
  REQUIRE(store.revoke_token("j", at(100), at(0)));
  REQUIRE(store.cache_fresh());
  REQUIRE(token_revoked(store, "j", at(1)));  // from the cache

  // The only subscriber on this server is our cache, so killing every pubsub client is precise.
  redis_test::client admin(server.where());
  race.arm([&] {
    if (redis_down) {
      server.stop();
    } else {
      const auto killed = admin({"CLIENT", "KILL", "TYPE", "pubsub"});
      if (killed->type != REDIS_REPLY_INTEGER || killed->integer != 1) throw std::logic_error("");
    }
  });
  const auto status = store.status("j", "no-such-sid", "no-such-subject", at(1));
  race.release();
  REQUIRE(race.happened());
  if (redis_down) {
    // Nothing can be checked: fail closed, never "not revoked".
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error() == errc::store_unavailable);
  } else {
    // The cache stepped aside and Redis answered.
    REQUIRE(status.has_value());
    CHECK(status->token_revoked);
    redis_test::wait_until_fresh(store);  // reloaded, revocation included
    CHECK(token_revoked(store, "j", at(1)));
    CHECK_FALSE(token_revoked(store, "k", at(1)));
  }
}

TEST_CASE("SessionManager on Redis: rotation, reuse, logout, log out everywhere",
          "[redis][session]") {
  const auto where = redis_test::require_redis();
  const bool with_cache = GENERATE(false, true);
  auto options = redis_test::options(where, redis_test::unique_prefix());
  if (with_cache) options = cached(options, 30s);
  RevocationStore store(options);
  if (with_cache) redis_test::wait_until_fresh(store);
  tegata::ManualClock clock{kStart};
  Manager manager(test_key(), session_options(), clock, store);

  const auto first = manager.issue("alice");
  REQUIRE(first);
  REQUIRE(manager.validate(first->access_token));
  clock.advance(16min);
  const auto second = manager.refresh(first->refresh_token);
  REQUIRE(second);
  CHECK(second->session_id == first->session_id);
  CHECK(manager.validate(second->access_token));
  clock.advance(1min);
  CHECK(manager.refresh(first->refresh_token).error() == errc::refresh_reused);
  CHECK(manager.validate(second->access_token).error() == errc::session_revoked);
  CHECK(manager.refresh(second->refresh_token).error() == errc::session_revoked);

  const auto other = manager.issue("alice");
  REQUIRE(other);
  REQUIRE(manager.revoke(other->refresh_token));
  CHECK(manager.validate(other->access_token).error() == errc::session_revoked);

  const auto before = manager.issue("alice");
  REQUIRE(before);
  REQUIRE(manager.revoke_all("alice"));
  CHECK(manager.validate(before->access_token).error() == errc::version_mismatch);
  CHECK(manager.refresh(before->refresh_token).error() == errc::version_mismatch);
  const auto after = manager.issue("alice");  // same second as the bump
  REQUIRE(after);
  CHECK(manager.validate(after->access_token));
  // The bump ended the sessions before it, not the login after it.
  const auto listed = manager.sessions("alice");
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].session_id == after->session_id);

  SECTION("eight concurrent refreshes of one token: exactly one wins") {
    const auto pair = manager.issue("bob");
    REQUIRE(pair);
    std::atomic<int> successes{0}, reused{0}, revoked{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        const auto r = manager.refresh(pair->refresh_token);
        if (r) {
          ++successes;
        } else if (r.error() == errc::refresh_reused) {
          ++reused;
        } else if (r.error() == errc::session_revoked) {
          ++revoked;
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    CHECK(successes == 1);
    CHECK(reused + revoked == 7);
    CHECK(reused >= 1);
    CHECK(manager.validate(pair->access_token).error() == errc::session_revoked);
  }
}
