// tegata/detail/json_writer.hpp - writing the JSON of headers and claims without building a DOM.
//
// The bytes are exactly those nlohmann::json::dump() writes for the same values: a string that
// needs no escaping (printable ASCII without '"' or '\') is copied as is, any other goes through
// nlohmann's own serializer, which escapes it, or throws nlohmann::json::type_error for invalid
// UTF-8, just as dump() of the whole object would.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tegata/detail/swar.hpp"

namespace tegata::detail {

// Whether s holds a byte that is not printable ASCII, or '"' or '\\': eight bytes at a time.
inline bool json_needs_escaping(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    if (special_bytes(load_le64(p)) != 0) return true;
  }
  if (n == 0) return false;
  // The last 1..7 bytes, padded with a plain byte.
  char tail[8] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
  std::memcpy(tail, p, n);
  return special_bytes(load_le64(tail)) != 0;
}

inline void append_json_string(std::string& out, std::string_view s) {
  if (json_needs_escaping(s)) {
    out += nlohmann::json(s).dump();
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + s.size() + 2);
  char* p = out.data() + at;
  p[0] = '"';
  if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
}

template <class Integer>
void append_json_integer(std::string& out, Integer value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// `"name":` (with the comma that separates it from a previous member when not first).
inline void append_json_name(std::string& out, std::string_view name, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  append_json_string(out, name);
  out.push_back(':');
}

}  // namespace tegata::detail
