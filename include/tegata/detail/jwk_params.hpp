// tegata/detail/jwk_params.hpp - JWK members to OpenSSL keys and back (RFC 7517, RFC 7518 §6,
// RFC 8037 §2, RFC 8812 §3), for tegata/keys/jwk.hpp.
//
// Reading is strict because a JWK may come from an untrusted JWKS endpoint: every member is
// type-checked before use, every byte string must be strict base64url, integers (Base64urlUInt)
// must use the minimum number of octets and coordinates exactly the curve's length, so each key
// has one spelling (which also keeps RFC 7638 thumbprints stable). Nothing here throws on bad
// input: every failure is an errc, and OpenSSL's error queue is left as it was found.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>

#include "tegata/algorithm.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/pkey.hpp"
#include "tegata/detail/rsa_checks.hpp"
#include "tegata/error.hpp"

namespace tegata::detail::jwk {

using json = nlohmann::json;

// BN_clear_free: some of these numbers are private exponents and primes.
using secret_bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_clear_free>>;
using param_builder_ptr =
    std::unique_ptr<OSSL_PARAM_BLD, openssl_deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
// OSSL_PARAM_free wipes the secure-memory block where a builder puts BN_secure_new numbers.
using param_array_ptr = std::unique_ptr<OSSL_PARAM, openssl_deleter<OSSL_PARAM, OSSL_PARAM_free>>;

// A buffer for private key bytes: wiped before release. It is neither copied nor moved, so no
// stray copy of the secret is left in freed memory.
class scrubbed_bytes {
 public:
  scrubbed_bytes() = default;
  scrubbed_bytes(const scrubbed_bytes&) = delete;
  scrubbed_bytes& operator=(const scrubbed_bytes&) = delete;
  ~scrubbed_bytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  std::string& buffer() noexcept { return bytes_; }
  std::string_view view() const noexcept { return bytes_; }
  const unsigned char* data() const noexcept {
    return reinterpret_cast<const unsigned char*>(bytes_.data());
  }
  std::size_t size() const noexcept { return bytes_.size(); }

 private:
  std::string bytes_;
};

// --- The curves (RFC 7518 §6.2.1.1, RFC 8812 §3.1, RFC 8037 §2) -------------------------------

struct ec_curve {
  std::string_view crv;  // the JWK name
  const char* group;     // OpenSSL's name
  Algorithm alg;         // the one JWS algorithm defined over the curve
  std::size_t size;      // bytes of x, of y and of d
};

inline constexpr ec_curve kEcCurves[] = {
    {"P-256", "prime256v1", Algorithm::ES256, 32},
    {"P-384", "secp384r1", Algorithm::ES384, 48},
    {"P-521", "secp521r1", Algorithm::ES512, 66},
    {"secp256k1", "secp256k1", Algorithm::ES256K, 32},
};

struct okp_curve {
  std::string_view crv;  // the JWK name
  const char* type;      // OpenSSL's key type
  std::size_t size;      // bytes of x and of d
};

inline constexpr okp_curve kOkpCurves[] = {{"Ed25519", "ED25519", 32}, {"Ed448", "ED448", 57}};

inline const ec_curve* ec_curve_by_crv(std::string_view crv) noexcept {
  for (const auto& c : kEcCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

inline const ec_curve* ec_curve_by_group(std::string_view group) noexcept {
  for (const auto& c : kEcCurves) {
    if (c.group == group) return &c;
  }
  return nullptr;
}

inline const okp_curve* okp_curve_by_crv(std::string_view crv) noexcept {
  for (const auto& c : kOkpCurves) {
    if (c.crv == crv) return &c;
  }
  return nullptr;
}

// --- Reading members -----------------------------------------------------------------------------

// A required string member. Missing or not a string: malformed.
inline std::error_code required_string(const json& object, const char* name,
                                       std::string_view& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return errc::malformed;
  out = it->get_ref<const std::string&>();
  return {};
}

// An optional string member: present tells whether it was there. Not a string: malformed.
inline std::error_code optional_string(const json& object, const char* name, std::string_view& out,
                                       bool& present) {
  present = false;
  const auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) return errc::malformed;
  out = it->get_ref<const std::string&>();
  present = true;
  return {};
}

// Decodes a required base64url member into out. Errors: malformed (missing, not a string),
// bad_encoding (not strict unpadded base64url).
inline std::error_code decode_member(const json& object, const char* name, std::string& out) {
  std::string_view text;
  if (auto ec = required_string(object, name, text)) return ec;
  const std::size_t size = base64url_decoded_size(text.size());
  if (size == static_cast<std::size_t>(-1)) return errc::bad_encoding;
  out.resize(size);
  if (!base64url_decode_into(text, out.data())) return errc::bad_encoding;
  return {};
}

inline std::error_code decode_member(const json& object, const char* name, scrubbed_bytes& out) {
  return decode_member(object, name, out.buffer());
}

// Base64urlUInt (RFC 7518 §2): big-endian, at least one octet, no leading zero octet. Zero
// would be "AA", but no RSA parameter may be zero, so it is refused with the rest.
inline bool is_minimal_uint(std::string_view bytes) noexcept {
  return !bytes.empty() && bytes.front() != '\0';
}

inline std::size_t uint_bits(std::string_view minimal) noexcept {
  if (minimal.empty()) return 0;
  std::size_t bits = (minimal.size() - 1) * 8;
  for (auto top = static_cast<unsigned char>(minimal.front()); top != 0; top >>= 1) ++bits;
  return bits;
}

// --- Building OpenSSL keys -----------------------------------------------------------------------

inline Result<evp_pkey_ptr> pkey_from_params(const char* type, int selection, OSSL_PARAM* params) {
  const openssl_error_scope errors;
  const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return errc::crypto_failure;
  EVP_PKEY* raw = nullptr;
  // OpenSSL refuses inconsistent values here, e.g. an EC point that is not on its curve.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params) != 1) return errc::invalid_argument;
  return evp_pkey_ptr(raw);
}

inline Result<evp_pkey_ptr> pkey_from_builder(const char* type, int selection,
                                              OSSL_PARAM_BLD* builder) {
  const param_array_ptr params(OSSL_PARAM_BLD_to_param(builder));
  if (!params) return errc::crypto_failure;
  return pkey_from_params(type, selection, params.get());
}

// n and e of an RSA JWK, decoded and checked. Errors: malformed (missing or non-minimal),
// bad_encoding, invalid_argument (modulus outside 2048..16384 bits, exponent above 64 bits).
inline std::error_code rsa_public_members(const json& jwk, std::string& n, std::string& e) {
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

// Decodes the private number member of jwk into slot, a fresh BN_secure_new number, and pushes it
// to builder as param. Errors: malformed, bad_encoding, crypto_failure.
inline std::error_code push_rsa_secret(const json& jwk, const char* member, const char* param,
                                       OSSL_PARAM_BLD* builder, secret_bignum_ptr& slot) {
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

// The private members of an RSA JWK: d, then the CRT values when present, pushed to builder.
// The builder keeps pointers to the numbers until OSSL_PARAM_BLD_to_param, so they are held in
// secrets (d, p, q, dp, dq, qi) by the caller; BN_secure_new makes the builder place them in
// the wiped secure block. has_crt tells whether the CRT values were there. Errors: not_supported
// ("oth"), key_cannot_sign (no "d"), malformed (CRT values given only in part), bad_encoding,
// crypto_failure.
inline std::error_code push_rsa_private(const json& jwk, OSSL_PARAM_BLD* builder,
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

// Whether an RSA private key belongs to its public key: one that does not would sign tokens
// nobody can verify. With CRT values OpenSSL checks everything (primes, n = pq, d, CRT values);
// without, a signature made with d must verify with (n, e).
inline bool rsa_private_matches_public(EVP_PKEY* key, bool has_crt) {
  if (!has_crt) return rsa_signs_consistently(key);
  const evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_pairwise_check(ctx.get()) == 1;
}

// The RSA key of a JWK: n and e, and with_private also d and the CRT values when present.
// Errors: malformed (missing or non-minimal members, CRT values given only in part),
// bad_encoding, not_supported ("oth": multi-prime keys), key_cannot_sign (with_private but no
// "d"), invalid_argument (modulus outside 2048..16384 bits, exponent above 64 bits, private
// values that do not belong to the public key), crypto_failure.
inline Result<evp_pkey_ptr> rsa_from_jwk(const json& jwk, bool with_private) {
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

// The EC key of a JWK on the given curve. Errors: malformed (missing members, wrong lengths),
// bad_encoding, key_cannot_sign (with_private but no "d"), invalid_argument (the point is not
// on the curve; OpenSSL refuses it), crypto_failure. The subgroup check and the match between
// d and the point are EcdsaKey's.
inline Result<evp_pkey_ptr> ec_from_jwk(const json& jwk, const ec_curve& curve, bool with_private) {
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

// The Ed25519/Ed448 key of a JWK. Errors: malformed (missing members, wrong lengths),
// bad_encoding, key_cannot_sign (with_private but no "d"), invalid_argument, crypto_failure.
// The match between d and x is EddsaKey's check.
inline Result<evp_pkey_ptr> okp_from_jwk(const json& jwk, const okp_curve& curve,
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

// --- Writing members -----------------------------------------------------------------------------

// The number's big-endian bytes: minimal, or left-padded to width when width is not 0.
// Written straight into a wiped buffer, then encoded.
inline bool append_bignum(json& jwk, const char* member, const EVP_PKEY* key, const char* param,
                          std::size_t width = 0) {
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

// The members of an RSA key: kty, n, e; with include_private also d, and the CRT values when
// the key has all of them. Errors: key_cannot_sign (no private part), crypto_failure.
inline std::error_code rsa_members(json& jwk, const EVP_PKEY* key, bool include_private) {
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

// The members of an EC key on one of kEcCurves: kty, crv, x, y; with include_private also d.
// Errors: not_supported (another curve), key_cannot_sign, crypto_failure.
inline std::error_code ec_members(json& jwk, const EVP_PKEY* key, bool include_private) {
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

// The members of an Ed25519/Ed448 key: kty, crv, x; with include_private also d. The raw key
// bytes pass through a wiped buffer. Errors: key_cannot_sign, crypto_failure.
inline std::error_code okp_members(json& jwk, const EVP_PKEY* key, const okp_curve& curve,
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

// The key-material members of a JWK for key: kty, and crv/x/y, n/e or crv/x; with
// include_private also d, and for RSA the CRT values when the key has them.
// Errors: not_supported (a key type or curve JOSE has no JWK form for), key_cannot_sign
// (include_private for a public key), crypto_failure.
inline Result<json> members_from_pkey(const EVP_PKEY* key, bool include_private) {
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

// SHA-256 of data (RFC 7638 thumbprints).
inline Result<std::string> sha256(std::string_view data) {
  const openssl_error_scope errors;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return errc::crypto_failure;
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace tegata::detail::jwk
