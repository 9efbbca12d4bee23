// tegata/keys/pem.hpp - key files: PEM and DER in, PEM out, and fresh key pairs (and HMAC
// secrets) to write out.
//
// Import accepts unencrypted keys only. Encrypted keys are refused with errc::not_supported
// before OpenSSL could ask for a passphrase, and OpenSSL is handed a passphrase callback that
// refuses as well, so nothing ever prompts on a terminal (a server must never block on one).
// Decrypt such a key beforehand, e.g. `openssl pkey -in encrypted.pem -out key.pem`.
//
// The result is a KeyHandle (an owned EVP_PKEY); RsaKey, EcdsaKey and EddsaKey decide whether it
// fits an algorithm.
#pragma once

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/algorithm.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/pkey.hpp"
#include "tegata/error.hpp"
#include "tegata/key_handle.hpp"

namespace tegata {

namespace keys {

// Larger input is refused (errc::too_large) before it is looked at; a PEM RSA-16384 private key
// is about 13 KB.
inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{64} * 1024;

}  // namespace keys

namespace detail {

using ossl_decoder_ctx_ptr =
    std::unique_ptr<OSSL_DECODER_CTX, openssl_deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;
using ossl_encoder_ctx_ptr =
    std::unique_ptr<OSSL_ENCODER_CTX, openssl_deleter<OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free>>;

// One way a key can be encoded, as OSSL_DECODER names it.
struct key_format {
  const char* input_type;  // "PEM" or "DER"
  const char* structure;   // "PrivateKeyInfo", "SubjectPublicKeyInfo", "type-specific", ...
  const char* key_type;    // nullptr for any
  bool is_private;
};

// Called by OpenSSL when the input turns out to be encrypted: notes that, and refuses.
int refuse_passphrase(char* /*pass*/, std::size_t /*pass_size*/, std::size_t* /*pass_len*/,
                      const OSSL_PARAM* /*params*/, void* asked) noexcept;

Result<evp_pkey_ptr> decode_key(std::string_view bytes, const key_format& format);

// PEM labels that hold a key (RFC 7468 §10, §13; RFC 8017 for the PKCS#1 ones; RFC 5915 for EC).
std::optional<key_format> pem_key_format(std::string_view label);

struct pem_key_block {
  std::string_view text;  // from "-----BEGIN" to the end of the "-----END ...-----" line
  key_format format;
};

// Finds the one key block in a PEM text. Other blocks (an "EC PARAMETERS" block that
// `openssl ecparam -genkey` writes first, a certificate) and text between blocks are ignored;
// two key blocks are ambiguous and refused, and so is a block that never ends (truncated).
Result<pem_key_block> find_pem_key_block(std::string_view pem);

Result<std::string> encode_key(const EVP_PKEY* key, bool is_private);

}  // namespace detail

namespace keys {

// A key from PEM text: "PRIVATE KEY" (PKCS#8), "PUBLIC KEY" (SubjectPublicKeyInfo),
// "RSA PRIVATE KEY", "RSA PUBLIC KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1). The text must hold
// exactly one key block. Never throws on bad input.
// Errors: too_large, bad_encoding (no key block, two key blocks, truncated or corrupt data, a
// private label without a private key), not_supported (an encrypted key), crypto_failure.
Result<KeyHandle> parse_pem(std::string_view pem);

// A key from DER: PKCS#8 PrivateKeyInfo, SubjectPublicKeyInfo, or the PKCS#1 RSAPrivateKey /
// RSAPublicKey and SEC 1 ECPrivateKey structures. Every byte must belong to the key.
// Errors: as parse_pem; an EncryptedPrivateKeyInfo is not_supported.
Result<KeyHandle> parse_der(std::string_view der);

// PKCS#8 "PRIVATE KEY" PEM, unencrypted. The returned string holds the secret: the caller
// writes it where it belongs (with restrictive permissions) and wipes it.
// Errors: invalid_argument (null key or no private part), not_supported, crypto_failure.
inline Result<std::string> to_pem_private(EVP_PKEY* key) { return detail::encode_key(key, true); }

// SubjectPublicKeyInfo "PUBLIC KEY" PEM. Errors: invalid_argument (null key), not_supported,
// crypto_failure.
inline Result<std::string> to_pem_public(EVP_PKEY* key) { return detail::encode_key(key, false); }

// What generate() makes beyond what the algorithm fixes.
struct KeyGenOptions {
  int rsa_bits{2048};                  // RS*/PS*: 2048 to 16384, public exponent 65537
  EdCurve ed_curve{EdCurve::Ed25519};  // EdDSA (Ed25519 and Ed448 name their curve)
};

// A fresh key pair for alg: RSA for RS*/PS*, the algorithm's curve for ES*, Ed25519 (or Ed448)
// for EdDSA, the named curve for Ed25519 and Ed448. HMAC secrets are not key pairs: see
// generate_secret.
// Throws std::invalid_argument for HS* or rsa_bits outside 2048..16384, std::runtime_error when
// OpenSSL fails.
KeyHandle generate(Algorithm alg, const KeyGenOptions& options = {});

// A fresh secret for alg (HS256, HS384, HS512): random bytes from OpenSSL's generator, as many
// as the hash has (32, 48 or 64), the shortest secret HmacKey accepts (RFC 7518 §3.2). The
// caller keeps it where secrets belong and wipes it (OPENSSL_cleanse) when done. Throws
// std::invalid_argument for another algorithm, std::runtime_error when OpenSSL has no random
// bytes to give.
std::string generate_secret(Algorithm alg);

}  // namespace keys
}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/keys/pem_inl.hpp"
#endif
