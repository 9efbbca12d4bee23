// Registered claims: NumericDate rules, aud as string or array of strings, string-typed claims.
#include "tegata/claims.hpp"

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tegata/algorithms/hmac.hpp"
#include "tegata/clock.hpp"
#include "tegata/error.hpp"
#include "tegata/jwt.hpp"
#include "tegata/validator.hpp"

namespace {

using nlohmann::json;
using tegata::errc;
using tegata::kMaxNumericDate;
using tegata::parse_claims;
using tegata::parse_numeric_date;

constexpr std::int64_t kNow = 1'700'000'000;

std::chrono::sys_seconds at(std::int64_t s) {
  return std::chrono::sys_seconds{std::chrono::seconds{s}};
}

const tegata::HmacKey& test_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'c'));
  return key;
}

// Signs payload_text verbatim and verifies it at kNow with the strict default validator.
std::error_code verify_payload(std::string_view payload_text) {
  const std::string token = test_key().sign(tegata::TokenType("JWT"), payload_text).value();
  const tegata::ManualClock clock{at(kNow)};
  return tegata::verify_jwt(token, test_key(), tegata::Validator(tegata::ValidatorOptions{}), clock)
      .error();
}

// The claim `name` with the raw JSON value text, next to an exp that passes at kNow.
std::string payload_with(std::string_view name, std::string_view value_text) {
  if (name == "exp") return R"({"exp":)" + std::string(value_text) + "}";
  return R"({"exp":)" + std::to_string(kNow + 600) + R"(,")" + std::string(name) + R"(":)" +
         std::string(value_text) + "}";
}

}  // namespace

TEST_CASE("claims: NumericDate accepts integers, truncates fractions, accepts 0", "[claims]") {
  CHECK(parse_numeric_date(json(0)).value() == at(0));
  CHECK(parse_numeric_date(json(std::uint64_t{0})).value() == at(0));
  CHECK(parse_numeric_date(json(0.0)).value() == at(0));
  CHECK(parse_numeric_date(json(kNow)).value() == at(kNow));
  CHECK(parse_numeric_date(json(std::uint64_t{1'700'000'000})).value() == at(kNow));
  CHECK(parse_numeric_date(json(1.9)).value() == at(1));
  CHECK(parse_numeric_date(json(0.5)).value() == at(0));
  CHECK(parse_numeric_date(json(1'700'000'000.999)).value() == at(kNow));
  CHECK(parse_numeric_date(json(1e9)).value() == at(1'000'000'000));
  // The largest accepted value, 9999-12-31T23:59:59Z, as an integer and as a double.
  CHECK(parse_numeric_date(json(kMaxNumericDate)).value() == at(kMaxNumericDate));
  CHECK(parse_numeric_date(json(static_cast<std::uint64_t>(kMaxNumericDate))).value() ==
        at(kMaxNumericDate));
  CHECK(parse_numeric_date(json(static_cast<double>(kMaxNumericDate))).value() ==
        at(kMaxNumericDate));
}

TEST_CASE("claims: NumericDate refuses wrong types, negatives, non-finite and overflow",
          "[claims]") {
  const double inf = std::numeric_limits<double>::infinity();
  // NaN and infinity cannot come out of JSON text, but a json value can hold them.
  for (const json& value : {json("1700000000"),
                            json(""),
                            json(true),
                            json(false),
                            json(nullptr),
                            json::object(),
                            json{{"t", 1}},
                            json::array(),
                            json::array({1700000000}),
                            json(-1),
                            json(std::numeric_limits<std::int64_t>::min()),
                            json(-0.5),
                            json(-1e-300),
                            json(std::numeric_limits<double>::quiet_NaN()),
                            json(inf),
                            json(-inf),
                            json(kMaxNumericDate + 1),
                            json(static_cast<std::uint64_t>(kMaxNumericDate) + 1),
                            json(std::uint64_t{1} << 63),
                            json(std::numeric_limits<std::uint64_t>::max()),
                            json(std::numeric_limits<std::int64_t>::max()),
                            json(1e300),
                            json(9.3e18),
                            json(static_cast<double>(kMaxNumericDate) + 1.0)}) {
    INFO("value: " << value.dump());
    const auto r = parse_numeric_date(value);
    CHECK_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_claim);
  }
}

TEST_CASE("claims: NumericDate edge cases through a signed token", "[claims]") {
  for (std::string_view claim : {"exp", "nbf", "iat"}) {
    INFO("claim: " << claim);
    for (std::string_view bad : {R"("1700000000")", "true", "false", "null", "{}", "[]",
                                 "[1700000000]", "-1", "-0.5", "-1700000000", "9223372036854775808",
                                 "18446744073709551615", "1e300", "253402300800", "1e19"}) {
      INFO("value: " << bad);
      CHECK(verify_payload(payload_with(claim, bad)) == errc::invalid_claim);
    }
    // Not representable as a double: a JSON parse error, before any claim is read.
    CHECK(verify_payload(payload_with(claim, "1e400")) == errc::bad_json);
    CHECK(verify_payload(payload_with(claim, "-1e400")) == errc::bad_json);
    CHECK(verify_payload(payload_with(claim, "NaN")) == errc::bad_json);
    CHECK(verify_payload(payload_with(claim, "Infinity")) == errc::bad_json);
  }
  // Valid spellings: integer, fraction (truncated), exponent, and 0 for nbf/iat.
  CHECK_FALSE(verify_payload(payload_with("exp", std::to_string(kNow + 1))));
  CHECK_FALSE(verify_payload(payload_with("exp", "1700000001.5")));
  CHECK_FALSE(verify_payload(payload_with("exp", "1.8e9")));
  CHECK_FALSE(verify_payload(payload_with("exp", "253402300799")));
  CHECK_FALSE(verify_payload(payload_with("nbf", "0")));
  CHECK_FALSE(verify_payload(payload_with("iat", "0")));
  CHECK_FALSE(verify_payload(payload_with("iat", "1700000000.7")));
  // Truncation is observable: exp 1700000000.9 is second 1700000000, which is already over.
  CHECK(verify_payload(payload_with("exp", "1700000000.9")) == errc::expired);
  CHECK(verify_payload(payload_with("exp", "0")) == errc::expired);
}

TEST_CASE("claims: parse_claims reads every registered claim", "[claims]") {
  const json payload = {{"iss", "https://issuer.example"},
                        {"sub", "alice"},
                        {"aud", "api"},
                        {"exp", kNow + 600},
                        {"nbf", kNow - 10},
                        {"iat", kNow},
                        {"jti", "id-1"},
                        {"custom", {{"n", 1}}}};
  const auto claims = parse_claims(payload);
  REQUIRE(claims.has_value());
  CHECK(claims->issuer == "https://issuer.example");
  CHECK(claims->subject == "alice");
  REQUIRE(claims->audience.has_value());
  CHECK(*claims->audience == std::vector<std::string>{"api"});
  CHECK(claims->expires_at == at(kNow + 600));
  CHECK(claims->not_before == at(kNow - 10));
  CHECK(claims->issued_at == at(kNow));
  CHECK(claims->jwt_id == "id-1");

  const auto empty = parse_claims(json::object());
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->issuer.has_value());
  CHECK_FALSE(empty->subject.has_value());
  CHECK_FALSE(empty->audience.has_value());
  CHECK_FALSE(empty->expires_at.has_value());
  CHECK_FALSE(empty->not_before.has_value());
  CHECK_FALSE(empty->issued_at.has_value());
  CHECK_FALSE(empty->jwt_id.has_value());
}

TEST_CASE("claims: parse_claims of a non-object is bad_json", "[claims]") {
  for (const json& payload : {json::array(), json("x"), json(1), json(nullptr), json(true)}) {
    INFO("payload: " << payload.dump());
    CHECK(parse_claims(payload).error() == errc::bad_json);
  }
}

TEST_CASE("claims: aud is a string or an array of strings", "[claims]") {
  const auto one = parse_claims(json{{"aud", "api"}});
  REQUIRE(one.has_value());
  CHECK(*one->audience == std::vector<std::string>{"api"});

  const auto many = parse_claims(json{{"aud", {"api", "web", "api"}}});
  REQUIRE(many.has_value());
  CHECK(*many->audience == std::vector<std::string>{"api", "web", "api"});

  const auto none = parse_claims(json{{"aud", json::array()}});
  REQUIRE(none.has_value());
  REQUIRE(none->audience.has_value());
  CHECK(none->audience->empty());

  for (const json& aud :
       {json(1), json(1.5), json(true), json(nullptr), json::object(), json{{"aud", "api"}},
        json::array({1}), json::array({"api", 2}), json::array({"api", nullptr}),
        json::array({json::array({"api"})}), json::array({"api", json::object()})}) {
    INFO("aud: " << aud.dump());
    CHECK(parse_claims(json{{"aud", aud}}).error() == errc::invalid_claim);
  }
}

TEST_CASE("claims: iss, sub and jti must be strings", "[claims]") {
  for (const char* name : {"iss", "sub", "jti"}) {
    for (const json& value : {json(1), json(0.5), json(true), json(nullptr), json::object(),
                              json::array(), json::array({"a"})}) {
      INFO(name << ": " << value.dump());
      CHECK(parse_claims(json{{name, value}}).error() == errc::invalid_claim);
    }
    CHECK(parse_claims(json{{name, ""}}).has_value());
  }
  // Through a signed token the type error wins over any later check.
  CHECK(verify_payload(payload_with("iss", "42")) == errc::invalid_claim);
  CHECK(verify_payload(payload_with("sub", "null")) == errc::invalid_claim);
  CHECK(verify_payload(payload_with("jti", "[\"a\"]")) == errc::invalid_claim);
  CHECK(verify_payload(payload_with("aud", "{}")) == errc::invalid_claim);
  CHECK(verify_payload(payload_with("aud", "[\"x\",1]")) == errc::invalid_claim);
}

TEST_CASE("claims: unregistered claims may have any type", "[claims]") {
  CHECK(parse_claims(json{{"role", 5}, {"scope", nullptr}, {"x", {{"y", json::array()}}}})
            .has_value());
  CHECK_FALSE(verify_payload(payload_with("role", R"({"admin":[true,null,1.5]})")));
}
