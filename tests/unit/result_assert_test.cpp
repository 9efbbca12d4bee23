// Result<T>'s unchecked access (operator*, operator->) on a failed Result stops a debug build with
// an assertion instead of handing out a reference to nothing. The dereference runs in a forked
// child (POSIX), whose end the parent inspects: killed by SIGABRT, with the assertion's text on
// its stderr. In a build with NDEBUG the assertions are compiled out, and so is this test.
#include <catch2/catch_test_macros.hpp>

#ifndef NDEBUG

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <tegata/error.hpp>
#include <utility>

namespace {

using tegata::errc;
using tegata::Result;

struct ChildEnd {
  bool signaled = false;
  int signal = 0;
  int exit_status = -1;
  std::string output;
};

// Runs body in a child process with its stdout and stderr captured; the child exits 0 if body
// returns.
template <class Body>
ChildEnd run_in_child(Body body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Catch2's own handlers would report the signal as a failure of the test, from the child.
    for (const int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) std::signal(signal, SIG_DFL);
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[1]);
    body();
    ::_exit(0);  // no atexit handlers, no flushing of the parent's buffers
  }
  ::close(pipe_fds[1]);
  ChildEnd end;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) break;
    end.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  end.signaled = WIFSIGNALED(status);
  if (end.signaled) end.signal = WTERMSIG(status);
  if (WIFEXITED(status)) end.exit_status = WEXITSTATUS(status);
  return end;
}

void check_asserts(const ChildEnd& end) {
  INFO("child's output: " << end.output);
  INFO("exit status " << end.exit_status << ", signal " << end.signal);
  CHECK(end.signaled);
  CHECK(end.signal == SIGABRT);
  CHECK(end.output.find("Result") != std::string::npos);  // our assertion, not another
}

// Reads through the reference so that a missing assertion shows as a crash or a wrong value,
// never as silence.
template <class T>
void consume(const T& value) {
  volatile std::size_t sink = sizeof value;
  if constexpr (requires { value.size(); }) sink = value.size();
  (void)sink;
}

}  // namespace

TEST_CASE("Result: unchecked access to a failed Result asserts in debug builds", "[error]") {
  SECTION("operator* on an lvalue") {
    check_asserts(run_in_child([] {
      Result<std::string> r = errc::expired;
      consume(*r);
    }));
  }
  SECTION("operator* on a const lvalue") {
    check_asserts(run_in_child([] {
      const Result<std::string> r = errc::expired;
      consume(*r);
    }));
  }
  SECTION("operator* on an rvalue") {
    check_asserts(run_in_child([] {
      Result<std::string> r = errc::expired;
      const std::string moved = *std::move(r);
      consume(moved);
    }));
  }
  SECTION("operator->") {
    check_asserts(run_in_child([] {
      Result<std::string> r = errc::not_found;
      consume(r->size());
    }));
  }
  SECTION("operator-> on a const Result") {
    check_asserts(run_in_child([] {
      const Result<std::string> r = errc::not_found;
      consume(r->size());
    }));
  }
  SECTION("a successful Result is not affected") {
    const ChildEnd end = run_in_child([] {
      Result<std::string> r = std::string("alice");
      consume(*r);
      consume(r->size());
      consume(*std::as_const(r));
    });
    INFO("child's output: " << end.output);
    CHECK_FALSE(end.signaled);
    CHECK(end.exit_status == 0);
  }
}

#endif  // NDEBUG
