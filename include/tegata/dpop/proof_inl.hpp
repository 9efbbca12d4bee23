// tegata/dpop/proof_inl.hpp - the definitions of tegata/dpop/proof.hpp (tegata/detail/inline.hpp
// says why they are apart).
#pragma once

#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/http_uri.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/dpop/proof.hpp"

namespace tegata::dpop {

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

TEGATA_INLINE ProofVerifier::ProofVerifier(ProofOptions options) : options_(std::move(options)) {
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

TEGATA_INLINE std::optional<std::string> ProofVerifier::nonce(std::chrono::sys_seconds now) const {
  if (!options_.nonces) return std::nullopt;
  return options_.nonces->issue(now);
}

TEGATA_INLINE Result<Proof> ProofVerifier::verify(std::string_view proof,
                                                  const ProofRequest& request,
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

TEGATA_INLINE void ProofVerifier::refuse(const char* what) {
  throw std::invalid_argument(std::string("tegata: ") + what);
}

TEGATA_INLINE Result<tegata::detail::proof_key> ProofVerifier::read_header(
    std::string_view segment) const {
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

TEGATA_INLINE Result<Proof> ProofVerifier::check(std::string_view proof,
                                                 const ProofRequest& request,
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

TEGATA_INLINE Result<Proof> ProofVerifier::read_payload(std::string_view segment,
                                                        const ProofRequest& request,
                                                        std::chrono::sys_seconds now,
                                                        const std::string& jkt) const {
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

}  // namespace tegata::dpop
