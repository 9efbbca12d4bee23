// tegata/algorithms/eddsa_inl.hpp - the definitions of tegata/algorithms/eddsa.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/algorithms/eddsa.hpp"

namespace tegata {

TEGATA_INLINE EdCurve detail::eddsa_curve_of(const EVP_PKEY* key) {
  if (key == nullptr) throw std::invalid_argument("tegata: EddsaKey was given no key");
  if (EVP_PKEY_is_a(key, "ED25519")) return EdCurve::Ed25519;
  if (EVP_PKEY_is_a(key, "ED448")) return EdCurve::Ed448;
  throw std::invalid_argument("tegata: EddsaKey needs an Ed25519 or Ed448 key");
}

TEGATA_INLINE detail::evp_pkey_ptr detail::checked_eddsa_key(evp_pkey_ptr owned) {
  eddsa_curve_of(owned.get());
  if (has_private_key(owned.get())) {
    const openssl_error_scope errors;
    const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, owned.get(), nullptr));
    if (!ctx) throw std::runtime_error("tegata: cannot allocate an OpenSSL key context");
    if (EVP_PKEY_pairwise_check(ctx.get()) != 1) {
      throw std::invalid_argument("tegata: the EdDSA private key does not match its public key");
    }
  }
  return owned;
}

TEGATA_INLINE EdCurve detail::checked_eddsa_curve(Algorithm alg, const EVP_PKEY* key) {
  if (!is_eddsa(alg)) throw std::invalid_argument("tegata: EddsaKey needs EdDSA, Ed25519 or Ed448");
  const EdCurve curve = eddsa_curve_of(key);
  if ((alg == Algorithm::Ed25519 && curve != EdCurve::Ed25519) ||
      (alg == Algorithm::Ed448 && curve != EdCurve::Ed448)) {
    throw std::invalid_argument("tegata: the key's curve is not the one the algorithm names");
  }
  return curve;
}

TEGATA_INLINE detail::eddsa_state::eddsa_state(Algorithm alg, evp_pkey_ptr key, std::string key_id)
    : kid(std::move(key_id)),
      algorithm(alg),
      curve(checked_eddsa_curve(alg, key.get())),
      signature(checked_eddsa_key(std::move(key)), evp_md_ptr{}, false) {}

TEGATA_INLINE EddsaKey::EddsaKey(KeyHandle key, std::string kid)
    : EddsaKey(Algorithm::EdDSA, std::move(key), std::move(kid)) {}

TEGATA_INLINE EddsaKey::EddsaKey(Algorithm alg, KeyHandle key, std::string kid)
    : state_(std::make_shared<const detail::eddsa_state>(alg, std::move(key), std::move(kid))) {}

TEGATA_INLINE Result<std::string> EddsaKey::sign_raw(std::string_view data) const {
  if (!can_sign()) return errc::key_cannot_sign;
  const std::size_t expected = detail::eddsa_signature_size(state_->curve);
  std::string out(state_->signature.max_signature_size(), '\0');
  std::size_t length = 0;
  if (!state_->signature.sign(data, reinterpret_cast<unsigned char*>(out.data()), length) ||
      length != expected) {
    return errc::crypto_failure;
  }
  out.resize(length);
  return out;
}

TEGATA_INLINE bool EddsaKey::verify_raw(std::string_view data, std::string_view signature) const {
  if (signature.size() != detail::eddsa_signature_size(state_->curve)) return false;
  return state_->signature.verify(data, reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size());
}

}  // namespace tegata
