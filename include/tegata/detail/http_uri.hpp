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
inline std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto drop_last_segment = [&out] {
    const std::size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      drop_last_segment();
    } else if (in == "/..") {
      in = "/";
      drop_last_segment();
    } else {
      const std::size_t next = in.find('/', 1);
      const std::size_t n = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(0, n));
      in.remove_prefix(n);
    }
  }
  return out;
}

}  // namespace uri

// "scheme://host[:port]/path" in normal form, the query and fragment dropped: scheme and host in
// lower case, the default port (80, 443) and an empty one omitted, percent-encodings normalized,
// dot segments resolved, an empty path written "/". nullopt for anything but an absolute http or
// https URI with a host, or one with user information (never part of a request's URI).
inline std::optional<std::string> normalize_http_uri(std::string_view text) {
  if (const std::size_t hash = text.find('#'); hash != std::string_view::npos) {
    text = text.substr(0, hash);
  }
  if (const std::size_t query = text.find('?'); query != std::string_view::npos) {
    text = text.substr(0, query);
  }
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string scheme;
  for (const char c : text.substr(0, colon)) scheme += uri::lower(c);
  std::string_view default_port;
  if (scheme == "http") {
    default_port = "80";
  } else if (scheme == "https") {
    default_port = "443";
  } else {
    return std::nullopt;
  }
  text.remove_prefix(colon + 3);
  const std::size_t path_start = text.find('/');
  const std::string_view authority = text.substr(0, path_start);
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view("/") : text.substr(path_start);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;

  // host: an IP literal in brackets, or a registered name / IPv4 address; then ":port".
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (const std::size_t p = authority.rfind(':'); p != std::string_view::npos) {
    host = authority.substr(0, p);
    port = authority.substr(p + 1);
  }

  std::string out = scheme + "://";
  if (host.starts_with('[')) {
    const std::string_view inside = host.substr(1, host.size() - 2);
    if (inside.empty()) return std::nullopt;
    out += '[';
    for (const char c : inside) {
      if (uri::hex_value(c) < 0 && c != ':' && c != '.') {
        return std::nullopt;
      }
      out += uri::lower(c);
    }
    out += ']';
  } else {
    const auto reg_name = [](char c) { return uri::is_unreserved(c) || uri::is_sub_delim(c); };
    if (host.empty() || !uri::append_normalized(out, host, reg_name, true)) return std::nullopt;
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  unsigned long port_number = 0;
  for (const char c : port) {
    if (!uri::is_digit(c)) return std::nullopt;
    port_number = port_number * 10 + static_cast<unsigned long>(c - '0');
    if (port_number > 65535) return std::nullopt;
  }
  if (!port.empty() && port != default_port) {
    out += ':';
    out += port;
  }

  std::string normalized_path;
  const auto path_char = [](char c) {
    return uri::is_unreserved(c) || uri::is_sub_delim(c) || c == ':' || c == '@' || c == '/';
  };
  if (!uri::append_normalized(normalized_path, path, path_char, false)) return std::nullopt;
  out += uri::remove_dot_segments(normalized_path);
  return out;
}

}  // namespace tegata::detail
