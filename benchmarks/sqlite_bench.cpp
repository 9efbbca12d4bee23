// benchmarks/sqlite_bench.cpp - tegata_sqlite_bench: validate and refresh of a SessionManager on
// the SQLite store (files in a scratch directory under $TMPDIR: the defaults, synchronous FULL
// with the status cache; NORMAL; and the defaults without the cache), next to the same manager
// on MemoryRevocationStore, the session list of a subject with 1, 10 and 100 sessions, and the
// stores' status() on its own. Every store holds 1,000 live and
// 1,000 ended sessions, so lookups search populated tables. benchmarks/README.md ("The SQLite
// store") gives the figures and the ratios.
//
//   build/dev/benchmarks/tegata_sqlite_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <tegata/tegata.hpp>
#include <vector>

#include "store_bench.hpp"
#include "tegata/store/sqlite.hpp"

namespace {

// The scratch directory of this run's files, removed at exit.
const std::filesystem::path& scratch() {
  static const struct dir {
    dir() {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern =
          std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tegata-bench-XXXXXX";
      if (::mkdtemp(pattern.data()) != nullptr) path = pattern;
    }
    ~dir() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
  } d;
  return d.path;
}

tegata::sqlite::RevocationStore sqlite_store(tegata::sqlite::Synchronous mode, bool cached) {
  static int files = 0;
  tegata::sqlite::Options o;
  o.path = (scratch() / ("bench-" + std::to_string(files++) + ".db")).string();
  o.synchronous = mode;
  o.cache.enabled = cached;
  return tegata::sqlite::RevocationStore(o);
}

using memory_fixture = store_bench::fixture<tegata::MemoryRevocationStore>;
using sqlite_fixture = store_bench::fixture<tegata::sqlite::RevocationStore>;

memory_fixture& memory() {
  static memory_fixture f{tegata::MemoryRevocationStore{}};
  return f;
}

// The defaults (synchronous FULL, status cache on); NORMAL; and the defaults without the cache.
sqlite_fixture& sqlite_default() {
  static sqlite_fixture f{sqlite_store(tegata::sqlite::Synchronous::full, true)};
  return f;
}
sqlite_fixture& sqlite_normal() {
  static sqlite_fixture f{sqlite_store(tegata::sqlite::Synchronous::normal, true)};
  return f;
}
sqlite_fixture& sqlite_uncached() {
  static sqlite_fixture f{sqlite_store(tegata::sqlite::Synchronous::full, false)};
  return f;
}

constexpr const char* kNoFixture = "the fixture could not be built";

template <class Store>
void status(benchmark::State& state, const Store& store) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::string> jtis;
  for (int i = 0; i < 1000; ++i) jtis.push_back("jti-" + std::to_string(i));
  std::size_t i = 0;
  for (auto _ : state) {
    auto s = store.status(jtis[i++ % jtis.size()], "sid", "user-1", now);
    benchmark::DoNotOptimize(s);
  }
}

using store_bench::list_sessions;
using store_bench::refresh;
using store_bench::validate;
void validate_memory(benchmark::State& state) { validate(state, &memory(), kNoFixture); }
void validate_sqlite(benchmark::State& state) { validate(state, &sqlite_default(), kNoFixture); }
void validate_sqlite_uncached(benchmark::State& state) {
  validate(state, &sqlite_uncached(), kNoFixture);
}
void refresh_memory(benchmark::State& state) { refresh(state, &memory(), kNoFixture); }
void refresh_sqlite_full(benchmark::State& state) { refresh(state, &sqlite_default(), kNoFixture); }
void refresh_sqlite_normal(benchmark::State& state) {
  refresh(state, &sqlite_normal(), kNoFixture);
}
void sessions_memory(benchmark::State& state) { list_sessions(state, &memory(), kNoFixture); }
void sessions_sqlite(benchmark::State& state) {
  list_sessions(state, &sqlite_default(), kNoFixture);
}
void status_memory(benchmark::State& state) { status(state, memory().manager.store()); }
void status_sqlite(benchmark::State& state) { status(state, sqlite_default().manager.store()); }
void status_sqlite_uncached(benchmark::State& state) {
  status(state, sqlite_uncached().manager.store());
}

}  // namespace

BENCHMARK(validate_memory);
BENCHMARK(validate_sqlite);
BENCHMARK(validate_sqlite_uncached);
BENCHMARK(validate_memory)->Threads(2);
BENCHMARK(validate_sqlite)->Threads(2);
BENCHMARK(validate_sqlite_uncached)->Threads(2);
BENCHMARK(refresh_memory);
BENCHMARK(refresh_sqlite_full);
BENCHMARK(refresh_sqlite_normal);
BENCHMARK(sessions_memory)->Arg(1)->Arg(10)->Arg(100);
BENCHMARK(sessions_sqlite)->Arg(1)->Arg(10)->Arg(100);
BENCHMARK(status_memory);
BENCHMARK(status_sqlite);
BENCHMARK(status_sqlite_uncached);

BENCHMARK_MAIN();
