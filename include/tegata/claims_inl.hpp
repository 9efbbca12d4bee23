// tegata/claims_inl.hpp - the definitions of tegata/claims.hpp (tegata/detail/inline.hpp says why
// they are apart).
#pragma once

#include "tegata/claims.hpp"

namespace tegata {

TEGATA_INLINE Result<std::chrono::sys_seconds> parse_numeric_date(
    const nlohmann::json& value) noexcept {
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

TEGATA_INLINE Result<Claims> detail::owned_claims(const json_document& payload) {
  registered_claims_view view;
  std::vector<std::string> audience;
  if (auto ec = read_registered_claims(payload, view,
                                       [&](std::string_view aud) { audience.emplace_back(aud); })) {
    return ec;
  }
  const auto copy = [](const std::optional<std::string_view>& v) {
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  Claims claims;
  claims.issuer = copy(view.issuer);
  claims.subject = copy(view.subject);
  claims.jwt_id = copy(view.jwt_id);
  if (view.has_audience) claims.audience = std::move(audience);
  claims.expires_at = view.expires_at;
  claims.not_before = view.not_before;
  claims.issued_at = view.issued_at;
  return claims;
}

TEGATA_INLINE Result<Claims> parse_claims(const nlohmann::json& payload) {
  if (!payload.is_object()) return errc::bad_json;
  return detail::owned_claims(detail::json_document(payload));
}

}  // namespace tegata
