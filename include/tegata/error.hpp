// tegata/error.hpp - every failure tegata reports, and the Result type that carries it.
//
// Validation of untrusted input never throws: it returns a Result whose error() is a
// std::error_code in the "tegata" category. Exceptions are reserved for misconfiguration
// (a short secret, an empty issuer), which is a programming error to fix, not an input to reject.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "tegata/detail/inline.hpp"

namespace tegata {

// Codes are stable: values never change meaning once released. Messages are short, fixed
// sentences and never include token bytes or key material.
enum class errc {
  // Shape of the token.
  malformed = 1,  // not three non-empty dot-separated segments, or a header field of the wrong type
  too_large,      // the token (or a part of it) exceeds a configured size limit
  bad_encoding,   // a segment is not strict, unpadded base64url
  bad_json,       // a segment is not a JSON object (syntax, invalid UTF-8, NaN, ...)
  duplicate_member,  // a JSON object names the same member twice
  too_deep,          // JSON nesting beyond the configured depth
  // Header and key selection.
  unsupported_algorithm,  // alg is none, unknown, or not the algorithm bound to the key
  unsupported_critical,   // crit lists a header parameter tegata does not understand
  unknown_key,            // no key with the token's kid
  bad_signature,          // the signature does not verify
  // Claims.
  wrong_type,  // typ is not the one this verifier expects
  wrong_issuer,
  wrong_audience,
  missing_claim,  // a required claim is absent
  invalid_claim,  // a claim has the wrong JSON type or an out-of-range value
  expired,
  not_yet_valid,
  issued_in_future,
  // Session state.
  revoked,             // this token's jti was revoked
  session_revoked,     // the whole session family was revoked (logout, refresh reuse)
  version_mismatch,    // issued before the subject's last "log out everywhere"
  refresh_reused,      // a refresh token was presented a second time: treated as theft
  session_expired,     // the absolute session lifetime is over; log in again
  reserved_claim,      // an extra claim tried to use a registered or session claim name
  store_unavailable,   // the revocation store could not answer; treated as failure
  store_full,          // the revocation store reached its configured entry limit
  not_supported,       // the operation is not available in this configuration
  key_cannot_sign,     // a verify-only (public or retired) key was asked to sign
  crypto_failure,      // OpenSSL reported an internal error
  invalid_argument,    // a caller-supplied value (cookie name, subject, ...) is not acceptable
  not_found,           // the requested header, cookie or token is absent
  cross_site_request,  // a state-changing request from another site's page (http::CsrfGuard)
  out_of_memory,       // memory ran out (std::bad_alloc) in a call that never throws
  dpop_invalid,        // a DPoP proof (RFC 9449) is malformed, badly signed or not for this request
  use_dpop_nonce,      // the DPoP proof lacks the server's current nonce: retry with the one sent
  dpop_required,       // the token is bound to a key (cnf.jkt) and the request carries no proof
  dpop_mismatch,       // the DPoP proof is valid but made by another key than the token's
  dpop_replayed,       // the DPoP proof (its jti) was already used: a proof is good for one request
};

// The enumerator's name, e.g. "bad_signature": stable, for logs and the CLI.
constexpr std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::malformed: return "malformed";
    case errc::too_large: return "too_large";
    case errc::bad_encoding: return "bad_encoding";
    case errc::bad_json: return "bad_json";
    case errc::duplicate_member: return "duplicate_member";
    case errc::too_deep: return "too_deep";
    case errc::unsupported_algorithm: return "unsupported_algorithm";
    case errc::unsupported_critical: return "unsupported_critical";
    case errc::unknown_key: return "unknown_key";
    case errc::bad_signature: return "bad_signature";
    case errc::wrong_type: return "wrong_type";
    case errc::wrong_issuer: return "wrong_issuer";
    case errc::wrong_audience: return "wrong_audience";
    case errc::missing_claim: return "missing_claim";
    case errc::invalid_claim: return "invalid_claim";
    case errc::expired: return "expired";
    case errc::not_yet_valid: return "not_yet_valid";
    case errc::issued_in_future: return "issued_in_future";
    case errc::revoked: return "revoked";
    case errc::session_revoked: return "session_revoked";
    case errc::version_mismatch: return "version_mismatch";
    case errc::refresh_reused: return "refresh_reused";
    case errc::session_expired: return "session_expired";
    case errc::reserved_claim: return "reserved_claim";
    case errc::store_unavailable: return "store_unavailable";
    case errc::store_full: return "store_full";
    case errc::not_supported: return "not_supported";
    case errc::key_cannot_sign: return "key_cannot_sign";
    case errc::crypto_failure: return "crypto_failure";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::cross_site_request: return "cross_site_request";
    case errc::out_of_memory: return "out_of_memory";
    case errc::dpop_invalid: return "dpop_invalid";
    case errc::use_dpop_nonce: return "use_dpop_nonce";
    case errc::dpop_required: return "dpop_required";
    case errc::dpop_mismatch: return "dpop_mismatch";
    case errc::dpop_replayed: return "dpop_replayed";
  }
  return "unknown";
}

namespace detail {

constexpr const char* describe(errc e) noexcept {
  switch (e) {
    case errc::malformed: return "token is not a well-formed compact JWS";
    case errc::too_large: return "token exceeds the configured size limit";
    case errc::bad_encoding: return "segment is not strict base64url";
    case errc::bad_json: return "segment is not a valid JSON object";
    case errc::duplicate_member: return "JSON object has a duplicate member name";
    case errc::too_deep: return "JSON nesting exceeds the configured depth";
    case errc::unsupported_algorithm: return "algorithm is not the one bound to the key";
    case errc::unsupported_critical: return "crit names a header parameter that is not understood";
    case errc::unknown_key: return "no key matches the token's key id";
    case errc::bad_signature: return "signature does not verify";
    case errc::wrong_type: return "token type (typ) is not the expected one";
    case errc::wrong_issuer: return "issuer (iss) is not the expected one";
    case errc::wrong_audience: return "audience (aud) is not the expected one";
    case errc::missing_claim: return "a required claim is missing";
    case errc::invalid_claim: return "a claim has an invalid type or value";
    case errc::expired: return "token has expired";
    case errc::not_yet_valid: return "token is not valid yet (nbf)";
    case errc::issued_in_future: return "token was issued in the future (iat)";
    case errc::revoked: return "token has been revoked";
    case errc::session_revoked: return "session has been revoked";
    case errc::version_mismatch: return "token predates the subject's last sign-out everywhere";
    case errc::refresh_reused: return "refresh token was already used; session revoked";
    case errc::session_expired: return "session reached its absolute lifetime";
    case errc::reserved_claim: return "extra claim uses a reserved claim name";
    case errc::store_unavailable: return "revocation store is unavailable";
    case errc::store_full: return "revocation store is full";
    case errc::not_supported: return "operation is not supported in this configuration";
    case errc::key_cannot_sign: return "key cannot sign (no private key, or retired)";
    case errc::crypto_failure: return "cryptographic library failure";
    case errc::invalid_argument: return "invalid argument";
    case errc::not_found: return "not found";
    case errc::cross_site_request: return "request comes from another site's page";
    case errc::out_of_memory: return "out of memory";
    case errc::dpop_invalid: return "DPoP proof is invalid or not made for this request";
    case errc::use_dpop_nonce: return "DPoP proof must carry the server's current nonce";
    case errc::dpop_required: return "token is bound to a key: a DPoP proof is required";
    case errc::dpop_mismatch: return "DPoP proof is made by another key than the token's";
    case errc::dpop_replayed: return "DPoP proof was already used";
  }
  return "unknown tegata error";
}

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override;
  std::string message(int ev) const override;
};

}  // namespace detail

inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace tegata

template <>
struct std::is_error_code_enum<tegata::errc> : std::true_type {};

namespace tegata {

// The name of any error, for logs: to_string(errc) for a code of the tegata category
// ("session_revoked"), "success" for an empty code, and the category's name ("generic",
// "system", ...) for a code of another category (log its value() beside it). A view of a static
// string: it never allocates and never throws.
inline std::string_view to_string(const std::error_code& ec) noexcept {
  if (!ec) return "success";
  if (ec.category() == error_category()) return to_string(static_cast<errc>(ec.value()));
  return ec.category().name();
}

// What a failure asks of the one who sees it, which is also how a server answers it. Each errc
// has one class (docs/api.md lists them); the class is what the code means when it comes from
// checking a request (a token, a cookie, a header).
enum class ErrorClass {
  none,             // not an error (an empty error_code)
  unauthenticated,  // 401: no valid token or session: refresh, or log in again
  bad_request,      // 400: the request is unusable as sent (a cookie sent twice, a bad argument)
  forbidden,        // 403: refused whoever sends it: a cross-site request (http::CsrfGuard)
  unavailable,      // 503: the revocation store cannot answer now: retry later
  server_error,     // 500: the server's configuration or code is at fault, OpenSSL failed, or
                    // memory ran out
};

constexpr ErrorClass classify(errc e) noexcept {
  switch (e) {
    case errc::malformed:
    case errc::too_large:
    case errc::bad_encoding:
    case errc::bad_json:
    case errc::duplicate_member:
    case errc::too_deep:
    case errc::unsupported_algorithm:
    case errc::unsupported_critical:
    case errc::unknown_key:
    case errc::bad_signature:
    case errc::wrong_type:
    case errc::wrong_issuer:
    case errc::wrong_audience:
    case errc::missing_claim:
    case errc::invalid_claim:
    case errc::expired:
    case errc::not_yet_valid:
    case errc::issued_in_future:
    case errc::revoked:
    case errc::session_revoked:
    case errc::version_mismatch:
    case errc::refresh_reused:
    case errc::session_expired:
    case errc::dpop_invalid:
    case errc::use_dpop_nonce:
    case errc::dpop_required:
    case errc::dpop_mismatch:
    case errc::dpop_replayed:
    case errc::not_found: return ErrorClass::unauthenticated;
    case errc::invalid_argument: return ErrorClass::bad_request;
    case errc::cross_site_request: return ErrorClass::forbidden;
    case errc::store_unavailable:
    case errc::store_full: return ErrorClass::unavailable;
    case errc::reserved_claim:
    case errc::not_supported:
    case errc::key_cannot_sign:
    case errc::crypto_failure:
    case errc::out_of_memory: return ErrorClass::server_error;
  }
  return ErrorClass::server_error;
}

// The class of any error_code: none when empty, server_error for a code tegata does not know
// (another category, or a value outside errc). Never throws.
inline ErrorClass classify(const std::error_code& ec) noexcept {
  if (!ec) return ErrorClass::none;
  if (ec.category() != error_category()) return ErrorClass::server_error;
  return classify(static_cast<errc>(ec.value()));
}

// The HTTP status that answers a failure of this class: 401, 400, 403, 503 or 500 (200 for none).
constexpr int http_status(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::none: return 200;
    case ErrorClass::unauthenticated: return 401;
    case ErrorClass::bad_request: return 400;
    case ErrorClass::forbidden: return 403;
    case ErrorClass::unavailable: return 503;
    case ErrorClass::server_error: return 500;
  }
  return 500;
}

// Thrown only by Result::value() on a failed Result, so callers who prefer exceptions can have them
// outside the validation path.
class bad_result_access : public std::system_error {
 public:
  explicit bad_result_access(std::error_code ec) : std::system_error(ec) {}
};

// A value or the error_code explaining why there is none. Marked [[nodiscard]] so a failed
// validation can never be ignored by accident.
template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const T& value) : state_(value) {}  // NOLINT(google-explicit-constructor)
  Result(T&& value) noexcept(
      std::is_nothrow_move_constructible_v<T>)  // NOLINT(google-explicit-constructor)
      : state_(std::move(value)) {}
  Result(errc e) noexcept : state_(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
  // A Result is never "no value and no error": an empty error_code is a caller bug, reported as
  // invalid_argument rather than silently read as success or as an error with no cause.
  Result(std::error_code ec) noexcept  // NOLINT(google-explicit-constructor)
      : state_(ec ? ec : make_error_code(errc::invalid_argument)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // Success has no error: error() is then a default (false) error_code.
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(state_);
  }

  T& value() & {
    check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }

  // Unchecked access, like std::optional: only after has_value() returned true. On a failed
  // Result a debug build stops at an assertion (the behaviour is undefined when NDEBUG is set);
  // value() is the checked access.
  T& operator*() & noexcept {
    assert(has_value() && "tegata::Result: operator* on a Result that holds an error");
    return *std::get_if<0>(&state_);
  }
  const T& operator*() const& noexcept {
    assert(has_value() && "tegata::Result: operator* on a Result that holds an error");
    return *std::get_if<0>(&state_);
  }
  T&& operator*() && noexcept {
    assert(has_value() && "tegata::Result: operator* on a Result that holds an error");
    return std::move(*std::get_if<0>(&state_));
  }
  T* operator->() noexcept {
    assert(has_value() && "tegata::Result: operator-> on a Result that holds an error");
    return std::get_if<0>(&state_);
  }
  const T* operator->() const noexcept {
    assert(has_value() && "tegata::Result: operator-> on a Result that holds an error");
    return std::get_if<0>(&state_);
  }

 private:
  void check() const {
    if (!has_value()) throw bad_result_access(std::get<1>(state_));
  }
  std::variant<T, std::error_code> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() noexcept = default;
  Result(errc e) noexcept : error_(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
  Result(std::error_code ec) noexcept : error_(ec) {}      // NOLINT(google-explicit-constructor)

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  std::error_code error() const noexcept { return error_; }
  void value() const {
    if (error_) throw bad_result_access(error_);
  }

 private:
  std::error_code error_;
};

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/error_inl.hpp"
#endif
