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
inline int refuse_passphrase(char* /*pass*/, std::size_t /*pass_size*/, std::size_t* /*pass_len*/,
                             const OSSL_PARAM* /*params*/, void* asked) noexcept {
  *static_cast<bool*>(asked) = true;
  return 0;
}

inline Result<evp_pkey_ptr> decode_key(std::string_view bytes, const key_format& format) {
  const openssl_error_scope errors;
  EVP_PKEY* raw = nullptr;
  const int selection = format.is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  const ossl_decoder_ctx_ptr ctx(OSSL_DECODER_CTX_new_for_pkey(
      &raw, format.input_type, format.structure, format.key_type, selection, nullptr, nullptr));
  if (!ctx) return errc::crypto_failure;
  if (OSSL_DECODER_CTX_get_num_decoders(ctx.get()) == 0) return errc::bad_encoding;
  bool passphrase_asked = false;
  if (OSSL_DECODER_CTX_set_passphrase_cb(ctx.get(), refuse_passphrase, &passphrase_asked) != 1) {
    return errc::crypto_failure;
  }
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t remaining = bytes.size();
  const int decoded = OSSL_DECODER_from_data(ctx.get(), &data, &remaining);
  evp_pkey_ptr key(raw);
  if (passphrase_asked) return errc::not_supported;
  // Bytes left over mean the input was more than one key: refused rather than guessed at.
  if (decoded != 1 || !key || remaining != 0) return errc::bad_encoding;
  if (format.is_private && !has_private_key(key.get())) return errc::bad_encoding;
  return key;
}

// PEM labels that hold a key (RFC 7468 §10, §13; RFC 8017 for the PKCS#1 ones; RFC 5915 for EC).
inline std::optional<key_format> pem_key_format(std::string_view label) {
  if (label == "PRIVATE KEY") return key_format{"PEM", "PrivateKeyInfo", nullptr, true};
  if (label == "PUBLIC KEY") return key_format{"PEM", "SubjectPublicKeyInfo", nullptr, false};
  if (label == "RSA PRIVATE KEY") return key_format{"PEM", "type-specific", "RSA", true};
  if (label == "EC PRIVATE KEY") return key_format{"PEM", "type-specific", "EC", true};
  if (label == "RSA PUBLIC KEY") return key_format{"PEM", "type-specific", "RSA", false};
  return std::nullopt;
}

struct pem_key_block {
  std::string_view text;  // from "-----BEGIN" to the end of the "-----END ...-----" line
  key_format format;
};

// Finds the one key block in a PEM text. Other blocks (an "EC PARAMETERS" block that
// `openssl ecparam -genkey` writes first, a certificate) and text between blocks are ignored;
// two key blocks are ambiguous and refused, and so is a block that never ends (truncated).
inline Result<pem_key_block> find_pem_key_block(std::string_view pem) {
  constexpr std::string_view begin_marker = "-----BEGIN ";
  constexpr std::string_view dashes = "-----";
  std::optional<pem_key_block> found;
  std::size_t pos = 0;
  while ((pos = pem.find(begin_marker, pos)) != std::string_view::npos) {
    const std::size_t label_start = pos + begin_marker.size();
    const std::size_t label_end = pem.find(dashes, label_start);
    if (label_end == std::string_view::npos) return errc::bad_encoding;
    const std::string_view label = pem.substr(label_start, label_end - label_start);
    if (label.find_first_of("\r\n") != std::string_view::npos) return errc::bad_encoding;
    const std::string end_marker = "-----END " + std::string(label) + "-----";
    const std::size_t body_start = label_end + dashes.size();
    const std::size_t end = pem.find(end_marker, body_start);
    if (end == std::string_view::npos) return errc::bad_encoding;
    const std::string_view body = pem.substr(body_start, end - body_start);
    // PKCS#8 encryption has its own label; the traditional formats announce encryption in an
    // RFC 1421 "Proc-Type: 4,ENCRYPTED" header, the only use of such headers in key files.
    if (label == "ENCRYPTED PRIVATE KEY" || body.find("Proc-Type:") != std::string_view::npos) {
      return errc::not_supported;
    }
    if (const auto format = pem_key_format(label)) {
      if (found) return errc::bad_encoding;
      found = pem_key_block{pem.substr(pos, end + end_marker.size() - pos), *format};
    }
    pos = end + end_marker.size();
  }
  if (!found) return errc::bad_encoding;
  return *found;
}

inline Result<std::string> encode_key(const EVP_PKEY* key, bool is_private) {
  if (key == nullptr) return errc::invalid_argument;
  if (is_private && !has_private_key(key)) return errc::invalid_argument;
  const openssl_error_scope errors;
  const ossl_encoder_ctx_ptr ctx(OSSL_ENCODER_CTX_new_for_pkey(
      key, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, "PEM",
      is_private ? "PrivateKeyInfo" : "SubjectPublicKeyInfo", nullptr));
  if (!ctx) return errc::crypto_failure;
  if (OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0) return errc::not_supported;
  unsigned char* data = nullptr;
  std::size_t length = 0;
  if (OSSL_ENCODER_to_data(ctx.get(), &data, &length) != 1 || data == nullptr) {
    return errc::crypto_failure;
  }
  std::string pem(reinterpret_cast<const char*>(data), length);
  OPENSSL_clear_free(data, length);  // OpenSSL's copy of a private key is wiped here
  return pem;
}

}  // namespace detail

namespace keys {

// A key from PEM text: "PRIVATE KEY" (PKCS#8), "PUBLIC KEY" (SubjectPublicKeyInfo),
// "RSA PRIVATE KEY", "RSA PUBLIC KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1). The text must hold
// exactly one key block. Never throws on bad input.
// Errors: too_large, bad_encoding (no key block, two key blocks, truncated or corrupt data, a
// private label without a private key), not_supported (an encrypted key), crypto_failure.
inline Result<KeyHandle> parse_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileBytes) return errc::too_large;
  auto block = detail::find_pem_key_block(pem);
  if (!block) return block.error();
  return detail::decode_key(block->text, block->format);
}

// A key from DER: PKCS#8 PrivateKeyInfo, SubjectPublicKeyInfo, or the PKCS#1 RSAPrivateKey /
// RSAPublicKey and SEC 1 ECPrivateKey structures. Every byte must belong to the key.
// Errors: as parse_pem; an EncryptedPrivateKeyInfo is not_supported.
inline Result<KeyHandle> parse_der(std::string_view der) {
  if (der.size() > kMaxKeyFileBytes) return errc::too_large;
  if (der.empty()) return errc::bad_encoding;
  static constexpr std::array<detail::key_format, 6> formats{{
      {"DER", "PrivateKeyInfo", nullptr, true},
      {"DER", "SubjectPublicKeyInfo", nullptr, false},
      {"DER", "type-specific", "RSA", true},
      {"DER", "type-specific", "EC", true},
      {"DER", "type-specific", "RSA", false},
      // Tried last, only to recognise an encrypted key and say so.
      {"DER", "EncryptedPrivateKeyInfo", nullptr, true},
  }};
  for (const auto& format : formats) {
    auto key = detail::decode_key(der, format);
    if (key || key.error() != errc::bad_encoding) return key;
  }
  return errc::bad_encoding;
}

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
inline KeyHandle generate(Algorithm alg, const KeyGenOptions& options = {}) {
  const char* type = nullptr;
  const char* group = nullptr;
  std::size_t bits = 0;
  switch (alg) {
    case Algorithm::RS256:
    case Algorithm::RS384:
    case Algorithm::RS512:
    case Algorithm::PS256:
    case Algorithm::PS384:
    case Algorithm::PS512:
      if (options.rsa_bits < kMinRsaBits || options.rsa_bits > kMaxRsaBits) {
        throw std::invalid_argument("tegata: RSA keys must have 2048 to 16384 bits");
      }
      type = "RSA";
      bits = static_cast<std::size_t>(options.rsa_bits);
      break;
    case Algorithm::ES256:
    case Algorithm::ES384:
    case Algorithm::ES512:
    case Algorithm::ES256K:
      type = "EC";
      group = detail::ecdsa_curve_for(alg).jose_name;  // also OpenSSL's name for the group
      break;
    case Algorithm::EdDSA: type = options.ed_curve == EdCurve::Ed25519 ? "ED25519" : "ED448"; break;
    case Algorithm::Ed25519: type = "ED25519"; break;  // the curve is the algorithm's
    case Algorithm::Ed448: type = "ED448"; break;
    case Algorithm::HS256:
    case Algorithm::HS384:
    case Algorithm::HS512:
      throw std::invalid_argument("tegata: HMAC keys are random secrets, not key pairs");
  }
  const detail::openssl_error_scope errors;
  const detail::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  OSSL_PARAM params[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
  if (bits != 0) params[0] = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
  if (group != nullptr) {
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0);
  }
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    throw std::runtime_error("tegata: OpenSSL could not generate the key");
  }
  return KeyHandle(raw);
}

// A fresh secret for alg (HS256, HS384, HS512): random bytes from OpenSSL's generator, as many
// as the hash has (32, 48 or 64), the shortest secret HmacKey accepts (RFC 7518 §3.2). The
// caller keeps it where secrets belong and wipes it (OPENSSL_cleanse) when done. Throws
// std::invalid_argument for another algorithm, std::runtime_error when OpenSSL has no random
// bytes to give.
inline std::string generate_secret(Algorithm alg) {
  if (!is_hmac(alg)) throw std::invalid_argument("tegata: HMAC secrets are for HS* algorithms");
  std::string secret = detail::random_bytes(detail::hmac_size(alg));
  if (secret.empty()) throw std::runtime_error("tegata: OpenSSL could not produce random bytes");
  return secret;
}

}  // namespace keys
}  // namespace tegata
