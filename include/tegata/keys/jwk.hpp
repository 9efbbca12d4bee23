// tegata/keys/jwk.hpp - JSON Web Keys (RFC 7517): import, public and private export, JWK Sets,
// and RFC 7638 thumbprints.
//
// A JWK is often untrusted input (a JWKS fetched from an identity provider), so import never
// throws and refuses anything ambiguous. The caller always states what the key is for:
//  - the operation (verify or sign). A verify import loads the public part only, even from a
//    private JWK, so private material the caller does not need is never held in memory;
//  - the algorithm, unless the JWK names one in "alg"; when both are given they must agree.
//    A JWK that names neither is refused: tegata never guesses an algorithm, because the key's
//    algorithm is what protects verification against algorithm-confusion attacks.
//
// Import errors:
//  too_large              a JWK Set with more than JwkOptions::max_keys keys; JSON text longer
//                         than JwkOptions::max_text_bytes (parse_jwk, parse_jwks)
//  malformed              not a JSON object; kty missing; a member of the wrong JSON type; a
//                         required member missing; key_ops with duplicates; an integer
//                         (n, e, d, p, q, dp, dq, qi) with leading zero octets; a coordinate or
//                         private value of the wrong length; CRT values given only in part
//  bad_encoding           a byte-string member that is not strict, unpadded base64url
//  unsupported_algorithm  "alg" unknown or not the requested algorithm; neither given; an
//                         algorithm the key type or curve cannot serve (HS256 with an RSA key,
//                         ES256 on P-384, ...)
//  not_supported          kty or crv that JOSE signatures do not use (e.g. X25519); multi-prime
//                         RSA ("oth"); kid_from_thumbprint for an "oct" key
//  key_cannot_sign        operation sign, but the JWK has no private part
//  invalid_argument       a key not meant for this use: "use" other than "sig" (e.g. "enc"),
//                         key_ops without the operation; or a weak or broken key: RSA modulus
//                         under 2048 (or over 16384) bits, an exponent outside odd
//                         2^16 < e < 2^256 or above 64 bits, an EC point not on its curve or not
//                         in its subgroup, private values that do not belong to the public key,
//                         an HMAC secret shorter than the hash
//  crypto_failure         OpenSSL failure
//  out_of_memory          memory ran out
// Members that tegata does not act on (x5c, x5t, x5u, ext, ...) are ignored: in particular a
// certificate chain is never used to establish trust in a key.
#pragma once

#include <cstddef>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tegata/algorithm.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/error.hpp"
#include "tegata/keys/any_key.hpp"

namespace tegata::keys {

// What the imported key will be used for (RFC 7517 §4.3 "key_ops" values "sign" and "verify").
enum class KeyOperation { verify, sign };

struct JwkOptions {
  // The algorithm the key will be used with. Required when the JWK has no "alg" member.
  std::optional<Algorithm> algorithm{};
  // verify: the public part is imported and any private member is ignored (an "oct" secret is
  // always imported: it is both). sign: the private part is required.
  KeyOperation operation{KeyOperation::verify};
  // When the JWK has no (or an empty) kid, use its RFC 7638 SHA-256 thumbprint as the kid.
  // Refused (not_supported) for "oct" keys: the thumbprint of a secret is a hash of the secret,
  // and a kid travels in every token header.
  bool kid_from_thumbprint{false};
  // JWK Sets (import_jwks, parse_jwks, KeyRing::from_jwks): a set with more keys is refused
  // (too_large) before any of its keys is looked at. 0 refuses every set that is not empty.
  std::size_t max_keys{64};
  // parse_jwk and parse_jwks: longer text is refused (too_large) before it is parsed. A JWK Set
  // of 64 RSA-4096 public keys is about 50 KiB.
  std::size_t max_text_bytes{std::size_t{1024} * 1024};
};

}  // namespace tegata::keys

namespace tegata::detail::jwk {

// keys::thumbprint_sha256 but for its exception barrier.
inline Result<std::string> thumbprint(const nlohmann::json& jwk) {
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

}  // namespace tegata::detail::jwk

namespace tegata::keys {

// The RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded: the hash of its required members
// (RSA: e, kty, n; EC: crv, kty, x, y; OKP: crv, kty, x; oct: k, kty) in lexicographic order,
// without whitespace. Other members, private ones included, do not change it. Errors: malformed
// (not an object, a required member missing, not a string, or holding a character that JSON
// would escape), not_supported (unknown kty), crypto_failure. Never throws.
inline Result<std::string> thumbprint_sha256(const nlohmann::json& jwk) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::thumbprint(jwk); });
}

}  // namespace tegata::keys

namespace tegata::detail::jwk {

using keys::JwkOptions;
using keys::KeyOperation;

// "use" and "key_ops" (RFC 7517 §4.2, §4.3). Unknown key_ops values are allowed, duplicates not.
inline std::error_code check_usage(const nlohmann::json& jwk, KeyOperation operation) {
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

inline Result<Algorithm> resolve_algorithm(const nlohmann::json& jwk,
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

// The kid of an imported asymmetric key: the JWK's own, or its thumbprint when the options ask
// for one. Called once the key type's parser has validated the members the thumbprint hashes.
inline Result<std::string> imported_kid(const nlohmann::json& jwk, std::string_view kid_text,
                                        const JwkOptions& options) {
  if (!kid_text.empty() || !options.kid_from_thumbprint) return std::string(kid_text);
  return keys::thumbprint_sha256(jwk);
}

// One importer per key type; alg is the resolved algorithm, kid_text the JWK's "kid" (or empty).
inline Result<AnyKey> import_oct(const nlohmann::json& jwk, Algorithm alg,
                                 std::string_view kid_text, const JwkOptions& options) {
  if (!is_hmac(alg)) return errc::unsupported_algorithm;
  if (kid_text.empty() && options.kid_from_thumbprint) return errc::not_supported;
  scrubbed_bytes secret;
  if (auto ec = decode_member(jwk, "k", secret)) return ec;
  if (secret.size() < hmac_size(alg)) return errc::invalid_argument;
  return AnyKey(HmacKey(alg, secret.view(), std::string(kid_text)));
}

inline Result<AnyKey> import_rsa(const nlohmann::json& jwk, Algorithm alg,
                                 std::string_view kid_text, const JwkOptions& options) {
  if (!is_rsa(alg)) return errc::unsupported_algorithm;
  auto pkey = rsa_from_jwk(jwk, options.operation == KeyOperation::sign);
  if (!pkey) return pkey.error();
  auto id = imported_kid(jwk, kid_text, options);
  if (!id) return id.error();
  return AnyKey(RsaKey(alg, std::move(*pkey), std::move(*id)));
}

inline Result<AnyKey> import_ec(const nlohmann::json& jwk, Algorithm alg, std::string_view kid_text,
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

inline Result<AnyKey> import_okp(const nlohmann::json& jwk, Algorithm alg,
                                 std::string_view kid_text, const JwkOptions& options) {
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

// Everything but the exception barrier of import_jwk.
inline Result<AnyKey> import_key(const nlohmann::json& jwk, const JwkOptions& options) {
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

inline Result<nlohmann::json> export_key(const AnyKey& key, bool include_private) {
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

}  // namespace tegata::detail::jwk

namespace tegata::keys {

// Imports one JWK. See the top of this file for the rules and the errors. Never throws.
inline Result<AnyKey> import_jwk(const nlohmann::json& jwk,
                                 const JwkOptions& options = {}) noexcept {
  // A key class that refuses the key (e.g. the RSA exponent, the EC subgroup check) throws
  // std::invalid_argument, which the barrier returns as invalid_argument.
  return detail::exception_barrier([&] { return detail::jwk::import_key(jwk, options); });
}

// Imports every key of a JWK Set ({"keys": [...]}) with the same options. All or nothing: one
// key that must be refused (use "enc", weak, malformed, ...) refuses the set, as does a kid
// that appears twice (invalid_argument), so that key selection by kid is never ambiguous.
// Keys without a kid are allowed here (a KeyRing refuses them). Errors: those of import_jwk,
// malformed (no "keys" array), too_large (more than options.max_keys keys). Never throws.
inline Result<std::vector<AnyKey>> import_jwks(const nlohmann::json& jwks,
                                               const JwkOptions& options = {}) noexcept {
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

// JSON text to a key: like import_jwk after a strict parse that refuses duplicate member names
// (bad_json, duplicate_member, too_deep), which nlohmann::json::parse would silently resolve.
// Text longer than options.max_text_bytes is too_large, unread.
inline Result<AnyKey> parse_jwk(std::string_view text, const JwkOptions& options = {}) noexcept {
  return detail::exception_barrier([&]() -> Result<AnyKey> {
    if (text.size() > options.max_text_bytes) return errc::too_large;
    auto object = detail::parse_json_object(text, 16);
    if (!object) return object.error();
    return import_jwk(*object, options);
  });
}

// JSON text to a key set: import_jwks after the same size check and strict parse as parse_jwk.
inline Result<std::vector<AnyKey>> parse_jwks(std::string_view text,
                                              const JwkOptions& options = {}) noexcept {
  return detail::exception_barrier([&]() -> Result<std::vector<AnyKey>> {
    if (text.size() > options.max_text_bytes) return errc::too_large;
    auto object = detail::parse_json_object(text, 16);
    if (!object) return object.error();
    return import_jwks(*object, options);
  });
}

// The public JWK of a key, for publication: key-type members, "alg", "kid" (when the key has
// one) and "use": "sig". Never a private member. An HMAC key has no public form: not_supported,
// as for a foreign key type without an OpenSSL key. Never throws.
inline Result<nlohmann::json> public_jwk(const AnyKey& key) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::export_key(key, false); });
}

// The private JWK of a key (d, and for RSA the CRT values when the key has them; k for HMAC),
// for writing key files: never publish it. key_cannot_sign for a public key. The returned JSON
// holds the secret in ordinary memory that nlohmann::json does not wipe. Never throws.
inline Result<nlohmann::json> private_jwk(const AnyKey& key) noexcept {
  return detail::exception_barrier([&] { return detail::jwk::export_key(key, true); });
}

// {"keys": [public JWK, ...]} for /.well-known/jwks.json. Errors: those of public_jwk (an HMAC
// key is not_supported rather than silently left out), invalid_argument for a duplicate kid.
inline Result<nlohmann::json> public_jwks(std::span<const AnyKey> keys) noexcept {
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

// The RFC 7638 thumbprint of a key's public JWK. not_supported for HMAC keys (see JwkOptions).
inline Result<std::string> thumbprint_sha256(const AnyKey& key) noexcept {
  auto jwk = public_jwk(key);
  if (!jwk) return jwk.error();
  return thumbprint_sha256(*jwk);
}

// The key itself when it has a kid; otherwise the same key with its thumbprint as kid.
inline Result<AnyKey> with_thumbprint_kid(const AnyKey& key) noexcept {
  if (!key.kid().empty()) return key;
  auto thumbprint = thumbprint_sha256(key);
  if (!thumbprint) return thumbprint.error();
  return key.with_kid(std::move(*thumbprint));
}

}  // namespace tegata::keys
