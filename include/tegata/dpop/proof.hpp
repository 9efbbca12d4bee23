// tegata/dpop/proof.hpp - DPoP proofs (RFC 9449): a JWT the client signs for each request with a
// key it holds, which proves that whoever sends a token also holds the key the token is bound to.
//
// ProofVerifier::verify runs every check of RFC 9449 §4.3 that needs no state, in one place, and
// never throws: the proof's size; a compact JWS; the header's typ "dpop+jwt", an asymmetric alg
// from the configured list, a public jwk (a private member is refused) of the key type and curve
// that alg names; the signature by that key; jti, htm, htu and iat in the payload; htm equal to
// the request's method; htu equal to the request's URI without query and fragment (both in the
// normal form of RFC 3986 §6, see detail/http_uri.hpp); iat within iat_window of now; and ath,
// the hash of the access token, when one is presented. What needs state is the caller's: that
// the jti was not seen before (a replay cache) and that the nonce, if any, is one it issued.
//
// Every refusal is errc::dpop_invalid (a client cannot do anything differently for one reason
// than for another; the reason would only help an attacker probe), except a missing or stale
// nonce when nonces are required (use_dpop_nonce: the client can retry) and out_of_memory.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tegata/algorithm.hpp"
#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/proof_key_cache.hpp"
#include "tegata/dpop/nonce.hpp"
#include "tegata/error.hpp"
#include "tegata/keys/jwk.hpp"

namespace tegata::dpop {

// The typ of a DPoP proof (RFC 9449 §4.2), compared exactly.
inline constexpr std::string_view kProofType = "dpop+jwt";

struct ProofOptions {
  // The algorithms a proof may be signed with: asymmetric ones only (HS* and none never).
  // Ed25519 is RFC 9864's name for EdDSA on Ed25519, which clients such as npm's dpop write.
  std::vector<Algorithm> algorithms{Algorithm::ES256, Algorithm::EdDSA, Algorithm::Ed25519,
                                    Algorithm::RS256, Algorithm::PS256};
  // How far iat may lie from now, either side: a proof is made for one request, right before it.
  std::chrono::seconds iat_window{60};
  // The whole proof, checked before anything is decoded. An RSA-4096 proof is about 2 KiB.
  std::size_t max_proof_bytes{4096};
  // The largest RSA modulus a proof's key may have: verifying costs grow with it, and a client
  // chooses its key.
  int max_rsa_bits{4096};
  // When set, a proof must carry a nonce these issued (RFC 9449 §8), else use_dpop_nonce: the
  // server answers with ProofVerifier::nonce(now) in a DPoP-Nonce header and the client retries.
  std::optional<NonceIssuer> nonces{};
};

// The request a proof must have been made for.
struct ProofRequest {
  std::string_view method;  // the HTTP method, e.g. "POST": compared exactly
  std::string_view uri;     // the absolute URI the request was sent to (query and fragment ignored)
  // The access token sent with the request (Authorization: DPoP <token>), whose hash the proof
  // must carry in ath; empty when the request carries none (a login, a refresh).
  std::string_view access_token{};
};

// What a verified proof says.
struct Proof {
  std::string jkt;  // the RFC 7638 SHA-256 thumbprint of the proof's key, base64url
  std::string jti;  // the proof's unique id: the caller refuses one it has seen (replay)
  std::chrono::sys_seconds issued_at;
  std::optional<std::string> nonce;  // the server-provided nonce the proof carries, if any
};

// The longest jti accepted: a replay cache keeps every jti for the iat window, so its size is
// bounded here (a 256-bit random id is 43 base64url characters).
inline constexpr std::size_t kMaxProofIdBytes = 128;

class ProofVerifier {
 public:
  // Throws std::invalid_argument for a configuration that could not verify safely: no
  // algorithm, an HMAC algorithm (a proof's key is public), an iat_window outside 1 s..10 min,
  // a max_proof_bytes under 256 or over 64 KiB, or a max_rsa_bits outside 2048..16384.
  explicit ProofVerifier(ProofOptions options = {});

  const ProofOptions& options() const noexcept { return options_; }

  // The nonce to send in a DPoP-Nonce header at time now; nullopt when nonces are not required.
  std::optional<std::string> nonce(std::chrono::sys_seconds now) const;

  // The proof, verified for this request at time now. Errors: dpop_invalid, use_dpop_nonce (only
  // when ProofOptions::nonces is set, and only for a proof that passed every other check),
  // out_of_memory.
  Result<Proof> verify(std::string_view proof, const ProofRequest& request,
                       std::chrono::sys_seconds now) const noexcept;

 private:
  [[noreturn]] static void refuse(const char* what);

  bool allows(Algorithm alg) const noexcept {
    return std::find(options_.algorithms.begin(), options_.algorithms.end(), alg) !=
           options_.algorithms.end();
  }

  // The longest RSA "n" member max_rsa_bits allows (JWK integers have no leading zero octets).
  std::size_t max_modulus_chars() const noexcept {
    return (static_cast<std::size_t>(options_.max_rsa_bits) / 8 * 4 + 2) / 3;
  }

  // The header's typ, alg and crit, and the key its jwk holds: dpop_invalid unless the header is
  // {"typ":"dpop+jwt", "alg": an allowed asymmetric alg, "jwk": a public key of that alg}.
  Result<tegata::detail::proof_key> read_header(std::string_view segment) const;

  Result<Proof> check(std::string_view proof, const ProofRequest& request,
                      std::chrono::sys_seconds now) const;

  // The payload's claims, checked against the request: jti, htm, htu, iat, ath and the nonce.
  Result<Proof> read_payload(std::string_view segment, const ProofRequest& request,
                             std::chrono::sys_seconds now, const std::string& jkt) const;

  ProofOptions options_;
};

}  // namespace tegata::dpop

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/dpop/proof_inl.hpp"
#endif
