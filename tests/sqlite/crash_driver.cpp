// tegata_sqlite_crash_driver: a server stand-in for the crash tests (crash_test.cpp).
//
//   tegata_sqlite_crash_driver run <db> <journal> <normal|full> <seed>
//     A SessionManager (HS256 with a fixed key, so tokens outlive the process; reuse_grace 0, so
//     a consumed refresh token is refused at once) over the SQLite store on <db>, and four threads
//     that log in, refresh, log out, log out everywhere and replay consumed refresh tokens, each
//     on subjects of its own, until the process is killed. After every operation returns
//     success, one line goes to <journal> with a single write(2) (O_APPEND: in the kernel once
//     write returns, so a SIGKILL cannot lose it), stating what is now guaranteed; before every
//     operation on an existing session, a `pending` line says that its outcome is unknown if the
//     journal ends there:
//       login <key> <subject> <access> <refresh>    a live session
//       pending <key> | pending_all <subject>       an operation under way
//       rotated <key> <access> <refresh>            the session's previous refresh token is
//       consumed logout <key>                                the session ended replayed <key> a
//       consumed token was replayed: theft, ended revoked_all <subject>                       every
//       session of the subject so far ended error <what>                                an
//       operation failed unexpectedly
//   tegata_sqlite_crash_driver check <db> <journal>
//     Reopens <db> with the same key and verifies every guarantee of <journal>: ended sessions'
//     access tokens are refused, live sessions (with no operation under way) validate and refresh,
//     and no consumed refresh token, nor the refresh token of an ended session, buys a new pair.
//     Prints "checked <live> <refused> <failures>" and exits 0 when nothing failed.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tegata/tegata.hpp>
#include <thread>
#include <vector>

#include "tegata/store/sqlite.hpp"

namespace {

using Manager =
    tegata::SessionManager<tegata::HmacKey, tegata::SystemClock, tegata::sqlite::RevocationStore>;

Manager make_manager(const std::string& db, tegata::sqlite::Synchronous synchronous) {
  tegata::SessionOptions options;
  options.issuer = "https://crash.example";
  options.audience = "api";
  options.reuse_grace = std::chrono::seconds{0};
  options.max_sessions_per_subject = 1000;
  tegata::sqlite::Options store;
  store.path = db;
  store.synchronous = synchronous;
  store.busy_timeout = std::chrono::seconds{10};
  return Manager(tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 'c'), "crash"), options,
                 {}, tegata::sqlite::RevocationStore(store));
}

class journal {
 public:
  explicit journal(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open the journal " + path);
  }
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;
  ~journal() { ::close(fd_); }
  void line(const std::string& text) const {
    const std::string l = text + "\n";
    if (::write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::abort();
  }

 private:
  int fd_;
};

struct session {
  std::string key, subject, access, refresh, consumed;  // consumed: the latest one, if any
  bool live = true;
};

[[noreturn]] void run_thread(Manager& manager, const journal& log, int thread, unsigned seed) {
  std::mt19937 random(seed + static_cast<unsigned>(thread));
  const std::string prefix = "p" + std::to_string(::getpid()) + "-t" + std::to_string(thread);
  const std::string subjects[] = {prefix + "-a", prefix + "-b", prefix + "-c"};
  std::vector<session> sessions;
  int next_key = 0;
  auto fail = [&](const std::string& what, std::error_code ec) {
    log.line("error " + what + " " + std::string(tegata::to_string(ec)));
  };
  for (;;) {
    std::vector<session*> live;
    for (auto& s : sessions) {
      if (s.live) live.push_back(&s);
    }
    const unsigned dice = random() % 100;
    if (live.size() < 3 || dice < 20) {
      const std::string& subject = subjects[random() % 3];
      auto pair = manager.issue(subject);
      if (!pair) {
        fail("issue", pair.error());
        continue;
      }
      session s{prefix + "-s" + std::to_string(next_key++),
                subject,
                pair->access_token,
                pair->refresh_token,
                {},
                true};
      log.line("login " + s.key + " " + s.subject + " " + s.access + " " + s.refresh);
      sessions.push_back(std::move(s));
      continue;
    }
    session& s = *live[random() % live.size()];
    if (dice < 70) {
      log.line("pending " + s.key);
      auto pair = manager.refresh(s.refresh);
      if (!pair) {
        fail("refresh", pair.error());
        continue;
      }
      s.consumed = std::exchange(s.refresh, pair->refresh_token);
      s.access = pair->access_token;
      log.line("rotated " + s.key + " " + s.access + " " + s.refresh);
    } else if (dice < 80) {
      log.line("pending " + s.key);
      if (auto r = manager.revoke(s.access); !r) {
        fail("revoke", r.error());
        continue;
      }
      s.live = false;
      log.line("logout " + s.key);
    } else if (dice < 92) {
      if (s.consumed.empty()) continue;
      log.line("pending " + s.key);
      auto r = manager.refresh(s.consumed);
      if (r || r.error() != tegata::errc::refresh_reused) {
        fail("replay", r ? std::error_code{} : r.error());
        continue;
      }
      s.live = false;
      log.line("replayed " + s.key);
    } else {
      log.line("pending_all " + s.subject);
      if (auto r = manager.revoke_all(s.subject); !r) {
        fail("revoke_all", r.error());
        continue;
      }
      for (auto& other : sessions) {
        if (other.subject == s.subject) other.live = false;
      }
      log.line("revoked_all " + s.subject);
    }
    if (sessions.size() > 200) std::erase_if(sessions, [](const session& x) { return !x.live; });
  }
}

int run(const std::string& db, const std::string& journal_path,
        tegata::sqlite::Synchronous synchronous, unsigned seed) {
  auto manager = make_manager(db, synchronous);
  const journal log(journal_path);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { run_thread(manager, log, t, seed); });
  }
  for (auto& t : threads) t.join();  // never: the test kills the process
  return 0;
}

struct known {
  std::string subject, access, refresh;
  std::vector<std::string> consumed, ended_access;
  bool live = true, pending = false;
};

int check(const std::string& db, const std::string& journal_path) {
  std::ifstream in(journal_path);
  std::map<std::string, known> sessions;
  std::set<std::string> subjects_pending;
  int failures = 0;
  auto failed = [&](const std::string& what) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures;
  };
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!text.empty() && text.back() != '\n') text.erase(text.rfind('\n') + 1);  // a torn last line
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string op, key;
    words >> op >> key;
    if (op == "login") {
      known& k = sessions[key];
      words >> k.subject >> k.access >> k.refresh;
    } else if (op == "pending") {
      sessions[key].pending = true;
    } else if (op == "rotated") {
      known& k = sessions[key];
      k.consumed.push_back(k.refresh);
      words >> k.access >> k.refresh;
      k.pending = false;
    } else if (op == "logout" || op == "replayed") {
      sessions[key].live = false;
      sessions[key].pending = false;
    } else if (op == "pending_all") {
      subjects_pending.insert(key);
    } else if (op == "revoked_all") {
      for (auto& [name, k] : sessions) {
        if (k.subject == key) k.live = false;
      }
      subjects_pending.erase(key);
    } else if (op == "error") {
      failed("the run reported: " + line);
    } else {
      failed("unreadable journal line: " + line);
    }
  }

  auto manager = make_manager(db, tegata::sqlite::Synchronous::full);
  int live = 0, refused = 0;
  // Reads first, then the live sessions' refreshes, then the refreshes that must fail (a reused
  // token ends its family, which would hide whether the live check passes).
  for (const auto& [key, k] : sessions) {
    if (k.live || k.pending || subjects_pending.contains(k.subject)) continue;
    ++refused;
    if (manager.validate(k.access)) failed(key + ": an ended session's access token validates");
  }
  for (const auto& [key, k] : sessions) {
    if (!k.live || k.pending || subjects_pending.contains(k.subject)) continue;
    ++live;
    if (auto v = manager.validate(k.access); !v) {
      failed(key + ": a live session's access token is refused: " +
             std::string(tegata::to_string(v.error())));
    }
    if (auto r = manager.refresh(k.refresh); !r) {
      failed(key +
             ": a live session does not refresh: " + std::string(tegata::to_string(r.error())));
    }
  }
  for (const auto& [key, k] : sessions) {
    for (const auto& token : k.consumed) {
      ++refused;
      if (manager.refresh(token)) failed(key + ": a consumed refresh token was accepted again");
    }
    if (k.live || k.pending || subjects_pending.contains(k.subject)) continue;
    ++refused;
    if (manager.refresh(k.refresh)) failed(key + ": an ended session refreshes");
  }
  std::printf("checked %d %d %d\n", live, refused, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "run") {
      return run(args[1], args[2],
                 args[3] == "full" ? tegata::sqlite::Synchronous::full
                                   : tegata::sqlite::Synchronous::normal,
                 static_cast<unsigned>(std::stoul(args[4])));
    }
    if (args.size() == 3 && args[0] == "check") return check(args[1], args[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tegata_sqlite_crash_driver: %s\n", e.what());
    return 3;
  }
  std::fprintf(stderr,
               "usage: tegata_sqlite_crash_driver run <db> <journal> <normal|full> <seed>\n"
               "       tegata_sqlite_crash_driver check <db> <journal>\n");
  return 2;
}
