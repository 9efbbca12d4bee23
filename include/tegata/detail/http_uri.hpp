// tegata/detail/http_uri.hpp - the normal form of an http or https URI (RFC 3986 §6.2.2 and
// §6.2.3), so that two spellings of one request URI compare equal and nothing else does.
//
// A DPoP proof names the URI it was made for (htu), and RFC 9449 §4.3 asks the server to compare
// it with the request's URI after this normalization: a client library may write the host in
// capitals, add the default port or percent-encode an unreserved character, and is still right.
// Anything that is not plainly an absolute http(s) URI is refused rather than guessed at.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tegata/detail/inline.hpp"

namespace tegata::detail {

namespace uri {

constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
constexpr bool is_sub_delim(char c) noexcept {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}
constexpr int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Appends text, in which allowed(c) says which characters may appear unencoded, with its
// percent-encodings normalized: an encoded unreserved character decoded, the hex digits of the
// others in upper case; letters lowered when lower_case (a host). False on a character that is
// neither allowed nor part of a well-formed percent-encoding.
template <class Allowed>
bool append_normalized(std::string& out, std::string_view text, Allowed allowed, bool lower_case) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return false;
      const char decoded = static_cast<char>(high * 16 + low);
      if (is_unreserved(decoded)) {
        out += lower_case ? lower(decoded) : decoded;
      } else {
        constexpr char digits[] = "0123456789ABCDEF";
        out += '%';
        out += digits[high];
        out += digits[low];
      }
      i += 2;
    } else if (allowed(c)) {
      out += lower_case ? lower(c) : c;
    } else {
      return false;
    }
  }
  return true;
}

// RFC 3986 §5.2.4, for a path that starts with "/": "." and ".." segments resolved.
std::string remove_dot_segments(std::string_view in);

// An authority split into host (brackets kept) and port (empty when absent), or nullopt.
struct authority_parts {
  std::string_view host, port;
};
std::optional<authority_parts> split_authority(std::string_view authority) noexcept;

// Appends the host in lower case: an IP literal ("[" hex digits, ':' and '.' "]") or a
// registered name with its percent-encodings normalized. False for an empty or invalid host.
bool append_host(std::string& out, std::string_view host);

// Appends ":port" unless it is empty or the scheme's default; leading zeros dropped. False for a
// port that is not a number up to 65535.
bool append_port(std::string& out, std::string_view port, std::string_view default_port);

}  // namespace uri

// "scheme://host[:port]/path" in normal form, the query and fragment dropped: scheme and host in
// lower case, the default port (80, 443) and an empty one omitted, percent-encodings normalized,
// dot segments resolved, an empty path written "/". nullopt for anything but an absolute http or
// https URI with a host, or one with user information (never part of a request's URI).
std::optional<std::string> normalize_http_uri(std::string_view text);

}  // namespace tegata::detail

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/http_uri_inl.hpp"
#endif
