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

// An authority split into host (brackets kept) and port (empty when absent), or nullopt.
struct authority_parts {
  std::string_view host, port;
};
inline std::optional<authority_parts> split_authority(std::string_view authority) noexcept {
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // user information
  if (!authority.starts_with('[')) {
    const std::size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return authority_parts{authority, {}};
    return authority_parts{authority.substr(0, colon), authority.substr(colon + 1)};
  }
  const std::size_t close = authority.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view rest = authority.substr(close + 1);
  if (!rest.empty() && rest.front() != ':') return std::nullopt;
  return authority_parts{authority.substr(0, close + 1), rest.empty() ? rest : rest.substr(1)};
}

// Appends the host in lower case: an IP literal ("[" hex digits, ':' and '.' "]") or a
// registered name with its percent-encodings normalized. False for an empty or invalid host.
inline bool append_host(std::string& out, std::string_view host) {
  if (!host.starts_with('[')) {
    const auto reg_name = [](char c) { return is_unreserved(c) || is_sub_delim(c); };
    return !host.empty() && append_normalized(out, host, reg_name, true);
  }
  const std::string_view inside = host.substr(1, host.size() - 2);
  if (inside.empty()) return false;
  out += '[';
  for (const char c : inside) {
    if (hex_value(c) < 0 && c != ':' && c != '.') return false;
    out += lower(c);
  }
  out += ']';
  return true;
}

// Appends ":port" unless it is empty or the scheme's default; leading zeros dropped. False for a
// port that is not a number up to 65535.
inline bool append_port(std::string& out, std::string_view port, std::string_view default_port) {
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  unsigned long number = 0;
  for (const char c : port) {
    if (!is_digit(c)) return false;
    number = number * 10 + static_cast<unsigned long>(c - '0');
    if (number > 65535) return false;
  }
  if (!port.empty() && port != default_port) {
    out += ':';
    out += port;
  }
  return true;
}

}  // namespace uri

// "scheme://host[:port]/path" in normal form, the query and fragment dropped: scheme and host in
// lower case, the default port (80, 443) and an empty one omitted, percent-encodings normalized,
// dot segments resolved, an empty path written "/". nullopt for anything but an absolute http or
// https URI with a host, or one with user information (never part of a request's URI).
inline std::optional<std::string> normalize_http_uri(std::string_view text) {
  text = text.substr(0, text.find('#'));
  text = text.substr(0, text.find('?'));
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string out;
  for (const char c : text.substr(0, colon)) out += uri::lower(c);
  std::string_view default_port;
  if (out == "http") {
    default_port = "80";
  } else if (out == "https") {
    default_port = "443";
  } else {
    return std::nullopt;
  }
  out += "://";
  text.remove_prefix(colon + 3);
  const std::size_t path_start = text.find('/');
  const auto authority = uri::split_authority(text.substr(0, path_start));
  if (!authority || !uri::append_host(out, authority->host) ||
      !uri::append_port(out, authority->port, default_port)) {
    return std::nullopt;
  }
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view("/") : text.substr(path_start);
  std::string normalized_path;
  const auto path_char = [](char c) {
    return uri::is_unreserved(c) || uri::is_sub_delim(c) || c == ':' || c == '@' || c == '/';
  };
  if (!uri::append_normalized(normalized_path, path, path_char, false)) return std::nullopt;
  out += uri::remove_dot_segments(normalized_path);
  return out;
}

}  // namespace tegata::detail
