// tegata/detail/openssl.hpp - RAII handles and small helpers over OpenSSL 3.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "tegata/key_handle.hpp"

namespace tegata::detail {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using evp_mac_ptr = std::unique_ptr<EVP_MAC, openssl_deleter<EVP_MAC, EVP_MAC_free>>;
using evp_mac_ctx_ptr =
    std::unique_ptr<EVP_MAC_CTX, openssl_deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using evp_md_ptr = std::unique_ptr<EVP_MD, openssl_deleter<EVP_MD, EVP_MD_free>>;
// The internal name of the public KeyHandle (tegata/key_handle.hpp).
using evp_pkey_ptr = KeyHandle;
using evp_pkey_ctx_ptr =
    std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

// Bytes that hold a secret: wiped with OPENSSL_cleanse before their memory is released.
class secret_bytes {
 public:
  secret_bytes() = default;
  explicit secret_bytes(std::string_view bytes) : bytes_(bytes) {}
  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  ~secret_bytes() { wipe(); }

  std::string_view view() const noexcept { return bytes_; }
  const unsigned char* data() const noexcept {
    return reinterpret_cast<const unsigned char*>(bytes_.data());
  }
  std::size_t size() const noexcept { return bytes_.size(); }

 private:
  void wipe() noexcept {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  }
  std::string bytes_;
};

// Constant-time equality for MACs and other secrets-derived values.
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Cryptographically random bytes from OpenSSL's DRBG; empty on failure (callers check).
inline std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    out.clear();
  return out;
}

}  // namespace tegata::detail
