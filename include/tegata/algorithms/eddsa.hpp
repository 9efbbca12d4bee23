// tegata/algorithms/eddsa.hpp - EdDSA with Ed25519 or Ed448 (RFC 8037, RFC 8032) over OpenSSL 3's
// one-shot EVP_DigestSign/EVP_DigestVerify.
//
// RFC 8037's "EdDSA" leaves the curve to the key; RFC 9864 adds "Ed25519" and "Ed448", which name
// it. A key is bound to one of the three at construction, like every key to its algorithm, and a
// token's alg must be that one: a key bound to Ed25519 refuses "EdDSA" tokens and the reverse.
// PureEdDSA hashes the message itself, so no digest is configured, and signatures are
// deterministic.
#pragma once

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
#include "tegata/error.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/signer.hpp"

namespace tegata {

// The two curves RFC 8037 registers for "EdDSA" (the JWK "crv" values of the same names).
enum class EdCurve { Ed25519, Ed448 };

constexpr std::string_view to_string(EdCurve curve) noexcept {
  return curve == EdCurve::Ed25519 ? "Ed25519" : "Ed448";
}

namespace detail {

constexpr std::size_t eddsa_signature_size(EdCurve curve) noexcept {
  return curve == EdCurve::Ed25519 ? 64 : 114;
}

EdCurve eddsa_curve_of(const EVP_PKEY* key);

// A private key must match its public key, so that what this key signs, its published public
// key verifies (a PKCS#8 v2 or JWK private key carries both and they can disagree).
evp_pkey_ptr checked_eddsa_key(evp_pkey_ptr owned);

// The curve of key, which alg must allow: EdDSA either, Ed25519 and Ed448 their own.
EdCurve checked_eddsa_curve(Algorithm alg, const EVP_PKEY* key);

struct eddsa_state {
  std::string kid;
  Algorithm algorithm;
  EdCurve curve;
  evp_signature signature;

  eddsa_state(Algorithm alg, evp_pkey_ptr key, std::string key_id);
};

}  // namespace detail

// An Ed25519 or Ed448 key for "EdDSA", "Ed25519" or "Ed448"; a public key verifies only. Copies
// share the same immutable state, so they are cheap and safe to use from many threads at once.
class EddsaKey : public detail::single_key_signer<EddsaKey> {
 public:
  // A key for "EdDSA". Throws std::invalid_argument when key is null, not Ed25519/Ed448, or a
  // private key that does not match its public key.
  explicit EddsaKey(KeyHandle key, std::string kid = {});

  // A key for alg: EdDSA (either curve), Ed25519 or Ed448 (that curve only). Throws
  // std::invalid_argument as above, and for any other alg or a curve alg does not name.
  EddsaKey(Algorithm alg, KeyHandle key, std::string kid = {});

  Algorithm algorithm() const noexcept { return state_->algorithm; }
  const std::string& kid() const noexcept { return state_->kid; }
  bool can_sign() const noexcept { return state_->signature.can_sign(); }
  EdCurve curve() const noexcept { return state_->curve; }

  // 64 bytes (Ed25519) or 114 bytes (Ed448). Errors: key_cannot_sign for a public key,
  // crypto_failure if OpenSSL fails.
  Result<std::string> sign_raw(std::string_view data) const;

  // A signature of any other length than the curve's is refused; OpenSSL also refuses S >= L
  // (RFC 8032 §5.1.7), so signatures are not malleable.
  bool verify_raw(std::string_view data, std::string_view signature) const;

  // The key, for export (JWK, PEM). Shared by every copy: do not modify it.
  EVP_PKEY* native_handle() const noexcept { return state_->signature.key(); }

 private:
  std::shared_ptr<const detail::eddsa_state> state_;
};

static_assert(Key<EddsaKey>);
static_assert(Signer<EddsaKey>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/algorithms/eddsa_inl.hpp"
#endif
