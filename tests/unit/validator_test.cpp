// Validator: construction rules, exp/nbf/iat with leeway (driven by ManualClock), iss/aud
// binding, typ binding.
#include "tegata/validator.hpp"

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/algorithms/hmac.hpp"
#include "tegata/clock.hpp"
#include "tegata/error.hpp"
#include "tegata/jwt.hpp"

namespace {

using nlohmann::json;
using std::chrono::seconds;
using tegata::errc;
using tegata::ManualClock;
using tegata::Validator;
using tegata::ValidatorOptions;

constexpr std::int64_t kT0 = 1'700'000'000;

std::chrono::sys_seconds at(std::int64_t s) { return std::chrono::sys_seconds{seconds{s}}; }

const tegata::HmacKey& test_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS384, std::string(48, 'v'));
  return key;
}

std::string token_for(const json& claims, std::string_view typ = "JWT") {
  return tegata::sign_jwt(test_key(), claims, typ).value();
}

std::error_code verify(const std::string& token, const Validator& validator,
                       const ManualClock& clock) {
  return tegata::verify_jwt(token, test_key(), validator, clock).error();
}

// A validator with only a leeway configured.
Validator with_leeway(std::int64_t s) {
  ValidatorOptions options;
  options.leeway = seconds{s};
  return Validator(options);
}

}  // namespace

TEST_CASE("validator: construction refuses unsafe or empty configuration", "[validator]") {
  auto make = [](ValidatorOptions o) { return Validator(std::move(o)); };
  CHECK_THROWS_AS(make({.leeway = seconds{301}}), std::invalid_argument);
  CHECK_THROWS_AS(make({.leeway = seconds{3600}}), std::invalid_argument);
  CHECK_THROWS_AS(make({.leeway = seconds{-1}}), std::invalid_argument);
  CHECK_THROWS_AS(make({.issuer = ""}), std::invalid_argument);
  CHECK_THROWS_AS(make({.audience = ""}), std::invalid_argument);
  CHECK_THROWS_AS(make({.type = ""}), std::invalid_argument);
  CHECK_THROWS_AS(make({.limits = {.max_token_bytes = 0}}), std::invalid_argument);
  CHECK_THROWS_AS(make({.limits = {.max_json_depth = 0}}), std::invalid_argument);

  CHECK_NOTHROW(make({}));
  CHECK_NOTHROW(make({.leeway = seconds{0}}));
  CHECK_NOTHROW(make({.leeway = seconds{300}}));
  CHECK_NOTHROW(make({.issuer = "iss", .audience = "aud", .type = "at+jwt"}));
  const Validator v = make({.issuer = "iss", .leeway = seconds{5}});
  CHECK(v.options().issuer == "iss");
  CHECK(v.options().leeway == seconds{5});
}

TEST_CASE("validator: exp is required unless explicitly optional", "[validator]") {
  const ManualClock clock{at(kT0)};
  const std::string no_exp = token_for({{"sub", "alice"}, {"iat", kT0}});
  CHECK(verify(no_exp, Validator({}), clock) == errc::missing_claim);
  CHECK_FALSE(verify(no_exp, Validator({.allow_missing_exp = true}), clock));
  // Opting out of exp does not weaken the other checks.
  CHECK(verify(token_for({{"nbf", kT0 + 10}}), Validator({.allow_missing_exp = true}), clock) ==
        errc::not_yet_valid);
}

TEST_CASE("validator: a token is expired at its exp second", "[validator]") {
  const std::string token = token_for({{"sub", "alice"}, {"exp", kT0}});
  const Validator validator({});
  ManualClock clock{at(kT0 - 1)};
  CHECK_FALSE(verify(token, validator, clock));  // one second before exp
  clock.advance(seconds{1});
  CHECK(verify(token, validator, clock) == errc::expired);  // exactly exp
  clock.advance(seconds{1000});
  CHECK(verify(token, validator, clock) == errc::expired);
  clock.set(at(0));
  CHECK_FALSE(verify(token, validator, clock));
}

TEST_CASE("validator: exp leeway boundaries", "[validator]") {
  const std::string token = token_for({{"exp", kT0}});
  for (std::int64_t leeway : {0, 1, 60, 300}) {
    INFO("leeway " << leeway);
    const Validator validator = with_leeway(leeway);
    ManualClock clock{at(kT0 + leeway - 1)};
    CHECK_FALSE(verify(token, validator, clock));
    clock.advance(seconds{1});
    CHECK(verify(token, validator, clock) == errc::expired);
  }
}

TEST_CASE("validator: nbf leeway boundaries", "[validator]") {
  const std::string token = token_for({{"nbf", kT0}, {"exp", kT0 + 3600}});
  for (std::int64_t leeway : {0, 1, 60, 300}) {
    INFO("leeway " << leeway);
    const Validator validator = with_leeway(leeway);
    ManualClock clock{at(kT0 - leeway - 1)};
    CHECK(verify(token, validator, clock) == errc::not_yet_valid);
    clock.advance(seconds{1});
    CHECK_FALSE(verify(token, validator, clock));
    clock.set(at(kT0));
    CHECK_FALSE(verify(token, validator, clock));
  }
}

TEST_CASE("validator: iat leeway boundaries", "[validator]") {
  const std::string token = token_for({{"iat", kT0}, {"exp", kT0 + 3600}});
  for (std::int64_t leeway : {0, 1, 60, 300}) {
    INFO("leeway " << leeway);
    const Validator validator = with_leeway(leeway);
    ManualClock clock{at(kT0 - leeway - 1)};
    CHECK(verify(token, validator, clock) == errc::issued_in_future);
    clock.advance(seconds{1});
    CHECK_FALSE(verify(token, validator, clock));
    clock.set(at(kT0 + 3599));
    CHECK_FALSE(verify(token, validator, clock));  // an old iat is fine while exp holds
  }
}

TEST_CASE("validator: check_times agrees with verify_jwt at the boundaries", "[validator]") {
  tegata::Claims claims;
  claims.expires_at = at(kT0);
  claims.not_before = at(kT0 - 100);
  claims.issued_at = at(kT0 - 100);
  const Validator v = with_leeway(10);
  CHECK(v.check_times(claims, at(kT0 + 9)) == std::error_code{});
  CHECK(v.check_times(claims, at(kT0 + 10)) == errc::expired);
  CHECK(v.check_times(claims, at(kT0 - 110)) == std::error_code{});
  CHECK(v.check_times(claims, at(kT0 - 111)) == errc::not_yet_valid);
}

TEST_CASE("validator: check_times_ignoring_expiry is check_times without the passing of exp",
          "[validator]") {
  tegata::Claims claims;
  claims.expires_at = at(kT0);
  claims.not_before = at(kT0 - 100);
  claims.issued_at = at(kT0 - 100);
  const Validator v = with_leeway(10);
  for (const std::int64_t t : {kT0 - 111, kT0 - 110, kT0 + 9, kT0 + 10, kT0 + 100'000}) {
    INFO("now " << t);
    const std::error_code checked = v.check_times(claims, at(t));
    CHECK(v.check_times_ignoring_expiry(claims, at(t)) ==
          (checked == errc::expired ? std::error_code{} : checked));
  }
  claims.expires_at.reset();  // exp is still required
  CHECK(v.check_times_ignoring_expiry(claims, at(kT0)) == errc::missing_claim);
}

// The token readers check claims read as views (detail::registered_claims_view) through
// detail::validator_access: the same rules as the public checks on Claims.
TEST_CASE("validator: the internal checks on claim views agree with the public ones",
          "[validator]") {
  using access = tegata::detail::validator_access;
  tegata::Claims claims;
  claims.expires_at = at(kT0);
  claims.not_before = at(kT0 - 100);
  claims.issued_at = at(kT0 - 100);
  tegata::detail::registered_claims_view view;
  view.expires_at = claims.expires_at;
  view.not_before = claims.not_before;
  view.issued_at = claims.issued_at;
  const Validator v = with_leeway(10);
  for (const std::int64_t t : {kT0 - 111, kT0 - 110, kT0 + 9, kT0 + 10}) {
    INFO("now " << t);
    CHECK(access::check_times(v, view, at(t)) == v.check_times(claims, at(t)));
    CHECK(access::check_times_ignoring_expiry(v, view, at(t)) ==
          v.check_times_ignoring_expiry(claims, at(t)));
  }

  const Validator bound({.issuer = "https://issuer.example", .audience = "api"});
  bool matches = false;
  const auto matcher = access::audience_matcher(bound, matches);
  matcher("other");
  CHECK_FALSE(matches);
  matcher("api");
  CHECK(matches);
  view.issuer = "https://issuer.example";
  view.has_audience = true;
  claims.issuer = "https://issuer.example";
  claims.audience = {"other", "api"};
  CHECK(access::check_issuer_and_audience(bound, view, true) == std::error_code{});
  CHECK(bound.check_issuer_and_audience(claims) == std::error_code{});
  CHECK(access::check_issuer_and_audience(bound, view, false) == errc::wrong_audience);
  view.issuer = "https://other.example";
  CHECK(access::check_issuer_and_audience(bound, view, true) == errc::wrong_issuer);
  view.issuer.reset();
  CHECK(access::check_issuer_and_audience(bound, view, true) == errc::missing_claim);
}

TEST_CASE("validator: iss must match when configured and be absent otherwise", "[validator]") {
  const ManualClock clock{at(kT0)};
  const json base = {{"exp", kT0 + 60}};
  auto with_iss = [&](json iss) {
    json c = base;
    c["iss"] = std::move(iss);
    return token_for(c);
  };
  const Validator configured({.issuer = "https://issuer.example"});
  CHECK_FALSE(verify(with_iss("https://issuer.example"), configured, clock));
  CHECK(verify(token_for(base), configured, clock) == errc::missing_claim);
  CHECK(verify(with_iss("https://other.example"), configured, clock) == errc::wrong_issuer);
  CHECK(verify(with_iss("https://ISSUER.example"), configured, clock) == errc::wrong_issuer);
  CHECK(verify(with_iss("https://issuer.example/"), configured, clock) == errc::wrong_issuer);
  CHECK(verify(with_iss(""), configured, clock) == errc::wrong_issuer);

  const Validator unconfigured({});
  CHECK_FALSE(verify(token_for(base), unconfigured, clock));
  CHECK(verify(with_iss("https://issuer.example"), unconfigured, clock) == errc::wrong_issuer);
  CHECK(verify(with_iss(""), unconfigured, clock) == errc::wrong_issuer);
}

TEST_CASE("validator: aud must contain the audience when configured and be absent otherwise",
          "[validator]") {
  const ManualClock clock{at(kT0)};
  const json base = {{"exp", kT0 + 60}};
  auto with_aud = [&](json aud) {
    json c = base;
    c["aud"] = std::move(aud);
    return token_for(c);
  };
  const Validator configured({.audience = "api"});
  CHECK_FALSE(verify(with_aud("api"), configured, clock));
  CHECK_FALSE(verify(with_aud(json::array({"api"})), configured, clock));
  CHECK_FALSE(verify(with_aud(json::array({"web", "api"})), configured, clock));
  CHECK(verify(token_for(base), configured, clock) == errc::missing_claim);
  CHECK(verify(with_aud("web"), configured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud("API"), configured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud("api "), configured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud(json::array({"web", "admin"})), configured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud(json::array()), configured, clock) == errc::wrong_audience);

  const Validator unconfigured({});
  CHECK_FALSE(verify(token_for(base), unconfigured, clock));
  CHECK(verify(with_aud("api"), unconfigured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud(json::array({"api"})), unconfigured, clock) == errc::wrong_audience);
  CHECK(verify(with_aud(json::array()), unconfigured, clock) == errc::wrong_audience);
}

TEST_CASE("validator: iss and aud together", "[validator]") {
  const ManualClock clock{at(kT0)};
  const Validator v({.issuer = "iss", .audience = "aud"});
  CHECK_FALSE(verify(token_for({{"iss", "iss"}, {"aud", "aud"}, {"exp", kT0 + 1}}), v, clock));
  CHECK(verify(token_for({{"iss", "iss"}, {"exp", kT0 + 1}}), v, clock) == errc::missing_claim);
  CHECK(verify(token_for({{"aud", "aud"}, {"exp", kT0 + 1}}), v, clock) == errc::missing_claim);
  CHECK(verify(token_for({{"iss", "x"}, {"aud", "aud"}, {"exp", kT0 + 1}}), v, clock) ==
        errc::wrong_issuer);
  CHECK(verify(token_for({{"iss", "iss"}, {"aud", "x"}, {"exp", kT0 + 1}}), v, clock) ==
        errc::wrong_audience);
}

TEST_CASE("validator: a configured typ matches case-insensitively, application/ allowed",
          "[validator]") {
  const ManualClock clock{at(kT0)};
  const json claims = {{"exp", kT0 + 60}};
  const Validator access({.type = "at+jwt"});
  for (std::string_view typ :
       {"at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"}) {
    INFO("typ " << typ);
    CHECK_FALSE(verify(token_for(claims, typ), access, clock));
  }
  for (std::string_view typ : {"JWT", "jwt", "rt+jwt", "at+jwt ", "at", "application/",
                               "application/jwt", "text/at+jwt", "at+jwt+jwt"}) {
    INFO("typ " << typ);
    CHECK(verify(token_for(claims, typ), access, clock) == errc::wrong_type);
  }
  INFO("typ absent");
  CHECK(verify(token_for(claims, ""), access, clock) == errc::wrong_type);

  // Configured with the prefix, the short form matches too.
  const Validator prefixed({.type = "application/at+jwt"});
  CHECK_FALSE(verify(token_for(claims, "at+jwt"), prefixed, clock));
}

TEST_CASE("validator: without a configured typ only an absent typ or JWT passes", "[validator]") {
  const ManualClock clock{at(kT0)};
  const json claims = {{"exp", kT0 + 60}};
  const Validator plain({});
  CHECK_FALSE(verify(token_for(claims, ""), plain, clock));
  for (std::string_view typ : {"JWT", "jwt", "Jwt", "application/jwt", "APPLICATION/JWT"}) {
    INFO("typ " << typ);
    CHECK_FALSE(verify(token_for(claims, typ), plain, clock));
  }
  for (std::string_view typ :
       {"at+jwt", "rt+jwt", "application/at+jwt", "JWS", "secevent+jwt", "jwt ", "application/"}) {
    INFO("typ " << typ);
    CHECK(verify(token_for(claims, typ), plain, clock) == errc::wrong_type);
  }
}

TEST_CASE("validator: typ is checked before the claims", "[validator]") {
  // An expired refresh-typed token reports the type mismatch, the more fundamental error.
  const ManualClock clock{at(kT0)};
  CHECK(verify(token_for({{"exp", kT0 - 1}}, "rt+jwt"), Validator({.type = "at+jwt"}), clock) ==
        errc::wrong_type);
}

TEST_CASE("validator: the size and depth limits apply to verify_jwt", "[validator]") {
  const ManualClock clock{at(kT0)};
  const std::string token = token_for({{"exp", kT0 + 60}, {"x", {{"y", {{"z", 1}}}}}});
  CHECK_FALSE(verify(token, Validator({}), clock));
  CHECK(verify(token, Validator({.limits = {.max_token_bytes = token.size() - 1}}), clock) ==
        errc::too_large);
  CHECK_FALSE(verify(token, Validator({.limits = {.max_token_bytes = token.size()}}), clock));
  // The claims object and its two nested objects: depth 3.
  CHECK_FALSE(verify(token, Validator({.limits = {.max_json_depth = 3}}), clock));
  CHECK(verify(token, Validator({.limits = {.max_json_depth = 2}}), clock) == errc::too_deep);
}
