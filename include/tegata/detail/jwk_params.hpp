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
#include "tegata/detail/inline.hpp"
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

const ec_curve* ec_curve_by_crv(std::string_view crv) noexcept;

const ec_curve* ec_curve_by_group(std::string_view group) noexcept;

const okp_curve* okp_curve_by_crv(std::string_view crv) noexcept;

// --- Reading members -----------------------------------------------------------------------------

// A required string member. Missing or not a string: malformed.
std::error_code required_string(const json& object, const char* name, std::string_view& out);

// An optional string member: present tells whether it was there. Not a string: malformed.
std::error_code optional_string(const json& object, const char* name, std::string_view& out,
                                bool& present);

// Decodes a required base64url member into out. Errors: malformed (missing, not a string),
// bad_encoding (not strict unpadded base64url).
std::error_code decode_member(const json& object, const char* name, std::string& out);

std::error_code decode_member(const json& object, const char* name, scrubbed_bytes& out);

// Base64urlUInt (RFC 7518 §2): big-endian, at least one octet, no leading zero octet. Zero
// would be "AA", but no RSA parameter may be zero, so it is refused with the rest.
inline bool is_minimal_uint(std::string_view bytes) noexcept {
  return !bytes.empty() && bytes.front() != '\0';
}

std::size_t uint_bits(std::string_view minimal) noexcept;

// --- Building OpenSSL keys -----------------------------------------------------------------------

Result<evp_pkey_ptr> pkey_from_params(const char* type, int selection, OSSL_PARAM* params);

Result<evp_pkey_ptr> pkey_from_builder(const char* type, int selection, OSSL_PARAM_BLD* builder);

// n and e of an RSA JWK, decoded and checked. Errors: malformed (missing or non-minimal),
// bad_encoding, invalid_argument (modulus outside 2048..16384 bits, exponent above 64 bits).
std::error_code rsa_public_members(const json& jwk, std::string& n, std::string& e);

// Decodes the private number member of jwk into slot, a fresh BN_secure_new number, and pushes it
// to builder as param. Errors: malformed, bad_encoding, crypto_failure.
std::error_code push_rsa_secret(const json& jwk, const char* member, const char* param,
                                OSSL_PARAM_BLD* builder, secret_bignum_ptr& slot);

// The private members of an RSA JWK: d, then the CRT values when present, pushed to builder.
// The builder keeps pointers to the numbers until OSSL_PARAM_BLD_to_param, so they are held in
// secrets (d, p, q, dp, dq, qi) by the caller; BN_secure_new makes the builder place them in
// the wiped secure block. has_crt tells whether the CRT values were there. Errors: not_supported
// ("oth"), key_cannot_sign (no "d"), malformed (CRT values given only in part), bad_encoding,
// crypto_failure.
std::error_code push_rsa_private(const json& jwk, OSSL_PARAM_BLD* builder,
                                 secret_bignum_ptr (&secrets)[6], bool& has_crt);

// Whether an RSA private key belongs to its public key: one that does not would sign tokens
// nobody can verify. With CRT values OpenSSL checks everything (primes, n = pq, d, CRT values);
// without, a signature made with d must verify with (n, e).
bool rsa_private_matches_public(EVP_PKEY* key, bool has_crt);

// The RSA key of a JWK: n and e, and with_private also d and the CRT values when present.
// Errors: malformed (missing or non-minimal members, CRT values given only in part),
// bad_encoding, not_supported ("oth": multi-prime keys), key_cannot_sign (with_private but no
// "d"), invalid_argument (modulus outside 2048..16384 bits, exponent above 64 bits, private
// values that do not belong to the public key), crypto_failure.
Result<evp_pkey_ptr> rsa_from_jwk(const json& jwk, bool with_private);

// The EC key of a JWK on the given curve. Errors: malformed (missing members, wrong lengths),
// bad_encoding, key_cannot_sign (with_private but no "d"), invalid_argument (the point is not
// on the curve; OpenSSL refuses it), crypto_failure. The subgroup check and the match between
// d and the point are EcdsaKey's.
Result<evp_pkey_ptr> ec_from_jwk(const json& jwk, const ec_curve& curve, bool with_private);

// The Ed25519/Ed448 key of a JWK. Errors: malformed (missing members, wrong lengths),
// bad_encoding, key_cannot_sign (with_private but no "d"), invalid_argument, crypto_failure.
// The match between d and x is EddsaKey's check.
Result<evp_pkey_ptr> okp_from_jwk(const json& jwk, const okp_curve& curve, bool with_private);

// --- Writing members -----------------------------------------------------------------------------

// The number's big-endian bytes: minimal, or left-padded to width when width is not 0.
// Written straight into a wiped buffer, then encoded.
bool append_bignum(json& jwk, const char* member, const EVP_PKEY* key, const char* param,
                   std::size_t width = 0);

// The members of an RSA key: kty, n, e; with include_private also d, and the CRT values when
// the key has all of them. Errors: key_cannot_sign (no private part), crypto_failure.
std::error_code rsa_members(json& jwk, const EVP_PKEY* key, bool include_private);

// The members of an EC key on one of kEcCurves: kty, crv, x, y; with include_private also d.
// Errors: not_supported (another curve), key_cannot_sign, crypto_failure.
std::error_code ec_members(json& jwk, const EVP_PKEY* key, bool include_private);

// The members of an Ed25519/Ed448 key: kty, crv, x; with include_private also d. The raw key
// bytes pass through a wiped buffer. Errors: key_cannot_sign, crypto_failure.
std::error_code okp_members(json& jwk, const EVP_PKEY* key, const okp_curve& curve,
                            bool include_private);

// The key-material members of a JWK for key: kty, and crv/x/y, n/e or crv/x; with
// include_private also d, and for RSA the CRT values when the key has them.
// Errors: not_supported (a key type or curve JOSE has no JWK form for), key_cannot_sign
// (include_private for a public key), crypto_failure.
Result<json> members_from_pkey(const EVP_PKEY* key, bool include_private);

// SHA-256 of data (RFC 7638 thumbprints).
Result<std::string> sha256(std::string_view data);

}  // namespace tegata::detail::jwk

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/jwk_params_inl.hpp"
#endif
