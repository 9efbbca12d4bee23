// Crash tests with real processes: tegata_sqlite_crash_driver runs a SessionManager over a SQLite
// file under load from four threads and is killed with SIGKILL at a random moment; the driver's
// check mode then reopens the same file with the same key and verifies everything the killed
// process had acknowledged in its journal (crash_driver.cpp). Several rounds on one file, with
// synchronous NORMAL (in WAL mode a process crash loses nothing acknowledged: the data is in the
// OS's page cache) and FULL. A power loss is not simulated: only FULL is claimed to survive it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sqlite/sqlite_support.hpp"

#ifndef TEGATA_SQLITE_CRASH_DRIVER
#error "TEGATA_SQLITE_CRASH_DRIVER must name the tegata_sqlite_crash_driver executable"
#endif

namespace {

// Starts the driver with args; stdout goes to the returned pipe's read end when capture is set.
pid_t spawn(const std::vector<std::string>& args, int* output) {
  int out[2] = {-1, -1};
  if (output != nullptr) REQUIRE(::pipe(out) == 0);
  std::fflush(nullptr);  // nothing buffered twice
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (output != nullptr) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
    }
    std::vector<char*> argv;
    std::string program = TEGATA_SQLITE_CRASH_DRIVER;
    argv.push_back(program.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  if (output != nullptr) {
    ::close(out[1]);
    *output = out[0];
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("killed with SIGKILL at random moments, every acknowledged operation stays in force",
          "[sqlite][crash]") {
  sqlite_test::scratch_dir dir;
  const std::string db = dir.file("crash.db");
  std::random_device entropy;
  const unsigned seed = entropy();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  int total_live = 0, total_refused = 0;
  const char* modes[] = {"normal", "normal", "normal", "full", "full", "normal"};
  for (int round = 0; round < 6; ++round) {
    const std::string journal = dir.file("journal-" + std::to_string(round));
    const auto lifetime = std::chrono::milliseconds{300 + random() % 1200};
    INFO("round " << round << ", " << modes[round] << ", killed after " << lifetime.count()
                  << " ms");
    const pid_t driver =
        spawn({"run", db, journal, modes[round], std::to_string(random())}, nullptr);
    std::this_thread::sleep_for(lifetime);
    REQUIRE(::kill(driver, SIGKILL) == 0);
    const int status = wait_for(driver);
    REQUIRE(WIFSIGNALED(status));  // it was still running: no error ended it early
    CHECK(WTERMSIG(status) == SIGKILL);

    int output = -1;
    const pid_t checker = spawn({"check", db, journal}, &output);
    std::string text;
    char buffer[4096];
    for (ssize_t n = 0; (n = ::read(output, buffer, sizeof buffer)) > 0;) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(output);
    const int checked = wait_for(checker);
    INFO(text);
    CHECK(WIFEXITED(checked));
    CHECK(WEXITSTATUS(checked) == 0);
    int live = 0, refused = 0, failures = -1;
    const auto line = text.rfind("checked ");
    REQUIRE(line != std::string::npos);
    REQUIRE(std::sscanf(text.c_str() + line, "checked %d %d %d", &live, &refused, &failures) == 3);
    CHECK(failures == 0);
    total_live += live;
    total_refused += refused;
  }
  // The rounds did real work: sessions live at the kill and guarantees of refusal to check.
  CHECK(total_live > 0);
  CHECK(total_refused > 0);
}
