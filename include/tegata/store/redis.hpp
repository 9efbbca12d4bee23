// tegata/store/redis.hpp - tegata::redis::RevocationStore: one session state shared by every
// server, kept in Redis. Optional: it needs hiredis and the CMake target tegata::redis; the rest
// of tegata never includes it. docs/redis.md covers deployment (one Redis, replicas, Cluster),
// what happens when Redis is down, and the local cache.
//
// Semantics. Exactly those of MemoryRevocationStore (the same behavioural tests run against
// both): a fact counts while until > now, with the caller's now; revocations extend and never
// shorten; versions are seconds since the epoch of the latest bump, strictly increasing; a
// refresh token is consumed once, with the grace rule "the family's most recently consumed jti,
// again within grace of its first use". The store never reads a clock.
//
// Atomicity. Every write is one Lua script (EVALSHA, EVAL on NOSCRIPT), atomic on the server and
// one round trip; consume_refresh decides first use, grace and reuse inside its script, so two
// servers can never both see a first use. status() reads three keys in one pipelined round trip;
// like the memory store's, it is not a snapshot across the three, and need not be: each fact only
// ever grows while it lasts.
//
// Lifetime of keys. Every key expires (PEXPIRE) when the fact it holds no longer matters, plus
// Options::expiry_margin; version keys too, which the RevocationStore concept allows because
// versions are timestamps (see scripts.hpp for the key layout).
//
// Failure. Fails closed: when Redis cannot be reached, times out, or answers something
// unexpected, every operation returns errc::store_unavailable, and the SessionManager then refuses
// the token. status() never throws. Connections are pooled, reopened after errors, and calls fail
// fast for reconnect_delay after a failed connection attempt. status, revoke_token, revoke_family
// and bump_version are retried once when a pooled connection turns out to be dead (they can safely
// run twice); consume_refresh never is, since a lost reply may mean the use was recorded.
//
// Threads and copies. Thread-safe. A copyable handle: copies share the pool (and the local cache
// with its background thread), which stop when the last copy goes.
//
// Signals. hiredis writes with write(2); each exchange blocks SIGPIPE in the calling thread and
// swallows one raised meanwhile, so a connection closed by Redis never kills the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/error.hpp"
#include "tegata/store/redis/cache.hpp"
#include "tegata/store/redis/connection.hpp"
#include "tegata/store/redis/options.hpp"
#include "tegata/store/redis/scripts.hpp"
#include "tegata/store/revocation_store.hpp"

namespace tegata::redis {

class RevocationStore {
 public:
  using Options = redis::Options;

  // Throws std::invalid_argument when the options are unusable (see options.hpp). Does not
  // connect: the first call does.
  explicit RevocationStore(const Options& options) : state_(std::make_shared<state>(options)) {}

  RevocationStore(const RevocationStore&) = default;
  RevocationStore& operator=(const RevocationStore&) = default;
  ~RevocationStore() = default;

  // The validate path: from the local cache when it is enabled and provably fresh, otherwise one
  // pipelined round trip. Never throws; errc::store_unavailable when Redis cannot answer.
  Result<TokenStatus> status(std::string_view jti, std::string_view sid, std::string_view subject,
                             std::chrono::sys_seconds now) const noexcept {
    if (state_->cache) {
      state_->cache->observe(now);
      if (auto cached = state_->cache->status(jti, sid, subject, now)) return *cached;
    }
    return state_->run<TokenStatus>(/*retry=*/true, [&](redisContext* c) {
      const detail::command reads[] = {{"GET", state_->keys.token(jti)},
                                       {"HGET", state_->keys.family(sid), "r"},
                                       {"HMGET", state_->keys.version(subject), "v", "u"}};
      detail::reply_ptr replies[3];
      std::optional<Result<TokenStatus>> result;
      if (detail::exchange(c, reads, replies)) result = read_status(replies, now);
      return result;
    });
  }

  // Refuses the jti until `until`; extends, never shortens. until <= now stores nothing.
  Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                            std::chrono::sys_seconds now) {
    if (until <= now) return {};
    auto revoked =
        state_->write(detail::revoke_token_script(), state_->keys.token(jti), jti, until, now);
    if (!revoked) return revoked.error();
    if (state_->cache) state_->cache->revoke_token(jti, seconds(*revoked));
    return {};
  }

  // Refuses every token of the family until `until`; extends like revoke_token.
  Result<void> revoke_family(std::string_view sid, std::chrono::sys_seconds until,
                             std::chrono::sys_seconds now) {
    if (until <= now) return {};
    auto revoked =
        state_->write(detail::revoke_family_script(), state_->keys.family(sid), sid, until, now);
    if (!revoked) return revoked.error();
    if (state_->cache) state_->cache->revoke_family(sid, seconds(*revoked));
    return {};
  }

  // The new version: max(previous + 1, now), kept until max(until, version + 1).
  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now) {
    struct bumped {
      std::uint64_t version;
      std::int64_t until;
    };
    auto result = state_->run<bumped>(/*retry=*/true, [&](redisContext* c) {
      const auto reply =
          detail::eval(c, detail::bump_version_script(), {state_->keys.version(subject)},
                       {detail::time_arg(until), detail::time_arg(now), state_->margin_ms,
                        state_->keys.channel(), subject});
      std::optional<Result<bumped>> r;
      if (!reply) return r;
      r = Result<bumped>(errc::store_unavailable);
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return r;
      const auto v = detail::parse_integer<std::uint64_t>(detail::text(reply->element[0]));
      const auto u = detail::parse_integer<std::int64_t>(detail::text(reply->element[1]));
      if (v && u) r = bumped{*v, *u};
      return r;
    });
    if (!result) return result.error();
    if (state_->cache)
      state_->cache->raise_version(subject, result->version, seconds(result->until));
    return result->version;
  }

  // Records one use of refresh token `jti` of family `sid`, remembered until `until`. First use,
  // reuse within grace (the family's latest consumed token, now <= its first use + grace), or
  // reuse. until <= now is errc::invalid_argument, as in MemoryRevocationStore. Never retried.
  Result<RefreshUse> consume_refresh(std::string_view sid, std::string_view jti,
                                     std::chrono::sys_seconds until, std::chrono::sys_seconds now,
                                     std::chrono::seconds grace) {
    if (until <= now) return errc::invalid_argument;
    const std::string grace_arg = std::to_string(grace.count());
    return state_->run<RefreshUse>(/*retry=*/false, [&](redisContext* c) {
      const auto reply = detail::eval(
          c, detail::consume_refresh_script(),
          {state_->keys.family(sid), state_->keys.use(sid, jti)},
          {detail::time_arg(until), detail::time_arg(now), state_->margin_ms, jti, grace_arg});
      std::optional<Result<RefreshUse>> r;
      if (!reply) return r;
      r = Result<RefreshUse>(errc::store_unavailable);
      if (reply->type != REDIS_REPLY_INTEGER) return r;
      if (reply->integer == 0) r = RefreshUse::first;
      if (reply->integer == 1) r = RefreshUse::within_grace;
      if (reply->integer == 2) r = RefreshUse::reused;
      return r;
    });
  }

  // One PING through the pool: for health checks, and to find a wrong address or password at
  // startup rather than on the first request. not_supported when the server was refused for its
  // maxmemory-policy (Options::allow_eviction): a configuration to fix, not an outage to wait out.
  Result<void> ping() const noexcept {
    auto pong = state_->run<bool>(/*retry=*/true, [](redisContext* c) {
      const auto reply = detail::run(c, {"PING"});
      std::optional<Result<bool>> r;
      if (reply)
        r = detail::text(reply.get()) == "PONG" ? Result<bool>(true) : errc::store_unavailable;
      return r;
    });
    if (!pong) return state_->endpoint->refused_eviction() ? errc::not_supported : pong.error();
    return {};
  }

  // Whether status() currently answers from the local cache (false when it is disabled). For
  // health checks, metrics and tests.
  bool cache_fresh() const noexcept { return state_->cache && state_->cache->fresh(); }

  const std::string& prefix() const noexcept { return state_->keys.prefix(); }

 private:
  struct state {
    explicit state(const Options& o)
        : keys(validated(o).prefix),
          endpoint(std::make_shared<const detail::endpoint>(o)),
          pool(endpoint, o.pool_size, o.reconnect_delay),
          margin_ms(std::to_string(std::chrono::milliseconds(o.expiry_margin).count())),
          cache(o.local_cache.enabled ? std::make_unique<detail::cache>(
                                            endpoint, keys, o.local_cache, o.reconnect_delay)
                                      : nullptr) {}

    // Runs op(connection) -> std::optional<Result<T>>, where an empty optional means the
    // connection failed. With retry, a failure on a connection taken from the pool (which may
    // have died while idle) is tried once more on a fresh one.
    template <class T, class Op>
    Result<T> run(bool retry, Op op) noexcept {
      try {
        for (int attempt = 0; attempt < 2; ++attempt) {
          auto lease = pool.acquire();
          if (!lease) return errc::store_unavailable;
          redisContext* c = lease->get();
          if (c == nullptr) return errc::store_unavailable;
          const bool reused = !lease->opened();
          std::optional<Result<T>> result = op(c);
          if (result) return std::move(*result);
          lease->discard();
          if (!retry || !reused) break;
        }
      } catch (...) {  // std::bad_alloc, a failed lock
      }
      return errc::store_unavailable;
    }

    // revoke_token and revoke_family: one script over one key; returns the until in force.
    Result<std::int64_t> write(const detail::script& s, const std::string& key, std::string_view id,
                               std::chrono::sys_seconds until,
                               std::chrono::sys_seconds now) noexcept {
      return run<std::int64_t>(/*retry=*/true, [&](redisContext* c) {
        const auto reply = detail::eval(
            c, s, {key},
            {detail::time_arg(until), detail::time_arg(now), margin_ms, keys.channel(), id});
        std::optional<Result<std::int64_t>> r;
        if (!reply) return r;
        const auto u = detail::parse_integer<std::int64_t>(detail::text(reply.get()));
        r = u ? Result<std::int64_t>(*u) : Result<std::int64_t>(errc::store_unavailable);
        return r;
      });
    }

    detail::keyspace keys;
    std::shared_ptr<const detail::endpoint> endpoint;
    detail::pool pool;
    std::string margin_ms;
    std::unique_ptr<detail::cache> cache;  // last: its thread stops before the rest goes
  };

  static const Options& validated(const Options& o) {
    auto refuse = [](const char* why) {
      throw std::invalid_argument(std::string("tegata: redis::RevocationStore ") + why);
    };
    using std::chrono::milliseconds;
    if (o.unix_socket.empty()) {
      if (o.host.empty()) refuse("needs a host (or a unix_socket)");
      if (o.port < 1 || o.port > 65535) refuse("port must be 1..65535");
    }
    if (!o.username.empty() && o.password.empty()) refuse("username needs a password");
    if (o.pool_size < 1 || o.pool_size > 1024) refuse("pool_size must be 1..1024");
    if (o.connect_timeout <= milliseconds{0}) refuse("connect_timeout must be positive");
    if (o.command_timeout <= milliseconds{0}) refuse("command_timeout must be positive");
    if (o.reconnect_delay < milliseconds{0}) refuse("reconnect_delay must not be negative");
    if (o.expiry_margin < std::chrono::seconds{0} || o.expiry_margin > std::chrono::hours{24}) {
      refuse("expiry_margin must be 0..24 hours");
    }
    if (o.local_cache.enabled) {
      if (o.local_cache.max_staleness <= milliseconds{0}) {
        refuse("local_cache.max_staleness must be positive");
      }
      if (o.local_cache.max_entries < 1) refuse("local_cache.max_entries must be positive");
    }
    return o;
  }

  // Reads the replies of GET token, HGET family r, HMGET version v u.
  static Result<TokenStatus> read_status(const detail::reply_ptr (&replies)[3],
                                         std::chrono::sys_seconds now) noexcept {
    const std::int64_t now_s = detail::clamped(now);
    // A nil is "absent"; anything but nil or an integer means the store is not what we wrote.
    auto until = [](const redisReply* r) -> std::optional<std::optional<std::int64_t>> {
      if (r->type == REDIS_REPLY_NIL) return std::optional<std::int64_t>{};
      if (r->type != REDIS_REPLY_STRING) return std::nullopt;
      const auto value = detail::parse_integer<std::int64_t>(detail::text(r));
      if (!value) return std::nullopt;
      return value;
    };
    const auto token = until(replies[0].get());
    const auto family = until(replies[1].get());
    const redisReply* version = replies[2].get();
    if (!token || !family || version->type != REDIS_REPLY_ARRAY || version->elements != 2) {
      return errc::store_unavailable;
    }
    TokenStatus s;
    s.token_revoked = token->has_value() && **token > now_s;
    s.family_revoked = family->has_value() && **family > now_s;
    const auto version_until = until(version->element[1]);
    if (!version_until) return errc::store_unavailable;
    if (version_until->has_value() && **version_until > now_s) {
      const auto v = detail::parse_integer<std::uint64_t>(detail::text(version->element[0]));
      if (!v) return errc::store_unavailable;
      s.min_version = *v;
    }
    return s;
  }

  static std::chrono::sys_seconds seconds(std::int64_t s) noexcept {
    return std::chrono::sys_seconds{std::chrono::seconds{s}};
  }

  std::shared_ptr<state> state_;
};

static_assert(tegata::RevocationStore<RevocationStore>);

}  // namespace tegata::redis
