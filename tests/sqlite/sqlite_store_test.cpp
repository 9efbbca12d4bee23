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
#include <tegata/tegata.hpp>
#include <thread>

#include "sqlite/sqlite_support.hpp"

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

std::int64_t count_rows(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT count(*) FROM " + table;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
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
    run_sql(path, "PRAGMA user_version = 2");
    CHECK_THAT(refusal(sqlite_test::options(path)),
               ContainsSubstring("newer tegata") && ContainsSubstring("schema version 2"));
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
  }
  tegata::sqlite::RevocationStore store(sqlite_test::options(path));
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
