// tegata/algorithms/ecdsa_inl.hpp - the definitions of tegata/algorithms/ecdsa.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/algorithms/ecdsa.hpp"

namespace tegata {

TEGATA_INLINE detail::ecdsa_curve detail::ecdsa_curve_for(Algorithm alg) {
  switch (alg) {
    case Algorithm::ES256: return {NID_X9_62_prime256v1, "P-256", 32};
    case Algorithm::ES384: return {NID_secp384r1, "P-384", 48};
    case Algorithm::ES512: return {NID_secp521r1, "P-521", 66};
    case Algorithm::ES256K: return {NID_secp256k1, "secp256k1", 32};
    default: throw std::invalid_argument("tegata: EcdsaKey needs ES256, ES384, ES512 or ES256K");
  }
}

TEGATA_INLINE std::size_t detail::der_write_integer(const unsigned char* value, std::size_t size,
                                                    unsigned char* out) noexcept {
  while (size > 1 && value[0] == 0) {
    ++value;
    --size;
  }
  const std::size_t pad = (value[0] & 0x80) != 0 ? 1 : 0;
  out[0] = 0x02;
  out[1] = static_cast<unsigned char>(size + pad);
  out[2] = 0;
  std::memcpy(out + 2 + pad, value, size);
  return 2 + pad + size;
}

TEGATA_INLINE std::size_t detail::ecdsa_p1363_to_der(std::string_view rs, std::size_t half,
                                                     unsigned char* out) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(rs.data());
  unsigned char body[kEcdsaMaxDer];
  std::size_t length = der_write_integer(bytes, half, body);
  length += der_write_integer(bytes + half, half, body + length);
  std::size_t header = 0;
  out[header++] = 0x30;
  if (length >= 0x80) out[header++] = 0x81;
  out[header++] = static_cast<unsigned char>(length);
  std::memcpy(out + header, body, length);
  return header + length;
}

TEGATA_INLINE bool detail::der_read_integer(const unsigned char* der, std::size_t size,
                                            std::size_t& pos, std::size_t half,
                                            unsigned char* out) noexcept {
  if (size - pos < 2 || der[pos] != 0x02 || der[pos + 1] == 0 || der[pos + 1] >= 0x80) return false;
  std::size_t length = der[pos + 1];
  pos += 2;
  if (size - pos < length) return false;
  const unsigned char* value = der + pos;
  pos += length;
  if ((value[0] & 0x80) != 0) return false;  // negative
  if (value[0] == 0 && length > 1) {
    if ((value[1] & 0x80) == 0) return false;  // a leading zero that was not needed
    ++value;
    --length;
  }
  if (length > half) return false;
  std::memset(out, 0, half - length);
  std::memcpy(out + half - length, value, length);
  return true;
}

TEGATA_INLINE bool detail::ecdsa_der_to_p1363(const unsigned char* der, std::size_t size,
                                              std::size_t half, unsigned char* out) noexcept {
  if (size < 2 || der[0] != 0x30) return false;
  std::size_t pos = 2;
  std::size_t length = der[1];
  if (length == 0x81) {
    if (size < 3 || der[2] < 0x80) return false;
    length = der[2];
    pos = 3;
  } else if (length >= 0x80) {
    return false;
  }
  if (size - pos != length) return false;
  return der_read_integer(der, size, pos, half, out) &&
         der_read_integer(der, size, pos, half, out + half) && pos == size;
}

TEGATA_INLINE int detail::curve_nid(const EVP_PKEY* key) {
  const std::string name = curve_name(key);
  if (name.empty()) return NID_undef;
  const int nid = OBJ_sn2nid(name.c_str());
  return nid != NID_undef ? nid : EC_curve_nist2nid(name.c_str());
}

TEGATA_INLINE detail::evp_pkey_ptr detail::checked_ecdsa_key(Algorithm alg, evp_pkey_ptr owned) {
  const ecdsa_curve curve = ecdsa_curve_for(alg);
  if (!owned) throw std::invalid_argument("tegata: EcdsaKey was given no key");
  EVP_PKEY* key = owned.get();
  if (!EVP_PKEY_is_a(key, "EC")) throw std::invalid_argument("tegata: EcdsaKey needs an EC key");
  if (curve_nid(key) != curve.nid) {
    throw std::invalid_argument(std::string("tegata: ") + std::string(to_string(alg)) +
                                " needs a key on the curve " + curve.jose_name);
  }
  const openssl_error_scope errors;
  // OpenSSL recognises explicit parameters equal to a named curve as that curve. They are still
  // refused: RFC 5480 §2.1.1 forbids them, JWK cannot express them, and accepting them invites
  // the parameter-substitution attacks of CVE-2020-0601.
  char encoding[32] = {};
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding,
                                     nullptr) != 1 ||
      std::string_view(encoding) != OSSL_PKEY_EC_ENCODING_GROUP) {
    throw std::invalid_argument("tegata: EC keys with explicit curve parameters are not accepted");
  }
  const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx) throw std::runtime_error("tegata: cannot allocate an OpenSSL key context");
  if (EVP_PKEY_public_check(ctx.get()) != 1) {
    throw std::invalid_argument("tegata: the EC public key is not a valid point of its curve");
  }
  if (has_private_key(key) && EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    throw std::invalid_argument("tegata: the EC private key does not match its public key");
  }
  return owned;
}

TEGATA_INLINE detail::ecdsa_state::ecdsa_state(Algorithm a, evp_pkey_ptr key, std::string key_id)
    : alg(a),
      kid(std::move(key_id)),
      half(ecdsa_curve_for(a).half),
      signature(checked_ecdsa_key(a, std::move(key)), fetch_digest(a), false) {
  if (signature.max_signature_size() > kEcdsaMaxDer) {
    throw std::invalid_argument("tegata: unexpected ECDSA signature size");
  }
}

TEGATA_INLINE EcdsaKey::EcdsaKey(Algorithm alg, KeyHandle key, std::string kid)
    : state_(std::make_shared<const detail::ecdsa_state>(alg, std::move(key), std::move(kid))) {}

TEGATA_INLINE Result<std::string> EcdsaKey::sign_raw(std::string_view data) const {
  if (!can_sign()) return errc::key_cannot_sign;
  unsigned char der[detail::kEcdsaMaxDer];
  std::size_t length = 0;
  if (!state_->signature.sign(data, der, length)) return errc::crypto_failure;
  std::string out(2 * state_->half, '\0');
  if (!detail::ecdsa_der_to_p1363(der, length, state_->half,
                                  reinterpret_cast<unsigned char*>(out.data()))) {
    return errc::crypto_failure;
  }
  return out;
}

TEGATA_INLINE bool EcdsaKey::verify_raw(std::string_view data, std::string_view signature) const {
  if (signature.size() != 2 * state_->half) return false;
  unsigned char der[detail::kEcdsaMaxDer];
  const std::size_t length = detail::ecdsa_p1363_to_der(signature, state_->half, der);
  return state_->signature.verify(data, der, length);
}

}  // namespace tegata
