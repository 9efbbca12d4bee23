// Compact JWS parsing: structure, size limit, strict header JSON, alg/typ/kid/crit.
#include "tegata/jws.hpp"

#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tegata/base64url.hpp"
#include "tegata/detail/json_string.hpp"
#include "tegata/error.hpp"

namespace {

using tegata::base64url_encode;
using tegata::errc;
namespace jws = tegata::jws;

const std::string kPayload = base64url_encode(R"({"sub":"alice"})");
const std::string kSignature = base64url_encode(std::string(32, '\x5a'));

// A token whose header segment encodes exactly header_json; the other segments are well formed.
std::string token_with_header(std::string_view header_json) {
  return base64url_encode(header_json) + "." + kPayload + "." + kSignature;
}

std::error_code parse_error(std::string_view token, const jws::Limits& limits = {}) {
  return jws::parse(token, limits).error();
}

std::error_code header_error(std::string_view header_json) {
  return parse_error(token_with_header(header_json));
}

// A header whose "x" member nests `levels` arrays, so the whole header is levels + 1 deep.
std::string nested_header(std::size_t levels) {
  return R"({"alg":"HS256","x":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

}  // namespace

TEST_CASE("jws: a well-formed token parses into header, signing input and signature", "[jws]") {
  const std::string header_b64 = base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
  const std::string token = header_b64 + "." + kPayload + "." + kSignature;
  const auto r = jws::parse(token);
  REQUIRE(r.has_value());
  CHECK(r->header.alg == "HS256");
  CHECK(r->header.has_typ);
  CHECK(r->header.typ == "JWT");
  CHECK(r->header.has_kid);
  CHECK(r->header.kid == "k1");
  CHECK(r->signing_input == header_b64 + "." + kPayload);
  CHECK(r->encoded_payload == kPayload);
  CHECK(r->signature == std::string(32, '\x5a'));
  // The views point into the caller's token, not into a copy.
  CHECK(r->signing_input.data() == token.data());

  const auto payload = jws::decode_payload(*r);
  REQUIRE(payload.has_value());
  CHECK(*payload == R"({"sub":"alice"})");
}

TEST_CASE("jws: typ and kid are optional", "[jws]") {
  const auto r = jws::parse(token_with_header(R"({"alg":"HS256"})"));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->header.has_typ);
  CHECK_FALSE(r->header.has_kid);
  CHECK(r->header.typ.empty());
  CHECK(r->header.kid.empty());
}

TEST_CASE("jws: an empty payload segment is legal", "[jws]") {
  const auto r = jws::parse(base64url_encode(R"({"alg":"HS256"})") + ".." + kSignature);
  REQUIRE(r.has_value());
  CHECK(r->encoded_payload.empty());
  const auto payload = jws::decode_payload(*r);
  REQUIRE(payload.has_value());
  CHECK(payload->empty());
}

TEST_CASE("jws: anything but exactly three segments is malformed", "[jws]") {
  const std::string h = base64url_encode(R"({"alg":"HS256"})");
  const std::string p = kPayload, s = kSignature;
  for (const std::string& token :
       {std::string(), h, h + "." + p, h + "." + p + "." + s + "." + s,
        h + "." + p + "." + s + "." + s + "." + s, h + "." + p + "." + s + ".", std::string("."),
        std::string(".."), std::string("..."), std::string("....")}) {
    INFO("token: " << token);
    CHECK(parse_error(token) == errc::malformed);
  }
}

TEST_CASE("jws: an empty header or signature segment is malformed", "[jws]") {
  const std::string h = base64url_encode(R"({"alg":"HS256"})");
  CHECK(parse_error("." + kPayload + "." + kSignature) == errc::malformed);
  CHECK(parse_error(h + "." + kPayload + ".") == errc::malformed);
  CHECK(parse_error(".." + kSignature) == errc::malformed);
  CHECK(parse_error(h + "..") == errc::malformed);
}

TEST_CASE("jws: the size limit is checked before anything is decoded", "[jws]") {
  const jws::Limits limits{};
  REQUIRE(limits.max_token_bytes == 8192);

  // Garbage one byte over the limit: too_large, not bad_encoding or malformed.
  CHECK(parse_error(std::string(limits.max_token_bytes + 1, '!')) == errc::too_large);
  CHECK(parse_error(std::string(limits.max_token_bytes + 1, '.')) == errc::too_large);
  CHECK(parse_error("a.b.c" + std::string(limits.max_token_bytes, '=')) == errc::too_large);
  // At the limit the same garbage gets as far as the structural checks.
  CHECK(parse_error(std::string(limits.max_token_bytes, '!')) == errc::malformed);

  // A valid token exactly at a custom limit parses; one byte less of limit refuses it.
  const std::string token = token_with_header(R"({"alg":"HS256"})");
  CHECK(jws::parse(token, jws::Limits{.max_token_bytes = token.size()}).has_value());
  CHECK(parse_error(token, jws::Limits{.max_token_bytes = token.size() - 1}) == errc::too_large);
}

TEST_CASE("jws: header and signature segments must be strict base64url", "[jws]") {
  const std::string h = base64url_encode(R"({"alg":"HS256"})");
  for (const std::string& token :
       {h + "=." + kPayload + "." + kSignature,       // padding in the header
        "+" + h + "." + kPayload + "." + kSignature,  // standard alphabet
        h + "A." + kPayload + "." + kSignature,       // header length 1 mod 4
        h + "." + kPayload + "." + kSignature + "=",  // padded signature
        h + "." + kPayload + ".AAA/",                 // standard alphabet in the signature
        h + "." + kPayload + ".QR",                   // non-canonical trailing bits
        h + "." + kPayload + ".A",                    // signature length 1 mod 4
        h + "." + kPayload + ".AA AA"}) {             // whitespace
    INFO("token: " << token);
    CHECK(parse_error(token) == errc::bad_encoding);
  }
}

TEST_CASE("jws: a header that is not a strict JSON object is bad_json", "[jws]") {
  using namespace std::string_view_literals;
  for (std::string_view header : {
           R"(["alg","HS256"])"sv,  // array
           R"("HS256")"sv,          // string
           "42"sv,
           "null"sv,
           "true"sv,                  // scalars
           "   "sv,                   // whitespace only
           R"({"alg":"HS256")"sv,     // unterminated
           R"({"alg":"HS256"}})"sv,   // trailing garbage
           R"({"alg":"HS256"}{})"sv,  // two values
           R"({"alg":"HS256"} x)"sv,
           R"({'alg':'HS256'})"sv,           // single quotes
           R"({alg:"HS256"})"sv,             // unquoted name
           R"({"alg":"HS256",})"sv,          // trailing comma
           R"({"alg":"HS256","x":[1,]})"sv,  // trailing comma in an array
           R"({/*c*/"alg":"HS256"})"sv,      // block comment
           "{\"alg\":\"HS256\"// c\n}"sv,    // line comment
           R"({"alg":"HS256","x":NaN})"sv,   // NaN
           R"({"alg":"HS256","x":Infinity})"sv,
           R"({"alg":"HS256","x":-Infinity})"sv,
           R"({"alg":"HS256","x":01})"sv,                   // leading zero
           R"({"alg":"HS256","x":1e400})"sv,                // number overflow
           R"({"alg":"HS256","x":"\q"})"sv,                 // bad escape
           R"({"alg":"HS256","x":"\ud800"})"sv,             // lone surrogate escape
           "{\"alg\":\"HS256\",\"x\":\"\xff\"}"sv,          // invalid UTF-8 byte
           "{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}"sv,      // overlong encoding of '/'
           "{\"alg\":\"HS256\",\"x\":\"\xed\xa0\x80\"}"sv,  // UTF-8 encoded surrogate
           "{\"alg\":\"HS256\",\"x\":\"\xe2\x82\"}"sv,      // truncated sequence
           "{\"alg\":\"HS\xe2\x82\"}"sv,
           "{\"alg\":\"HS256\",\"x\":\"a\nb\"}"sv,  // raw control character in a string
           "{\"alg\":\"HS256\",\"x\":\"a\0b\"}"sv,  // raw NUL in a string
       }) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::bad_json);
  }
}

// BUG (include/tegata/detail/json.hpp, parse_json_object(), line 98): nlohmann's lexer treats a
// raw NUL byte as the end of the input, so everything after a NUL that follows the object is
// silently ignored: {"alg":"HS256"}<NUL>{"alg":"none"} parses as {"alg":"HS256"}. A raw NUL can
// never occur in valid JSON (inside strings it must be escaped), so any NUL byte should make the
// text bad_json; other parsers reject these bytes, so the two readings of the token differ.
TEST_CASE("jws: bytes after a NUL following the header object are bad_json", "[jws]") {
  using namespace std::string_view_literals;
  for (std::string_view header :
       {"{\"alg\":\"HS256\"}\0"sv, "{\"alg\":\"HS256\"}\0{\"alg\":\"none\"}"sv,
        "{\"alg\":\"HS256\"}\0garbage"sv}) {
    INFO("header: " << header << " -- BUG in detail::parse_json_object: NUL ends the input");
    CHECK(header_error(header) == errc::bad_json);
  }
}

TEST_CASE("jws: duplicate header members are rejected", "[jws]") {
  for (std::string_view header : {
           R"({"alg":"HS256","alg":"HS256"})", R"({"alg":"HS256","alg":"none"})",
           R"({"alg":"none","alg":"HS256"})", R"({"alg":"HS256","kid":"a","kid":"b"})",
           R"({"alg":"HS256","typ":"JWT","typ":"at+jwt"})",
           R"({"alg":"HS256","x":{"a":1,"a":1}})",    // nested object
           R"({"alg":"HS256","x":[{"a":1,"a":2}]})",  // object inside an array
           R"({"alg":"HS256","\u0061lg":"HS256"})",   // same name, spelled with an escape
       }) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::duplicate_member);
  }
  // The same name in sibling objects is not a duplicate.
  CHECK(jws::parse(token_with_header(R"({"alg":"HS256","x":{"a":1},"y":{"a":1}})")).has_value());
}

TEST_CASE("jws: nesting deeper than the limit is too_deep", "[jws]") {
  const jws::Limits limits{};
  REQUIRE(limits.max_json_depth == 16);
  // The header object is level 1: 15 nested arrays reach the limit, 16 exceed it.
  CHECK(jws::parse(token_with_header(nested_header(15))).has_value());
  CHECK(header_error(nested_header(16)) == errc::too_deep);
  std::string objects = R"({"alg":"HS256","x":)";
  for (int i = 0; i < 16; ++i) objects += R"({"a":)";
  objects += "1" + std::string(17, '}');
  CHECK(header_error(objects) == errc::too_deep);

  // A custom limit.
  const jws::Limits flat{.max_token_bytes = 8192, .max_json_depth = 1};
  CHECK(jws::parse(token_with_header(R"({"alg":"HS256","x":1})"), flat).has_value());
  CHECK(parse_error(token_with_header(R"({"alg":"HS256","x":{}})"), flat) == errc::too_deep);
  CHECK(parse_error(token_with_header(R"({"alg":"HS256","x":[]})"), flat) == errc::too_deep);
}

TEST_CASE("jws: 100000 levels of nesting fail cleanly", "[jws]") {
  const std::size_t levels = 100000;
  const jws::Limits big{.max_token_bytes = std::size_t{1} << 23,
                        .max_header_bytes = std::size_t{1} << 23,
                        .max_json_depth = 16};
  // Closed and unclosed, arrays and objects: never a crash, always too_deep.
  CHECK(parse_error(token_with_header(nested_header(levels)), big) == errc::too_deep);
  CHECK(parse_error(token_with_header(R"({"alg":"HS256","x":)" + std::string(levels, '[')), big) ==
        errc::too_deep);
  std::string objects = R"({"alg":"HS256")";
  for (std::size_t i = 0; i < levels; ++i) objects += R"(,"x":{"y":0)";
  CHECK(parse_error(token_with_header(objects), big) == errc::too_deep);
  CHECK(jws::parse_header(nested_header(levels)).error() == errc::too_deep);
  // With the default limits the same token is simply too large.
  CHECK(parse_error(token_with_header(nested_header(levels))) == errc::too_large);
}

TEST_CASE("jws: alg must be a non-empty string", "[jws]") {
  for (std::string_view header : {R"({})", R"({"typ":"JWT"})", R"({"alg":""})", R"({"alg":null})",
                                  R"({"alg":256})", R"({"alg":true})", R"({"alg":["HS256"]})",
                                  R"({"alg":{"name":"HS256"}})", R"({"ALG":"HS256"})"}) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::malformed);
  }
}

TEST_CASE("jws: alg none is refused in every spelling", "[jws]") {
  for (std::string_view header :
       {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":"nOnE"})",
        R"({"alg":"noNE","typ":"JWT"})", R"({"alg":"n\u006fne"})"}) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::unsupported_algorithm);
  }
  // An unsigned token ("none" with an empty signature) fails on structure already.
  CHECK(parse_error(base64url_encode(R"({"alg":"none"})") + "." + kPayload + ".") ==
        errc::malformed);
}

TEST_CASE("jws: an unknown alg parses; the key decides later", "[jws]") {
  const auto r = jws::parse(token_with_header(R"({"alg":"XS999"})"));
  REQUIRE(r.has_value());
  CHECK(r->header.alg == "XS999");
}

TEST_CASE("jws: typ and kid must be strings when present", "[jws]") {
  for (std::string_view header :
       {R"({"alg":"HS256","typ":1})", R"({"alg":"HS256","typ":null})",
        R"({"alg":"HS256","typ":["JWT"]})", R"({"alg":"HS256","typ":{}})",
        R"({"alg":"HS256","typ":false})", R"({"alg":"HS256","kid":5})",
        R"({"alg":"HS256","kid":null})", R"({"alg":"HS256","kid":true})",
        R"({"alg":"HS256","kid":["a"]})", R"({"alg":"HS256","kid":{"id":"a"}})"}) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::malformed);
  }
  // Present but empty strings are still "present".
  const auto r = jws::parse(token_with_header(R"({"alg":"HS256","typ":"","kid":""})"));
  REQUIRE(r.has_value());
  CHECK(r->header.has_typ);
  CHECK(r->header.has_kid);
}

TEST_CASE("jws: crit must be a non-empty array of understood names", "[jws]") {
  CHECK(jws::parse(token_with_header(R"({"alg":"HS256"})")).has_value());
  for (std::string_view header :
       {R"({"alg":"HS256","crit":[]})", R"({"alg":"HS256","crit":"b64"})",
        R"({"alg":"HS256","crit":null})", R"({"alg":"HS256","crit":{"b64":true}})",
        R"({"alg":"HS256","crit":1})", R"({"alg":"HS256","crit":[1]})",
        R"({"alg":"HS256","crit":[null]})", R"({"alg":"HS256","crit":[["b64"]]})"}) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::malformed);
  }
  for (std::string_view header :
       {R"({"alg":"HS256","crit":["b64"],"b64":false})", R"({"alg":"HS256","crit":["exp"]})",
        R"({"alg":"HS256","crit":["x-unknown"]})", R"({"alg":"HS256","crit":["alg"]})",
        R"({"alg":"HS256","crit":["b64","exp"]})"}) {
    INFO("header: " << header);
    CHECK(header_error(header) == errc::unsupported_critical);
  }
}

TEST_CASE("jws: jku, x5u and jwk header members are ignored", "[jws]") {
  const auto r = jws::parse(token_with_header(
      R"({"alg":"HS256","kid":"k1","jku":"https://attacker.example/jwks.json",)"
      R"("x5u":"https://attacker.example/cert.pem",)"
      R"("jwk":{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"x5c":["AAAA"]})"));
  REQUIRE(r.has_value());
  CHECK(r->header.alg == "HS256");
  CHECK(r->header.kid == "k1");
}

TEST_CASE("jws: a payload segment of invalid length is bad_encoding", "[jws]") {
  const std::string h = base64url_encode(R"({"alg":"HS256"})");
  CHECK(parse_error(h + ".e30Ae." + kSignature) == errc::bad_encoding);  // 5 chars: 1 mod 4
  CHECK(parse_error(h + ".A." + kSignature) == errc::bad_encoding);
}

// BUG (include/tegata/jws.hpp, parse(), lines 123-128): the payload segment is only checked for
// a length of 1 mod 4; characters outside the alphabet, padding and non-canonical trailing bits
// pass jws::parse, although its own comment says a bad payload segment is rejected here. The
// failure only shows later, as bad_signature (or as bad_encoding in decode_payload if the
// signature happens to be valid). Expected: errc::bad_encoding from jws::parse.
TEST_CASE("jws: a payload segment with characters outside base64url is bad_encoding", "[jws]") {
  const std::string h = base64url_encode(R"({"alg":"HS256"})");
  for (const std::string& payload :
       {std::string("e30="), std::string("a+b/"), std::string("e3 0"), std::string("QR"),
        std::string("QUJ"), std::string("e3\xc3\xa9")}) {
    INFO("payload segment: " << payload << " -- BUG in jws::parse: only the length is checked");
    CHECK(parse_error(h + "." + payload + "." + kSignature) == errc::bad_encoding);
  }
}

namespace {

// What nlohmann_json writes for s as a JSON string, or nothing where it throws (not UTF-8).
std::optional<std::string> dumped(std::string_view s) {
  try {
    return nlohmann::json(s).dump();
  } catch (const nlohmann::json::type_error&) {
    return std::nullopt;
  }
}

// What try_append_json_string writes for s, or nothing where it answers false; out must then be
// as it was.
std::optional<std::string> written(std::string_view s) {
  std::string out = "prefix";
  if (!tegata::detail::try_append_json_string(out, s)) {
    CHECK(out == "prefix");
    return std::nullopt;
  }
  return out.substr(6);
}

}  // namespace

TEST_CASE("jws: the JSON string writer without nlohmann writes what nlohmann does", "[jws]") {
  // Every string of one and of two bytes: each ASCII escape, each lead and continuation byte.
  std::size_t mismatches = 0;
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    if (written(s) != dumped(s)) ++mismatches;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      if (written(s) != dumped(s)) ++mismatches;
    }
  }
  // Sequences of three and four bytes from every lead byte from 0xE0, with following bytes at
  // each boundary of Unicode's Table 3-7, alone, after ASCII and before escapes.
  const int follow[] = {0x00, 0x22, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xE0; a < 256; ++a) {
    for (const int b : follow) {
      for (const int c : follow) {
        for (const int d : follow) {
          const std::string three{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
          for (const std::string& t : {three, three + static_cast<char>(d),
                                       "ab" + three + static_cast<char>(d) + "\"\\\x01\x1f"}) {
            if (written(t) != dumped(t)) ++mismatches;
          }
        }
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(written("tab\there \"quoted\" \\ \x7f caf\xC3\xA9 \xF0\x9F\x94\x91") ==
        "\"tab\\there \\\"quoted\\\" \\\\ \x7f caf\xC3\xA9 \xF0\x9F\x94\x91\"");
}

TEST_CASE("jws: a header string that is not UTF-8", "[jws][utf8]") {
  // The writer Signers use answers false and leaves its output as it was...
  std::string out = "x";
  CHECK_FALSE(jws::detail::append_header(out, "HS256", "k\xFF", "JWT"));
  CHECK_FALSE(jws::detail::append_header(out, "HS256", "k1", "\xC3"));
  CHECK(out == "x");
  CHECK(jws::detail::append_header(out, "HS256", "k1", "JWT"));
  CHECK(out == "x" + jws::make_header("HS256", "k1", "JWT"));
  // ...while make_header throws nlohmann's type_error, as it always has.
  CHECK_THROWS_AS(jws::make_header("HS256", "k\xFF", ""), nlohmann::json::type_error);
  CHECK_THROWS_AS(jws::make_header("HS256", "", "\xC3"), nlohmann::json::type_error);
}

TEST_CASE("jws: make_header, make_signing_input and finish_compact round trip", "[jws]") {
  CHECK(jws::make_header("HS256", "", "") == R"({"alg":"HS256"})");
  CHECK(jws::make_header("HS256", "k1", "") == R"({"alg":"HS256","kid":"k1"})");
  CHECK(jws::make_header("HS256", "k1", "JWT") == R"({"alg":"HS256","kid":"k1","typ":"JWT"})");
  CHECK(jws::make_header("HS256", "", "at+jwt") == R"({"alg":"HS256","typ":"at+jwt"})");

  const std::string header = jws::make_header("HS384", "key-\"1\"", "JWT");
  const std::string input = jws::make_signing_input(header, "payload bytes");
  CHECK(input == base64url_encode(header) + "." + base64url_encode("payload bytes"));
  const std::string token = jws::finish_compact(input, "sig");
  CHECK(token == input + "." + base64url_encode("sig"));

  const auto r = jws::parse(token);
  REQUIRE(r.has_value());
  CHECK(r->header.alg == "HS384");
  CHECK(r->header.kid == "key-\"1\"");
  CHECK(r->header.typ == "JWT");
  CHECK(r->signing_input == input);
  CHECK(r->signature == "sig");
  CHECK(jws::decode_payload(*r).value() == "payload bytes");
}

TEST_CASE("jws: parse_header reports the same errors without the compact wrapper", "[jws]") {
  CHECK(jws::parse_header(R"({"alg":"HS256"})").has_value());
  CHECK(jws::parse_header("[]").error() == errc::bad_json);
  CHECK(jws::parse_header(R"({"alg":"HS256","alg":"HS256"})").error() == errc::duplicate_member);
  CHECK(jws::parse_header(R"({"alg":"none"})").error() == errc::unsupported_algorithm);
  CHECK(jws::parse_header(R"({"alg":"HS256","x":[[]]})", 2).error() == errc::too_deep);
  CHECK(jws::parse_header(R"({"alg":"HS256","x":[]})", 2).has_value());
}
