// tegata/store/memory.hpp - MemoryRevocationStore: the embedded, thread-safe default store.
//
// Everything lives in this process, so it suits one server (or tests). Several servers that must
// share revocations need a store over a shared backend (Redis, a database) instead.
//
// What it holds (see store/revocation_store.hpp): one record per live session, updated in place
// by every refresh; one index per subject with live sessions (its records, for sessions() and for
// evicting the least recently used one); ended families, as markers kept while an access token
// of theirs may still be accepted; revoked jtis; subject versions; used DPoP proofs, each for its
// iat window.
//
// Concurrency. The state is split into `shards` independent shards, each behind its own
// reader-writer lock (detail/read_mostly_mutex.hpp, whose readers write no cache line that
// readers on other threads write). A key picks its shard by hash: revoked jtis by jti, and
// everything about a subject (its version, its index, its sessions' records and markers) by
// subject, so that a refresh's compare-and-set, the theft verdict that ends the family, a login
// that evicts and a log-out-everywhere that ends every record each decide under a single lock.
// status() takes two shared locks, one after the other and never both at once: there is no
// global lock on the validate path and no lock ordering to get wrong.
//
// Memory. Every fact is stored with the time after which it no longer matters (the `until` the
// manager passes). Each shard keeps its facts ordered by that time, and every write first drops
// its shard's expired facts (O(log n) each), so memory tracks live sessions and tokens only;
// prune(now) sweeps every shard. A fact whose time has come (until <= now) is treated as absent
// even before it is dropped.
//
// Bound. Options::max_entries bounds the total number of entries across all shards. An entry is
// one session record (live, or ended and kept as a marker), one subject index (one per subject
// with live sessions), one revoked jti, one subject version or one used DPoP proof (kept at most
// twice SessionOptions::dpop.iat_window: a client sending proofs faster than max_entries per
// two windows meets store_full, and the manager then refuses its requests rather than forget a
// proof). A refresh changes a record in
// place and needs no entry, so activity never fills the store: only live sessions (and markers,
// each kept at most access_ttl plus leeway after its session ended) do. A write that needs a new
// entry when the store is full first drops the expired facts of its shard, then of every shard;
// if the store is still full it fails with errc::store_full and changes nothing. Reads are never
// refused for that reason.
//
// Size of an entry (detail/id_table.hpp has the layout): an entry's ids are stored inline up to
// 23 bytes (the manager's ids have 22); longer ones, and a session's metadata and DPoP key
// thumbprint, add a heap block of their length (one for both; none for an unbound session
// without metadata). On a 64-bit target a session's record is an entry of 136 bytes (sid 24, until
// 8, session_state 96, heap place and hash 8) and its subject's index one of 48 (subject 24,
// until 8, head and count 8, heap place and hash 8), each with its table's slot and heap place;
// a revoked jti is an entry of 40, a used proof one of 40, a subject version one of 48.
// benchmarks/README.md gives the measured bytes per live entry of each kind
// (store_bytes_per_entry/session_record: a session of its own subject, record and index, the worst
// case). An ended session's marker keeps its record's entry. Storage keeps its peak size after
// pruning.
//
// Failure. status() never throws. A write that cannot allocate memory (std::bad_alloc) or lock
// returns errc::store_unavailable and leaves the store as it was, so the manager fails closed.
//
// Ids are used as given and hashed with SipHash-1-3 under a random key drawn when the store is
// created, so nobody can choose ids (subjects come from the application, perhaps from users) that
// pile up in one shard or one probe sequence. One hash per id picks both its shard and its slot.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tegata/detail/inline.hpp"
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
  explicit MemoryRevocationStore(Options options);

  // Copying shares the state. A move is a copy too (no implicit move is declared), so a store is
  // never left without state.
  MemoryRevocationStore(const MemoryRevocationStore&) = default;
  MemoryRevocationStore& operator=(const MemoryRevocationStore&) = default;
  ~MemoryRevocationStore() = default;

  // The validate path. Shared locks only, never throws; errc::store_unavailable if a lock fails.
  Result<TokenStatus> status(std::string_view jti, std::string_view sid, std::string_view subject,
                             std::chrono::sys_seconds now) const noexcept;

  // The refresh path's read: status() and the session's live record, if any.
  Result<SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                     std::string_view subject,
                                     std::chrono::sys_seconds now) const noexcept;

  // Stores the record of a new session of subject (record.session_id must be new: an id already
  // known is errc::invalid_argument, as is record.until <= now). Beyond max_sessions live sessions
  // the subject's least recently used ones end (as by end_session with until = now) and their
  // ids are returned. Needs one entry, two for a subject without live sessions.
  Result<std::vector<std::string>> create_session(std::string_view subject,
                                                  const SessionRecord& record,
                                                  std::size_t max_sessions,
                                                  std::chrono::sys_seconds now);

  // The compare-and-set of a refresh, under one lock (see RotationVerdict). A theft verdict ends
  // the family in the same step, as end_session would.
  Result<Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                  const RotationRequest& request);

  // Ends the session (subject, sid); see the RevocationStore concept. Ending a live record needs
  // no entry (the record becomes the marker); a marker for a family without a record needs one.
  Result<bool> end_session(std::string_view subject, std::string_view sid,
                           std::chrono::sys_seconds until, std::chrono::sys_seconds now);

  // The subject's live sessions, most recently used (created or refreshed) first.
  Result<std::vector<SessionRecord>> sessions(std::string_view subject,
                                              std::chrono::sys_seconds now) const noexcept;

  // Refuses the jti until `until`. A later `until` extends an earlier revocation; an earlier one
  // does not shorten it. With until <= now there is nothing to remember and nothing is stored.
  Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                            std::chrono::sys_seconds now);

  // The new version is max(previous + 1, now in seconds since the epoch): strictly increasing,
  // even for two bumps in the same second. It is remembered until `until`, and in any case until
  // the clock has passed it, so that a bump after it was forgotten (and read as 0) still yields a
  // larger version than every version handed out before. Every live record of the subject goes
  // (the version already voids their tokens), and with them the subject's index.
  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now);

  // Records a used DPoP proof's key until `until`; false if it is recorded already (see
  // ProofReplayCache in store/revocation_store.hpp). Needs one entry, in the key's shard.
  Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
                         std::chrono::sys_seconds now) const;

  // Drops every expired fact (until <= now) from every shard, one shard at a time. Writes already
  // do this for their own shard; call it periodically to release memory of idle shards sooner.
  void prune(std::chrono::sys_seconds now);

  // Entries currently held, expired but not yet dropped ones included. For tests and metrics.
  std::size_t size() const noexcept;

 private:
  struct state;  // store/memory_inl.hpp
  std::shared_ptr<state> state_;
};

static_assert(RevocationStore<MemoryRevocationStore>);
static_assert(ProofReplayCache<MemoryRevocationStore>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/store/memory_inl.hpp"
#endif
