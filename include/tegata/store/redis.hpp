// tegata/store/redis.hpp - tegata::redis::RevocationStore: one session state shared by every
// server, kept in Redis. Optional: it needs hiredis and the CMake target tegata::redis; the rest
// of tegata never includes it. docs/redis.md covers deployment (one Redis, replicas, Cluster),
// what happens when Redis is down, and the local cache.
//
// Semantics. Those of MemoryRevocationStore (the same behavioural tests run against both): a
// fact counts while until > now, with the caller's now; revocations extend and never shorten;
// versions are seconds since the epoch of the latest bump, strictly increasing; one record per
// live session, changed in place by the refresh compare-and-set. One difference: an ended
// family is refused by its session id whoever asks (sids are random and never reused), where the
// memory store keys its markers by subject and sid.
//
// Atomicity. Every write to a session is one Lua script over its one key (EVALSHA, EVAL on
// NOSCRIPT), atomic on the server: rotate_session decides rotation, grace and theft inside its
// script, so two servers can never both rotate one token. The subject's index is a second key
// (scripts.hpp): create_session, rotate_session and end_session send the index's command in the
// same pipelined round trip; sessions() reads the index, then the records (two round trips);
// bump_version bumps and reads the index, then ends the older records (two); a login beyond
// max_sessions takes two more to end the least recently used. use_proof is one script over one
// key of its own (p:). status() reads three keys in one
// pipelined round trip; like the memory store's, it is not a snapshot across the three, and need
// not be: each fact only ever grows while it lasts.
//
// Lifetime of keys. Every key expires (PEXPIRE) when the fact it holds no longer matters, plus
// Options::expiry_margin; version keys too, which the RevocationStore concept allows because
// versions are timestamps (see scripts.hpp for the key layout).
//
// Failure. Fails closed: when Redis cannot be reached, times out, or answers something
// unexpected, every operation returns errc::store_unavailable, and the SessionManager then refuses
// the token. status() never throws. Connections are pooled, reopened after errors, and calls fail
// fast for reconnect_delay after a failed connection attempt. Reads, revoke_token, end_session and
// bump_version are retried once when a pooled connection turns out to be dead (they can safely
// run twice); create_session, rotate_session and use_proof never are, since a lost reply may mean
// the write happened (a retried rotation would look like theft, a retried proof like a replay).
//
// Threads and copies. Thread-safe. A copyable handle: copies share the pool (and the local cache
// with its background thread), which stop when the last copy goes.
//
// Signals. hiredis writes with write(2); each exchange blocks SIGPIPE in the calling thread and
// swallows one raised meanwhile, so a connection closed by Redis never kills the process.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/error.hpp"
#include "tegata/store/redis/cache.hpp"
#include "tegata/store/redis/connection.hpp"
#include "tegata/store/redis/options.hpp"
#include "tegata/store/redis/scripts.hpp"
#include "tegata/store/redis/sentinel_watch.hpp"
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
      if (detail::exchange(c, reads, replies)) {
        result = read_status(replies[0].get(), replies[1].get(), replies[2].get(), now);
      }
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

  // DPoP proofs are single-use (the ProofReplayCache concept): true when key was not recorded and
  // now is, until `until`; false, changing nothing, when it is recorded with until > now. One
  // script on P p:<key> (scripts.hpp), atomic on the server, so of two servers checking one proof
  // exactly one answers true. A replay record is as security-relevant as a revocation: with
  // Options::acknowledged_replicas it is acknowledged like one, since a failover that lost it
  // would accept the proof again. Never retried (a lost reply may mean the key was recorded, and
  // the retry would call the proof's first use a replay) and never answered by the local cache.
  // until <= now: true, nothing stored (the proof is outside its window anyway); an empty key or
  // one over 128 bytes: errc::invalid_argument.
  Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
                         std::chrono::sys_seconds now) const noexcept {
    if (key.empty() || key.size() > kMaxProofKey) return errc::invalid_argument;
    if (until <= now) return true;
    return state_->run_acknowledged<bool>(/*retry=*/false, [&](redisContext* c) {
      const auto reply =
          detail::eval(c, detail::use_proof_script(), {state_->keys.proof(key)},
                       {detail::time_arg(until), detail::time_arg(now), state_->margin_ms});
      std::optional<Result<bool>> r;
      if (!reply) return r;
      if (reply->type == REDIS_REPLY_INTEGER && (reply->integer == 0 || reply->integer == 1)) {
        r = reply->integer == 1;
      } else {
        r = errc::store_unavailable;  // an error reply (OOM, NOPERM) or one we did not write
      }
      return r;
    });
  }

  // The refresh path's read, one pipelined round trip (never from the local cache: the record is
  // needed).
  Result<SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                     std::string_view subject,
                                     std::chrono::sys_seconds now) const noexcept {
    return state_->run<SessionLookup>(/*retry=*/true, [&](redisContext* c) {
      const detail::command reads[] = {{"GET", state_->keys.token(jti)},
                                       record_read(state_->keys.family(sid), true),
                                       {"HMGET", state_->keys.version(subject), "v", "u"}};
      detail::reply_ptr replies[3];
      std::optional<Result<SessionLookup>> result;
      if (!detail::exchange(c, reads, replies)) return result;
      result = Result<SessionLookup>(errc::store_unavailable);
      if (replies[1]->type != REDIS_REPLY_ARRAY || replies[1]->elements != kRecordFields + 1) {
        return result;
      }
      auto status =
          read_status(replies[0].get(), replies[1]->element[kRecordFields], replies[2].get(), now);
      if (!status) return result;
      SessionLookup lookup{*status, {}};
      auto record = read_record(*replies[1], subject, sid, now);
      if (!record) return result;
      if (!status->family_revoked) lookup.record = std::move(*record);
      result = std::move(lookup);
      return result;
    });
  }

  // Stores the record of a new session of subject (see MemoryRevocationStore::create_session);
  // beyond max_sessions live sessions the least recently used ones end. Never retried.
  Result<std::vector<std::string>> create_session(std::string_view subject,
                                                  const SessionRecord& record,
                                                  std::size_t max_sessions,
                                                  std::chrono::sys_seconds now) {
    if (!acceptable_new_session(record, max_sessions, now)) return errc::invalid_argument;
    using detail::time_arg;
    const std::string family = state_->keys.family(record.session_id);
    const std::string index = state_->keys.index(subject);
    const std::string max = std::to_string(max_sessions);
    using listing = std::vector<std::pair<std::int64_t, std::string>>;
    auto crowded = state_->run_acknowledged<listing>(/*retry=*/false, [&](redisContext* c) {
      const detail::script_call calls[] = {
          {&detail::create_session_script(),
           {family},
           {time_arg(now), state_->margin_ms, subject, record.refresh_id,
            time_arg(record.auth_time), time_arg(record.last_refresh), time_arg(record.expires_at),
            time_arg(record.absolute_end), std::to_string(record.refresh_ttl.count()),
            time_arg(record.access_until), time_arg(record.until), record.persistent ? "1" : "0",
            record.metadata, std::to_string(record.version), record.jkt}},
          {&detail::index_session_script(),
           {index},
           {record.session_id, time_arg(record.until), time_arg(now), state_->margin_ms, max,
            "1"}}};
      detail::reply_ptr replies[2];
      std::optional<Result<listing>> r;
      if (!detail::eval_all(c, calls, replies)) return r;
      r = Result<listing>(errc::store_unavailable);
      if (replies[0]->type != REDIS_REPLY_INTEGER || replies[1]->type != REDIS_REPLY_ARRAY) {
        return r;
      }
      if (replies[0]->integer != 1) {
        r = Result<listing>(errc::invalid_argument);  // a session id already known
        return r;
      }
      r = read_index(*replies[1]);  // the index, when the subject is beyond its bound
      return r;
    });
    if (!crowded) return crowded.error();
    if (crowded->empty()) return std::vector<std::string>{};
    try {
      return evict(subject, record.session_id, std::move(*crowded), max_sessions, now);
    } catch (...) {  // std::bad_alloc
      return errc::store_unavailable;
    }
  }

  // The refresh compare-and-set (RotationVerdict), and the index's recency, in one round trip.
  // Never retried: a lost reply may mean the rotation happened.
  Result<Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                  const RotationRequest& request) {
    using detail::time_arg;
    const std::string grace = std::to_string(request.grace.count());
    std::int64_t kept = 0;
    auto rotation = state_->run_acknowledged<Rotation>(/*retry=*/false, [&](redisContext* c) {
      const detail::script_call calls[] = {
          {&detail::rotate_session_script(),
           {state_->keys.family(sid)},
           {subject, request.presented, request.next, time_arg(request.now), grace,
            time_arg(request.expires_at), time_arg(request.access_until), time_arg(request.until),
            state_->margin_ms, state_->keys.channel(), sid}},
          {&detail::index_session_script(),
           {state_->keys.index(subject)},
           {sid, time_arg(request.until), time_arg(request.now), state_->margin_ms,
            std::to_string(std::numeric_limits<std::int64_t>::max()), "0"}}};
      detail::reply_ptr replies[2];
      std::optional<Result<Rotation>> r;
      if (!detail::eval_all(c, calls, replies)) return r;
      r = errc::store_unavailable;
      const redisReply* reply = replies[0].get();
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
          reply->element[0]->type != REDIS_REPLY_INTEGER) {
        return r;
      }
      const long long verdict = reply->element[0]->integer;
      if (verdict == 3) {
        r = Rotation{};
      } else if (verdict == 2 && reply->elements == 2) {
        const auto until = detail::parse_integer<std::int64_t>(detail::text(reply->element[1]));
        if (!until) return r;
        kept = *until;
        r = Rotation{RotationVerdict::reused, {}, {}};
      } else if ((verdict == 0 || verdict == 1) && reply->elements == 3) {
        const auto expires = detail::parse_integer<std::int64_t>(detail::text(reply->element[2]));
        if (!expires) return r;
        r = Rotation{verdict == 0 ? RotationVerdict::rotated : RotationVerdict::within_grace,
                     std::string(detail::text(reply->element[1])), seconds(*expires)};
      }
      return r;
    });
    if (rotation && kept > 0 && state_->cache) state_->cache->revoke_family(sid, seconds(kept));
    return rotation;
  }

  // Ends the session (see the RevocationStore concept) and drops it from the caller's index, in
  // one round trip.
  Result<bool> end_session(std::string_view subject, std::string_view sid,
                           std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
    using detail::time_arg;
    std::int64_t revoked = 0;
    auto ended = state_->run_acknowledged<bool>(/*retry=*/true, [&](redisContext* c) {
      const detail::script_call calls[] = {{&detail::end_session_script(),
                                            {state_->keys.family(sid)},
                                            {subject, time_arg(until), time_arg(now),
                                             state_->margin_ms, state_->keys.channel(), sid}}};
      const std::string field = "s" + std::string(sid);
      const detail::command drop{"HDEL", state_->keys.index(subject), field};
      detail::reply_ptr replies[2];
      std::optional<Result<bool>> r;
      if (!detail::eval_all(c, calls, replies, std::span(&drop, 1))) return r;
      r = errc::store_unavailable;
      const redisReply* reply = replies[0].get();
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_INTEGER) {
        return r;
      }
      const auto kept = reply->element[1]->type == REDIS_REPLY_INTEGER
                            ? std::optional<std::int64_t>(reply->element[1]->integer)
                            : detail::parse_integer<std::int64_t>(detail::text(reply->element[1]));
      if (!kept) return r;
      revoked = *kept;
      r = reply->element[0]->integer == 1;
      return r;
    });
    if (ended && revoked > 0 && state_->cache) state_->cache->revoke_family(sid, seconds(revoked));
    return ended;
  }

  // The subject's live sessions, most recently used first: the index, then the records (which
  // decide: an index entry without a live record of this subject is left out).
  Result<std::vector<SessionRecord>> sessions(std::string_view subject,
                                              std::chrono::sys_seconds now) const noexcept {
    auto listed = index_of(subject);
    if (!listed) return listed.error();
    auto records = read_records(subject, *listed, now);
    if (!records) return records.error();
    std::vector<std::pair<std::int64_t, SessionRecord>> live;
    try {
      for (std::size_t i = 0; i < listed->size(); ++i) {
        if ((*records)[i]) live.emplace_back((*listed)[i].first, std::move(*(*records)[i]));
      }
      std::sort(live.begin(), live.end(),
                [](const auto& a, const auto& b) { return a.first > b.first; });
      std::vector<SessionRecord> out;
      out.reserve(live.size());
      for (auto& item : live) out.push_back(std::move(item.second));
      return out;
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  // The new version: max(previous + 1, now), kept until max(until, version + 1).
  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now) {
    struct bumped {
      std::uint64_t version;
      std::int64_t until;
    };
    auto result = state_->run_acknowledged<bumped>(/*retry=*/true, [&](redisContext* c) {
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
    // Every record of the subject older than the new version goes (their tokens are void; a
    // login that read the new version keeps its record). The index comes first: a session it
    // does not list yet was created after the bump.
    auto index = index_of(subject);
    if (!index) return index.error();
    if (index->empty()) return result->version;
    auto erased = state_->run<bool>(/*retry=*/true, [&](redisContext* c) {
      std::vector<detail::script_call> calls;
      const std::string version = std::to_string(result->version);
      const std::string now_arg = detail::time_arg(now);
      for (const auto& [recency, sid] : *index) {
        calls.push_back({&detail::erase_older_session_script(),
                         {state_->keys.family(sid)},
                         {subject, version, now_arg}});
      }
      std::vector<detail::reply_ptr> replies(calls.size());
      std::optional<Result<bool>> r;
      if (detail::eval_all(c, calls, replies)) r = true;
      return r;
    });
    if (!erased) return erased.error();
    return result->version;
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
          replicas(o.acknowledged_replicas),
          replicas_arg(std::to_string(o.acknowledged_replicas)),
          acknowledge_timeout(o.acknowledge_timeout),
          acknowledge_timeout_arg(std::to_string(o.acknowledge_timeout.count())),
          watch(o.sentinels.empty()
                    ? nullptr
                    : std::make_unique<detail::sentinel_watch>(endpoint, o.reconnect_delay)),
          cache(o.local_cache.enabled ? std::make_unique<detail::cache>(
                                            endpoint, keys, o.local_cache, o.reconnect_delay)
                                      : nullptr) {}

    // Runs op(connection) -> std::optional<Result<T>>, where an empty optional means the
    // connection failed. With retry, a failure on a connection taken from the pool (which may
    // have died while idle) is tried once more on a fresh one.
    template <class T, class Op>
    Result<T> run(bool retry, Op op) noexcept {
      return run_on<T>(retry, false, op);
    }

    // run() for a security-relevant write (a login's record, the refresh compare-and-set, a
    // logout, a version bump, a revoked jti): with Options::acknowledged_replicas, its answer
    // stands only once WAIT confirms the write on that many replicas; fewer, in time, is
    // store_unavailable. The write may then still be on the primary: callers say what a client
    // sees (docs/redis.md, "Acknowledged writes").
    template <class T, class Op>
    Result<T> run_acknowledged(bool retry, Op op) noexcept {
      return run_on<T>(retry, replicas > 0, op);
    }

    template <class T, class Op>
    Result<T> run_on(bool retry, bool acknowledge, Op op) noexcept {
      try {
        for (int attempt = 0; attempt < 2; ++attempt) {
          auto lease = pool.acquire();
          if (!lease) return errc::store_unavailable;
          redisContext* c = lease->get();
          if (c == nullptr) return errc::store_unavailable;
          const bool reused = !lease->opened();
          std::optional<Result<T>> result = op(c);
          if (result && *result && acknowledge) {
            const std::optional<bool> confirmed = acknowledged(c);
            if (!confirmed) {
              result.reset();  // the connection failed while waiting
            } else if (!*confirmed) {
              // Too few replicas: perhaps this server is no longer the primary the others follow
              // (cut off while the Sentinels promoted another). A new connection asks again.
              result = Result<T>(errc::store_unavailable);
              lease->discard();
            }
          }
          if (result) return std::move(*result);
          lease->discard();
          if (!retry || !reused) break;
        }
      } catch (...) {  // std::bad_alloc, a failed lock
      }
      return errc::store_unavailable;
    }

    // WAIT for `replicas` to confirm every write made so far on c, for up to acknowledge_timeout.
    // The socket's timeout grows by that much meanwhile, so that a slow acknowledgment is told
    // apart from a dead connection. Empty when the connection failed.
    std::optional<bool> acknowledged(redisContext* c) const {
      std::optional<bool> confirmed;
      if (redisSetTimeout(c, detail::to_timeval(endpoint->command_timeout() + acknowledge_timeout)) !=
          REDIS_OK) {
        return confirmed;
      }
      const auto reply = detail::run(c, {"WAIT", replicas_arg, acknowledge_timeout_arg});
      if (!reply || redisSetTimeout(c, detail::to_timeval(endpoint->command_timeout())) != REDIS_OK) {
        return confirmed;
      }
      confirmed = reply->type == REDIS_REPLY_INTEGER && reply->integer >= replicas;
      return confirmed;
    }

    // revoke_token: one script over one key; returns the until in force.
    Result<std::int64_t> write(const detail::script& s, const std::string& key, std::string_view id,
                               std::chrono::sys_seconds until,
                               std::chrono::sys_seconds now) noexcept {
      return run_acknowledged<std::int64_t>(/*retry=*/true, [&](redisContext* c) {
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
    int replicas;  // Options::acknowledged_replicas
    std::string replicas_arg;
    std::chrono::milliseconds acknowledge_timeout;
    std::string acknowledge_timeout_arg;
    std::unique_ptr<detail::sentinel_watch> watch;  // with Sentinels: follows +switch-master
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
    if (o.acknowledged_replicas < 0) refuse("acknowledged_replicas must not be negative");
    if (o.acknowledged_replicas > 0 && o.acknowledge_timeout <= milliseconds{0}) {
      // WAIT with a timeout of 0 blocks until the replicas answer, however long that takes.
      refuse("acknowledge_timeout must be positive");
    }
    if (o.local_cache.enabled) {
      if (o.local_cache.max_staleness <= milliseconds{0}) {
        refuse("local_cache.max_staleness must be positive");
      }
      if (o.local_cache.max_entries < 1) refuse("local_cache.max_entries must be positive");
    }
    return o;
  }

  // Ends the least recently used of subject's live sessions beyond max_sessions, given the
  // index (read_index of what HGETALL returned, with the new session fresh); drops the entries
  // that have no live record from it.
  Result<std::vector<std::string>> evict(std::string_view subject, std::string_view fresh,
                                         std::vector<std::pair<std::int64_t, std::string>> listed,
                                         std::size_t max_sessions, std::chrono::sys_seconds now) {
    std::erase_if(listed, [&](const auto& item) { return item.second == fresh; });
    auto records = read_records(subject, listed, now);
    if (!records) return records.error();
    std::vector<std::pair<std::int64_t, std::string>> live;
    std::vector<std::string> dead;
    for (std::size_t i = 0; i < listed.size(); ++i) {
      if ((*records)[i]) {
        live.push_back(std::move(listed[i]));
      } else {
        dead.push_back(std::move(listed[i].second));
      }
    }
    if (auto dropped = drop_from_index(subject, dead); !dropped) return dropped.error();
    std::vector<std::string> evicted;
    if (live.size() + 1 > max_sessions) {
      std::sort(live.begin(), live.end());  // least recent first
      live.resize(live.size() + 1 - max_sessions);
      for (auto& item : live) evicted.push_back(std::move(item.second));
    }
    for (const std::string& sid : evicted) {
      if (auto ended = end_session(subject, sid, now, now); !ended) return ended.error();
    }
    return evicted;
  }

  // Removes sessions from subject's index, in one command.
  Result<bool> drop_from_index(std::string_view subject, const std::vector<std::string>& sids) {
    if (sids.empty()) return true;
    return state_->run<bool>(/*retry=*/true, [&](redisContext* c) {
      detail::command drop{"HDEL", state_->keys.index(subject)};
      for (const std::string& sid : sids) drop.add("s" + sid);
      std::optional<Result<bool>> r;
      if (detail::run(c, drop)) r = true;
      return r;
    });
  }

  // HMGET of a family's record fields (the order read_record expects), then, with_marker, its
  // marker r at index kRecordFields.
  static constexpr std::size_t kRecordFields = 12;
  static detail::command record_read(const std::string& family, bool with_marker) {
    detail::command cmd{"HMGET", family, "s", "d", "c", "a", "l",
                        "e",     "b",    "i", "x", "k", "m", "j"};
    if (with_marker) cmd.add("r");
    return cmd;
  }

  // A live record of subject from a record_read reply: the record, or none (no record, another
  // subject's, or over); an unexpected reply is store_unavailable.
  static Result<std::optional<SessionRecord>> read_record(const redisReply& reply,
                                                          std::string_view subject,
                                                          std::string_view sid,
                                                          std::chrono::sys_seconds now) {
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < kRecordFields) {
      return errc::store_unavailable;
    }
    const auto field = [&](std::size_t i) { return detail::text(reply.element[i]); };
    if (reply.element[0]->type != REDIS_REPLY_STRING || field(0) != subject) {
      return std::optional<SessionRecord>{};
    }
    // d a l e b i x k: every field but c (text) and m (metadata) is an integer.
    constexpr std::size_t kNumbers[] = {1, 3, 4, 5, 6, 7, 8, 9};
    std::int64_t times[std::size(kNumbers)];
    for (std::size_t t = 0; t < std::size(kNumbers); ++t) {
      const auto value = detail::parse_integer<std::int64_t>(field(kNumbers[t]));
      if (!value) return errc::store_unavailable;
      times[t] = *value;
    }
    if (times[0] <= detail::clamped(now)) return std::optional<SessionRecord>{};
    SessionRecord r;
    r.session_id.assign(sid);
    r.refresh_id.assign(field(2));
    r.until = seconds(times[0]);
    r.auth_time = seconds(times[1]);
    r.last_refresh = seconds(times[2]);
    r.expires_at = seconds(times[3]);
    r.absolute_end = seconds(times[4]);
    r.refresh_ttl = std::chrono::seconds{times[5]};
    r.access_until = seconds(times[6]);
    r.persistent = times[7] != 0;
    r.metadata.assign(field(10));
    r.jkt.assign(field(11));  // nil (an unbound session, or one written before j existed): empty
    return std::optional<SessionRecord>(std::move(r));
  }

  // (recency, sid) of each session in subject's index, one round trip.
  Result<std::vector<std::pair<std::int64_t, std::string>>> index_of(
      std::string_view subject) const noexcept {
    return state_->run<std::vector<std::pair<std::int64_t, std::string>>>(
        /*retry=*/true, [&](redisContext* c) {
          std::optional<Result<std::vector<std::pair<std::int64_t, std::string>>>> r;
          const auto reply = detail::run(c, {"HGETALL", state_->keys.index(subject)});
          if (!reply) return r;
          r = read_index(*reply);
          return r;
        });
  }

  // (recency, sid) of each session in an index (HGETALL reply).
  static Result<std::vector<std::pair<std::int64_t, std::string>>> read_index(
      const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ARRAY) return errc::store_unavailable;
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (std::size_t i = 0; i + 1 < reply.elements; i += 2) {
      const std::string_view name = detail::text(reply.element[i]);
      if (name.size() < 2 || name[0] != 's') continue;  // n and u
      const auto recency = detail::parse_integer<std::int64_t>(detail::text(reply.element[i + 1]));
      if (!recency) return errc::store_unavailable;
      out.emplace_back(*recency, std::string(name.substr(1)));
    }
    return out;
  }

  // The live records of subject among the listed sessions, one pipelined round trip; an empty
  // optional for each that is not.
  Result<std::vector<std::optional<SessionRecord>>> read_records(
      std::string_view subject, const std::vector<std::pair<std::int64_t, std::string>>& listed,
      std::chrono::sys_seconds now) const noexcept {
    if (listed.empty()) return std::vector<std::optional<SessionRecord>>{};
    return state_->run<std::vector<std::optional<SessionRecord>>>(
        /*retry=*/true, [&](redisContext* c) {
          std::vector<detail::command> reads;
          reads.reserve(listed.size());
          for (const auto& item : listed) {
            reads.push_back(record_read(state_->keys.family(item.second), false));
          }
          std::vector<detail::reply_ptr> replies(reads.size());
          std::optional<Result<std::vector<std::optional<SessionRecord>>>> r;
          if (!detail::exchange(c, reads, replies)) return r;
          std::vector<std::optional<SessionRecord>> out;
          for (std::size_t i = 0; i < listed.size(); ++i) {
            auto record = read_record(*replies[i], subject, listed[i].second, now);
            if (!record) {
              r = record.error();
              return r;
            }
            out.push_back(std::move(*record));
          }
          r = std::move(out);
          return r;
        });
  }

  // Reads the replies of GET token, HGET family r (or that field of record_read), HMGET version
  // v u.
  static Result<TokenStatus> read_status(const redisReply* token_reply,
                                         const redisReply* family_reply, const redisReply* version,
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
    const auto token = until(token_reply);
    const auto family = until(family_reply);
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

  // The manager's keys have 22 characters; the bound keeps a caller's mistake from writing
  // arbitrarily long key names.
  static constexpr std::size_t kMaxProofKey = 128;

  std::shared_ptr<state> state_;
};

static_assert(tegata::RevocationStore<RevocationStore>);
static_assert(tegata::ProofReplayCache<RevocationStore>);

}  // namespace tegata::redis
