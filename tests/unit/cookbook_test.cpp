// RFC 7520 ("JOSE Cookbook") JWS examples and the RFC 8037 Ed25519 example, with the keys taken
// from the cookbook's own JWKs, plus the cookbook JWK files themselves.
#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/vectors.hpp"
#include "tegata/algorithm.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jws.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"

namespace {

using json = nlohmann::json;
using tegata::Algorithm;
using tegata::AnyKey;
using tegata::errc;
using tegata::keys::KeyOperation;
namespace keys = tegata::keys;

// Examples whose output has a compact form: verified as compact tokens.
constexpr const char* kCompactExamples[] = {
    "jws/4_1.rsa_v15_signature.json",
    "jws/4_2.rsa-pss_signature.json",
    "jws/4_3.ecdsa_signature.json",
    "jws/4_4.hmac-sha2_integrity_protection.json",
    "jws/4_5.signature_with_detached_content.json",  // compact with an empty payload segment
    "curve25519/jws.json",                           // RFC 8037 Appendix A.4
};

// Examples with no compact form, so no token tegata could ever receive. Skipped as tokens, with
// the reason; their signatures are still checked over their signing input at the key level.
struct Skipped {
  const char* file;
  const char* reason;
};
constexpr Skipped kJsonOnlyExamples[] = {
    {"jws/4_6.protecting_specific_header_fields.json",
     "kid is in the unprotected header, which the compact serialization cannot carry"},
    {"jws/4_7.protecting_content_only.json",
     "no protected header at all: the signing input starts with '.', and alg is unprotected"},
    {"jws/4_8.multiple_signatures.json",
     "three signatures over one payload: JSON serialization only"},
};

std::string decode(const json& text) {
  auto bytes = tegata::base64url_decode(text.get<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

AnyKey import(const json& jwk, Algorithm alg, KeyOperation op) {
  auto key = keys::import_jwk(jwk, {.algorithm = alg, .operation = op});
  INFO("import of " << jwk.value("kid", "(no kid)") << " failed: " << key.error().message());
  REQUIRE(key);
  return *key;
}

bool is_deterministic(Algorithm alg) {
  // RSASSA-PKCS1-v1_5, HMAC and EdDSA; PSS and ECDSA are randomised.
  return tegata::is_hmac(alg) || alg == Algorithm::RS256 || alg == Algorithm::RS384 ||
         alg == Algorithm::RS512 || alg == Algorithm::EdDSA;
}

// One signature checked at the key level: the published signature over the published signing
// input, a fresh one (identical when the scheme is deterministic), and a changed byte.
void check_signature(const AnyKey& signer, const AnyKey& verifier, std::string_view sig_input,
                     const std::string& signature, bool reproducible) {
  CHECK(verifier.verify_raw(sig_input, signature));
  CHECK(signer.verify_raw(sig_input, signature));
  auto fresh = signer.sign_raw(sig_input);
  REQUIRE(fresh);
  CHECK(verifier.verify_raw(sig_input, *fresh));
  if (reproducible) CHECK(*fresh == signature);
  std::string changed = signature;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  CHECK_FALSE(verifier.verify_raw(sig_input, changed));
  std::string other_input(sig_input);
  other_input.back() = other_input.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(verifier.verify_raw(other_input, signature));
}

std::error_code verify_compact(const AnyKey& key, const std::string& token) {
  auto parsed = tegata::jws::parse(token);
  REQUIRE(parsed);
  return key.verify(*parsed);
}

}  // namespace

TEST_CASE("RFC 7520 and RFC 8037 compact JWS examples", "[cookbook]") {
  std::size_t run = 0;
  for (const char* file : kCompactExamples) {
    INFO(file);
    const json example = tegata_test::load_vector_file(std::string("jose-cookbook/") + file);
    const json& input = example.at("input");
    const json& signing = example.at("signing");
    REQUIRE(example.at("output").contains("compact"));
    const std::string compact = example.at("output").at("compact").get<std::string>();
    const auto alg = tegata::algorithm_from_string(input.at("alg").get<std::string>());
    REQUIRE(alg);
    const bool reproducible = example.value("reproducible", false);
    CHECK(reproducible == is_deterministic(*alg));

    const AnyKey signer = import(input.at("key"), *alg, KeyOperation::sign);
    const AnyKey verifier = import(input.at("key"), *alg, KeyOperation::verify);
    CHECK(signer.can_sign());
    CHECK(verifier.can_sign() == signer.is_symmetric());

    const std::string sig_input = signing.at("sig-input").get<std::string>();
    const std::string signature = decode(signing.at("sig"));
    CHECK(sig_input == signing.at("protected_b64u").get<std::string>() + "." +
                           tegata::base64url_encode(input.at("payload").get<std::string>()));
    check_signature(signer, verifier, sig_input, signature, reproducible);

    auto parsed = tegata::jws::parse(compact);
    REQUIRE(parsed);
    CHECK(parsed->header.alg == tegata::to_string(*alg));
    CHECK(parsed->signature == signature);
    if (parsed->encoded_payload.empty()) {
      // 4.5, detached content: the token carries no payload, so as received its signature
      // cannot verify; with the payload supplied out of band it does.
      CHECK(verifier.verify(*parsed) == errc::bad_signature);
      const std::string attached = std::string(parsed->signing_input) +
                                   tegata::base64url_encode(input.at("payload").get<std::string>());
      CHECK(attached == sig_input);
      CHECK(verifier.verify_raw(attached, parsed->signature));
    } else {
      CHECK(parsed->signing_input == sig_input);
      CHECK_FALSE(verifier.verify(*parsed));
      CHECK_FALSE(signer.verify(*parsed));
      CHECK(tegata::jws::decode_payload(*parsed).value() == input.at("payload").get<std::string>());

      // A changed signature byte, and a changed payload byte.
      std::string bad = signature;
      bad[0] = static_cast<char>(bad[0] ^ 0x80);
      const std::string bad_signature =
          std::string(parsed->signing_input) + "." + tegata::base64url_encode(bad);
      CHECK(verify_compact(verifier, bad_signature) == errc::bad_signature);
      std::string payload = input.at("payload").get<std::string>();
      payload[0] = static_cast<char>(payload[0] ^ 0x01);
      const std::string bad_payload = signing.at("protected_b64u").get<std::string>() + "." +
                                      tegata::base64url_encode(payload) + "." +
                                      tegata::base64url_encode(signature);
      CHECK(verify_compact(verifier, bad_payload) == errc::bad_signature);
    }
    ++run;
  }
  CHECK(run == 6);
}

TEST_CASE("RFC 7520 examples without a compact form", "[cookbook]") {
  for (const Skipped& skipped : kJsonOnlyExamples) {
    DYNAMIC_SECTION(skipped.file) {
      const json example =
          tegata_test::load_vector_file(std::string("jose-cookbook/") + skipped.file);
      // Still true of the file: no compact output, so the skip stays justified.
      REQUIRE_FALSE(example.at("output").contains("compact"));
      WARN("skipped as a compact token: " << skipped.file << ": " << skipped.reason);
      const json& input = example.at("input");
      const bool several = example.at("signing").is_array();
      const std::size_t count = several ? example.at("signing").size() : 1;
      REQUIRE(count == (several ? 3u : 1u));
      for (std::size_t i = 0; i < count; ++i) {
        const json& signing = several ? example.at("signing").at(i) : example.at("signing");
        const json& jwk = several ? input.at("key").at(i) : input.at("key");
        const auto alg = tegata::algorithm_from_string(
            (several ? input.at("alg").at(i) : input.at("alg")).get<std::string>());
        REQUIRE(alg);
        const AnyKey signer = import(jwk, *alg, KeyOperation::sign);
        const AnyKey verifier = import(jwk, *alg, KeyOperation::verify);
        check_signature(signer, verifier, signing.at("sig-input").get<std::string>(),
                        decode(signing.at("sig")), is_deterministic(*alg));
      }
    }
  }
}

TEST_CASE("every cookbook JWS example is either run or listed as skipped", "[cookbook]") {
  tegata_test::load_vector_file(
      "jose-cookbook/jws/4_1.rsa_v15_signature.json");  // skips/fails without vectors
  std::set<std::string> known;
  for (const char* file : kCompactExamples) known.insert(file);
  for (const Skipped& skipped : kJsonOnlyExamples) known.insert(skipped.file);
  std::size_t seen = 0;
  for (const char* folder : {"jws", "curve25519"}) {
    const auto dir = std::filesystem::path(TEGATA_VECTORS_DIR) / "jose-cookbook" / folder;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = std::string(folder) + "/" + entry.path().filename().string();
      INFO(name);
      CHECK(known.count(name) == 1);
      ++seen;
    }
  }
  CHECK(seen == known.size());
  CHECK(std::size(kCompactExamples) == 6);
  CHECK(std::size(kJsonOnlyExamples) == 3);
}

TEST_CASE("the cookbook JWKs", "[cookbook][jwk]") {
  const json ec_public = tegata_test::load_vector_file("jose-cookbook/jwk/3_1.ec_public_key.json");
  const json ec_private =
      tegata_test::load_vector_file("jose-cookbook/jwk/3_2.ec_private_key.json");
  const json rsa_public =
      tegata_test::load_vector_file("jose-cookbook/jwk/3_3.rsa_public_key.json");
  const json rsa_private =
      tegata_test::load_vector_file("jose-cookbook/jwk/3_4.rsa_private_key.json");
  const json oct =
      tegata_test::load_vector_file("jose-cookbook/jwk/3_5.symmetric_key_mac_computation.json");

  struct Pair {
    const json& pub;
    const json& priv;
    Algorithm alg;
  };
  for (const Pair& pair : {Pair{ec_public, ec_private, Algorithm::ES512},
                           Pair{rsa_public, rsa_private, Algorithm::PS256}}) {
    DYNAMIC_SECTION(pair.pub.at("kty").get<std::string>()) {
      // Neither JWK names an algorithm: the caller must.
      CHECK(keys::import_jwk(pair.pub).error() == errc::unsupported_algorithm);
      const AnyKey verifier = import(pair.pub, pair.alg, KeyOperation::verify);
      const AnyKey signer = import(pair.priv, pair.alg, KeyOperation::sign);
      CHECK(verifier.kid() == "bilbo.baggins@hobbiton.example");
      CHECK_FALSE(verifier.can_sign());
      CHECK(keys::import_jwk(pair.pub, {.algorithm = pair.alg, .operation = KeyOperation::sign})
                .error() == errc::key_cannot_sign);

      // Exports reproduce the cookbook's members exactly, plus "alg".
      json expected_public = pair.pub;
      expected_public["alg"] = tegata::to_string(pair.alg);
      CHECK(keys::public_jwk(verifier).value() == expected_public);
      CHECK(keys::public_jwk(signer).value() == expected_public);
      json expected_private = pair.priv;
      expected_private["alg"] = tegata::to_string(pair.alg);
      CHECK(keys::private_jwk(signer).value() == expected_private);

      const std::string thumbprint = keys::thumbprint_sha256(pair.pub).value();
      CHECK(keys::thumbprint_sha256(pair.priv).value() == thumbprint);
      CHECK(keys::thumbprint_sha256(signer).value() == thumbprint);
      CHECK(keys::thumbprint_sha256(verifier).value() == thumbprint);

      auto signature = signer.sign_raw("It's a dangerous business, Frodo");
      REQUIRE(signature);
      CHECK(verifier.verify_raw("It's a dangerous business, Frodo", *signature));
    }
  }

  SECTION("the symmetric key") {
    const AnyKey key = import(oct, Algorithm::HS256, KeyOperation::verify);
    CHECK(key.kid() == "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
    CHECK(keys::public_jwk(key).error() == errc::not_supported);
    CHECK(keys::private_jwk(key).value() == oct);
    CHECK(keys::import_jwk(oct, {.algorithm = Algorithm::HS512}).error() ==
          errc::unsupported_algorithm);
  }

  SECTION("the RFC 8037 Ed25519 key and its thumbprint (RFC 8037 Appendix A.3)") {
    const json example = tegata_test::load_vector_file("jose-cookbook/curve25519/jws.json");
    const json& jwk = example.at("input").at("key");
    const AnyKey signer = import(jwk, Algorithm::EdDSA, KeyOperation::sign);
    auto pub = keys::public_jwk(signer);
    REQUIRE(pub);
    CHECK_FALSE(pub->contains("d"));
    CHECK(pub->at("x") == jwk.at("x"));
    CHECK(keys::thumbprint_sha256(jwk).value() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    CHECK(keys::thumbprint_sha256(signer).value() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    auto named = keys::with_thumbprint_kid(signer);
    REQUIRE(named);
    CHECK(named->kid() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  }
}
