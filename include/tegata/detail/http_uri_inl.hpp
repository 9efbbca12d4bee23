// tegata/detail/http_uri_inl.hpp - the definitions of tegata/detail/http_uri.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/detail/http_uri.hpp"

namespace tegata::detail {

TEGATA_INLINE std::string uri::remove_dot_segments(std::string_view in) {
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

TEGATA_INLINE std::optional<uri::authority_parts> uri::split_authority(
    std::string_view authority) noexcept {
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

TEGATA_INLINE bool uri::append_host(std::string& out, std::string_view host) {
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

TEGATA_INLINE bool uri::append_port(std::string& out, std::string_view port,
                                    std::string_view default_port) {
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

TEGATA_INLINE std::optional<std::string> normalize_http_uri(std::string_view text) {
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
