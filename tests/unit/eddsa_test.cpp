// EddsaKey: EdDSA with Ed25519 and Ed448 through sign_jwt/verify_jwt, RFC 8032's first test
// vector, the keys it refuses, verify-only keys, and shared use from threads.
#include "tegata/algorithms/eddsa.hpp"

#include <openssl/core_names.h>
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
#include <tuple>
#include <vector>

#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jwt.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using tegata::Algorithm;
using tegata::EdCurve;
using tegata::EddsaKey;
using tegata::errc;
using tegata::KeyHandle;

const std::chrono::sys_seconds kNow{std::chrono::seconds{1'700'000'000}};

nlohmann::json claims() { return {{"sub", "alice"}, {"exp", 1'700'000'060}}; }

const tegata::Validator& validator() {
  static const tegata::Validator v{tegata::ValidatorOptions{}};
  return v;
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

KeyHandle public_only(EVP_PKEY* key) {
  auto pem = tegata::keys::to_pem_public(key);
  REQUIRE(pem);
  auto parsed = tegata::keys::parse_pem(*pem);
  REQUIRE(parsed);
  return std::move(*parsed);
}

KeyHandle generate(EdCurve curve) {
  return tegata::keys::generate(Algorithm::EdDSA, {.ed_curve = curve});
}

std::string with_signature(const std::string& token, std::string_view signature) {
  return tegata::jws::finish_compact(token.substr(0, token.rfind('.')), signature);
}

std::string signature_of(const std::string& token) {
  auto bytes = tegata::base64url_decode(std::string_view(token).substr(token.rfind('.') + 1));
  REQUIRE(bytes);
  return *bytes;
}

std::string raw_param(EVP_PKEY* key, const char* name) {
  unsigned char buffer[64];
  std::size_t length = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(key, name, buffer, sizeof buffer, &length) == 1);
  return std::string(reinterpret_cast<const char*>(buffer), length);
}

}  // namespace

TEST_CASE("EddsaKey signs and verifies JWTs with Ed25519 and Ed448", "[eddsa]") {
  const EdCurve curve = GENERATE(EdCurve::Ed25519, EdCurve::Ed448);
  CAPTURE(tegata::to_string(curve));
  KeyHandle pair = generate(curve);
  EVP_PKEY* const handle = pair.get();
  const EddsaKey verifier(public_only(handle), "ed-1");
  const EddsaKey key(std::move(pair), "ed-1");
  CHECK(key.algorithm() == Algorithm::EdDSA);
  CHECK(key.curve() == curve);
  CHECK(key.kid() == "ed-1");
  CHECK(key.can_sign());
  CHECK(key.native_handle() == handle);

  auto token = tegata::sign_jwt(key, claims());
  REQUIRE(token);
  const std::string signature = signature_of(*token);
  CHECK(signature.size() == (curve == EdCurve::Ed25519 ? 64u : 114u));
  auto jwt = tegata::verify_jwt(*token, key, validator(), kNow);
  REQUIRE(jwt);
  CHECK(jwt->header.alg == "EdDSA");
  CHECK(jwt->claims.subject == "alice");
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));
  CHECK(*tegata::sign_jwt(key, claims()) == *token);  // PureEdDSA is deterministic

  SECTION("a changed payload does not verify") {
    std::string forged = *token;
    const std::size_t dot = forged.find('.');
    forged[dot + 2] = forged[dot + 2] == 'A' ? 'B' : 'A';
    CHECK(tegata::verify_jwt(forged, key, validator(), kNow).error() == errc::bad_signature);
  }
  SECTION("a signature of the wrong length does not verify") {
    for (const std::string& bad : {signature.substr(1), signature + std::string(1, '\0'),
                                   std::string(curve == EdCurve::Ed25519 ? 114 : 64, '\x01')}) {
      CHECK(tegata::verify_jwt(with_signature(*token, bad), key, validator(), kNow).error() ==
            errc::bad_signature);
    }
  }
}

TEST_CASE("EddsaKey reproduces RFC 8032 §7.1 TEST 1", "[eddsa]") {
  const std::string secret =
      unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const std::string public_key =
      unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string expected = unhex(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
      "b46b"
      "d25bf5f0595bbe24655141438e7a100b");
  KeyHandle raw(EVP_PKEY_new_raw_private_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(secret.data()),
      secret.size()));
  REQUIRE(raw);
  CHECK(raw_param(raw.get(), OSSL_PKEY_PARAM_PUB_KEY) == public_key);
  const EddsaKey key(std::move(raw));
  auto signature = key.sign_raw("");
  REQUIRE(signature);
  CHECK(*signature == expected);
  CHECK(key.verify_raw("", expected));
  CHECK_FALSE(key.verify_raw("x", expected));
}

TEST_CASE("A public EdDSA key verifies but cannot sign", "[eddsa]") {
  KeyHandle pair = generate(EdCurve::Ed25519);
  const EddsaKey verifier(public_only(pair.get()));
  const EddsaKey signer(std::move(pair));
  CHECK_FALSE(verifier.can_sign());
  CHECK(verifier.sign_raw("data").error() == errc::key_cannot_sign);
  CHECK(tegata::sign_jwt(verifier, claims()).error() == errc::key_cannot_sign);
  auto token = tegata::sign_jwt(signer, claims());
  REQUIRE(token);
  CHECK(tegata::verify_jwt(*token, verifier, validator(), kNow));
}

TEST_CASE("EddsaKey refuses keys that are not Ed25519 or Ed448", "[eddsa]") {
  using Catch::Matchers::ContainsSubstring;
  CHECK_THROWS_WITH(EddsaKey(tegata::keys::generate(Algorithm::ES256)),
                    ContainsSubstring("Ed25519 or Ed448"));
  CHECK_THROWS_AS(EddsaKey(tegata::keys::generate(Algorithm::RS256)), std::invalid_argument);
  CHECK_THROWS_AS(EddsaKey(KeyHandle{}), std::invalid_argument);
  // X25519 is a key-agreement key on the same curve: never a signature key.
  KeyHandle x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  REQUIRE(x25519);
  CHECK_THROWS_AS(EddsaKey(std::move(x25519)), std::invalid_argument);
}

TEST_CASE("EddsaKey refuses a private key that does not match its public key", "[eddsa]") {
  const KeyHandle a = generate(EdCurve::Ed25519);
  const KeyHandle b = generate(EdCurve::Ed25519);
  std::string priv = raw_param(a.get(), OSSL_PKEY_PARAM_PRIV_KEY);
  std::string pub = raw_param(b.get(), OSSL_PKEY_PARAM_PUB_KEY);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, priv.data(), priv.size()),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()),
      OSSL_PARAM_construct_end()};
  const tegata::detail::evp_pkey_ctx_ptr ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, const_cast<OSSL_PARAM*>(params)) ==
          1);
  OPENSSL_cleanse(priv.data(), priv.size());
  CHECK_THROWS_WITH(EddsaKey(KeyHandle(raw)), Catch::Matchers::ContainsSubstring("does not match"));
}

TEST_CASE("An EdDSA token is refused by an RSA key and the other way round", "[eddsa]") {
  const EddsaKey eddsa(generate(EdCurve::Ed448));
  const tegata::RsaKey rsa(Algorithm::RS256, tegata::keys::generate(Algorithm::RS256));
  auto ed_token = tegata::sign_jwt(eddsa, claims());
  auto rsa_token = tegata::sign_jwt(rsa, claims());
  REQUIRE(ed_token);
  REQUIRE(rsa_token);
  CHECK(tegata::verify_jwt(*ed_token, rsa, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  CHECK(tegata::verify_jwt(*rsa_token, eddsa, validator(), kNow).error() ==
        errc::unsupported_algorithm);
}

TEST_CASE("Ed25519 and Ed448 (RFC 9864) bind a key to its curve and to that alg", "[eddsa]") {
  const auto [alg, curve, other] =
      GENERATE(std::tuple{Algorithm::Ed25519, EdCurve::Ed25519, EdCurve::Ed448},
               std::tuple{Algorithm::Ed448, EdCurve::Ed448, EdCurve::Ed25519});
  CAPTURE(tegata::to_string(alg));
  CHECK(tegata::algorithm_from_string(tegata::to_string(alg)) == alg);
  STATIC_CHECK(tegata::is_eddsa(Algorithm::Ed25519));
  STATIC_CHECK(tegata::is_eddsa(Algorithm::Ed448));
  STATIC_CHECK(tegata::is_eddsa(Algorithm::EdDSA));
  STATIC_CHECK_FALSE(tegata::is_eddsa(Algorithm::ES256));

  KeyHandle pair = generate(curve);
  EVP_PKEY* const handle = pair.get();
  const EddsaKey fully_specified(alg, public_only(handle), "k");
  const EddsaKey key(alg, std::move(pair), "k");
  CHECK(key.algorithm() == alg);
  CHECK(key.curve() == curve);
  auto token = tegata::sign_jwt(key, claims());
  REQUIRE(token);
  auto jwt = tegata::verify_jwt(*token, fully_specified, validator(), kNow);
  REQUIRE(jwt);
  CHECK(jwt->header.alg == tegata::to_string(alg));

  // The same key material bound to EdDSA: neither accepts the other's tokens.
  const EddsaKey generic(public_only(handle), "k");
  CHECK(tegata::verify_jwt(*token, generic, validator(), kNow).error() ==
        errc::unsupported_algorithm);
  const EddsaKey generic_signer(Algorithm::EdDSA, tegata::keys::generate(alg), "k");
  auto eddsa_token = tegata::sign_jwt(generic_signer, claims());
  REQUIRE(eddsa_token);
  const EddsaKey specified_verifier(alg, public_only(generic_signer.native_handle()), "k");
  CHECK(tegata::verify_jwt(*eddsa_token, specified_verifier, validator(), kNow).error() ==
        errc::unsupported_algorithm);

  // A key on the other curve, or an algorithm of another family, is refused.
  CHECK_THROWS_WITH(EddsaKey(alg, generate(other)),
                    Catch::Matchers::ContainsSubstring("curve is not the one"));
  CHECK_THROWS_AS(EddsaKey(Algorithm::ES256, generate(curve)), std::invalid_argument);

  // keys::generate makes the named curve; AnyKey keeps the algorithm through with_kid.
  CHECK(EddsaKey(alg, tegata::keys::generate(alg)).curve() == curve);
  const tegata::AnyKey any = key;
  auto renamed = any.with_kid("k2");
  REQUIRE(renamed);
  CHECK(renamed->algorithm() == alg);
  CHECK(tegata::verify_jwt(*token, *renamed, validator(), kNow).error() == errc::unknown_key);
}

TEST_CASE("One EddsaKey is shared by threads that sign and verify at once", "[eddsa]") {
  const EddsaKey key(generate(EdCurve::Ed25519));
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
}
