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
#include <system_error>
#include <utility>
#include <vector>

#include "tegata/detail/inline.hpp"
#include "tegata/detail/json_document.hpp"
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
Result<std::chrono::sys_seconds> parse_numeric_date(const nlohmann::json& value) noexcept;

namespace detail {

// Whether a member is one of the registered claims above (iss, sub, aud, exp, nbf, iat, jti).
constexpr bool is_registered_claim(member_name name) noexcept {
  switch (name) {
    case member_name::iss:
    case member_name::sub:
    case member_name::aud:
    case member_name::exp:
    case member_name::nbf:
    case member_name::iat:
    case member_name::jti: return true;
    default: return false;
  }
}
constexpr bool is_registered_claim(std::string_view name) noexcept {
  return is_registered_claim(classify_member(name));
}

// A NumericDate, from either reader's value. The flat reader holds only integers without sign,
// which nlohmann_json reads as number_unsigned.
inline Result<std::chrono::sys_seconds> numeric_date_of(const json_value& value) noexcept {
  if (const nlohmann::json* dom = value.dom()) return parse_numeric_date(*dom);
  if (!value.is_unsigned() ||
      value.unsigned_number() > static_cast<std::uint64_t>(kMaxNumericDate)) {
    return errc::invalid_claim;
  }
  return std::chrono::sys_seconds{
      std::chrono::seconds{static_cast<std::int64_t>(value.unsigned_number())}};
}

// The registered claims of a payload as views into it: valid while the payload (its text or its
// DOM) is.
struct registered_claims_view {
  std::optional<std::string_view> issuer;
  std::optional<std::string_view> subject;
  std::optional<std::string_view> jwt_id;
  bool has_audience = false;
  std::optional<std::chrono::sys_seconds> expires_at;
  std::optional<std::chrono::sys_seconds> not_before;
  std::optional<std::chrono::sys_seconds> issued_at;
};

// Reads the registered claims of a JSON object in parse_claims' order: iss, sub, jti, aud, exp,
// nbf, iat. Each audience value is passed to on_audience once its type is known to be right; a
// later error discards the result.
template <class OnAudience>
std::error_code read_registered_claims(const json_document& payload, registered_claims_view& out,
                                       OnAudience&& on_audience) {
  for (const auto& [name, slot] :
       {std::pair{member_name::iss, &out.issuer}, std::pair{member_name::sub, &out.subject},
        std::pair{member_name::jti, &out.jwt_id}}) {
    const auto value = payload.find(name);
    if (!value) continue;
    if (!value->is_string()) return errc::invalid_claim;
    *slot = value->string();
  }
  if (const auto aud = payload.find(member_name::aud)) {
    if (aud->is_string()) {
      on_audience(aud->string());
    } else {
      bool all_strings = true;
      const bool is_array = aud->visit_strings([&](std::optional<std::string_view> entry) {
        if (!entry) {
          all_strings = false;
          return false;
        }
        on_audience(*entry);
        return true;
      });
      if (!is_array || !all_strings) return errc::invalid_claim;
    }
    out.has_audience = true;
  }
  for (const auto& [name, slot] :
       {std::pair{member_name::exp, &out.expires_at}, std::pair{member_name::nbf, &out.not_before},
        std::pair{member_name::iat, &out.issued_at}}) {
    const auto value = payload.find(name);
    if (!value) continue;
    auto date = numeric_date_of(*value);
    if (!date) return date.error();
    *slot = *date;
  }
  return {};
}

}  // namespace detail

namespace detail {

// The registered claims of an object, owned.
Result<Claims> owned_claims(const json_document& payload);

}  // namespace detail

// Reads the registered claims from a JSON object. Errors: invalid_claim (wrong type or range),
// bad_json (not an object).
Result<Claims> parse_claims(const nlohmann::json& payload);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/claims_inl.hpp"
#endif
