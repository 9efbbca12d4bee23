// tegata/store/redis/cache.hpp - the optional local cache of the Redis store's validate path.
// Internal to the Redis store; docs/redis.md explains it for operators.
//
// What it holds. A copy of the facts status() reads: revoked jtis, revoked families and subject
// versions, each with its until. Writes only ever raise them (a later until, a larger version),
// so applying the same fact twice, or out of order, converges to Redis's state.
//
// How it is fed. Every write script publishes the fact it wrote on the channel P events. A
// background thread keeps one connection SUBSCRIBEd to it, loads the existing facts with SCAN
// after subscribing (so nothing falls between the two), and applies each message. This process's
// own writes are also applied directly, so a status() after a successful write sees it.
//
// When it answers. Pub/sub delivers at most once and says nothing when a connection dies, so the
// cache proves its freshness instead of assuming it: every max_staleness / 4 the thread sends
// PING on the subscribed connection. Redis answers in order with the messages, so when the answer
// arrives every write that completed before the PING was sent has been applied. status() uses the
// cache only while the latest such PING was sent at most max_staleness ago; otherwise (starting,
// reloading, Redis down or slow, cache full) it asks Redis, which fails closed.
//
// One answer, one state. The freshness check and the lookup are two steps, and the thread may
// reload between them (subscription lost: stale, clear, SCAN). So every time the cache stops being
// trustworthy it bumps an epoch first, and status() keeps a lookup only if the epoch it read
// before the freshness check is unchanged after the lookup and the cache is still fresh; otherwise
// Redis answers. A reader never mistakes an empty or half-loaded mirror for a fresh one.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "tegata/detail/expiring_map.hpp"
#include "tegata/store/redis/connection.hpp"
#include "tegata/store/redis/options.hpp"
#include "tegata/store/redis/scripts.hpp"
#include "tegata/store/revocation_store.hpp"

namespace tegata::redis::detail {

#ifdef TEGATA_REDIS_TEST_HOOKS
// Test-only points where a test can pause a thread at a chosen moment, to make a race happen
// deterministically. They exist only in builds that define TEGATA_REDIS_TEST_HOOKS (the Redis
// test executable does, for every one of its sources); elsewhere nothing of them is compiled in.
// Set them only while no cache exists: the cache thread reads them without synchronisation, and
// its creation and join order the test's writes against its reads.
namespace test_hooks {
inline std::function<void()> after_fresh_check;  // request thread: cache::status(), before lookup
inline std::function<void()> after_clear;        // cache thread: listen(), mirror just cleared
}  // namespace test_hooks
#endif

// The facts, bounded by max_entries. Sharded by id like MemoryRevocationStore, each shard behind
// its own reader-writer lock, so a stream of validations cannot starve the writer that applies a
// revocation.
class mirror {
 public:
  explicit mirror(std::size_t max_entries)
      : max_entries_(max_entries), shards_(std::make_unique<shard[]>(shard_count)) {}

  // Empty when the mirror is full (it may then be missing facts) or cannot answer. Says nothing
  // about a clear() or a reload running meanwhile: cache::status() guards against those.
  std::optional<TokenStatus> status(std::string_view jti, std::string_view sid,
                                    std::string_view subject,
                                    std::chrono::sys_seconds now) const noexcept {
    try {
      TokenStatus s;
      s.token_revoked = find(&shard::tokens, jti, now).has_value();
      s.family_revoked = find(&shard::families, sid, now).has_value();
      s.min_version = find(&shard::versions, subject, now).value_or(0);
      // Checked last: a fact that did not fit is not missed.
      if (full()) return std::nullopt;
      return s;
    } catch (...) {
      return std::nullopt;
    }
  }

  void revoke_token(std::string_view jti, std::chrono::sys_seconds until) noexcept {
    raise(&shard::tokens, jti, 0, until);
  }
  void revoke_family(std::string_view sid, std::chrono::sys_seconds until) noexcept {
    raise(&shard::families, sid, 0, until);
  }
  void raise_version(std::string_view subject, std::uint64_t version,
                     std::chrono::sys_seconds until) noexcept {
    raise(&shard::versions, subject, version, until);
  }

  void prune(std::chrono::sys_seconds now) noexcept {
    for (std::size_t i = 0; i < shard_count; ++i) {
      try {
        shard& sh = shards_[i];
        const std::unique_lock lock(sh.mutex);
        entries_.fetch_sub(sh.tokens.prune(now) + sh.families.prune(now) + sh.versions.prune(now),
                           std::memory_order_relaxed);
      } catch (...) {  // a failed lock: this shard waits for the next round
      }
    }
  }

  // Forgets everything, before a reload. False if a shard could not be cleared (the mirror then
  // stays full, and the reload is tried again later). The caller has already made readers stop
  // trusting the mirror (cache::invalidate()).
  bool clear() noexcept {
    for (std::size_t i = 0; i < shard_count; ++i) {
      try {
        shard& sh = shards_[i];
        const std::unique_lock lock(sh.mutex);
        entries_.fetch_sub(sh.tokens.size() + sh.families.size() + sh.versions.size(),
                           std::memory_order_relaxed);
        sh.tokens = facts{};
        sh.families = facts{};
        sh.versions = facts{};
      } catch (...) {
        full_.store(true, std::memory_order_release);
        return false;
      }
    }
    full_.store(false, std::memory_order_release);
    return true;
  }

  // A fact could not be recorded: until the next clear() the mirror does not answer.
  bool full() const noexcept { return full_.load(std::memory_order_acquire); }

 private:
  using facts =
      tegata::detail::expiring_map<std::string, std::uint64_t,
                                   tegata::detail::transparent_string_hash, std::equal_to<>>;
  static constexpr std::size_t shard_count = 16;

  struct alignas(64) shard {
    mutable std::shared_mutex mutex;
    facts tokens;    // by jti; value unused
    facts families;  // by sid; value unused, until is the revoked-until
    facts versions;  // by subject
  };

  shard& shard_for(std::string_view id) const noexcept {
    std::uint64_t h = std::hash<std::string_view>{}(id);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return shards_[static_cast<std::size_t>(h) & (shard_count - 1)];
  }

  // The value of a live fact (until > now).
  std::optional<std::uint64_t> find(facts shard::*map, std::string_view id,
                                    std::chrono::sys_seconds now) const {
    const shard& sh = shard_for(id);
    const std::shared_lock lock(sh.mutex);
    const auto* entry = (sh.*map).find(id);
    if (entry == nullptr || entry->until <= now) return std::nullopt;
    return entry->value;
  }

  // Keeps the larger value and the later until.
  void raise(facts shard::*map, std::string_view id, std::uint64_t value,
             std::chrono::sys_seconds until) noexcept {
    try {
      shard& sh = shard_for(id);
      const std::unique_lock lock(sh.mutex);
      if (auto* entry = (sh.*map).find(id)) {
        entry->value = std::max(entry->value, value);
        (sh.*map).extend(*entry, until);
        return;
      }
      if (entries_.fetch_add(1, std::memory_order_relaxed) >= max_entries_) {
        entries_.fetch_sub(1, std::memory_order_relaxed);
        full_.store(true, std::memory_order_release);
        return;
      }
      try {
        (sh.*map).insert(std::string(id), value, until);
      } catch (...) {
        entries_.fetch_sub(1, std::memory_order_relaxed);
        throw;
      }
    } catch (...) {
      full_.store(true, std::memory_order_release);
    }
  }

  std::size_t max_entries_;
  std::unique_ptr<shard[]> shards_;
  std::atomic<std::size_t> entries_{0};
  std::atomic<bool> full_{false};
};

class cache {
 public:
  cache(std::shared_ptr<const endpoint> ep, keyspace keys, const CacheOptions& options,
        std::chrono::milliseconds reconnect_delay)
      : endpoint_(std::move(ep)),
        keys_(std::move(keys)),
        max_staleness_(options.max_staleness),
        ping_interval_(std::max<std::chrono::steady_clock::duration>(options.max_staleness / 4,
                                                                     std::chrono::milliseconds{1})),
        reconnect_delay_(reconnect_delay),
        mirror_(options.max_entries) {
    if (::pipe(wake_) != 0) {
      throw std::system_error(errno, std::generic_category(), "tegata: redis cache pipe");
    }
    ::fcntl(wake_[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(wake_[1], F_SETFD, FD_CLOEXEC);
    try {
      thread_ = std::thread([this] { loop(); });
    } catch (...) {
      close_pipe();
      throw;
    }
  }

  ~cache() {
    stopping_.store(true, std::memory_order_release);
    const char byte = 0;
    while (::write(wake_[1], &byte, 1) == -1 && errno == EINTR) {
    }
    thread_.join();
    close_pipe();
  }

  cache(const cache&) = delete;
  cache& operator=(const cache&) = delete;

  // The cached answer, or empty when the cache is not provably fresh: then ask Redis.
  //
  // Fresh for the whole lookup, not just before it. Why the epoch catches every reload that the
  // lookup could have seen: invalidate() stores fresh_at_ = never, then bumps epoch_ (release),
  // and only then does the cache thread clear and reload the mirror, under the shard locks.
  //  - If the first load below reads the bumped epoch, it synchronises with the bump, so fresh()
  //    reads never (or a later PING answered once the reload completed, whose release store also
  //    publishes the loaded facts): no stale freshness from before the reload is used.
  //  - If it reads the old epoch and the lookup then sees any effect of the clear or the reload,
  //    it took a shard lock after the cache thread released it: the bump happens-before that lock
  //    and hence before the second load, which must therefore read the new epoch. Otherwise the
  //    lookup saw only the mirror from before the clear, which the freshness check vouched for.
  // The second fresh() keeps the staleness bound true at the time of the answer, and rejects a
  // mirror that filled up meanwhile. Lock-free: two atomic loads and a clock read on top of the
  // lookup.
  std::optional<TokenStatus> status(std::string_view jti, std::string_view sid,
                                    std::string_view subject,
                                    std::chrono::sys_seconds now) const noexcept {
    const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
    if (!fresh()) return std::nullopt;
#ifdef TEGATA_REDIS_TEST_HOOKS
    if (test_hooks::after_fresh_check) test_hooks::after_fresh_check();
#endif
    auto s = mirror_.status(jti, sid, subject, now);
    if (!s || epoch_.load(std::memory_order_acquire) != epoch || !fresh()) return std::nullopt;
    return s;
  }

  bool fresh() const noexcept {
    const auto at = fresh_at_.load(std::memory_order_acquire);
    if (at == never) return false;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return now - at <= std::chrono::steady_clock::duration(max_staleness_).count() &&
           !mirror_.full();
  }

  // This process's own writes, once Redis has confirmed them.
  void revoke_token(std::string_view jti, std::chrono::sys_seconds until) noexcept {
    mirror_.revoke_token(jti, until);
  }
  void revoke_family(std::string_view sid, std::chrono::sys_seconds until) noexcept {
    mirror_.revoke_family(sid, until);
  }
  void raise_version(std::string_view subject, std::uint64_t version,
                     std::chrono::sys_seconds until) noexcept {
    mirror_.raise_version(subject, version, until);
  }

  // The latest time callers passed in: what expired facts are pruned against.
  void observe(std::chrono::sys_seconds now) noexcept {
    const auto t = now.time_since_epoch().count();
    auto seen = latest_now_.load(std::memory_order_relaxed);
    while (t > seen && !latest_now_.compare_exchange_weak(seen, t, std::memory_order_relaxed)) {
    }
  }

 private:
  using steady = std::chrono::steady_clock;
  static constexpr steady::rep never = std::numeric_limits<steady::rep>::min();

  void loop() {
    auto delay = reconnect_delay_;
    constexpr std::chrono::milliseconds max_delay{5000};
    while (!stopping_.load(std::memory_order_acquire)) {
      bool confirmed = false;
      try {
        confirmed = listen();
      } catch (...) {  // std::bad_alloc and the like: drop the connection, try again later
      }
      invalidate();
      // Back off while nothing works (Redis down, cache too small), start over fast otherwise.
      delay = confirmed ? reconnect_delay_ : std::min(delay * 2, max_delay);
      if (!sleep(delay)) return;
    }
  }

  // The PINGs of one subscription: those not answered yet, and whether any was.
  struct heartbeat {
    std::deque<std::pair<std::uint64_t, steady::rep>> unanswered;  // sequence, time sent
    std::uint64_t last = 0;
    steady::time_point due = steady::now();
    bool answered = false;
  };

  // The cache stops answering, until a PING on a new subscription is answered. Called whenever a
  // subscription ends and before the mirror is cleared and reloaded; in that order (never, then
  // the bump, then any change to the mirror), which status() relies on.
  void invalidate() noexcept {
    fresh_at_.store(never, std::memory_order_release);
    epoch_.fetch_add(1, std::memory_order_release);
  }

  // One subscription, from SUBSCRIBE until it fails or the store stops. True if at least one
  // PING was answered (the subscription worked).
  bool listen() {
    invalidate();  // before the mirror changes: see status()
    if (!mirror_.clear()) return false;
#ifdef TEGATA_REDIS_TEST_HOOKS
    if (test_hooks::after_clear) test_hooks::after_clear();
#endif
    // A later +switch-master (sentinel_watch.hpp) ends this subscription: the cache then
    // subscribes to the new primary and reloads from it.
    const std::uint64_t generation = endpoint_->primary_generation();
    context_ptr sub = endpoint_->connect();
    if (!sub) return false;
    const reply_ptr subscribed = run_command(sub.get(), {"SUBSCRIBE", keys_.channel()});
    if (!subscribed || subscribed->type != REDIS_REPLY_ARRAY || subscribed->elements != 3 ||
        text(subscribed->element[0]) != "subscribe") {
      return false;
    }
    if (!load()) return false;
    heartbeat beat;
    while (receive(sub.get(), beat) && !mirror_.full() && keep_time(sub.get(), beat) &&
           wait(sub.get(), beat) && endpoint_->primary_generation() == generation) {
    }
    return beat.answered;
  }

  // Handles every reply hiredis has read so far: PING answers and published facts.
  bool receive(redisContext* sub, heartbeat& beat) {
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(sub, &raw) != REDIS_OK) return false;
      if (raw == nullptr) return true;
      const reply_ptr reply(static_cast<redisReply*>(raw));
      const auto answered = pong(reply.get());
      if (!answered) {
        apply(reply.get());
        continue;
      }
      auto& sent = beat.unanswered;
      while (!sent.empty() && sent.front().first < *answered) sent.pop_front();
      if (!sent.empty() && sent.front().first == *answered) {
        fresh_at_.store(sent.front().second, std::memory_order_release);
        sent.pop_front();
        beat.answered = true;
      }
    }
  }

  // Sends the next PING when it is due. False when the connection cannot be trusted: a PING
  // older than max_staleness is still unanswered, or sending failed.
  bool keep_time(redisContext* sub, heartbeat& beat) {
    const auto now = steady::now();
    const auto oldest =
        beat.unanswered.empty() ? now.time_since_epoch().count() : beat.unanswered.front().second;
    if (now.time_since_epoch().count() - oldest > steady::duration(max_staleness_).count()) {
      return false;
    }
    if (now < beat.due) return true;
    if (!ping(sub, ++beat.last)) return false;
    beat.unanswered.emplace_back(beat.last, now.time_since_epoch().count());
    beat.due = now + ping_interval_;
    mirror_.prune(std::chrono::sys_seconds{
        std::chrono::seconds{latest_now_.load(std::memory_order_relaxed)}});
    return true;
  }

  // Waits for data or the next PING. False when stopping or the connection failed.
  bool wait(redisContext* sub, const heartbeat& beat) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(beat.due - steady::now());
    pollfd fds[2] = {{sub->fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready < 0) return errno == EINTR;
    if (fds[1].revents != 0) return false;
    return fds[0].revents == 0 || redisBufferRead(sub) == REDIS_OK;
  }

  // Sends PING <seq> on the subscribed connection without waiting for the answer.
  static bool ping(redisContext* sub, std::uint64_t seq) {
    const std::string arg = std::to_string(seq);
    const char* argv[] = {"PING", arg.c_str()};
    const std::size_t lengths[] = {4, arg.size()};
    if (redisAppendCommandArgv(sub, 2, argv, lengths) != REDIS_OK) return false;
    const sigpipe_guard guard;
    int done = 0;
    while (done == 0) {
      if (redisBufferWrite(sub, &done) != REDIS_OK) return false;
    }
    return true;
  }

  // The sequence number of a PING answer ["pong", "<seq>"].
  static std::optional<std::uint64_t> pong(const redisReply* r) noexcept {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || text(r->element[0]) != "pong") {
      return std::nullopt;
    }
    return parse_integer<std::uint64_t>(text(r->element[1]));
  }

  // A published fact ["message", channel, "<kind> <numbers...> <id>"]; anything else is ignored.
  void apply(const redisReply* r) noexcept {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || text(r->element[0]) != "message") {
      return;
    }
    std::string_view rest = text(r->element[2]);
    if (rest.size() < 2 || rest[1] != ' ') return;
    const char kind = rest[0];
    rest.remove_prefix(2);
    auto number = [&rest]() -> std::optional<std::int64_t> {
      const auto space = rest.find(' ');
      if (space == std::string_view::npos) return std::nullopt;
      auto n = parse_integer<std::int64_t>(rest.substr(0, space));
      rest.remove_prefix(space + 1);
      return n;
    };
    if (kind == 'v') {
      const auto version = number();
      const auto until = number();
      if (version && until && *version > 0) {
        mirror_.raise_version(rest, static_cast<std::uint64_t>(*version), seconds(*until));
      }
      return;
    }
    const auto until = number();
    if (!until) return;
    if (kind == 't') mirror_.revoke_token(rest, seconds(*until));
    if (kind == 'f') mirror_.revoke_family(rest, seconds(*until));
  }

  // Loads every cached fact from Redis (SCAN), on a connection of its own.
  bool load() {
    const context_ptr c = endpoint_->connect();
    if (!c) return false;
    const std::string pattern = keys_.cached_facts_pattern();
    std::string cursor = "0";
    do {
      const reply_ptr page =
          run_command(c.get(), {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (!page || page->type != REDIS_REPLY_ARRAY || page->elements != 2 ||
          page->element[1]->type != REDIS_REPLY_ARRAY || !load_page(c.get(), page->element[1])) {
        return false;
      }
      cursor = std::string(text(page->element[0]));
    } while (cursor != "0" && !stopping_.load(std::memory_order_acquire));
    return true;
  }

  // Reads the facts of one page of key names, in one pipelined round trip.
  bool load_page(redisContext* c, const redisReply* names) {
    std::vector<command> reads;
    std::vector<keyspace::fact_key> facts;
    for (std::size_t i = 0; i < names->elements; ++i) {
      const std::string_view name = text(names->element[i]);
      const auto fact = keys_.parse(name);
      if (!fact) continue;
      if (fact->kind == 't') reads.push_back({"GET", name});
      if (fact->kind == 'f') reads.push_back({"HGET", name, "r"});
      if (fact->kind == 'v') reads.push_back({"HMGET", name, "v", "u"});
      if (reads.size() > facts.size()) facts.push_back(*fact);
    }
    std::vector<reply_ptr> values(reads.size());
    if (!reads.empty() && !exchange(c, reads, values)) return false;
    for (std::size_t i = 0; i < facts.size(); ++i) {
      if (!load_fact(facts[i], values[i].get())) return false;
    }
    return !mirror_.full();
  }

  // False when Redis answered with an error: the load is then incomplete.
  bool load_fact(const keyspace::fact_key& fact, const redisReply* value) noexcept {
    if (value->type == REDIS_REPLY_ERROR) return false;
    if (fact.kind == 'v') {
      if (value->type != REDIS_REPLY_ARRAY || value->elements != 2) return true;  // expired
      const auto version = parse_integer<std::uint64_t>(text(value->element[0]));
      const auto until = parse_integer<std::int64_t>(text(value->element[1]));
      if (version && until) mirror_.raise_version(fact.id, *version, seconds(*until));
      return true;
    }
    // Nil: a key that expired meanwhile, or a family with consumed tokens that is not revoked.
    const auto until = parse_integer<std::int64_t>(text(value));
    if (until && fact.kind == 't') mirror_.revoke_token(fact.id, seconds(*until));
    if (until && fact.kind == 'f') mirror_.revoke_family(fact.id, seconds(*until));
    return true;
  }

  static reply_ptr run_command(redisContext* c, std::initializer_list<std::string_view> args) {
    return detail::run(c, command(args));
  }

  static std::chrono::sys_seconds seconds(std::int64_t s) noexcept {
    return std::chrono::sys_seconds{std::chrono::seconds{s}};
  }

  // Waits, unless the store stops first. False when stopping.
  bool sleep(std::chrono::milliseconds d) const noexcept {
    pollfd fd{wake_[0], POLLIN, 0};
    const auto until = steady::now() + d;
    for (;;) {
      if (stopping_.load(std::memory_order_acquire)) return false;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - steady::now());
      if (left.count() <= 0) return true;
      if (::poll(&fd, 1, static_cast<int>(left.count())) > 0) return false;
    }
  }

  void close_pipe() noexcept {
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  std::shared_ptr<const endpoint> endpoint_;
  keyspace keys_;
  std::chrono::milliseconds max_staleness_;
  steady::duration ping_interval_;
  std::chrono::milliseconds reconnect_delay_;
  mirror mirror_;
  std::atomic<steady::rep> fresh_at_{never};  // when the latest answered PING was sent
  std::atomic<std::uint64_t> epoch_{0};       // bumped by invalidate(), only by the cache thread
  std::atomic<std::int64_t> latest_now_{std::numeric_limits<std::int64_t>::min()};
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace tegata::redis::detail
