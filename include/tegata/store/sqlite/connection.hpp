// tegata/store/sqlite/connection.hpp - the thin layer over the SQLite C API that
// tegata::sqlite::RevocationStore uses: an owned connection, prepared statements that bind
// tegata's argument types, and a cursor that always resets its statement.
//
// Two kinds of error. At construction (opening, checking the schema, preparing), a failure
// throws std::runtime_error naming the file and SQLite's message: refuse(). On the request path
// a failed step throws detail::failure, which the store catches at its boundary and turns into
// errc::store_unavailable; it never leaves the store.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tegata::sqlite::detail {

// A SQLite call failed on the request path (busy beyond the timeout, I/O error, disk full, ...).
struct failure : std::exception {
  const char* what() const noexcept override { return "tegata: sqlite call failed"; }
};

// Misconfiguration, found at construction.
[[noreturn]] inline void refuse(const std::string& path, const std::string& why) {
  throw std::runtime_error("tegata: sqlite::RevocationStore cannot use '" + path + "': " + why);
}

struct close_connection {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using connection = std::unique_ptr<sqlite3, close_connection>;

inline std::string message(sqlite3* db, int rc) {
  std::string text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return text + " (SQLite error " + std::to_string(rc) + ")";
}

// Opens path for reading and writing (creating it if create), for use by one thread at a time
// (SQLITE_OPEN_NOMUTEX: the store never shares a connection between threads at once), with
// extended result codes and the busy timeout. Throws through refuse().
inline connection open(const std::string& path, bool create, std::chrono::milliseconds busy) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  connection db(raw);
  if (rc != SQLITE_OK) {
    refuse(path,
           message(db.get(), rc) +
               (rc == SQLITE_CANTOPEN ? ": does its directory exist, and may we write it?" : ""));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy.count()));
  return db;
}

// A prepared statement, prepared once (SQLITE_PREPARE_PERSISTENT) and reused by every call.
class statement {
 public:
  statement() = default;
  // Throws std::runtime_error (through refuse) when the SQL does not prepare: at construction.
  statement(sqlite3* db, std::string_view sql, const std::string& path) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      refuse(path, message(db, rc) + " (preparing: " + std::string(sql) + ")");
    }
  }
  statement(statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  statement& operator=(statement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(stmt_); }

  sqlite3_stmt* get() const noexcept { return stmt_; }

  // Binds args to ?1, ?2, ... in order. Ids and texts are BLOBs, compared byte for byte (an id
  // may hold any byte, NUL included); times are seconds since the epoch. The bytes are not copied
  // (SQLITE_STATIC): every use of a statement binds all its parameters again.
  template <class... Args>
  void bind(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
  }

  // Runs a statement that returns no rows; returns the number of rows it changed.
  template <class... Args>
  int run(const Args&... args);

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) throw failure{};
  }
  void bind_one(int i, std::string_view bytes) {
    // A null pointer would bind NULL: an empty id is a zero-length BLOB.
    check(sqlite3_bind_blob(stmt_, i, bytes.empty() ? "" : bytes.data(),
                            static_cast<int>(bytes.size()), SQLITE_STATIC));
  }
  void bind_one(int i, const std::string& bytes) { bind_one(i, std::string_view(bytes)); }
  void bind_one(int i, std::chrono::sys_seconds time) {
    check(sqlite3_bind_int64(stmt_, i, time.time_since_epoch().count()));
  }
  template <class Integer>
  requires std::is_integral_v<Integer>
  void bind_one(int i, Integer value) {
    check(sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(value)));
  }

  sqlite3_stmt* stmt_ = nullptr;
};

// One execution of a statement: binds, steps row by row, and resets the statement when it goes,
// which also ends the read transaction a SELECT holds.
class cursor {
 public:
  template <class... Args>
  explicit cursor(statement& s, const Args&... args) : stmt_(s.get()) {
    try {
      s.bind(args...);
    } catch (...) {
      sqlite3_reset(stmt_);
      throw;
    }
  }
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
  ~cursor() { sqlite3_reset(stmt_); }

  // true with a row to read, false when done; throws failure on an error.
  bool next() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw failure{};
  }
  // next(), which must find a row (an aggregate or a SELECT of constants always has one).
  void row() {
    if (!next()) throw failure{};
  }

  bool null(int column) const noexcept { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }
  std::chrono::sys_seconds time(int column) const noexcept {
    return std::chrono::sys_seconds{std::chrono::seconds{integer(column)}};
  }
  // The bytes of a BLOB (or TEXT) column, valid until the next step or the cursor's end.
  std::string_view bytes(int column) const noexcept {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) return {};
    return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
  }
  std::string text(int column) const { return std::string(bytes(column)); }

 private:
  sqlite3_stmt* stmt_;
};

template <class... Args>
int statement::run(const Args&... args) {
  cursor c(*this, args...);
  if (c.next()) throw failure{};  // a statement that returns no rows returned one
  return sqlite3_changes(sqlite3_db_handle(stmt_));
}

}  // namespace tegata::sqlite::detail
