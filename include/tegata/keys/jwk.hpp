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
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
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
#include "tegata/detail/inline.hpp"
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
Result<std::string> thumbprint(const nlohmann::json& jwk);

}  // namespace tegata::detail::jwk

namespace tegata::keys {

// The RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded: the hash of its required members
// (RSA: e, kty, n; EC: crv, kty, x, y; OKP: crv, kty, x; oct: k, kty) in lexicographic order,
// without whitespace. Other members, private ones included, do not change it. Errors: malformed
// (not an object, a required member missing, not a string, or holding a character that JSON
// would escape), not_supported (unknown kty), crypto_failure. Never throws.
Result<std::string> thumbprint_sha256(const nlohmann::json& jwk) noexcept;

}  // namespace tegata::keys

namespace tegata::detail::jwk {

using keys::JwkOptions;
using keys::KeyOperation;

// "use" and "key_ops" (RFC 7517 §4.2, §4.3). Unknown key_ops values are allowed, duplicates not.
std::error_code check_usage(const nlohmann::json& jwk, KeyOperation operation);

Result<Algorithm> resolve_algorithm(const nlohmann::json& jwk, std::optional<Algorithm> expected);

// The kid of an imported asymmetric key: the JWK's own, or its thumbprint when the options ask
// for one. Called once the key type's parser has validated the members the thumbprint hashes.
Result<std::string> imported_kid(const nlohmann::json& jwk, std::string_view kid_text,
                                 const JwkOptions& options);

// One importer per key type; alg is the resolved algorithm, kid_text the JWK's "kid" (or empty).
Result<AnyKey> import_oct(const nlohmann::json& jwk, Algorithm alg, std::string_view kid_text,
                          const JwkOptions& options);

Result<AnyKey> import_rsa(const nlohmann::json& jwk, Algorithm alg, std::string_view kid_text,
                          const JwkOptions& options);

Result<AnyKey> import_ec(const nlohmann::json& jwk, Algorithm alg, std::string_view kid_text,
                         const JwkOptions& options);

Result<AnyKey> import_okp(const nlohmann::json& jwk, Algorithm alg, std::string_view kid_text,
                          const JwkOptions& options);

// Everything but the exception barrier of import_jwk.
Result<AnyKey> import_key(const nlohmann::json& jwk, const JwkOptions& options);

Result<nlohmann::json> export_key(const AnyKey& key, bool include_private);

}  // namespace tegata::detail::jwk

namespace tegata::keys {

// Imports one JWK. See the top of this file for the rules and the errors. Never throws.
Result<AnyKey> import_jwk(const nlohmann::json& jwk, const JwkOptions& options = {}) noexcept;

// Imports every key of a JWK Set ({"keys": [...]}) with the same options. All or nothing: one
// key that must be refused (use "enc", weak, malformed, ...) refuses the set, as does a kid
// that appears twice (invalid_argument), so that key selection by kid is never ambiguous.
// Keys without a kid are allowed here (a KeyRing refuses them). Errors: those of import_jwk,
// malformed (no "keys" array), too_large (more than options.max_keys keys). Never throws.
Result<std::vector<AnyKey>> import_jwks(const nlohmann::json& jwks,
                                        const JwkOptions& options = {}) noexcept;

// JSON text to a key: like import_jwk after a strict parse that refuses duplicate member names
// (bad_json, duplicate_member, too_deep), which nlohmann::json::parse would silently resolve.
// Text longer than options.max_text_bytes is too_large, unread.
Result<AnyKey> parse_jwk(std::string_view text, const JwkOptions& options = {}) noexcept;

// JSON text to a key set: import_jwks after the same size check and strict parse as parse_jwk.
Result<std::vector<AnyKey>> parse_jwks(std::string_view text,
                                       const JwkOptions& options = {}) noexcept;

// The public JWK of a key, for publication: key-type members, "alg", "kid" (when the key has
// one) and "use": "sig". Never a private member. An HMAC key has no public form: not_supported,
// as for a foreign key type without an OpenSSL key. Never throws.
Result<nlohmann::json> public_jwk(const AnyKey& key) noexcept;

// The private JWK of a key (d, and for RSA the CRT values when the key has them; k for HMAC),
// for writing key files: never publish it. key_cannot_sign for a public key. The returned JSON
// holds the secret in ordinary memory that nlohmann::json does not wipe. Never throws.
Result<nlohmann::json> private_jwk(const AnyKey& key) noexcept;

// {"keys": [public JWK, ...]} for /.well-known/jwks.json. Errors: those of public_jwk (an HMAC
// key is not_supported rather than silently left out), invalid_argument for a duplicate kid.
Result<nlohmann::json> public_jwks(std::span<const AnyKey> keys) noexcept;

// The RFC 7638 thumbprint of a key's public JWK. not_supported for HMAC keys (see JwkOptions).
Result<std::string> thumbprint_sha256(const AnyKey& key) noexcept;

// The key itself when it has a kid; otherwise the same key with its thumbprint as kid.
Result<AnyKey> with_thumbprint_kid(const AnyKey& key) noexcept;

}  // namespace tegata::keys

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/keys/jwk_inl.hpp"
#endif
