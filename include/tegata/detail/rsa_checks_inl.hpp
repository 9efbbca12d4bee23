// tegata/detail/rsa_checks_inl.hpp - the definitions of tegata/detail/rsa_checks.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/detail/rsa_checks.hpp"

namespace tegata::detail {

TEGATA_INLINE bool rsa_signs_consistently(EVP_PKEY* key) {
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

}  // namespace tegata::detail
