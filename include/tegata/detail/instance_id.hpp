// tegata/detail/instance_id.hpp - ids unique in the process and never reused, for objects named
// in per-thread caches (detail::thread_cache: hmac_context_cache, key_ring_cache), where a new
// object allocated at a dead one's address must not be mistaken for it.
#pragma once

#include <atomic>
#include <cstdint>

namespace tegata::detail {

// Never 0: thread_cache marks an empty slot with 0.
inline std::uint64_t next_instance_id() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace tegata::detail
