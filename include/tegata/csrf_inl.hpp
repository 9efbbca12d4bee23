// tegata/csrf_inl.hpp - the definitions of tegata/csrf.hpp (tegata/detail/inline.hpp says why they
// are apart).
#pragma once

#include "tegata/csrf.hpp"

namespace tegata::http {

TEGATA_INLINE CsrfGuard::CsrfGuard(std::vector<std::string> allowed_origins, CsrfOptions options)
    : allowed_(std::move(allowed_origins)), options_(options) {
  if (allowed_.empty()) {
    throw std::invalid_argument("tegata: CsrfGuard needs at least one allowed origin");
  }
  // Parsed once, here; check() parses only the request's Origin. Owned copies of the parts,
  // so that moving the guard (and the strings' small buffers with it) leaves nothing dangling.
  for (const std::string& origin : allowed_) {
    const auto parts = detail::parse_origin(origin);
    if (!parts) {
      throw std::invalid_argument(
          "tegata: an allowed origin must be http(s)://host[:port], without a path: " + origin);
    }
    parsed_.push_back({std::string(parts->scheme), std::string(parts->host),
                       std::string(detail::effective_port(*parts))});
  }
}

TEGATA_INLINE Result<void> CsrfGuard::check(std::string_view method, std::string_view origin,
                                            std::string_view sec_fetch_site) const noexcept {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return {};
  if (!origin.empty()) return allowed(origin) ? Result<void>{} : errc::cross_site_request;
  if (!sec_fetch_site.empty()) {
    return sec_fetch_site == "same-origin" || sec_fetch_site == "none"
               ? Result<void>{}
               : Result<void>{errc::cross_site_request};
  }
  return options_.require_browser_headers ? Result<void>{errc::cross_site_request} : Result<void>{};
}

TEGATA_INLINE bool CsrfGuard::allowed(std::string_view origin) const noexcept {
  const auto request = detail::parse_origin(origin);
  if (!request) return false;  // "null", a list of origins, a path, another scheme
  const std::string_view port = detail::effective_port(*request);
  for (const allowed_origin& candidate : parsed_) {
    if (detail::ascii_iequals(request->scheme, candidate.scheme) &&
        detail::ascii_iequals(request->host, candidate.host) && port == candidate.port) {
      return true;
    }
  }
  return false;
}

}  // namespace tegata::http
