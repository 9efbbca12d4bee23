// tegata/http_inl.hpp - the definitions of tegata/http.hpp (tegata/detail/inline.hpp says why they
// are apart).
#pragma once

#include "tegata/http.hpp"

namespace tegata::http {

TEGATA_INLINE std::string detail::cookie_template::build(std::string_view value,
                                                         std::string_view max_age) const {
  std::string out;
  out.reserve(name.size() + 1 + value.size() + before_max_age.size() + 10 + max_age.size() +
              after_max_age.size());
  out.append(name).append(1, '=').append(value).append(before_max_age);
  if (!max_age.empty()) out.append("; Max-Age=").append(max_age);
  out.append(after_max_age);
  return out;
}

TEGATA_INLINE Result<std::string_view> detail::credentials(
    std::string_view authorization, std::string_view expected_scheme) noexcept {
  if (authorization.empty()) return errc::not_found;
  const std::size_t space = authorization.find(' ');
  const std::string_view scheme = authorization.substr(0, space);
  if (!tegata::detail::ascii_iequals(scheme, expected_scheme)) {
    // An auth-scheme is a token (RFC 9110 §11.1): anything else is not a credential at all.
    return is_token(scheme) ? errc::not_found : errc::invalid_argument;
  }
  if (space == std::string_view::npos) return errc::invalid_argument;
  const std::string_view token = authorization.substr(space + 1);
  if (!is_token68(token)) return errc::invalid_argument;
  return token;
}

TEGATA_INLINE Result<std::string_view> dpop_proof(
    std::span<const std::string_view> values) noexcept {
  if (values.empty()) return errc::not_found;
  if (values.size() > 1) return errc::invalid_argument;
  const std::string_view proof = values.front();
  std::size_t dots = 0;
  std::size_t segment = 0;
  for (const char c : proof) {
    if (c == '.') {
      if (segment == 0) return errc::invalid_argument;
      ++dots;
      segment = 0;
    } else if (tegata::detail::kBase64UrlDecodeTable[static_cast<unsigned char>(c)] != 0xFF) {
      ++segment;
    } else {
      return errc::invalid_argument;
    }
  }
  if (dots != 2 || segment == 0) return errc::invalid_argument;
  return proof;
}

TEGATA_INLINE std::string dpop_challenge(std::error_code error,
                                         std::span<const Algorithm> algorithms) {
  std::string out = "DPoP algs=\"";
  for (std::size_t i = 0; i < algorithms.size(); ++i) {
    if (i != 0) out += ' ';
    out += to_string(algorithms[i]);
  }
  out += '"';
  const char* code = nullptr;
  if (error == errc::use_dpop_nonce) {
    code = "use_dpop_nonce";
  } else if (error == errc::dpop_invalid || error == errc::dpop_required ||
             error == errc::dpop_mismatch || error == errc::dpop_replayed) {
    code = "invalid_dpop_proof";
  } else if (error && error != errc::not_found) {
    code = "invalid_token";
  }
  if (code != nullptr) {
    out += ", error=\"";
    out += code;
    out += '"';
  }
  return out;
}

TEGATA_INLINE Result<std::string_view> cookie_value(std::string_view cookie_header,
                                                    std::string_view name) noexcept {
  if (!detail::is_token(name)) return errc::invalid_argument;
  std::optional<std::string_view> found;
  std::size_t start = 0;
  while (start <= cookie_header.size()) {
    std::size_t end = cookie_header.find(';', start);
    if (end == std::string_view::npos) end = cookie_header.size();
    const std::string_view pair = cookie_header.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && detail::trim_ows(pair.substr(0, eq)) == name) {
      if (found) return errc::invalid_argument;
      found = detail::trim_ows(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  if (!found || found->empty()) return errc::not_found;
  if (!detail::is_cookie_value(*found)) return errc::invalid_argument;
  return *found;
}

TEGATA_INLINE CookieWriter::CookieWriter(const CookieOptions& options) {
  check_name(options.access_name);
  check_name(options.refresh_name);
  if (options.access_name == options.refresh_name) {
    throw std::invalid_argument("tegata: the access and refresh cookie names must differ");
  }
  if (options.same_site != SameSite::Strict && options.same_site != SameSite::Lax) {
    throw std::invalid_argument("tegata: SameSite must be Strict or Lax");
  }
  std::string_view refresh_path = options.refresh_path;
  if (refresh_path.empty()) refresh_path = "/";
  if (!detail::is_cookie_path(refresh_path)) {
    throw std::invalid_argument(
        "tegata: the refresh cookie path must start with '/' and contain only visible ASCII "
        "other than ';'");
  }
  if (refresh_path != "/" && options.host_prefix) {
    throw std::invalid_argument(
        "tegata: a refresh_path needs host_prefix = false: a __Host- cookie must have Path=/, "
        "and a __Secure- refresh cookie can be planted by a sibling subdomain (see "
        "CookieOptions::refresh_path); leave refresh_path empty, or set host_prefix = false "
        "to accept that");
  }
  if (!options.domain.empty()) {
    if (options.host_prefix) {
      throw std::invalid_argument(
          "tegata: a cookie Domain requires host_prefix = false (__Host- cookies have no "
          "Domain)");
    }
    if (!detail::is_cookie_domain(options.domain)) {
      throw std::invalid_argument(
          "tegata: the cookie domain must be a DNS name of letters, digits, '-' and '.' "
          "without a leading dot");
    }
  }

  std::string after = options.insecure_http_for_testing ? "; HttpOnly" : "; HttpOnly; Secure";
  after.append(detail::same_site_attribute(options.same_site));
  std::string domain_attribute;
  if (!options.domain.empty()) domain_attribute = "; Domain=" + options.domain;

  std::string_view prefix = options.host_prefix ? "__Host-" : "__Secure-";
  if (options.insecure_http_for_testing) prefix = {};
  access_.name = std::string(prefix) + options.access_name;
  access_.before_max_age = "; Path=/" + domain_attribute;
  access_.after_max_age = after;
  refresh_.name = std::string(prefix) + options.refresh_name;
  refresh_.before_max_age = "; Path=" + std::string(refresh_path) + domain_attribute;
  refresh_.after_max_age = std::move(after);
}

TEGATA_INLINE void CookieWriter::check_name(const std::string& name) {
  if (!detail::is_token(name)) {
    throw std::invalid_argument(
        "tegata: a cookie name must be a non-empty RFC 6265 token (no spaces, controls or "
        "separators)");
  }
  if (tegata::detail::ascii_istarts_with(name, "__Host-") ||
      tegata::detail::ascii_istarts_with(name, "__Secure-")) {
    throw std::invalid_argument(
        "tegata: give the cookie's base name; the __Host-/__Secure- prefix is added by tegata");
  }
}

TEGATA_INLINE Result<std::string> CookieWriter::make(const detail::cookie_template& cookie,
                                                     std::string_view token,
                                                     std::chrono::sys_seconds expires_at,
                                                     std::chrono::sys_seconds now,
                                                     bool persistent) {
  if (token.empty() || !detail::is_cookie_value(token)) return errc::invalid_argument;
  if (cookie.name.size() + token.size() > kMaxCookieNameValueBytes) return errc::too_large;
  if (expires_at <= now) return errc::expired;
  if (!persistent) return cookie.build(token, {});
  // The difference of two int64 counts can overflow int64 but not uint64 once ordered.
  const std::uint64_t remaining =
      static_cast<std::uint64_t>(expires_at.time_since_epoch().count()) -
      static_cast<std::uint64_t>(now.time_since_epoch().count());
  return cookie.build(token, std::to_string(remaining));
}

}  // namespace tegata::http
