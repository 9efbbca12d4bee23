// verify_jwt_claims and VerifiedJwt (tegata/verified_jwt.hpp): every getter on a payload of each
// JSON reader, ownership (the token may go, the object may move), every rejection with
// verify_jwt's code, and the differential property of tests/fuzz/properties.hpp
// (check_same_as_verify_jwt) over generated payloads and the RFC 7520 and Wycheproof vectors.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fuzz/properties.hpp"
#include "support/vectors.hpp"
#include "tegata/tegata.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using tegata::errc;
using tegata_fuzz::kNow;

const tegata::HmacKey& key() { return tegata_fuzz::hs256_key(); }

// A token over exactly these header and payload bytes, signed by key().
std::string forge(std::string_view header, std::string_view payload,
                  const tegata::HmacKey& signer = key()) {
  std::string input = tegata::jws::make_signing_input(header, payload);
  auto signature = signer.sign_raw(input);
  REQUIRE(signature);
  return tegata::jws::finish_compact(std::move(input), *signature);
}

constexpr std::string_view kHeader = R"({"alg":"HS256","kid":"k1","typ":"JWT"})";

const tegata::Validator& validator() {
  static const tegata::Validator v(
      tegata::ValidatorOptions{.issuer = "iss-1", .audience = "api", .leeway = 30s});
  return v;
}

// Whether the claims reader takes text with the flat reader (no DOM built).
bool flat_reader_takes(std::string_view payload) {
  tegata::detail::json_object_storage read;
  REQUIRE_FALSE(tegata::detail::read_claims_object(payload, tegata::jws::Limits{}, read));
  return !read.dom.has_value();
}

std::chrono::sys_seconds at(std::int64_t seconds) {
  return std::chrono::sys_seconds{std::chrono::seconds{seconds}};
}

}  // namespace

TEST_CASE("verified_jwt: every getter, on a payload the flat reader reads", "[verified_jwt]") {
  const std::string payload =
      R"({"iss":"iss-1","sub":"alice","aud":["web","api"],"exp":1700000600,"nbf":1699999000,)"
      R"("iat":1699999900,"jti":"id-7","role":"admin","level":42,"admin":true,"off":false,)"
      R"("groups":["a","b"],"none":[],"nothing":null,"big":9223372036854775808})";
  REQUIRE(flat_reader_takes(payload));
  const std::string token = forge(kHeader, payload);
  const auto jwt = tegata::verify_jwt_claims(token, key(), validator(), kNow);
  REQUIRE(jwt);

  CHECK(jwt->header().alg == "HS256");
  CHECK(jwt->header().kid == "k1");
  CHECK(jwt->header().has_kid);
  CHECK(jwt->header().typ == "JWT");
  CHECK(jwt->header().has_typ);
  CHECK(jwt->issuer() == "iss-1");
  CHECK(jwt->subject() == "alice");
  CHECK(jwt->jwt_id() == "id-7");
  CHECK(jwt->expires_at() == at(1700000600));
  CHECK(jwt->not_before() == at(1699999000));
  CHECK(jwt->issued_at() == at(1699999900));
  CHECK(jwt->has_audience("api"));
  CHECK(jwt->has_audience("web"));
  CHECK_FALSE(jwt->has_audience("ap"));
  CHECK(jwt->audiences() == std::vector<std::string>{"web", "api"});

  CHECK(jwt->string_claim("role").value() == "admin");
  CHECK(jwt->integer_claim("level").value() == 42);
  CHECK(jwt->bool_claim("admin").value());
  CHECK_FALSE(jwt->bool_claim("off").value());
  CHECK(jwt->string_array_claim("groups").value() == std::vector<std::string>{"a", "b"});
  CHECK(jwt->string_array_claim("none").value().empty());
  CHECK(jwt->has_claim("nothing"));
  CHECK(jwt->has_claim("exp"));
  CHECK_FALSE(jwt->has_claim("missing"));

  // Absent, another type, too large for std::int64_t, a registered name.
  CHECK(jwt->string_claim("missing").error() == errc::not_found);
  CHECK(jwt->integer_claim("role").error() == errc::invalid_claim);
  CHECK(jwt->string_claim("level").error() == errc::invalid_claim);
  CHECK(jwt->bool_claim("nothing").error() == errc::invalid_claim);
  CHECK(jwt->string_array_claim("role").error() == errc::invalid_claim);
  CHECK(jwt->integer_claim("big").error() == errc::invalid_claim);
  for (const char* registered : {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}) {
    INFO(registered);
    CHECK(jwt->string_claim(registered).error() == errc::invalid_argument);
    CHECK(jwt->integer_claim(registered).error() == errc::invalid_argument);
  }

  const tegata::Claims claims = jwt->claims();
  CHECK(claims.issuer == "iss-1");
  CHECK(claims.subject == "alice");
  CHECK(claims.audience == std::vector<std::string>{"web", "api"});
  CHECK(claims.expires_at == at(1700000600));
  CHECK(claims.jwt_id == "id-7");
  CHECK(jwt->payload() == json::parse(payload));
  CHECK(jwt->payload().dump() == json::parse(payload).dump());
}

TEST_CASE("verified_jwt: every getter, on a payload only the strict reader reads",
          "[verified_jwt]") {
  // A float, a nested object, an escape, non-ASCII and a negative number: the DOM path.
  const std::string payload =
      R"({"iss":"iss-1","sub":"b\u00f6b","aud":"api","exp":1700000600.75,"iat":1699999900,)"
      R"("score":1.5,"ctx":{"a":[1,2]},"name":"Zo\u00eb \"Z\"","delta":-5,"one":1.0,)"
      R"("tags":["x","\u00e9"],"mixed":["x",1],"flag":true,"n":7})";
  REQUIRE_FALSE(flat_reader_takes(payload));
  const std::string token = forge(kHeader, payload);
  const auto jwt = tegata::verify_jwt_claims(token, key(), validator(), kNow);
  REQUIRE(jwt);

  CHECK(jwt->issuer() == "iss-1");
  CHECK(jwt->subject() == "b\303\266b");
  CHECK_FALSE(jwt->jwt_id());
  CHECK(jwt->expires_at() == at(1700000600));  // a fraction is truncated
  CHECK_FALSE(jwt->not_before());
  CHECK(jwt->issued_at() == at(1699999900));
  CHECK(jwt->has_audience("api"));
  CHECK_FALSE(jwt->has_audience("web"));
  CHECK(jwt->audiences() == std::vector<std::string>{"api"});

  CHECK(jwt->string_claim("name").value() == "Zo\xc3\xab \"Z\"");
  CHECK(jwt->integer_claim("delta").value() == -5);
  CHECK(jwt->integer_claim("n").value() == 7);
  CHECK(jwt->integer_claim("one").error() == errc::invalid_claim);  // 1.0 is not an integer
  CHECK(jwt->integer_claim("score").error() == errc::invalid_claim);
  CHECK(jwt->bool_claim("flag").value());
  CHECK(jwt->string_array_claim("tags").value() == std::vector<std::string>{"x", "\xc3\xa9"});
  CHECK(jwt->string_array_claim("mixed").error() == errc::invalid_claim);
  CHECK(jwt->string_array_claim("ctx").error() == errc::invalid_claim);
  CHECK(jwt->string_claim("ctx").error() == errc::invalid_claim);
  CHECK(jwt->has_claim("ctx"));
  CHECK(jwt->string_claim("aud").error() == errc::invalid_argument);

  const tegata::Claims claims = jwt->claims();
  CHECK(claims.subject == "b\303\266b");
  CHECK(claims.audience == std::vector<std::string>{"api"});
  CHECK(jwt->payload() == json::parse(payload));
  CHECK(jwt->payload().at("ctx") == json{{"a", {1, 2}}});
}

TEST_CASE("verified_jwt: owns its state; views survive moves, the token may go", "[verified_jwt]") {
  for (const std::string& payload :
       {std::string(R"({"iss":"iss-1","aud":"api","exp":1700000600,"sub":"carol","r":"x"})"),
        std::string(
            R"({"iss":"iss-1","aud":"api","exp":1700000600,"sub":"carol","r":"x","f":0.5})")}) {
    INFO(payload);
    auto token = std::make_unique<std::string>(forge(kHeader, payload));
    auto result = tegata::verify_jwt_claims(*token, key(), validator(), kNow);
    REQUIRE(result);
    // Overwritten, then freed: a view into it would read garbage (and AddressSanitizer would stop).
    std::fill(token->begin(), token->end(), '#');
    token.reset();

    const std::string_view subject = *result->subject();  // a view into the VerifiedJwt
    const std::string_view custom = result->string_claim("r").value();
    tegata::VerifiedJwt moved = std::move(*result);
    CHECK(subject == "carol");
    CHECK(custom == "x");
    CHECK(moved.subject() == "carol");
    CHECK(moved.subject()->data() == subject.data());  // the same bytes, not a copy
    CHECK(moved.string_claim("r").value() == "x");
    CHECK(moved.payload().at("sub") == "carol");

    // The moved-from object holds nothing, and says so.
    const tegata::VerifiedJwt& from = *result;
    CHECK(from.header().alg.empty());
    CHECK_FALSE(from.issuer());
    CHECK_FALSE(from.subject());
    CHECK_FALSE(from.expires_at());
    CHECK_FALSE(from.has_audience("api"));
    CHECK_FALSE(from.audiences());
    CHECK_FALSE(from.has_claim("sub"));
    CHECK(from.string_claim("r").error() == errc::not_found);
    CHECK_FALSE(from.claims().subject);
    CHECK(from.payload() == json::object());

    // Move-assigned over another, and moved again: still the same bytes.
    auto other = tegata::verify_jwt_claims(
        forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":1700000600,"sub":"dave"})"), key(),
        validator(), kNow);
    REQUIRE(other);
    *other = std::move(moved);
    tegata::VerifiedJwt last(std::move(*other));
    CHECK(last.subject()->data() == subject.data());
    CHECK(subject == "carol");
    CHECK(last.header().kid == "k1");
  }
}

TEST_CASE("verified_jwt: every rejection is verify_jwt's, in verify_jwt's order",
          "[verified_jwt]") {
  const std::string ok_claims = R"({"iss":"iss-1","aud":"api","exp":1700000600})";
  const tegata::HmacKey hs384(tegata::Algorithm::HS384,
                              "a 48-byte secret for HS384, test only, 0123456789ab");
  struct Case {
    const char* what;
    std::string token;
    errc expected;
  };
  const std::vector<Case> cases = {
      {"too long", std::string(9000, 'a'), errc::too_large},
      {"two segments", "abc.def", errc::malformed},
      {"empty signature",
       forge(kHeader, ok_claims).substr(0, forge(kHeader, ok_claims).rfind('.') + 1),
       errc::malformed},
      {"header not base64url", "a*b." + tegata::base64url_encode(ok_claims) + ".c2ln",
       errc::bad_encoding},
      {"header not JSON", forge("{alg", ok_claims), errc::bad_json},
      {"alg none", forge(R"({"alg":"none"})", ok_claims), errc::unsupported_algorithm},
      {"another algorithm", forge(R"({"alg":"HS384"})", ok_claims, hs384),
       errc::unsupported_algorithm},
      {"crit", forge(R"({"alg":"HS256","crit":["b64"]})", ok_claims), errc::unsupported_critical},
      {"bad signature", forge(kHeader, ok_claims, tegata_fuzz::other_hs256_key()),
       errc::bad_signature},
      {"typ", forge(R"({"alg":"HS256","typ":"at+jwt"})", ok_claims), errc::wrong_type},
      {"payload not JSON", forge(kHeader, "not json"), errc::bad_json},
      {"payload an array", forge(kHeader, "[1]"), errc::bad_json},
      {"duplicate claim", forge(kHeader, R"({"iss":"iss-1","iss":"iss-1"})"),
       errc::duplicate_member},
      {"too deep", forge(kHeader, R"({"a":)" + std::string(20, '[') + std::string(20, ']') + "}"),
       errc::too_deep},
      {"iss a number", forge(kHeader, R"({"iss":1,"aud":"api","exp":1700000600})"),
       errc::invalid_claim},
      {"aud [1]", forge(kHeader, R"({"iss":"iss-1","aud":[1],"exp":1700000600})"),
       errc::invalid_claim},
      {"exp a string", forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":"soon"})"),
       errc::invalid_claim},
      {"iat negative", forge(kHeader, R"({"iss":"x","aud":"api","exp":1,"iat":-1})"),
       errc::invalid_claim},  // types first, before iss and the times
      {"no iss", forge(kHeader, R"({"aud":"api","exp":1700000600})"), errc::missing_claim},
      {"another iss", forge(kHeader, R"({"iss":"iss-2","aud":"api","exp":1})"),
       errc::wrong_issuer},  // before the times
      {"no aud", forge(kHeader, R"({"iss":"iss-1","exp":1700000600})"), errc::missing_claim},
      {"another aud", forge(kHeader, R"({"iss":"iss-1","aud":["web"],"exp":1})"),
       errc::wrong_audience},
      {"no exp", forge(kHeader, R"({"iss":"iss-1","aud":"api"})"), errc::missing_claim},
      {"expired", forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":1699999970})"), errc::expired},
      {"not yet",
       forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":1700000600,"nbf":1700000031})"),
       errc::not_yet_valid},
      {"issued later",
       forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":1700000600,"iat":1700000031})"),
       errc::issued_in_future},
      {"accepted (leeway)", forge(kHeader, R"({"iss":"iss-1","aud":"api","exp":1699999971})"),
       errc{}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const auto jwt = tegata::verify_jwt(c.token, key(), validator(), kNow);
    const auto verified = tegata::verify_jwt_claims(c.token, key(), validator(), kNow);
    CHECK(jwt.error() == verified.error());
    if (c.expected == errc{}) {
      CHECK(verified);
    } else {
      CHECK(verified.error() == c.expected);
    }
    CHECK_NOTHROW(tegata_fuzz::detail::check_same_as_verify_jwt(c.token, key(), validator(), kNow));
  }
  // The Clock overload reads the clock once, as verify_jwt's does.
  tegata::ManualClock clock(kNow);
  const std::string token = forge(kHeader, ok_claims);
  CHECK(tegata::verify_jwt_claims(token, key(), validator(), clock));
  clock.advance(631s);
  CHECK(tegata::verify_jwt_claims(token, key(), validator(), clock).error() == errc::expired);
  CHECK(tegata::verify_jwt(token, key(), validator(), clock).error() == errc::expired);
}

TEST_CASE("verified_jwt: the same answers as verify_jwt on generated payloads",
          "[verified_jwt][differential]") {
  // Members of every kind either reader meets; each payload takes a pseudo-random few of them.
  const std::vector<std::string> members = {R"("iss":"iss-1")",
                                            R"("iss":"other")",
                                            R"("iss":7)",
                                            R"("sub":"s")",
                                            R"("sub":"\u00e9")",
                                            R"("aud":"api")",
                                            R"("aud":["web","api"])",
                                            R"("aud":["web"])",
                                            R"("aud":[])",
                                            R"("aud":["api",2])",
                                            R"("exp":1700000600)",
                                            R"("exp":1700000600.9)",
                                            R"("exp":1)",
                                            R"("exp":-1)",
                                            R"("exp":"x")",
                                            R"("exp":253402300800)",
                                            R"("nbf":1700000100)",
                                            R"("nbf":1.5e9)",
                                            R"("iat":1699999999)",
                                            R"("iat":1800000000)",
                                            R"("jti":"j")",
                                            R"("jti":null)",
                                            R"("role":"r")",
                                            R"("role":"a\"b")",
                                            R"("n":18446744073709551615)",
                                            R"("n":-9223372036854775808)",
                                            R"("n":0)",
                                            R"("b":true)",
                                            R"("b":false)",
                                            R"("z":null)",
                                            R"("o":{"k":[1,{"x":null}]})",
                                            R"("arr":["p","q"])",
                                            R"("arr":[[]])",
                                            R"("f":0.25)",
                                            R"("\u0069ss":"iss-1")",
                                            R"("e\u0078p":1700000600)"};
  const tegata::Validator lenient(
      tegata::ValidatorOptions{.leeway = 60s, .allow_missing_exp = true});
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  const auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::size_t accepted = 0;
  for (int i = 0; i < 600; ++i) {
    std::string payload = "{";
    const std::uint64_t count = next() % 7;
    for (std::uint64_t m = 0; m < count; ++m) {
      if (m != 0) payload += ',';
      payload += members[next() % members.size()];
    }
    payload += '}';
    const std::string token = forge((i & 1) != 0 ? kHeader : R"({"alg":"HS256"})", payload);
    INFO(payload);
    for (const tegata::Validator* v : {&validator(), &lenient}) {
      for (const auto now : {kNow, at(0), at(1'800'000'000)}) {
        CHECK_NOTHROW(tegata_fuzz::detail::check_same_as_verify_jwt(token, key(), *v, now));
        accepted += tegata::verify_jwt(token, key(), *v, now) ? 1 : 0;
      }
    }
  }
  CHECK(accepted > 100);  // the property was checked on accepted tokens, not only on rejections
}

TEST_CASE("verified_jwt: the same answers as verify_jwt on the RFC 7520 compact examples",
          "[verified_jwt][differential][vectors][cookbook]") {
  const tegata::Validator lenient(
      tegata::ValidatorOptions{.leeway = 60s, .allow_missing_exp = true});
  std::size_t run = 0;
  for (const char* file :
       {"jws/4_1.rsa_v15_signature.json", "jws/4_2.rsa-pss_signature.json",
        "jws/4_3.ecdsa_signature.json", "jws/4_4.hmac-sha2_integrity_protection.json",
        "jws/4_5.signature_with_detached_content.json", "curve25519/jws.json"}) {
    INFO(file);
    const json example = tegata_test::load_vector_file(std::string("jose-cookbook/") + file);
    const auto alg =
        tegata::algorithm_from_string(example.at("input").at("alg").get<std::string>());
    REQUIRE(alg);
    const auto verifier =
        tegata::keys::import_jwk(example.at("input").at("key"), {.algorithm = *alg});
    REQUIRE(verifier);
    const std::string compact = example.at("output").at("compact").get<std::string>();
    // As published (their payload is text, not a claims object), and with the payload replaced by
    // claims, which the key's own signature then covers when it can sign.
    for (const tegata::Validator* v : {&validator(), &lenient}) {
      CHECK_NOTHROW(tegata_fuzz::detail::check_same_as_verify_jwt(compact, *verifier, *v, kNow));
    }
    const auto signer = tegata::keys::import_jwk(
        example.at("input").at("key"),
        {.algorithm = *alg, .operation = tegata::keys::KeyOperation::sign});
    REQUIRE(signer);
    const std::string header = tegata::jws::make_header(tegata::to_string(*alg), signer->kid(), "");
    std::string input = tegata::jws::make_signing_input(
        header, R"({"iss":"iss-1","aud":"api","exp":1700000600,"sub":"cookbook","x":[1.5]})");
    auto signature = signer->sign_raw(input);
    REQUIRE(signature);
    const std::string token = tegata::jws::finish_compact(std::move(input), *signature);
    CHECK(tegata::verify_jwt_claims(token, *verifier, validator(), kNow));
    for (const tegata::Validator* v : {&validator(), &lenient}) {
      CHECK_NOTHROW(tegata_fuzz::detail::check_same_as_verify_jwt(token, *verifier, *v, kNow));
    }
    ++run;
  }
  CHECK(run == 6);
}

TEST_CASE("verified_jwt: the same answers as verify_jwt with the Wycheproof HMAC keys and messages",
          "[verified_jwt][differential][vectors]") {
  const json file = tegata_test::load_vector_file("wycheproof/hmac_sha256_test.json");
  const tegata::Validator lenient(
      tegata::ValidatorOptions{.leeway = 60s, .allow_missing_exp = true});
  std::size_t run = 0;
  for (const json& group : file.at("testGroups")) {
    if (group.at("keySize").get<int>() < 256) continue;  // HmacKey refuses a shorter HS256 secret
    for (const json& test : group.at("tests")) {
      const tegata::HmacKey hmac(tegata::Algorithm::HS256,
                                 tegata_test::hex_decode(test.at("key").get<std::string>()));
      const std::string message = tegata_test::hex_decode(test.at("msg").get<std::string>());
      // The message as the payload (bytes, rarely JSON), and as a claim's value; signed by the
      // vector's key, and with the vector's tag, which signs something else.
      const std::string claims =
          json{{"iss", "iss-1"}, {"aud", "api"}, {"exp", 1700000600}, {"m", test.at("msg")}}.dump();
      std::string input = tegata::jws::make_signing_input(kHeader, message);
      const std::string with_tag = tegata::jws::finish_compact(
          input, tegata_test::hex_decode(test.at("tag").get<std::string>()));
      for (const std::string& token :
           {forge(kHeader, message, hmac), forge(kHeader, claims, hmac), with_tag}) {
        for (const tegata::Validator* v : {&validator(), &lenient}) {
          CHECK_NOTHROW(tegata_fuzz::detail::check_same_as_verify_jwt(token, hmac, *v, kNow));
        }
      }
      ++run;
    }
  }
  CHECK(run > 100);
}
