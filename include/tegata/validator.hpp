// tegata/validator.hpp - strict checks on a verified token's type and claims.
//
// The defaults follow Tink's JWT API: exp is required; iss, aud and typ must match exactly what
// was configured, and must be absent when nothing was configured, so a token minted for another
// purpose or service never passes by omission; clock skew is bounded.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "tegata/claims.hpp"
#include "tegata/error.hpp"
#include "tegata/jws.hpp"

namespace tegata {

inline constexpr std::chrono::seconds kMaxLeeway{300};

struct ValidatorOptions {
  std::optional<std::string> issuer{};    // iss must equal this; when unset, iss must be absent
  std::optional<std::string> audience{};  // aud must contain this; when unset, aud must be absent
  std::optional<std::string> type{};      // header typ; when unset, typ must be absent or "JWT"
  std::chrono::seconds leeway{0};         // allowed clock skew, 0..5 minutes
  bool allow_missing_exp = false;         // a token without exp never expires: opt in explicitly
  jws::Limits limits{};
};

class Validator {
 public:
  // Throws std::invalid_argument for a leeway outside 0..5 minutes or an empty configured value.
  explicit Validator(ValidatorOptions options) : options_(std::move(options)) {
    if (options_.leeway < std::chrono::seconds{0} || options_.leeway > kMaxLeeway) {
      throw std::invalid_argument("tegata: leeway must be between 0 and 300 seconds");
    }
    if ((options_.issuer && options_.issuer->empty()) ||
        (options_.audience && options_.audience->empty()) ||
        (options_.type && options_.type->empty())) {
      throw std::invalid_argument(
          "tegata: a configured issuer, audience or type must not be empty");
    }
    if (options_.limits.max_token_bytes == 0 || options_.limits.max_json_depth == 0) {
      throw std::invalid_argument("tegata: token size and JSON depth limits must be positive");
    }
  }

  const ValidatorOptions& options() const noexcept { return options_; }

  // typ is compared case-insensitively, and "application/" may prefix it (RFC 7515 §4.1.9).
  std::error_code check_type(const jws::Header& header) const noexcept {
    const std::string_view expected = options_.type ? std::string_view(*options_.type) : "JWT";
    if (!header.has_typ)
      return options_.type ? make_error_code(errc::wrong_type) : std::error_code{};
    return type_matches(header.typ, expected) ? std::error_code{}
                                              : make_error_code(errc::wrong_type);
  }

  std::error_code check_claims(const Claims& claims, std::chrono::sys_seconds now) const noexcept {
    if (auto ec = check_issuer_and_audience(claims)) return ec;
    return check_times(claims, now);
  }

  std::error_code check_issuer_and_audience(const Claims& claims) const noexcept {
    if (options_.issuer) {
      if (!claims.issuer) return errc::missing_claim;
      if (*claims.issuer != *options_.issuer) return errc::wrong_issuer;
    } else if (claims.issuer) {
      return errc::wrong_issuer;
    }
    if (options_.audience) {
      if (!claims.audience) return errc::missing_claim;
      if (std::find(claims.audience->begin(), claims.audience->end(), *options_.audience) ==
          claims.audience->end()) {
        return errc::wrong_audience;
      }
    } else if (claims.audience) {
      return errc::wrong_audience;
    }
    return {};
  }

  // exp: valid while now < exp + leeway (a token is expired at its exp second, RFC 7519 §4.1.4).
  // nbf: valid once now + leeway >= nbf. iat: refused when later than now + leeway.
  std::error_code check_times(const Claims& claims, std::chrono::sys_seconds now) const noexcept {
    const auto leeway = options_.leeway;
    if (claims.expires_at) {
      if (now >= *claims.expires_at + leeway) return errc::expired;
    } else if (!options_.allow_missing_exp) {
      return errc::missing_claim;
    }
    if (claims.not_before && now + leeway < *claims.not_before) return errc::not_yet_valid;
    if (claims.issued_at && *claims.issued_at > now + leeway) return errc::issued_in_future;
    return {};
  }

 private:
  static bool type_matches(std::string_view typ, std::string_view expected) noexcept {
    constexpr std::string_view prefix = "application/";
    auto strip = [&](std::string_view s) {
      if (s.size() > prefix.size() && jws::detail::iequals(s.substr(0, prefix.size()), prefix)) {
        s.remove_prefix(prefix.size());
      }
      return s;
    };
    return jws::detail::iequals(strip(typ), strip(expected));
  }

  ValidatorOptions options_;
};

}  // namespace tegata
