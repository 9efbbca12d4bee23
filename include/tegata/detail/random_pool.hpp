// tegata/detail/random_pool.hpp - random bytes for token and session ids, drawn from OpenSSL's
// DRBG in bulk.
//
// One RAND_bytes call costs more than an HMAC-SHA256 of a whole token, nearly all of it fixed
// overhead whatever the length (benchmarks/README.md has the measurement), and a login needs 48
// random bytes. So each thread draws kPoolSize
// bytes at a time and hands them out in order, each byte once; handed-out bytes are wiped from
// the pool, and the rest is wiped when the thread exits. The bytes are exactly what RAND_bytes
// returns, only fetched earlier.
//
// fork(): a child process starts with a copy of its parent's pool, and handing out the same bytes
// in both would give two sessions the same id. A pthread_atfork child handler, registered before
// the first byte is handed out, bumps a generation counter; a pool filled in another generation
// is refilled before use. (Processes created without fork(), e.g. by a raw clone(), are not
// covered, as for any user-space state.)
#pragma once

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define TEGATA_HAS_PTHREAD_ATFORK 1
#else
#define TEGATA_HAS_PTHREAD_ATFORK 0
#endif

namespace tegata::detail {

class random_pool {
 public:
  static constexpr std::size_t kPoolSize = 1024;

  random_pool() noexcept = default;
  random_pool(const random_pool&) = delete;
  random_pool& operator=(const random_pool&) = delete;
  ~random_pool() { OPENSSL_cleanse(bytes_, sizeof bytes_); }

  // Copies n (at most kPoolSize) fresh random bytes to out. False if OpenSSL's DRBG fails.
  bool take(unsigned char* out, std::size_t n) noexcept {
    if (n > kPoolSize) return RAND_bytes(out, static_cast<int>(n)) == 1;
    const std::uint64_t generation = fork_generation().load(std::memory_order_acquire);
    if (generation != generation_ || kPoolSize - next_ < n) {
      next_ = kPoolSize;
      if (RAND_bytes(bytes_, static_cast<int>(kPoolSize)) != 1) return false;
      next_ = 0;
      generation_ = generation;
    }
    std::memcpy(out, bytes_ + next_, n);
    OPENSSL_cleanse(bytes_ + next_, n);
    next_ += n;
    return true;
  }

  static random_pool& for_this_thread() noexcept {
    thread_local random_pool pool;
    return pool;
  }

 private:
  static std::atomic<std::uint64_t>& fork_generation() noexcept {
    static std::atomic<std::uint64_t> generation{1};
#if TEGATA_HAS_PTHREAD_ATFORK
    static const bool registered =
        pthread_atfork(nullptr, nullptr, [] { generation.fetch_add(1); }) == 0;
    if (!registered) {
      // Without the handler a pool could outlive a fork unnoticed: never reuse one.
      generation.fetch_add(1, std::memory_order_relaxed);
    }
#endif
    return generation;
  }

  unsigned char bytes_[kPoolSize];
  std::size_t next_ = kPoolSize;  // everything before next_ has been handed out (and wiped)
  std::uint64_t generation_ = 0;  // the fork generation bytes_ was drawn in; 0: never filled
};

}  // namespace tegata::detail
