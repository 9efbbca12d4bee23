// tegata/store/sqlite/schema.hpp - the tables of tegata::sqlite::RevocationStore, and the check
// every connection to the file passes before it is used.
//
// A tegata file says what it is in its header: PRAGMA application_id = kApplicationId ("tgjt")
// and PRAGMA user_version = the schema version. At open:
//  - an empty database (a new file) gets the schema, in one transaction, so that two processes
//    opening a new file at once create it once;
//  - a file with another application_id, or without one but with tables of its own, is not ours:
//    refused, and left untouched;
//  - a schema version above kSchemaVersion was written by a newer tegata: refused, never misread;
//  - an older one is migrated forward (kMigrations), in the same transaction as the check, so
//    that two processes opening an old file at once migrate it once, and a migration that fails
//    leaves the file as it was (and the store refuses it, saying why);
//  - a file that is not a database, or a damaged one, fails SQLite's own checks when read:
//    refused with SQLite's message.
// Only then is the file switched to WAL mode (persistent, stored in the file's header).
//
// Tables. Ids (jti, sid, subject) are BLOBs compared byte for byte; times are seconds since the
// epoch. Every row carries `until`, the first second at which it no longer matters; a row with
// until <= now counts as absent before it is pruned, and each table has an index on until for
// pruning. WITHOUT ROWID: each lookup is one search of the primary key's B-tree.
//   tegata_tokens    revoked jtis
//   tegata_versions  each subject's version (log out everywhere)
//   tegata_sessions  one row per session family of (subject, sid): live = 1 is the record (the
//                    manager's SessionRecord), live = 0 an ended family's marker, which refuses
//                    the family's tokens until `until`. `used` orders a subject's live records by
//                    recency (larger is more recent: create and every rotation take the
//                    subject's largest plus one), through a partial index over live records.
//                    jkt is a live record's DPoP key thumbprint (RFC 9449), NULL for a session
//                    bound to no key, and for every marker.
//   tegata_proofs    used DPoP proofs (use_proof): a key is refused while its until > now.
//
// Versions: 1, the first (no jkt, no tegata_proofs); 2 adds both.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "tegata/store/sqlite/connection.hpp"
#include "tegata/store/sqlite/options.hpp"

namespace tegata::sqlite::detail {

inline constexpr std::int64_t kApplicationId = 0x74676a74;  // "tgjt"
inline constexpr std::int64_t kSchemaVersion = 2;

inline constexpr std::string_view kSchema = R"sql(
CREATE TABLE tegata_tokens(
  jti BLOB NOT NULL PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tegata_tokens_until ON tegata_tokens(until);
CREATE TABLE tegata_versions(
  subject BLOB NOT NULL PRIMARY KEY,
  version INTEGER NOT NULL,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tegata_versions_until ON tegata_versions(until);
CREATE TABLE tegata_sessions(
  subject BLOB NOT NULL,
  sid BLOB NOT NULL,
  live INTEGER NOT NULL,
  used INTEGER NOT NULL,
  until INTEGER NOT NULL,
  current BLOB,
  previous BLOB,
  metadata BLOB,
  auth_time INTEGER,
  last_refresh INTEGER,
  expires_at INTEGER,
  absolute_end INTEGER,
  refresh_ttl INTEGER,
  access_until INTEGER,
  persistent INTEGER,
  version INTEGER,
  jkt BLOB,
  PRIMARY KEY(subject, sid)
) WITHOUT ROWID;
CREATE INDEX tegata_sessions_until ON tegata_sessions(until);
CREATE INDEX tegata_sessions_recency ON tegata_sessions(subject, used) WHERE live = 1;
CREATE TABLE tegata_proofs(
  proof BLOB NOT NULL PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tegata_proofs_until ON tegata_proofs(until);
)sql";

// kMigrations[v - 1] takes a file from schema version v to v + 1; a new file gets kSchema, which
// is where they lead. Each must leave exactly what kSchema creates (a test compares the two).
inline constexpr std::string_view kMigrations[] = {
    // 1 -> 2: DPoP. Existing records are unbound (jkt NULL).
    R"sql(
ALTER TABLE tegata_sessions ADD COLUMN jkt BLOB;
CREATE TABLE tegata_proofs(
  proof BLOB NOT NULL PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tegata_proofs_until ON tegata_proofs(until);
)sql",
};
static_assert(static_cast<std::int64_t>(std::size(kMigrations)) == kSchemaVersion - 1);

// What a failure at open means for the user, beyond SQLite's own message.
inline std::string hint(int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
      return ": the file or its directory is read-only (the store writes the file, and creates "
             "its -wal and -shm files beside it)";
    case SQLITE_NOTADB: return ": not a SQLite database, or a damaged one";
    case SQLITE_CORRUPT: return ": the database is damaged";
    default: return "";
  }
}

// Runs SQL that may return rows (a PRAGMA) and ignores them; throws through refuse().
inline void exec(sqlite3* db, const std::string& path, const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string text = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    const int code = sqlite3_extended_errcode(db);
    refuse(path, text + " (SQLite error " + std::to_string(code) + ", running: " + sql + ")" +
                     hint(code));
  }
}

// The single integer a query (a PRAGMA, a count) returns; throws through refuse().
inline std::int64_t query_integer(sqlite3* db, const std::string& path, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  std::int64_t value = 0;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  }
  const std::string why = message(db, rc) + hint(rc);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) refuse(path, why + " (reading: " + sql + ")");
  return value;
}

// Checks the file's identity and schema version, creating the schema in an empty database, then
// sets WAL mode and the durability of db (see the top of this file). Throws std::runtime_error.
inline void prepare_file(sqlite3* db, const Options& options) {
  const std::string& path = options.path;
  if (sqlite3_db_readonly(db, "main") == 1) {
    refuse(path, "the file is read-only: the store must write to it");
  }
  exec(db, path, "BEGIN IMMEDIATE");
  try {
    const std::int64_t application = query_integer(db, path, "PRAGMA application_id");
    const std::int64_t version = query_integer(db, path, "PRAGMA user_version");
    const std::int64_t objects = query_integer(db, path, "SELECT count(*) FROM sqlite_schema");
    if (application == 0 && version == 0 && objects == 0) {
      exec(db, path, std::string(kSchema));
      exec(db, path, "PRAGMA application_id = " + std::to_string(kApplicationId));
      exec(db, path, "PRAGMA user_version = " + std::to_string(kSchemaVersion));
    } else if (application != kApplicationId) {
      refuse(path,
             "not a tegata session store (a SQLite database of another application: "
             "application_id " +
                 std::to_string(application) + ", " + std::to_string(objects) + " schema objects)");
    } else if (version > kSchemaVersion) {
      refuse(path, "written by a newer tegata (schema version " + std::to_string(version) +
                       "; this one knows versions up to " + std::to_string(kSchemaVersion) + ")");
    } else if (version < 1) {
      refuse(path,
             "a tegata session store with an invalid schema version " + std::to_string(version));
    } else if (version < kSchemaVersion) {
      // Within this transaction: a failure rolls every step back, user_version included.
      for (std::int64_t from = version; from < kSchemaVersion; ++from) {
        exec(db, path, std::string(kMigrations[static_cast<std::size_t>(from - 1)]));
      }
      exec(db, path, "PRAGMA user_version = " + std::to_string(kSchemaVersion));
    }
    exec(db, path, "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  // Persistent in the file; the first connection sets it, the others find it set.
  sqlite3_stmt* stmt = nullptr;
  std::string mode;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) mode = reinterpret_cast<const char*>(text);
  }
  const std::string why = message(db, sqlite3_errcode(db));
  sqlite3_finalize(stmt);
  if (mode != "wal") {
    refuse(path, "cannot switch to WAL mode (journal_mode is '" + mode + "': " + why +
                     "); the directory must be writable, on a local file system");
  }
  exec(db, path,
       options.synchronous == Synchronous::full ? "PRAGMA synchronous = FULL"
                                                : "PRAGMA synchronous = NORMAL");
}

}  // namespace tegata::sqlite::detail
