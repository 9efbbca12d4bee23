// tegata/detail/rsa_checks.hpp - what RsaKey (algorithms/rsa.hpp) and the JWK reader
// (detail/jwk_params.hpp) both check about an RSA key: the modulus size bounds and that a private
// key belongs to its public key. Kept below both so that detail/ never includes a public key
// header.
#pragma once

#include <openssl/evp.h>

#include <cstddef>

#include "tegata/detail/inline.hpp"
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
bool rsa_signs_consistently(EVP_PKEY* key);

}  // namespace detail
}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/rsa_checks_inl.hpp"
#endif
