// tegata/verified_jwt_inl.hpp - the definitions of tegata/verified_jwt.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/verified_jwt.hpp"

namespace tegata {

TEGATA_INLINE bool VerifiedJwt::has_audience(std::string_view audience) const noexcept {
  if (!registered().has_audience) return false;
  const auto aud = document().find(detail::member_name::aud);
  if (aud->is_string()) return aud->string() == audience;
  bool found = false;
  aud->visit_strings([&](std::optional<std::string_view> value) {
    found = value == audience;
    return !found;
  });
  return found;
}

TEGATA_INLINE std::optional<std::vector<std::string>> VerifiedJwt::audiences() const {
  if (!registered().has_audience) return std::nullopt;
  std::vector<std::string> values;
  const auto aud = document().find(detail::member_name::aud);
  if (aud->is_string()) {
    values.emplace_back(aud->string());
  } else {
    aud->visit_strings([&](std::optional<std::string_view> value) {
      values.emplace_back(*value);  // verified: every element is a string
      return true;
    });
  }
  return values;
}

TEGATA_INLINE Result<std::string_view> VerifiedJwt::string_claim(
    std::string_view name) const noexcept {
  const auto value = custom_claim(name);
  if (!value) return value.error();
  if (!value->is_string()) return errc::invalid_claim;
  return value->string();
}

TEGATA_INLINE Result<std::int64_t> VerifiedJwt::integer_claim(
    std::string_view name) const noexcept {
  const auto value = custom_claim(name);
  if (!value) return value.error();
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (value->is_unsigned()) {
    if (value->unsigned_number() > max) return errc::invalid_claim;
    return static_cast<std::int64_t>(value->unsigned_number());
  }
  const nlohmann::json* dom = value->dom();
  if (dom == nullptr || !dom->is_number_integer()) return errc::invalid_claim;
  return dom->get<std::int64_t>();  // number_unsigned is is_unsigned() above: a signed one
}

TEGATA_INLINE Result<bool> VerifiedJwt::bool_claim(std::string_view name) const noexcept {
  const auto value = custom_claim(name);
  if (!value) return value.error();
  if (!value->is_boolean()) return errc::invalid_claim;
  return value->boolean();
}

TEGATA_INLINE Result<std::vector<std::string>> VerifiedJwt::string_array_claim(
    std::string_view name) const {
  const auto value = custom_claim(name);
  if (!value) return value.error();
  std::vector<std::string> strings;
  bool all_strings = true;
  const bool is_array = value->visit_strings([&](std::optional<std::string_view> s) {
    if (s) strings.emplace_back(*s);
    all_strings = s.has_value();
    return all_strings;
  });
  if (!is_array || !all_strings) return errc::invalid_claim;
  return strings;
}

TEGATA_INLINE Claims VerifiedJwt::claims() const {
  Claims claims;
  const detail::registered_claims_view& view = registered();
  const auto copy = [](const std::optional<std::string_view>& v) {
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  claims.issuer = copy(view.issuer);
  claims.subject = copy(view.subject);
  claims.jwt_id = copy(view.jwt_id);
  claims.audience = audiences();
  claims.expires_at = view.expires_at;
  claims.not_before = view.not_before;
  claims.issued_at = view.issued_at;
  return claims;
}

TEGATA_INLINE nlohmann::json VerifiedJwt::payload() const {
  if (!state_) return nlohmann::json::object();
  const detail::json_object_storage& read = state_->opened.claims;
  return read.dom ? *read.dom : read.document().to_json();
}

TEGATA_INLINE Result<detail::json_value> VerifiedJwt::custom_claim(
    std::string_view name) const noexcept {
  if (detail::is_registered_claim(name)) return errc::invalid_argument;
  if (!state_) return errc::not_found;
  auto value = document().find(name);
  if (!value) return errc::not_found;
  return *value;
}

}  // namespace tegata
