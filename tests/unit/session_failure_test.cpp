// SessionManager and sign_jwt under input they cannot sign: nothing throws, nothing is issued or
// stored, and a refresh that fails while minting leaves the presented refresh token usable. And
// validate and verify_jwt when memory runs out: an error, never an exception.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <new>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>
#include <utility>

using namespace std::chrono_literals;
using tegata::errc;
using json = nlohmann::json;

namespace {

const std::chrono::sys_seconds kStart{std::chrono::seconds{1'800'000'000}};

// Bytes that are not UTF-8: a lone continuation byte, a truncated sequence, an overlong '/'.
const std::string kNotUtf8[] = {"\x80", "alice\xff", "caf\xc3", "\xc0\xaf"};

// A signer that can be told to fail, as a crypto error (an HSM, a provider) would make it, or to
// run out of memory while it verifies.
struct FlakySigner {
  tegata::HmacKey key{tegata::Algorithm::HS256, std::string(32, 's'), "k1"};
  bool fail = false;
  bool out_of_memory = false;

  tegata::Result<std::string> sign(tegata::TokenType typ, std::string_view payload) const {
    if (fail) return errc::crypto_failure;
    return key.sign(typ, payload);
  }
  std::error_code verify(const tegata::jws::Parsed& token) const {
    if (out_of_memory) throw std::bad_alloc();
    return key.verify(token);
  }
};

tegata::SessionOptions strict_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  o.reuse_grace = 0s;  // any second use of a refresh token is theft: nothing hides a consumed one
  return o;
}

struct Fixture {
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  tegata::SessionManager<FlakySigner, tegata::ManualClock>
      manager{FlakySigner{}, strict_options(), clock, store};
};

json many_claims(std::size_t n) {
  json extra = json::object();
  for (std::size_t i = 0; i < n; ++i) extra["c" + std::to_string(i)] = i;
  return extra;
}

}  // namespace

TEST_CASE("refresh: a failure while minting leaves the refresh token usable",
          "[session][refresh_failure]") {
  Fixture f;
  auto login = f.manager.issue("alice");
  REQUIRE(login);
  f.clock.advance(16min);
  const std::size_t stored = f.store.size();

  SECTION("more extra claims than max_claims") {
    CHECK(f.manager.refresh(login->refresh_token, many_claims(64)).error() == errc::too_large);
  }
  SECTION("an access token over max_token_bytes") {
    CHECK(f.manager.refresh(login->refresh_token, {{"blob", std::string(9000, 'x')}}).error() ==
          errc::too_large);
  }
  SECTION("an extra claim nested deeper than max_json_depth") {
    json nested = 0;
    for (int i = 0; i < 16; ++i) nested = json::array({nested});
    CHECK(f.manager.refresh(login->refresh_token, {{"n", nested}}).error() == errc::too_deep);
  }
  SECTION("an extra claim that is not valid UTF-8") {
    CHECK(f.manager.refresh(login->refresh_token, {{"name", "\xff"}}).error() ==
          errc::invalid_argument);
  }
  SECTION("the signer fails") {
    f.manager.signer().fail = true;
    CHECK(f.manager.refresh(login->refresh_token).error() == errc::crypto_failure);
    f.manager.signer().fail = false;
  }

  // Nothing was recorded, and the client's retry is a first use, not theft.
  CHECK(f.store.size() == stored);
  auto retried = f.manager.refresh(login->refresh_token);
  REQUIRE(retried);
  CHECK(f.manager.validate(retried->access_token));
  // The token was consumed by the retry, exactly once: a replay now is theft, as always.
  CHECK(f.manager.refresh(login->refresh_token).error() == errc::refresh_reused);
}

TEST_CASE("refresh with a claims function: a refusal leaves the refresh token usable",
          "[session][refresh_failure][claims_function]") {
  Fixture f;
  auto login = f.manager.issue("alice");
  REQUIRE(login);
  f.clock.advance(16min);
  const std::size_t stored = f.store.size();
  const auto returning = [](json extra) {
    return [extra = std::move(extra)](std::string_view, std::string_view) { return extra; };
  };

  SECTION("not an object") {
    CHECK(f.manager.refresh(login->refresh_token, returning(json::array())).error() ==
          errc::invalid_argument);
    CHECK(f.manager.refresh(login->refresh_token, returning(json())).error() ==
          errc::invalid_argument);
    CHECK(f.manager.refresh(login->refresh_token, returning(json("editor"))).error() ==
          errc::invalid_argument);
  }
  SECTION("a reserved claim name, as the json overload refuses it") {
    for (const auto* name :
         {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "sid", "ver", "auth_time"}) {
      INFO(name);
      CHECK(f.manager.refresh(login->refresh_token, returning({{name, "x"}})).error() ==
            errc::reserved_claim);
      CHECK(f.manager.refresh(login->refresh_token, json{{name, "x"}}).error() ==
            errc::reserved_claim);
    }
  }
  SECTION("not UTF-8") {
    for (const std::string& bad : kNotUtf8) {
      CHECK(f.manager.refresh(login->refresh_token, returning({{"name", bad}})).error() ==
            errc::invalid_argument);
      CHECK(f.manager.refresh(login->refresh_token, returning({{bad, 1}})).error() ==
            errc::invalid_argument);
    }
  }
  SECTION("beyond the limits") {
    CHECK(f.manager.refresh(login->refresh_token, returning(many_claims(64))).error() ==
          errc::too_large);
    CHECK(f.manager.refresh(login->refresh_token, returning({{"blob", std::string(9000, 'x')}}))
              .error() == errc::too_large);
  }
  SECTION("the function answers an error") {
    const auto unavailable = [](std::string_view, std::string_view) -> tegata::Result<json> {
      return errc::store_unavailable;  // e.g. the user database did not answer
    };
    CHECK(f.manager.refresh(login->refresh_token, unavailable).error() == errc::store_unavailable);
    // An empty error_code is no answer at all: refused as invalid_argument, never a success.
    const auto empty = [](std::string_view, std::string_view) -> tegata::Result<json> {
      return std::error_code{};
    };
    CHECK(f.manager.refresh(login->refresh_token, empty).error() == errc::invalid_argument);
  }
  SECTION("the function throws: the exception reaches the caller, unchanged") {
    struct lookup_failed {};
    const auto throwing = [](std::string_view, std::string_view) -> json {
      throw lookup_failed{};
    };
    CHECK_THROWS_AS(f.manager.refresh(login->refresh_token, throwing), lookup_failed);
  }

  // Nothing was recorded, and the client's retry is a first use, not theft.
  CHECK(f.store.size() == stored);
  auto retried = f.manager.refresh(login->refresh_token, returning({{"role", "editor"}}));
  REQUIRE(retried);
  auto claims = f.manager.validate(retried->access_token);
  REQUIRE(claims);
  CHECK(claims->extra == json{{"role", "editor"}});
  CHECK(f.manager.refresh(login->refresh_token).error() == errc::refresh_reused);
}

TEST_CASE("issue: a string that is not UTF-8 is invalid_argument, nothing issued or stored",
          "[session][utf8]") {
  Fixture f;
  const std::size_t stored = f.store.size();
  for (const std::string& bad : kNotUtf8) {
    INFO(tegata::base64url_encode(bad));
    CHECK(f.manager.issue(bad).error() == errc::invalid_argument);
    CHECK(f.manager.issue("alice", {{"name", bad}}).error() == errc::invalid_argument);
    CHECK(f.manager.issue("alice", {{bad, 1}}).error() == errc::invalid_argument);
    CHECK(f.manager.issue("alice", {{"a", {{"b", json::array({1, bad})}}}}).error() ==
          errc::invalid_argument);
    CHECK(f.manager.issue("alice", {{"a", {{bad, true}}}}).error() == errc::invalid_argument);
  }
  CHECK(f.store.size() == stored);
  // Valid UTF-8 beyond ASCII is of course fine, and comes back as issued.
  auto pair = f.manager.issue("zoë@example.com", {{"name", "Zoë 東京"}});
  REQUIRE(pair);
  auto claims = f.manager.validate(pair->access_token);
  REQUIRE(claims);
  CHECK(claims->subject == "zoë@example.com");
  CHECK(claims->extra["name"] == "Zoë 東京");
}

TEST_CASE("a kid or typ that is not UTF-8 is invalid_argument from every signer, not an exception",
          "[session][utf8]") {
  for (const std::string& bad : kNotUtf8) {
    INFO(tegata::base64url_encode(bad));
    const tegata::HmacKey key{tegata::Algorithm::HS256, std::string(32, 's'), bad};
    CHECK(key.sign(tegata::TokenType("JWT"), "{}").error() == errc::invalid_argument);
    CHECK(tegata::AnyKey(key).sign(tegata::TokenType("JWT"), "{}").error() ==
          errc::invalid_argument);
    CHECK(tegata::sign_jwt(key, {{"sub", "alice"}}).error() == errc::invalid_argument);
    const tegata::HmacKey good{tegata::Algorithm::HS256, std::string(32, 's'), "k1"};
    CHECK(good.sign(tegata::TokenType(bad), "{}").error() == errc::invalid_argument);
    CHECK(tegata::KeyRing(good).sign(tegata::TokenType(bad), "{}").error() ==
          errc::invalid_argument);
    tegata::SessionManager manager(key, strict_options(), tegata::ManualClock{kStart});
    CHECK(manager.issue("alice").error() == errc::invalid_argument);
  }
}

TEST_CASE("refresh: extra claims that are not UTF-8 are invalid_argument, nothing consumed",
          "[session][utf8]") {
  Fixture f;
  auto login = f.manager.issue("alice");
  REQUIRE(login);
  for (const std::string& bad : kNotUtf8) {
    INFO(tegata::base64url_encode(bad));
    CHECK(f.manager.refresh(login->refresh_token, {{"name", bad}}).error() ==
          errc::invalid_argument);
    CHECK(f.manager.refresh(login->refresh_token, {{bad, 1}}).error() == errc::invalid_argument);
    CHECK(f.manager.refresh(login->refresh_token, {{"a", json::array({json::object({{"b", bad}})})}})
              .error() == errc::invalid_argument);
  }
  CHECK(f.manager.refresh(login->refresh_token));
}

TEST_CASE("sign_jwt: claims or typ that are not UTF-8 are invalid_argument", "[jwt][utf8]") {
  const tegata::HmacKey key{tegata::Algorithm::HS256, std::string(32, 's'), "k1"};
  for (const std::string& bad : kNotUtf8) {
    INFO(tegata::base64url_encode(bad));
    CHECK(tegata::sign_jwt(key, {{"sub", bad}}).error() == errc::invalid_argument);
    CHECK(tegata::sign_jwt(key, {{bad, 1}}).error() == errc::invalid_argument);
    CHECK(tegata::sign_jwt(key, {{"a", {{"b", json::array({bad})}}}}).error() ==
          errc::invalid_argument);
    CHECK(tegata::sign_jwt(key, {{"sub", "alice"}}, bad).error() == errc::invalid_argument);
  }
  CHECK(tegata::sign_jwt(key, {{"sub", "zoë"}}));
}

TEST_CASE("validate and verify_jwt: memory running out is out_of_memory", "[session][jwt]") {
  Fixture f;
  auto login = f.manager.issue("alice");
  REQUIRE(login);
  f.manager.signer().out_of_memory = true;
  CHECK(f.manager.validate(login->access_token).error() == errc::out_of_memory);
  const tegata::Validator validator(
      {.issuer = "https://auth.example", .audience = "api", .type = "at+jwt"});
  CHECK(tegata::verify_jwt(login->access_token, f.manager.signer(), validator, kStart).error() ==
        errc::out_of_memory);
  f.manager.signer().out_of_memory = false;
  CHECK(f.manager.validate(login->access_token));
  CHECK(tegata::verify_jwt(login->access_token, f.manager.signer(), validator, kStart));
}
