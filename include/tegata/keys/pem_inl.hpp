// tegata/keys/pem_inl.hpp - the definitions of tegata/keys/pem.hpp (tegata/detail/inline.hpp says
// why they are apart).
#pragma once

#include "tegata/keys/pem.hpp"

namespace tegata {

TEGATA_INLINE int detail::refuse_passphrase(char* /*pass*/, std::size_t /*pass_size*/,
                                            std::size_t* /*pass_len*/, const OSSL_PARAM* /*params*/,
                                            void* asked) noexcept {
  *static_cast<bool*>(asked) = true;
  return 0;
}

TEGATA_INLINE Result<detail::evp_pkey_ptr> detail::decode_key(std::string_view bytes,
                                                              const key_format& format) {
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

TEGATA_INLINE std::optional<detail::key_format> detail::pem_key_format(std::string_view label) {
  if (label == "PRIVATE KEY") return key_format{"PEM", "PrivateKeyInfo", nullptr, true};
  if (label == "PUBLIC KEY") return key_format{"PEM", "SubjectPublicKeyInfo", nullptr, false};
  if (label == "RSA PRIVATE KEY") return key_format{"PEM", "type-specific", "RSA", true};
  if (label == "EC PRIVATE KEY") return key_format{"PEM", "type-specific", "EC", true};
  if (label == "RSA PUBLIC KEY") return key_format{"PEM", "type-specific", "RSA", false};
  return std::nullopt;
}

TEGATA_INLINE Result<detail::pem_key_block> detail::find_pem_key_block(std::string_view pem) {
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

TEGATA_INLINE Result<std::string> detail::encode_key(const EVP_PKEY* key, bool is_private) {
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

TEGATA_INLINE Result<KeyHandle> keys::parse_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileBytes) return errc::too_large;
  auto block = detail::find_pem_key_block(pem);
  if (!block) return block.error();
  return detail::decode_key(block->text, block->format);
}

TEGATA_INLINE Result<KeyHandle> keys::parse_der(std::string_view der) {
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

TEGATA_INLINE KeyHandle keys::generate(Algorithm alg, const KeyGenOptions& options) {
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

TEGATA_INLINE std::string keys::generate_secret(Algorithm alg) {
  if (!is_hmac(alg)) throw std::invalid_argument("tegata: HMAC secrets are for HS* algorithms");
  std::string secret = detail::random_bytes(detail::hmac_size(alg));
  if (secret.empty()) throw std::runtime_error("tegata: OpenSSL could not produce random bytes");
  return secret;
}

}  // namespace tegata
