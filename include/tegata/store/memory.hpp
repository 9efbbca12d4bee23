// tegata/store/memory.hpp - MemoryRevocationStore: the embedded, thread-safe default store.
//
// Everything lives in this process, so it suits one server (or tests). Several servers that must
// share revocations need a store over a shared backend (Redis, a database) instead.
//
// Concurrency. The state is split into `shards` independent shards, each behind its own
// std::shared_mutex. A key picks its shard by hash: revoked jtis by jti, subject versions by
// subject, and everything about one session family (its revocation, every consumed refresh jti
// and which one was consumed last) by sid, so consume_refresh decides under a single lock.
// status() takes at most three shared locks, one after the other and never two at once: there is
// no global lock on the validate path and no lock ordering to get wrong.
//
// Memory. Every fact is stored with the time after which it no longer matters (the `until` the
// manager passes). Each shard keeps its facts ordered by that time, and every write first drops
// its shard's expired facts (amortised O(log n) per write), so memory tracks live tokens only;
// prune(now) sweeps every shard. A fact whose time has come (until <= now) is treated as absent
// even before it is dropped.
//
// Bound. Options::max_entries bounds the total number of entries across all shards. An entry is
// one revoked jti, one session family (revoked, or with consumed refresh tokens), one consumed
// refresh jti, or one subject version. A write that needs a new entry when the store is full first
// drops the expired facts of its shard, then of every shard; if the store is still full it fails
// with errc::store_full and changes nothing. Reads are never refused for that reason.
// Size of an entry, measured with libstdc++ 12 and glibc malloc on x86-64 by counting every
// allocation the store makes (malloc_usable_size plus the 8-byte chunk header), for 200,000 and
// 1,000,000 entries with 22-character ids (a base64url-encoded 128-bit value):
//  - about 190 bytes per revoked jti, revoked session family or subject version: a hash node
//    (80), the id's heap buffer (32), a node in the expiry index (64) and the bucket array (~10);
//  - about 250 bytes per consumed refresh jti, which holds both its sid and its jti.
// Ids of at most 15 characters live inside the std::string (about 30 bytes less); longer ids add
// their length rounded up to 16. So the default bound of 1,000,000 entries means at most about
// 250 MB. Bucket arrays keep their peak size after pruning (about 8 bytes per peak entry).
//
// Failure. status() never throws. A write that cannot allocate memory (std::bad_alloc) or lock
// returns errc::store_unavailable and leaves the store as it was, so the manager fails closed.
//
// Ids are used as given and hashed with the (unkeyed) std::hash. jti and sid are random values
// taken from tokens whose signature was verified, so nobody can choose them to collide; subjects
// come from the application and are stored only by bump_version.

#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tegata/error.hpp"
#include "tegata/store/revocation_store.hpp"

namespace tegata {

namespace detail {

// std::hash over string_view, usable for lookups without building a std::string.
struct transparent_string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// A consumed refresh token: its jti within its session family.
struct refresh_key {
  std::string sid;
  std::string jti;
};

struct refresh_key_view {
  std::string_view sid;
  std::string_view jti;
};

struct refresh_key_hash {
  using is_transparent = void;
  std::size_t operator()(const refresh_key_view& key) const noexcept {
    const std::size_t a = std::hash<std::string_view>{}(key.sid);
    const std::size_t b = std::hash<std::string_view>{}(key.jti);
    return a ^ (b + static_cast<std::size_t>(0x9e3779b97f4a7c15ULL) + (a << 6) + (a >> 2));
  }
  std::size_t operator()(const refresh_key& key) const noexcept {
    return (*this)(refresh_key_view{key.sid, key.jti});
  }
};

struct refresh_key_equal {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return std::string_view(a.sid) == std::string_view(b.sid) &&
           std::string_view(a.jti) == std::string_view(b.jti);
  }
};

// A hash map whose every entry carries an expiry time, plus an index ordered by that time so the
// expired entries can be found without scanning. Not synchronised: the owning shard locks.
template <class Key, class Value, class Hash, class Equal>
class expiring_map {
  using index_type = std::multimap<std::chrono::sys_seconds, const Key*>;

 public:
  struct entry {
    Value value;
    std::chrono::sys_seconds until;
    typename index_type::iterator where;  // this entry's node in the index
  };

  template <class K>
  entry* find(const K& key) noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  template <class K>
  const entry* find(const K& key) const noexcept {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }

  // Adds an entry for a key the caller has just found absent (under the same lock). Strong
  // guarantee: if an allocation fails, the map is unchanged and the exception propagates.
  entry& insert(Key key, Value value, std::chrono::sys_seconds until) {
    const auto it =
        map_.try_emplace(std::move(key), entry{std::move(value), until, index_.end()}).first;
    try {
      it->second.where = index_.emplace(until, &it->first);  // keys of map nodes never move
    } catch (...) {
      map_.erase(it);
      throw;
    }
    return it->second;
  }

  // Keeps the entry at least until `until`; never shortens it. Re-links the existing index node,
  // so it cannot fail.
  void extend(entry& e, std::chrono::sys_seconds until) noexcept {
    if (until <= e.until) return;
    auto node = index_.extract(e.where);
    node.key() = until;
    e.where = index_.insert(std::move(node));
    e.until = until;
  }

  void erase(entry& e) noexcept { erase_at(e.where); }

  // Drops every entry with until <= now; returns how many.
  std::size_t prune(std::chrono::sys_seconds now) noexcept {
    std::size_t dropped = 0;
    while (!index_.empty() && index_.begin()->first <= now) {
      erase_at(index_.begin());
      ++dropped;
    }
    return dropped;
  }

  std::size_t size() const noexcept { return map_.size(); }

 private:
  // The index node points at the key inside the map node: look the entry up first, then drop both.
  void erase_at(typename index_type::iterator where) noexcept {
    map_.erase(map_.find(*where->second));
    index_.erase(where);
  }

  std::unordered_map<Key, entry, Hash, Equal> map_;
  index_type index_;
};

}  // namespace detail

// The embedded store. A cheap handle: copies share one state, so a test and the SessionManager
// that holds a copy see the same store. Every member function is safe to call from many threads.
class MemoryRevocationStore {
 public:
  struct Options {
    // Upper bound on the total number of entries (see the top of this file for their size).
    std::size_t max_entries{1'000'000};
    // Number of independently locked shards: a power of two. More shards, less contention.
    std::size_t shards{16};
  };

  MemoryRevocationStore() : MemoryRevocationStore(Options{}) {}

  // Throws std::invalid_argument unless shards is a power of two and max_entries >= shards.
  explicit MemoryRevocationStore(Options options)
      : state_(std::make_shared<state>(validated(options))) {}

  // Copying shares the state. A move is a copy too (no implicit move is declared), so a store is
  // never left without state.
  MemoryRevocationStore(const MemoryRevocationStore&) = default;
  MemoryRevocationStore& operator=(const MemoryRevocationStore&) = default;
  ~MemoryRevocationStore() = default;

  // The validate path. Shared locks only, never throws; errc::store_unavailable if a lock fails.
  Result<TokenStatus> status(std::string_view jti, std::string_view sid, std::string_view subject,
                             std::chrono::sys_seconds now) const noexcept {
    try {
      TokenStatus result;
      {
        const shard& s = state_->shard_for(jti);
        const std::shared_lock lock(s.mutex);
        const auto* token = s.tokens.find(jti);
        result.token_revoked = token != nullptr && token->until > now;
      }
      {
        const shard& s = state_->shard_for(sid);
        const std::shared_lock lock(s.mutex);
        const auto* family = s.families.find(sid);
        result.family_revoked = family != nullptr && family->value.revoked_until > now;
      }
      {
        const shard& s = state_->shard_for(subject);
        const std::shared_lock lock(s.mutex);
        const auto* version = s.versions.find(subject);
        if (version != nullptr && version->until > now) result.min_version = version->value;
      }
      return result;
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  // Refuses the jti until `until`. A later `until` extends an earlier revocation; an earlier one
  // does not shorten it. With until <= now there is nothing to remember and nothing is stored.
  Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                            std::chrono::sys_seconds now) {
    if (until <= now) return {};
    return write<void>(state_->shard_for(jti), now, [&](shard& s) -> Result<void> {
      if (auto* token = s.tokens.find(jti)) {
        s.tokens.extend(*token, until);
        return {};
      }
      if (!admit(1, [&] { s.tokens.insert(std::string(jti), {}, until); })) {
        return errc::store_full;
      }
      return {};
    });
  }

  // Refuses every token of the session family until `until`; extends like revoke_token.
  Result<void> revoke_family(std::string_view sid, std::chrono::sys_seconds until,
                             std::chrono::sys_seconds now) {
    if (until <= now) return {};
    return write<void>(state_->shard_for(sid), now, [&](shard& s) -> Result<void> {
      if (auto* family = s.families.find(sid)) {
        family->value.revoked_until = std::max(family->value.revoked_until, until);
        s.families.extend(*family, until);
        return {};
      }
      if (!admit(1, [&] { s.families.insert(std::string(sid), family_state{until, 0}, until); })) {
        return errc::store_full;
      }
      return {};
    });
  }

  // The new version is max(previous + 1, now in seconds since the epoch): strictly increasing,
  // even for two bumps in the same second. It is remembered until `until`, and in any case until
  // the clock has passed it, so that a bump after it was forgotten (and read as 0) still yields a
  // larger version than every version handed out before.
  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now) {
    return write<std::uint64_t>(
        state_->shard_for(subject), now, [&](shard& s) -> Result<std::uint64_t> {
          auto* current = s.versions.find(subject);
          const std::uint64_t previous = current != nullptr ? current->value : 0;
          const std::int64_t now_count = now.time_since_epoch().count();
          const std::uint64_t version =
              std::max(previous + 1, now_count > 0 ? static_cast<std::uint64_t>(now_count) : 0);
          const auto keep = std::max(until, passed(version));
          if (current != nullptr) {
            current->value = version;
            s.versions.extend(*current, keep);
            return version;
          }
          if (!admit(1, [&] { s.versions.insert(std::string(subject), version, keep); })) {
            return errc::store_full;
          }
          return version;
        });
  }

  // Records one use of the refresh token `jti` of family `sid`, remembered until `until` (its exp;
  // add the validator's leeway if there is one: the use must be remembered for as long as the
  // token could still be accepted). First use: RefreshUse::first, and the token becomes the
  // family's most recently consumed one. Used before: RefreshUse::within_grace if grace > 0, it is
  // the family's most recently consumed token and now <= its first use + grace; otherwise
  // RefreshUse::reused. Revoking the family after a reuse is the caller's decision.
  // until <= now is errc::invalid_argument: a use that is forgotten at once could be repeated
  // without ever being detected, so the store refuses rather than answer `first`.
  Result<RefreshUse> consume_refresh(std::string_view sid, std::string_view jti,
                                     std::chrono::sys_seconds until, std::chrono::sys_seconds now,
                                     std::chrono::seconds grace) {
    if (until <= now) return errc::invalid_argument;
    return write<RefreshUse>(state_->shard_for(sid), now, [&](shard& s) -> Result<RefreshUse> {
      auto* family = s.families.find(sid);
      if (const auto* used = s.refreshes.find(detail::refresh_key_view{sid, jti})) {
        // A live refresh entry implies its family entry: the family lives at least as long.
        const bool latest = family != nullptr && family->value.last_refresh == used->value.sequence;
        if (grace > std::chrono::seconds::zero() && latest &&
            now - used->value.first_use <= grace) {
          return RefreshUse::within_grace;
        }
        return RefreshUse::reused;
      }
      const std::uint64_t sequence = ++s.last_sequence;
      const bool admitted = admit(family != nullptr ? 1 : 2, [&] {
        auto& use = s.refreshes.insert(detail::refresh_key{std::string(sid), std::string(jti)},
                                       refresh_use{now, sequence}, until);
        if (family == nullptr) {
          try {
            family = &s.families.insert(std::string(sid),
                                        family_state{std::chrono::sys_seconds::min(), 0}, until);
          } catch (...) {
            s.refreshes.erase(use);
            throw;
          }
        }
      });
      if (!admitted) return errc::store_full;
      family->value.last_refresh = sequence;
      s.families.extend(*family, until);
      return RefreshUse::first;
    });
  }

  // Drops every expired fact (until <= now) from every shard, one shard at a time. Writes already
  // do this for their own shard; call it periodically to release memory of idle shards sooner.
  void prune(std::chrono::sys_seconds now) { state_->sweep(now); }

  // Entries currently held, expired but not yet dropped ones included. For tests and metrics.
  std::size_t size() const noexcept { return state_->entries.load(std::memory_order_relaxed); }

 private:
  struct family_state {
    std::chrono::sys_seconds revoked_until;  // sys_seconds::min() when only refreshes are recorded
    std::uint64_t last_refresh;              // sequence of the most recently consumed refresh jti
  };
  struct refresh_use {
    std::chrono::sys_seconds first_use;
    std::uint64_t sequence;  // per shard, increasing: identifies the family's latest use
  };
  struct revoked {};

  template <class Value>
  using string_map =
      detail::expiring_map<std::string, Value, detail::transparent_string_hash, std::equal_to<>>;

  // One independently locked part of the state. Aligned so that two shards' mutexes never share
  // a cache line.
  struct alignas(64) shard {
    mutable std::shared_mutex mutex;
    string_map<revoked> tokens;         // by jti
    string_map<family_state> families;  // by sid
    detail::expiring_map<detail::refresh_key, refresh_use, detail::refresh_key_hash,
                         detail::refresh_key_equal>
        refreshes;                       // by sid (the family's shard)
    string_map<std::uint64_t> versions;  // by subject
    std::uint64_t last_sequence = 0;

    std::size_t prune(std::chrono::sys_seconds now) noexcept {
      return tokens.prune(now) + families.prune(now) + refreshes.prune(now) + versions.prune(now);
    }
  };

  struct state {
    explicit state(const Options& options)
        : max_entries(options.max_entries),
          mask(options.shards - 1),
          shards(std::make_unique<shard[]>(options.shards)) {}

    shard& shard_for(std::string_view key) const noexcept {
      // Mixed (MurmurHash3's finaliser) so the shard does not depend only on the low bits that
      // the shard's own hash table also uses.
      std::uint64_t h = std::hash<std::string_view>{}(key);
      h ^= h >> 33;
      h *= 0xff51afd7ed558ccdULL;
      h ^= h >> 33;
      h *= 0xc4ceb9fe1a85ec53ULL;
      h ^= h >> 33;
      return shards[static_cast<std::size_t>(h) & mask];
    }

    void sweep(std::chrono::sys_seconds now) {
      for (std::size_t i = 0; i <= mask; ++i) {
        const std::unique_lock lock(shards[i].mutex);
        release(shards[i].prune(now));
      }
    }

    // Claims room for n more entries, or reports that the bound would be exceeded.
    bool reserve(std::size_t n) noexcept {
      std::size_t current = entries.load(std::memory_order_relaxed);
      do {
        if (n > max_entries - current) return false;
      } while (!entries.compare_exchange_weak(current, current + n, std::memory_order_relaxed));
      return true;
    }
    void release(std::size_t n) noexcept { entries.fetch_sub(n, std::memory_order_relaxed); }

    const std::size_t max_entries;
    const std::size_t mask;
    const std::unique_ptr<shard[]> shards;
    std::atomic<std::size_t> entries{0};  // never above max_entries
  };

  static Options validated(const Options& options) {
    if (options.shards == 0 || (options.shards & (options.shards - 1)) != 0) {
      throw std::invalid_argument("tegata: MemoryRevocationStore shards must be a power of two");
    }
    if (options.max_entries < options.shards) {
      throw std::invalid_argument(
          "tegata: MemoryRevocationStore max_entries must be at least the number of shards");
    }
    return options;
  }

  // The first second at which a version has been passed by the clock.
  static std::chrono::sys_seconds passed(std::uint64_t version) noexcept {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (version >= max) return std::chrono::sys_seconds::max();
    return std::chrono::sys_seconds{std::chrono::seconds{static_cast<std::int64_t>(version) + 1}};
  }

  // Reserves n entries and runs insert (which adds them); gives the reservation back if insert
  // throws. False, with nothing changed, when the bound leaves no room.
  template <class Insert>
  bool admit(std::size_t n, Insert insert) {
    if (!state_->reserve(n)) return false;
    try {
      insert();
    } catch (...) {
      state_->release(n);
      throw;
    }
    return true;
  }

  // Runs op under the exclusive lock of s, after dropping s's expired facts. If op finds the store
  // full, every shard is swept once (never holding two locks) and op runs again. Any exception
  // (std::bad_alloc, a failed lock) becomes store_unavailable; op leaves the shard unchanged then.
  template <class T, class Op>
  Result<T> write(shard& s, std::chrono::sys_seconds now, Op op) noexcept {
    try {
      for (int attempt = 0;; ++attempt) {
        {
          const std::unique_lock lock(s.mutex);
          state_->release(s.prune(now));
          Result<T> result = op(s);
          if (result.error() != errc::store_full || attempt > 0) return result;
        }
        state_->sweep(now);
      }
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  std::shared_ptr<state> state_;
};

static_assert(RevocationStore<MemoryRevocationStore>);

}  // namespace tegata
