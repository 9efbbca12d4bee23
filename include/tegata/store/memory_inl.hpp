// tegata/store/memory_inl.hpp - MemoryRevocationStore's definitions (store/memory.hpp says what
// it does; detail/inline.hpp why the definitions live apart from the declarations).
#pragma once

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>  // std::shared_lock
#include <stdexcept>

#include "tegata/detail/id_table.hpp"
#include "tegata/detail/read_mostly_mutex.hpp"
#include "tegata/detail/siphash.hpp"
#include "tegata/store/memory.hpp"

namespace tegata {

// The store's state and every operation on it; MemoryRevocationStore is a shared handle to one.
struct MemoryRevocationStore::state {
  struct session_state;
  struct subject_index;
  // By sid, hashed with its subject and kept in the subject's shard: a lookup by another
  // subject misses it; a live record also names its subject through its owner index.
  using family_table = detail::expiring_table<1, session_state>;
  using family_entry = family_table::entry;
  using index_table = detail::expiring_table<1, subject_index>;  // by subject
  using index_entry = index_table::entry;

  // The longest DPoP thumbprint (the manager's are 43 characters) and proof key (22) accepted.
  static constexpr std::size_t kMaxJktBytes = 255;
  static constexpr std::size_t kMaxProofKeyBytes = 128;

  // A session's record while owner is set; once ended, a marker (owner no_entry, ids and text
  // released) that refuses the family's tokens until the entry's until. The record's sid and
  // until are its entry's; 96 bytes on a 64-bit target.
  struct session_state {
    detail::stored_id current;  // refresh token id
    // The one before, as previous_tag(id): 0 until the first rotation. The store only ever
    // compares it with a presented id and never hands it out, so 8 bytes of keyed hash do
    // instead of the id (24 bytes). A collision could not be used: see previous_tag.
    std::uint64_t previous = 0;
    // The DPoP thumbprint and the metadata in one block: see packed_text. Empty for an unbound
    // session without metadata, which then owns no heap block.
    detail::stored_text text;
    std::chrono::sys_seconds auth_time{};
    std::chrono::sys_seconds last_refresh{};
    std::chrono::sys_seconds expires_at{};
    std::chrono::sys_seconds absolute_end{};
    std::chrono::sys_seconds access_until{};
    // The idle limit in seconds and the persistent flag share 4 bytes (apart, with padding, they
    // took 16). 31 bits keep every limit within +-2^30 s (34 years) exactly: the manager's are
    // at most 10 years (SessionOptions bounds absolute_ttl, refresh_ttl by it, and IssueOptions
    // only shortens them). Only another caller of create_session can pass a limit beyond, and it
    // is clamped: a longer one reads back as 2^30 - 1 s (shorter, never longer), one below
    // -2^30 s (a refresh token expired decades before it is issued) as -2^30 s.
    // Bit 0: persistent; bits 1 to 31: the idle limit in seconds, two's complement. Masks, not
    // bit-fields, which -Wconversion cannot see are assigned in range.
    std::uint32_t limits_ = 1;
    // Links as entry numbers (4 bytes where a pointer takes 8), detail::no_entry for none.
    std::uint32_t owner = detail::no_entry;  // the subject's index (in subjects) while live
    std::uint32_t newer = detail::no_entry;  // its neighbours in the index's list (in families)
    std::uint32_t older = detail::no_entry;

    std::chrono::seconds refresh_ttl() const noexcept {
      // An arithmetic shift (C++20) of the bits as signed restores the sign.
      return std::chrono::seconds{static_cast<std::int32_t>(limits_) >> 1};
    }
    void set_refresh_ttl(std::chrono::seconds ttl) noexcept {
      constexpr std::chrono::seconds::rep limit = (std::chrono::seconds::rep{1} << 30) - 1;
      const auto seconds = static_cast<std::int32_t>(std::clamp(ttl.count(), -limit - 1, limit));
      limits_ = (static_cast<std::uint32_t>(seconds) << 1) | (limits_ & 1U);
    }
    bool persistent() const noexcept { return (limits_ & 1U) != 0; }
    void set_persistent(bool persistent) noexcept {
      limits_ = (limits_ & ~1U) | (persistent ? 1U : 0U);
    }
  };
  static_assert(sizeof(void*) != 8 || sizeof(session_state) == 96);
  // The live sessions of one subject: a circular list through their records, most recently used
  // (created, rotated or given a grace pair) first, so that sessions() reads it in order from
  // head along `older`, and a login beyond the bound ends the tail, head's `newer`, without a
  // tail field. Entries never move, so their numbers stay valid until an entry is erased, and
  // every erasure of a live record unlinks it first.
  struct subject_index {
    std::uint32_t head = detail::no_entry;
    std::uint32_t count = 0;  // never above the entries a table can number
  };
  struct revoked {};

  // One independently locked part of the state. Aligned so that two shards' mutexes never share
  // a cache line.
  struct alignas(64) shard {
    mutable detail::read_mostly_mutex mutex;
    detail::expiring_table<1, revoked> tokens;          // by jti
    family_table families;                              // by sid, in the subject's shard
    index_table subjects;                               // by subject
    detail::expiring_table<1, std::uint64_t> versions;  // by subject
    detail::expiring_table<1, revoked> proofs;          // used DPoP proofs, by replay key

    // Whether e is a live record of subject.
    bool owned_by(const family_entry& e, std::string_view subject) const noexcept {
      return e.value.owner != detail::no_entry && subjects[e.value.owner].ids[0].view() == subject;
    }

    // Makes a new record the first (most recently used) live session of its subject.
    void link_first(index_entry& index, family_entry& e) noexcept {
      e.value.owner = subjects.number_of(index);
      attach_first(index.value, families.number_of(e));
    }

    // Removes a live record from its subject's index (and the index once empty); returns the
    // number of entries that freed (0 or 1).
    std::size_t unlink(family_entry& e) noexcept {
      index_entry& index = subjects[e.value.owner];
      detach(index.value, e);
      e.value.owner = detail::no_entry;
      if (index.value.count != 0) return 0;
      subjects.erase(index);
      return 1;
    }

    // Moves a live record to the front of its subject's list: it was just used.
    void touch(family_entry& e) noexcept {
      subject_index& index = subjects[e.value.owner].value;
      if (&families[index.head] == &e) return;  // already first, as a subject's only session is
      detach(index, e);
      attach_first(index, families.number_of(e));
    }

    void detach(subject_index& index, family_entry& e) noexcept {
      if (--index.count == 0) {
        index.head = detail::no_entry;
      } else {
        families[e.value.newer].value.older = e.value.older;
        families[e.value.older].value.newer = e.value.newer;
        if (&families[index.head] == &e) index.head = e.value.older;
      }
      e.value.newer = e.value.older = detail::no_entry;
    }

    // Puts entry number n, in no list, first in index's: between the head and the tail.
    void attach_first(subject_index& index, std::uint32_t n) noexcept {
      family_entry& e = families[n];
      if (index.count++ == 0) {
        e.value.newer = e.value.older = n;  // alone: its own neighbour both ways
      } else {
        family_entry& head = families[index.head];
        e.value.older = index.head;
        e.value.newer = head.value.newer;
        families[head.value.newer].value.older = n;  // the tail (the head itself if alone)
        head.value.newer = n;
      }
      index.head = n;
    }
    std::size_t prune(std::chrono::sys_seconds now) noexcept {
      std::size_t unlinked = 0;
      const std::size_t records = families.prune(now, [&](family_entry& e) noexcept {
        if (e.value.owner != detail::no_entry) unlinked += unlink(e);
      });
      return tokens.prune(now) + versions.prune(now) + proofs.prune(now) + records + unlinked;
    }
  };

  // Where an id lives: its shard (from the hash's high half) and its hash within the shard's
  // tables (the low half), so that the two are independent.
  struct place {
    shard* where;
    std::uint32_t hash;
    std::uint64_t full;
  };

  explicit state(const Options& options)
      : max_entries(options.max_entries),
        mask(options.shards - 1),
        hash(random_key(), random_key()),
        shards(std::make_unique<shard[]>(options.shards)) {}

  place place_of(std::string_view id) const noexcept {
    const std::uint64_t h = hash(id);
    return {&shards[static_cast<std::size_t>(h >> 32) & mask], static_cast<std::uint32_t>(h), h};
  }

  // The hash of a pair of ids (subject and sid) in the first one's shard.
  std::uint32_t pair_hash(const place& first, std::string_view second) const noexcept {
    return static_cast<std::uint32_t>(hash(second) + 0x9e3779b97f4a7c15ULL * first.full);
  }

  // What a record keeps of its previous refresh token id: its keyed hash with the low bit set,
  // so never 0, which stands for "none". An empty id maps to 0: it never passes for a previous
  // one (the manager's ids are never empty).
  //
  // Why a collision cannot be exploited: a match only lets a refresh within the grace window get
  // a pair on the session's current chain (RotationVerdict::within_grace) instead of being
  // judged theft. The id compared is the jti of a refresh token the manager has verified (its
  // own signature) and found to be of this very session (sub and sid), so the presenter already
  // holds one of the session's own refresh tokens, and every such jti was drawn at random by
  // the manager, not chosen by the presenter. For an older token of the chain to pass for the
  // previous one, two random ids would have to agree in 63 bits of a SipHash under a key drawn
  // when the store was created and never revealed: about 2^-63 per refresh, and nothing an
  // attacker can search for offline.
  std::uint64_t previous_tag(std::string_view id) const noexcept {
    return id.empty() ? 0 : hash(id) | 1;
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

  bool token_revoked(std::string_view jti, std::chrono::sys_seconds now) const {
    const place p = place_of(jti);
    const std::shared_lock lock(p.where->mutex);
    const auto* token = p.where->tokens.find(p.hash, {jti});
    return token != nullptr && token->until > now;
  }

  // Under a lock of the subject's shard: fills the family and version parts of status and
  // returns the session's live record, if any.
  const family_entry* read_subject(const shard& s, const place& p, std::string_view sid,
                                   std::string_view subject, std::chrono::sys_seconds now,
                                   TokenStatus& status) const noexcept {
    const auto* version = s.versions.find(p.hash, {subject});
    if (version != nullptr && version->until > now) status.min_version = version->value;
    const auto* e = s.families.find(pair_hash(p, sid), {sid});
    if (e == nullptr || e->until <= now) return nullptr;
    if (e->value.owner != detail::no_entry && !s.owned_by(*e, subject)) return nullptr;
    if (e->value.owner == detail::no_entry) {
      status.family_revoked = true;
      return nullptr;
    }
    return e;
  }

  static SessionRecord record_of(const family_entry& e) {
    const session_state& r = e.value;
    SessionRecord out;
    out.session_id.assign(e.ids[0].view());
    out.refresh_id.assign(r.current.view());
    copy_times(r, out);
    out.refresh_ttl = r.refresh_ttl();
    out.persistent = r.persistent();
    out.until = e.until;
    const std::string_view text = r.text.view();
    if (!text.empty()) {
      const std::size_t jkt_size = static_cast<unsigned char>(text[0]);
      out.jkt.assign(text.substr(1, jkt_size));
      out.metadata.assign(text.substr(1 + jkt_size));
    }
    return out;
  }

  // What create_session refuses: what every store does, and a thumbprint longer than the one
  // byte packed_text gives its length.
  static bool acceptable(const SessionRecord& record, std::size_t max_sessions,
                         std::chrono::sys_seconds now) noexcept {
    return acceptable_new_session(record, max_sessions, now) && record.jkt.size() <= kMaxJktBytes;
  }

  // A record's thumbprint and metadata as one text: the thumbprint's length in one byte, the
  // thumbprint, the metadata. Empty when both are.
  static std::string packed_text(const SessionRecord& record) {
    std::string text;
    if (record.jkt.empty() && record.metadata.empty()) return text;
    text.reserve(1 + record.jkt.size() + record.metadata.size());
    text.push_back(static_cast<char>(static_cast<unsigned char>(record.jkt.size())));
    text.append(record.jkt).append(record.metadata);
    return text;
  }

  // The times a SessionRecord and a session_state share by name, either way.
  template <class From, class To>
  static void copy_times(const From& from, To& to) noexcept {
    to.auth_time = from.auth_time;
    to.last_refresh = from.last_refresh;
    to.expires_at = from.expires_at;
    to.absolute_end = from.absolute_end;
    to.access_until = from.access_until;
  }

  // Ends a live record: it leaves its subject's index and becomes a marker until the later of
  // until and its access_until, or goes at once if that has passed. Never fails.
  void end(shard& s, family_entry& e, std::chrono::sys_seconds until,
           std::chrono::sys_seconds now) noexcept {
    std::size_t freed = s.unlink(e);
    const auto keep = std::max(until, e.value.access_until);
    if (keep > now) {
      e.value.current.reset();
      e.value.previous = 0;
      e.value.text.reset();
      s.families.set_until(e, keep);
    } else {
      s.families.erase(e);
      ++freed;
    }
    release(freed);
  }

  // Reserves n entries and runs insert (which adds them); gives the reservation back if insert
  // throws. False, with nothing changed, when the bound leaves no room.
  template <class Insert>
  bool admit(std::size_t n, Insert insert) {
    if (!reserve(n)) return false;
    try {
      insert();
    } catch (...) {
      release(n);
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
          release(s.prune(now));
          Result<T> result = op(s);
          if (result.error() != errc::store_full || attempt > 0) return result;
        }
        sweep(now);
      }
    } catch (...) {
      return errc::store_unavailable;
    }
  }
  // ---- The operations MemoryRevocationStore forwards to ----------------------------------------

  Result<TokenStatus> status(std::string_view jti, std::string_view sid, std::string_view subject,
                             std::chrono::sys_seconds now) const noexcept {
    try {
      TokenStatus result;
      result.token_revoked = token_revoked(jti, now);
      const place p = place_of(subject);
      const std::shared_lock lock(p.where->mutex);
      read_subject(*p.where, p, sid, subject, now, result);
      return result;
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  Result<SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                     std::string_view subject,
                                     std::chrono::sys_seconds now) const noexcept {
    try {
      SessionLookup result;
      result.status.token_revoked = token_revoked(jti, now);
      const place p = place_of(subject);
      const std::shared_lock lock(p.where->mutex);
      if (const auto* e = read_subject(*p.where, p, sid, subject, now, result.status)) {
        result.record = record_of(*e);
      }
      return result;
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  Result<std::vector<std::string>> create_session(std::string_view subject,
                                                  const SessionRecord& record,
                                                  std::size_t max_sessions,
                                                  std::chrono::sys_seconds now) {
    if (!acceptable(record, max_sessions, now)) return errc::invalid_argument;
    const place p = place_of(subject);
    const std::uint32_t family_hash = pair_hash(p, record.session_id);
    using evicted_ids = std::vector<std::string>;
    return write<evicted_ids>(*p.where, now, [&](shard& s) -> Result<evicted_ids> {
      if (s.families.find(family_hash, {record.session_id}) != nullptr) {
        return errc::invalid_argument;
      }
      // Everything that allocates comes first, while nothing has changed.
      session_state fresh;
      fresh.current.assign(record.refresh_id);
      fresh.text.assign(packed_text(record));
      copy_times(record, fresh);
      fresh.set_refresh_ttl(record.refresh_ttl);
      fresh.set_persistent(record.persistent);
      auto* index = s.subjects.find(p.hash, {subject});
      // The least recently used sessions, from the tail, that must end for one more to fit.
      std::vector<family_entry*> victims;
      evicted_ids evicted;
      if (index != nullptr && index->value.count >= max_sessions) {
        const std::size_t excess = std::size_t{index->value.count} + 1 - max_sessions;
        victims.reserve(excess);
        evicted.reserve(excess);
        // The tail is the head's newer neighbour (the list is circular).
        for (std::uint32_t n = s.families[index->value.head].value.newer; victims.size() < excess;
             n = s.families[n].value.newer) {
          victims.push_back(&s.families[n]);
          evicted.emplace_back(s.families[n].ids[0].view());
        }
      }
      const bool new_subject = index == nullptr;
      family_entry* created = nullptr;
      const bool admitted = admit(new_subject ? 2 : 1, [&] {
        if (new_subject) {
          index = &s.subjects.insert(p.hash, {subject}, subject_index{},
                                     std::chrono::sys_seconds::max());
        }
        try {
          created =
              &s.families.insert(family_hash, {record.session_id}, std::move(fresh), record.until);
        } catch (...) {
          if (new_subject) s.subjects.erase(*index);
          throw;
        }
      });
      if (!admitted) return errc::store_full;
      s.link_first(*index, *created);
      for (family_entry* victim : victims) end(s, *victim, now, now);
      return evicted;
    });
  }

  Result<Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                  const RotationRequest& request) {
    const place p = place_of(subject);
    const std::uint32_t family_hash = pair_hash(p, sid);
    return write<Rotation>(*p.where, request.now, [&](shard& s) -> Result<Rotation> {
      family_entry* e = s.families.find(family_hash, {sid});
      if (e == nullptr || !s.owned_by(*e, subject) || e->until <= request.now) {
        return Rotation{};  // ended
      }
      session_state& r = e->value;
      if (r.current.view() == request.presented) {
        // Allocations first: the result and the new id.
        Rotation out{RotationVerdict::rotated, std::string(request.next), request.expires_at};
        detail::stored_id next;
        next.assign(request.next);
        r.previous = previous_tag(r.current.view());
        r.current = std::move(next);
        r.last_refresh = request.now;
        r.expires_at = request.expires_at;
        r.access_until = std::max(r.access_until, request.access_until);
        s.touch(*e);
        s.families.set_until(*e, std::max(request.until, r.access_until));
        return out;
      }
      if (request.grace > std::chrono::seconds::zero() && r.previous != 0 &&
          request.now - r.last_refresh <= request.grace &&
          r.previous == previous_tag(request.presented)) {
        Rotation out{RotationVerdict::within_grace, std::string(r.current.view()), r.expires_at};
        r.access_until = std::max(r.access_until, request.access_until);
        s.touch(*e);
        s.families.extend(*e, r.access_until);
        return out;
      }
      end(s, *e, request.now, request.now);
      return Rotation{RotationVerdict::reused, {}, {}};
    });
  }

  Result<bool> end_session(std::string_view subject, std::string_view sid,
                           std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
    const place p = place_of(subject);
    const std::uint32_t family_hash = pair_hash(p, sid);
    return write<bool>(*p.where, now, [&](shard& s) -> Result<bool> {
      family_entry* e = s.families.find(family_hash, {sid});
      // Live (write() pruned the expired ones)?
      if (e != nullptr && e->value.owner != detail::no_entry) {
        if (!s.owned_by(*e, subject)) return false;  // (a 32-bit hash collision: leave it)
        end(s, *e, until, now);
        return true;
      }
      if (until <= now) return false;
      if (e != nullptr) {
        s.families.extend(*e, until);
        return false;
      }
      if (!admit(1, [&] { s.families.insert(family_hash, {sid}, {}, until); })) {
        return errc::store_full;
      }
      return false;
    });
  }

  Result<std::vector<SessionRecord>> sessions(std::string_view subject,
                                              std::chrono::sys_seconds now) const noexcept {
    try {
      std::vector<SessionRecord> result;
      const place p = place_of(subject);
      const std::shared_lock lock(p.where->mutex);
      if (const auto* index = p.where->subjects.find(p.hash, {subject})) {
        result.reserve(index->value.count);
        std::uint32_t n = index->value.head;
        for (std::uint32_t left = index->value.count; left != 0; --left) {
          const family_entry& e = p.where->families[n];
          if (e.until > now) result.push_back(record_of(e));
          n = e.value.older;
        }
      }
      return result;
    } catch (...) {
      return errc::store_unavailable;
    }
  }

  Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                            std::chrono::sys_seconds now) {
    if (until <= now) return {};
    const place p = place_of(jti);
    return write<void>(*p.where, now, [&](shard& s) -> Result<void> {
      if (auto* token = s.tokens.find(p.hash, {jti})) {
        s.tokens.extend(*token, until);
        return {};
      }
      if (!admit(1, [&] { s.tokens.insert(p.hash, {jti}, {}, until); })) return errc::store_full;
      return {};
    });
  }

  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now) {
    const place p = place_of(subject);
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
      } else if (!admit(1, [&] { s.versions.insert(p.hash, {subject}, version, keep); })) {
        return errc::store_full;
      }
      if (auto* index = s.subjects.find(p.hash, {subject})) {
        const std::size_t erased = index->value.count + std::size_t{1};
        std::uint32_t n = index->value.head;
        for (std::uint32_t left = index->value.count; left != 0; --left) {
          family_entry& e = s.families[n];
          n = e.value.older;  // before erase() clears it
          s.families.erase(e);
        }
        s.subjects.erase(*index);
        release(erased);
      }
      return version;
    });
  }

  Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
                         std::chrono::sys_seconds now) {
    if (key.empty() || key.size() > kMaxProofKeyBytes) return errc::invalid_argument;
    if (until <= now) return true;
    const place p = place_of(key);
    return write<bool>(*p.where, now, [&](shard& s) -> Result<bool> {
      // write() dropped the shard's expired facts: one found is in force.
      if (s.proofs.find(p.hash, {key}) != nullptr) return false;
      if (!admit(1, [&] { s.proofs.insert(p.hash, {key}, {}, until); })) return errc::store_full;
      return true;
    });
  }
};

TEGATA_INLINE MemoryRevocationStore::MemoryRevocationStore(Options options)
    : state_(std::make_shared<state>(state::validated(options))) {}

TEGATA_INLINE Result<TokenStatus> MemoryRevocationStore::status(
    std::string_view jti, std::string_view sid, std::string_view subject,
    std::chrono::sys_seconds now) const noexcept {
  return state_->status(jti, sid, subject, now);
}

TEGATA_INLINE Result<SessionLookup> MemoryRevocationStore::find_session(
    std::string_view jti, std::string_view sid, std::string_view subject,
    std::chrono::sys_seconds now) const noexcept {
  return state_->find_session(jti, sid, subject, now);
}

TEGATA_INLINE Result<std::vector<std::string>> MemoryRevocationStore::create_session(
    std::string_view subject, const SessionRecord& record, std::size_t max_sessions,
    std::chrono::sys_seconds now) {
  return state_->create_session(subject, record, max_sessions, now);
}

TEGATA_INLINE Result<Rotation> MemoryRevocationStore::rotate_session(
    std::string_view subject, std::string_view sid, const RotationRequest& request) {
  return state_->rotate_session(subject, sid, request);
}

TEGATA_INLINE Result<bool> MemoryRevocationStore::end_session(std::string_view subject,
                                                              std::string_view sid,
                                                              std::chrono::sys_seconds until,
                                                              std::chrono::sys_seconds now) {
  return state_->end_session(subject, sid, until, now);
}

TEGATA_INLINE Result<std::vector<SessionRecord>> MemoryRevocationStore::sessions(
    std::string_view subject, std::chrono::sys_seconds now) const noexcept {
  return state_->sessions(subject, now);
}

TEGATA_INLINE Result<void> MemoryRevocationStore::revoke_token(std::string_view jti,
                                                               std::chrono::sys_seconds until,
                                                               std::chrono::sys_seconds now) {
  return state_->revoke_token(jti, until, now);
}

TEGATA_INLINE Result<std::uint64_t> MemoryRevocationStore::bump_version(
    std::string_view subject, std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
  return state_->bump_version(subject, until, now);
}

TEGATA_INLINE Result<bool> MemoryRevocationStore::use_proof(std::string_view key,
                                                            std::chrono::sys_seconds until,
                                                            std::chrono::sys_seconds now) const {
  return state_->use_proof(key, until, now);
}

TEGATA_INLINE void MemoryRevocationStore::prune(std::chrono::sys_seconds now) {
  state_->sweep(now);
}

TEGATA_INLINE std::size_t MemoryRevocationStore::size() const noexcept {
  return state_->entries.load(std::memory_order_relaxed);
}

}  // namespace tegata
