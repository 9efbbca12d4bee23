// tegata/algorithms/rsa.hpp - RS256/384/512 (RSASSA-PKCS1-v1_5, RFC 7518 §3.3) and
// PS256/384/512 (RSASSA-PSS, RFC 7518 §3.5) over OpenSSL 3's EVP_DigestSign/EVP_DigestVerify.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/algorithm.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/pkey.hpp"
#include "tegata/detail/rsa_checks.hpp"
#include "tegata/error.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/signer.hpp"

namespace tegata {

namespace detail {

constexpr bool is_rsa_pss(Algorithm alg) noexcept {
  return alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512;
}

// Refuses what RsaKey must not use. The public exponent must lie in FIPS 186-4's range
// (odd, 2^16 < e < 2^256): tiny exponents such as 3 are what turns a lax PKCS#1 v1.5 verifier
// into a forgeable one (Bleichenbacher 2006), and no legitimate JWS key needs them.
evp_pkey_ptr checked_rsa_key(Algorithm alg, evp_pkey_ptr owned);

// Everything an RsaKey needs, built once and never modified.
struct rsa_state {
  Algorithm alg;
  std::string kid;
  evp_signature signature;
  std::size_t modulus_bytes;  // the length of every signature

  rsa_state(Algorithm a, evp_pkey_ptr key, std::string key_id);
};

}  // namespace detail

// An RSA key bound to one RS* or PS* algorithm; a public key verifies only. Copies share the
// same immutable state, so they are cheap and safe to use from many threads at once.
class RsaKey : public detail::single_key_signer<RsaKey> {
 public:
  // Throws std::invalid_argument when alg is not RS*/PS*, key is null or not a plain RSA key,
  // the modulus has fewer than 2048 (or more than 16384) bits, or the public exponent is outside
  // odd 2^16 < e < 2^256.
  RsaKey(Algorithm alg, KeyHandle key, std::string kid = {});

  Algorithm algorithm() const noexcept { return state_->alg; }
  const std::string& kid() const noexcept { return state_->kid; }
  bool can_sign() const noexcept { return state_->signature.can_sign(); }

  // A signature exactly as long as the modulus (left-padded with zeros, as JWS requires).
  // Errors: key_cannot_sign for a public key, crypto_failure if OpenSSL fails.
  Result<std::string> sign_raw(std::string_view data) const;

  // RFC 8017 defines the signature as exactly as long as the modulus; any other length is
  // refused before OpenSSL does any work.
  bool verify_raw(std::string_view data, std::string_view signature) const;

  // The key, for export (JWK, PEM). Shared by every copy: do not modify it.
  EVP_PKEY* native_handle() const noexcept { return state_->signature.key(); }

 private:
  std::shared_ptr<const detail::rsa_state> state_;
};

static_assert(Key<RsaKey>);
static_assert(Signer<RsaKey>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/algorithms/rsa_inl.hpp"
#endif
