// tegata/detail/swar.hpp - eight bytes at a time: the word-wise byte tests that the flat JSON
// reader (detail/fast_json.hpp) and the JSON writer (detail/json_writer.hpp) share, so that the
// writer does not depend on the reader.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tegata::detail {

// The 8 bytes at p as one integer, the first byte lowest.
inline std::uint64_t load_le64(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) {
    std::uint64_t swapped = 0;
    for (int i = 0; i < 8; ++i) swapped |= ((w >> (8 * i)) & 0xFF) << (8 * (7 - i));
    w = swapped;
  }
  return w;
}

// The high bit of every byte of w that ends or leaves the plain string subset: below 0x20, above
// 0x7E, '"' or '\\'. Exact per byte (no carry crosses a byte): each byte is reduced to its low 7
// bits before any addition, and its own high bit (0x80 and above) counts directly.
constexpr std::uint64_t special_bytes(std::uint64_t w) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t high = 0x8080808080808080ULL;
  const std::uint64_t low7 = w & ~high;
  const std::uint64_t below_space = (low7 + ones * (0x80 - 0x20)) ^ high;  // high bit: < 0x20
  const std::uint64_t above_tilde = low7 + ones * (0x80 - 0x7F);           // high bit: == 0x7F
  const std::uint64_t quote = low7 ^ (ones * '"');
  const std::uint64_t backslash = low7 ^ (ones * '\\');
  const std::uint64_t is_quote = ~(quote + ~high) & high;          // high bit: == '"'
  const std::uint64_t is_backslash = ~(backslash + ~high) & high;  // high bit: == '\\'
  return (w | below_space | above_tilde | is_quote | is_backslash) & high;
}

}  // namespace tegata::detail
