// Wycheproof signature vectors (../shared/vectors/wycheproof, README §1) for every asymmetric JWS
// algorithm: ECDSA in the fixed-width R||S form (ES256, ES384, ES512, ES256K), Ed25519 and Ed448,
// RSASSA-PKCS1-v1_5 verification and deterministic signing, RSASSA-PSS.
//
// Keys are imported from the files' DER fields with keys::parse_der, so these cases test DER
// import too. Each case runs at the key's raw primitive (sign_raw/verify_raw): the messages are
// arbitrary bytes, not JWS signing inputs. valid must verify, invalid must not, acceptable is
// recorded without a verdict. Every skip is listed in kSkips below with its reason and count,
// and each file must account for exactly numberOfTests cases.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../support/vectors.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using nlohmann::json;
using tegata::Algorithm;
using tegata_test::hex_decode;
using tegata_test::VectorTally;

constexpr const char* kSmallExponent =
    "public exponent 3: RsaKey refuses e outside odd 2^16 < e < 2^256 (construction is checked to "
    "throw)";
constexpr const char* kNotJws = "RSASSA-PKCS1-v1_5 with this hash is not a JWS algorithm";

// Every case that is not run, per file and reason, with the number of tests it covers.
struct Skip {
  std::string_view file;
  std::string_view reason;
  std::size_t tests;
};

constexpr Skip kSkips[] = {
    {"rsa_signature_2048_sha256_test.json", kSmallExponent, 2},
    {"rsa_signature_2048_sha512_test.json", kSmallExponent, 1},
    {"rsa_signature_3072_sha256_test.json", kSmallExponent, 1},
    {"rsa_signature_3072_sha512_test.json", kSmallExponent, 1},
    {"rsa_pkcs1_2048_sig_gen_test.json", kSmallExponent, 3},
    {"rsa_pkcs1_2048_sig_gen_test.json", kNotJws, 16},  // the SHA-1 and SHA-224 groups
    {"rsa_pkcs1_3072_sig_gen_test.json", kSmallExponent, 2},
};

// Counts a file's cases, and its skips by reason so they can be compared with kSkips.
struct FileRun {
  std::string file;
  VectorTally tally;
  std::map<std::string, std::size_t> skipped_by_reason;

  void skip(const json& group, std::string_view reason) {
    const std::size_t n = group.at("tests").size();
    tally.skipped += n;
    skipped_by_reason[std::string(reason)] += n;
  }

  // Runs or records one case. ok is the primitive's verdict.
  void record(const json& test, bool ok) {
    const std::string& result = test.at("result").get_ref<const std::string&>();
    INFO(file << " tcId " << test.at("tcId").get<int>() << " (" << result
              << "): " << test.at("comment").get<std::string>());
    if (result == "valid") {
      CHECK(ok);
      ++tally.run;
    } else if (result == "invalid") {
      CHECK_FALSE(ok);
      ++tally.run;
    } else {
      REQUIRE(result == "acceptable");
      ++tally.observed;
    }
  }

  void finish(const json& vectors) const {
    INFO(file);
    std::size_t in_groups = 0;
    for (const auto& group : vectors.at("testGroups")) in_groups += group.at("tests").size();
    const auto declared = vectors.at("numberOfTests").get<std::size_t>();
    CHECK(in_groups == declared);
    CHECK(tally.total() == declared);
    std::map<std::string, std::size_t> expected;
    for (const Skip& s : kSkips) {
      if (s.file == file) expected[std::string(s.reason)] += s.tests;
    }
    CHECK(skipped_by_reason == expected);
  }
};

std::optional<Algorithm> hash_to_alg(std::string_view sha, std::string_view family) {
  const char* suffix = sha == "SHA-256"   ? "256"
                       : sha == "SHA-384" ? "384"
                       : sha == "SHA-512" ? "512"
                                          : nullptr;
  if (suffix == nullptr) return std::nullopt;
  return tegata::algorithm_from_string(std::string(family) + suffix);
}

tegata::KeyHandle der_key(const json& group, const char* member) {
  auto key = tegata::keys::parse_der(hex_decode(group.at(member).get<std::string>()));
  REQUIRE(key);
  return std::move(*key);
}

bool small_exponent(const json& public_or_private_key) {
  return public_or_private_key.at("publicExponent").get<std::string>() == "03";
}

}  // namespace

TEST_CASE("Wycheproof ECDSA P1363 vectors verify as ES256/ES384/ES512/ES256K",
          "[signature_vectors][ecdsa]") {
  struct File {
    const char* name;
    Algorithm alg;
  };
  const File file = GENERATE(File{"ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256},
                             File{"ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384},
                             File{"ecdsa_secp521r1_sha512_p1363_test.json", Algorithm::ES512},
                             File{"ecdsa_secp256k1_sha256_p1363_test.json", Algorithm::ES256K});
  const json vectors = tegata_test::load_vector_file(std::string("wycheproof/") + file.name);
  FileRun run{file.name, {}, {}};
  for (const auto& group : vectors.at("testGroups")) {
    REQUIRE(hash_to_alg(group.at("sha").get<std::string>(), "ES") ==
            (file.alg == Algorithm::ES256K ? Algorithm::ES256 : file.alg));
    const tegata::EcdsaKey key(file.alg, der_key(group, "publicKeyDer"));
    REQUIRE_FALSE(key.can_sign());
    for (const auto& test : group.at("tests")) {
      run.record(test, key.verify_raw(hex_decode(test.at("msg").get<std::string>()),
                                      hex_decode(test.at("sig").get<std::string>())));
    }
  }
  run.finish(vectors);
}

TEST_CASE("Wycheproof Ed25519 and Ed448 vectors verify as EdDSA", "[signature_vectors][eddsa]") {
  struct File {
    const char* name;
    tegata::EdCurve curve;
  };
  const File file = GENERATE(File{"ed25519_test.json", tegata::EdCurve::Ed25519},
                             File{"ed448_test.json", tegata::EdCurve::Ed448});
  const json vectors = tegata_test::load_vector_file(std::string("wycheproof/") + file.name);
  FileRun run{file.name, {}, {}};
  for (const auto& group : vectors.at("testGroups")) {
    const tegata::EddsaKey key(der_key(group, "publicKeyDer"));
    REQUIRE(key.curve() == file.curve);
    REQUIRE(key.algorithm() == Algorithm::EdDSA);
    for (const auto& test : group.at("tests")) {
      run.record(test, key.verify_raw(hex_decode(test.at("msg").get<std::string>()),
                                      hex_decode(test.at("sig").get<std::string>())));
    }
  }
  run.finish(vectors);
}

TEST_CASE("Wycheproof RSASSA-PKCS1-v1_5 vectors verify as RS256/RS384/RS512",
          "[signature_vectors][rsa]") {
  const std::string name =
      GENERATE("rsa_signature_2048_sha256_test.json", "rsa_signature_2048_sha384_test.json",
               "rsa_signature_2048_sha512_test.json", "rsa_signature_3072_sha256_test.json",
               "rsa_signature_3072_sha384_test.json", "rsa_signature_3072_sha512_test.json",
               "rsa_signature_4096_sha256_test.json", "rsa_signature_4096_sha384_test.json",
               "rsa_signature_4096_sha512_test.json");
  const json vectors = tegata_test::load_vector_file("wycheproof/" + name);
  FileRun run{name, {}, {}};
  for (const auto& group : vectors.at("testGroups")) {
    const auto alg = hash_to_alg(group.at("sha").get<std::string>(), "RS");
    REQUIRE(alg);
    if (small_exponent(group.at("publicKey"))) {
      CHECK_THROWS_AS(tegata::RsaKey(*alg, der_key(group, "publicKeyDer")), std::invalid_argument);
      run.skip(group, kSmallExponent);
      continue;
    }
    const tegata::RsaKey key(*alg, der_key(group, "publicKeyDer"));
    for (const auto& test : group.at("tests")) {
      run.record(test, key.verify_raw(hex_decode(test.at("msg").get<std::string>()),
                                      hex_decode(test.at("sig").get<std::string>())));
    }
  }
  run.finish(vectors);
}

TEST_CASE("Wycheproof RSASSA-PKCS1-v1_5 signing vectors are reproduced byte for byte",
          "[signature_vectors][rsa]") {
  const std::string name =
      GENERATE("rsa_pkcs1_2048_sig_gen_test.json", "rsa_pkcs1_3072_sig_gen_test.json",
               "rsa_pkcs1_4096_sig_gen_test.json");
  const json vectors = tegata_test::load_vector_file("wycheproof/" + name);
  FileRun run{name, {}, {}};
  for (const auto& group : vectors.at("testGroups")) {
    const auto alg = hash_to_alg(group.at("sha").get<std::string>(), "RS");
    if (!alg) {
      run.skip(group, kNotJws);
      continue;
    }
    if (small_exponent(group.at("privateKey"))) {
      CHECK_THROWS_AS(tegata::RsaKey(*alg, der_key(group, "privateKeyPkcs8")),
                      std::invalid_argument);
      run.skip(group, kSmallExponent);
      continue;
    }
    const tegata::RsaKey signer(*alg, der_key(group, "privateKeyPkcs8"));
    const tegata::RsaKey verifier(*alg, der_key(group, "keyDer"));
    REQUIRE(signer.can_sign());
    REQUIRE_FALSE(verifier.can_sign());
    for (const auto& test : group.at("tests")) {
      const std::string msg = hex_decode(test.at("msg").get<std::string>());
      const std::string expected = hex_decode(test.at("sig").get<std::string>());
      const auto signature = signer.sign_raw(msg);
      REQUIRE(signature);
      const bool ok = *signature == expected && verifier.verify_raw(msg, *signature) &&
                      signer.verify_raw(msg, *signature);
      run.record(test, ok);
    }
  }
  run.finish(vectors);
}

TEST_CASE("Wycheproof RSASSA-PSS vectors verify as PS256/PS384/PS512", "[signature_vectors][rsa]") {
  const std::string name =
      GENERATE("rsa_pss_2048_sha256_mgf1_32_test.json", "rsa_pss_3072_sha256_mgf1_32_test.json",
               "rsa_pss_4096_sha256_mgf1_32_test.json", "rsa_pss_2048_sha384_mgf1_48_test.json",
               "rsa_pss_4096_sha384_mgf1_48_test.json", "rsa_pss_4096_sha512_mgf1_64_test.json");
  const json vectors = tegata_test::load_vector_file("wycheproof/" + name);
  FileRun run{name, {}, {}};
  for (const auto& group : vectors.at("testGroups")) {
    const auto alg = hash_to_alg(group.at("sha").get<std::string>(), "PS");
    REQUIRE(alg);
    // These files are exactly JWS's parameter set: MGF1 over the same hash, salt = hash length.
    REQUIRE(group.at("mgf").get<std::string>() == "MGF1");
    REQUIRE(group.at("mgfSha") == group.at("sha"));
    const std::size_t hash_bytes = *alg == Algorithm::PS256   ? 32
                                   : *alg == Algorithm::PS384 ? 48
                                                              : 64;
    REQUIRE(group.at("sLen").get<std::size_t>() == hash_bytes);
    const tegata::RsaKey key(*alg, der_key(group, "publicKeyDer"));
    for (const auto& test : group.at("tests")) {
      run.record(test, key.verify_raw(hex_decode(test.at("msg").get<std::string>()),
                                      hex_decode(test.at("sig").get<std::string>())));
    }
  }
  run.finish(vectors);
}
