// Test support for the Redis store: where the test Redis is (TEGATA_TEST_REDIS=host:port), unique
// key prefixes, a raw client to look at keys, redis-server processes of a test's own (for restarts
// and AUTH) and child processes spoken to line by line (the two-process tests).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tegata/store/redis.hpp"

#ifndef TEGATA_REQUIRE_REDIS
#define TEGATA_REQUIRE_REDIS 0
#endif

extern char** environ;

namespace redis_test {

using namespace std::chrono_literals;
namespace rd = tegata::redis::detail;

struct address {
  std::string host;
  int port = 0;
};

inline std::optional<address> parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const auto port = rd::parse_integer<int>(text.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  return address{std::string(text.substr(0, colon)), *port};
}

inline std::optional<address> configured() {
  const char* env = std::getenv("TEGATA_TEST_REDIS");
  if (env == nullptr || *env == '\0') return std::nullopt;
  return parse_address(env);
}

// Skips the test, visibly, when no test Redis is configured; fails instead when the build requires
// the Redis tests (TEGATA_REQUIRE_REDIS, as in CI).
[[noreturn]] inline void unavailable(std::string_view why) {
  if (TEGATA_REQUIRE_REDIS) FAIL(why << " (and TEGATA_REQUIRE_REDIS is on)");
  SKIP(why);
  std::abort();  // not reached: FAIL and SKIP throw
}

inline address require_redis() {
  const char* env = std::getenv("TEGATA_TEST_REDIS");
  if (env == nullptr || *env == '\0') {
    unavailable("TEGATA_TEST_REDIS is not set: set it to host:port of a Redis to run this test");
  }
  const auto where = parse_address(env);
  if (!where) FAIL("TEGATA_TEST_REDIS must be host:port, not '" << env << "'");
  return *where;
}

// Every key this process writes starts with run_prefix(); the listener in cleanup.cpp deletes
// them when the run ends. Each store gets its own unique_prefix() below it.
inline const std::string& run_prefix() {
  static const std::string prefix = [] {
    std::random_device random;
    return "tegata-test:" + std::to_string(random()) + std::to_string(::getpid()) + ":";
  }();
  return prefix;
}

inline std::string unique_prefix() {
  static std::atomic<int> next{0};
  return run_prefix() + std::to_string(next++) + ":";
}

// Generous timeouts: the test machine is shared and busy; no test depends on them being short.
inline tegata::redis::Options options(const address& where, std::string prefix) {
  tegata::redis::Options o;
  o.host = where.host;
  o.port = where.port;
  o.prefix = std::move(prefix);
  o.pool_size = 8;
  o.connect_timeout = 5000ms;
  o.command_timeout = 5000ms;
  o.reconnect_delay = 20ms;
  return o;
}

inline bool eventually(const auto& condition, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

inline void wait_until_fresh(const tegata::redis::RevocationStore& store) {
  REQUIRE(eventually([&] { return store.cache_fresh(); }));
}

// A plain connection for looking at (and tampering with) what the store wrote.
class client {
 public:
  explicit client(const address& where, std::string_view password = {}) {
    tegata::redis::Options o = options(where, "unused:");
    o.password = std::string(password);
    o.allow_eviction = true;  // a raw client, for any server
    connection_ = rd::endpoint(o).connect();
    REQUIRE(connection_ != nullptr);
  }

  rd::reply_ptr operator()(std::initializer_list<std::string_view> args) {
    auto reply = rd::run(connection_.get(), rd::command(args));
    REQUIRE(reply != nullptr);
    return reply;
  }

  // Every key that starts with prefix.
  std::vector<std::string> keys(const std::string& prefix) {
    std::vector<std::string> names;
    std::string cursor = "0";
    std::string pattern;
    for (char c : prefix) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '*';
    do {
      const auto page = (*this)({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      REQUIRE(page->type == REDIS_REPLY_ARRAY);
      cursor = std::string(rd::text(page->element[0]));
      for (std::size_t i = 0; i < page->element[1]->elements; ++i) {
        names.emplace_back(rd::text(page->element[1]->element[i]));
      }
    } while (cursor != "0");
    return names;
  }

  long long pttl(std::string_view key) {
    const auto reply = (*this)({"PTTL", key});
    REQUIRE(reply->type == REDIS_REPLY_INTEGER);
    return reply->integer;
  }

  void delete_all(const std::string& prefix) {
    for (const auto& key : keys(prefix)) (*this)({"DEL", key});
  }

 private:
  rd::context_ptr connection_;
};

// A free TCP port on 127.0.0.1 (free a moment ago; good enough for a test's own server).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

// A child process, optionally with its stdin and stdout connected to us for a line protocol.
class child {
 public:
  explicit child(const std::vector<std::string>& argv, bool talk = false) {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (talk) {
      REQUIRE(::pipe(in) == 0);
      REQUIRE(::pipe(out) == 0);
      posix_spawn_file_actions_adddup2(&actions, in[0], 0);
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
      posix_spawn_file_actions_addclose(&actions, in[1]);
      posix_spawn_file_actions_addclose(&actions, out[0]);
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int spawned = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (talk) {
      ::close(in[0]);
      ::close(out[1]);
      to_ = in[1];
      from_ = out[0];
    }
    if (spawned != 0) {
      pid_ = -1;
      error_ = spawned;
    }
  }
  ~child() {
    terminate();
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  bool started() const noexcept { return pid_ > 0; }
  int spawn_error() const noexcept { return error_; }

  void send(std::string_view line) {
    std::string data(line);
    data += '\n';
    std::size_t sent = 0;
    while (sent < data.size()) {
      const auto n = ::write(to_, data.data() + sent, data.size() - sent);
      REQUIRE(n > 0);
      sent += static_cast<std::size_t>(n);
    }
  }

  // One line of output (without its newline); fails the test after `limit`.
  std::string receive(std::chrono::milliseconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      REQUIRE(left.count() > 0);
      pollfd fd{from_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const auto n = ::read(from_, chunk, sizeof chunk);
      REQUIRE(n > 0);  // the child closed its output: it died
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  std::string request(std::string_view line) {
    send(line);
    return receive();
  }

  // SIGKILL: the process dies at once, as in a crash (no shutdown, no last write).
  void kill_hard() noexcept { signal_and_wait(SIGKILL); }
  // SIGSTOP and SIGCONT: frozen, as a process that hangs (or a host cut off), then running again.
  void freeze() noexcept {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void thaw() noexcept {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  void terminate() noexcept { signal_and_wait(SIGTERM); }

 private:
  void signal_and_wait(int signal) noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int error_ = 0;
  int to_ = -1;
  int from_ = -1;
  std::string buffer_;
};

// A redis-server of the test's own, on 127.0.0.1 and a free port, with its data in a temporary
// directory and an append-only file synced on every write, so it survives a restart with every
// acknowledged write. The binary is TEGATA_REDIS_SERVER, or redis-server on the PATH.
class server {
 public:
  explicit server(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tegata-redis-" + std::to_string(::getpid()) + "-" + std::to_string(next_id()));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
  }
  ~server() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void start() {
    const char* binary = std::getenv("TEGATA_REDIS_SERVER");
    std::vector<std::string> argv = {binary != nullptr && *binary != '\0' ? binary : "redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.string(),
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "always",
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     (dir_ / "redis.log").string()};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<child>(argv);
    if (!process_->started()) {
      unavailable("cannot start redis-server (install it, or set TEGATA_REDIS_SERVER)");
    }
    // Up once it answers anything (with requirepass, PING answers NOAUTH).
    REQUIRE(eventually([&] {
      tegata::redis::Options o = options(where(), "unused:");
      o.connect_timeout = 200ms;
      o.allow_eviction = true;  // whatever the server's policy, it is up
      auto c = rd::endpoint(o).connect();
      return c != nullptr && rd::run(c.get(), {"PING"}) != nullptr;
    }));
  }

  void stop() { process_.reset(); }
  // Killed with SIGKILL, as in a crash.
  void crash() {
    if (process_) process_->kill_hard();
    process_.reset();
  }

  void freeze() {
    if (process_) process_->freeze();
  }
  void thaw() {
    if (process_) process_->thaw();
  }

  address where() const { return {"127.0.0.1", port_}; }

 private:
  static int next_id() {
    static std::atomic<int> id{0};
    return id++;
  }
  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  int port_ = 0;
  std::unique_ptr<child> process_;
};

// A Sentinel of the test's own (redis-sentinel, or TEGATA_REDIS_SENTINEL), on 127.0.0.1 and a
// free port, monitoring `master_name` at `primary` with the given quorum. It declares the primary
// down after 1 s without an answer, so a failover takes a few seconds.
class sentinel {
 public:
  sentinel(const address& primary, std::string_view master_name, int quorum) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tegata-sentinel-" + std::to_string(::getpid()) + "-" + std::to_string(next_id()));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    const auto conf = dir_ / "sentinel.conf";
    {
      std::FILE* f = std::fopen(conf.c_str(), "w");
      REQUIRE(f != nullptr);
      const std::string name(master_name);
      std::fprintf(f,
                   "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
                   "sentinel monitor %s %s %d %d\n"
                   "sentinel down-after-milliseconds %s 1000\n"
                   "sentinel failover-timeout %s 10000\n"
                   "sentinel parallel-syncs %s 1\n",
                   port_, dir_.c_str(), (dir_ / "sentinel.log").c_str(), name.c_str(),
                   primary.host.c_str(), primary.port, quorum, name.c_str(), name.c_str(),
                   name.c_str());
      std::fclose(f);
    }
    const char* binary = std::getenv("TEGATA_REDIS_SENTINEL");
    process_ = std::make_unique<child>(std::vector<std::string>{
        binary != nullptr && *binary != '\0' ? binary : "redis-sentinel", conf.string()});
    if (!process_->started()) {
      unavailable("cannot start redis-sentinel (install it, or set TEGATA_REDIS_SENTINEL)");
    }
    REQUIRE(eventually([&] {
      rd::context_ptr c(redisConnect("127.0.0.1", port_));
      return c != nullptr && c->err == 0 && rd::run(c.get(), {"PING"}) != nullptr;
    }));
  }
  ~sentinel() {
    process_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  sentinel(const sentinel&) = delete;
  sentinel& operator=(const sentinel&) = delete;

  std::string where() const { return "127.0.0.1:" + std::to_string(port_); }

  // Where this Sentinel says the primary is ("host:port"), empty when it cannot say.
  std::string primary(std::string_view master_name) const {
    rd::context_ptr c(redisConnect("127.0.0.1", port_));
    if (c == nullptr || c->err != 0) return {};
    const auto r =
        rd::run(c.get(), rd::command({"SENTINEL", "get-master-addr-by-name", master_name}));
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return {};
    return std::string(rd::text(r->element[0])) + ":" + std::string(rd::text(r->element[1]));
  }

  // How many replicas, and how many other Sentinels, this Sentinel knows for master_name.
  std::size_t replicas(std::string_view master_name) const {
    return count({"SENTINEL", "replicas", master_name});
  }
  std::size_t sentinels(std::string_view master_name) const {
    return count({"SENTINEL", "sentinels", master_name});
  }

 private:
  std::size_t count(std::initializer_list<std::string_view> args) const {
    rd::context_ptr c(redisConnect("127.0.0.1", port_));
    if (c == nullptr || c->err != 0) return 0;
    const auto r = rd::run(c.get(), rd::command(args));
    return r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
  }
  static int next_id() {
    static std::atomic<int> id{0};
    return id++;
  }
  std::filesystem::path dir_;
  int port_ = 0;
  std::unique_ptr<child> process_;
};

// A primary, `replicas` replicas of it and three Sentinels (quorum 2) monitoring it under a name
// of this process's own, everything started and waited for: replicas in sync, and every
// Sentinel knowing every replica and the other Sentinels (a failover needs both).
//
// Every server may become the primary, and each is started with
//  - repl-diskless-sync-delay 0: a replica (re)attaching to a primary is synchronised at once,
//    instead of after Redis's default 5 s wait for more replicas. With acknowledged writes, that
//    delay is part of how long writes fail after a failover (docs/redis.md);
//  - enable-debug-command local: DEBUG SLEEP (a hung primary) from loopback; Redis 7 refuses
//    DEBUG by default.
class replicated {
 public:
  explicit replicated(int replicas)
      : name_("tegata-test-" + std::to_string(::getpid())), primary_(server_arguments()) {
    primary_.start();
    for (int i = 0; i < replicas; ++i) {
      auto arguments = server_arguments();
      arguments.insert(arguments.end(),
                       {"--replicaof", "127.0.0.1", std::to_string(primary_.where().port)});
      replicas_.push_back(std::make_unique<server>(arguments));
      replicas_.back()->start();
    }
    client admin(primary_.where());
    REQUIRE(eventually([&] {
      const std::string info(rd::text(admin({"INFO", "replication"}).get()));
      std::size_t online = 0;
      for (auto at = info.find("state=online"); at != std::string::npos;
           at = info.find("state=online", at + 1)) {
        ++online;
      }
      return online == replicas_.size();
    }));
    for (int i = 0; i < 3; ++i) {
      sentinels_.push_back(std::make_unique<sentinel>(primary_.where(), name_, 2));
    }
    REQUIRE(eventually([&] {
      for (const auto& s : sentinels_) {
        if (s->replicas(name_) != replicas_.size() || s->sentinels(name_) != 2) return false;
      }
      return true;
    }));
  }

  // Store options that find the primary through the Sentinels.
  tegata::redis::Options options(std::string prefix) const {
    auto o = redis_test::options({"unused", 1}, std::move(prefix));
    for (const auto& s : sentinels_) o.sentinels.push_back(s->where());
    o.master_name = name_;
    o.connect_timeout = 300ms;
    o.command_timeout = 1000ms;
    return o;
  }

  // Whether every Sentinel names a server other than the first primary as the primary.
  bool failed_over() const {
    const std::string first = "127.0.0.1:" + std::to_string(primary_.where().port);
    for (const auto& s : sentinels_) {
      const std::string now = s->primary(name_);
      if (now.empty() || now == first) return false;
    }
    return true;
  }

  server& primary() { return primary_; }
  server& replica(std::size_t i) { return *replicas_.at(i); }
  std::size_t replica_count() const { return replicas_.size(); }
  const sentinel& sentinel_at(std::size_t i) const { return *sentinels_.at(i); }
  const std::string& name() const { return name_; }

 private:
  static std::vector<std::string> server_arguments() {
    return {"--repl-diskless-sync-delay", "0", "--enable-debug-command", "local"};
  }

  std::string name_;
  server primary_;
  std::vector<std::unique_ptr<server>> replicas_;
  std::vector<std::unique_ptr<sentinel>> sentinels_;
};

}  // namespace redis_test
