// benchmarks/alloc_counter.hpp - heap allocation accounting for the benchmark binary only.
//
// alloc_counter.cpp replaces, in this executable and nowhere else:
//  - the global operator new/delete family: every C++ allocation (tegata, cpp-jwt, nlohmann);
//  - malloc, calloc, realloc and free (forwarding to glibc's own implementation): every heap
//    allocation of the process, C libraries included (libjwt and jansson use malloc directly);
//  - OpenSSL's allocator (CRYPTO_set_mem_functions): what OpenSSL allocates, separately.
// Counts are per thread, so a two-thread benchmark never contends on a counter.
#pragma once

#include <cstdint>

namespace tegata_bench {

struct AllocCounts {
  std::uint64_t cxx = 0;      // operator new calls
  std::uint64_t heap = 0;     // malloc/calloc/realloc calls (includes the two others)
  std::uint64_t openssl = 0;  // allocations OpenSSL made through CRYPTO_malloc & co.
};

// This thread's totals since it started.
AllocCounts thread_alloc_counts() noexcept;

// Must run before OpenSSL allocates anything (first thing in main). False if OpenSSL refused.
bool install_openssl_counter() noexcept;

// Live-byte accounting (malloc_usable_size + the 8-byte chunk header per block), on this thread,
// while enabled: for measuring a data structure's footprint. Off by default: it costs a call per
// allocation.
void set_byte_tracking(bool on) noexcept;
std::int64_t tracked_live_bytes() noexcept;  // allocated minus freed while tracking was on

}  // namespace tegata_bench
