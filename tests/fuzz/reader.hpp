// tests/fuzz/reader.hpp - reads a fuzz input as a sequence of small fields.
//
// A fuzz input is one flat byte string; the targets carve it into a mode byte, lengths and
// payloads. Reading past the end yields zeros and empty views rather than failing, so every
// byte string is a valid input and the fuzzer never wastes runs on "too short" inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tegata_fuzz {

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) noexcept : data_(data) {}

  bool empty() const noexcept { return data_.empty(); }

  // The next byte, or 0 when the input is exhausted.
  std::uint8_t byte() noexcept {
    if (data_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }

  // A little-endian 16-bit value (missing bytes read as 0).
  std::uint16_t u16() noexcept {
    const std::uint16_t low = byte();
    const std::uint16_t high = byte();
    return static_cast<std::uint16_t>(low | (high << 8));
  }

  // The next n bytes, or fewer when the input ends first.
  std::string_view take(std::size_t n) noexcept {
    const std::string_view out = data_.substr(0, std::min(n, data_.size()));
    data_.remove_prefix(out.size());
    return out;
  }

  // Everything that is left.
  std::string_view rest() noexcept { return take(data_.size()); }

 private:
  std::string_view data_;
};

}  // namespace tegata_fuzz
