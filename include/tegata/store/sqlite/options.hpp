// tegata/store/sqlite/options.hpp - where tegata::sqlite::RevocationStore keeps its file, and how
// hard it holds on to what it wrote.
//
// Misconfiguration throws when the store is constructed: std::invalid_argument for options that
// cannot work (an empty path, a negative timeout, a zero batch or cache bound), std::runtime_error
// for a file
// that cannot be used (see sqlite.hpp, "Opening").
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace tegata::sqlite {

// PRAGMA synchronous, in WAL mode (docs/sqlite.md, "Durability"):
//   full    every commit is on the disk (fsync of the WAL) before the call returns: an
//           acknowledged write survives a process crash and a power loss or kernel panic.
//   normal  the WAL is synced at checkpoints only: an acknowledged write survives a process crash
//           (SIGKILL, abort: the data is in the OS's page cache), but a power loss or kernel panic
//           may roll back the last transactions (never corrupt the file). Faster writes.
enum class Synchronous { normal, full };

// The in-process cache of the validate path (cache.hpp, docs/sqlite.md "The status cache").
// Writes through this store invalidate it before they return, so within one process it never
// answers from stale facts; a revocation made by another process on the same file is seen by
// status() at most max_staleness after it committed.
struct CacheOptions {
  bool enabled{true};
  std::chrono::milliseconds max_staleness{1000};
  std::size_t max_entries{100'000};  // (jti, sid, subject) triples; about 200 bytes each
};

struct Options {
  // The database file; created (with its -wal and -shm files beside it) when missing. Its
  // directory must exist and be writable. Several processes may open the same file.
  std::string path{};

  Synchronous synchronous{Synchronous::full};

  // How long a call waits for another process's write transaction (or checkpoint) to finish
  // before it gives up with errc::store_unavailable. Writes in one process also queue behind one
  // another on a mutex, which this does not bound.
  std::chrono::milliseconds busy_timeout{5000};

  // Pruning: every prune_every-th write transaction also deletes at most prune_batch expired
  // rows of each table (revoked ids, versions, sessions), through an index on their expiry, so
  // that no single request pays for a large sweep. RevocationStore::prune() runs one batch on
  // demand.
  std::size_t prune_every{16};
  std::size_t prune_batch{128};

  CacheOptions cache{};
};

}  // namespace tegata::sqlite
