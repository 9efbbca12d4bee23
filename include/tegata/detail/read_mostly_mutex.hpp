// tegata/detail/read_mostly_mutex.hpp - a reader-writer lock for data read on every request and
// written rarely, whose readers do not contend with each other.
//
// A std::shared_mutex counts its readers in one word, so every reader on every core writes the
// same cache line, and two threads validating tokens at once pass that line back and forth even
// though neither waits for the other. Here each reader announces itself in one of kSlots
// counters, chosen by its thread and each on a cache line of its own; threads with different
// slots share nothing. A writer serialises with other writers on a mutex, raises its flag, and
// waits until every counter is zero; a reader that finds the flag raised withdraws and waits for
// it to fall, so writers are not starved.
//
// Why it is correct: a reader increments its counter and then reads the flag; a writer raises the
// flag and then reads the counters; all four accesses are sequentially consistent, so at least one
// side sees the other and they are never both inside. Entry and exit synchronise through the same
// atomics (a reader's exit releases, the writer's read of zero acquires; the writer's lowering of
// the flag releases, a reader's read of it acquires), so each side sees the other's data.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace tegata::detail {

class read_mostly_mutex {
 public:
  static constexpr std::size_t kSlots = 16;

  read_mostly_mutex() noexcept = default;
  read_mostly_mutex(const read_mostly_mutex&) = delete;
  read_mostly_mutex& operator=(const read_mostly_mutex&) = delete;

  void lock_shared() noexcept {
    std::atomic<std::uint32_t>& readers = slots_[this_thread_slot()].readers;
    for (;;) {
      readers.fetch_add(1, std::memory_order_seq_cst);
      if (!writer_.load(std::memory_order_seq_cst)) return;
      readers.fetch_sub(1, std::memory_order_release);
      while (writer_.load(std::memory_order_acquire)) pause();
    }
  }

  void unlock_shared() noexcept {
    slots_[this_thread_slot()].readers.fetch_sub(1, std::memory_order_release);
  }

  void lock() {
    writers_.lock();
    writer_.store(true, std::memory_order_seq_cst);
    for (const slot& s : slots_) {
      while (s.readers.load(std::memory_order_seq_cst) != 0) pause();
    }
  }

  void unlock() noexcept {
    writer_.store(false, std::memory_order_release);
    writers_.unlock();
  }

 private:
  struct alignas(64) slot {
    std::atomic<std::uint32_t> readers{0};
  };

  // Threads take the slots in turn, so that a handful of threads never share one.
  static std::size_t this_thread_slot() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
    return slot;
  }

  // The other side holds the lock for a few hundred nanoseconds at most, except a writer that
  // prunes or grows a large table: give the processor away rather than spin on it.
  static void pause() noexcept { std::this_thread::yield(); }

  std::array<slot, kSlots> slots_{};
  alignas(64) std::atomic<bool> writer_{false};
  std::mutex writers_;
};

}  // namespace tegata::detail
