// tegata/algorithms/ecdsa.hpp - ES256, ES384, ES512 (RFC 7518 §3.4) and ES256K (RFC 8812)
// over OpenSSL 3's EVP_DigestSign/EVP_DigestVerify.
//
// JWS carries an ECDSA signature as R||S, each integer left-padded to the curve's byte length;
// OpenSSL speaks DER. The conversion is done here, in both directions, on the stack: the
// signature is at most a few hundred bytes, so no heap allocation and no BIGNUM are needed.
// A DER signature presented in a token is never accepted, because verification only ever sees
// the fixed-width form and converts it itself.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/algorithm.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/pkey.hpp"
#include "tegata/error.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/signer.hpp"

namespace tegata {

namespace detail {

// The curve each algorithm is defined over and the byte length of R and S on it.
struct ecdsa_curve {
  int nid;
  const char* jose_name;  // for messages: the "crv" name
  std::size_t half;
};

ecdsa_curve ecdsa_curve_for(Algorithm alg);

// The largest half (P-521) and the largest DER encoding of two such integers: each INTEGER has
// a 2-byte header and may need a leading zero; the SEQUENCE header takes 3 bytes once its
// content reaches 128 bytes.
inline constexpr std::size_t kEcdsaMaxHalf = 66;
inline constexpr std::size_t kEcdsaMaxDer = 3 + 2 * (2 + kEcdsaMaxHalf + 1);

// Writes the unsigned big-endian value as a minimal, positive DER INTEGER; returns its size.
std::size_t der_write_integer(const unsigned char* value, std::size_t size,
                              unsigned char* out) noexcept;

// R||S (2 * half bytes) to DER ECDSA-Sig-Value; out holds kEcdsaMaxDer bytes. r = 0 or s = 0
// encode as INTEGER 0, and values at or above the group order are left for OpenSSL to refuse.
std::size_t ecdsa_p1363_to_der(std::string_view rs, std::size_t half, unsigned char* out) noexcept;

// Reads one DER INTEGER at der[pos] into half bytes at out, right-aligned. Strict: the value must
// be positive and minimally encoded, and fit in half bytes.
bool der_read_integer(const unsigned char* der, std::size_t size, std::size_t& pos,
                      std::size_t half, unsigned char* out) noexcept;

// DER ECDSA-Sig-Value (as OpenSSL produces it) to R||S of 2 * half bytes.
bool ecdsa_der_to_p1363(const unsigned char* der, std::size_t size, std::size_t half,
                        unsigned char* out) noexcept;

int curve_nid(const EVP_PKEY* key);

// Refuses what EcdsaKey must not use: another key type, another curve, explicit curve
// parameters, and a public point that fails OpenSSL's full check (on the curve, in the
// subgroup). A private key must also match its public point, so that what this key signs, its
// published public key verifies.
evp_pkey_ptr checked_ecdsa_key(Algorithm alg, evp_pkey_ptr owned);

struct ecdsa_state {
  Algorithm alg;
  std::string kid;
  std::size_t half;  // byte length of R and of S
  evp_signature signature;

  ecdsa_state(Algorithm a, evp_pkey_ptr key, std::string key_id);
};

}  // namespace detail

// An EC key bound to one ES* algorithm; a public key verifies only. Copies share the same
// immutable state, so they are cheap and safe to use from many threads at once.
class EcdsaKey : public detail::single_key_signer<EcdsaKey> {
 public:
  // Throws std::invalid_argument when alg is not ES256/ES384/ES512/ES256K, key is null or not an
  // EC key, its curve is not the algorithm's (P-256, P-384, P-521, secp256k1), its public point
  // is invalid, or its private key does not match its public point.
  EcdsaKey(Algorithm alg, KeyHandle key, std::string kid = {});

  Algorithm algorithm() const noexcept { return state_->alg; }
  const std::string& kid() const noexcept { return state_->kid; }
  bool can_sign() const noexcept { return state_->signature.can_sign(); }

  // R||S, 64, 96, 132 or 64 bytes. ECDSA is randomised: signing twice gives different bytes.
  // Errors: key_cannot_sign for a public key, crypto_failure if OpenSSL fails.
  Result<std::string> sign_raw(std::string_view data) const;

  // Only the fixed-width R||S form of exactly 2 * half bytes is considered.
  bool verify_raw(std::string_view data, std::string_view signature) const;

  // The key, for export (JWK, PEM). Shared by every copy: do not modify it.
  EVP_PKEY* native_handle() const noexcept { return state_->signature.key(); }

 private:
  std::shared_ptr<const detail::ecdsa_state> state_;
};

static_assert(Key<EcdsaKey>);
static_assert(Signer<EcdsaKey>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/algorithms/ecdsa_inl.hpp"
#endif
