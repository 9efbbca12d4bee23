// tegata/key_handle.hpp - KeyHandle, the owning handle of an OpenSSL key (EVP_PKEY) that the key
// classes take and that keys::parse_pem, keys::parse_der and keys::generate return.
//
// It depends on nothing of tegata's, so every algorithm header can include it.
#pragma once

#include <openssl/evp.h>

#include <memory>

namespace tegata {

// Frees an OpenSSL key with EVP_PKEY_free, which releases one reference to it.
struct KeyHandleDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

// An owning pointer to an OpenSSL key: one reference, released when the handle is destroyed.
// RsaKey, EcdsaKey and EddsaKey take it by value and keep the key, which they never modify.
// To hand over a key that you keep using yourself, give the handle a reference of its own:
// after EVP_PKEY_up_ref(key) returned 1, KeyHandle(key) owns the new reference.
using KeyHandle = std::unique_ptr<EVP_PKEY, KeyHandleDeleter>;

}  // namespace tegata
