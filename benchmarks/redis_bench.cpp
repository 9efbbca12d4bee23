// benchmarks/redis_bench.cpp - tegata_redis_bench: validate and refresh throughput of a
// SessionManager on the Redis store, without and with the local cache, next to the same manager
// on MemoryRevocationStore, and the store's status() on its own. Loopback Redis at
// TEGATA_TEST_REDIS=host:port (every benchmark reports an error when it is not set). Keys go under
// "tegata-bench:<pid>:" and are deleted at the end.
//
//   redis-server --port 6399 --save '' --appendonly no --daemonize yes
//   TEGATA_TEST_REDIS=127.0.0.1:6399 build/dev/benchmarks/tegata_redis_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <tegata/tegata.hpp>
#include <vector>

#include "store_bench.hpp"
#include "tegata/store/redis.hpp"

namespace {

using tegata::redis::RevocationStore;

std::optional<tegata::redis::Options> redis_options() {
  const char* env = std::getenv("TEGATA_TEST_REDIS");
  if (env == nullptr || *env == '\0') return std::nullopt;
  const std::string where = env;
  const auto colon = where.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  tegata::redis::Options o;
  o.host = where.substr(0, colon);
  o.port = std::atoi(where.c_str() + colon + 1);
  o.prefix = "tegata-bench:" + std::to_string(::getpid()) + ":";
  o.pool_size = 8;
  return o;
}

using memory_fixture = store_bench::fixture<tegata::MemoryRevocationStore>;
using redis_fixture = store_bench::fixture<RevocationStore>;

memory_fixture& memory() {
  static memory_fixture f{tegata::MemoryRevocationStore{}};
  return f;
}

// The Redis fixtures, built on first use; null without TEGATA_TEST_REDIS.
redis_fixture* redis(bool cached) {
  static const auto make = [](bool with_cache) -> std::unique_ptr<redis_fixture> {
    auto options = redis_options();
    if (!options) return nullptr;
    options->prefix += with_cache ? "cached:" : "plain:";
    options->local_cache.enabled = with_cache;
    RevocationStore store(*options);
    if (with_cache) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
      while (!store.cache_fresh() && std::chrono::steady_clock::now() < deadline) {
      }
    }
    return std::make_unique<redis_fixture>(std::move(store));
  };
  static const std::unique_ptr<redis_fixture> plain = make(false);
  static const std::unique_ptr<redis_fixture> with_cache = make(true);
  return cached ? with_cache.get() : plain.get();
}

constexpr const char* kNoRedis = "no Redis: set TEGATA_TEST_REDIS=host:port";

template <class Fixture>
void status(benchmark::State& state, Fixture* f) {
  if (f == nullptr || !f->ready) {
    state.SkipWithError(kNoRedis);
    return;
  }
  const auto now = tegata::SystemClock{}.now();
  for (auto _ : state) {
    auto s = f->manager.store().status("some-jti", "some-sid", "user-1", now);
    if (!s) {
      state.SkipWithError("status failed");
      return;
    }
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

using store_bench::list_sessions;
using store_bench::refresh;
using store_bench::validate;
void BM_validate_memory(benchmark::State& state) { validate(state, &memory(), kNoRedis); }
void BM_validate_redis(benchmark::State& state) { validate(state, redis(false), kNoRedis); }
void BM_validate_redis_cached(benchmark::State& state) { validate(state, redis(true), kNoRedis); }
void BM_refresh_memory(benchmark::State& state) { refresh(state, &memory(), kNoRedis); }
void BM_refresh_redis(benchmark::State& state) { refresh(state, redis(false), kNoRedis); }
void BM_refresh_redis_cached(benchmark::State& state) { refresh(state, redis(true), kNoRedis); }
void BM_sessions_memory(benchmark::State& state) { list_sessions(state, &memory(), kNoRedis); }
void BM_sessions_redis(benchmark::State& state) { list_sessions(state, redis(false), kNoRedis); }
void BM_status_redis(benchmark::State& state) { status(state, redis(false)); }
void BM_status_redis_cached(benchmark::State& state) { status(state, redis(true)); }

// Thread counts beyond the two cores still help a store that waits on the network.
BENCHMARK(BM_validate_memory)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_validate_redis)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(BM_validate_redis_cached)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_refresh_memory)->Threads(1)->UseRealTime();
BENCHMARK(BM_refresh_redis)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(BM_refresh_redis_cached)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(BM_sessions_memory)->Arg(1)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK(BM_sessions_redis)->Arg(1)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK(BM_status_redis)->Threads(1)->UseRealTime();
BENCHMARK(BM_status_redis_cached)->Threads(1)->UseRealTime();

// Deletes the benchmark's keys.
void clean_up() {
  auto options = redis_options();
  if (!options) return;
  const auto connection = tegata::redis::detail::endpoint(*options).connect();
  if (!connection) return;
  std::string cursor = "0";
  do {
    const auto page = tegata::redis::detail::run(
        connection.get(), {"SCAN", cursor, "MATCH", options->prefix + "*", "COUNT", "1000"});
    if (!page || page->type != REDIS_REPLY_ARRAY || page->elements != 2) return;
    cursor = std::string(tegata::redis::detail::text(page->element[0]));
    for (std::size_t i = 0; i < page->element[1]->elements; ++i) {
      tegata::redis::detail::run(
          connection.get(), {"UNLINK", tegata::redis::detail::text(page->element[1]->element[i])});
    }
  } while (cursor != "0");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  clean_up();
  return 0;
}
