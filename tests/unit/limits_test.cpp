// Resource bounds (jws::Limits, the header member bound, JwkOptions::max_keys and
// max_text_bytes): each one at exactly its value (accepted) and one over (the specific errc), on
// the flat fast path and on the strict path, checked before the work it bounds, and refused at
// construction when misconfigured.
//
// That the claim count stops the strict reader before it builds the DOM of a huge object is
// shown by allocation counts in adversarial_test.cpp ("the claim count is checked before the DOM
// is built"), which owns the test binary's allocation counter.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "tegata/tegata.hpp"

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tegata::errc;
using tegata::jws::Limits;

constexpr std::chrono::sys_seconds kNow{1'700'000'000s};
constexpr std::string_view kHeader = R"({"alg":"HS256","kid":"k1"})";

const tegata::HmacKey& hs_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS256, "limits test HS256 secret, 32+ bytes",
                                   "k1");
  return key;
}

std::string b64(std::string_view bytes) { return tegata::base64url_encode(bytes); }

// A token over exactly these header and payload texts, validly signed with hs_key().
std::string forge(std::string_view header, std::string_view payload) {
  const std::string input = b64(header) + "." + b64(payload);
  return input + "." + b64(hs_key().sign_raw(input).value());
}

std::string header_segment(std::string_view token) {
  return std::string(token.substr(0, token.find('.')));
}

// Whether the flat reader takes text itself (true) or leaves it to the strict reader.
bool flat_reads(std::string_view text, std::size_t depth = 16) {
  tegata::detail::flat_object flat;
  return tegata::detail::fast_parse_object(text, depth, flat) ==
         tegata::detail::fast_parse_result::accepted;
}

// A claims object of exactly n >= 1 members: exp (an hour from kNow), then c1, c2, ... With
// escaped, c1 holds an escaped string, which only the strict reader takes.
std::string claims_of(std::size_t n, bool escaped = false) {
  std::string out = R"({"exp":1700003600)";
  for (std::size_t i = 1; i < n; ++i) {
    out += ",\"c" + std::to_string(i) + "\":";
    out += escaped && i == 1 ? std::string(R"("\u0061")") : std::to_string(i);
  }
  return out + "}";
}

// A header of exactly size bytes (at least 36): alg, kid and a "pad" string that fills it.
std::string header_padded_to(std::size_t size) {
  std::string header = R"({"alg":"HS256","kid":"k1","pad":""})";
  header.insert(header.size() - 2, std::string(size - header.size(), 'p'));
  return header;
}

// A header object of exactly n >= 2 members: alg, kid, then h1, h2, ... (escaped as above).
std::string header_of(std::size_t n, bool escaped = false) {
  std::string out(kHeader.substr(0, kHeader.size() - 1));
  for (std::size_t i = 1; i + 2 <= n; ++i) {
    out += ",\"h" + std::to_string(i) + "\":";
    out += escaped && i == 1 ? std::string(R"("\u0061")") : std::to_string(i);
  }
  return out + "}";
}

tegata::Validator validator(Limits limits = {}) {
  tegata::ValidatorOptions options;
  options.limits = limits;
  return tegata::Validator(options);
}

std::error_code verify(std::string_view token, const tegata::Validator& v) {
  return tegata::verify_jwt(token, hs_key(), v, kNow).error();
}

// An HS256 JWK with kid "k<i>".
json oct_jwk(std::size_t i) {
  return {{"kty", "oct"},
          {"alg", "HS256"},
          {"kid", "k" + std::to_string(i)},
          {"k", b64(std::string(32, static_cast<char>('a' + i % 26)))}};
}

json jwks_of(std::size_t n) {
  json keys = json::array();
  for (std::size_t i = 0; i < n; ++i) keys.push_back(oct_jwk(i));
  return {{"keys", keys}};
}

// A set of n entries that are not keys at all: importing any of them would be malformed.
json garbage_jwks_of(std::size_t n) { return {{"keys", json::array_t(n, json(42))}}; }

}  // namespace

TEST_CASE("limits: the defaults", "[limits]") {
  const Limits limits{};
  CHECK(limits.max_token_bytes == 8192);
  CHECK(limits.max_header_bytes == 1024);
  CHECK(limits.max_json_depth == 16);
  CHECK(limits.max_claims == 64);
  CHECK(tegata::jws::kMaxHeaderMembers == 32);
  CHECK(tegata::jws::kMaxJsonDepth == 256);
  const tegata::keys::JwkOptions jwk{};
  CHECK(jwk.max_keys == 64);
  CHECK(jwk.max_text_bytes == 1024 * 1024);
  CHECK_NOTHROW(validator());
}

// --- max_claims -------------------------------------------------------------------------------

TEST_CASE("limits: max_claims on the fast path", "[limits]") {
  // The flat reader holds up to kFlatMaxMembers (32) members, under the default of 64: a lower
  // bound is what it meets.
  for (const std::size_t bound :
       {std::size_t{1}, std::size_t{10}, tegata::detail::kFlatMaxMembers - 1}) {
    INFO("max_claims " << bound);
    const tegata::Validator v = validator({.max_claims = bound});
    const std::string at = claims_of(bound);
    const std::string over = claims_of(bound + 1);
    REQUIRE(flat_reads(at));
    REQUIRE(flat_reads(over));
    CHECK_FALSE(verify(forge(kHeader, at), v));
    CHECK(verify(forge(kHeader, over), v) == errc::too_large);
  }
}

TEST_CASE("limits: max_claims on the strict path", "[limits]") {
  SECTION("the default bound: 64 members are more than the flat reader holds") {
    const std::string at = claims_of(64);
    const std::string over = claims_of(65);
    REQUIRE_FALSE(flat_reads(at));
    CHECK_FALSE(verify(forge(kHeader, at), validator()));
    CHECK(verify(forge(kHeader, over), validator()) == errc::too_large);
  }
  SECTION("an escaped string sends a small object to the strict reader") {
    const tegata::Validator v = validator({.max_claims = 10});
    const std::string at = claims_of(10, true);
    const std::string over = claims_of(11, true);
    REQUIRE_FALSE(flat_reads(at));
    REQUIRE_FALSE(flat_reads(over));
    CHECK_FALSE(verify(forge(kHeader, at), v));
    CHECK(verify(forge(kHeader, over), v) == errc::too_large);
  }
  SECTION("members of nested objects are not claims") {
    const tegata::Validator v = validator({.max_claims = 3});
    const std::string nested = R"({"exp":1700003600,"c1":1,"profile":{"a":1,"b":2,"c":3,"d":4}})";
    REQUIRE_FALSE(flat_reads(nested));
    CHECK_FALSE(verify(forge(kHeader, nested), v));
    CHECK(verify(forge(kHeader, R"({"exp":1700003600,"c1":1,"c2":{},"c3":[]})"), v) ==
          errc::too_large);
  }
  SECTION("reading stops at the first member over the bound") {
    // What follows the 65th member is never read: a duplicate name or broken JSON after it makes
    // no difference. Before it, they are what the token is refused for.
    std::string sixty_three = claims_of(63);
    sixty_three.pop_back();
    const std::string sixty_four = sixty_three + R"(,"c63":63)";
    CHECK(verify(forge(kHeader, sixty_four + R"(,"c1":1})"), validator()) == errc::too_large);
    CHECK(verify(forge(kHeader, sixty_four + R"(,"x":1,"y":})"), validator()) == errc::too_large);
    CHECK(verify(forge(kHeader, sixty_three + R"(,"c1":1})"), validator()) ==
          errc::duplicate_member);
    CHECK(verify(forge(kHeader, sixty_three + R"(,"x":})"), validator()) == errc::bad_json);
    CHECK(verify(forge(kHeader, R"({"exp":1,"exp":2,)" + claims_of(80).substr(1)), validator()) ==
          errc::duplicate_member);
  }
  SECTION("the strict reader's own bound") {
    const std::string over = claims_of(5);
    CHECK(tegata::detail::parse_json_object(over, {.max_depth = 16, .max_members = 5}));
    CHECK(tegata::detail::parse_json_object(over, {.max_depth = 16, .max_members = 4}).error() ==
          errc::too_large);
    // Without a bound only the input's size limits the members.
    CHECK(tegata::detail::parse_json_object(claims_of(1000), 16));
  }
}

TEST_CASE("limits: max_claims applies to session tokens", "[limits][session]") {
  tegata::ManualClock clock(kNow);
  tegata::SessionManager manager(
      hs_key(), tegata::SessionOptions{.issuer = "https://issuer.example", .audience = "api"},
      clock);
  const auto now = kNow.time_since_epoch().count();
  // The nine claims of an access token, then fillers up to n members, signed as the manager
  // would sign them.
  const auto access_token = [&](std::size_t n) {
    json claims = {{"iss", "https://issuer.example"},
                   {"aud", "api"},
                   {"sub", "alice"},
                   {"sid", "family-1"},
                   {"jti", "token-1"},
                   {"ver", 0},
                   {"iat", now},
                   {"exp", now + 60},
                   {"auth_time", now}};
    for (std::size_t i = claims.size(); i < n; ++i) claims["x" + std::to_string(i)] = i;
    REQUIRE(claims.size() == n);
    return hs_key().sign(tegata::kAccessTokenType, claims.dump()).value();
  };
  CHECK(manager.validate(access_token(64)));
  CHECK(manager.validate(access_token(65)).error() == errc::too_large);
}

// --- max_header_bytes -------------------------------------------------------------------------

TEST_CASE("limits: max_header_bytes bounds the encoded header segment", "[limits]") {
  const std::string token = forge(kHeader, claims_of(1));
  const std::size_t size = header_segment(token).size();
  CHECK(tegata::jws::parse(token, {.max_header_bytes = size}));
  CHECK(tegata::jws::parse(token, {.max_header_bytes = size - 1}).error() == errc::too_large);
  CHECK_FALSE(verify(token, validator({.max_header_bytes = size})));
  CHECK(verify(token, validator({.max_header_bytes = size - 1})) == errc::too_large);

  // At the default: a 768-byte header is 1024 base64url characters, a 769-byte one 1026.
  const std::string at = forge(header_padded_to(768), claims_of(1));
  REQUIRE(header_segment(at).size() == 1024);
  CHECK_FALSE(verify(at, validator()));
  const std::string over = forge(header_padded_to(769), claims_of(1));
  REQUIRE(header_segment(over).size() == 1026);
  CHECK(verify(over, validator()) == errc::too_large);
}

TEST_CASE("limits: the header size is checked before decoding and before the header cache",
          "[limits]") {
  // Not base64url at all: refused for its size before the decoder could call it bad_encoding.
  CHECK(tegata::jws::parse(std::string(1025, '!') + ".e30.c2ln").error() == errc::too_large);
  CHECK(tegata::jws::parse(std::string(1024, '!') + ".e30.c2ln").error() == errc::bad_encoding);

  // A header this thread has parsed (and cached) is still refused under a smaller bound.
  const std::string token = forge(header_of(6), claims_of(1));
  const std::size_t size = header_segment(token).size();
  REQUIRE(size <= tegata::jws::detail::header_cache::kMaxSegment);
  for (int round = 0; round < 3; ++round) {
    CHECK(tegata::jws::parse(token));
    CHECK(tegata::jws::parse(token, {.max_header_bytes = size - 1}).error() == errc::too_large);
  }
}

TEST_CASE("limits: a header of more than kMaxHeaderMembers members is too_large", "[limits]") {
  constexpr std::size_t bound = tegata::jws::kMaxHeaderMembers;
  // Fast path: the flat reader takes up to 32 members.
  REQUIRE(flat_reads(header_of(bound)));
  CHECK_FALSE(verify(forge(header_of(bound), claims_of(1)), validator()));
  CHECK(verify(forge(header_of(bound + 1), claims_of(1)), validator()) == errc::too_large);
  // Strict path.
  REQUIRE_FALSE(flat_reads(header_of(bound, true)));
  CHECK_FALSE(verify(forge(header_of(bound, true), claims_of(1)), validator()));
  CHECK(verify(forge(header_of(bound + 1, true), claims_of(1)), validator()) == errc::too_large);
  // The public header parser, on decoded text.
  CHECK(tegata::jws::parse_header(header_of(bound)));
  CHECK(tegata::jws::parse_header(header_of(bound + 1)).error() == errc::too_large);
  CHECK(tegata::jws::parse_header(header_of(bound + 1, true)).error() == errc::too_large);
}

// --- JWK Sets ---------------------------------------------------------------------------------

TEST_CASE("limits: the number of keys in a JWK Set", "[limits][jwk]") {
  namespace keys = tegata::keys;
  const json at = jwks_of(64);
  const json over = jwks_of(65);

  SECTION("import_jwks") {
    const auto imported = keys::import_jwks(at);
    REQUIRE(imported);
    CHECK(imported->size() == 64);
    CHECK(keys::import_jwks(over).error() == errc::too_large);
    // Counted before any key is looked at: 65 entries that are not keys are too many, 64 of
    // them are malformed.
    CHECK(keys::import_jwks(garbage_jwks_of(65)).error() == errc::too_large);
    CHECK(keys::import_jwks(garbage_jwks_of(64)).error() == errc::malformed);
  }
  SECTION("KeyRing::from_jwks") {
    const auto ring = tegata::KeyRing::from_jwks(at);
    REQUIRE(ring);
    CHECK(ring->size() == 64);
    CHECK(tegata::KeyRing::from_jwks(over).error() == errc::too_large);
    CHECK(tegata::KeyRing::from_jwks(garbage_jwks_of(65)).error() == errc::too_large);
    CHECK(tegata::KeyRing::from_jwks(garbage_jwks_of(64)).error() == errc::malformed);
    // Before the search for the primary key, too.
    CHECK(tegata::KeyRing::from_jwks(at, {}, "absent").error() == errc::unknown_key);
    CHECK(tegata::KeyRing::from_jwks(over, {}, "absent").error() == errc::too_large);
  }
  SECTION("a bound of the caller's") {
    const keys::JwkOptions two{.max_keys = 2};
    CHECK(keys::import_jwks(jwks_of(2), two));
    CHECK(keys::import_jwks(jwks_of(3), two).error() == errc::too_large);
    CHECK(tegata::KeyRing::from_jwks(jwks_of(2), two));
    CHECK(tegata::KeyRing::from_jwks(jwks_of(3), two).error() == errc::too_large);
    CHECK(keys::parse_jwks(jwks_of(3).dump(), two).error() == errc::too_large);
    // 0 refuses every set that is not empty.
    const keys::JwkOptions none{.max_keys = 0};
    const auto empty = keys::import_jwks(jwks_of(0), none);
    REQUIRE(empty);
    CHECK(empty->empty());
    CHECK(keys::import_jwks(jwks_of(1), none).error() == errc::too_large);
  }
}

TEST_CASE("limits: the size of JWK and JWK Set text", "[limits][jwk]") {
  namespace keys = tegata::keys;
  const std::size_t bound = keys::JwkOptions{}.max_text_bytes;
  // Whitespace after the object is valid JSON: pad the set to exactly the bound.
  std::string text = jwks_of(64).dump();
  REQUIRE(text.size() < bound);
  text.append(bound - text.size(), ' ');
  const auto parsed = keys::parse_jwks(text);
  REQUIRE(parsed);
  CHECK(parsed->size() == 64);
  text.push_back(' ');
  CHECK(keys::parse_jwks(text).error() == errc::too_large);
  // Checked before parsing: text that is not JSON at all is too_large, not bad_json.
  CHECK(keys::parse_jwks(std::string(bound + 1, '!')).error() == errc::too_large);
  CHECK(keys::parse_jwks(std::string(bound, '!')).error() == errc::bad_json);

  // One JWK, under a bound of the caller's.
  const std::string jwk = oct_jwk(0).dump();
  CHECK(keys::parse_jwk(jwk, {.max_text_bytes = jwk.size()}));
  CHECK(keys::parse_jwk(jwk, {.max_text_bytes = jwk.size() - 1}).error() == errc::too_large);
}

// --- Misconfiguration -------------------------------------------------------------------------

TEST_CASE("limits: a Validator refuses absurd limits at construction", "[limits]") {
  CHECK_THROWS_AS(validator({.max_token_bytes = 0}), std::invalid_argument);
  CHECK_THROWS_AS(validator({.max_header_bytes = 0}), std::invalid_argument);
  CHECK_THROWS_AS(validator({.max_json_depth = 0}), std::invalid_argument);
  CHECK_THROWS_AS(validator({.max_claims = 0}), std::invalid_argument);
  CHECK_THROWS_WITH(validator({.max_claims = 0}),
                    Catch::Matchers::ContainsSubstring("max_claims must be positive"));
  CHECK_NOTHROW(validator({.max_json_depth = tegata::jws::kMaxJsonDepth}));
  CHECK_THROWS_AS(validator({.max_json_depth = tegata::jws::kMaxJsonDepth + 1}),
                  std::invalid_argument);
  CHECK_THROWS_WITH(validator({.max_json_depth = 1000}),
                    Catch::Matchers::ContainsSubstring("max_json_depth must not exceed 256"));
  CHECK_NOTHROW(validator(
      {.max_token_bytes = 1, .max_header_bytes = 1, .max_json_depth = 1, .max_claims = 1}));

  // A header bound above the token bound is allowed: the token bound decides. So lowering only
  // the token size (as SessionOptions::max_token_bytes does) keeps the defaults valid.
  const tegata::Validator small = validator({.max_token_bytes = 512});
  CHECK_NOTHROW(tegata::SessionManager(
      hs_key(),
      tegata::SessionOptions{
          .issuer = "https://issuer.example", .audience = "api", .max_token_bytes = 512},
      tegata::ManualClock(kNow)));
  const std::string token = forge(header_of(2), claims_of(1));
  REQUIRE(token.size() < 512);
  CHECK_FALSE(verify(token, small));
  const std::string long_header = forge(header_padded_to(600), claims_of(1));
  REQUIRE(long_header.size() > 512);
  REQUIRE(header_segment(long_header).size() < 1024);
  CHECK(verify(long_header, small) == errc::too_large);
}
