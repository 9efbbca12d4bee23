// tegata/detail/pkey_inl.hpp - the definitions of tegata/detail/pkey.hpp (tegata/detail/inline.hpp
// says why they are apart).
#pragma once

#include "tegata/detail/pkey.hpp"

namespace tegata::detail {

TEGATA_INLINE bool has_private_key(const EVP_PKEY* key) noexcept {
  if (key == nullptr) return false;
  const openssl_error_scope errors;
  OSSL_PARAM query[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
    query[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_D, nullptr, 0);
  } else if (EVP_PKEY_is_a(key, "EC")) {
    query[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, nullptr, 0);
  } else if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    query[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, nullptr, 0);
  } else {
    return false;
  }
  return EVP_PKEY_get_params(key, query) == 1 && OSSL_PARAM_modified(&query[0]) != 0 &&
         query[0].return_size > 0;
}

TEGATA_INLINE std::string curve_name(const EVP_PKEY* key) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC")) return {};
  const openssl_error_scope errors;
  char name[80] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &length) != 1) return {};
  return std::string(name, length);
}

TEGATA_INLINE evp_md_ptr fetch_digest(Algorithm alg) {
  const char* name = digest_name(alg);
  if (name == nullptr) return {};
  const openssl_error_scope errors;
  evp_md_ptr md(EVP_MD_fetch(nullptr, name, nullptr));
  if (!md) throw std::runtime_error("tegata: OpenSSL provides no implementation of the digest");
  return md;
}

}  // namespace tegata::detail
