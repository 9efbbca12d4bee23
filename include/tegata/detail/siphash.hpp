// tegata/detail/siphash.hpp - SipHash (Aumasson and Bernstein, "SipHash: a fast short-input
// PRF"): a keyed 64-bit hash for hash tables whose keys may come from someone who would like
// them to collide. With a random key nobody outside the process knows, ids cannot be chosen to
// pile up in one bucket or one shard. tegata uses SipHash-1-3 (one compression round per 8 bytes,
// three finalisation rounds), as hash tables commonly do; SipHash-2-4 is the paper's variant,
// whose published test vectors check this implementation.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tegata::detail {

template <int CompressionRounds, int FinalRounds>
class siphash {
 public:
  siphash(std::uint64_t k0, std::uint64_t k1) noexcept : k0_(k0), k1_(k1) {}

  std::uint64_t operator()(std::string_view data) const noexcept {
    std::uint64_t v0 = k0_ ^ 0x736f6d6570736575ULL;
    std::uint64_t v1 = k1_ ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k0_ ^ 0x6c7967656e657261ULL;
    std::uint64_t v3 = k1_ ^ 0x7465646279746573ULL;
    const auto round = [&] {
      v0 += v1;
      v1 = std::rotl(v1, 13);
      v1 ^= v0;
      v0 = std::rotl(v0, 32);
      v2 += v3;
      v3 = std::rotl(v3, 16);
      v3 ^= v2;
      v0 += v3;
      v3 = std::rotl(v3, 21);
      v3 ^= v0;
      v2 += v1;
      v1 = std::rotl(v1, 17);
      v1 ^= v2;
      v2 = std::rotl(v2, 32);
    };
    const char* p = data.data();
    const std::size_t words = data.size() / 8;
    for (std::size_t i = 0; i < words; ++i, p += 8) {
      const std::uint64_t m = load_le(p, 8);
      v3 ^= m;
      for (int r = 0; r < CompressionRounds; ++r) round();
      v0 ^= m;
    }
    // The last 0..7 bytes, with the length's low byte on top.
    const std::uint64_t last =
        load_le(p, data.size() % 8) | (static_cast<std::uint64_t>(data.size() & 0xFF) << 56);
    v3 ^= last;
    for (int r = 0; r < CompressionRounds; ++r) round();
    v0 ^= last;
    v2 ^= 0xFF;
    for (int r = 0; r < FinalRounds; ++r) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }

 private:
  // n (0..8) bytes at p as a little-endian integer.
  static std::uint64_t load_le(const char* p, std::size_t n) noexcept {
    unsigned char bytes[8] = {};
    if (n != 0) std::memcpy(bytes, p, n);
    if constexpr (std::endian::native == std::endian::little) {
      std::uint64_t value;
      std::memcpy(&value, bytes, 8);
      return value;
    } else {
      std::uint64_t value = 0;
      for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
      return value;
    }
  }

  std::uint64_t k0_;
  std::uint64_t k1_;
};

using siphash13 = siphash<1, 3>;

}  // namespace tegata::detail
