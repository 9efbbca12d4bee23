// tegata/base64url.hpp - strict, unpadded base64url (RFC 4648 §5, as JWS uses it).
//
// Strict means there is exactly one accepted spelling of every byte string: no padding, no
// whitespace, no '+' or '/', no length of 1 mod 4, and the unused low bits of the last character
// must be zero. Accepting several spellings would let an attacker change token bytes without
// changing what they decode to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tegata/error.hpp"

namespace tegata {
namespace detail {

inline constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0xFF marks a byte outside the alphabet.
inline constexpr std::array<std::uint8_t, 256> kBase64UrlDecodeTable = [] {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = 0xFF;
  for (std::uint8_t i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kBase64UrlAlphabet[i])] = i;
  return table;
}();

constexpr std::size_t base64url_encoded_size(std::size_t n) noexcept { return (n * 4 + 2) / 3; }

// Largest decoded size for an encoded length, or SIZE_MAX when no strict encoding has it.
constexpr std::size_t base64url_decoded_size(std::size_t n) noexcept {
  if (n % 4 == 1) return static_cast<std::size_t>(-1);
  return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

// Decodes into out (which must hold base64url_decoded_size(in.size()) bytes).
// Returns false on any non-canonical input; out is then unspecified.
inline bool base64url_decode_into(std::string_view in, char* out) noexcept {
  const auto& table = kBase64UrlDecodeTable;
  const std::size_t full = in.size() / 4 * 4;
  std::size_t o = 0;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::uint32_t a = table[static_cast<unsigned char>(in[i])];
    const std::uint32_t b = table[static_cast<unsigned char>(in[i + 1])];
    const std::uint32_t c = table[static_cast<unsigned char>(in[i + 2])];
    const std::uint32_t d = table[static_cast<unsigned char>(in[i + 3])];
    if ((a | b | c | d) & 0x80) return false;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = static_cast<char>(v >> 16);
    out[o++] = static_cast<char>(v >> 8);
    out[o++] = static_cast<char>(v);
  }
  const std::size_t rest = in.size() - full;
  if (rest == 1) return false;
  if (rest >= 2) {
    const std::uint32_t a = table[static_cast<unsigned char>(in[full])];
    const std::uint32_t b = table[static_cast<unsigned char>(in[full + 1])];
    const std::uint32_t c = rest == 3 ? table[static_cast<unsigned char>(in[full + 2])] : 0;
    if ((a | b | c) & 0x80) return false;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = static_cast<char>(v >> 16);
    if (rest == 3) {
      out[o++] = static_cast<char>(v >> 8);
      if (v & 0xFF) return false;  // non-zero unused bits: not the canonical spelling
    } else if (v & 0xFFFF) {
      return false;
    }
  }
  return true;
}

// Whether text is strict base64url, without decoding it (same rules as base64url_decode_into).
inline bool base64url_valid(std::string_view in) noexcept {
  const auto& table = kBase64UrlDecodeTable;
  const std::size_t rest = in.size() % 4;
  if (rest == 1) return false;
  for (char c : in) {
    if (table[static_cast<unsigned char>(c)] & 0x80) return false;
  }
  if (rest == 0) return true;
  // The unused low bits of the last character must be zero: 4 of them after 2 characters, 2
  // after 3.
  const std::uint8_t last = table[static_cast<unsigned char>(in.back())];
  return (last & (rest == 2 ? 0x0F : 0x03)) == 0;
}

inline void base64url_encode_append(std::string_view in, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + base64url_encoded_size(in.size()));
  char* dst = out.data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{src[i]} << 16) | (std::uint32_t{src[i + 1]} << 8) | src[i + 2];
    *dst++ = kBase64UrlAlphabet[(v >> 18) & 63];
    *dst++ = kBase64UrlAlphabet[(v >> 12) & 63];
    *dst++ = kBase64UrlAlphabet[(v >> 6) & 63];
    *dst++ = kBase64UrlAlphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{src[i]} << 16;
    if (rest == 2) v |= std::uint32_t{src[i + 1]} << 8;
    *dst++ = kBase64UrlAlphabet[(v >> 18) & 63];
    *dst++ = kBase64UrlAlphabet[(v >> 12) & 63];
    if (rest == 2) *dst++ = kBase64UrlAlphabet[(v >> 6) & 63];
  }
}

}  // namespace detail

// Encodes bytes as unpadded base64url.
inline std::string base64url_encode(std::string_view bytes) {
  std::string out;
  detail::base64url_encode_append(bytes, out);
  return out;
}

// Decodes strict base64url; any other spelling is errc::bad_encoding.
inline Result<std::string> base64url_decode(std::string_view text) {
  const std::size_t n = detail::base64url_decoded_size(text.size());
  if (n == static_cast<std::size_t>(-1)) return errc::bad_encoding;
  std::string out(n, '\0');
  if (!detail::base64url_decode_into(text, out.data())) return errc::bad_encoding;
  return out;
}

}  // namespace tegata
