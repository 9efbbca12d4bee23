// tegata/detail/jwk_params_inl.hpp - the definitions of tegata/detail/jwk_params.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/detail/jwk_params.hpp"

namespace tegata::detail::jwk {

TEGATA_INLINE const ec_curve* ec_curve_by_crv(std::string_view crv) noexcept {
  for (const auto& c : kEcCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

TEGATA_INLINE const ec_curve* ec_curve_by_group(std::string_view group) noexcept {
  for (const auto& c : kEcCurves) {
    if (c.group == group) return &c;
  }
  return nullptr;
}

TEGATA_INLINE const okp_curve* okp_curve_by_crv(std::string_view crv) noexcept {
  for (const auto& c : kOkpCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

TEGATA_INLINE std::error_code required_string(const json& object, const char* name,
                                              std::string_view& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return errc::malformed;
  out = it->get_ref<const std::string&>();
  return {};
}

TEGATA_INLINE std::error_code optional_string(const json& object, const char* name,
                                              std::string_view& out, bool& present) {
  present = false;
  const auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) return errc::malformed;
  out = it->get_ref<const std::string&>();
  present = true;
  return {};
}

TEGATA_INLINE std::error_code decode_member(const json& object, const char* name,
                                            std::string& out) {
  std::string_view text;
  if (auto ec = required_string(object, name, text)) return ec;
  const std::size_t size = base64url_decoded_size(text.size());
  if (size == static_cast<std::size_t>(-1)) return errc::bad_encoding;
  out.resize(size);
  if (!base64url_decode_into(text, out.data())) return errc::bad_encoding;
  return {};
}

TEGATA_INLINE std::error_code decode_member(const json& object, const char* name,
                                            scrubbed_bytes& out) {
  return decode_member(object, name, out.buffer());
}

TEGATA_INLINE std::size_t uint_bits(std::string_view minimal) noexcept {
  if (minimal.empty()) return 0;
  std::size_t bits = (minimal.size() - 1) * 8;
  for (auto top = static_cast<unsigned char>(minimal.front()); top != 0; top >>= 1) ++bits;
  return bits;
}

TEGATA_INLINE Result<evp_pkey_ptr> pkey_from_params(const char* type, int selection,
                                                    OSSL_PARAM* params) {
  const openssl_error_scope errors;
  const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return errc::crypto_failure;
  EVP_PKEY* raw = nullptr;
  // OpenSSL refuses inconsistent values here, e.g. an EC point that is not on its curve.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) != 1) return errc::invalid_argument;
  return evp_pkey_ptr(raw);
}

TEGATA_INLINE Result<evp_pkey_ptr> pkey_from_builder(const char* type, int selection,
                                                     OSSL_PARAM_BLD* builder) {
  const param_array_ptr params(OSSL_PARAM_BLD_to_param(builder));
  if (!params) return errc::crypto_failure;
  return pkey_from_params(type, selection, params.get());
}

TEGATA_INLINE std::error_code rsa_public_members(const json& jwk, std::string& n, std::string& e) {
  if (auto ec = decode_member(jwk, "n", n)) return ec;
  if (auto ec = decode_member(jwk, "e", e)) return ec;
  if (!is_minimal_uint(n) || !is_minimal_uint(e)) return errc::malformed;
  // Checked before any arithmetic so that a hostile JWKS cannot make verification slow.
  const std::size_t bits = uint_bits(n);
  if (bits < static_cast<std::size_t>(kMinRsaBits) ||
      bits > static_cast<std::size_t>(kMaxRsaBits)) {
    return errc::invalid_argument;
  }
  if (e.size() > 8) return errc::invalid_argument;
  return {};
}

TEGATA_INLINE std::error_code push_rsa_secret(const json& jwk, const char* member,
                                              const char* param, OSSL_PARAM_BLD* builder,
                                              secret_bignum_ptr& slot) {
  scrubbed_bytes bytes;
  if (auto ec = decode_member(jwk, member, bytes)) return ec;
  if (!is_minimal_uint(bytes.view())) return errc::malformed;
  slot.reset(BN_secure_new());
  if (!slot || BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), slot.get()) == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder, param, slot.get()) != 1) {
    return errc::crypto_failure;
  }
  return {};
}

TEGATA_INLINE std::error_code push_rsa_private(const json& jwk, OSSL_PARAM_BLD* builder,
                                               secret_bignum_ptr (&secrets)[6], bool& has_crt) {
  if (jwk.contains("oth")) return errc::not_supported;
  if (!jwk.contains("d")) return errc::key_cannot_sign;
  // RFC 7518 §6.3.2: the CRT values are optional, but all or none of them.
  static constexpr const char* crt_members[] = {"p", "q", "dp", "dq", "qi"};
  static constexpr const char* crt_params[] = {
      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::size_t crt_count = 0;
  for (const char* name : crt_members) {
    if (jwk.contains(name)) ++crt_count;
  }
  if (crt_count != 0 && crt_count != 5) return errc::malformed;
  has_crt = crt_count == 5;

  if (auto ec = push_rsa_secret(jwk, "d", OSSL_PKEY_PARAM_RSA_D, builder, secrets[0])) return ec;
  for (std::size_t i = 0; i < crt_count; ++i) {
    if (auto ec = push_rsa_secret(jwk, crt_members[i], crt_params[i], builder, secrets[i + 1])) {
      return ec;
    }
  }
  return {};
}

TEGATA_INLINE bool rsa_private_matches_public(EVP_PKEY* key, bool has_crt) {
  if (!has_crt) return rsa_signs_consistently(key);
  const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_pairwise_check(ctx.get()) == 1;
}

TEGATA_INLINE Result<evp_pkey_ptr> rsa_from_jwk(const json& jwk, bool with_private) {
  const openssl_error_scope errors;
  std::string n;
  std::string e;
  if (auto ec = rsa_public_members(jwk, n, e)) return ec;

  const param_builder_ptr builder(OSSL_PARAM_BLD_new());
  if (!builder) return errc::crypto_failure;
  const secret_bignum_ptr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                                         static_cast<int>(n.size()), nullptr));
  const secret_bignum_ptr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                                         static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return errc::crypto_failure;
  }
  if (!with_private) return pkey_from_builder("RSA", EVP_PKEY_PUBLIC_KEY, builder.get());

  secret_bignum_ptr secrets[6];
  bool has_crt = false;
  if (auto ec = push_rsa_private(jwk, builder.get(), secrets, has_crt)) return ec;
  auto key = pkey_from_builder("RSA", EVP_PKEY_KEYPAIR, builder.get());
  if (!key) return key;
  if (!rsa_private_matches_public(key->get(), has_crt)) return errc::invalid_argument;
  return key;
}

TEGATA_INLINE Result<evp_pkey_ptr> ec_from_jwk(const json& jwk, const ec_curve& curve,
                                               bool with_private) {
  const openssl_error_scope errors;
  std::string x;
  std::string y;
  if (auto ec = decode_member(jwk, "x", x)) return ec;
  if (auto ec = decode_member(jwk, "y", y)) return ec;
  // RFC 7518 §6.2.1.2/3: each coordinate is exactly the field size, leading zeros included.
  if (x.size() != curve.size || y.size() != curve.size) return errc::malformed;
  std::string point;
  point.reserve(1 + 2 * curve.size);
  point.push_back('\x04');  // SEC 1 uncompressed point: 04 || X || Y
  point += x;
  point += y;

  const param_builder_ptr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return errc::crypto_failure;
  }
  if (!with_private) return pkey_from_builder("EC", EVP_PKEY_PUBLIC_KEY, builder.get());

  if (!jwk.contains("d")) return errc::key_cannot_sign;
  scrubbed_bytes d;
  if (auto ec = decode_member(jwk, "d", d)) return ec;
  // RFC 7518 §6.2.2.1: d is ceil(log2(order) / 8) octets, the same as the field size here.
  if (d.size() != curve.size) return errc::malformed;
  const secret_bignum_ptr bn_d(BN_secure_new());
  if (!bn_d || BN_bin2bn(d.data(), static_cast<int>(d.size()), bn_d.get()) == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn_d.get()) != 1) {
    return errc::crypto_failure;
  }
  return pkey_from_builder("EC", EVP_PKEY_KEYPAIR, builder.get());
}

TEGATA_INLINE Result<evp_pkey_ptr> okp_from_jwk(const json& jwk, const okp_curve& curve,
                                                bool with_private) {
  std::string x;
  if (auto ec = decode_member(jwk, "x", x)) return ec;
  if (x.size() != curve.size) return errc::malformed;
  OSSL_PARAM params[3] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x.data(), x.size()),
      OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
  if (!with_private) return pkey_from_params(curve.type, EVP_PKEY_PUBLIC_KEY, params);

  if (!jwk.contains("d")) return errc::key_cannot_sign;
  scrubbed_bytes d;
  if (auto ec = decode_member(jwk, "d", d)) return ec;
  if (d.size() != curve.size) return errc::malformed;
  // Pointing into d, which wipes itself; OpenSSL copies the value into the key.
  params[1] =
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, d.buffer().data(), d.size());
  return pkey_from_params(curve.type, EVP_PKEY_KEYPAIR, params);
}

TEGATA_INLINE bool append_bignum(json& jwk, const char* member, const EVP_PKEY* key,
                                 const char* param, std::size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return false;
  const secret_bignum_ptr value(raw);
  const auto minimal = static_cast<std::size_t>(BN_num_bytes(value.get()));
  if (width == 0) width = minimal == 0 ? 1 : minimal;
  if (minimal > width) return false;
  scrubbed_bytes bytes;
  bytes.buffer().resize(width);
  if (BN_bn2binpad(value.get(), reinterpret_cast<unsigned char*>(bytes.buffer().data()),
                   static_cast<int>(width)) < 0) {
    return false;
  }
  jwk[member] = base64url_encode(bytes.view());
  return true;
}

TEGATA_INLINE std::error_code rsa_members(json& jwk, const EVP_PKEY* key, bool include_private) {
  jwk["kty"] = "RSA";
  if (!append_bignum(jwk, "n", key, OSSL_PKEY_PARAM_RSA_N) ||
      !append_bignum(jwk, "e", key, OSSL_PKEY_PARAM_RSA_E)) {
    return errc::crypto_failure;
  }
  if (!include_private) return {};
  if (!append_bignum(jwk, "d", key, OSSL_PKEY_PARAM_RSA_D)) return errc::key_cannot_sign;
  json crt = json::object();
  if (append_bignum(crt, "p", key, OSSL_PKEY_PARAM_RSA_FACTOR1) &&
      append_bignum(crt, "q", key, OSSL_PKEY_PARAM_RSA_FACTOR2) &&
      append_bignum(crt, "dp", key, OSSL_PKEY_PARAM_RSA_EXPONENT1) &&
      append_bignum(crt, "dq", key, OSSL_PKEY_PARAM_RSA_EXPONENT2) &&
      append_bignum(crt, "qi", key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)) {
    jwk.update(crt);
  }
  return {};
}

TEGATA_INLINE std::error_code ec_members(json& jwk, const EVP_PKEY* key, bool include_private) {
  const ec_curve* curve = ec_curve_by_group(curve_name(key));
  if (curve == nullptr) return errc::not_supported;
  jwk["kty"] = "EC";
  jwk["crv"] = curve->crv;
  if (!append_bignum(jwk, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, curve->size) ||
      !append_bignum(jwk, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, curve->size)) {
    return errc::crypto_failure;
  }
  if (include_private && !append_bignum(jwk, "d", key, OSSL_PKEY_PARAM_PRIV_KEY, curve->size)) {
    return errc::key_cannot_sign;
  }
  return {};
}

TEGATA_INLINE std::error_code okp_members(json& jwk, const EVP_PKEY* key, const okp_curve& curve,
                                          bool include_private) {
  jwk["kty"] = "OKP";
  jwk["crv"] = curve.crv;
  scrubbed_bytes bytes;
  bytes.buffer().resize(curve.size);
  std::size_t length = curve.size;
  auto* out = reinterpret_cast<unsigned char*>(bytes.buffer().data());
  if (EVP_PKEY_get_raw_public_key(key, out, &length) != 1 || length != curve.size) {
    return errc::crypto_failure;
  }
  jwk["x"] = base64url_encode(bytes.view());
  if (!include_private) return {};
  length = curve.size;
  if (EVP_PKEY_get_raw_private_key(key, out, &length) != 1 || length != curve.size) {
    return errc::key_cannot_sign;
  }
  jwk["d"] = base64url_encode(bytes.view());
  return {};
}

TEGATA_INLINE Result<json> members_from_pkey(const EVP_PKEY* key, bool include_private) {
  const openssl_error_scope errors;
  json jwk = json::object();
  std::error_code ec = errc::not_supported;
  if (EVP_PKEY_is_a(key, "RSA")) {
    ec = rsa_members(jwk, key, include_private);
  } else if (EVP_PKEY_is_a(key, "EC")) {
    ec = ec_members(jwk, key, include_private);
  } else {
    for (const auto& curve : kOkpCurves) {
      if (EVP_PKEY_is_a(key, curve.type)) {
        ec = okp_members(jwk, key, curve, include_private);
        break;
      }
    }
  }
  if (ec) return ec;
  return jwk;
}

TEGATA_INLINE Result<std::string> sha256(std::string_view data) {
  const openssl_error_scope errors;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return errc::crypto_failure;
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace tegata::detail::jwk
