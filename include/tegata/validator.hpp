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
#include <utility>

#include "tegata/claims.hpp"
#include "tegata/detail/inline.hpp"
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

namespace detail {
struct validator_access;  // the checks on claim views, below
}  // namespace detail

class Validator {
 public:
  // Throws std::invalid_argument for a leeway outside 0..5 minutes, an empty configured value, a
  // limit of 0, or a max_json_depth above jws::kMaxJsonDepth.
  explicit Validator(ValidatorOptions options);

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
    const bool matches = options_.audience && claims.audience &&
                         std::find(claims.audience->begin(), claims.audience->end(),
                                   *options_.audience) != claims.audience->end();
    return check_issuer_and_audience_of(
        claims.issuer ? std::optional<std::string_view>(*claims.issuer) : std::nullopt,
        claims.audience.has_value(), matches);
  }

  // exp: valid while now < exp + leeway (a token is expired at its exp second, RFC 7519 §4.1.4).
  // nbf: valid once now + leeway >= nbf. iat: refused when later than now + leeway.
  std::error_code check_times(const Claims& claims, std::chrono::sys_seconds now) const noexcept {
    return check_times_of(claims.expires_at, claims.not_before, claims.issued_at, now);
  }

  // check_times without its one check on the passing of exp (exp must still be present unless
  // allow_missing_exp): nbf and iat as above. For ending a session with a token that expired.
  std::error_code check_times_ignoring_expiry(const Claims& claims,
                                              std::chrono::sys_seconds now) const noexcept {
    return check_times_of(claims.expires_at, claims.not_before, claims.issued_at, now,
                          /*check_expiry=*/false);
  }

 private:
  friend struct detail::validator_access;

  std::error_code check_issuer_and_audience_of(std::optional<std::string_view> issuer,
                                               bool has_audience,
                                               bool audience_matches) const noexcept {
    if (options_.issuer) {
      if (!issuer) return errc::missing_claim;
      if (*issuer != *options_.issuer) return errc::wrong_issuer;
    } else if (issuer) {
      return errc::wrong_issuer;
    }
    if (options_.audience) {
      if (!has_audience) return errc::missing_claim;
      if (!audience_matches) return errc::wrong_audience;
    } else if (has_audience) {
      return errc::wrong_audience;
    }
    return {};
  }

  std::error_code check_times_of(const std::optional<std::chrono::sys_seconds>& expires_at,
                                 const std::optional<std::chrono::sys_seconds>& not_before,
                                 const std::optional<std::chrono::sys_seconds>& issued_at,
                                 std::chrono::sys_seconds now,
                                 bool check_expiry = true) const noexcept {
    const auto leeway = options_.leeway;
    if (expires_at) {
      if (check_expiry && now >= *expires_at + leeway) return errc::expired;
    } else if (!options_.allow_missing_exp) {
      return errc::missing_claim;
    }
    if (not_before && now + leeway < *not_before) return errc::not_yet_valid;
    if (issued_at && *issued_at > now + leeway) return errc::issued_in_future;
    return {};
  }

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

namespace detail {

// The same checks on claims read as views (read_registered_claims), without copying a claim: for
// the token readers of jwt.hpp, session/claims_codec.hpp and session/manager.hpp. Not a part of
// Validator's interface, because its argument types are internal.
struct validator_access {
  // audience_matches: whether the configured audience was among the token's aud values, as
  // collected by audience_matcher() while the claims were read.
  static std::error_code check_issuer_and_audience(const Validator& validator,
                                                   const registered_claims_view& claims,
                                                   bool audience_matches) noexcept {
    return validator.check_issuer_and_audience_of(claims.issuer, claims.has_audience,
                                                  audience_matches);
  }
  static std::error_code check_times(const Validator& validator,
                                     const registered_claims_view& claims,
                                     std::chrono::sys_seconds now) noexcept {
    return validator.check_times_of(claims.expires_at, claims.not_before, claims.issued_at, now);
  }
  static std::error_code check_times_ignoring_expiry(const Validator& validator,
                                                     const registered_claims_view& claims,
                                                     std::chrono::sys_seconds now) noexcept {
    return validator.check_times_of(claims.expires_at, claims.not_before, claims.issued_at, now,
                                    /*check_expiry=*/false);
  }
  // An on_audience callback for read_registered_claims that sets matches when an aud value
  // equals the configured audience.
  static auto audience_matcher(const Validator& validator, bool& matches) noexcept {
    return [&validator, &matches](std::string_view aud) noexcept {
      const std::optional<std::string>& audience = validator.options_.audience;
      if (audience && aud == *audience) matches = true;
    };
  }

  // Reads the registered claims of a verified payload into out and checks them in the order of
  // verify_jwt (Validator::check_claims): their types (invalid_claim), issuer and audience, then
  // check_times(const registered_claims_view&), which says which times apply (revoke ignores
  // exp). For verify_jwt_claims and every SessionManager call.
  template <class CheckTimes>
  static std::error_code read_and_check(const Validator& validator, const json_document& payload,
                                        CheckTimes&& check_times, registered_claims_view& out) {
    bool audience_matches = false;
    if (auto ec =
            read_registered_claims(payload, out, audience_matcher(validator, audience_matches))) {
      return ec;
    }
    if (auto ec = check_issuer_and_audience(validator, out, audience_matches)) return ec;
    return check_times(std::as_const(out));
  }

  // read_and_check with every time checked at now: what verify_jwt checks.
  static std::error_code read_and_check(const Validator& validator, const json_document& payload,
                                        std::chrono::sys_seconds now, registered_claims_view& out) {
    return read_and_check(
        validator, payload,
        [&](const registered_claims_view& claims) { return check_times(validator, claims, now); },
        out);
  }
};

}  // namespace detail

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/validator_inl.hpp"
#endif
