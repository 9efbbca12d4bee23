// tegata/http.hpp - session cookies and credential headers, as strings (RFC 6265, RFC 6750,
// RFC 9449).
//
// tegata does no I/O: this header builds Set-Cookie header values for the access and refresh
// tokens, and reads a token back from an Authorization or Cookie header value. The application's
// HTTP framework moves the strings.
//
// The cookies are locked down by default: HttpOnly (no script can read the token, so an XSS bug
// cannot exfiltrate it), Secure (never sent in clear), SameSite=Strict (not sent on cross-site
// requests, the main CSRF defence), and the __Host- name prefix, which makes the browser refuse
// the cookie unless it is Secure, has Path=/ and no Domain. That prefix is what stops a sibling
// subdomain or a plain-http response from planting its own token under our cookie's name.
//
//   tegata::http::CookieWriter cookies;              // once, at startup: __Host- cookies
//   auto set = cookies.write(pair, clock.now());   // after login or refresh
//   if (set) { response.add("Set-Cookie", set->access); response.add("Set-Cookie", set->refresh); }
//   auto token = cookies.read_access(cookie_header);   // each request; a view into the header
//
// Untrusted input (header values, tokens) never throws: failures are errc values. A bad
// configuration (an invalid cookie name, path or domain) throws std::invalid_argument when the
// CookieWriter is constructed, so it is found at startup rather than on the first login.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/algorithm.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/ascii.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/error.hpp"

namespace tegata::http {

// SameSite=None is deliberately not offered: it sends the session cookies on cross-site requests,
// which reopens CSRF. An API that must be called cross-site should take the access token from an
// Authorization: Bearer header (see bearer_token) instead of a cookie.
enum class SameSite {
  Strict,  // sent only on same-site requests; a link from another site arrives logged out
  Lax,     // also sent on top-level cross-site GET navigations (following a link in)
};

// Browsers drop a cookie whose name and value together exceed 4096 bytes (RFC 6265 §6.1 makes
// that the minimum they must support; the major browsers also make it the maximum). Such a cookie
// is refused here, because a silently dropped cookie would log the user out with no error anywhere.
inline constexpr std::size_t kMaxCookieNameValueBytes = 4096;

struct CookieOptions {
  // Base names, without prefix: the writer prepends __Host- or __Secure- itself. They must be
  // RFC 6265 tokens, differ from each other, and not start with a prefix of their own.
  std::string access_name{"access_token"};
  std::string refresh_name{"refresh_token"};
  SameSite same_site{SameSite::Strict};
  // The Path of the refresh cookie. Empty (or "/"), the default, means Path=/ and the __Host-
  // prefix: no other host, not even a sibling subdomain, can plant or overwrite the cookie.
  // Only the refresh endpoint needs to read it; it is sent with every request to this host.
  //
  // A path such as "/auth/refresh" sends the refresh token only to that endpoint, but __Host-
  // requires Path=/, so such a cookie can only be __Secure-, and a __Secure- cookie can be
  // planted by any sibling subdomain (evil.example.com sets it with Domain=example.com): the
  // victim's browser then sends two refresh cookies (read_refresh refuses both, so refresh
  // fails until the planted one expires: a denial of service), or only the planted one (the
  // victim refreshes into the attacker's session: login CSRF). A path is therefore refused
  // unless host_prefix is false, which states that this trade-off was chosen (docs/security.md).
  // A path must start with '/' and is written as the browser sees it in the request URL
  // (percent-encoded; no spaces, controls or ';'); the browser matches it as a path prefix on
  // '/' boundaries, so "/auth/refresh" covers "/auth/refresh" and "/auth/refresh/x". Changing
  // the path of a cookie leaves the old one in browsers until it expires, and both would then
  // be sent: rename the cookie (refresh_name) when you move it.
  std::string refresh_path{};
  // true: __Host- prefix (Path=/, no Domain, bound to the exact host that set it).
  // false: __Secure- prefix, which still forces Secure but allows a Domain attribute, so that
  // subdomains share the cookies, and a refresh_path; only then may `domain` or a refresh_path
  // be set. Any sibling subdomain can then plant cookies of these names (see refresh_path).
  bool host_prefix{true};
  // With host_prefix off: the Domain attribute, e.g. "example.com" (every subdomain then
  // receives the tokens, and any of them can overwrite them). Empty means a host-only cookie.
  // Letters, digits, '-' and '.' only, as DNS labels; an internationalized name in its
  // xn-- (A-label) form; no leading dot.
  std::string domain{};
  // For tests and local development over plain http://127.0.0.1 ONLY. A browser refuses a
  // Secure cookie, and any __Host-/__Secure- cookie, from a plain-HTTP response, so this drops
  // both: the cookies carry the bare names (access_name, refresh_name) and no Secure attribute.
  // HttpOnly, SameSite, Path and Domain are unchanged. Never set it in production: the tokens
  // would then travel in clear text, and any host that can answer over HTTP could plant its own.
  bool insecure_http_for_testing{false};
};

// Two Set-Cookie header values. Send each as its own Set-Cookie header field: Set-Cookie is the
// one header that must never be folded into a single comma-separated line (RFC 6265 §3).
struct SetCookies {
  std::string access{};
  std::string refresh{};
};

// What write() needs from a session's token pair: the fields of tegata's TokenPair, without
// depending on the session headers.
template <class T>
concept TokenPairFields = requires(const T& pair) {
  { pair.access_token } -> std::convertible_to<std::string_view>;
  { pair.refresh_token } -> std::convertible_to<std::string_view>;
  { pair.access_expires_at } -> std::convertible_to<std::chrono::sys_seconds>;
  { pair.refresh_expires_at } -> std::convertible_to<std::chrono::sys_seconds>;
};

namespace detail {

// RFC 6265 §4.1.1 token (RFC 2616 §2.2): a visible ASCII character that is not a separator.
// The same set as RFC 9110's tchar.
constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// RFC 6265 §4.1.1 cookie-octet: visible ASCII except '"', ',', ';' and '\'.
constexpr bool is_cookie_octet(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7E && c != '"' && c != ',' && c != ';' && c != '\\';
}

constexpr bool is_cookie_value(std::string_view s) noexcept {
  for (char c : s) {
    if (!is_cookie_octet(c)) return false;
  }
  return true;
}

// RFC 6750 §2.1 / RFC 9110 §11.2 token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"=" - the '=' padding only at the end, after at least one other character.
constexpr bool is_token68(std::string_view s) noexcept {
  std::size_t body = 0;
  while (body < s.size()) {
    const char c = s[body];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
    ++body;
  }
  if (body == 0) return false;
  for (std::size_t i = body; i < s.size(); ++i) {
    if (s[i] != '=') return false;
  }
  return true;
}

// Optional whitespace as browsers and proxies put it around cookie pairs: SP and HTAB.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A cookie path as written in a Set-Cookie header: '/' then visible ASCII other than ';'.
// (RFC 6265 allows spaces too, but a request path never contains a literal space, so a cookie
// path with one would never be sent: refusing it catches the mistake.)
constexpr bool is_cookie_path(std::string_view s) noexcept {
  if (s.empty() || s.front() != '/') return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == ';') return false;
  }
  return true;
}

// RFC 6265 §4.1.2.3 / RFC 1034 §3.5 preferred name syntax: dot-separated labels of 1..63 letters,
// digits and hyphens, not starting or ending with a hyphen; at most 253 characters in all.
constexpr bool is_cookie_domain(std::string_view s) noexcept {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (s[i - 1] == '-' || s[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = s[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
    ++label;
  }
  return true;
}

constexpr std::string_view same_site_attribute(SameSite s) noexcept {
  return s == SameSite::Lax ? "; SameSite=Lax" : "; SameSite=Strict";
}

// One cookie's fixed parts, computed once: "name=" and the attributes around Max-Age.
struct cookie_template {
  std::string name;
  std::string before_max_age;  // "; Path=...[; Domain=...]"
  std::string after_max_age;   // "; HttpOnly; Secure; SameSite=..."

  // An empty max_age leaves Max-Age out: a session cookie, which ends with the browser.
  std::string build(std::string_view value, std::string_view max_age) const;
};

// The credentials of an Authorization header value for one scheme: bearer_token, dpop_token.
Result<std::string_view> credentials(std::string_view authorization,
                                     std::string_view expected_scheme) noexcept;

}  // namespace detail

// The credentials of an Authorization header value (RFC 6750 §2.1): "Bearer" in any case,
// exactly one space, then a non-empty token68. The view points into the argument.
//   errc::not_found        the value is empty, or names another scheme ("Basic ..."): the request
//                          carries no bearer token, so the app may try a cookie or answer 401
//                          without an error code (RFC 6750 §3.1).
//   errc::invalid_argument a Bearer value of the wrong shape ("Bearer", "Bearer  x", a space,
//                          comma, quote or non-ASCII byte in the token, '=' before the end,
//                          trailing whitespace), or a value that is not an auth scheme at all:
//                          answer 400 invalid_request.
// Strict on whitespace: HTTP parsers already strip the field value's leading and trailing
// whitespace (RFC 9110 §5.5), so any that remains was put there on purpose.
inline Result<std::string_view> bearer_token(std::string_view authorization) noexcept {
  return detail::credentials(authorization, "Bearer");
}

// The access token of an Authorization header value with the DPoP scheme (RFC 9449 §7.1):
// "DPoP" in any case, exactly one space, a non-empty token68; errors as bearer_token's. A
// DPoP-bound token sent as "Bearer" is not_found here, and SessionManager refuses it there.
inline Result<std::string_view> dpop_token(std::string_view authorization) noexcept {
  return detail::credentials(authorization, "DPoP");
}

// The proof of a request, from the values of all its DPoP header fields (RFC 9449 §4.1 and
// §4.3: exactly one, holding one compact JWS). The view points into the argument.
//   errc::not_found        no DPoP field
//   errc::invalid_argument two or more fields, or a value that is not three base64url segments
//                          (two fields that a framework joined with a comma, whitespace, ...)
Result<std::string_view> dpop_proof(std::span<const std::string_view> values) noexcept;

// The WWW-Authenticate value that answers a request to a DPoP-protected resource which failed
// with error (RFC 9449 §7.1, RFC 6750 §3): the DPoP scheme, the algorithms proofs may use, and
// the error: use_dpop_nonce for that code (send the nonce in a DPoP-Nonce header beside it),
// invalid_dpop_proof for a proof that is missing, invalid, by another key than the token's or
// used before (dpop_required, dpop_invalid, dpop_mismatch, dpop_replayed), invalid_token for any
// other refusal, and none when the request carried no credentials (not_found).
//   DPoP algs="ES256 EdDSA", error="invalid_dpop_proof"
std::string dpop_challenge(std::error_code error, std::span<const Algorithm> algorithms);

// The value of cookie `name` in a Cookie header value (RFC 6265 §4.2.1 "a=b; c=d"). Lenient on
// form, strict on the answer:
//  - pairs are split on ';' only (a cookie-octet never contains one, and ',' is not a separator
//    in a Cookie header), with spaces and tabs around names and values ignored; a piece without
//    '=' (a nameless cookie, stray text) is skipped; names compare case-sensitively, exactly;
//  - errc::not_found: no pair has that name, or its value is empty (what a cleared cookie looks
//    like; tegata never writes an empty token);
//  - errc::invalid_argument: the name occurs more than once. A browser only sends two cookies of
//    one name when they differ in domain or path - one of them then came from elsewhere (a
//    sibling subdomain, a stale path) and there is no safe way to pick. __Host- cookies cannot
//    be duplicated by a browser at all;
//  - errc::invalid_argument: the value is quoted ("...") or has a byte that is not a
//    cookie-octet. tegata never writes such a value, so it is not one of ours;
//  - errc::invalid_argument: `name` itself is not an RFC 6265 token.
// One pass over the header, no allocation; the view points into cookie_header.
Result<std::string_view> cookie_value(std::string_view cookie_header,
                                      std::string_view name) noexcept;

// Builds the Set-Cookie header values (without the "Set-Cookie: " field name) for the access and
// refresh cookies, and reads those cookies back. Immutable after construction: one instance can
// be shared by every thread of a server.
class CookieWriter {
 public:
  // Throws std::invalid_argument for an invalid name, path or domain, for equal access and
  // refresh names, for a name that already carries a __Host-/__Secure- prefix, and for a domain
  // or a refresh_path other than "/" while host_prefix is on (__Host- forbids both).
  explicit CookieWriter(const CookieOptions& options = {});

  // The full cookie names, prefix included: the names the browser sends back.
  const std::string& access_cookie_name() const noexcept { return access_.name; }
  const std::string& refresh_cookie_name() const noexcept { return refresh_.name; }

  // Set-Cookie values carrying a token until expires_at, e.g.
  //   __Host-access_token=<token>; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict
  // Max-Age is the token's remaining life, expires_at - now, in seconds: the cookie vanishes
  // when the token stops being useful. (Max-Age rather than Expires, so the browser's clock does
  // not matter. Browsers cap Max-Age at 400 days, RFC 6265bis §5.6.2: a longer-lived refresh
  // token would lose its cookie early.) Errors, none of which throws:
  //   errc::expired          expires_at <= now: a cookie with no life left would only delete
  //                          itself, which is clear_access()/clear_refresh()'s job - asking for
  //                          it here is a bug in the caller, not a logout.
  //   errc::invalid_argument the token is empty or has a byte that is not an RFC 6265
  //                          cookie-octet (a JWS compact token, base64url and '.', always is one).
  //   errc::too_large        name and token exceed kMaxCookieNameValueBytes.
  Result<std::string> access(std::string_view token, std::chrono::sys_seconds expires_at,
                             std::chrono::sys_seconds now) const {
    return make(access_, token, expires_at, now);
  }
  Result<std::string> refresh(std::string_view token, std::chrono::sys_seconds expires_at,
                              std::chrono::sys_seconds now) const {
    return make(refresh_, token, expires_at, now);
  }

  // Both cookies for a freshly issued or rotated token pair (a tegata TokenPair, or anything with
  // its fields). Fails as access() or refresh() would, and then returns neither cookie. A pair
  // whose `persistent` member is false (a login without "remember me", IssueOptions) gets
  // session cookies: no Max-Age, so the browser drops them when it closes; the tokens still end
  // at their exp.
  template <TokenPairFields Pair>
  Result<SetCookies> write(const Pair& pair, std::chrono::sys_seconds now) const {
    bool persistent = true;
    if constexpr (requires { static_cast<bool>(pair.persistent); }) {
      persistent = static_cast<bool>(pair.persistent);
    }
    auto a = make(access_, pair.access_token, pair.access_expires_at, now, persistent);
    if (!a) return a.error();
    auto r = make(refresh_, pair.refresh_token, pair.refresh_expires_at, now, persistent);
    if (!r) return r.error();
    return SetCookies{std::move(*a), std::move(*r)};
  }

  // Set-Cookie values that delete the cookies (logout): same name, Path and Domain as when they
  // were set - the browser only replaces a cookie with the same name, domain and path - with an
  // empty value and Max-Age=0. Clearing the cookies only tidies the browser: also revoke the
  // session, or a copied token stays valid until it expires.
  std::string clear_access() const { return access_.build({}, "0"); }
  std::string clear_refresh() const { return refresh_.build({}, "0"); }
  SetCookies clear() const { return {clear_access(), clear_refresh()}; }

  // The tokens from a request's Cookie header value, by this writer's full names; the same rules
  // and errors as cookie_value(), and the view likewise points into cookie_header. Reading by the
  // prefixed name matters: a cookie under the bare base name could have been planted by another
  // host.
  Result<std::string_view> read_access(std::string_view cookie_header) const noexcept {
    return cookie_value(cookie_header, access_.name);
  }
  Result<std::string_view> read_refresh(std::string_view cookie_header) const noexcept {
    return cookie_value(cookie_header, refresh_.name);
  }

 private:
  static void check_name(const std::string& name);

  static Result<std::string> make(const detail::cookie_template& cookie, std::string_view token,
                                  std::chrono::sys_seconds expires_at, std::chrono::sys_seconds now,
                                  bool persistent = true);

  detail::cookie_template access_;
  detail::cookie_template refresh_;
};

}  // namespace tegata::http

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/http_inl.hpp"
#endif
