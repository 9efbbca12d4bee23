// benchmarks/alloc_counter.cpp - see alloc_counter.hpp. glibc supports replacing malloc by symbol
// interposition as long as malloc, free, calloc and realloc are replaced together; these forward
// to glibc's own __libc_* entry points, so memory from memalign and friends (not replaced) is
// still freed by the same allocator.
#include "alloc_counter.hpp"

#include <malloc.h>
#include <openssl/crypto.h>

#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void __libc_free(void* p);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace {

// Initial-exec TLS in the executable: reading these never allocates, so malloc can use them.
thread_local std::uint64_t t_cxx = 0;
thread_local std::uint64_t t_heap = 0;
thread_local std::uint64_t t_openssl = 0;
thread_local bool t_track_bytes = false;
thread_local std::int64_t t_live_bytes = 0;

constexpr std::int64_t kChunkHeader = 8;

inline void on_alloc(void* p) noexcept {
  ++t_heap;
  if (t_track_bytes && p != nullptr) {
    t_live_bytes += static_cast<std::int64_t>(malloc_usable_size(p)) + kChunkHeader;
  }
}

inline void on_free(void* p) noexcept {
  if (t_track_bytes && p != nullptr) {
    t_live_bytes -= static_cast<std::int64_t>(malloc_usable_size(p)) + kChunkHeader;
  }
}

void* counted_new(std::size_t size) {
  ++t_cxx;
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* counted_new_aligned(std::size_t size, std::align_val_t alignment) {
  ++t_cxx;
  ++t_heap;
  void* p = __libc_memalign(static_cast<std::size_t>(alignment), size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  if (t_track_bytes)
    t_live_bytes += static_cast<std::int64_t>(malloc_usable_size(p)) + kChunkHeader;
  return p;
}

void* openssl_malloc(std::size_t size, const char*, int) {
  ++t_openssl;
  return std::malloc(size);
}
void* openssl_realloc(void* p, std::size_t size, const char*, int) {
  ++t_openssl;
  return std::realloc(p, size);
}
void openssl_free(void* p, const char*, int) { std::free(p); }

}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  void* p = __libc_malloc(size);
  on_alloc(p);
  return p;
}
void* calloc(std::size_t count, std::size_t size) {
  void* p = __libc_calloc(count, size);
  on_alloc(p);
  return p;
}
void* realloc(void* p, std::size_t size) {
  on_free(p);
  void* q = __libc_realloc(p, size);
  on_alloc(q);
  return q;
}
void free(void* p) {
  on_free(p);
  __libc_free(p);
}
}

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++t_cxx;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  ++t_cxx;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t a) { return counted_new_aligned(size, a); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted_new_aligned(size, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace tegata_bench {

AllocCounts thread_alloc_counts() noexcept { return {t_cxx, t_heap, t_openssl}; }

bool install_openssl_counter() noexcept {
  return CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 1;
}

void set_byte_tracking(bool on) noexcept { t_track_bytes = on; }
std::int64_t tracked_live_bytes() noexcept { return t_live_bytes; }

}  // namespace tegata_bench
