// benchmarks/store_bench.hpp - what the store benchmarks (redis_bench.cpp, sqlite_bench.cpp)
// share: a SessionManager over a store with populated tables, and the validate, refresh and
// session-list loops that compare it with the same manager over MemoryRevocationStore.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <tegata/tegata.hpp>
#include <utility>
#include <vector>

namespace store_bench {

inline tegata::SessionOptions session_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  return o;
}

inline tegata::HmacKey key() {
  return tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
}

// A manager over Store with `sessions` live sessions, and as many revoked ones so that lookups
// find populated tables.
template <class Store>
struct fixture {
  explicit fixture(Store store, int sessions = 1000)
      : manager(key(), session_options(), tegata::SystemClock{}, std::move(store)) {
    for (int i = 0; i < sessions; ++i) {
      auto live = manager.issue("user-" + std::to_string(i));
      auto gone = manager.issue("user-" + std::to_string(i));
      if (!live || !gone || !manager.revoke(gone->access_token)) return;
      pairs.push_back(std::move(*live));
    }
    ready = true;
  }
  tegata::SessionManager<tegata::HmacKey, tegata::SystemClock, Store> manager;
  std::vector<tegata::TokenPair> pairs;
  bool ready = false;
};

// Validates the live sessions' access tokens in turn, each thread from its own place. A null or
// unready fixture skips with `missing`.
template <class Fixture>
void validate(benchmark::State& state, Fixture* f, const char* missing) {
  if (f == nullptr || !f->ready) {
    state.SkipWithError(missing);
    return;
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto claims = f->manager.validate(f->pairs[i++ % f->pairs.size()].access_token);
    if (!claims) [[unlikely]] {
      state.SkipWithError("a live token did not validate");
      return;
    }
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Each iteration presents the refresh token the previous one received, so every refresh rotates:
// verify, read the record (find_session), sign a new pair, then the compare-and-set
// (rotate_session): two round trips on Redis, a SELECT and one transaction on SQLite.
template <class Fixture>
void refresh(benchmark::State& state, Fixture* f, const char* missing) {
  if (f == nullptr || !f->ready) {
    state.SkipWithError(missing);
    return;
  }
  auto pair = f->manager.issue("refresher-" + std::to_string(state.thread_index()));
  if (!pair) {
    state.SkipWithError("issue failed");
    return;
  }
  std::string token = pair->refresh_token;
  for (auto _ : state) {
    auto next = f->manager.refresh(token);
    if (!next) [[unlikely]] {
      state.SkipWithError("refresh failed");
      return;
    }
    token = std::move(next->refresh_token);
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The session list of a subject with state.range(0) live sessions (issued on first use): on
// Redis the index, then the records (two round trips, whatever the count); on SQLite one SELECT.
template <class Fixture>
void list_sessions(benchmark::State& state, Fixture* f, const char* missing) {
  if (f == nullptr || !f->ready) {
    state.SkipWithError(missing);
    return;
  }
  const auto count = static_cast<std::size_t>(state.range(0));
  const std::string subject = "lister-" + std::to_string(count);
  auto listed = f->manager.sessions(subject);
  tegata::IssueOptions options;
  options.metadata = "Firefox on Linux";
  for (std::size_t i = listed ? listed->size() : 0; i < count; ++i) {
    if (!f->manager.issue(subject, options)) {
      state.SkipWithError("issue failed");
      return;
    }
  }
  for (auto _ : state) {
    auto sessions = f->manager.sessions(subject);
    if (!sessions || sessions->size() != count) {
      state.SkipWithError("the session list is not as issued");
      return;
    }
    benchmark::DoNotOptimize(sessions);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace store_bench
