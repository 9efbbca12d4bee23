// JWK import and export, JWK Sets, RFC 7638 thumbprints and AnyKey.
#include "tegata/keys/jwk.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <catch2/catch_test_macros.hpp>
#include <initializer_list>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/jws.hpp"
#include "tegata/keys/any_key.hpp"

namespace {

using json = nlohmann::json;
using tegata::Algorithm;
using tegata::AnyKey;
using tegata::errc;
using tegata::keys::KeyOperation;
namespace keys = tegata::keys;

tegata::KeyHandle keygen(const char* type, const char* curve = nullptr) {
  EVP_PKEY* key = curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(key != nullptr);
  return tegata::KeyHandle(key);
}

tegata::KeyHandle rsa_keygen(std::size_t bits) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits);
  REQUIRE(key != nullptr);
  return tegata::KeyHandle(key);
}

// RSA key generation is slow: two 2048-bit keys serve every test in this file.
tegata::KeyHandle rsa_key(int which) {
  static const tegata::KeyHandle keys[2] = {rsa_keygen(2048), rsa_keygen(2048)};
  EVP_PKEY* key = keys[which].get();
  REQUIRE(EVP_PKEY_up_ref(key) == 1);
  return tegata::KeyHandle(key);
}

// A fresh private key bound to alg (Ed448 when ed448 is set and alg is EdDSA).
AnyKey make_key(Algorithm alg, std::string kid, int variant = 0, bool ed448 = false) {
  switch (alg) {
    case Algorithm::HS256:
    case Algorithm::HS384:
    case Algorithm::HS512:
      return tegata::HmacKey(alg, std::string(64, static_cast<char>('a' + variant)), kid);
    case Algorithm::RS256:
    case Algorithm::RS384:
    case Algorithm::RS512:
    case Algorithm::PS256:
    case Algorithm::PS384:
    case Algorithm::PS512: return tegata::RsaKey(alg, rsa_key(variant), kid);
    case Algorithm::ES256: return tegata::EcdsaKey(alg, keygen("EC", "P-256"), kid);
    case Algorithm::ES384: return tegata::EcdsaKey(alg, keygen("EC", "P-384"), kid);
    case Algorithm::ES512: return tegata::EcdsaKey(alg, keygen("EC", "P-521"), kid);
    case Algorithm::ES256K: return tegata::EcdsaKey(alg, keygen("EC", "secp256k1"), kid);
    case Algorithm::EdDSA: return tegata::EddsaKey(keygen(ed448 ? "ED448" : "ED25519"), kid);
    case Algorithm::Ed25519: return tegata::EddsaKey(alg, keygen("ED25519"), kid);
    case Algorithm::Ed448: return tegata::EddsaKey(alg, keygen("ED448"), kid);
  }
  FAIL("unreachable");
  return tegata::HmacKey(Algorithm::HS256, std::string(32, 'x'));
}

json private_of(const AnyKey& key) {
  auto jwk = keys::private_jwk(key);
  REQUIRE(jwk);
  return *jwk;
}

json public_of(const AnyKey& key) {
  auto jwk = keys::public_jwk(key);
  REQUIRE(jwk);
  return *jwk;
}

tegata::Result<AnyKey> import(const json& jwk, std::optional<Algorithm> alg = std::nullopt,
                              KeyOperation op = KeyOperation::verify) {
  return keys::import_jwk(jwk, {.algorithm = alg, .operation = op});
}

json without(json jwk, std::initializer_list<const char*> names) {
  for (const char* name : names) jwk.erase(name);
  return jwk;
}

json with(json jwk, const char* name, json value) {
  jwk[name] = std::move(value);
  return jwk;
}

std::string decoded(const json& member) {
  auto bytes = tegata::base64url_decode(member.get<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

// The member with one byte changed (XOR 1 on the byte at index).
json flip_byte(const json& member, std::size_t index) {
  std::string bytes = decoded(member);
  bytes[index] = static_cast<char>(bytes[index] ^ 1);
  return tegata::base64url_encode(bytes);
}

constexpr const char* kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"};

bool signs_for(const AnyKey& signer, const AnyKey& verifier) {
  const std::string data = "header.payload";
  auto signature = signer.sign_raw(data);
  return signature && verifier.verify_raw(data, *signature);
}

// RFC 7638 §3.1 (the RSA key of RFC 7517 Appendix A.1) and its SHA-256 thumbprint.
const json kRfc7638Key = {{"kty", "RSA"},
                          {"n",
                           "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7a"
                           "PFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF"
                           "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
                           "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c"
                           "7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                           "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF4"
                           "4-csFCur-kEgU8awapJzKnqDKgw"},
                          {"e", "AQAB"},
                          {"alg", "RS256"},
                          {"kid", "2011-04-29"}};
constexpr std::string_view kRfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

}  // namespace

TEST_CASE("every key type survives private and public JWK round trips", "[jwk]") {
  struct Case {
    Algorithm alg;
    bool ed448;
    const char* kty;
  };
  const Case cases[] = {{Algorithm::RS256, false, "RSA"}, {Algorithm::PS384, false, "RSA"},
                        {Algorithm::ES256, false, "EC"},  {Algorithm::ES384, false, "EC"},
                        {Algorithm::ES512, false, "EC"},  {Algorithm::ES256K, false, "EC"},
                        {Algorithm::EdDSA, false, "OKP"}, {Algorithm::EdDSA, true, "OKP"}};
  for (const Case& c : cases) {
    DYNAMIC_SECTION(tegata::to_string(c.alg) << (c.ed448 ? " Ed448" : "")) {
      const AnyKey original = make_key(c.alg, "key-1", 0, c.ed448);

      const json priv = private_of(original);
      CHECK(priv.at("kty") == c.kty);
      CHECK(priv.at("alg") == tegata::to_string(c.alg));
      CHECK(priv.at("kid") == "key-1");
      CHECK(priv.at("use") == "sig");
      CHECK(priv.contains("d"));
      auto signer = import(priv, std::nullopt, KeyOperation::sign);
      REQUIRE(signer);
      CHECK(signer->can_sign());
      CHECK(signer->algorithm() == c.alg);
      CHECK(signer->kid() == "key-1");
      CHECK(signs_for(*signer, original));
      CHECK(signs_for(original, *signer));
      CHECK(private_of(*signer) == priv);

      const json pub = public_of(original);
      for (const char* member : kPrivateMembers) CHECK_FALSE(pub.contains(member));
      CHECK(pub == without(priv, {"d", "p", "q", "dp", "dq", "qi"}));
      auto verifier = import(pub);
      REQUIRE(verifier);
      CHECK_FALSE(verifier->can_sign());
      CHECK(verifier->sign_raw("x").error() == errc::key_cannot_sign);
      CHECK(signs_for(original, *verifier));
      CHECK(public_of(*verifier) == pub);
      CHECK(keys::private_jwk(*verifier).error() == errc::key_cannot_sign);

      // A verify import of the private JWK keeps only the public part.
      auto public_only = import(priv);
      REQUIRE(public_only);
      CHECK_FALSE(public_only->can_sign());

      auto thumbprint = keys::thumbprint_sha256(original);
      REQUIRE(thumbprint);
      CHECK(keys::thumbprint_sha256(priv).value() == *thumbprint);
      CHECK(keys::thumbprint_sha256(pub).value() == *thumbprint);
      CHECK(keys::thumbprint_sha256(*verifier).value() == *thumbprint);
      CHECK(thumbprint->size() == 43);
    }
  }
}

TEST_CASE("RSA private JWKs import with and without CRT values", "[jwk]") {
  const AnyKey original = make_key(Algorithm::RS256, "rsa");
  const json full = private_of(original);
  for (const char* member : {"p", "q", "dp", "dq", "qi"}) CHECK(full.contains(member));

  SECTION("with CRT values") {
    auto key = import(full, std::nullopt, KeyOperation::sign);
    REQUIRE(key);
    CHECK(signs_for(*key, original));
  }
  SECTION("d alone") {
    auto key =
        import(without(full, {"p", "q", "dp", "dq", "qi"}), std::nullopt, KeyOperation::sign);
    REQUIRE(key);
    CHECK(key->can_sign());
    CHECK(signs_for(*key, original));
    // RSASSA-PKCS1-v1_5 is deterministic: the same signature as with the CRT values.
    CHECK(key->sign_raw("abc").value() == original.sign_raw("abc").value());
  }
  SECTION("CRT values given in part") {
    CHECK(import(without(full, {"qi"}), std::nullopt, KeyOperation::sign).error() ==
          errc::malformed);
    CHECK(import(without(full, {"p", "q"}), std::nullopt, KeyOperation::sign).error() ==
          errc::malformed);
  }
  SECTION("multi-prime keys are not supported") {
    const json oth = json::array({json{{"r", "AQAB"}, {"d", "AQAB"}, {"t", "AQAB"}}});
    CHECK(import(with(full, "oth", oth), std::nullopt, KeyOperation::sign).error() ==
          errc::not_supported);
  }
  SECTION("private values of another key") {
    const json other = private_of(make_key(Algorithm::RS256, "other", 1));
    json mixed = full;
    mixed["d"] = other["d"];
    CHECK(import(mixed, std::nullopt, KeyOperation::sign).error() == errc::invalid_argument);
    CHECK(import(without(mixed, {"p", "q", "dp", "dq", "qi"}), std::nullopt, KeyOperation::sign)
              .error() == errc::invalid_argument);
    json wrong_crt = full;
    wrong_crt["qi"] = other["qi"];
    CHECK(import(wrong_crt, std::nullopt, KeyOperation::sign).error() == errc::invalid_argument);
  }
  SECTION("private integers must be minimal") {
    json padded = full;
    padded["d"] = tegata::base64url_encode(std::string(1, '\0') + decoded(full["d"]));
    CHECK(import(padded, std::nullopt, KeyOperation::sign).error() == errc::malformed);
  }
}

TEST_CASE("RFC 7638 thumbprints", "[jwk]") {
  SECTION("the RFC's example") {
    CHECK(keys::thumbprint_sha256(kRfc7638Key).value() == kRfc7638Thumbprint);
    auto key = import(kRfc7638Key);
    REQUIRE(key);
    CHECK(keys::thumbprint_sha256(*key).value() == kRfc7638Thumbprint);
  }
  SECTION("only the required members count, in any order") {
    const json reordered = json::parse(R"({"use":"sig","e":"AQAB","d":"AQAB","x5c":["zz"],"n":)" +
                                       kRfc7638Key["n"].dump() + R"(,"kty":"RSA"})");
    CHECK(keys::thumbprint_sha256(reordered).value() == kRfc7638Thumbprint);
  }
  SECTION("refusals") {
    CHECK(keys::thumbprint_sha256(json::array()).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(without(kRfc7638Key, {"e"})).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(without(kRfc7638Key, {"kty"})).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(with(kRfc7638Key, "e", 65537)).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(with(kRfc7638Key, "e", "AQ\"AB")).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(with(kRfc7638Key, "e", "AQ\\AB")).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(with(kRfc7638Key, "e", "AQ\xC3\xA9")).error() == errc::malformed);
    CHECK(keys::thumbprint_sha256(with(kRfc7638Key, "kty", "RSA2")).error() == errc::not_supported);
  }
  SECTION("an HMAC key has no public thumbprint") {
    const AnyKey hmac = make_key(Algorithm::HS256, "h");
    CHECK(keys::thumbprint_sha256(hmac).error() == errc::not_supported);
    CHECK(keys::with_thumbprint_kid(make_key(Algorithm::HS256, "")).error() == errc::not_supported);
  }
}

TEST_CASE("thumbprints as default kids", "[jwk]") {
  const AnyKey original = make_key(Algorithm::ES256, "");
  const json pub = public_of(original);
  REQUIRE_FALSE(pub.contains("kid"));
  const std::string thumbprint = keys::thumbprint_sha256(pub).value();

  SECTION("on import") {
    auto key = keys::import_jwk(pub, {.kid_from_thumbprint = true});
    REQUIRE(key);
    CHECK(key->kid() == thumbprint);
    auto named = keys::import_jwk(with(pub, "kid", "mine"), {.kid_from_thumbprint = true});
    REQUIRE(named);
    CHECK(named->kid() == "mine");
    auto empty = keys::import_jwk(with(pub, "kid", ""), {.kid_from_thumbprint = true});
    REQUIRE(empty);
    CHECK(empty->kid() == thumbprint);
    auto plain = keys::import_jwk(pub);
    REQUIRE(plain);
    CHECK(plain->kid().empty());
    const json oct = private_of(make_key(Algorithm::HS256, ""));
    CHECK(keys::import_jwk(oct, {.kid_from_thumbprint = true}).error() == errc::not_supported);
  }
  SECTION("on an existing key") {
    auto key = keys::with_thumbprint_kid(original);
    REQUIRE(key);
    CHECK(key->kid() == thumbprint);
    CHECK(original.kid().empty());
    CHECK(key->can_sign());
    CHECK(signs_for(*key, original));
    auto again = keys::with_thumbprint_kid(*key);
    REQUIRE(again);
    CHECK(again->kid() == thumbprint);
  }
}

TEST_CASE("JWK import refusals", "[jwk]") {
  const AnyKey rsa = make_key(Algorithm::RS256, "rsa");
  const AnyKey ec = make_key(Algorithm::ES256, "ec");
  const AnyKey ed = make_key(Algorithm::EdDSA, "ed");
  const AnyKey hs = make_key(Algorithm::HS256, "hs");
  const json rsa_pub = public_of(rsa), rsa_priv = private_of(rsa);
  const json ec_pub = public_of(ec), ec_priv = private_of(ec);
  const json ed_pub = public_of(ed), ed_priv = private_of(ed);
  const json oct = private_of(hs);

  SECTION("not a JWK object") {
    CHECK(import(json::array()).error() == errc::malformed);
    CHECK(import(json("RSA")).error() == errc::malformed);
    CHECK(import(json()).error() == errc::malformed);
    CHECK(import(json::object()).error() == errc::malformed);
  }
  SECTION("kty") {
    CHECK(import(without(ec_pub, {"kty"})).error() == errc::malformed);
    CHECK(import(with(ec_pub, "kty", 2)).error() == errc::malformed);
    CHECK(import(with(ec_pub, "kty", "ec")).error() == errc::not_supported);
    CHECK(import(with(ec_pub, "kty", "RSA-HSM")).error() == errc::not_supported);
  }
  SECTION("members of the wrong JSON type") {
    CHECK(import(with(ec_pub, "kid", 7)).error() == errc::malformed);
    CHECK(import(with(ec_pub, "alg", json::array({"ES256"}))).error() == errc::malformed);
    CHECK(import(with(ec_pub, "use", true)).error() == errc::malformed);
    CHECK(import(with(ec_pub, "key_ops", "verify")).error() == errc::malformed);
    CHECK(import(with(ec_pub, "key_ops", json::array({1}))).error() == errc::malformed);
    CHECK(import(with(ec_pub, "crv", nullptr)).error() == errc::malformed);
    CHECK(import(with(ec_pub, "x", json::object())).error() == errc::malformed);
    CHECK(import(with(rsa_pub, "n", 12345)).error() == errc::malformed);
    CHECK(import(with(rsa_pub, "e", json::array())).error() == errc::malformed);
    CHECK(import(with(ed_pub, "x", 1.5)).error() == errc::malformed);
    CHECK(import(with(oct, "k", false)).error() == errc::malformed);
    CHECK(import(with(ec_priv, "d", 1), std::nullopt, KeyOperation::sign).error() ==
          errc::malformed);
  }
  SECTION("missing members") {
    CHECK(import(without(rsa_pub, {"n"})).error() == errc::malformed);
    CHECK(import(without(rsa_pub, {"e"})).error() == errc::malformed);
    CHECK(import(without(ec_pub, {"crv"})).error() == errc::malformed);
    CHECK(import(without(ec_pub, {"x"})).error() == errc::malformed);
    CHECK(import(without(ec_pub, {"y"})).error() == errc::malformed);
    CHECK(import(without(ed_pub, {"x"})).error() == errc::malformed);
    CHECK(import(without(ed_pub, {"crv"})).error() == errc::malformed);
    CHECK(import(without(oct, {"k"})).error() == errc::malformed);
  }
  SECTION("the algorithm") {
    // Neither the JWK nor the caller names one.
    CHECK(import(without(ec_pub, {"alg"})).error() == errc::unsupported_algorithm);
    // The caller alone names it.
    auto key = import(without(ec_pub, {"alg"}), Algorithm::ES256);
    REQUIRE(key);
    CHECK(key->algorithm() == Algorithm::ES256);
    // Both, agreeing and disagreeing.
    CHECK(import(ec_pub, Algorithm::ES256));
    CHECK(import(rsa_pub, Algorithm::PS256).error() == errc::unsupported_algorithm);
    CHECK(import(with(rsa_pub, "alg", "PS256"), Algorithm::RS256).error() ==
          errc::unsupported_algorithm);
    // Unknown, unsigned or JWE algorithms, and case variants.
    CHECK(import(with(rsa_pub, "alg", "none")).error() == errc::unsupported_algorithm);
    CHECK(import(with(rsa_pub, "alg", "RSA-OAEP")).error() == errc::unsupported_algorithm);
    CHECK(import(with(rsa_pub, "alg", "rs256")).error() == errc::unsupported_algorithm);
    CHECK(import(with(rsa_pub, "alg", "")).error() == errc::unsupported_algorithm);
  }
  SECTION("an algorithm the key cannot serve") {
    CHECK(import(with(rsa_pub, "alg", "HS256")).error() == errc::unsupported_algorithm);
    CHECK(import(without(rsa_pub, {"alg"}), Algorithm::HS256).error() ==
          errc::unsupported_algorithm);
    CHECK(import(with(rsa_pub, "alg", "ES256")).error() == errc::unsupported_algorithm);
    CHECK(import(with(ec_pub, "alg", "ES384")).error() == errc::unsupported_algorithm);
    CHECK(import(with(ec_pub, "alg", "ES256K")).error() == errc::unsupported_algorithm);
    CHECK(import(with(ec_pub, "alg", "EdDSA")).error() == errc::unsupported_algorithm);
    CHECK(import(with(ed_pub, "alg", "ES256")).error() == errc::unsupported_algorithm);
    CHECK(import(with(oct, "alg", "RS256")).error() == errc::unsupported_algorithm);
    CHECK(import(with(oct, "alg", "EdDSA")).error() == errc::unsupported_algorithm);
  }
  SECTION("use") {
    CHECK(import(with(ec_pub, "use", "enc")).error() == errc::invalid_argument);
    CHECK(import(with(ec_pub, "use", "SIG")).error() == errc::invalid_argument);
    CHECK(import(with(oct, "use", "enc")).error() == errc::invalid_argument);
    CHECK(import(with(ec_priv, "use", "enc"), std::nullopt, KeyOperation::sign).error() ==
          errc::invalid_argument);
    CHECK(import(without(ec_pub, {"use"})));
  }
  SECTION("key_ops") {
    const json verify_only = with(ec_priv, "key_ops", json::array({"verify"}));
    CHECK(import(verify_only, std::nullopt, KeyOperation::sign).error() == errc::invalid_argument);
    CHECK(import(verify_only));
    const json sign_only = with(ec_priv, "key_ops", json::array({"sign"}));
    CHECK(import(sign_only, std::nullopt, KeyOperation::sign));
    CHECK(import(sign_only).error() == errc::invalid_argument);
    CHECK(import(with(ec_priv, "key_ops", json::array())).error() == errc::invalid_argument);
    CHECK(import(with(ec_pub, "key_ops", json::array({"encrypt", "verify"}))));
    CHECK(import(with(ec_pub, "key_ops", json::array({"verify", "verify"}))).error() ==
          errc::malformed);
    CHECK(import(with(oct, "key_ops", json::array({"sign", "verify"})), std::nullopt,
                 KeyOperation::sign));
    CHECK(import(with(oct, "key_ops", json::array({"verify"})), std::nullopt, KeyOperation::sign)
              .error() == errc::invalid_argument);
  }
  SECTION("a point that is not on its curve") {
    CHECK(import(with(ec_pub, "y", flip_byte(ec_pub["y"], 31))).error() == errc::invalid_argument);
    CHECK(import(with(ec_pub, "x", flip_byte(ec_pub["x"], 0))).error() == errc::invalid_argument);
    CHECK(import(with(ec_priv, "y", flip_byte(ec_priv["y"], 5)), std::nullopt, KeyOperation::sign)
              .error() == errc::invalid_argument);
    const json zeros = tegata::base64url_encode(std::string(32, '\0'));
    CHECK(import(with(with(ec_pub, "x", zeros), "y", zeros)).error() == errc::invalid_argument);
  }
  SECTION("coordinates and private values of the wrong length") {
    const std::string x = decoded(ec_pub["x"]);
    CHECK(import(with(ec_pub, "x", tegata::base64url_encode(x.substr(1)))).error() ==
          errc::malformed);
    CHECK(import(with(ec_pub, "x", tegata::base64url_encode(std::string(1, '\0') + x))).error() ==
          errc::malformed);
    CHECK(import(with(ec_pub, "y", "")).error() == errc::malformed);
    const std::string d = decoded(ec_priv["d"]);
    CHECK(import(with(ec_priv, "d", tegata::base64url_encode(d.substr(1))), std::nullopt,
                 KeyOperation::sign)
              .error() == errc::malformed);
    const std::string ed_x = decoded(ed_pub["x"]);
    CHECK(import(with(ed_pub, "x", tegata::base64url_encode(ed_x + "\x01"))).error() ==
          errc::malformed);
    CHECK(import(with(ed_priv, "d", tegata::base64url_encode(std::string(31, 'd'))), std::nullopt,
                 KeyOperation::sign)
              .error() == errc::malformed);
    // A P-256 key presented as P-384 has coordinates of the wrong length.
    CHECK(import(with(with(ec_pub, "crv", "P-384"), "alg", "ES384")).error() == errc::malformed);
  }
  SECTION("curves JOSE signatures do not use") {
    CHECK(import(with(ec_pub, "crv", "P-192")).error() == errc::not_supported);
    CHECK(import(with(ec_pub, "crv", "p-256")).error() == errc::not_supported);
    CHECK(import(with(ed_pub, "crv", "X25519")).error() == errc::not_supported);
    CHECK(import(with(ed_pub, "crv", "Ed25519ph")).error() == errc::not_supported);
  }
  SECTION("strict base64url") {
    const std::string n = rsa_pub["n"].get<std::string>();
    const std::string x = ec_pub["x"].get<std::string>();  // 43 characters: one pad would follow
    CHECK(import(with(ec_pub, "x", x + "=")).error() == errc::bad_encoding);
    CHECK(import(with(rsa_pub, "n", n.substr(0, 10) + "+" + n.substr(11))).error() ==
          errc::bad_encoding);
    CHECK(import(with(rsa_pub, "n", n.substr(0, 10) + "/" + n.substr(11))).error() ==
          errc::bad_encoding);
    CHECK(import(with(rsa_pub, "n", n.substr(0, 10) + " " + n.substr(10))).error() ==
          errc::bad_encoding);
    CHECK(import(with(rsa_pub, "e", "AQAB\n")).error() == errc::bad_encoding);
    CHECK(import(with(rsa_pub, "e", "AQABA")).error() == errc::bad_encoding);  // 5 mod 4 == 1
    // Non-zero unused bits in the last character: another spelling of the same bytes.
    std::string sloppy = x;
    sloppy.back() = sloppy.back() == 'A' ? 'B' : static_cast<char>(sloppy.back() + 1);
    CHECK(import(with(ec_pub, "x", sloppy)).error() == errc::bad_encoding);
    CHECK(import(with(oct, "k", oct["k"].get<std::string>() + "==")).error() == errc::bad_encoding);
    CHECK(import(with(ed_priv, "d", "!" + ed_priv["d"].get<std::string>().substr(1)), std::nullopt,
                 KeyOperation::sign)
              .error() == errc::bad_encoding);
  }
  SECTION("RSA integers must use the minimum number of octets") {
    const std::string n = decoded(rsa_pub["n"]);
    CHECK(import(with(rsa_pub, "n", tegata::base64url_encode(std::string(1, '\0') + n))).error() ==
          errc::malformed);
    CHECK(import(with(rsa_pub, "e", "AAEAAQ")).error() == errc::malformed);
    CHECK(import(with(rsa_pub, "e", "")).error() == errc::malformed);
  }
  SECTION("weak RSA keys") {
    auto small = tegata::detail::jwk::members_from_pkey(rsa_keygen(1024).get(), false);
    REQUIRE(small);
    CHECK(import(with(*small, "alg", "RS256")).error() == errc::invalid_argument);
    // e = 3 and an even exponent.
    CHECK(import(with(rsa_pub, "e", "Aw")).error() == errc::invalid_argument);
    CHECK(import(with(rsa_pub, "e", "AQAA")).error() == errc::invalid_argument);
    // An exponent above 64 bits.
    CHECK(import(with(rsa_pub, "e", tegata::base64url_encode(std::string(9, '\x01')))).error() ==
          errc::invalid_argument);
    // A modulus above 16384 bits is refused before any arithmetic.
    CHECK(import(with(rsa_pub, "n", tegata::base64url_encode(std::string(2049, '\x7f')))).error() ==
          errc::invalid_argument);
  }
  SECTION("short HMAC secrets") {
    CHECK(import(with(oct, "k", tegata::base64url_encode(std::string(31, 'k')))).error() ==
          errc::invalid_argument);
    CHECK(import(with(oct, "k", tegata::base64url_encode(std::string(47, 'k'))), Algorithm::HS384)
              .error() == errc::unsupported_algorithm);  // the JWK says HS256
    CHECK(
        import(with(with(oct, "alg", "HS384"), "k", tegata::base64url_encode(std::string(47, 'k'))))
            .error() == errc::invalid_argument);
    CHECK(import(with(oct, "k", "")).error() == errc::invalid_argument);
  }
  SECTION("signing needs a private JWK") {
    CHECK(import(rsa_pub, std::nullopt, KeyOperation::sign).error() == errc::key_cannot_sign);
    CHECK(import(ec_pub, std::nullopt, KeyOperation::sign).error() == errc::key_cannot_sign);
    CHECK(import(ed_pub, std::nullopt, KeyOperation::sign).error() == errc::key_cannot_sign);
  }
  SECTION("private values that do not belong to the public key") {
    const json other_ec = private_of(make_key(Algorithm::ES256, "other"));
    CHECK(import(with(ec_priv, "d", other_ec["d"]), std::nullopt, KeyOperation::sign).error() ==
          errc::invalid_argument);
    const json other_ed = private_of(make_key(Algorithm::EdDSA, "other"));
    CHECK(import(with(ed_priv, "d", other_ed["d"]), std::nullopt, KeyOperation::sign).error() ==
          errc::invalid_argument);
  }
  SECTION("members tegata does not act on are ignored") {
    json extra = with(ec_pub, "x5c", json::array({"not a certificate"}));
    extra["ext"] = true;
    extra["x5t"] = 5;
    CHECK(import(extra));
  }
}

TEST_CASE("JWK import never throws on hostile input", "[jwk]") {
  const json ec_pub = public_of(make_key(Algorithm::ES256, "ec"));
  std::vector<json> inputs = {json(1),
                              json(nullptr),
                              json::array({ec_pub}),
                              json::parse(R"({"kty":["EC"]})"),
                              json::parse(R"({"kty":"EC","crv":"P-256","x":[],"y":{}})"),
                              json::parse(R"({"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"})"),
                              json::parse(R"({"kty":"OKP","crv":"Ed25519","x":"","alg":"EdDSA"})"),
                              json::parse(R"({"kty":"oct","k":"","alg":"HS256"})"),
                              with(ec_pub, "key_ops", json::array({json::array(), json::object()})),
                              json::binary({1, 2, 3})};
  json deep = ec_pub;
  for (int i = 0; i < 200; ++i) deep = json{{"kty", deep}};
  inputs.push_back(deep);
  for (const json& input : inputs) {
    for (KeyOperation op : {KeyOperation::verify, KeyOperation::sign}) {
      tegata::Result<AnyKey> result = errc::crypto_failure;
      CHECK_NOTHROW(result =
                        keys::import_jwk(input, {.algorithm = Algorithm::ES256, .operation = op}));
      CHECK_FALSE(result);
      CHECK(result.error() != errc::crypto_failure);
    }
  }
}

TEST_CASE("refused imports leave OpenSSL's error queue as they found it", "[jwk]") {
  const json ec_pub = public_of(make_key(Algorithm::ES256, "ec"));
  const json ed_priv = private_of(make_key(Algorithm::EdDSA, "ed"));
  const json rsa_priv = private_of(make_key(Algorithm::RS256, "rsa"));
  const json other_rsa = private_of(make_key(Algorithm::RS256, "other", 1));
  ERR_clear_error();
  CHECK(import(with(ec_pub, "y", flip_byte(ec_pub["y"], 31))).error() == errc::invalid_argument);
  CHECK(import(with(ed_priv, "d", private_of(make_key(Algorithm::EdDSA, "x"))["d"]), std::nullopt,
               KeyOperation::sign)
            .error() == errc::invalid_argument);
  CHECK(import(with(rsa_priv, "d", other_rsa["d"]), std::nullopt, KeyOperation::sign).error() ==
        errc::invalid_argument);
  CHECK(import(without(with(rsa_priv, "d", other_rsa["d"]), {"p", "q", "dp", "dq", "qi"}),
               std::nullopt, KeyOperation::sign)
            .error() == errc::invalid_argument);
  CHECK(import(with(ec_pub, "y", "AA")).error() == errc::malformed);
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("JWK Sets", "[jwk]") {
  const AnyKey ec = make_key(Algorithm::ES256, "ec-1");
  const AnyKey rsa = make_key(Algorithm::PS256, "rsa-1");
  const AnyKey ed = make_key(Algorithm::EdDSA, "ed-1");
  const std::vector<AnyKey> all = {ec, rsa, ed};

  auto published = keys::public_jwks(all);
  REQUIRE(published);
  REQUIRE(published->at("keys").size() == 3);
  for (const json& jwk : published->at("keys")) {
    for (const char* member : kPrivateMembers) CHECK_FALSE(jwk.contains(member));
    CHECK(jwk.at("use") == "sig");
  }

  SECTION("import what was published") {
    auto imported = keys::import_jwks(*published);
    REQUIRE(imported);
    REQUIRE(imported->size() == 3);
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK((*imported)[i].kid() == all[i].kid());
      CHECK((*imported)[i].algorithm() == all[i].algorithm());
      CHECK_FALSE((*imported)[i].can_sign());
      CHECK(signs_for(all[i], (*imported)[i]));
    }
  }
  SECTION("the requested algorithm applies to every key") {
    CHECK(keys::import_jwks(*published, {.algorithm = Algorithm::ES256}).error() ==
          errc::unsupported_algorithm);
  }
  SECTION("one refused key refuses the set") {
    json set = *published;
    set["keys"][1]["use"] = "enc";
    CHECK(keys::import_jwks(set).error() == errc::invalid_argument);
    set = *published;
    set["keys"][2]["x"] = "AA";
    CHECK(keys::import_jwks(set).error() == errc::malformed);
  }
  SECTION("duplicate kids") {
    json set = *published;
    set["keys"][2]["kid"] = "ec-1";
    CHECK(keys::import_jwks(set).error() == errc::invalid_argument);
    CHECK(keys::public_jwks(std::vector<AnyKey>{ec, ec}).error() == errc::invalid_argument);
  }
  SECTION("keys without kid are allowed in a set") {
    json set = *published;
    set["keys"][0].erase("kid");
    set["keys"][1].erase("kid");
    auto imported = keys::import_jwks(set);
    REQUIRE(imported);
    CHECK((*imported)[0].kid().empty());
    CHECK((*imported)[1].kid().empty());
  }
  SECTION("the set's shape") {
    CHECK(keys::import_jwks(json::array()).error() == errc::malformed);
    CHECK(keys::import_jwks(json::object()).error() == errc::malformed);
    CHECK(keys::import_jwks(json{{"keys", json::object()}}).error() == errc::malformed);
    CHECK(keys::import_jwks(json{{"keys", json::array({1})}}).error() == errc::malformed);
    auto empty = keys::import_jwks(json{{"keys", json::array()}});
    REQUIRE(empty);
    CHECK(empty->empty());
  }
  SECTION("an HMAC key cannot be published") {
    CHECK(keys::public_jwk(make_key(Algorithm::HS256, "h")).error() == errc::not_supported);
    CHECK(keys::public_jwks(std::vector<AnyKey>{ec, make_key(Algorithm::HS256, "h")}).error() ==
          errc::not_supported);
  }
}

TEST_CASE("JWK text is parsed strictly", "[jwk]") {
  const json ec_pub = public_of(make_key(Algorithm::ES256, "ec"));
  const std::string text = ec_pub.dump();
  CHECK(keys::parse_jwk(text));
  // A second "alg" that a lenient parser would silently prefer.
  const std::string twice = text.substr(0, text.size() - 1) + R"(,"alg":"ES384"})";
  CHECK(keys::parse_jwk(twice).error() == errc::duplicate_member);
  CHECK(keys::parse_jwk("{\"kty\":").error() == errc::bad_json);
  CHECK(keys::parse_jwk("[]").error() == errc::bad_json);
  const std::string set = json{{"keys", json::array({ec_pub})}}.dump();
  auto parsed = keys::parse_jwks(set);
  REQUIRE(parsed);
  CHECK(parsed->size() == 1);
  CHECK(keys::parse_jwks(R"({"keys":[],"keys":[]})").error() == errc::duplicate_member);
}

namespace {

// A key type tegata does not know: no OpenSSL key, no secret accessor.
class ForeignKey {
 public:
  Algorithm algorithm() const noexcept { return Algorithm::ES256; }
  std::string kid() const { return "foreign"; }  // by value: AnyKey must keep its own copy
  bool can_sign() const noexcept { return true; }
  tegata::Result<std::string> sign_raw(std::string_view data) const {
    return std::string(data.rbegin(), data.rend());
  }
  bool verify_raw(std::string_view data, std::string_view signature) const {
    return signature == std::string(data.rbegin(), data.rend());
  }
};

// A key type tegata can rebuild under another kid (it has a secret and HmacKey's constructor),
// whose constructor throws what the kid names.
class ThrowingKey {
 public:
  ThrowingKey(Algorithm alg, std::string_view secret, std::string kid)
      : alg_(alg), secret_(secret), kid_(std::move(kid)) {
    if (kid_ == "bad_alloc") throw std::bad_alloc();
    if (kid_ == "invalid_argument") throw std::invalid_argument("tegata test: refused");
    if (kid_ == "runtime_error") throw std::runtime_error("tegata test: OpenSSL failed");
  }
  Algorithm algorithm() const noexcept { return alg_; }
  const std::string& kid() const noexcept { return kid_; }
  bool can_sign() const noexcept { return true; }
  tegata::Result<std::string> sign_raw(std::string_view data) const { return std::string(data); }
  bool verify_raw(std::string_view data, std::string_view signature) const {
    return signature == data;
  }
  std::string_view secret() const noexcept { return secret_; }

 private:
  Algorithm alg_;
  std::string secret_;
  std::string kid_;
};

}  // namespace

// The exception barrier of the key functions that never throw (detail/exception_barrier.hpp).
TEST_CASE("AnyKey::with_kid returns what a rebuild throws as an error", "[jwk][any_key]") {
  const AnyKey key = ThrowingKey(Algorithm::HS256, "secret", "k");
  auto renamed = key.with_kid("k2");
  REQUIRE(renamed);
  CHECK(renamed->kid() == "k2");
  CHECK(key.with_kid("bad_alloc").error() == errc::out_of_memory);
  CHECK(key.with_kid("invalid_argument").error() == errc::invalid_argument);
  CHECK(key.with_kid("runtime_error").error() == errc::crypto_failure);
}

namespace {

// Each exception the barrier catches, and what it returns.
template <class Exception>
tegata::Result<int> throws(const char* what) {
  return tegata::detail::exception_barrier([&]() -> tegata::Result<int> {
    if constexpr (std::is_same_v<Exception, std::bad_alloc>) {
      static_cast<void>(what);
      throw std::bad_alloc();
    } else {
      throw Exception(what);
    }
  });
}

}  // namespace

TEST_CASE("the exception barrier: bad_alloc, invalid_argument, any other std::exception", "[jwk]") {
  STATIC_CHECK(noexcept(tegata::detail::exception_barrier([] { return tegata::Result<int>(1); })));
  CHECK(tegata::detail::exception_barrier([] { return tegata::Result<int>(7); }).value() == 7);
  CHECK(tegata::detail::exception_barrier([] {
          return tegata::Result<int>(errc::malformed);
        }).error() == errc::malformed);
  CHECK(throws<std::bad_alloc>("").error() == errc::out_of_memory);
  CHECK(throws<std::invalid_argument>("refused").error() == errc::invalid_argument);
  CHECK(throws<std::runtime_error>("OpenSSL").error() == errc::crypto_failure);
  CHECK(throws<std::length_error>("too long").error() == errc::crypto_failure);
}

TEST_CASE("AnyKey erases the key type and keeps its behaviour", "[jwk][any_key]") {
  const tegata::EcdsaKey ecdsa(Algorithm::ES256, keygen("EC", "P-256"), "ec");
  const AnyKey key = ecdsa;
  CHECK(key.algorithm() == Algorithm::ES256);
  CHECK(key.kid() == "ec");
  CHECK(key.can_sign());
  CHECK_FALSE(key.is_symmetric());
  CHECK(key.native_handle() == ecdsa.native_handle());
  REQUIRE(key.target<tegata::EcdsaKey>() != nullptr);
  CHECK(key.target<tegata::RsaKey>() == nullptr);
  CHECK(signs_for(key, ecdsa));
  CHECK(signs_for(ecdsa, key));

  SECTION("it is a Signer") {
    auto token = key.sign(tegata::TokenType("JWT"), R"({"sub":"a"})");
    REQUIRE(token);
    auto parsed = tegata::jws::parse(*token);
    REQUIRE(parsed);
    CHECK(parsed->header.kid == "ec");
    CHECK(parsed->header.alg == "ES256");
    CHECK_FALSE(key.verify(*parsed));
    CHECK_FALSE(ecdsa.verify(*parsed));
  }
  SECTION("copies share one key") {
    const AnyKey copy = key;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(copy.native_handle() == key.native_handle());
    std::vector<AnyKey> mixed = {key, make_key(Algorithm::HS256, "h"),
                                 make_key(Algorithm::EdDSA, "ed")};
    CHECK(mixed[1].is_symmetric());
    CHECK(mixed[2].algorithm() == Algorithm::EdDSA);
  }
  SECTION("with_kid rebinds the same material") {
    auto renamed = key.with_kid("ec-2");
    REQUIRE(renamed);
    CHECK(renamed->kid() == "ec-2");
    CHECK(key.kid() == "ec");
    CHECK(renamed->can_sign());
    CHECK(signs_for(*renamed, key));
    const AnyKey hmac = make_key(Algorithm::HS384, "h");
    auto hmac_renamed = hmac.with_kid("h2");
    REQUIRE(hmac_renamed);
    CHECK(hmac_renamed->algorithm() == Algorithm::HS384);
    CHECK(hmac_renamed->sign_raw("m").value() == hmac.sign_raw("m").value());
    const AnyKey rsa = make_key(Algorithm::PS512, "r");
    auto rsa_renamed = rsa.with_kid("r2");
    REQUIRE(rsa_renamed);
    CHECK(rsa_renamed->algorithm() == Algorithm::PS512);
    CHECK(signs_for(*rsa_renamed, rsa));
    const AnyKey ed = make_key(Algorithm::EdDSA, "e");
    auto ed_renamed = ed.with_kid("e2");
    REQUIRE(ed_renamed);
    CHECK(signs_for(*ed_renamed, ed));
  }
  SECTION("a foreign key type") {
    const AnyKey foreign = ForeignKey{};
    CHECK(foreign.kid() == "foreign");
    CHECK(foreign.native_handle() == nullptr);
    CHECK(foreign.target<ForeignKey>() != nullptr);
    CHECK(signs_for(foreign, foreign));
    CHECK(keys::public_jwk(foreign).error() == errc::not_supported);
    CHECK(keys::private_jwk(foreign).error() == errc::not_supported);
    CHECK(foreign.with_kid("x").error() == errc::not_supported);
  }
}

TEST_CASE("JWK: Ed25519 and Ed448 (RFC 9864) as alg, each bound to its curve", "[jwk]") {
  for (const auto& [alg, crv, other] : {std::tuple{Algorithm::Ed25519, "Ed25519", "ED448"},
                                        std::tuple{Algorithm::Ed448, "Ed448", "ED25519"}}) {
    CAPTURE(crv);
    const AnyKey key = make_key(alg, "k");
    auto jwk = keys::public_jwk(key);
    REQUIRE(jwk);
    CHECK((*jwk)["alg"] == tegata::to_string(alg));
    CHECK((*jwk)["crv"] == crv);
    auto imported = keys::import_jwk(*jwk);  // alg from the JWK
    REQUIRE(imported);
    CHECK(imported->algorithm() == alg);
    // The caller's algorithm must agree with the JWK's, and the curve with the algorithm.
    CHECK(keys::import_jwk(*jwk, {.algorithm = Algorithm::EdDSA}).error() ==
          errc::unsupported_algorithm);
    json without_alg = *jwk;
    without_alg.erase("alg");
    CHECK(keys::import_jwk(without_alg, {.algorithm = alg})->algorithm() == alg);
    CHECK(keys::import_jwk(without_alg, {.algorithm = Algorithm::EdDSA})->algorithm() ==
          Algorithm::EdDSA);
    const AnyKey wrong_curve = tegata::EddsaKey(keygen(other), "w");
    json mismatched = *keys::public_jwk(wrong_curve);
    mismatched.erase("alg");
    CHECK(keys::import_jwk(mismatched, {.algorithm = alg}).error() == errc::unsupported_algorithm);
    mismatched["alg"] = tegata::to_string(alg);
    CHECK(keys::import_jwk(mismatched).error() == errc::unsupported_algorithm);
  }
}
