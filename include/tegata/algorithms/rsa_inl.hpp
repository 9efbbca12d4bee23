// tegata/algorithms/rsa_inl.hpp - the definitions of tegata/algorithms/rsa.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/algorithms/rsa.hpp"

namespace tegata {

TEGATA_INLINE detail::evp_pkey_ptr detail::checked_rsa_key(Algorithm alg, evp_pkey_ptr owned) {
  if (!is_rsa(alg))
    throw std::invalid_argument("tegata: RsaKey needs RS256..RS512 or PS256..PS512");
  if (!owned) throw std::invalid_argument("tegata: RsaKey was given no key");
  const EVP_PKEY* key = owned.get();
  if (!EVP_PKEY_is_a(key, "RSA")) {
    // id-RSASSA-PSS keys carry their own parameter restrictions; only plain rsaEncryption keys
    // are accepted, for which the algorithm alone fixes every parameter.
    throw std::invalid_argument(EVP_PKEY_is_a(key, "RSA-PSS")
                                    ? "tegata: RSA-PSS-restricted keys are not supported; use an "
                                      "rsaEncryption key"
                                    : "tegata: RsaKey needs an RSA key");
  }
  const int bits = key_bits(key);
  if (bits < kMinRsaBits)
    throw std::invalid_argument("tegata: RSA keys must have at least 2048 bits");
  if (bits > kMaxRsaBits)
    throw std::invalid_argument("tegata: RSA keys above 16384 bits are not supported");
  const openssl_error_scope errors;
  BIGNUM* raw_e = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &raw_e) != 1) {
    throw std::invalid_argument("tegata: the RSA key has no public exponent");
  }
  const bignum_ptr e(raw_e);
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) <= 16 || BN_num_bits(e.get()) > 256) {
    throw std::invalid_argument(
        "tegata: the RSA public exponent must be odd and between 2^16 and 2^256");
  }
  if (has_private_key(key) && !rsa_signs_consistently(owned.get())) {
    throw std::invalid_argument("tegata: the RSA private key does not match its public key");
  }
  return owned;
}

TEGATA_INLINE detail::rsa_state::rsa_state(Algorithm a, evp_pkey_ptr key, std::string key_id)
    : alg(a),
      kid(std::move(key_id)),
      signature(checked_rsa_key(a, std::move(key)), fetch_digest(a), is_rsa_pss(a)),
      modulus_bytes(signature.max_signature_size()) {}

TEGATA_INLINE RsaKey::RsaKey(Algorithm alg, KeyHandle key, std::string kid)
    : state_(std::make_shared<const detail::rsa_state>(alg, std::move(key), std::move(kid))) {}

TEGATA_INLINE Result<std::string> RsaKey::sign_raw(std::string_view data) const {
  if (!can_sign()) return errc::key_cannot_sign;
  std::string out(state_->signature.max_signature_size(), '\0');
  std::size_t length = 0;
  if (!state_->signature.sign(data, reinterpret_cast<unsigned char*>(out.data()), length) ||
      length != state_->modulus_bytes) {
    return errc::crypto_failure;
  }
  out.resize(length);
  return out;
}

TEGATA_INLINE bool RsaKey::verify_raw(std::string_view data, std::string_view signature) const {
  if (signature.size() != state_->modulus_bytes) return false;
  return state_->signature.verify(data, reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size());
}

}  // namespace tegata
