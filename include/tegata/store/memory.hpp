// tegata/store/memory.hpp - MemoryRevocationStore: the embedded, thread-safe default store.
//
// Everything lives in this process, so it suits one server (or tests). Several servers that must
// share revocations need a store over a shared backend (Redis, a database) instead.
//
// Concurrency. The state is split into `shards` independent shards, each behind its own
// reader-writer lock (detail/read_mostly_mutex.hpp, whose readers write no cache line that
// readers on other threads write). A key picks its shard by hash: revoked jtis by jti, subject
// versions by subject, and everything about one session family (its revocation, every consumed
// refresh jti and which one was consumed last) by sid, so consume_refresh decides under a single
// lock. status() takes at most three shared locks, one after the other and never two at once:
// there is no global lock on the validate path and no lock ordering to get wrong.
//
// Memory. Every fact is stored with the time after which it no longer matters (the `until` the
// manager passes). Each shard keeps its facts ordered by that time, and every write first drops
// its shard's expired facts (O(log n) each), so memory tracks live tokens only; prune(now) sweeps
// every shard. A fact whose time has come (until <= now) is treated as absent even before it is
// dropped.
//
// Bound. Options::max_entries bounds the total number of entries across all shards. An entry is
// one revoked jti, one session family (revoked, or with consumed refresh tokens), one consumed
// refresh jti, or one subject version. A write that needs a new entry when the store is full first
// drops the expired facts of its shard, then of every shard; if the store is still full it fails
// with errc::store_full and changes nothing. Reads are never refused for that reason.
//
// Size of an entry (detail/id_table.hpp has the layout): an entry's ids are stored inline up to
// 23 bytes (the manager's ids have 22); longer ones add a heap block of their length. A consumed
// refresh jti, which holds both its sid and its jti, is the largest kind. benchmarks/README.md
// gives the measured bytes per live entry of each kind, and so the memory the default bound of
// 1,000,000 entries can take. Storage keeps its peak size after pruning.
//
// Failure. status() never throws. A write that cannot allocate memory (std::bad_alloc) or lock
// returns errc::store_unavailable and leaves the store as it was, so the manager fails closed.
//
// Ids are used as given and hashed with SipHash-1-3 under a random key drawn when the store is
// created, so nobody can choose ids (subjects come from the application, perhaps from users) that
// pile up in one shard or one probe sequence. One hash per id picks both its shard and its slot.

#pragma once

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>  // std::shared_lock
#include <stdexcept>
#include <string_view>
#include <utility>

#include "tegata/detail/id_table.hpp"
#include "tegata/detail/read_mostly_mutex.hpp"
#include "tegata/detail/siphash.hpp"
#include "tegata/error.hpp"
#include "tegata/store/revocation_store.hpp"

namespace tegata {

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
        const place p = state_->place_of(jti);
        const std::shared_lock lock(p.where->mutex);
        const auto* token = p.where->tokens.find(p.hash, {jti});
        result.token_revoked = token != nullptr && token->until > now;
      }
      {
        const place p = state_->place_of(sid);
        const std::shared_lock lock(p.where->mutex);
        const auto* family = p.where->families.find(p.hash, {sid});
        result.family_revoked = family != nullptr && family->value.revoked_until > now;
      }
      {
        const place p = state_->place_of(subject);
        const std::shared_lock lock(p.where->mutex);
        const auto* version = p.where->versions.find(p.hash, {subject});
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
    const place p = state_->place_of(jti);
    return write<void>(*p.where, now, [&](shard& s) -> Result<void> {
      if (auto* token = s.tokens.find(p.hash, {jti})) {
        s.tokens.extend(*token, until);
        return {};
      }
      if (!admit(1, [&] { s.tokens.insert(p.hash, {jti}, {}, until); })) return errc::store_full;
      return {};
    });
  }

  // Refuses every token of the session family until `until`; extends like revoke_token.
  Result<void> revoke_family(std::string_view sid, std::chrono::sys_seconds until,
                             std::chrono::sys_seconds now) {
    if (until <= now) return {};
    const place p = state_->place_of(sid);
    return write<void>(*p.where, now, [&](shard& s) -> Result<void> {
      if (auto* family = s.families.find(p.hash, {sid})) {
        family->value.revoked_until = std::max(family->value.revoked_until, until);
        s.families.extend(*family, until);
        return {};
      }
      if (!admit(1, [&] { s.families.insert(p.hash, {sid}, family_state{until, 0}, until); })) {
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
    const place p = state_->place_of(subject);
    return write<std::uint64_t>(*p.where, now, [&](shard& s) -> Result<std::uint64_t> {
      auto* current = s.versions.find(p.hash, {subject});
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
      if (!admit(1, [&] { s.versions.insert(p.hash, {subject}, version, keep); })) {
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
    const place p = state_->place_of(sid);
    // A consumed jti lives in its family's shard, so consume_refresh decides under one lock.
    const std::uint32_t use_hash = state_->pair_hash(p, jti);
    return write<RefreshUse>(*p.where, now, [&](shard& s) -> Result<RefreshUse> {
      auto* family = s.families.find(p.hash, {sid});
      if (const auto* used = s.refreshes.find(use_hash, {sid, jti})) {
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
        auto& use = s.refreshes.insert(use_hash, {sid, jti}, refresh_use{now, sequence}, until);
        if (family == nullptr) {
          try {
            family = &s.families.insert(p.hash, {sid},
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

  // One independently locked part of the state. Aligned so that two shards' mutexes never share
  // a cache line.
  struct alignas(64) shard {
    mutable detail::read_mostly_mutex mutex;
    detail::expiring_table<1, revoked> tokens;          // by jti
    detail::expiring_table<1, family_state> families;   // by sid
    detail::expiring_table<2, refresh_use> refreshes;   // by (sid, jti), in the sid's shard
    detail::expiring_table<1, std::uint64_t> versions;  // by subject
    std::uint64_t last_sequence = 0;

    std::size_t prune(std::chrono::sys_seconds now) noexcept {
      return tokens.prune(now) + families.prune(now) + refreshes.prune(now) + versions.prune(now);
    }
  };

  // Where an id lives: its shard (from the hash's high half) and its hash within the shard's
  // tables (the low half), so that the two are independent.
  struct place {
    shard* where;
    std::uint32_t hash;
    std::uint64_t full;
  };

  struct state {
    explicit state(const Options& options)
        : max_entries(options.max_entries),
          mask(options.shards - 1),
          hash(random_key(), random_key()),
          shards(std::make_unique<shard[]>(options.shards)) {}

    place place_of(std::string_view id) const noexcept {
      const std::uint64_t h = hash(id);
      return {&shards[static_cast<std::size_t>(h >> 32) & mask], static_cast<std::uint32_t>(h), h};
    }

    // The hash of (sid, jti) in the sid's shard.
    std::uint32_t pair_hash(const place& sid, std::string_view jti) const noexcept {
      return static_cast<std::uint32_t>(hash(jti) + 0x9e3779b97f4a7c15ULL * sid.full);
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

    static std::uint64_t random_key() {
      std::uint64_t key = 0;
      if (RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key) != 1) {
        throw std::runtime_error("tegata: MemoryRevocationStore cannot draw its hash key");
      }
      return key;
    }

    const std::size_t max_entries;
    const std::size_t mask;
    const detail::siphash13 hash;
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
