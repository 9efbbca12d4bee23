// tegata/store/sqlite/cache.hpp - the SQLite store's in-process cache for the validate path.
//
// Why. Every SQLite read transaction in WAL mode takes and releases a lock in the -shm file (two
// fcntl system calls), which is most of what status() costs on top of the memory store
// (benchmarks/README.md, "The SQLite store"). The cache answers status() in process instead.
//
// What it holds: for each (jti, sid, subject) the facts status() read, not its verdict: the
// revoked jti's until, the ended family's until, and the subject's version with its until. A hit
// evaluates them at the caller's now, so an answer is the one the file would give at that now
// for as long as the facts have not changed. Nothing else: find_session() reads the file (the
// record is needed), and use_proof() is a write whose answer must be the file's at that moment
// (a cached "not used yet" would let a proof be used twice).
//
// When they change. Facts only ever grow while they last (a revocation is extended, never
// shortened; a version only increases; a live record only becomes a marker), so a cached fact is
// stale only in the direction of "not revoked yet". Two bounds:
//  - writes through this store (any copy of it): a write that can refuse a token (revoke, end a
//    session, a theft verdict, an eviction, log out everywhere) commits between begin_change()
//    and end_change(), which move a generation counter to an odd number and on to the next even
//    one. Entries are tagged with the generation their read began in and answer only while it is
//    still the current one and even; while it is odd nothing is answered from the cache and
//    nothing stored. So once such a write has returned, no answer read before its commit is
//    used, and no thread ever sees a fact disappear (an answer from the cache after one from the
//    file that had already seen a later commit). In one process the cache is exact: the shared
//    store-contract suite, concurrency cases included, runs with it on.
//  - writes by another process on the same file: an entry is used only for max_staleness after
//    its read began, so a fact another process committed more than max_staleness ago is always
//    seen. That is the documented bound (Options::cache.max_staleness).
// Bounded: max_entries in all; a shard that fills is emptied.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tegata/store/revocation_store.hpp"

namespace tegata::sqlite::detail {

// What the status query reads, before it is evaluated at a time. kNever: no such row.
struct status_facts {
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
  std::int64_t token_until = kNever;
  std::int64_t family_until = kNever;  // an ended family's marker
  std::int64_t version = 0;
  std::int64_t version_until = kNever;

  TokenStatus at(std::chrono::sys_seconds now) const noexcept {
    const std::int64_t t = now.time_since_epoch().count();
    TokenStatus s;
    s.token_revoked = token_until > t;
    s.family_revoked = family_until > t;
    s.min_version = version_until > t ? static_cast<std::uint64_t>(version) : 0;
    return s;
  }
};

class status_cache {
 public:
  using clock = std::chrono::steady_clock;

  status_cache(std::chrono::milliseconds max_staleness, std::size_t max_entries)
      : max_staleness_(max_staleness), per_shard_(max_entries / kShards + 1) {}

  // Taken before a read whose answer may be stored.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  // Around the commit of a write that can refuse a token (one at a time: the writer's mutex):
  // every entry read before end_change() is void.
  void begin_change() noexcept { generation_.fetch_add(1, std::memory_order_acq_rel); }
  void end_change() noexcept { generation_.fetch_add(1, std::memory_order_acq_rel); }

  std::optional<TokenStatus> find(std::string_view jti, std::string_view sid,
                                  std::string_view subject, std::chrono::sys_seconds now) {
    const std::string k = key(jti, sid, subject);
    shard& s = shard_of(k);
    const std::uint64_t current = generation();
    if (current % 2 != 0) return std::nullopt;  // a change is being committed
    const auto fresh_since = clock::now() - max_staleness_;
    const std::lock_guard lock(s.mutex);
    const auto it = s.entries.find(k);
    if (it == s.entries.end() || it->second.generation != current ||
        it->second.read_at < fresh_since) {
      return std::nullopt;
    }
    return it->second.facts.at(now);
  }

  // Stores what a read that began at read_at, in generation, found; dropped if a write that can
  // refuse a token began to commit since (an entry stored anyway, by a race with the check, is
  // never answered: its generation is no longer the current one).
  void insert(std::string_view jti, std::string_view sid, std::string_view subject,
              const status_facts& facts, clock::time_point read_at, std::uint64_t generation) {
    if (generation % 2 != 0 || generation != this->generation()) return;
    std::string k = key(jti, sid, subject);
    shard& s = shard_of(k);
    const std::lock_guard lock(s.mutex);
    if (generation != this->generation()) return;
    if (s.entries.size() >= per_shard_) s.entries.clear();
    s.entries.insert_or_assign(std::move(k), entry{facts, read_at, generation});
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct entry {
    status_facts facts;
    clock::time_point read_at;
    std::uint64_t generation;
  };
  struct alignas(64) shard {
    std::mutex mutex;
    std::unordered_map<std::string, entry> entries;
  };

  // The three ids, each behind its length, so that no two triples share a key. They come from
  // tokens whose signature was verified (the manager's own), so nobody chooses them to collide.
  static std::string key(std::string_view jti, std::string_view sid, std::string_view subject) {
    std::string k;
    k.reserve(jti.size() + sid.size() + subject.size() + 3 * sizeof(std::uint32_t));
    for (const std::string_view part : {jti, sid, subject}) {
      const auto size = static_cast<std::uint32_t>(part.size());
      k.append(reinterpret_cast<const char*>(&size), sizeof size);
      k.append(part);
    }
    return k;
  }

  shard& shard_of(const std::string& k) noexcept {
    return shards_[std::hash<std::string>{}(k) % kShards];
  }

  const clock::duration max_staleness_;
  const std::size_t per_shard_;
  std::atomic<std::uint64_t> generation_{0};
  std::array<shard, kShards> shards_{};
};

}  // namespace tegata::sqlite::detail
