// tegata/keys/jwk_inl.hpp - the definitions of tegata/keys/jwk.hpp (tegata/detail/inline.hpp says
// why they are apart).
#pragma once

#include <exception>
#include <set>
#include <stdexcept>

#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/keys/jwk.hpp"

namespace tegata {

TEGATA_INLINE Result<std::string> detail::jwk::thumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return errc::malformed;
  std::string_view kty;
  if (auto ec = required_string(jwk, "kty", kty)) return ec;
  // Named *_members, not after the kty alone: `ec` is the error code everywhere else.
  static constexpr const char* rsa_members[] = {"e", "kty", "n"};
  static constexpr const char* ec_members[] = {"crv", "kty", "x", "y"};
  static constexpr const char* okp_members[] = {"crv", "kty", "x"};
  static constexpr const char* oct_members[] = {"k", "kty"};
  std::span<const char* const> required;
  if (kty == "RSA") {
    required = rsa_members;
  } else if (kty == "EC") {
    required = ec_members;
  } else if (kty == "OKP") {
    required = okp_members;
  } else if (kty == "oct") {
    required = oct_members;
  } else {
    return errc::not_supported;
  }
  // RFC 7638 §3.3: the canonical form is the JSON serialization itself. Values limited to
  // printable ASCII without '"' and '\' are written as they are, so no escaping rule (on which
  // JSON serializers differ) can change the hash.
  std::string canonical = "{";
  for (const char* name : required) {
    std::string_view value;
    if (auto ec = required_string(jwk, name, value)) return ec;
    for (const char c : value) {
      if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return errc::malformed;
    }
    if (canonical.size() > 1) canonical += ',';
    canonical += '"';
    canonical += name;
    canonical += "\":\"";
    canonical += value;
    canonical += '"';
  }
  canonical += '}';
  auto digest = sha256(canonical);
  if (!digest) return digest.error();
  return base64url_encode(*digest);
}

TEGATA_INLINE Result<std::string> keys::thumbprint_sha256(const nlohmann::json& jwk) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::thumbprint(jwk); });
}

TEGATA_INLINE std::error_code detail::jwk::check_usage(const nlohmann::json& jwk,
                                                       KeyOperation operation) {
  std::string_view use;
  bool has_use = false;
  if (auto ec = optional_string(jwk, "use", use, has_use)) return ec;
  const auto ops = jwk.find("key_ops");
  bool allowed = ops == jwk.end();
  if (!allowed) {
    if (!ops->is_array()) return errc::malformed;
    const std::string_view wanted = operation == KeyOperation::sign ? "sign" : "verify";
    std::set<std::string_view> seen;
    for (const auto& op : *ops) {
      if (!op.is_string()) return errc::malformed;
      const std::string_view name = op.get_ref<const std::string&>();
      if (!seen.insert(name).second) return errc::malformed;
      allowed = allowed || name == wanted;
    }
  }
  if (has_use && use != "sig") return errc::invalid_argument;
  if (!allowed) return errc::invalid_argument;
  return {};
}

TEGATA_INLINE Result<Algorithm> detail::jwk::resolve_algorithm(const nlohmann::json& jwk,
                                                               std::optional<Algorithm> expected) {
  std::string_view name;
  bool has_alg = false;
  if (auto ec = optional_string(jwk, "alg", name, has_alg)) return ec;
  if (!has_alg) {
    if (expected) return *expected;
    return errc::unsupported_algorithm;
  }
  // Exact, case-sensitive; "none" and JWE algorithms are not in the list.
  const std::optional<Algorithm> alg = algorithm_from_string(name);
  if (!alg || (expected && *expected != *alg)) return errc::unsupported_algorithm;
  return *alg;
}

TEGATA_INLINE Result<std::string> detail::jwk::imported_kid(const nlohmann::json& jwk,
                                                            std::string_view kid_text,
                                                            const JwkOptions& options) {
  if (!kid_text.empty() || !options.kid_from_thumbprint) return std::string(kid_text);
  return keys::thumbprint_sha256(jwk);
}

TEGATA_INLINE Result<AnyKey> detail::jwk::import_oct(const nlohmann::json& jwk, Algorithm alg,
                                                     std::string_view kid_text,
                                                     const JwkOptions& options) {
  if (!is_hmac(alg)) return errc::unsupported_algorithm;
  if (kid_text.empty() && options.kid_from_thumbprint) return errc::not_supported;
  scrubbed_bytes secret;
  if (auto ec = decode_member(jwk, "k", secret)) return ec;
  if (secret.size() < hmac_size(alg)) return errc::invalid_argument;
  return AnyKey(HmacKey(alg, secret.view(), std::string(kid_text)));
}

TEGATA_INLINE Result<AnyKey> detail::jwk::import_rsa(const nlohmann::json& jwk, Algorithm alg,
                                                     std::string_view kid_text,
                                                     const JwkOptions& options) {
  if (!is_rsa(alg)) return errc::unsupported_algorithm;
  auto pkey = rsa_from_jwk(jwk, options.operation == KeyOperation::sign);
  if (!pkey) return pkey.error();
  auto id = imported_kid(jwk, kid_text, options);
  if (!id) return id.error();
  return AnyKey(RsaKey(alg, std::move(*pkey), std::move(*id)));
}

TEGATA_INLINE Result<AnyKey> detail::jwk::import_ec(const nlohmann::json& jwk, Algorithm alg,
                                                    std::string_view kid_text,
                                                    const JwkOptions& options) {
  std::string_view crv;
  if (auto ec = required_string(jwk, "crv", crv)) return ec;
  const ec_curve* curve = ec_curve_by_crv(crv);
  if (curve == nullptr) return errc::not_supported;
  if (alg != curve->alg) return errc::unsupported_algorithm;
  auto pkey = ec_from_jwk(jwk, *curve, options.operation == KeyOperation::sign);
  if (!pkey) return pkey.error();
  auto id = imported_kid(jwk, kid_text, options);
  if (!id) return id.error();
  return AnyKey(EcdsaKey(alg, std::move(*pkey), std::move(*id)));
}

TEGATA_INLINE Result<AnyKey> detail::jwk::import_okp(const nlohmann::json& jwk, Algorithm alg,
                                                     std::string_view kid_text,
                                                     const JwkOptions& options) {
  std::string_view crv;
  if (auto ec = required_string(jwk, "crv", crv)) return ec;
  const okp_curve* curve = okp_curve_by_crv(crv);
  if (curve == nullptr) return errc::not_supported;
  if (!is_eddsa(alg) || (alg == Algorithm::Ed25519 && crv != "Ed25519") ||
      (alg == Algorithm::Ed448 && crv != "Ed448")) {
    return errc::unsupported_algorithm;
  }
  auto pkey = okp_from_jwk(jwk, *curve, options.operation == KeyOperation::sign);
  if (!pkey) return pkey.error();
  auto id = imported_kid(jwk, kid_text, options);
  if (!id) return id.error();
  return AnyKey(EddsaKey(alg, std::move(*pkey), std::move(*id)));
}

TEGATA_INLINE Result<AnyKey> detail::jwk::import_key(const nlohmann::json& jwk,
                                                     const JwkOptions& options) {
  if (!jwk.is_object()) return errc::malformed;
  std::string_view kty;
  std::string_view kid_text;
  bool has_kid = false;
  if (auto ec = required_string(jwk, "kty", kty)) return ec;
  if (auto ec = optional_string(jwk, "kid", kid_text, has_kid)) return ec;
  if (auto ec = check_usage(jwk, options.operation)) return ec;
  auto alg = resolve_algorithm(jwk, options.algorithm);
  if (!alg) return alg.error();
  if (kty == "oct") return import_oct(jwk, *alg, kid_text, options);
  if (kty == "RSA") return import_rsa(jwk, *alg, kid_text, options);
  if (kty == "EC") return import_ec(jwk, *alg, kid_text, options);
  if (kty == "OKP") return import_okp(jwk, *alg, kid_text, options);
  return errc::not_supported;
}

TEGATA_INLINE Result<nlohmann::json> detail::jwk::export_key(const AnyKey& key,
                                                             bool include_private) {
  nlohmann::json jwk = nlohmann::json::object();
  if (key.is_symmetric()) {
    // A public form of a shared secret does not exist.
    if (!include_private) return errc::not_supported;
    const std::string_view secret = any_key_access::secret(key);
    if (secret.empty()) return errc::not_supported;  // a foreign HMAC key type
    jwk["kty"] = "oct";
    jwk["k"] = base64url_encode(secret);
  } else {
    const EVP_PKEY* pkey = key.native_handle();
    if (pkey == nullptr) return errc::not_supported;
    if (include_private && !key.can_sign()) return errc::key_cannot_sign;
    auto members = members_from_pkey(pkey, include_private);
    if (!members) return members.error();
    jwk = std::move(*members);
  }
  jwk["alg"] = to_string(key.algorithm());
  if (!key.kid().empty()) jwk["kid"] = key.kid();
  jwk["use"] = "sig";
  return jwk;
}

TEGATA_INLINE Result<AnyKey> keys::import_jwk(const nlohmann::json& jwk,
                                              const JwkOptions& options) noexcept {
  // A key class that refuses the key (e.g. the RSA exponent, the EC subgroup check) throws
  // std::invalid_argument, which the barrier returns as invalid_argument.
  return detail::exception_barrier([&] { return detail::jwk::import_key(jwk, options); });
}

TEGATA_INLINE Result<std::vector<AnyKey>> keys::import_jwks(const nlohmann::json& jwks,
                                                            const JwkOptions& options) noexcept {
  return detail::exception_barrier([&]() -> Result<std::vector<AnyKey>> {
    if (!jwks.is_object()) return errc::malformed;
    const auto list = jwks.find("keys");
    if (list == jwks.end() || !list->is_array()) return errc::malformed;
    if (list->size() > options.max_keys) return errc::too_large;
    std::vector<AnyKey> keys;
    keys.reserve(list->size());
    std::set<std::string, std::less<>> kids;
    for (const auto& entry : *list) {
      auto key = import_jwk(entry, options);
      if (!key) return key.error();
      if (!key->kid().empty() && !kids.emplace(key->kid()).second) return errc::invalid_argument;
      keys.push_back(std::move(*key));
    }
    return keys;
  });
}

TEGATA_INLINE Result<AnyKey> keys::parse_jwk(std::string_view text,
                                             const JwkOptions& options) noexcept {
  return detail::exception_barrier([&]() -> Result<AnyKey> {
    if (text.size() > options.max_text_bytes) return errc::too_large;
    auto object = detail::parse_json_object(text, 16);
    if (!object) return object.error();
    return import_jwk(*object, options);
  });
}

TEGATA_INLINE Result<std::vector<AnyKey>> keys::parse_jwks(std::string_view text,
                                                           const JwkOptions& options) noexcept {
  return detail::exception_barrier([&]() -> Result<std::vector<AnyKey>> {
    if (text.size() > options.max_text_bytes) return errc::too_large;
    auto object = detail::parse_json_object(text, 16);
    if (!object) return object.error();
    return import_jwks(*object, options);
  });
}

TEGATA_INLINE Result<nlohmann::json> keys::public_jwk(const AnyKey& key) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::export_key(key, false); });
}

TEGATA_INLINE Result<nlohmann::json> keys::private_jwk(const AnyKey& key) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::export_key(key, true); });
}

TEGATA_INLINE Result<nlohmann::json> keys::public_jwks(std::span<const AnyKey> keys) noexcept {
  return detail::exception_barrier([&]() -> Result<nlohmann::json> {
    nlohmann::json list = nlohmann::json::array();
    std::set<std::string_view> kids;
    for (const AnyKey& key : keys) {
      if (!key.kid().empty() && !kids.insert(key.kid()).second) return errc::invalid_argument;
      auto jwk = public_jwk(key);
      if (!jwk) return jwk.error();
      list.push_back(std::move(*jwk));
    }
    return nlohmann::json{{"keys", std::move(list)}};
  });
}

TEGATA_INLINE Result<std::string> keys::thumbprint_sha256(const AnyKey& key) noexcept {
  auto jwk = public_jwk(key);
  if (!jwk) return jwk.error();
  return thumbprint_sha256(*jwk);
}

TEGATA_INLINE Result<AnyKey> keys::with_thumbprint_kid(const AnyKey& key) noexcept {
  if (!key.kid().empty()) return key;
  auto thumbprint = thumbprint_sha256(key);
  if (!thumbprint) return thumbprint.error();
  return key.with_kid(std::move(*thumbprint));
}

}  // namespace tegata
