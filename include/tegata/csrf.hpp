// tegata/csrf.hpp - is this state-changing request from one of our own pages? (strings only)
//
// Session cookies go with every request the browser makes to our host, including the ones a
// page on another site makes it send (a form posted to /logout-all, a fetch to /api/transfer).
// SameSite=Strict already keeps the cookies off such requests in current browsers; CsrfGuard is
// the second, independent check that OWASP recommends, on the two headers a browser sets and no
// page's script can forge:
//
//   Origin          the origin of the page that made the request (RFC 6454, Fetch). Browsers
//                   send it on every request whose method is not GET or HEAD, same-origin ones
//                   included (Chrome since 2019, Firefox since 2019, Safari since 2018).
//   Sec-Fetch-Site  "same-origin", "same-site", "cross-site" or "none" (Fetch Metadata).
//
//   const tegata::http::CsrfGuard csrf({"https://app.example.com"});   // once, at startup
//   if (auto ok = csrf.check(method, origin_header, sec_fetch_site_header); !ok) → 403
//
// The rules, in order:
//  1. GET, HEAD and OPTIONS pass: they must not change state (that is the application's part).
//  2. With an Origin header, the request passes only if it is exactly one of the allowed origins
//     (scheme and host compared case-insensitively, a default port equal to no port). "null"
//     (sandboxed frames, some redirects, file: pages) and anything that is not one origin fail.
//  3. Without Origin but with Sec-Fetch-Site, only "same-origin" and "none" (the user's own
//     action: a bookmark, the address bar) pass.
//  4. With neither header the request did not come from a current browser (curl, a native app, a
//     server): it passes, unless CsrfOptions::require_browser_headers says every client of this
//     endpoint is a browser. A page cannot make a browser drop both headers, so this fallback
//     opens nothing to a cross-site page; it only lets non-browser clients work.
// A failure is errc::cross_site_request; check() never throws and never allocates.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/detail/ascii.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/error.hpp"

namespace tegata::http {

struct CsrfOptions {
  // Refuse state-changing requests that carry neither Origin nor Sec-Fetch-Site (rule 4).
  bool require_browser_headers{false};
};

namespace detail {

using tegata::detail::ascii_iequals;

// An origin split into its parts (views into the text): scheme "://" host [":" port]. Only the
// http and https schemes; no userinfo, path, query or fragment; the port as given (digits).
struct origin_parts {
  std::string_view scheme;
  std::string_view host;
  std::string_view port;  // empty when absent
};

// Host: a DNS name or IPv4 address (letters, digits, '-', '.'), or an IPv6 literal in brackets.
constexpr bool is_origin_host(std::string_view host) noexcept {
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
      if (!ok) return false;
    }
    return true;
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

constexpr std::optional<origin_parts> parse_origin(std::string_view text) noexcept {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  origin_parts parts;
  parts.scheme = text.substr(0, sep);
  if (!ascii_iequals(parts.scheme, "https") && !ascii_iequals(parts.scheme, "http")) {
    return std::nullopt;
  }
  std::string_view authority = text.substr(sep + 3);
  // The port follows the last ':' outside an IPv6 literal's brackets.
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    parts.port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
    if (parts.port.empty() || parts.port.size() > 5) return std::nullopt;
    for (char c : parts.port) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  if (!is_origin_host(authority)) return std::nullopt;
  parts.host = authority;
  return parts;
}

// The port a URL of this scheme means when it names none.
constexpr std::string_view default_port(std::string_view scheme) noexcept {
  return ascii_iequals(scheme, "https") ? "443" : "80";
}

constexpr std::string_view effective_port(const origin_parts& o) noexcept {
  std::string_view port = o.port.empty() ? default_port(o.scheme) : o.port;
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);  // "0443" is 443
  return port;
}

}  // namespace detail

// The check a cookie-session server makes on every request that changes state. Immutable after
// construction: one instance serves every thread.
class CsrfGuard {
 public:
  // allowed_origins: the origins of the pages that may call this server, e.g.
  // "https://app.example.com" or "http://127.0.0.1:8080" (scheme, host and optional port; no
  // path, not even "/"). Throws std::invalid_argument for an empty list or a value that is not
  // such an origin, so a typo is found at startup, not by users locked out of every form.
  explicit CsrfGuard(std::vector<std::string> allowed_origins, CsrfOptions options = {});

  // method: the request method as received (methods are case-sensitive, RFC 9110 §9.1);
  // origin, sec_fetch_site: the header values, empty when the header is absent.
  Result<void> check(std::string_view method, std::string_view origin,
                     std::string_view sec_fetch_site) const noexcept;

  const std::vector<std::string>& allowed_origins() const noexcept { return allowed_; }

 private:
  bool allowed(std::string_view origin) const noexcept;

  // An allowed origin's parts; the port always spelled out (the scheme's default when absent).
  struct allowed_origin {
    std::string scheme;
    std::string host;
    std::string port;
  };

  std::vector<std::string> allowed_;
  std::vector<allowed_origin> parsed_;
  CsrfOptions options_;
};

}  // namespace tegata::http

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/csrf_inl.hpp"
#endif
