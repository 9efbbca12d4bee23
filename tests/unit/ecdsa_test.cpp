// EcdsaKey: ES256, ES384, ES512, ES256K through sign_jwt/verify_jwt, the fixed-width R||S form
// and its DER conversion, the keys it refuses, verify-only keys, and shared use from threads.
#include "tegata/algorithms/ecdsa.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tegata/algorithms/eddsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jwt.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using tegata::Algorithm;
using tegata::EcdsaKey;
using tegata::errc;
using tegata::KeyHandle;

const std::chrono::sys_seconds kNow{std::chrono::seconds{1'700'000'000}};

nlohmann::json claims() { return {{"sub", "alice"}, {"exp", 1'700'000'060}}; }

const tegata::Validator& validator() {
  static const tegata::Validator v{tegata::ValidatorOptions{}};
  return v;
}

KeyHandle public_only(EVP_PKEY* key) {
  auto pem = tegata::keys::to_pem_public(key);
  REQUIRE(pem);
  auto parsed = tegata::keys::parse_pem(*pem);
  REQUIRE(parsed);
  return std::move(*parsed);
}

std::string with_signature(const std::string& token, std::string_view signature) {
  return tegata::jws::finish_compact(token.substr(0, token.rfind('.')), signature);
}

std::string signature_of(const std::string& token) {
  auto bytes = tegata::base64url_decode(std::string_view(token).substr(token.rfind('.') + 1));
  REQUIRE(bytes);
  return *bytes;
}

std::string der_of(std::string_view rs, std::size_t half) {
  unsigned char der[tegata::detail::kEcdsaMaxDer];
  const std::size_t length = tegata::detail::ecdsa_p1363_to_der(rs, half, der);
  return std::string(reinterpret_cast<const char*>(der), length);
}

std::size_t half_of(Algorithm alg) {
  return alg == Algorithm::ES384 ? 48 : alg == Algorithm::ES512 ? 66 : 32;
}

// An EC key pair whose private scalar is one key's and public point another's.
KeyHandle mismatched_pair(Algorithm alg) {
  const KeyHandle a = tegata::keys::generate(alg);
  const KeyHandle b = tegata::keys::generate(alg);
  BIGNUM* priv = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(a.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1);
  const tegata::detail::bignum_ptr priv_owner(priv);
  unsigned char pub[200];
  std::size_t pub_len = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(b.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub,
                                          &pub_len) == 1);
  char group[40] = {};
  REQUIRE(EVP_PKEY_get_utf8_string_param(a.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         nullptr) == 1);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  REQUIRE(bld != nullptr);
  REQUIRE(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1);
  REQUIRE(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) == 1);
  REQUIRE(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  OSSL_PARAM_BLD_free(bld);
  REQUIRE(params != nullptr);
  const tegata::detail::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  const bool made = ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
                    EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params) == 1;
  OSSL_PARAM_free(params);
  REQUIRE(made);
  return KeyHandle(key);
}

}  // namespace

TEST_CASE("EcdsaKey signs and verifies JWTs with every ES algorithm", "[ecdsa]") {
  const Algorithm alg =
      GENERATE(Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::ES256K);
  CAPTURE(tegata::to_string(alg));
  KeyHandle pair = tegata::keys::generate(alg);
  EVP_PKEY* const handle = pair.get();
  const EcdsaKey verifier(alg, public_only(handle), "ec-1");
  const EcdsaKey key(alg, std::move(pair), "ec-1");
  CHECK(key.algorithm() == alg);
  CHECK(key.kid() == "ec-1");
  CHECK(key.can_sign());
  CHECK(key.native_handle() == handle);

  auto token = tegata::sign_jwt(key, claims());
  REQUIRE(token);
  const std::string signature = signature_of(*token);
  CHECK(signature.size() == 2 * half_of(alg));
  auto jwt = tegata::verify_jwt(*token, key, validator(), kNow);
  REQUIRE(jwt);
  CHECK(jwt->header.alg == tegata::to_string(alg));
  CHECK(jwt->claims.subject == "alice");
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));

  SECTION("ECDSA is randomised") { CHECK(*key.sign_raw("m") != *key.sign_raw("m")); }
  SECTION("a changed payload does not verify") {
    std::string forged = *token;
    const std::size_t dot = forged.find('.');
    forged[dot + 2] = forged[dot + 2] == 'A' ? 'B' : 'A';
    CHECK(tegata::verify_jwt(forged, key, validator(), kNow).error() == errc::bad_signature);
  }
  SECTION("a signature of the wrong length does not verify") {
    for (const std::string& bad :
         {signature.substr(1), signature + std::string(1, '\0'), std::string(1, '\0') + signature,
          signature.substr(0, half_of(alg))}) {
      CHECK(tegata::verify_jwt(with_signature(*token, bad), key, validator(), kNow).error() ==
            errc::bad_signature);
    }
  }
  SECTION("the same signature in DER form does not verify") {
    const std::string der = der_of(signature, half_of(alg));
    CHECK(der.size() != signature.size());
    CHECK(tegata::verify_jwt(with_signature(*token, der), key, validator(), kNow).error() ==
          errc::bad_signature);
  }
  SECTION("r = 0 or s = 0 does not verify") {
    const std::size_t half = half_of(alg);
    const std::string zeros(half, '\0');
    CHECK_FALSE(key.verify_raw(*token, std::string(2 * half, '\0')));
    const std::string input = token->substr(0, token->rfind('.'));
    CHECK(key.verify_raw(input, signature));
    CHECK_FALSE(key.verify_raw(input, zeros + signature.substr(half)));
    CHECK_FALSE(key.verify_raw(input, signature.substr(0, half) + zeros));
  }
}

TEST_CASE("A public EC key verifies but cannot sign", "[ecdsa]") {
  KeyHandle pair = tegata::keys::generate(Algorithm::ES256);
  const EcdsaKey verifier(Algorithm::ES256, public_only(pair.get()));
  const EcdsaKey signer(Algorithm::ES256, std::move(pair));
  CHECK_FALSE(verifier.can_sign());
  CHECK(verifier.sign_raw("data").error() == errc::key_cannot_sign);
  CHECK(tegata::sign_jwt(verifier, claims()).error() == errc::key_cannot_sign);
  auto token = tegata::sign_jwt(signer, claims());
  REQUIRE(token);
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));
}

TEST_CASE("EcdsaKey refuses keys that do not fit its algorithm", "[ecdsa]") {
  using Catch::Matchers::ContainsSubstring;
  SECTION("a curve other than the algorithm's") {
    CHECK_THROWS_WITH(EcdsaKey(Algorithm::ES256, tegata::keys::generate(Algorithm::ES384)),
                      ContainsSubstring("P-256"));
    CHECK_THROWS_AS(EcdsaKey(Algorithm::ES384, tegata::keys::generate(Algorithm::ES256)),
                    std::invalid_argument);
    CHECK_THROWS_AS(EcdsaKey(Algorithm::ES512, tegata::keys::generate(Algorithm::ES384)),
                    std::invalid_argument);
    CHECK_THROWS_AS(EcdsaKey(Algorithm::ES256, tegata::keys::generate(Algorithm::ES256K)),
                    std::invalid_argument);
    CHECK_THROWS_WITH(EcdsaKey(Algorithm::ES256K, tegata::keys::generate(Algorithm::ES256)),
                      ContainsSubstring("secp256k1"));
  }
  SECTION("EdDSA and RSA keys") {
    CHECK_THROWS_WITH(EcdsaKey(Algorithm::ES256, tegata::keys::generate(Algorithm::EdDSA)),
                      ContainsSubstring("needs an EC key"));
    CHECK_THROWS_AS(EcdsaKey(Algorithm::ES256, tegata::keys::generate(Algorithm::RS256)),
                    std::invalid_argument);
  }
  SECTION("an algorithm of another family") {
    for (Algorithm alg : {Algorithm::HS256, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA}) {
      CHECK_THROWS_AS(EcdsaKey(alg, tegata::keys::generate(Algorithm::ES256)),
                      std::invalid_argument);
    }
  }
  SECTION("no key") {
    CHECK_THROWS_AS(EcdsaKey(Algorithm::ES256, KeyHandle{}), std::invalid_argument);
  }
  SECTION("explicit curve parameters, even when they are P-256's") {
    const KeyHandle pair = tegata::keys::generate(Algorithm::ES256);
    REQUIRE(EVP_PKEY_set_utf8_string_param(pair.get(), OSSL_PKEY_PARAM_EC_ENCODING,
                                           OSSL_PKEY_EC_ENCODING_EXPLICIT) == 1);
    CHECK_THROWS_WITH(EcdsaKey(Algorithm::ES256, public_only(pair.get())),
                      ContainsSubstring("explicit"));
  }
  SECTION("a private key that does not match its public point") {
    CHECK_THROWS_WITH(EcdsaKey(Algorithm::ES256, mismatched_pair(Algorithm::ES256)),
                      ContainsSubstring("does not match"));
  }
}

TEST_CASE("Keys of other families cannot verify an ES256 token", "[ecdsa]") {
  const EcdsaKey es256(Algorithm::ES256, tegata::keys::generate(Algorithm::ES256));
  const EcdsaKey es384(Algorithm::ES384, tegata::keys::generate(Algorithm::ES384));
  const tegata::EddsaKey eddsa(tegata::keys::generate(Algorithm::EdDSA));
  auto token = tegata::sign_jwt(es256, claims());
  REQUIRE(token);
  CHECK(tegata::verify_jwt(*token, es384, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  CHECK(tegata::verify_jwt(*token, eddsa, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  auto ed_token = tegata::sign_jwt(eddsa, claims());
  REQUIRE(ed_token);
  CHECK(tegata::verify_jwt(*ed_token, es256, validator(), kNow).error() ==
        errc::unsupported_algorithm);
}

TEST_CASE("R||S converts to strict DER and back", "[ecdsa]") {
  using tegata::detail::ecdsa_der_to_p1363;
  auto back = [](const std::string& der, std::size_t half) -> std::string {
    std::string out(2 * half, 'x');
    if (!ecdsa_der_to_p1363(reinterpret_cast<const unsigned char*>(der.data()), der.size(), half,
                            reinterpret_cast<unsigned char*>(out.data()))) {
      return "refused";
    }
    return out;
  };
  SECTION("round trips, with leading zeros, high bits and the long length form") {
    for (std::size_t half : {32, 66}) {
      std::string rs(2 * half, '\x7f');
      rs[0] = '\0';
      rs[1] = '\0';
      rs[half] = '\x80';
      CHECK(back(der_of(rs, half), half) == rs);
    }
    const std::string p521(132, '\xff');
    const std::string der = der_of(p521, 66);
    CHECK(der.substr(0, 3) == std::string("\x30\x81\x8a", 3));
    CHECK(der.substr(3, 3) == std::string("\x02\x43\x00", 3));
  }
  SECTION("zero encodes as INTEGER 0") {
    const std::string der = der_of(std::string(64, '\0'), 32);
    CHECK(der == std::string("\x30\x06\x02\x01\x00\x02\x01\x00", 8));
  }
  SECTION("non-canonical DER is refused") {
    const std::string ok("\x30\x06\x02\x01\x01\x02\x01\x02", 8);
    CHECK(back(ok, 32) != "refused");
    CHECK(back(std::string("\x30\x06\x02\x01\x81\x02\x01\x02", 8), 32) == "refused");  // negative
    CHECK(back(std::string("\x30\x07\x02\x02\x00\x01\x02\x01\x02", 9), 32) == "refused");  // padded
    CHECK(back(std::string("\x30\x81\x06\x02\x01\x01\x02\x01\x02", 9), 32) ==
          "refused");  // long form < 128
    CHECK(back(std::string("\x30\x07\x02\x01\x01\x02\x01\x02\x00", 9), 32) ==
          "refused");                                                              // wrong length
    CHECK(back(ok + std::string(1, '\0'), 32) == "refused");                       // trailing byte
    CHECK(back(std::string("\x30\x05\x02\x00\x02\x01\x02", 7), 32) == "refused");  // empty INTEGER
    CHECK(back(std::string("\x30\x03\x02\x01\x01", 5), 32) == "refused");          // one INTEGER
    std::string too_long("\x30\x26\x02\x21\x01", 5);
    too_long += std::string(32, '\x01') + std::string("\x02\x01\x01", 3);
    CHECK(back(too_long, 32) == "refused");  // r wider than the curve
  }
}

TEST_CASE("One EcdsaKey is shared by threads that sign and verify at once", "[ecdsa]") {
  const EcdsaKey key(Algorithm::ES256, tegata::keys::generate(Algorithm::ES256));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([key, &failures, t] {  // a copy: it shares the one key state
      for (int i = 0; i < 50; ++i) {
        const std::string message = "thread " + std::to_string(t) + " message " + std::to_string(i);
        auto signature = key.sign_raw(message);
        if (!signature || !key.verify_raw(message, *signature) ||
            key.verify_raw(message + "!", *signature)) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  ERR_clear_error();
}
