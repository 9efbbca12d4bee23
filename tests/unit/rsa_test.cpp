// RsaKey: RS256/384/512 and PS256/384/512 through sign_jwt/verify_jwt, the keys it refuses,
// verify-only keys, algorithm binding, signature length, and shared use from several threads.
#include "tegata/algorithms/rsa.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jwt.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using tegata::Algorithm;
using tegata::errc;
using tegata::KeyHandle;
using tegata::RsaKey;

const std::chrono::sys_seconds kNow{std::chrono::seconds{1'700'000'000}};

nlohmann::json claims() { return {{"sub", "alice"}, {"exp", 1'700'000'060}}; }

const tegata::Validator& validator() {
  static const tegata::Validator v{tegata::ValidatorOptions{}};
  return v;
}

// Another owner of the same EVP_PKEY, so one generated key can back several RsaKeys.
KeyHandle share(EVP_PKEY* key) {
  REQUIRE(EVP_PKEY_up_ref(key) == 1);
  return KeyHandle(key);
}

// RSA key generation is slow: one 2048-bit key pair for the whole file.
EVP_PKEY* rsa2048() {
  static const KeyHandle key = tegata::keys::generate(Algorithm::RS256);
  return key.get();
}

KeyHandle public_only(EVP_PKEY* key) {
  auto pem = tegata::keys::to_pem_public(key);
  REQUIRE(pem);
  auto parsed = tegata::keys::parse_pem(*pem);
  REQUIRE(parsed);
  return std::move(*parsed);
}

// An RSA key generated directly with OpenSSL, for sizes and exponents tegata refuses to make.
KeyHandle raw_rsa(std::size_t bits, unsigned exponent = 65537, const char* type = "RSA") {
  const tegata::detail::evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits),
                               OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &exponent),
                               OSSL_PARAM_construct_end()};
  REQUIRE(EVP_PKEY_CTX_set_params(ctx.get(), params) == 1);
  EVP_PKEY* key = nullptr;
  REQUIRE(EVP_PKEY_generate(ctx.get(), &key) == 1);
  return KeyHandle(key);
}

// A compact token whose header names header_alg, signed by key over that exact header.
std::string token_with_header_alg(const RsaKey& key, const char* header_alg) {
  const std::string input = tegata::jws::make_signing_input(
      tegata::jws::make_header(header_alg, "", "JWT"), claims().dump());
  auto signature = key.sign_raw(input);
  REQUIRE(signature);
  return tegata::jws::finish_compact(input, *signature);
}

// Replaces the signature segment of a token with other bytes.
std::string with_signature(const std::string& token, std::string_view signature) {
  return tegata::jws::finish_compact(token.substr(0, token.rfind('.')), signature);
}

std::string signature_of(const std::string& token) {
  auto bytes = tegata::base64url_decode(std::string_view(token).substr(token.rfind('.') + 1));
  REQUIRE(bytes);
  return *bytes;
}

}  // namespace

TEST_CASE("RsaKey signs and verifies JWTs with every RS and PS algorithm", "[rsa]") {
  const Algorithm alg = GENERATE(Algorithm::RS256, Algorithm::RS384, Algorithm::RS512,
                                 Algorithm::PS256, Algorithm::PS384, Algorithm::PS512);
  CAPTURE(tegata::to_string(alg));
  const RsaKey key(alg, share(rsa2048()), "rsa-1");
  CHECK(key.algorithm() == alg);
  CHECK(key.kid() == "rsa-1");
  CHECK(key.can_sign());
  CHECK(key.native_handle() == rsa2048());

  auto token = tegata::sign_jwt(key, claims());
  REQUIRE(token);
  CHECK(signature_of(*token).size() == 256);
  auto jwt = tegata::verify_jwt(*token, key, validator(), kNow);
  REQUIRE(jwt);
  CHECK(jwt->header.alg == tegata::to_string(alg));
  CHECK(jwt->header.kid == "rsa-1");
  CHECK(jwt->claims.subject == "alice");

  // A verify-only copy of the key accepts the same token.
  const RsaKey verifier(alg, public_only(rsa2048()), "rsa-1");
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));

  SECTION("a changed payload does not verify") {
    std::string forged = *token;
    const std::size_t dot = forged.find('.');
    forged[dot + 2] = forged[dot + 2] == 'A' ? 'B' : 'A';
    CHECK(tegata::verify_jwt(forged, key, validator(), kNow).error() == errc::bad_signature);
  }
  SECTION("a signature one byte short or long does not verify") {
    const std::string signature = signature_of(*token);
    CHECK(tegata::verify_jwt(with_signature(*token, signature.substr(1)), key, validator(), kNow)
              .error() == errc::bad_signature);
    CHECK(tegata::verify_jwt(with_signature(*token, std::string(1, '\0') + signature), key,
                             validator(), kNow)
              .error() == errc::bad_signature);
  }
}

TEST_CASE("PS256 signatures are randomised, RS256 signatures are deterministic", "[rsa]") {
  const RsaKey rs(Algorithm::RS256, share(rsa2048()));
  const RsaKey ps(Algorithm::PS256, share(rsa2048()));
  CHECK(*rs.sign_raw("message") == *rs.sign_raw("message"));
  CHECK(*ps.sign_raw("message") != *ps.sign_raw("message"));
}

TEST_CASE("RsaKey pads signatures with leading zero bytes to the modulus length", "[rsa]") {
  // About one signature in 256 starts with a zero byte; search deterministic RS256 signatures
  // for one (the bound makes a miss practically impossible: (255/256)^4096 < 1e-7).
  const RsaKey key(Algorithm::RS256, share(rsa2048()));
  bool found = false;
  for (int i = 0; i < 4096 && !found; ++i) {
    const std::string message = "message " + std::to_string(i);
    auto signature = key.sign_raw(message);
    REQUIRE(signature);
    REQUIRE(signature->size() == 256);
    if ((*signature)[0] != '\0') continue;
    found = true;
    CHECK(key.verify_raw(message, *signature));
    CHECK_FALSE(key.verify_raw(message, signature->substr(1)));  // the unpadded form is refused
  }
  CHECK(found);
}

TEST_CASE("RsaKey binds its algorithm: a token for another RSA algorithm is refused", "[rsa]") {
  const RsaKey rs256(Algorithm::RS256, share(rsa2048()));
  const RsaKey ps256(Algorithm::PS256, share(rsa2048()));
  const RsaKey rs384(Algorithm::RS384, share(rsa2048()));

  auto pss_token = tegata::sign_jwt(ps256, claims());
  REQUIRE(pss_token);
  CHECK(tegata::verify_jwt(*pss_token, rs256, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  auto rs_token = tegata::sign_jwt(rs256, claims());
  REQUIRE(rs_token);
  CHECK(tegata::verify_jwt(*rs_token, ps256, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  CHECK(tegata::verify_jwt(*rs_token, rs384, validator(), kNow).error() ==
        errc::unsupported_algorithm);

  // Relabelling the header does not help: the key checks with its own scheme and hash.
  CHECK(
      tegata::verify_jwt(token_with_header_alg(ps256, "RS256"), rs256, validator(), kNow).error() ==
      errc::bad_signature);
  CHECK(
      tegata::verify_jwt(token_with_header_alg(rs256, "PS256"), ps256, validator(), kNow).error() ==
      errc::bad_signature);
  CHECK(
      tegata::verify_jwt(token_with_header_alg(rs256, "RS384"), rs384, validator(), kNow).error() ==
      errc::bad_signature);
}

TEST_CASE("A public RSA key verifies but cannot sign", "[rsa]") {
  const RsaKey signer(Algorithm::PS384, share(rsa2048()));
  const RsaKey verifier(Algorithm::PS384, public_only(rsa2048()));
  CHECK_FALSE(verifier.can_sign());
  CHECK(verifier.sign_raw("data").error() == errc::key_cannot_sign);
  CHECK(tegata::sign_jwt(verifier, claims()).error() == errc::key_cannot_sign);
  auto token = tegata::sign_jwt(signer, claims());
  REQUIRE(token);
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));
  auto signature = signer.sign_raw("data");
  REQUIRE(signature);
  CHECK(verifier.verify_raw("data", *signature));
  CHECK_FALSE(verifier.verify_raw("date", *signature));
}

TEST_CASE("RsaKey refuses unsuitable keys and algorithms at construction", "[rsa]") {
  using Catch::Matchers::ContainsSubstring;
  SECTION("a 1024-bit modulus") {
    CHECK_THROWS_WITH(RsaKey(Algorithm::RS256, raw_rsa(1024)),
                      ContainsSubstring("at least 2048 bits"));
  }
  SECTION("a 2047-bit modulus") {
    CHECK_THROWS_AS(RsaKey(Algorithm::PS256, raw_rsa(2047)), std::invalid_argument);
  }
  SECTION("a public exponent of 3") {
    CHECK_THROWS_WITH(RsaKey(Algorithm::RS256, raw_rsa(2048, 3)),
                      ContainsSubstring("public exponent"));
  }
  SECTION("an RSA-PSS-restricted key") {
    CHECK_THROWS_WITH(RsaKey(Algorithm::PS256, raw_rsa(2048, 65537, "RSA-PSS")),
                      ContainsSubstring("RSA-PSS"));
  }
  SECTION("an EC or EdDSA key") {
    CHECK_THROWS_WITH(RsaKey(Algorithm::RS256, tegata::keys::generate(Algorithm::ES256)),
                      ContainsSubstring("needs an RSA key"));
    CHECK_THROWS_AS(RsaKey(Algorithm::PS256, tegata::keys::generate(Algorithm::EdDSA)),
                    std::invalid_argument);
  }
  SECTION("no key") {
    CHECK_THROWS_AS(RsaKey(Algorithm::RS256, KeyHandle{}), std::invalid_argument);
  }
  SECTION("an algorithm of another family") {
    for (Algorithm alg :
         {Algorithm::HS256, Algorithm::ES256, Algorithm::ES256K, Algorithm::EdDSA,
          Algorithm::Ed25519}) {
      CHECK_THROWS_AS(RsaKey(alg, share(rsa2048())), std::invalid_argument);
    }
  }
  SECTION("an RSA key given to EcdsaKey") {
    CHECK_THROWS_AS(tegata::EcdsaKey(Algorithm::ES256, share(rsa2048())), std::invalid_argument);
  }
}

TEST_CASE("A failed RSA verification leaves OpenSSL's error queue as it was", "[rsa]") {
  const RsaKey key(Algorithm::RS256, share(rsa2048()));
  ERR_clear_error();
  CHECK_FALSE(key.verify_raw("data", std::string(256, '\x01')));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("One RsaKey is shared by threads that sign and verify at once", "[rsa]") {
  const Algorithm alg = GENERATE(Algorithm::RS256, Algorithm::PS512);
  const RsaKey key(alg, share(rsa2048()));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([key, &failures, t] {  // a copy: it shares the one key state
      for (int i = 0; i < 25; ++i) {
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
}
