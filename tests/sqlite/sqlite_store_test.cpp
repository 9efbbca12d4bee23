// The SQLite store's own behaviour, beyond the shared contract: which files it refuses at
// construction (and that it leaves them as they were), what survives closing and reopening the
// file, bounded pruning, failures on the request path (a file locked by another connection), and
// a SessionManager over the store.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>
#include <thread>
#include <vector>

#include "sqlite/sqlite_support.hpp"
#include "support/dpop_client.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using tegata::errc;
using tegata::RotationVerdict;
using tegata::SessionRecord;

namespace {

constexpr std::int64_t kStart = 1'700'000'000;
constexpr std::chrono::sys_seconds at(std::int64_t offset) {
  return std::chrono::sys_seconds{std::chrono::seconds{kStart + offset}};
}

SessionRecord record(std::string sid, std::string refresh_id, std::chrono::sys_seconds now,
                     std::chrono::seconds ttl = 100s) {
  SessionRecord r;
  r.session_id = std::move(sid);
  r.refresh_id = std::move(refresh_id);
  r.auth_time = r.last_refresh = now;
  r.expires_at = r.until = now + ttl;
  r.absolute_end = now + 4 * ttl;
  r.refresh_ttl = ttl;
  r.access_until = now + 10s;
  r.metadata = "phone";
  return r;
}

// What use_proof answered: 1 true (recorded now), 0 false (used before), -1 an error.
int used(const tegata::sqlite::RevocationStore& store, std::string_view key,
         std::chrono::sys_seconds until, std::chrono::sys_seconds now) {
  const auto answer = store.use_proof(key, until, now);
  return answer ? (*answer ? 1 : 0) : -1;
}

// Runs SQL on the file through a connection of its own (the test's view of the file).
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string why = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(sql << ": " << why);
  REQUIRE(rc == SQLITE_OK);
}

// The rows of a query, each as its columns' text joined by '|' (NULL as "NULL"), through a
// read-only connection of its own.
std::vector<std::string> query_rows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::string> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      if (i > 0) row += '|';
      const auto* text = sqlite3_column_text(stmt, i);
      row += text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_DONE);
  return rows;
}

std::int64_t query_integer(const std::string& path, const std::string& sql) {
  const auto rows = query_rows(path, sql);
  REQUIRE(rows.size() == 1);
  return std::stoll(rows[0]);
}

std::int64_t count_rows(const std::string& path, const std::string& table) {
  return query_integer(path, "SELECT count(*) FROM " + table);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The message of the exception constructing a store on path throws; fails if none.
std::string refusal(const tegata::sqlite::Options& options) {
  try {
    const tegata::sqlite::RevocationStore store(options);
  } catch (const std::exception& e) {
    return e.what();
  }
  FAIL("the store accepted " << options.path);
  return {};
}

// Runs body in a child process without root's right to ignore file permissions (as nobody when
// the test runs as root); returns its exit status.
int unprivileged(const std::function<int()>& body) {
  std::fflush(nullptr);  // nothing buffered twice
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(90);
    int code = 91;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// In a child (see unprivileged): 0 when constructing the store throws a message holding
// `expected`, 1 when it does not throw, 2 when the message differs (printed).
int refused_unprivileged(const std::string& path, const std::string& expected) {
  return unprivileged([&] {
    try {
      const tegata::sqlite::RevocationStore store(sqlite_test::options(path));
    } catch (const std::exception& e) {
      if (std::string(e.what()).find(expected) != std::string::npos) return 0;
      std::fprintf(stderr, "unexpected refusal: %s\n", e.what());
      return 2;
    }
    return 1;
  });
}

}  // namespace

TEST_CASE("options that cannot work are refused at construction", "[sqlite]") {
  sqlite_test::scratch_dir dir;
  auto o = sqlite_test::options(dir.file("s.db"));
  SECTION("no path") { o.path.clear(); }
  SECTION("an in-memory database") { o.path = ":memory:"; }
  SECTION("a negative busy timeout") { o.busy_timeout = -1ms; }
  SECTION("prune_every 0") { o.prune_every = 0; }
  SECTION("prune_batch 0") { o.prune_batch = 0; }
  SECTION("a cache that is never fresh") { o.cache.max_staleness = 0ms; }
  SECTION("a cache without room") { o.cache.max_entries = 0; }
  CHECK_THROWS_AS(tegata::sqlite::RevocationStore(o), std::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(dir.file("s.db")));
}

TEST_CASE("files the store must not use are refused at construction, and left as they were",
          "[sqlite]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");

  SECTION("a missing directory") {
    const auto o = sqlite_test::options(dir.file("no-such-dir/s.db"));
    CHECK_THAT(refusal(o), ContainsSubstring("no-such-dir/s.db") &&
                               ContainsSubstring("does its directory exist"));
  }
  SECTION("a file of random bytes") {
    std::mt19937 random(7);
    std::string junk(64 * 1024, '\0');
    for (char& c : junk) c = static_cast<char>(random());
    std::ofstream(path, std::ios::binary) << junk;
    CHECK_THAT(refusal(sqlite_test::options(path)),
               ContainsSubstring("not a SQLite database, or a damaged one"));
    CHECK(file_bytes(path) == junk);
  }
  SECTION("a text file") {
    std::ofstream(path) << "user,password\nalice,secret\n";
    CHECK_THAT(refusal(sqlite_test::options(path)), ContainsSubstring("not a database"));
    CHECK(file_bytes(path) == "user,password\nalice,secret\n");
  }
  SECTION("another application's SQLite database") {
    run_sql(path, "CREATE TABLE users(name TEXT); INSERT INTO users VALUES('alice')");
    const std::string before = file_bytes(path);
    CHECK_THAT(refusal(sqlite_test::options(path)),
               ContainsSubstring("not a tegata session store"));
    CHECK(file_bytes(path) == before);  // not even switched to WAL
  }
  SECTION("a database of another application id") {
    run_sql(path, "PRAGMA application_id = 1234");
    CHECK_THAT(refusal(sqlite_test::options(path)), ContainsSubstring("application_id 1234"));
  }
  SECTION("a store written by a newer tegata") {
    { const tegata::sqlite::RevocationStore store(sqlite_test::options(path)); }
    const std::string newer = std::to_string(tegata::sqlite::detail::kSchemaVersion + 1);
    run_sql(path, "PRAGMA user_version = " + newer);
    CHECK_THAT(refusal(sqlite_test::options(path)),
               ContainsSubstring("newer tegata") && ContainsSubstring("schema version " + newer));
    CHECK(query_integer(path, "PRAGMA user_version") == tegata::sqlite::detail::kSchemaVersion + 1);
  }
  SECTION("a store whose tables are gone") {
    { const tegata::sqlite::RevocationStore store(sqlite_test::options(path)); }
    run_sql(path, "DROP TABLE tegata_sessions");
    CHECK_THAT(refusal(sqlite_test::options(path)), ContainsSubstring("tegata_sessions"));
  }
  SECTION("a read-only file") {
    { const tegata::sqlite::RevocationStore store(sqlite_test::options(path)); }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::others_read);
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    CHECK(refused_unprivileged(path, "read-only") == 0);
  }
  SECTION("a read-only directory, with the file in it") {
    { const tegata::sqlite::RevocationStore store(sqlite_test::options(path)); }
    std::filesystem::permissions(path, std::filesystem::perms::all);  // writable, but no -wal
    std::filesystem::permissions(
        dir.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                        std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                        std::filesystem::perms::others_exec);
    CHECK(refused_unprivileged(path, "the file or its directory is read-only") == 0);
  }
  SECTION("a read-only directory, without the file") {
    std::filesystem::permissions(
        dir.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                        std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                        std::filesystem::perms::others_exec);
    CHECK(refused_unprivileged(path, "does its directory exist, and may we write it") == 0);
  }
}

TEST_CASE("everything in force survives closing and reopening the file; expired facts go",
          "[sqlite]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  {
    tegata::sqlite::RevocationStore store(sqlite_test::options(path));
    REQUIRE(store.create_session("alice", record("s1", "r1", at(0)), 100, at(0)));
    REQUIRE(store.create_session("alice", record("s2", "r1", at(1)), 100, at(1)));
    REQUIRE(store.create_session("bob", record("s3", "r1", at(1)), 100, at(1)));
    REQUIRE(store.rotate_session("alice", "s1", {"r1", "r2", at(2), 0s, at(102), at(12), at(102)})
                ->verdict == RotationVerdict::rotated);
    REQUIRE(store.end_session("alice", "s2", at(50), at(2)));
    REQUIRE(store.revoke_token("jti-1", at(100), at(2)));
    REQUIRE(store.revoke_token("jti-short", at(5), at(2)));
    REQUIRE(store.bump_version("carol", at(500), at(2)));
    REQUIRE(used(store, "proof-1", at(100), at(2)) == 1);
  }
  tegata::sqlite::RevocationStore store(sqlite_test::options(path));
  CHECK(used(store, "proof-1", at(100), at(3)) == 0);  // used before the reopen
  const auto alice = store.sessions("alice", at(3));
  REQUIRE(alice);
  REQUIRE(alice->size() == 1);
  CHECK((*alice)[0].session_id == "s1");
  CHECK((*alice)[0].refresh_id == "r2");
  CHECK((*alice)[0].metadata == "phone");
  CHECK((*alice)[0].last_refresh == at(2));
  // The consumed token is theft, after the reopen too.
  CHECK(store.rotate_session("bob", "s3", {"r0", "x", at(3), 0s, at(103), at(13), at(103)})
            ->verdict == RotationVerdict::reused);
  CHECK(store.status("jti-1", "s2", "alice", at(3))->token_revoked);
  CHECK(store.status("jti-1", "s2", "alice", at(3))->family_revoked);
  CHECK(store.status("jti-short", "x", "carol", at(3))->min_version ==
        static_cast<std::uint64_t>(kStart + 2));
  // Later, what expired is absent, and pruning removes it from the file.
  CHECK_FALSE(store.status("jti-short", "s2", "alice", at(60))->token_revoked);
  CHECK_FALSE(store.status("jti-short", "s2", "alice", at(60))->family_revoked);
  CHECK(store.rotate_session("alice", "s1", {"r2", "r3", at(200), 0s, at(300), at(210), at(300)})
            ->verdict == RotationVerdict::ended);
  REQUIRE(store.prune(at(1000)));
  CHECK(count_rows(path, "tegata_tokens") == 0);
  CHECK(count_rows(path, "tegata_versions") == 0);
  CHECK(count_rows(path, "tegata_sessions") == 0);
  CHECK(count_rows(path, "tegata_proofs") == 0);
}

TEST_CASE("pruning deletes a bounded batch of expired rows every prune_every writes", "[sqlite]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  auto options = sqlite_test::options(path);
  options.prune_every = 4;
  options.prune_batch = 10;
  tegata::sqlite::RevocationStore store(options);
  // 4 writes so far after this loop's 100 would have pruned, but nothing had expired.
  for (int i = 0; i < 100; ++i)
    REQUIRE(store.revoke_token("old-" + std::to_string(i), at(10), at(0)));
  REQUIRE(count_rows(path, "tegata_tokens") == 100);
  // Writes at(20): the 4th of each 4 deletes 10 expired rows, the others none.
  for (int i = 0; i < 3; ++i)
    REQUIRE(store.revoke_token("new-" + std::to_string(i), at(30), at(20)));
  CHECK(count_rows(path, "tegata_tokens") == 103);
  REQUIRE(store.revoke_token("new-3", at(30), at(20)));
  CHECK(count_rows(path, "tegata_tokens") == 94);
  // prune() runs one batch of its own.
  const auto pruned = store.prune(at(20));
  REQUIRE(pruned);
  CHECK(*pruned == 10);
  CHECK(count_rows(path, "tegata_tokens") == 84);
  std::size_t total = 0;
  for (int i = 0; i < 20; ++i) total += *store.prune(at(20));
  CHECK(total == 80);
  CHECK(count_rows(path, "tegata_tokens") == 4);
}

TEST_CASE("used DPoP proofs are pruned like the other rows", "[sqlite][dpop]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  auto options = sqlite_test::options(path);
  options.prune_every = 4;
  options.prune_batch = 10;
  tegata::sqlite::RevocationStore store(options);
  // 32 writes: the 4th, 8th, ... 32nd prune, but nothing has expired yet.
  for (int i = 0; i < 32; ++i) {
    REQUIRE(used(store, "old-" + std::to_string(i), at(10), at(0)) == 1);
  }
  REQUIRE(count_rows(path, "tegata_proofs") == 32);
  // At(20) they have: the 36th write deletes 10 of them.
  for (int i = 0; i < 3; ++i) REQUIRE(used(store, "new-" + std::to_string(i), at(30), at(20)) == 1);
  CHECK(count_rows(path, "tegata_proofs") == 35);
  REQUIRE(used(store, "new-3", at(30), at(20)) == 1);
  CHECK(count_rows(path, "tegata_proofs") == 26);
  // A replay is a write too (it counts towards prune_every), though it changes no row.
  for (int i = 0; i < 4; ++i) REQUIRE(used(store, "new-0", at(30), at(20)) == 0);
  CHECK(count_rows(path, "tegata_proofs") == 16);
  CHECK(*store.prune(at(20)) == 10);
  CHECK(*store.prune(at(20)) == 2);
  CHECK(count_rows(path, "tegata_proofs") == 4);
  CHECK(*store.prune(at(30)) == 4);
}

TEST_CASE("a file locked beyond busy_timeout: store_unavailable, nothing half-written",
          "[sqlite]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  auto options = sqlite_test::options(path);
  options.busy_timeout = 50ms;
  tegata::sqlite::RevocationStore store(options);
  REQUIRE(store.create_session("alice", record("s1", "r1", at(0)), 100, at(0)));

  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(store.revoke_token("jti", at(100), at(1)).error() == errc::store_unavailable);
  CHECK(store.rotate_session("alice", "s1", {"r1", "r2", at(1), 0s, at(101), at(11), at(101)})
            .error() == errc::store_unavailable);
  CHECK(store.create_session("alice", record("s2", "r1", at(1)), 1, at(1)).error() ==
        errc::store_unavailable);
  CHECK(store.bump_version("alice", at(100), at(1)).error() == errc::store_unavailable);
  CHECK(store.use_proof("proof", at(100), at(1)).error() == errc::store_unavailable);
  // Readers are not blocked by a writer (WAL).
  CHECK(store.status("jti", "s1", "alice", at(1)));
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);

  // Nothing of the failed calls happened; the store works again.
  const auto listed = store.sessions("alice", at(1));
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].refresh_id == "r1");
  CHECK_FALSE(store.status("jti", "s1", "alice", at(1))->token_revoked);
  CHECK(store.rotate_session("alice", "s1", {"r1", "r2", at(2), 0s, at(102), at(12), at(102)})
            ->verdict == RotationVerdict::rotated);
  CHECK(used(store, "proof", at(100), at(2)) == 1);  // the failed call recorded nothing
}

TEST_CASE("a SessionManager over the SQLite store: login, validate, refresh, logout, restart",
          "[sqlite]") {
  sqlite_test::scratch_dir dir;
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
  tegata::SessionOptions options;
  options.issuer = "https://auth.example";
  options.audience = "api";
  using Manager =
      tegata::SessionManager<tegata::HmacKey, tegata::SystemClock, tegata::sqlite::RevocationStore>;
  tegata::TokenPair kept, out;
  {
    Manager manager(key, options, {},
                    tegata::sqlite::RevocationStore(sqlite_test::options(dir.file("s.db"))));
    const auto login = manager.issue("alice");
    REQUIRE(login);
    CHECK(manager.validate(login->access_token));
    const auto next = manager.refresh(login->refresh_token);
    REQUIRE(next);
    kept = *next;
    const auto other = manager.issue("alice");
    REQUIRE(other);
    out = *other;
    REQUIRE(manager.revoke(out.access_token));
    CHECK(manager.sessions("alice")->size() == 1);
  }
  Manager manager(key, options, {},
                  tegata::sqlite::RevocationStore(sqlite_test::options(dir.file("s.db"))));
  CHECK(manager.validate(kept.access_token));
  CHECK(manager.validate(out.access_token).error() == errc::session_revoked);
  CHECK(manager.refresh(out.refresh_token).error() == errc::session_revoked);
  CHECK(manager.refresh(kept.refresh_token));
  REQUIRE(manager.revoke_all("alice"));
  CHECK(manager.validate(kept.access_token).error() == errc::version_mismatch);
}

TEST_CASE("the status cache: another process's revocation is seen within max_staleness",
          "[sqlite][cache]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  // Two stores on one file that share nothing, as two processes would.
  auto options = sqlite_test::options(path);
  options.cache.max_staleness = 300ms;
  const tegata::sqlite::RevocationStore here(options);
  tegata::sqlite::RevocationStore there(options);
  REQUIRE(there.create_session("alice", record("s1", "r1", at(0)), 100, at(0)));
  // Cached here: nothing revoked.
  CHECK_FALSE(here.status("jti", "s1", "alice", at(1))->token_revoked);
  CHECK_FALSE(here.status("jti", "s1", "alice", at(1))->family_revoked);
  CHECK(here.status("jti", "s1", "alice", at(1))->min_version == 0);

  REQUIRE(there.revoke_token("jti", at(100), at(1)));
  REQUIRE(there.end_session("alice", "s1", at(100), at(1)));
  REQUIRE(there.bump_version("alice", at(100), at(1)));
  const auto written = std::chrono::steady_clock::now();
  // Written through `there`: its own cache never answers from before.
  const auto own = there.status("jti", "s1", "alice", at(1));
  CHECK(own->token_revoked);
  CHECK(own->family_revoked);
  CHECK(own->min_version == static_cast<std::uint64_t>(kStart + 1));
  // `here` may answer from its cache until max_staleness has passed since its read, never later.
  std::this_thread::sleep_until(written + 300ms);
  const auto seen = here.status("jti", "s1", "alice", at(1));
  CHECK(seen->token_revoked);
  CHECK(seen->family_revoked);
  CHECK(seen->min_version == static_cast<std::uint64_t>(kStart + 1));
  // Facts are cached, not verdicts: the same entry answers at a later now.
  CHECK_FALSE(here.status("jti", "s1", "alice", at(100))->token_revoked);

  SECTION("with the cache off, at once") {
    options.cache.enabled = false;
    const tegata::sqlite::RevocationStore direct(options);
    CHECK_FALSE(direct.status("jti-2", "s2", "bob", at(1))->token_revoked);
    REQUIRE(there.revoke_token("jti-2", at(100), at(1)));
    CHECK(direct.status("jti-2", "s2", "bob", at(1))->token_revoked);
  }
}

TEST_CASE("used proofs are never answered from the status cache", "[sqlite][cache][dpop]") {
  sqlite_test::scratch_dir dir;
  auto options = sqlite_test::options(dir.file("s.db"));
  options.cache.max_staleness = 60s;  // a cache that would answer for the whole test
  const tegata::sqlite::RevocationStore here(options);
  const tegata::sqlite::RevocationStore there(options);  // another process, as far as caches go
  CHECK_FALSE(here.status("p", "p", "p", at(0))->token_revoked);
  CHECK(used(there, "p", at(100), at(0)) == 1);
  CHECK(used(here, "p", at(100), at(0)) == 0);  // at once, not after max_staleness
  CHECK(used(here, "q", at(100), at(0)) == 1);
  CHECK(used(there, "q", at(100), at(0)) == 0);
}

TEST_CASE("the DPoP key thumbprint is a column of the record: NULL unbound, and once ended",
          "[sqlite][dpop]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  tegata::sqlite::RevocationStore store(sqlite_test::options(path));
  SessionRecord bound = record("bound", "r1", at(0));
  bound.jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
  REQUIRE(store.create_session("alice", bound, 100, at(0)));
  REQUIRE(store.create_session("alice", record("plain", "r1", at(0)), 100, at(0)));
  const std::string sql =
      "SELECT CAST(sid AS TEXT), live, CAST(jkt AS TEXT) FROM tegata_sessions "
      "ORDER BY sid";
  CHECK(query_rows(path, sql) ==
        std::vector<std::string>{"bound|1|NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                                 "plain|1|NULL"});
  REQUIRE(store.end_session("alice", "bound", at(1), at(1)));
  // The marker keeps the family refused and nothing of the record (metadata, ids, key).
  CHECK(query_rows(path, sql) == std::vector<std::string>{"bound|0|NULL", "plain|1|NULL"});
  CHECK(query_rows(path,
                   "SELECT metadata IS NULL, current IS NULL FROM tegata_sessions WHERE "
                   "CAST(sid AS TEXT) = 'bound'") == std::vector<std::string>{"1|1"});
}

namespace {

// The schema tegata wrote before DPoP (schema version 1), exactly as that version created it.
constexpr std::string_view kSchemaVersion1 = R"sql(
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
  PRIMARY KEY(subject, sid)
) WITHOUT ROWID;
CREATE INDEX tegata_sessions_until ON tegata_sessions(until);
CREATE INDEX tegata_sessions_recency ON tegata_sessions(subject, used) WHERE live = 1;
PRAGMA application_id = 1952934516;
PRAGMA user_version = 1;
)sql";

// A version-1 file as that version's store left it: alice's live session s1 (refreshed once,
// so r1 is consumed), her ended session s2, a revoked jti and bob's version. Ids are BLOBs, as
// the store binds them.
void write_version1_file(const std::string& path) {
  run_sql(path, std::string(kSchemaVersion1) + "PRAGMA journal_mode = WAL;" + R"sql(
INSERT INTO tegata_sessions(subject, sid, live, used, until, current, previous, metadata,
  auth_time, last_refresh, expires_at, absolute_end, refresh_ttl, access_until, persistent,
  version)
VALUES(CAST('alice' AS BLOB), CAST('s1' AS BLOB), 1, 2, 1700000102, CAST('r2' AS BLOB),
  CAST('r1' AS BLOB), CAST('phone' AS BLOB), 1700000000, 1700000002, 1700000102, 1700000400,
  100, 1700000012, 1, 0);
INSERT INTO tegata_sessions(subject, sid, live, used, until)
VALUES(CAST('alice' AS BLOB), CAST('s2' AS BLOB), 0, 0, 1700000050);
INSERT INTO tegata_tokens(jti, until) VALUES(CAST('jti-1' AS BLOB), 1700000100);
INSERT INTO tegata_versions(subject, version, until)
VALUES(CAST('bob' AS BLOB), 1700000002, 1700000500);
)sql");
}

// The schema as SQLite sees it (columns, keys, indexes), not the text of its CREATE statements,
// which ALTER TABLE edits.
std::vector<std::string> schema_of(const std::string& path) {
  auto rows = query_rows(path,
                         "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.pk "
                         "FROM sqlite_schema AS m, pragma_table_info(m.name) AS p "
                         "WHERE m.type = 'table' ORDER BY m.name, p.cid");
  for (auto& row : query_rows(path,
                              "SELECT m.name, i.name, i.\"unique\", i.origin, i.partial "
                              "FROM sqlite_schema AS m, pragma_index_list(m.name) AS i "
                              "WHERE m.type = 'table' ORDER BY m.name, i.name")) {
    rows.push_back(std::move(row));
  }
  for (auto& row : query_rows(path,
                              "SELECT type, name, tbl_name, CASE type WHEN 'index' THEN sql "
                              "ELSE sql LIKE '%WITHOUT ROWID' END FROM sqlite_schema "
                              "ORDER BY name")) {
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

TEST_CASE("a file of schema version 1 is migrated at open and keeps what it held",
          "[sqlite][migration]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("v1.db");
  write_version1_file(path);
  REQUIRE(query_integer(path, "PRAGMA user_version") == 1);

  tegata::sqlite::RevocationStore store(sqlite_test::options(path));
  CHECK(query_integer(path, "PRAGMA user_version") == tegata::sqlite::detail::kSchemaVersion);
  CHECK(query_integer(path, "PRAGMA application_id") == tegata::sqlite::detail::kApplicationId);
  // What the current version creates in a new file, exactly.
  const std::string fresh = dir.file("fresh.db");
  { const tegata::sqlite::RevocationStore created(sqlite_test::options(fresh)); }
  CHECK(schema_of(path) == schema_of(fresh));

  // The old records read as unbound, and everything in force still is.
  const auto alice = store.sessions("alice", at(3));
  REQUIRE(alice);
  REQUIRE(alice->size() == 1);
  CHECK((*alice)[0].session_id == "s1");
  CHECK((*alice)[0].refresh_id == "r2");
  CHECK((*alice)[0].metadata == "phone");
  CHECK((*alice)[0].jkt.empty());
  CHECK((*alice)[0].access_until == at(12));
  CHECK(store.status("jti-1", "s2", "alice", at(3))->token_revoked);
  CHECK(store.status("jti-1", "s2", "alice", at(3))->family_revoked);
  CHECK(store.status("x", "x", "bob", at(3))->min_version ==
        static_cast<std::uint64_t>(kStart + 2));
  CHECK(store.rotate_session("alice", "s1", {"r1", "x", at(4), 0s, at(104), at(14), at(104)})
            ->verdict == RotationVerdict::reused);  // r1 was consumed before the migration

  // And what is new works.
  SessionRecord bound = record("s3", "r1", at(5));
  bound.jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
  REQUIRE(store.create_session("alice", bound, 100, at(5)));
  CHECK(store.find_session("r1", "s3", "alice", at(6))->record->jkt == bound.jkt);
  CHECK(used(store, "proof", at(100), at(6)) == 1);
  CHECK(used(store, "proof", at(100), at(6)) == 0);

  SECTION("a second store on the migrated file, and a reopen, find it current") {
    const tegata::sqlite::RevocationStore other(sqlite_test::options(path));
    CHECK(used(other, "proof", at(100), at(7)) == 0);
    CHECK(query_integer(path, "PRAGMA user_version") == tegata::sqlite::detail::kSchemaVersion);
  }
}

TEST_CASE("a migration that fails leaves the file as it was, and the store refuses it",
          "[sqlite][migration]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("v1.db");
  write_version1_file(path);
  // Something the migration cannot create over: its second step fails after the first (the
  // new column) succeeded.
  run_sql(path, "CREATE TABLE tegata_proofs(x)");
  const auto before = schema_of(path);
  CHECK_THAT(refusal(sqlite_test::options(path)),
             ContainsSubstring("tegata_proofs") && ContainsSubstring("already exists"));
  CHECK(query_integer(path, "PRAGMA user_version") == 1);
  CHECK(schema_of(path) == before);  // the column added before the failure is gone too
  CHECK(query_rows(path,
                   "SELECT name FROM pragma_table_info('tegata_sessions') "
                   "WHERE name = 'jkt'")
            .empty());
  CHECK(count_rows(path, "tegata_sessions") == 2);
}

TEST_CASE("a SessionManager over the SQLite store: a DPoP-bound session on two stores, restarted",
          "[sqlite][dpop]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("s.db");
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
  tegata::SessionOptions options;
  options.issuer = "https://auth.example";
  options.audience = "api";
  using Manager =
      tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::sqlite::RevocationStore>;
  const std::string api = "https://app.example/api";
  const std::string refresh = "https://app.example/refresh";
  tegata::ManualClock clock{at(0)};
  tegata_test::DpopClient client;
  tegata_test::DpopClient thief(tegata::Algorithm::Ed25519);
  // Two processes on one file: each its own store (and status cache).
  Manager one(key, options, clock, tegata::sqlite::RevocationStore(sqlite_test::options(path)));
  Manager two(key, options, clock, tegata::sqlite::RevocationStore(sqlite_test::options(path)));

  const auto pair = tegata_test::bound_login(one, client, "alice", api);
  const std::string proof = client.proof("GET", api, clock.now(), pair.access_token);
  const auto claims = one.validate(pair.access_token, proof, "GET", api);
  REQUIRE(claims);
  CHECK(claims->jkt == client.jkt());
  // The proof is used, for the other process too.
  CHECK(two.validate(pair.access_token, proof, "GET", api).error() == errc::dpop_replayed);
  CHECK(two.sessions("alice")->at(0).jkt == client.jkt());
  CHECK(two.refresh(pair.refresh_token, thief.proof("POST", refresh, clock.now()), "POST", refresh)
            .error() == errc::dpop_mismatch);
  const auto next =
      two.refresh(pair.refresh_token, client.proof("POST", refresh, clock.now()), "POST", refresh);
  REQUIRE(next);

  // A restart keeps the binding and the used proofs.
  Manager restarted(key, options, clock,
                    tegata::sqlite::RevocationStore(sqlite_test::options(path)));
  CHECK(restarted.validate(pair.access_token, proof, "GET", api).error() == errc::dpop_replayed);
  CHECK(restarted.refresh(next->refresh_token).error() == errc::dpop_required);
  CHECK(restarted.validate(next->access_token,
                           client.proof("GET", api, clock.now(), next->access_token), "GET", api));
  CHECK(restarted.sessions("alice")->at(0).jkt == client.jkt());
}
