// tegata/clock.hpp - where tegata gets the time from.
//
// Every time-dependent decision (exp, nbf, iat, refresh windows, pruning) reads the clock it was
// given and nothing else, so a test can drive a whole session lifecycle with a ManualClock.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>

namespace tegata {

// A Clock answers now() in whole seconds, the resolution of JWT NumericDate.
template <class C>
concept Clock = requires(const C& clock) {
  { clock.now() } -> std::convertible_to<std::chrono::sys_seconds>;
};

// The wall clock, truncated to seconds.
struct SystemClock {
  std::chrono::sys_seconds now() const noexcept {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

// A settable clock for tests. Copies share one time: hand a copy to a SessionManager and advance
// the original. Safe to read and move from several threads at once.
class ManualClock {
 public:
  explicit ManualClock(std::chrono::sys_seconds start = std::chrono::sys_seconds{})
      : seconds_(std::make_shared<std::atomic<std::int64_t>>(start.time_since_epoch().count())) {}

  std::chrono::sys_seconds now() const noexcept {
    return std::chrono::sys_seconds{
        std::chrono::seconds{seconds_->load(std::memory_order_acquire)}};
  }
  void set(std::chrono::sys_seconds t) noexcept {
    seconds_->store(t.time_since_epoch().count(), std::memory_order_release);
  }
  void advance(std::chrono::seconds d) noexcept {
    seconds_->fetch_add(d.count(), std::memory_order_acq_rel);
  }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> seconds_;
};

static_assert(Clock<SystemClock>);
static_assert(Clock<ManualClock>);

}  // namespace tegata
