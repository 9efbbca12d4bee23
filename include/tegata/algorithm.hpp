// tegata/algorithm.hpp - the JWS algorithms tegata implements (RFC 7518, RFC 8037, RFC 8812,
// RFC 9864).
#pragma once

#include <optional>
#include <string_view>

namespace tegata {

// "none" is deliberately absent: tegata never produces or accepts unsigned tokens.
enum class Algorithm {
  HS256,
  HS384,
  HS512,  // HMAC with SHA-2
  RS256,
  RS384,
  RS512,  // RSASSA-PKCS1-v1_5
  PS256,
  PS384,
  PS512,  // RSASSA-PSS, salt length = hash length, MGF1 with the same hash
  ES256,
  ES384,
  ES512,    // ECDSA P-256/P-384/P-521, fixed-width R||S signatures
  ES256K,   // ECDSA secp256k1 (RFC 8812)
  EdDSA,    // Ed25519 or Ed448, the curve comes from the key (RFC 8037)
  Ed25519,  // EdDSA on Ed25519 only (RFC 9864's fully-specified name)
  Ed448,    // EdDSA on Ed448 only (RFC 9864)
};

// The registered "alg" header value.
constexpr std::string_view to_string(Algorithm alg) noexcept {
  switch (alg) {
    case Algorithm::HS256: return "HS256";
    case Algorithm::HS384: return "HS384";
    case Algorithm::HS512: return "HS512";
    case Algorithm::RS256: return "RS256";
    case Algorithm::RS384: return "RS384";
    case Algorithm::RS512: return "RS512";
    case Algorithm::PS256: return "PS256";
    case Algorithm::PS384: return "PS384";
    case Algorithm::PS512: return "PS512";
    case Algorithm::ES256: return "ES256";
    case Algorithm::ES384: return "ES384";
    case Algorithm::ES512: return "ES512";
    case Algorithm::ES256K: return "ES256K";
    case Algorithm::EdDSA: return "EdDSA";
    case Algorithm::Ed25519: return "Ed25519";
    case Algorithm::Ed448: return "Ed448";
  }
  return "";
}

// Exact, case-sensitive match of an "alg" value (RFC 7515 §4.1.1 values are case-sensitive).
constexpr std::optional<Algorithm> algorithm_from_string(std::string_view name) noexcept {
  constexpr Algorithm all[] = {
      Algorithm::HS256,  Algorithm::HS384, Algorithm::HS512,   Algorithm::RS256,
      Algorithm::RS384,  Algorithm::RS512, Algorithm::PS256,   Algorithm::PS384,
      Algorithm::PS512,  Algorithm::ES256, Algorithm::ES384,   Algorithm::ES512,
      Algorithm::ES256K, Algorithm::EdDSA, Algorithm::Ed25519, Algorithm::Ed448};
  for (Algorithm a : all) {
    if (to_string(a) == name) return a;
  }
  return std::nullopt;
}

// The algorithm families, one per key class.

// HS256, HS384, HS512: HmacKey.
constexpr bool is_hmac(Algorithm alg) noexcept {
  return alg == Algorithm::HS256 || alg == Algorithm::HS384 || alg == Algorithm::HS512;
}

// RS256, RS384, RS512, PS256, PS384, PS512: RsaKey.
constexpr bool is_rsa(Algorithm alg) noexcept {
  return alg == Algorithm::RS256 || alg == Algorithm::RS384 || alg == Algorithm::RS512 ||
         alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512;
}

// ES256, ES384, ES512, ES256K: EcdsaKey.
constexpr bool is_ecdsa(Algorithm alg) noexcept {
  return alg == Algorithm::ES256 || alg == Algorithm::ES384 || alg == Algorithm::ES512 ||
         alg == Algorithm::ES256K;
}

// EdDSA (either curve), Ed25519, Ed448: EddsaKey.
constexpr bool is_eddsa(Algorithm alg) noexcept {
  return alg == Algorithm::EdDSA || alg == Algorithm::Ed25519 || alg == Algorithm::Ed448;
}

}  // namespace tegata
