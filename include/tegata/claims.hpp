// tegata/claims.hpp - the registered JWT claims (RFC 7519 §4.1), read strictly.
//
// A claim that is present with the wrong JSON type is an error (invalid_claim), never "absent":
// treating {"exp":"tomorrow"} as a token without exp would turn a type confusion into a bypass.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tegata/detail/json.hpp"
#include "tegata/error.hpp"

namespace tegata {

// Latest accepted NumericDate: 9999-12-31T23:59:59Z. Larger values are refused rather than
// clamped, and keep every date arithmetic in tegata far from overflow.
inline constexpr std::int64_t kMaxNumericDate = 253402300799;

struct Claims {
  std::optional<std::string> issuer;                 // iss
  std::optional<std::string> subject;                // sub
  std::optional<std::vector<std::string>> audience;  // aud: a string is read as a one-element list
  std::optional<std::chrono::sys_seconds> expires_at;  // exp
  std::optional<std::chrono::sys_seconds> not_before;  // nbf
  std::optional<std::chrono::sys_seconds> issued_at;   // iat
  std::optional<std::string> jwt_id;                   // jti
};

// A NumericDate: a JSON integer, or a finite non-negative number (fractions are truncated),
// not above kMaxNumericDate. Booleans, strings, negatives, NaN and overflow are invalid_claim.
inline Result<std::chrono::sys_seconds> parse_numeric_date(const nlohmann::json& value) noexcept {
  std::int64_t seconds = 0;
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxNumericDate)) return errc::invalid_claim;
    seconds = static_cast<std::int64_t>(v);
  } else if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v < 0 || v > kMaxNumericDate) return errc::invalid_claim;
    seconds = v;
  } else if (value.is_number_float()) {
    const double v = value.get<double>();
    if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxNumericDate))
      return errc::invalid_claim;
    seconds = static_cast<std::int64_t>(v);
  } else {
    return errc::invalid_claim;
  }
  return std::chrono::sys_seconds{std::chrono::seconds{seconds}};
}

namespace detail {

inline std::error_code read_string_claim(const nlohmann::json& payload, const char* name,
                                         std::optional<std::string>& out) {
  const auto it = payload.find(name);
  if (it == payload.end()) return {};
  if (!it->is_string()) return errc::invalid_claim;
  out = it->get_ref<const std::string&>();
  return {};
}

inline std::error_code read_date_claim(const nlohmann::json& payload, const char* name,
                                       std::optional<std::chrono::sys_seconds>& out) {
  const auto it = payload.find(name);
  if (it == payload.end()) return {};
  auto date = parse_numeric_date(*it);
  if (!date) return date.error();
  out = *date;
  return {};
}

inline std::error_code read_audience_claim(const nlohmann::json& payload,
                                           std::optional<std::vector<std::string>>& out) {
  const auto it = payload.find("aud");
  if (it == payload.end()) return {};
  std::vector<std::string> audience;
  if (it->is_string()) {
    audience.push_back(it->get_ref<const std::string&>());
  } else if (it->is_array()) {
    audience.reserve(it->size());
    for (const auto& entry : *it) {
      if (!entry.is_string()) return errc::invalid_claim;
      audience.push_back(entry.get_ref<const std::string&>());
    }
  } else {
    return errc::invalid_claim;
  }
  out = std::move(audience);
  return {};
}

}  // namespace detail

// Reads the registered claims from a JSON object. Errors: invalid_claim (wrong type or range),
// bad_json (not an object).
inline Result<Claims> parse_claims(const nlohmann::json& payload) {
  if (!payload.is_object()) return errc::bad_json;
  Claims claims;
  if (auto ec = detail::read_string_claim(payload, "iss", claims.issuer)) return ec;
  if (auto ec = detail::read_string_claim(payload, "sub", claims.subject)) return ec;
  if (auto ec = detail::read_string_claim(payload, "jti", claims.jwt_id)) return ec;
  if (auto ec = detail::read_audience_claim(payload, claims.audience)) return ec;
  if (auto ec = detail::read_date_claim(payload, "exp", claims.expires_at)) return ec;
  if (auto ec = detail::read_date_claim(payload, "nbf", claims.not_before)) return ec;
  if (auto ec = detail::read_date_claim(payload, "iat", claims.issued_at)) return ec;
  return claims;
}

}  // namespace tegata
