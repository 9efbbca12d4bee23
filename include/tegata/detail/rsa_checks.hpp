// tegata/detail/rsa_checks.hpp - what RsaKey (algorithms/rsa.hpp) and the JWK reader
// (detail/jwk_params.hpp) both check about an RSA key: the modulus size bounds and that a private
// key belongs to its public key. Kept below both so that detail/ never includes a public key
// header.
#pragma once

#include <openssl/evp.h>

#include <cstddef>

#include "tegata/detail/openssl.hpp"
#include "tegata/detail/pkey.hpp"

namespace tegata {

// RFC 7518 §3.3 requires at least 2048 bits. Above 16384 bits OpenSSL refuses to operate.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;

namespace detail {

// Signs a fixed message and verifies the result with the same key: proves that the private part
// (with or without CRT values) belongs to the public key. A key that fails would sign tokens its
// own public key never verifies.
inline bool rsa_signs_consistently(EVP_PKEY* key) {
  const openssl_error_scope errors;
  static constexpr unsigned char message[] = "tegata RSA private key consistency check";
  unsigned char signature[kMaxRsaBits / 8];
  std::size_t length = sizeof signature;
  const evp_md_ctx_ptr sign(EVP_MD_CTX_new());
  const evp_md_ctx_ptr verify(EVP_MD_CTX_new());
  if (!sign || !verify) return false;
  if (EVP_DigestSignInit_ex(sign.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(sign.get(), signature, &length, message, sizeof message) != 1) {
    return false;
  }
  return EVP_DigestVerifyInit_ex(verify.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) ==
             1 &&
         EVP_DigestVerify(verify.get(), signature, length, message, sizeof message) == 1;
}

}  // namespace detail
}  // namespace tegata
