// tegata/store/sqlite.hpp - tegata::sqlite::RevocationStore: sessions and revocations in a SQLite
// file, so that they survive a restart and a crash of the process, with no server to run.
// Optional: it needs SQLite 3 and the CMake target tegata::sqlite; the rest of tegata never
// includes it. docs/sqlite.md covers when to choose it, durability, several processes on one
// file, pruning, errors and the schema.
//
// Semantics. Those of MemoryRevocationStore (the shared store-contract suite runs against both):
// a fact counts while until > now, with the caller's now; revocations extend and never shorten;
// versions are seconds since the epoch of the latest bump, strictly increasing; one record per
// live session, changed in place by the refresh compare-and-set; ended families are kept by
// (subject, sid), as the memory store keeps them.
//
// Atomicity. Every write is one transaction begun with BEGIN IMMEDIATE, which takes the file's
// write lock before it reads: the read-modify-writes (the refresh compare-and-set with its theft
// verdict, a login that evicts, log out everywhere) decide on what they read, even when several
// processes share the file, so one refresh token has exactly one winner. A failed write rolls
// back: nothing is half-written. The reads are one SELECT each, which SQLite runs as a snapshot:
// status() is one prepared statement with three primary-key searches (revoked jti, ended family,
// version).
//
// Threads. Thread-safe; the SessionManager calls it from many threads at once. SQLite admits one
// writer per file at a time, and WAL lets readers run beside it, so:
//  - one writer connection, behind a mutex: writes queue on the mutex (cheap, fair enough, no
//    sleeping) instead of each thread's connection polling the file lock in SQLite's busy handler
//    (which sleeps in steps of milliseconds); other processes are waited for by busy_timeout;
//  - reader connections in a pool, one per concurrent reader: taken for one call and given back,
//    each with its own prepared statements, so the validate path never waits for a write nor for
//    another reader. The pool grows to the peak number of concurrent readers and keeps them.
// Every connection is opened SQLITE_OPEN_NOMUTEX: it is only ever used by one thread at a time.
//
// Copies. A copyable handle: copies share the connections, which close when the last copy goes.
// A store must not be used across fork(): open it in the child.
//
// Opening. The constructor opens the file (creating it), checks what it is (schema.hpp), sets WAL
// mode and the durability, prepares every statement and opens one reader. Misconfiguration fails
// loudly there: std::invalid_argument for unusable options, std::runtime_error naming the file
// and the reason for a missing directory, a read-only file or directory, a file of another
// format or application, a file written by a newer tegata, or a corrupt one.
//
// Failure. After construction nothing throws: a SQLite error (locked beyond busy_timeout, I/O
// error, disk full, a file damaged meanwhile) or std::bad_alloc returns errc::store_unavailable,
// after the transaction rolled back, and the SessionManager fails closed.
//
// Status cache (on by default; Options::cache, sqlite/cache.hpp). status() answers from an
// in-process cache of what it read, because each SQLite read transaction costs two system calls
// (a lock in the -shm file). Writes through this store that can refuse a token void the cache as
// they commit, so within one process it is exact; a revocation committed by another process on the
// same file is seen at most cache.max_staleness (1 s by default) later. Turn it off (cache.enabled
// = false) where processes sharing the file must see each other's revocations at once.
//
// DPoP proofs (use_proof) are a write: one BEGIN IMMEDIATE transaction, never answered by the
// status cache, so processes sharing the file agree at once on which proofs were used.
//
// Pruning. Every Options::prune_every-th write transaction (use_proof included) also deletes at
// most Options::prune_batch expired rows of each table (through the index on until), so the file
// tracks live sessions, tokens and proofs, and no request pays for a long sweep; prune() runs one
// batch.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/error.hpp"
#include "tegata/store/revocation_store.hpp"
#include "tegata/store/sqlite/cache.hpp"
#include "tegata/store/sqlite/connection.hpp"
#include "tegata/store/sqlite/options.hpp"
#include "tegata/store/sqlite/schema.hpp"

namespace tegata::sqlite {

class RevocationStore {
 public:
  using Options = sqlite::Options;

  // Opens (or creates) the file; throws on misconfiguration (see "Opening" above).
  explicit RevocationStore(const Options& options) : state_(std::make_shared<state>(options)) {}

  RevocationStore(const RevocationStore&) = default;
  RevocationStore& operator=(const RevocationStore&) = default;
  ~RevocationStore() = default;

  // The validate path: from the status cache when it holds a fresh answer (Options::cache),
  // otherwise one prepared SELECT on a pooled reader connection. Never throws.
  Result<TokenStatus> status(std::string_view jti, std::string_view sid, std::string_view subject,
                             std::chrono::sys_seconds now) const noexcept {
    detail::status_cache* cache = state_->cache.get();
    std::uint64_t generation = 0;
    detail::status_cache::clock::time_point read_at{};
    if (cache != nullptr) {
      try {
        if (auto hit = cache->find(jti, sid, subject, now)) return *hit;
      } catch (...) {  // std::bad_alloc: ask the file
      }
      generation = cache->generation();
      read_at = detail::status_cache::clock::now();
    }
    auto facts = state_->read<detail::status_facts>([&](reader& r) {
      detail::cursor c(r.status, jti, sid, subject);
      c.row();
      detail::status_facts f;
      if (!c.null(0)) f.token_until = c.integer(0);
      if (!c.null(1)) f.family_until = c.integer(1);
      if (!c.null(3)) {
        f.version = c.integer(2);
        f.version_until = c.integer(3);
      }
      return Result<detail::status_facts>(f);
    });
    if (!facts) return facts.error();
    if (cache != nullptr) {
      try {
        cache->insert(jti, sid, subject, *facts, read_at, generation);
      } catch (...) {  // std::bad_alloc: not cached
      }
    }
    return facts->at(now);
  }

  // The refresh path's read: status() and the session's live record, if any, in one SELECT.
  Result<SessionLookup> find_session(std::string_view jti, std::string_view sid,
                                     std::string_view subject,
                                     std::chrono::sys_seconds now) const noexcept {
    return state_->read<SessionLookup>([&](reader& r) -> Result<SessionLookup> {
      detail::cursor c(r.lookup, jti, sid, subject, now);
      c.row();
      SessionLookup out;
      out.status.token_revoked = c.integer(0) != 0;
      out.status.min_version = static_cast<std::uint64_t>(c.integer(1));
      if (!c.null(2)) {  // a row of the family that counts at now
        if (c.integer(2) == 0) {
          out.status.family_revoked = true;
        } else {
          out.record = record_at(c, 3, sid);
        }
      }
      return out;
    });
  }

  // Stores the record of a new session of subject (see MemoryRevocationStore::create_session: a
  // session id already known, live or ended, is errc::invalid_argument); beyond max_sessions
  // live sessions the least recently used ones end and their ids are returned, least recent
  // first. One transaction.
  Result<std::vector<std::string>> create_session(std::string_view subject,
                                                  const SessionRecord& record,
                                                  std::size_t max_sessions,
                                                  std::chrono::sys_seconds now) {
    if (!acceptable_new_session(record, max_sessions, now)) return errc::invalid_argument;
    using evicted_ids = std::vector<std::string>;
    return state_->write<evicted_ids>(now, [&](writer& w) -> Result<evicted_ids> {
      const std::string_view sid = record.session_id;
      w.forget_session.run(subject, sid, now);  // an expired row counts as absent
      const std::int64_t used = next_use(w, subject);
      if (w.insert_session.run(subject, sid, used, record.until, record.refresh_id, record.metadata,
                               record.auth_time, record.last_refresh, record.expires_at,
                               record.absolute_end, record.refresh_ttl.count(), record.access_until,
                               record.persistent ? 1 : 0, record.version, record.jkt) != 1) {
        return errc::invalid_argument;
      }
      evicted_ids evicted;
      std::vector<std::chrono::sys_seconds> access_until;
      {
        detail::cursor count(w.count_live, subject, now);
        count.row();
        const auto live = static_cast<std::uint64_t>(count.integer(0));
        if (live <= max_sessions) return evicted;
        detail::cursor oldest(w.least_recent, subject, now, live - max_sessions);
        while (oldest.next()) {
          evicted.push_back(oldest.text(0));
          access_until.push_back(oldest.time(1));
        }
      }
      for (std::size_t i = 0; i < evicted.size(); ++i) {
        end_record(w, subject, evicted[i], access_until[i], now, now);
      }
      return evicted;
    });
  }

  // The compare-and-set of a refresh (RotationVerdict), in one transaction. A theft verdict ends
  // the family in the same transaction, as end_session would.
  Result<Rotation> rotate_session(std::string_view subject, std::string_view sid,
                                  const RotationRequest& request) {
    const auto now = request.now;
    return state_->write<Rotation>(now, [&](writer& w) -> Result<Rotation> {
      auto r = live_record(w, subject, sid, now);
      if (!r) return Rotation{};  // ended
      const auto access = std::max(r->access_until, request.access_until);
      if (r->current == request.presented) {
        w.rotate.run(subject, sid, request.next, now, request.expires_at, access,
                     std::max(request.until, access), next_use(w, subject));
        return Rotation{RotationVerdict::rotated, std::string(request.next), request.expires_at};
      }
      if (request.grace > std::chrono::seconds::zero() && !r->previous.empty() &&
          r->previous == request.presented && now - r->last_refresh <= request.grace) {
        w.within_grace.run(subject, sid, access, std::max(r->until, access), next_use(w, subject));
        return Rotation{RotationVerdict::within_grace, std::move(r->current), r->expires_at};
      }
      end_record(w, subject, sid, r->access_until, now, now);
      return Rotation{RotationVerdict::reused, {}, {}};
    });
  }

  // Ends the session (subject, sid); see the RevocationStore concept.
  Result<bool> end_session(std::string_view subject, std::string_view sid,
                           std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
    return state_->write<bool>(now, [&](writer& w) -> Result<bool> {
      if (const auto r = live_record(w, subject, sid, now)) {
        end_record(w, subject, sid, r->access_until, until, now);
        return true;
      }
      if (until > now) {
        w.mark_ended.run(subject, sid, until);
        w.refuses = true;
      }
      return false;
    });
  }

  // The subject's live sessions, most recently used (created or refreshed) first: one SELECT.
  Result<std::vector<SessionRecord>> sessions(std::string_view subject,
                                              std::chrono::sys_seconds now) const noexcept {
    using records = std::vector<SessionRecord>;
    return state_->read<records>([&](reader& r) -> Result<records> {
      records out;
      detail::cursor c(r.sessions, subject, now);
      while (c.next()) out.push_back(record_at(c, 1, c.bytes(0)));
      return out;
    });
  }

  // Refuses the jti until `until`; extends, never shortens. until <= now stores nothing.
  Result<void> revoke_token(std::string_view jti, std::chrono::sys_seconds until,
                            std::chrono::sys_seconds now) {
    if (until <= now) return {};
    return state_->write<void>(now, [&](writer& w) -> Result<void> {
      w.revoke.run(jti, until);
      w.refuses = true;
      return {};
    });
  }

  // The new version is max(previous + 1, now in seconds since the epoch), remembered until the
  // later of `until` and the second the clock passes it (as MemoryRevocationStore::bump_version);
  // every live record of the subject goes, in the same transaction.
  Result<std::uint64_t> bump_version(std::string_view subject, std::chrono::sys_seconds until,
                                     std::chrono::sys_seconds now) {
    return state_->write<std::uint64_t>(now, [&](writer& w) -> Result<std::uint64_t> {
      std::uint64_t previous = 0;
      {
        detail::cursor c(w.find_version, subject, now);
        if (c.next()) previous = static_cast<std::uint64_t>(c.integer(0));
      }
      const std::int64_t now_count = now.time_since_epoch().count();
      const std::uint64_t version =
          std::max(previous + 1, now_count > 0 ? static_cast<std::uint64_t>(now_count) : 0);
      if (version > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return errc::store_unavailable;  // beyond what a column holds: never in practice
      }
      const std::chrono::sys_seconds passed{
          std::chrono::seconds{static_cast<std::int64_t>(version) + 1}};
      w.set_version.run(subject, version, std::max(until, passed));
      w.drop_records.run(subject);
      w.refuses = true;
      return version;
    });
  }

  // DPoP proofs are single-use (the ProofReplayCache concept): true when key was not recorded (or
  // only until a time <= now) and now is, until `until`; false, changing nothing, when it is
  // recorded with until > now. One upsert in one BEGIN IMMEDIATE transaction, so of two threads
  // or processes with one key exactly one inserts (or replaces the expired row): the answer is
  // whether it changed a row. Never from the status cache. until <= now: true, nothing stored;
  // an empty key or one over 128 bytes: errc::invalid_argument.
  Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
                         std::chrono::sys_seconds now) const noexcept {
    if (key.empty() || key.size() > kMaxProofKey) return errc::invalid_argument;
    if (until <= now) return true;
    return state_->write<bool>(
        now, [&](writer& w) -> Result<bool> { return w.use_proof.run(key, until, now) == 1; });
  }

  // Deletes at most Options::prune_batch expired rows (until <= now) of each table, in one
  // transaction, and returns how many went. Writes already do this every prune_every-th time;
  // call it periodically to shrink a store that sees few writes.
  Result<std::size_t> prune(std::chrono::sys_seconds now) {
    return state_->write<std::size_t>(
        now,
        [&](writer& w) -> Result<std::size_t> {
          return prune_batch(w, now, state_->options.prune_batch);
        },
        /*prune_too=*/false);
  }

  const Options& options() const noexcept { return state_->options; }

 private:
  // The writer's statements, used under the writer mutex only.
  struct writer {
    writer(sqlite3* db, const std::string& path)
        : begin(db, "BEGIN IMMEDIATE", path),
          commit(db, "COMMIT", path),
          rollback(db, "ROLLBACK", path),
          find_live(db,
                    "SELECT current, previous, last_refresh, expires_at, access_until, until "
                    "FROM tegata_sessions WHERE subject = ?1 AND sid = ?2 AND live = 1 AND "
                    "until > ?3",
                    path),
          forget_session(db,
                         "DELETE FROM tegata_sessions WHERE subject = ?1 AND sid = ?2 AND "
                         "until <= ?3",
                         path),
          next_use(db,
                   "SELECT coalesce(max(used), 0) + 1 FROM tegata_sessions "
                   "WHERE subject = ?1 AND live = 1",
                   path),
          // An unbound session's jkt (empty) is NULL.
          insert_session(db,
                         "INSERT INTO tegata_sessions(subject, sid, live, used, until, current, "
                         "metadata, auth_time, last_refresh, expires_at, absolute_end, "
                         "refresh_ttl, access_until, persistent, version, jkt) "
                         "VALUES(?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                         "nullif(?15, x'')) ON CONFLICT(subject, sid) DO NOTHING",
                         path),
          count_live(db,
                     "SELECT count(*) FROM tegata_sessions WHERE subject = ?1 AND live = 1 AND "
                     "until > ?2",
                     path),
          least_recent(db,
                       "SELECT sid, access_until FROM tegata_sessions WHERE subject = ?1 AND "
                       "live = 1 AND until > ?2 ORDER BY used LIMIT ?3",
                       path),
          rotate(db,
                 "UPDATE tegata_sessions SET previous = current, current = ?3, last_refresh = ?4, "
                 "expires_at = ?5, access_until = ?6, until = ?7, used = ?8 "
                 "WHERE subject = ?1 AND sid = ?2",
                 path),
          within_grace(db,
                       "UPDATE tegata_sessions SET access_until = ?3, until = ?4, used = ?5 "
                       "WHERE subject = ?1 AND sid = ?2",
                       path),
          to_marker(db,
                    "UPDATE tegata_sessions SET live = 0, current = NULL, previous = NULL, "
                    "metadata = NULL, jkt = NULL, until = ?3 WHERE subject = ?1 AND sid = ?2",
                    path),
          erase_session(db, "DELETE FROM tegata_sessions WHERE subject = ?1 AND sid = ?2", path),
          mark_ended(db,
                     "INSERT INTO tegata_sessions(subject, sid, live, used, until) "
                     "VALUES(?1, ?2, 0, 0, ?3) ON CONFLICT(subject, sid) DO UPDATE SET live = 0, "
                     "current = NULL, previous = NULL, metadata = NULL, jkt = NULL, "
                     "until = max(until, excluded.until)",
                     path),
          revoke(db,
                 "INSERT INTO tegata_tokens(jti, until) VALUES(?1, ?2) "
                 "ON CONFLICT(jti) DO UPDATE SET until = max(until, excluded.until)",
                 path),
          find_version(db, "SELECT version FROM tegata_versions WHERE subject = ?1 AND until > ?2",
                       path),
          set_version(db,
                      "INSERT INTO tegata_versions(subject, version, until) VALUES(?1, ?2, ?3) "
                      "ON CONFLICT(subject) DO UPDATE SET version = excluded.version, "
                      "until = max(until, excluded.until)",
                      path),
          drop_records(db, "DELETE FROM tegata_sessions WHERE subject = ?1 AND live = 1", path),
          // A row changes (1) when the key is new or its until has passed; a replay changes none.
          use_proof(db,
                    "INSERT INTO tegata_proofs(proof, until) VALUES(?1, ?2) "
                    "ON CONFLICT(proof) DO UPDATE SET until = excluded.until "
                    "WHERE tegata_proofs.until <= ?3",
                    path),
          prune_tokens(db,
                       "DELETE FROM tegata_tokens WHERE jti IN "
                       "(SELECT jti FROM tegata_tokens WHERE until <= ?1 LIMIT ?2)",
                       path),
          prune_versions(db,
                         "DELETE FROM tegata_versions WHERE subject IN "
                         "(SELECT subject FROM tegata_versions WHERE until <= ?1 LIMIT ?2)",
                         path),
          prune_sessions(db,
                         "DELETE FROM tegata_sessions WHERE (subject, sid) IN "
                         "(SELECT subject, sid FROM tegata_sessions WHERE until <= ?1 LIMIT ?2)",
                         path),
          prune_proofs(db,
                       "DELETE FROM tegata_proofs WHERE proof IN "
                       "(SELECT proof FROM tegata_proofs WHERE until <= ?1 LIMIT ?2)",
                       path) {}

    detail::statement begin, commit, rollback;
    detail::statement find_live, forget_session, next_use, insert_session, count_live, least_recent,
        rotate, within_grace, to_marker, erase_session, mark_ended;
    detail::statement revoke, find_version, set_version, drop_records, use_proof;
    detail::statement prune_tokens, prune_versions, prune_sessions, prune_proofs;
    // Set by a write that can refuse a token: it commits between the status cache's
    // begin_change() and end_change().
    bool refuses = false;
  };

  // A reader connection and its statements: one thread at a time, taken from the pool.
  struct reader {
    explicit reader(const Options& options)
        : db(detail::open(options.path, /*create=*/false, options.busy_timeout)),
          status(db.get(),
                 "SELECT t.until, s.until, v.version, v.until FROM (SELECT 1) "
                 "LEFT JOIN tegata_tokens AS t ON t.jti = ?1 "
                 "LEFT JOIN tegata_sessions AS s ON s.subject = ?3 AND s.sid = ?2 AND s.live = 0 "
                 "LEFT JOIN tegata_versions AS v ON v.subject = ?3",
                 options.path),
          lookup(db.get(),
                 "SELECT EXISTS(SELECT 1 FROM tegata_tokens WHERE jti = ?1 AND until > ?4), "
                 "coalesce((SELECT version FROM tegata_versions WHERE subject = ?3 AND "
                 "until > ?4), 0), s.live, " +
                     std::string(kRecordColumns) +
                     " FROM (SELECT 1) LEFT JOIN tegata_sessions AS s ON s.subject = ?3 AND "
                     "s.sid = ?2 AND s.until > ?4",
                 options.path),
          sessions(db.get(),
                   "SELECT s.sid, " + std::string(kRecordColumns) +
                       " FROM tegata_sessions AS s WHERE s.subject = ?1 AND s.live = 1 AND "
                       "s.until > ?2 ORDER BY s.used DESC",
                   options.path) {}

    detail::connection db;
    detail::statement status, lookup, sessions;
  };

  // The columns record_at reads, in its order.
  static constexpr std::string_view kRecordColumns =
      "s.current, s.auth_time, s.last_refresh, s.expires_at, s.absolute_end, s.refresh_ttl, "
      "s.access_until, s.until, s.persistent, s.metadata, s.version, s.jkt";

  static SessionRecord record_at(const detail::cursor& c, int first, std::string_view sid) {
    SessionRecord r;
    r.session_id.assign(sid);
    r.refresh_id = c.text(first);
    r.auth_time = c.time(first + 1);
    r.last_refresh = c.time(first + 2);
    r.expires_at = c.time(first + 3);
    r.absolute_end = c.time(first + 4);
    r.refresh_ttl = std::chrono::seconds{c.integer(first + 5)};
    r.access_until = c.time(first + 6);
    r.until = c.time(first + 7);
    r.persistent = c.integer(first + 8) != 0;
    r.metadata = c.text(first + 9);
    r.version = static_cast<std::uint64_t>(c.integer(first + 10));
    r.jkt = c.text(first + 11);  // NULL (unbound): empty
    return r;
  }

  // What a write needs of a live record (writer::find_live).
  struct live_row {
    std::string current, previous;
    std::chrono::sys_seconds last_refresh, expires_at, access_until, until;
  };
  static std::optional<live_row> live_record(writer& w, std::string_view subject,
                                             std::string_view sid, std::chrono::sys_seconds now) {
    detail::cursor c(w.find_live, subject, sid, now);
    if (!c.next()) return std::nullopt;
    return live_row{c.text(0), c.text(1), c.time(2), c.time(3), c.time(4), c.time(5)};
  }

  // The recency of a use of one of subject's sessions now: above all the others'.
  static std::int64_t next_use(writer& w, std::string_view subject) {
    detail::cursor c(w.next_use, subject);
    c.row();
    return c.integer(0);
  }

  // Ends a live record: it becomes a marker until the later of until and its access_until, or
  // goes at once if that has passed.
  static void end_record(writer& w, std::string_view subject, std::string_view sid,
                         std::chrono::sys_seconds access_until, std::chrono::sys_seconds until,
                         std::chrono::sys_seconds now) {
    const auto keep = std::max(until, access_until);
    w.refuses = true;
    if (keep > now) {
      w.to_marker.run(subject, sid, keep);
    } else {
      w.erase_session.run(subject, sid);
    }
  }

  static std::size_t prune_batch(writer& w, std::chrono::sys_seconds now, std::size_t batch) {
    const auto limit = static_cast<std::int64_t>(
        std::min<std::size_t>(batch, std::numeric_limits<std::int64_t>::max()));
    return static_cast<std::size_t>(w.prune_tokens.run(now, limit)) +
           static_cast<std::size_t>(w.prune_versions.run(now, limit)) +
           static_cast<std::size_t>(w.prune_sessions.run(now, limit)) +
           static_cast<std::size_t>(w.prune_proofs.run(now, limit));
  }

  struct state {
    explicit state(const Options& o)
        : options(validated(o)),
          writer_db(detail::open(options.path, /*create=*/true, options.busy_timeout)) {
      detail::prepare_file(writer_db.get(), options);
      writes = std::make_unique<writer>(writer_db.get(), options.path);
      idle.push_back(std::make_unique<reader>(options));
      if (options.cache.enabled) {
        cache = std::make_unique<detail::status_cache>(options.cache.max_staleness,
                                                       options.cache.max_entries);
      }
    }
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      // Statements go before their connections (close_v2 would wait for them anyway).
      idle.clear();
      writes.reset();
    }

    // Runs op(reader&) -> Result<T> on a pooled reader. Never throws.
    template <class T, class Op>
    Result<T> read(Op op) noexcept {
      try {
        std::unique_ptr<reader> r;
        {
          const std::lock_guard lock(readers_mutex);
          if (!idle.empty()) {
            r = std::move(idle.back());
            idle.pop_back();
          }
        }
        if (!r) r = std::make_unique<reader>(options);  // may throw: store_unavailable
        Result<T> result = op(*r);
        const std::lock_guard lock(readers_mutex);
        idle.push_back(std::move(r));
        return result;
      } catch (...) {
        return errc::store_unavailable;
      }
    }

    // Runs op(writer&) -> Result<T> in one BEGIN IMMEDIATE transaction on the writer connection,
    // with a batch of pruning every prune_every-th time (unless prune_too is false). An error
    // result, a SQLite failure or an exception rolls back everything op did. Never throws.
    template <class T, class Op>
    Result<T> write(std::chrono::sys_seconds now, Op op, bool prune_too = true) noexcept {
      try {
        const std::lock_guard lock(writer_mutex);
        writes->refuses = false;
        bool changing = false;  // between the status cache's begin_change and end_change
        try {
          writes->begin.run();
          Result<T> result = op(*writes);
          if (!result) {
            abandon(*this);
            return result;
          }
          if (prune_too && ++write_count % options.prune_every == 0) {
            prune_batch(*writes, now, options.prune_batch);
          }
          if (writes->refuses && cache) {
            cache->begin_change();
            changing = true;
          }
          writes->commit.run();
          if (changing) cache->end_change();
          return result;
        } catch (...) {
          abandon(*this);
          if (changing) cache->end_change();
          return errc::store_unavailable;
        }
      } catch (...) {  // the mutex
        return errc::store_unavailable;
      }
    }

    // Rolls back the writer's open transaction, if any (SQLite may have ended it already).
    static void abandon(state& s) noexcept {
      if (sqlite3_get_autocommit(s.writer_db.get()) == 0) {
        sqlite3_stmt* rollback = s.writes->rollback.get();
        sqlite3_reset(rollback);
        sqlite3_step(rollback);
        sqlite3_reset(rollback);
      }
    }

    const Options options;
    detail::connection writer_db;
    std::unique_ptr<writer> writes;
    std::mutex writer_mutex;
    std::size_t write_count = 0;  // under writer_mutex
    std::mutex readers_mutex;
    std::vector<std::unique_ptr<reader>> idle;    // under readers_mutex
    std::unique_ptr<detail::status_cache> cache;  // null when Options::cache.enabled is false
  };

  static const Options& validated(const Options& o) {
    auto refuse = [](const char* why) {
      throw std::invalid_argument(std::string("tegata: sqlite::RevocationStore ") + why);
    };
    if (o.path.empty()) refuse("needs a path");
    if (o.path == ":memory:" || o.path.starts_with("file:")) {
      refuse("needs the path of a file (not :memory: or a URI)");
    }
    if (o.busy_timeout < std::chrono::milliseconds{0} ||
        o.busy_timeout > std::chrono::milliseconds{std::numeric_limits<int>::max()}) {
      refuse("busy_timeout must be 0 ms .. INT_MAX ms");
    }
    if (o.prune_every < 1) refuse("prune_every must be at least 1");
    if (o.prune_batch < 1) refuse("prune_batch must be at least 1");
    if (o.cache.enabled) {
      if (o.cache.max_staleness <= std::chrono::milliseconds{0}) {
        refuse("cache.max_staleness must be positive");
      }
      if (o.cache.max_entries < 1) refuse("cache.max_entries must be positive");
    }
    if (sqlite3_threadsafe() == 0) refuse("needs a SQLite built thread-safe");
    return o;
  }

  // The manager's keys have 22 characters; the bound keeps a caller's mistake from filling the
  // file with arbitrarily long keys.
  static constexpr std::size_t kMaxProofKey = 128;

  std::shared_ptr<state> state_;
};

static_assert(tegata::RevocationStore<RevocationStore>);
static_assert(tegata::ProofReplayCache<RevocationStore>);

}  // namespace tegata::sqlite
