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
#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/http_uri.hpp"
#include "tegata/detail/json.hpp"
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

namespace detail {

// The private members of a JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). A proof's jwk is
// sent with every request: one carrying a private key means a broken client, never a proof.
inline bool has_private_member(const nlohmann::json& jwk) {
  for (const char* name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(name)) return true;
  }
  return false;
}

inline const std::string* string_member(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

struct proof_parts {
  std::string_view header, payload, signing_input, signature;
};

inline std::optional<proof_parts> split(std::string_view proof) {
  const std::size_t dot1 = proof.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  const std::size_t dot2 = proof.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || proof.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  proof_parts parts{proof.substr(0, dot1), proof.substr(dot1 + 1, dot2 - dot1 - 1),
                    proof.substr(0, dot2), proof.substr(dot2 + 1)};
  if (parts.header.empty() || parts.payload.empty() || parts.signature.empty()) {
    return std::nullopt;
  }
  return parts;
}

// A segment decoded and read as one JSON object, or nullopt.
inline std::optional<nlohmann::json> read_segment(std::string_view segment) {
  auto text = base64url_decode(segment);
  if (!text) return std::nullopt;
  auto object = tegata::detail::parse_json_object(*text, 4);
  if (!object) return std::nullopt;
  return std::move(*object);
}

}  // namespace detail

class ProofVerifier {
 public:
  // Throws std::invalid_argument for a configuration that could not verify safely: no
  // algorithm, an HMAC algorithm (a proof's key is public), an iat_window outside 1 s..10 min,
  // a max_proof_bytes under 256 or over 64 KiB, or a max_rsa_bits outside 2048..16384.
  explicit ProofVerifier(ProofOptions options = {}) : options_(std::move(options)) {
    if (options_.algorithms.empty()) refuse("ProofOptions::algorithms is empty");
    for (const Algorithm alg : options_.algorithms) {
      if (is_hmac(alg)) refuse("ProofOptions::algorithms names an HMAC algorithm");
    }
    if (options_.iat_window < std::chrono::seconds{1} ||
        options_.iat_window > std::chrono::minutes{10}) {
      refuse("ProofOptions::iat_window must be 1 s..10 min");
    }
    if (options_.max_proof_bytes < 256 || options_.max_proof_bytes > 65536) {
      refuse("ProofOptions::max_proof_bytes must be 256..65536");
    }
    if (options_.max_rsa_bits < 2048 || options_.max_rsa_bits > 16384) {
      refuse("ProofOptions::max_rsa_bits must be 2048..16384");
    }
  }

  const ProofOptions& options() const noexcept { return options_; }

  // The nonce to send in a DPoP-Nonce header at time now; nullopt when nonces are not required.
  std::optional<std::string> nonce(std::chrono::sys_seconds now) const {
    if (!options_.nonces) return std::nullopt;
    return options_.nonces->issue(now);
  }

  // The proof, verified for this request at time now. Errors: dpop_invalid, use_dpop_nonce (only
  // when ProofOptions::nonces is set, and only for a proof that passed every other check),
  // out_of_memory.
  Result<Proof> verify(std::string_view proof, const ProofRequest& request,
                       std::chrono::sys_seconds now) const noexcept {
    return tegata::detail::exception_barrier([&]() -> Result<Proof> {
      auto verified = check(proof, request, now);
      // The barrier's other translations (a key class refusing the jwk) are refusals too.
      if (!verified && verified.error() != errc::out_of_memory &&
          verified.error() != errc::use_dpop_nonce) {
        return errc::dpop_invalid;
      }
      return verified;
    });
  }

 private:
  [[noreturn]] static void refuse(const char* what) {
    throw std::invalid_argument(std::string("tegata: ") + what);
  }

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
  Result<tegata::detail::proof_key> read_header(std::string_view segment) const {
    constexpr errc invalid = errc::dpop_invalid;
    const auto header = detail::read_segment(segment);
    if (!header || header->contains("crit")) return invalid;
    const std::string* typ = detail::string_member(*header, "typ");
    const std::string* alg_name = detail::string_member(*header, "alg");
    if (typ == nullptr || *typ != kProofType || alg_name == nullptr) return invalid;
    const std::optional<Algorithm> alg = algorithm_from_string(*alg_name);
    // Checked before the key is built, so that no disallowed or oversized key costs its import.
    if (!alg || is_hmac(*alg) || !allows(*alg)) return invalid;
    const auto jwk = header->find("jwk");
    if (jwk == header->end() || !jwk->is_object() || detail::has_private_member(*jwk)) {
      return invalid;
    }
    std::size_t modulus_chars = 0;
    if (is_rsa(*alg)) {
      const std::string* n = detail::string_member(*jwk, "n");
      if (n == nullptr || n->size() > max_modulus_chars()) return invalid;
      modulus_chars = n->size();
    }
    // The key must be of the type and curve alg names: import_jwk refuses any other, and a jwk
    // "alg" that differs from the header's.
    auto key = keys::import_jwk(
        *jwk, keys::JwkOptions{.algorithm = *alg, .operation = keys::KeyOperation::verify});
    if (!key) return key.error() == errc::out_of_memory ? key.error() : invalid;
    auto jkt = keys::thumbprint_sha256(*jwk);
    if (!jkt) return jkt.error() == errc::out_of_memory ? jkt.error() : invalid;
    return tegata::detail::proof_key{*alg, *key, std::move(*jkt), modulus_chars};
  }

  Result<Proof> check(std::string_view proof, const ProofRequest& request,
                      std::chrono::sys_seconds now) const {
    constexpr errc invalid = errc::dpop_invalid;
    if (proof.size() > options_.max_proof_bytes) return invalid;
    const auto parts = detail::split(proof);
    if (!parts) return invalid;

    // The header, from this thread's cache when its bytes were seen before (then this verifier's
    // options are checked again: the cache holds what other verifiers accepted too).
    tegata::detail::proof_key_cache* cache = tegata::detail::proof_key_cache::local();
    const tegata::detail::proof_key* header = cache ? cache->find(parts->header) : nullptr;
    std::optional<tegata::detail::proof_key> fresh;
    if (header == nullptr) {
      auto read = read_header(parts->header);
      if (!read) return read.error();
      fresh.emplace(std::move(*read));
      if (cache) cache->remember(parts->header, *fresh);
      header = &*fresh;
    } else if (!allows(header->algorithm) || header->modulus_chars > max_modulus_chars()) {
      return invalid;
    }
    auto signature = base64url_decode(parts->signature);
    if (!signature) return invalid;
    if (!header->key.verify_raw(parts->signing_input, *signature)) return invalid;

    // The payload, read only now that the signature holds.
    return read_payload(parts->payload, request, now, header->jkt);
  }

  // The payload's claims, checked against the request: jti, htm, htu, iat, ath and the nonce.
  Result<Proof> read_payload(std::string_view segment, const ProofRequest& request,
                             std::chrono::sys_seconds now, const std::string& jkt) const {
    constexpr errc invalid = errc::dpop_invalid;
    const auto payload = detail::read_segment(segment);
    if (!payload) return invalid;
    const std::string* jti = detail::string_member(*payload, "jti");
    const std::string* htm = detail::string_member(*payload, "htm");
    const std::string* htu = detail::string_member(*payload, "htu");
    const auto iat_member = payload->find("iat");
    if (jti == nullptr || jti->empty() || jti->size() > kMaxProofIdBytes || htm == nullptr ||
        htu == nullptr || iat_member == payload->end()) {
      return invalid;
    }
    const auto iat = parse_numeric_date(*iat_member);
    if (!iat) return invalid;
    if (*iat > now + options_.iat_window || *iat < now - options_.iat_window) return invalid;
    if (*htm != request.method) return invalid;
    const auto expected_uri = tegata::detail::normalize_http_uri(request.uri);
    const auto proof_uri = tegata::detail::normalize_http_uri(*htu);
    if (!expected_uri || !proof_uri || *expected_uri != *proof_uri) return invalid;
    if (!request.access_token.empty()) {
      const std::string* ath = detail::string_member(*payload, "ath");
      auto digest = tegata::detail::jwk::sha256(request.access_token);
      if (!digest) return digest.error();
      if (ath == nullptr || *ath != base64url_encode(*digest)) return invalid;
    }
    std::optional<std::string> nonce;
    if (const auto it = payload->find("nonce"); it != payload->end()) {
      if (!it->is_string()) return invalid;
      nonce = it->get<std::string>();
    }
    if (options_.nonces && (!nonce || !options_.nonces->accepts(*nonce, now))) {
      return errc::use_dpop_nonce;
    }
    return Proof{jkt, *jti, *iat, std::move(nonce)};
  }

  ProofOptions options_;
};

}  // namespace tegata::dpop
