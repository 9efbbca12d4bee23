// Several processes on one file: concurrent refreshes of one refresh token from four processes
// (two threads each, every process with its own store on the file) yield exactly one rotation;
// with grace, every loser gets the winner's chain; without, the losers are theft or find the
// family ended. And two processes using one DPoP proof at once: exactly one use_proof answers
// true. The processes are forked before any store is opened in them, and are released together
// by closing a pipe they all wait on.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sqlite/sqlite_support.hpp"

using namespace std::chrono_literals;
using tegata::RotationVerdict;

namespace {

constexpr int kProcesses = 4;
constexpr int kThreads = 2;
constexpr int kRounds = 20;
const std::chrono::sys_seconds kNow{std::chrono::seconds{1'700'000'000}};

// The child: waits for `go` to close, then kThreads threads each present "r0" of every round's
// session, round after round (all processes start together, so they meet on the same rounds),
// and the child writes one line per attempt to `out`: "<round> <verdict> <current>".
[[noreturn]] void child(const std::string& path, int go, int out, int id,
                        std::chrono::seconds grace) {
  int code = 0;
  try {
    tegata::sqlite::RevocationStore store(sqlite_test::options(path));
    char byte = 0;
    if (::read(go, &byte, 1) != 0) ::_exit(3);  // closed: go
    std::vector<std::thread> threads;
    std::vector<std::string> lines(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < kRounds; ++round) {
          const std::string next = "r1-" + std::to_string(id) + "-" + std::to_string(t);
          const tegata::RotationRequest request{"r0",        next,       kNow + 1s,  grace,
                                                kNow + 100s, kNow + 11s, kNow + 100s};
          const auto r = store.rotate_session("alice", "sid-" + std::to_string(round), request);
          lines[t] += std::to_string(round) + " " +
                      (r ? std::to_string(static_cast<int>(r->verdict)) : "-1") + " " +
                      (r && !r->current.empty() ? r->current : "-") + "\n";
        }
      });
    }
    for (auto& thread : threads) thread.join();
    std::string all;
    for (const auto& l : lines) all += l;
    if (::write(out, all.data(), all.size()) != static_cast<ssize_t>(all.size())) code = 4;
  } catch (...) {
    code = 5;
  }
  ::_exit(code);
}

// The child of the proof race: waits for `go` to close, then for each round meets its peer (a
// byte each way, so that both call use_proof for the round's key at about the same moment) and
// writes "<round> <answer>" to `out`: 1 true, 0 false, -1 an error.
[[noreturn]] void proof_child(const std::string& path, int go, int out, int to_peer, int from_peer,
                              int rounds) {
  int code = 0;
  try {
    const tegata::sqlite::RevocationStore store(sqlite_test::options(path));
    char byte = 0;
    if (::read(go, &byte, 1) != 0) ::_exit(3);  // closed: go
    std::string lines;
    for (int round = 0; round < rounds; ++round) {
      if (::write(to_peer, "x", 1) != 1 || ::read(from_peer, &byte, 1) != 1) ::_exit(6);
      const auto used = store.use_proof("proof-" + std::to_string(round), kNow + 60s, kNow);
      lines += std::to_string(round) + " " + (used ? (*used ? "1" : "0") : "-1") + "\n";
    }
    if (::write(out, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) code = 4;
  } catch (...) {
    code = 5;
  }
  ::_exit(code);
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

}  // namespace

TEST_CASE("two processes use one DPoP proof at once: exactly one succeeds",
          "[sqlite][two_process][dpop]") {
  constexpr int kRounds = 50;
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("shared.db");
  { const tegata::sqlite::RevocationStore store(sqlite_test::options(path)); }  // the file exists

  int go[2], a_to_b[2], b_to_a[2];
  REQUIRE(::pipe(go) == 0);
  REQUIRE(::pipe(a_to_b) == 0);
  REQUIRE(::pipe(b_to_a) == 0);
  std::vector<pid_t> pids;
  std::vector<int> outputs;
  for (int p = 0; p < 2; ++p) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::fflush(nullptr);  // nothing buffered twice
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      ::close(out[0]);
      // Each child keeps the write end towards its peer and the read end from it.
      const int to_peer = p == 0 ? a_to_b[1] : b_to_a[1];
      const int from_peer = p == 0 ? b_to_a[0] : a_to_b[0];
      ::close(p == 0 ? a_to_b[0] : b_to_a[0]);
      ::close(p == 0 ? b_to_a[1] : a_to_b[1]);
      proof_child(path, go[0], out[1], to_peer, from_peer, kRounds);
    }
    ::close(out[1]);
    pids.push_back(pid);
    outputs.push_back(out[0]);
  }
  for (const int fd : {go[0], a_to_b[0], a_to_b[1], b_to_a[0], b_to_a[1]}) ::close(fd);
  std::this_thread::sleep_for(200ms);  // both children have opened their store and wait
  ::close(go[1]);

  std::vector<std::string> texts;
  for (const int fd : outputs) texts.push_back(read_all(fd));
  for (const pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }

  std::map<int, std::vector<int>> answers;  // round -> each process's answer
  for (const auto& text : texts) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = text.find('\n', start);
      int round = 0, answer = 0;
      REQUIRE(std::sscanf(text.c_str() + start, "%d %d", &round, &answer) == 2);
      answers[round].push_back(answer);
      start = end + 1;
    }
  }
  REQUIRE(answers.size() == static_cast<std::size_t>(kRounds));
  for (const auto& [round, both] : answers) {
    INFO("round " << round);
    REQUIRE(both.size() == 2);
    CHECK(std::count(both.begin(), both.end(), 1) == 1);
    CHECK(std::count(both.begin(), both.end(), 0) == 1);
  }
}

TEST_CASE("four processes refresh one token at once: exactly one rotation",
          "[sqlite][two_process]") {
  sqlite_test::scratch_dir dir;
  const std::string path = dir.file("shared.db");
  const auto grace = GENERATE(0s, 10s);
  {
    tegata::sqlite::RevocationStore store(sqlite_test::options(path));
    for (int round = 0; round < kRounds; ++round) {
      tegata::SessionRecord r;
      r.session_id = "sid-" + std::to_string(round);
      r.refresh_id = "r0";
      r.auth_time = r.last_refresh = kNow;
      r.expires_at = r.until = kNow + 100s;
      r.absolute_end = kNow + 400s;
      r.refresh_ttl = 100s;
      r.access_until = kNow + 10s;
      REQUIRE(store.create_session("alice", r, 1000, kNow));
    }
  }  // closed before forking: the children open their own

  int go[2];
  REQUIRE(::pipe(go) == 0);
  std::vector<pid_t> pids;
  std::vector<int> outputs;
  for (int p = 0; p < kProcesses; ++p) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::fflush(nullptr);  // nothing buffered twice
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      ::close(out[0]);
      child(path, go[0], out[1], p, grace);
    }
    ::close(out[1]);
    pids.push_back(pid);
    outputs.push_back(out[0]);
  }
  ::close(go[0]);
  std::this_thread::sleep_for(200ms);  // every child has opened its store and waits
  ::close(go[1]);

  std::string text;
  for (const int fd : outputs) {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
      text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
  }
  for (const pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }

  struct tally {
    int rotated = 0, grace = 0, reused = 0, ended = 0, failed = 0;
    std::string winner;
    std::vector<std::string> currents;
  };
  std::map<int, tally> rounds;
  std::size_t start = 0;
  int lines = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    int round = 0, verdict = 0;
    char current[64] = {};
    REQUIRE(std::sscanf(text.c_str() + start, "%d %d %63s", &round, &verdict, current) == 3);
    tally& t = rounds[round];
    switch (verdict) {
      case static_cast<int>(RotationVerdict::rotated):
        ++t.rotated;
        t.winner = current;
        break;
      case static_cast<int>(RotationVerdict::within_grace):
        ++t.grace;
        t.currents.emplace_back(current);
        break;
      case static_cast<int>(RotationVerdict::reused): ++t.reused; break;
      case static_cast<int>(RotationVerdict::ended): ++t.ended; break;
      default: ++t.failed;
    }
    ++lines;
    start = end + 1;
  }
  REQUIRE(lines == kProcesses * kThreads * kRounds);
  for (const auto& [round, t] : rounds) {
    INFO("round " << round << ", grace " << grace.count() << " s");
    CHECK(t.failed == 0);
    CHECK(t.rotated == 1);
    if (grace > 0s) {
      CHECK(t.grace == kProcesses * kThreads - 1);
      for (const auto& current : t.currents) CHECK(current == t.winner);
    } else {
      CHECK(t.reused >= 1);
      CHECK(t.reused + t.ended == kProcesses * kThreads - 1);
    }
  }
}
