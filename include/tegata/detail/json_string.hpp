// tegata/detail/json_string.hpp - one JSON string written without nlohmann_json, for the
// protected header that every signature needs (jws/compact.hpp).
//
// The bytes are exactly those nlohmann::json(s).dump() writes: '"' and '\' escaped with a
// backslash; \b, \t, \n, \f and \r by name; every other byte below 0x20 as \u00XX (lowercase hex);
// everything else, DEL and all of UTF-8 included, as it is. Where dump() throws (s is not UTF-8,
// which JSON text cannot carry), this answers false. tests/unit/jws_test.cpp compares the two
// over every string of one and two bytes and over every kind of UTF-8 sequence, valid or not.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tegata::detail {

// The length of the well-formed UTF-8 sequence at the start of s (Unicode Table 3-7: no overlong
// form, no surrogate, nothing above U+10FFFF), or 0 when there is none. s is not empty.
constexpr std::size_t utf8_sequence_length(std::string_view s) noexcept {
  const auto byte = [s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char first = byte(0);
  if (first < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    if (first == 0xE0) second_min = 0xA0;  // below: an overlong form
    if (first == 0xED) second_max = 0x9F;  // above: a surrogate
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    if (first == 0xF0) second_min = 0x90;  // below: an overlong form
    if (first == 0xF4) second_max = 0x8F;  // above: beyond U+10FFFF
  } else {
    return 0;  // a continuation byte, or a lead byte that only overlong or too-large forms use
  }
  if (s.size() < length || byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

// Whether the byte is copied as it is: printable ASCII other than '"' and '\', or DEL.
constexpr bool json_plain_ascii(unsigned char c) noexcept {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// Appends s as a JSON string, quotes included. False, with out as it was, when s is not UTF-8.
inline bool try_append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t start = out.size();
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t plain = i;
    while (plain < s.size() && json_plain_ascii(static_cast<unsigned char>(s[plain]))) ++plain;
    out.append(s.substr(i, plain - i));
    i = plain;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(s.substr(i));
      if (length == 0) {
        out.resize(start);
        return false;
      }
      out.append(s.substr(i, length));
      i += length;
      continue;
    }
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\t': out.push_back('t'); break;
      case '\n': out.push_back('n'); break;
      case '\f': out.push_back('f'); break;
      case '\r': out.push_back('r'); break;
      default: {
        const char escape[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
    ++i;
  }
  out.push_back('"');
  return true;
}

}  // namespace tegata::detail
