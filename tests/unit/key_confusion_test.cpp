// Algorithm-confusion attacks (RFC 8725 §2.1, §3.1): a token is only ever checked with the
// algorithm bound to the key it selects, whatever its header says.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tegata/algorithm.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/key_ring.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using json = nlohmann::json;
using tegata::Algorithm;
using tegata::AnyKey;
using tegata::errc;
using tegata::KeyRing;
namespace keys = tegata::keys;

tegata::KeyHandle keygen(const char* type, const char* curve = nullptr) {
  EVP_PKEY* key = curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(key != nullptr);
  return tegata::KeyHandle(key);
}

tegata::KeyHandle rsa_keygen() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
  REQUIRE(key != nullptr);
  return tegata::KeyHandle(key);
}

// What an attacker can download: the public key as PEM (SubjectPublicKeyInfo) and DER.
std::string public_pem(EVP_PKEY* key) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(bio);
  REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  REQUIRE(size > 0);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string public_der(EVP_PKEY* key) {
  unsigned char* data = nullptr;
  const int size = i2d_PUBKEY(key, &data);
  REQUIRE(size > 0);
  std::string out(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
  OPENSSL_free(data);
  return out;
}

const json kClaims = {{"sub", "admin"}, {"exp", 1'700'000'600}};
const auto kNow = std::chrono::sys_seconds{std::chrono::seconds{1'700'000'000}};

// A compact JWS with exactly this header, its signature made by signer.
template <class K>
std::string forge(const K& signer, const json& header, std::string_view payload = {}) {
  const std::string body = payload.empty() ? kClaims.dump() : std::string(payload);
  const std::string input =
      tegata::base64url_encode(header.dump()) + "." + tegata::base64url_encode(body);
  auto signature = signer.sign_raw(input);
  REQUIRE(signature);
  return input + "." + tegata::base64url_encode(*signature);
}

template <class S>
std::error_code verify(const S& signer, const std::string& token) {
  auto parsed = tegata::jws::parse(token);
  if (!parsed) return parsed.error();
  return signer.verify(*parsed);
}

template <class S>
std::error_code check_jwt(const S& signer, const std::string& token) {
  const tegata::Validator validator(tegata::ValidatorOptions{});
  return tegata::verify_jwt(token, signer, validator, kNow).error();
}

}  // namespace

TEST_CASE("an HS256 token keyed with the public key is refused", "[key_confusion]") {
  auto rsa_pkey = rsa_keygen();
  auto ec_pkey = keygen("EC", "P-256");
  const std::string rsa_pem = public_pem(rsa_pkey.get()), rsa_der = public_der(rsa_pkey.get());
  const std::string ec_pem = public_pem(ec_pkey.get()), ec_der = public_der(ec_pkey.get());
  const AnyKey rsa = tegata::RsaKey(Algorithm::RS256, std::move(rsa_pkey), "victim");
  const AnyKey ec = tegata::EcdsaKey(Algorithm::ES256, std::move(ec_pkey), "victim");

  struct Case {
    const char* name;
    const AnyKey& victim;
    std::string secret;
  };
  const Case cases[] = {
      {"RSA public key, PEM", rsa, rsa_pem},
      {"RSA public key, DER", rsa, rsa_der},
      {"RSA public JWK text", rsa, keys::public_jwk(rsa).value().dump()},
      {"EC public key, PEM", ec, ec_pem},
      {"EC public key, DER", ec, ec_der},
      {"EC public JWK text", ec, keys::public_jwk(ec).value().dump()},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    REQUIRE(c.secret.size() >= 32);
    const tegata::HmacKey attacker(Algorithm::HS256, c.secret);
    for (const json& header : {json{{"alg", "HS256"}, {"kid", "victim"}}, json{{"alg", "HS256"}},
                               json{{"alg", "HS256"}, {"kid", "victim"}, {"typ", "JWT"}}}) {
      INFO(header.dump());
      const std::string token = forge(attacker, header);
      // The forgery is real: a verifier that took the header's word for the algorithm and used
      // the public key bytes as the HMAC secret would accept it.
      REQUIRE_FALSE(verify(attacker, token));

      CHECK(verify(c.victim, token) == errc::unsupported_algorithm);
      if (const auto* rsa_key = c.victim.target<tegata::RsaKey>()) {
        CHECK(verify(*rsa_key, token) == errc::unsupported_algorithm);
      }
      if (const auto* ec_key = c.victim.target<tegata::EcdsaKey>()) {
        CHECK(verify(*ec_key, token) == errc::unsupported_algorithm);
      }
      CHECK(verify(KeyRing(c.victim), token) == errc::unsupported_algorithm);
      CHECK(check_jwt(c.victim, token) == errc::unsupported_algorithm);
      CHECK(check_jwt(KeyRing(c.victim), token) == errc::unsupported_algorithm);
      auto published = KeyRing::from_jwks(json{{"keys", {keys::public_jwk(c.victim).value()}}});
      REQUIRE(published);
      CHECK(verify(*published, token) == errc::unsupported_algorithm);
    }
  }

  SECTION("the public key never becomes an HMAC key") {
    // Importing the published JWK for HS256 is refused.
    const json rsa_jwk = keys::public_jwk(rsa).value();
    CHECK(keys::import_jwk(rsa_jwk, {.algorithm = Algorithm::HS256}).error() ==
          errc::unsupported_algorithm);
    json relabelled = rsa_jwk;
    relabelled["alg"] = "HS256";
    CHECK(keys::import_jwk(relabelled).error() == errc::unsupported_algorithm);
    // An "oct" key holding the public key bytes cannot join the asymmetric key's ring.
    const json oct = {{"kty", "oct"},
                      {"kid", "victim-hmac"},
                      {"alg", "HS256"},
                      {"k", tegata::base64url_encode(rsa_pem)}};
    KeyRing ring(rsa);
    auto hmac = keys::import_jwk(oct);
    REQUIRE(hmac);
    CHECK_THROWS_AS(ring.add(*hmac), std::invalid_argument);
    CHECK(KeyRing::from_jwks(json{{"keys", {rsa_jwk, oct}}}).error() == errc::invalid_argument);
  }
}

TEST_CASE("a token of one asymmetric algorithm is refused by a key of another", "[key_confusion]") {
  const AnyKey rsa = tegata::RsaKey(Algorithm::RS256, rsa_keygen(), "rsa");
  const AnyKey ec = tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), "ec");
  const AnyKey ed = tegata::EddsaKey(keygen("ED25519"), "ed");

  SECTION("ES256 token to an RS256 key") {
    const std::string token = forge(ec, {{"alg", "ES256"}});
    REQUIRE_FALSE(verify(ec, token));
    CHECK(verify(rsa, token) == errc::unsupported_algorithm);
    CHECK(verify(*rsa.target<tegata::RsaKey>(), token) == errc::unsupported_algorithm);
    CHECK(verify(KeyRing(rsa), token) == errc::unsupported_algorithm);
    CHECK(check_jwt(rsa, token) == errc::unsupported_algorithm);
  }
  SECTION("EdDSA token to an ES256 key") {
    const std::string token = forge(ed, {{"alg", "EdDSA"}});
    REQUIRE_FALSE(verify(ed, token));
    CHECK(verify(ec, token) == errc::unsupported_algorithm);
    CHECK(verify(*ec.target<tegata::EcdsaKey>(), token) == errc::unsupported_algorithm);
    CHECK(verify(KeyRing(ec), token) == errc::unsupported_algorithm);
    CHECK(check_jwt(ec, token) == errc::unsupported_algorithm);
  }
  SECTION("the same RSA key under another padding") {
    // PS256 with the RS256 key's own material: a valid PSS signature, still not RS256.
    const AnyKey pss = tegata::RsaKey(
        Algorithm::PS256,
        [&] {
          EVP_PKEY* shared = rsa.native_handle();
          REQUIRE(EVP_PKEY_up_ref(shared) == 1);
          return tegata::KeyHandle(shared);
        }(),
        "rsa");
    const std::string token = forge(pss, {{"alg", "PS256"}, {"kid", "rsa"}});
    REQUIRE_FALSE(verify(pss, token));
    CHECK(verify(rsa, token) == errc::unsupported_algorithm);
    CHECK(verify(KeyRing(rsa), token) == errc::unsupported_algorithm);
  }
  SECTION("a header that lies about the algorithm of a valid signature") {
    // An ES256 signature relabelled EdDSA: refused on the label, before any verification.
    CHECK(verify(ec, forge(ec, {{"alg", "EdDSA"}})) == errc::unsupported_algorithm);
    CHECK(verify(rsa, forge(rsa, {{"alg", "RS512"}})) == errc::unsupported_algorithm);
  }
}

TEST_CASE("a kid that points to a key of another algorithm", "[key_confusion]") {
  const AnyKey rsa = tegata::RsaKey(Algorithm::RS256, rsa_keygen(), "rsa");
  const AnyKey ec = tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), "ec");
  const AnyKey ed = tegata::EddsaKey(keygen("ED25519"), "ed");
  const KeyRing ring(rsa, {ec, ed});

  // Valid signatures by keys of the ring, each sent with another key's kid.
  CHECK(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "rsa"}})) == errc::unsupported_algorithm);
  CHECK(verify(ring, forge(ed, {{"alg", "EdDSA"}, {"kid", "ec"}})) == errc::unsupported_algorithm);
  CHECK(verify(ring, forge(rsa, {{"alg", "RS256"}, {"kid", "ed"}})) == errc::unsupported_algorithm);
  CHECK(check_jwt(ring, forge(ec, {{"alg", "ES256"}, {"kid", "rsa"}})) ==
        errc::unsupported_algorithm);
  // The same signatures with their own kid verify.
  CHECK_FALSE(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "ec"}})));
  CHECK_FALSE(verify(ring, forge(ed, {{"alg", "EdDSA"}, {"kid", "ed"}})));
  CHECK_FALSE(check_jwt(ring, forge(rsa, {{"alg", "RS256"}, {"kid", "rsa"}})));
  // A right alg with the wrong key's kid reaches the signature check and fails there.
  const AnyKey other_ec = tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), "ec");
  CHECK(verify(ring, forge(other_ec, {{"alg", "ES256"}, {"kid", "ec"}})) == errc::bad_signature);

  SECTION("a ring of HMAC keys with a kid of another algorithm's token") {
    const KeyRing hmac_ring(tegata::HmacKey(Algorithm::HS256, std::string(32, 'a'), "h256"),
                            {tegata::HmacKey(Algorithm::HS512, std::string(64, 'b'), "h512")});
    const tegata::HmacKey h512(Algorithm::HS512, std::string(64, 'b'), "h512");
    CHECK_FALSE(verify(hmac_ring, forge(h512, {{"alg", "HS512"}, {"kid", "h512"}})));
    CHECK(verify(hmac_ring, forge(h512, {{"alg", "HS512"}, {"kid", "h256"}})) ==
          errc::unsupported_algorithm);
    CHECK(verify(hmac_ring, forge(rsa, {{"alg", "RS256"}, {"kid", "h256"}})) ==
          errc::unsupported_algorithm);
  }
}

TEST_CASE("alg none is never accepted", "[key_confusion]") {
  const AnyKey ec = tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), "ec");
  const KeyRing ring(ec);
  const std::string payload = tegata::base64url_encode(kClaims.dump());
  auto unsigned_token = [&](std::string_view header, std::string_view signature) {
    return tegata::base64url_encode(header) + "." + payload + "." + std::string(signature);
  };

  // The classic form: an empty signature segment.
  for (std::string_view header :
       {R"({"alg":"none"})", R"({"alg":"none","kid":"ec"})", R"({"alg":"ES256"})"}) {
    INFO(header);
    const std::string token = unsigned_token(header, "");
    CHECK(verify(ec, token) == errc::malformed);
    CHECK(verify(ring, token) == errc::malformed);
    CHECK(check_jwt(ring, token) == errc::malformed);
  }
  // "none" in any spelling, even with some signature bytes.
  for (std::string_view header : {R"({"alg":"none","kid":"ec"})", R"({"alg":"None"})",
                                  R"({"alg":"NONE"})", R"({"alg":"nOnE","kid":"ec"})"}) {
    INFO(header);
    const std::string token = unsigned_token(header, "AAAA");
    CHECK(verify(ec, token) == errc::unsupported_algorithm);
    CHECK(verify(ring, token) == errc::unsupported_algorithm);
    CHECK(check_jwt(ring, token) == errc::unsupported_algorithm);
  }
  // And no key can be imported for it.
  json jwk = keys::public_jwk(ec).value();
  jwk["alg"] = "none";
  CHECK(keys::import_jwk(jwk).error() == errc::unsupported_algorithm);
}

TEST_CASE("each algorithm is of one family, the one whose key class takes it", "[key_confusion]") {
  // Shared by every RsaKey below: RsaKey and EcdsaKey take a reference of their own.
  const tegata::KeyHandle rsa = rsa_keygen();
  const auto share = [](EVP_PKEY* key) {
    REQUIRE(EVP_PKEY_up_ref(key) == 1);
    return tegata::KeyHandle(key);
  };
  const tegata::KeyHandle p256 = keygen("EC", "P-256");
  for (int i = 0; i <= static_cast<int>(Algorithm::EdDSA); ++i) {
    const auto alg = static_cast<Algorithm>(i);
    INFO(tegata::to_string(alg));
    const bool eddsa = alg == Algorithm::EdDSA;
    CHECK(int{tegata::is_hmac(alg)} + int{tegata::is_rsa(alg)} + int{tegata::is_ecdsa(alg)} +
              int{eddsa} ==
          1);
    if (tegata::is_rsa(alg)) {
      CHECK_NOTHROW(tegata::RsaKey(alg, share(rsa.get())));
    } else {
      CHECK_THROWS_AS(tegata::RsaKey(alg, share(rsa.get())), std::invalid_argument);
    }
    if (tegata::is_ecdsa(alg)) {
      CHECK_NOTHROW(tegata::EcdsaKey(alg, keys::generate(alg)));
    } else {
      CHECK_THROWS_AS(tegata::EcdsaKey(alg, share(p256.get())), std::invalid_argument);
    }
  }
  STATIC_CHECK(tegata::is_rsa(Algorithm::PS512));
  STATIC_CHECK(tegata::is_ecdsa(Algorithm::ES256K));
  STATIC_CHECK_FALSE(tegata::is_ecdsa(Algorithm::EdDSA));
}
