// HmacKey against third-party vectors: every case of Wycheproof's HMAC-SHA-256/384/512 files,
// and the RFC 7520 §4.4 HS256 example from the JOSE cookbook.
#include <array>
#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../support/vectors.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jws.hpp"

namespace {

using tegata::Algorithm;
using tegata::HmacKey;

// Cases that cannot be asserted at all, with the reason. Currently none: every Wycheproof HMAC
// case maps onto one of the assertions below. An entry here is counted as skipped.
struct Skip {
  std::string_view file;
  int tc_id;
  std::string_view reason;
};
constexpr std::array<Skip, 0> kSkips{};

const Skip* find_skip(std::string_view file, int tc_id) {
  for (const auto& s : kSkips) {
    if (s.file == file && s.tc_id == tc_id) return &s;
  }
  return nullptr;
}

// Runs one Wycheproof HMAC file. RFC 7518 §3.2 lets a JWS HMAC use only a full-length tag and a
// key at least as long as the hash, so:
//  - full tag, long enough key: verify_raw must match the label, and sign_raw must reproduce a
//    valid tag exactly;
//  - key shorter than the hash: HmacKey must refuse the key at construction;
//  - truncated tag (with an acceptable key): verify_raw must be false whatever the label, since
//    a JWS verifier never accepts a truncated MAC; for valid cases the truncated tag must still
//    be a prefix of sign_raw's output, which shows the MAC itself is right.
void run_wycheproof_hmac(const std::string& file, Algorithm alg, std::size_t hash_bits) {
  const nlohmann::json doc = tegata_test::load_vector_file("wycheproof/" + file);
  const std::size_t hash_bytes = hash_bits / 8;
  tegata_test::VectorTally tally;
  std::size_t listed = 0, full = 0, short_key = 0, truncated = 0;

  for (const auto& group : doc.at("testGroups")) {
    REQUIRE(group.at("type") == "MacTest");
    const std::size_t tag_bits = group.at("tagSize").get<std::size_t>();
    for (const auto& test : group.at("tests")) {
      ++listed;
      const int tc_id = test.at("tcId").get<int>();
      const std::string result = test.at("result").get<std::string>();
      const std::string key = tegata_test::hex_decode(test.at("key").get<std::string>());
      const std::string msg = tegata_test::hex_decode(test.at("msg").get<std::string>());
      const std::string tag = tegata_test::hex_decode(test.at("tag").get<std::string>());
      INFO(file << " tcId " << tc_id << " (" << result << ", key " << key.size() * 8
                << " bits, tag " << tag_bits
                << " bits): " << test.at("comment").get<std::string>());

      if (const Skip* skip = find_skip(file, tc_id)) {
        INFO("skipped: " << skip->reason);
        ++tally.skipped;
        continue;
      }
      if (result == "acceptable") {
        // Either outcome is allowed; none of the HMAC files has such a case today.
        if (key.size() >= hash_bytes) (void)HmacKey(alg, key).verify_raw(msg, tag);
        ++tally.observed;
        continue;
      }
      REQUIRE((result == "valid" || result == "invalid"));
      const bool valid = result == "valid";

      if (key.size() < hash_bytes) {
        CHECK_THROWS_AS(HmacKey(alg, key), std::invalid_argument);
        ++short_key;
      } else if (tag_bits == hash_bits) {
        const HmacKey hmac(alg, key);
        CHECK(hmac.verify_raw(msg, tag) == valid);
        if (valid) CHECK(hmac.sign_raw(msg).value() == tag);
        ++full;
      } else {
        REQUIRE(tag_bits < hash_bits);
        const HmacKey hmac(alg, key);
        CHECK_FALSE(hmac.verify_raw(msg, tag));
        if (valid) {
          REQUIRE(tag.size() == tag_bits / 8);
          CHECK(hmac.sign_raw(msg).value().substr(0, tag.size()) == tag);
        }
        ++truncated;
      }
      ++tally.run;
    }
  }

  const std::size_t declared = doc.at("numberOfTests").get<std::size_t>();
  INFO(file << ": " << full << " full-tag cases, " << short_key << " short keys, " << truncated
            << " truncated tags, " << tally.observed << " observed, " << tally.skipped
            << " skipped");
  CHECK(listed == declared);
  CHECK(tally.total() == declared);
  CHECK(tally.run + tally.skipped == declared);
  CHECK(full > 0);  // the groups that matter for JWS really ran
}

}  // namespace

TEST_CASE("hmac_vectors: Wycheproof HMAC-SHA-256", "[hmac_vectors][vectors]") {
  run_wycheproof_hmac("hmac_sha256_test.json", Algorithm::HS256, 256);
}

TEST_CASE("hmac_vectors: Wycheproof HMAC-SHA-384", "[hmac_vectors][vectors]") {
  run_wycheproof_hmac("hmac_sha384_test.json", Algorithm::HS384, 384);
}

TEST_CASE("hmac_vectors: Wycheproof HMAC-SHA-512", "[hmac_vectors][vectors]") {
  run_wycheproof_hmac("hmac_sha512_test.json", Algorithm::HS512, 512);
}

TEST_CASE("hmac_vectors: RFC 7520 4.4 HMAC-SHA2 integrity protection", "[hmac_vectors][vectors]") {
  const nlohmann::json doc =
      tegata_test::load_vector_file("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json");
  const auto& jwk = doc.at("input").at("key");
  REQUIRE(jwk.at("kty") == "oct");
  REQUIRE(jwk.at("alg") == "HS256");
  const std::string secret = tegata::base64url_decode(jwk.at("k").get<std::string>()).value();
  const std::string kid = jwk.at("kid").get<std::string>();
  const HmacKey key(Algorithm::HS256, secret, kid);

  // The compact serialization verifies (its payload is plain text, not a JWT: no verify_jwt).
  const std::string compact = doc.at("output").at("compact").get<std::string>();
  const auto parsed = tegata::jws::parse(compact);
  REQUIRE(parsed.has_value());
  CHECK(parsed->header.alg == "HS256");
  CHECK(parsed->header.kid == kid);
  CHECK_FALSE(parsed->header.has_typ);
  CHECK(parsed->signing_input == doc.at("signing").at("sig-input").get<std::string>());
  CHECK(key.verify(*parsed) == std::error_code{});
  CHECK(tegata::jws::decode_payload(*parsed).value() ==
        doc.at("input").at("payload").get<std::string>());

  // HS256 is deterministic: the signature is reproduced exactly.
  const std::string sig_input = doc.at("signing").at("sig-input").get<std::string>();
  const std::string expected_sig =
      tegata::base64url_decode(doc.at("signing").at("sig").get<std::string>()).value();
  CHECK(key.sign_raw(sig_input).value() == expected_sig);
  // tegata writes the same protected header ({"alg","kid"} in this order), so the whole token is
  // reproduced too.
  CHECK(key.sign(tegata::TokenType{}, doc.at("input").at("payload").get<std::string>()).value() ==
        compact);

  // One flipped byte of the signature fails.
  for (std::size_t i : {std::size_t{0}, expected_sig.size() / 2, expected_sig.size() - 1}) {
    std::string flipped = expected_sig;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    INFO("flipped signature byte " << i);
    CHECK_FALSE(key.verify_raw(sig_input, flipped));
    const std::string token = tegata::jws::finish_compact(sig_input, flipped);
    const auto tampered = tegata::jws::parse(token);
    REQUIRE(tampered.has_value());
    CHECK(key.verify(*tampered) == tegata::errc::bad_signature);
  }
  // So does another key id.
  CHECK(HmacKey(Algorithm::HS256, secret, "other").verify(*parsed) == tegata::errc::unknown_key);
}
