// SystemClock and ManualClock: the only sources of time tegata reads.
#include "tegata/clock.hpp"

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using tegata::ManualClock;
using tegata::SystemClock;

sys_seconds at(std::int64_t s) { return sys_seconds{seconds{s}}; }

}  // namespace

TEST_CASE("clock: both clocks satisfy the Clock concept", "[clock]") {
  STATIC_CHECK(tegata::Clock<SystemClock>);
  STATIC_CHECK(tegata::Clock<ManualClock>);
  STATIC_CHECK(tegata::Clock<const ManualClock>);
  STATIC_CHECK_FALSE(tegata::Clock<int>);
}

TEST_CASE("clock: ManualClock starts where told and moves only when told", "[clock]") {
  CHECK(ManualClock{}.now() == at(0));

  ManualClock clock{at(1'700'000'000)};
  CHECK(clock.now() == at(1'700'000'000));
  CHECK(clock.now() == at(1'700'000'000));  // reading does not advance it

  clock.advance(seconds{1});
  CHECK(clock.now() == at(1'700'000'001));
  clock.advance(seconds{3600});
  CHECK(clock.now() == at(1'700'003'601));
  clock.advance(seconds{-3601});  // backwards, as a skewed system clock might
  CHECK(clock.now() == at(1'700'000'000));
  clock.advance(seconds{0});
  CHECK(clock.now() == at(1'700'000'000));

  clock.set(at(42));
  CHECK(clock.now() == at(42));
  clock.set(at(253402300799));
  CHECK(clock.now() == at(253402300799));
}

TEST_CASE("clock: ManualClock copies share one time", "[clock]") {
  ManualClock original{at(100)};
  const ManualClock copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  ManualClock assigned;
  assigned = original;

  original.advance(seconds{5});
  CHECK(copy.now() == at(105));
  CHECK(assigned.now() == at(105));

  assigned.set(at(7));
  CHECK(original.now() == at(7));
  CHECK(copy.now() == at(7));

  // A separately constructed clock is independent.
  ManualClock other{at(7)};
  other.advance(seconds{1});
  CHECK(original.now() == at(7));
}

TEST_CASE("clock: ManualClock is safe to advance and read from several threads", "[clock]") {
  ManualClock clock{at(1'000)};
  constexpr int kThreads = 4;
  constexpr int kSteps = 10'000;
  std::atomic<bool> went_backwards{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Each thread works on its own copy: copies share the time.
    threads.emplace_back([&went_backwards, c = clock]() mutable {
      sys_seconds last = c.now();
      for (int i = 0; i < kSteps; ++i) {
        c.advance(seconds{1});
        const sys_seconds now = c.now();
        if (now <= last) went_backwards = true;  // only ever advanced: must strictly grow
        last = now;
      }
    });
  }
  // A concurrent reader.
  threads.emplace_back([&went_backwards, &clock] {
    sys_seconds last = clock.now();
    for (int i = 0; i < kSteps; ++i) {
      const sys_seconds now = clock.now();
      if (now < last) went_backwards = true;
      last = now;
    }
  });
  for (auto& th : threads) th.join();
  CHECK_FALSE(went_backwards.load());
  CHECK(clock.now() == at(1'000 + kThreads * kSteps));
}

TEST_CASE("clock: SystemClock reads the system clock in whole seconds", "[clock]") {
  const SystemClock clock;
  const auto before = std::chrono::floor<seconds>(std::chrono::system_clock::now());
  const sys_seconds now = clock.now();
  const auto after = std::chrono::floor<seconds>(std::chrono::system_clock::now());
  CHECK(before <= now);
  CHECK(now <= after);
  // Sanity: after 2023-11-14, the value the other tests use as "now".
  CHECK(now > at(1'700'000'000));
}
