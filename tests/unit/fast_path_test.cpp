// The validation fast path and what it rests on, at its boundaries: the flat JSON reader against
// the strict reader (escapes, Unicode, duplicate names, numbers at every edge, whitespace,
// nesting, syntax errors at every position, limits), the readers built on both, the fast
// base64url codec, the JSON writer that issue() uses, the per-thread HMAC contexts and header
// cache, the random id pool, SipHash and the compact table of MemoryRevocationStore.
//
// The differential property of tests/fuzz/claims_differential.cpp runs here on every boundary
// input, so a regression shows up in tegata_tests without a fuzzer.
#define TEGATA_CLAIMS_DIFFERENTIAL_NO_MAIN
#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fuzz/claims_differential.cpp"
#include "tegata/detail/id_table.hpp"
#include "tegata/detail/siphash.hpp"
#include "tegata/tegata.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace {

using namespace std::chrono_literals;
using tegata::errc;
using tegata::detail::fast_parse_result;
using tegata::detail::flat_object;

fast_parse_result fast(std::string_view text, std::size_t depth = 16) {
  flat_object flat;
  return tegata::detail::fast_parse_object(text, depth, flat);
}

fast_parse_result fast(std::string_view text, const tegata::detail::json_limits& limits) {
  flat_object flat;
  return tegata::detail::fast_parse_object(text, limits, flat);
}

std::error_code strict_error(std::string_view text, std::size_t depth = 16) {
  return tegata::detail::parse_json_object(text, depth).error();
}

// The category the flat reader puts text in, checked against the strict reader, and the whole
// differential property.
void expect_accepted(std::string_view text, std::size_t depth = 16) {
  INFO("text: " << text << ", depth " << depth);
  CHECK(fast(text, depth) == fast_parse_result::accepted);
  CHECK_FALSE(strict_error(text, depth));
  claims_differential::check_differential(text);
}

void expect_deferred(std::string_view text, std::size_t depth = 16) {
  INFO("text: " << text << ", depth " << depth);
  CHECK(fast(text, depth) == fast_parse_result::deferred);
  claims_differential::check_differential(text);
}

// Certainly not JSON, decided by the flat reader: bad_json to the strict reader as well.
void expect_syntax_error(std::string_view text, std::size_t depth = 16) {
  INFO("text: " << text << ", depth " << depth);
  CHECK(fast(text, depth) == fast_parse_result::syntax_error);
  CHECK(strict_error(text, depth) == errc::bad_json);
  claims_differential::check_differential(text);
}

void expect_not_an_object(std::string_view text) {
  INFO("text: " << text);
  CHECK(fast(text) == fast_parse_result::not_an_object);
  CHECK(strict_error(text) == errc::bad_json);
  claims_differential::check_differential(text);
}

const std::string kSessionClaims =
    R"({"aud":"a","auth_time":50,"exp":100,"iat":50,"iss":"i","jti":"tok-1","sid":"fam-1",)"
    R"("sub":"alice","ver":3})";

}  // namespace

// --- The flat reader and the strict reader -------------------------------------------------------

TEST_CASE("fast path: the shape tegata writes is read without the strict reader", "[fast_path]") {
  expect_accepted(R"({"alg":"HS256","kid":"key-2025","typ":"at+jwt"})");
  expect_accepted(kSessionClaims);
  expect_accepted("{}");
  expect_accepted(R"({"":""})");
  expect_accepted(R"({"aud":["a","b"],"crit":[],"x":true,"y":false,"z":null})");
  // Every printable ASCII byte but '"' and '\' is plain.
  std::string printable;
  for (char c = 0x20; c <= 0x7E; ++c) {
    if (c != '"' && c != '\\') printable.push_back(c);
  }
  expect_accepted(R"({"p":")" + printable + R"("})");
  expect_accepted(R"({")" + printable + R"(":1})");
}

TEST_CASE("fast path: JSON whitespace wherever JSON allows it", "[fast_path]") {
  expect_accepted(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \"x\" , \"y\" ] , \"b\" : 1 } \t\r\n");
  // Form feed and vertical tab are not JSON whitespace.
  expect_not_an_object("\f{}");
  expect_syntax_error("{\f}");
  expect_syntax_error("{}\v");
  expect_syntax_error(R"({"a":1} x)");
  expect_syntax_error(R"({"a":1}{})");
}

TEST_CASE("fast path: escapes and non-ASCII go to the strict reader, raw control bytes are bad",
          "[fast_path]") {
  expect_deferred(R"({"sub":"a\"b"})");
  expect_deferred(R"({"sub":"a\\b"})");
  expect_deferred(R"({"sub":"a\nb"})");
  expect_deferred(R"({"sub":"\u0061"})");        // the same value as "a", spelled otherwise
  expect_deferred(R"({"s\u0075b":"a"})");        // an escaped name
  expect_deferred(R"({"sub":"\ud83d\ude00"})");  // a surrogate pair
  expect_deferred(R"({"sub":"\ud800"})");        // a lone surrogate: the strict reader refuses
  expect_deferred("{\"sub\":\"caf\xC3\xA9\"}");  // UTF-8
  expect_deferred("{\"sub\":\"\xC3\x28\"}");     // invalid UTF-8
  expect_deferred("{\"sub\":\"\xFF\"}");
  expect_deferred("{\"sub\":\"a\x7F\"}");  // DEL: valid JSON, left to the strict reader
  // A raw control byte is no JSON string, in a value or a name, after plain bytes or after 16 of
  // them (the vector loop), or after bytes the reader leaves to the strict reader.
  expect_syntax_error("{\"sub\":\"a\x1F\"}");
  expect_syntax_error("{\"sub\":\"a\tb\"}");
  expect_syntax_error("{\"s\nb\":\"a\"}");
  expect_syntax_error("{\"sub\":\"0123456789abcdef\x01\"}");
  expect_syntax_error("{\"aud\":[\"a\x1F\"]}");
  expect_syntax_error(std::string("{\"sub\":\"a\0b\"}", 12));
  expect_deferred("{\"sub\":\"\xC3\xA9\x01\"}");
  expect_deferred("{\"sub\":\"\\\x01\"}");
  // Escaped and plain spellings of one name are one name to the strict reader.
  expect_deferred(R"({"sub":"a","s\u0075b":"b"})");
  CHECK(strict_error(R"({"sub":"a","s\u0075b":"b"})") == errc::duplicate_member);
}

TEST_CASE("fast path: numbers at every edge", "[fast_path]") {
  expect_accepted(R"({"n":0})");
  expect_accepted(R"({"n":7})");
  expect_accepted(R"({"n":1700000000})");
  expect_accepted(R"({"n":9999999999999999999})");   // 19 digits: the largest the reader takes
  expect_deferred(R"({"n":10000000000000000000})");  // 20 digits, still an unsigned 64-bit
  expect_deferred(R"({"n":18446744073709551615})");  // UINT64_MAX
  expect_deferred(R"({"n":18446744073709551616})");  // a float to nlohmann_json
  expect_deferred(R"({"n":-1})");
  expect_deferred(R"({"n":-0})");      // number_integer 0, not unsigned 0: ver would differ
  expect_syntax_error(R"({"n":01})");  // JSON allows no leading zero
  expect_syntax_error(R"({"n":00})");
  expect_deferred(R"({"n":1.5})");
  expect_deferred(R"({"n":1.0})");
  expect_deferred(R"({"n":1e3})");
  expect_deferred(R"({"n":1E3})");
  expect_deferred(R"({"n":0e0})");
  expect_deferred(R"({"n":0.5})");
  expect_deferred(R"({"n":1.})");  // no JSON, but the strict reader decides what follows digits
  expect_syntax_error(R"({"n":1 2})");
  expect_syntax_error(R"({"n":1 .5})");
  expect_syntax_error(R"({"n":1-2})");
  expect_syntax_error(R"({"n":1+2})");
  expect_syntax_error(R"({"n":0x1})");
  expect_syntax_error(R"({"n":+1})");
  expect_syntax_error(R"({"n":.5})");
  expect_syntax_error(R"({"n":NaN})");
  expect_syntax_error(R"({"n":Infinity})");
  expect_syntax_error(R"({"n":1)");
  expect_syntax_error(R"({"n":9999999999999999999)");
  // The claim readers see the same on both paths, e.g. for ver and the NumericDate limits.
  expect_accepted(R"({"ver":18,"exp":253402300799,"iat":0,"nbf":253402300799})");
  expect_accepted(R"({"exp":253402300800})");
  CHECK(tegata::parse_claims(nlohmann::json::parse(R"({"exp":253402300800})")).error() ==
        errc::invalid_claim);
}

TEST_CASE("fast path: literals and their look-alikes", "[fast_path]") {
  expect_accepted(R"({"a":true,"b":false,"c":null})");
  expect_syntax_error(R"({"a":tru})");
  expect_syntax_error(R"({"a":truex})");
  expect_syntax_error(R"({"a":True})");
  expect_syntax_error(R"({"a":nul})");
  expect_syntax_error(R"({"a":falsey})");
  expect_syntax_error(R"({"a":nulltrue})");
  expect_syntax_error(R"({"a":fals)");
}

TEST_CASE("fast path: duplicate names are never accepted", "[fast_path]") {
  expect_deferred(R"({"exp":1,"exp":2})");
  expect_deferred(R"({"alg":"HS256","alg":"none"})");
  expect_deferred(R"({"custom":1,"custom":1})");
  expect_deferred(R"({"":1,"":2})");
  expect_deferred(R"({"aud":"a","x":1,"aud":["a"]})");
  CHECK(strict_error(R"({"exp":1,"exp":2})") == errc::duplicate_member);
  // Names that differ only in length or case are different.
  expect_accepted(R"({"exp":1,"Exp":2,"expx":3,"ex":4})");
}

TEST_CASE("fast path: nesting and the depth limit", "[fast_path]") {
  expect_deferred(R"({"a":{}})");
  expect_deferred(R"({"a":{"b":1}})");
  expect_deferred(R"({"a":[1]})");
  expect_deferred(R"({"a":[[]]})");
  expect_deferred(R"({"a":["x",1]})");
  expect_deferred(R"({"a":[true]})");
  expect_deferred(R"({"a":[{}]})");
  // An array needs depth 2: at depth 1 the strict reader says too_deep, so the flat reader
  // defers rather than accept it.
  expect_accepted(R"({"aud":["a"]})", 2);
  expect_deferred(R"({"aud":["a"]})", 1);
  CHECK(strict_error(R"({"aud":["a"]})", 1) == errc::too_deep);
  expect_accepted(R"({"aud":"a"})", 1);
  expect_deferred("{}", 0);
  CHECK(strict_error("{}", 0) == errc::too_deep);
}

TEST_CASE("fast path: syntax errors inside the subset are bad_json at once", "[fast_path]") {
  for (const std::string_view text : {R"({"a":1,})",
                                      R"({"a" 1})",
                                      R"({"a":})",
                                      R"({"a")",
                                      R"({"a)",
                                      R"({a:1})",
                                      R"({'a':1})",
                                      R"({"a":1)",
                                      R"({,"a":1})",
                                      R"({"a":"b)",
                                      R"({"a":["b",]})",
                                      R"({"a":["b")",
                                      R"({"a":["b" "c"]})",
                                      "{",
                                      R"({"a":1 /* c */})",
                                      "{\"a\":1}\xEF\xBB\xBF",
                                      R"({"a":1,,"b":2})",
                                      R"({"a"::1})",
                                      R"({"a":1:2})",
                                      R"({"a":1]})",
                                      R"({"a":[}})",
                                      R"({"a":[,]})",
                                      R"({"a":["b"}})",
                                      R"({"a":["b",,"c"]})",
                                      R"({"a":[)",
                                      R"({"a":["b",)",
                                      R"({"a":"b"}})",
                                      R"({"a":true)",
                                      R"({"a":null,)",
                                      R"({"a":[]]})",
                                      R"({"a":[] 1})",
                                      R"({} {})",
                                      "{\"a\":\x01}",
                                      "{\"a\":\xC3\xA9}",
                                      "{\xC3\xA9:1}",
                                      "{\"a\"\xFF:1}"}) {
    expect_syntax_error(text);
  }
  // What the strict reader meets first still decides: a depth limit the array is over (too_deep
  // at the '['), or a value the flat reader does not read.
  expect_deferred(R"({"a":["b",]})", 1);
  CHECK(strict_error(R"({"a":["b",]})", 1) == errc::too_deep);
  expect_deferred(R"({"a":[1,]})");
  expect_deferred(R"({"a":{},})");
  expect_deferred(R"({"a":-1,})");
  expect_deferred(R"({"a":"\u0061",})");
  expect_deferred(R"({"a":1,"a":2,})");
  CHECK(strict_error(R"({"a":1,"a":2,})") == errc::duplicate_member);
  expect_deferred("[1]");
  expect_deferred("[]");
  expect_deferred("[");
  CHECK(strict_error("[]") == errc::bad_json);
}

TEST_CASE("fast path: a real object cut at every byte is a syntax error", "[fast_path]") {
  for (const std::string& text :
       {kSessionClaims, std::string(R"({"alg":"HS256","kid":"key-2025","typ":"at+jwt"})"),
        std::string(R"( { "aud" : [ "a" , "b" ] , "crit":[], "x" : true , "y":false,)"
                    R"("z" : null , "n" : 0 , "m":1234567890123456789 } )"),
        std::string(R"({"s":"0123456789abcdef0123456789abcdef","t":"x"})")}) {
    expect_accepted(text);
    const std::size_t last = text.find_last_not_of(' ');
    for (std::size_t size = 0; size <= last; ++size) {
      const std::string_view cut = std::string_view(text).substr(0, size);
      if (cut.find_first_not_of(' ') == std::string_view::npos) {
        expect_not_an_object(cut);
      } else {
        expect_syntax_error(cut);
      }
    }
  }
}

namespace {

// Every byte but whitespace and allowed, after prefix: a syntax error, wherever the text goes on.
// The allowed bytes are left to the differential property.
void check_position(std::string_view prefix, std::string_view allowed) {
  for (int c = 0; c < 256; ++c) {
    const char byte = static_cast<char>(c);
    std::string text(prefix);
    text += byte;
    const bool may_follow =
        tegata::detail::fast_json::is_space(byte) || allowed.find(byte) != std::string_view::npos;
    for (const std::string_view rest : {"", "}", R"("x":1})", "]}", "\"}"}) {
      const std::string full = text + std::string(rest);
      if (may_follow) {
        claims_differential::check_differential(full);
      } else {
        expect_syntax_error(full);
      }
    }
  }
}

}  // namespace

TEST_CASE("fast path: every byte JSON allows nowhere at a position is a syntax error there",
          "[fast_path]") {
  constexpr std::string_view kValueStarts = "\"-0123456789{[tfn";
  SECTION("where a name is expected: '\"', and '}' right after '{'") {
    check_position("{", "\"}");
    check_position(R"({"a":1,)", "\"");
    check_position(R"({ "a" : 1 , )", "\"");
  }
  SECTION("after a name: ':'") {
    check_position(R"({"a")", ":");
    check_position(R"({"a":1,"b" )", ":");
  }
  SECTION("where a value is expected") {
    check_position(R"({"a":)", kValueStarts);
    check_position(R"({"a":1,"b": )", kValueStarts);
  }
  SECTION("after a value: ',' or '}', and what continues a number") {
    check_position(R"({"a":"x")", ",}");
    check_position(R"({"a":true)", ",}");
    check_position(R"({"a":false )", ",}");
    check_position(R"({"a":null)", ",}");
    check_position(R"({"a":["x"])", ",}");
    check_position(R"({"a":[] )", ",}");
    check_position(R"({"a":12)", ",}0123456789.eE");
    check_position(R"({"a":0)", ",}.eE");  // no digit after a leading zero
    check_position(R"({"a":12 )", ",}");
  }
  SECTION("in an array") {
    check_position(R"({"a":[)", "]\"-0123456789{[tfn");
    check_position(R"({"a":["x")", ",]");
    check_position(R"({"a":["x",)", kValueStarts);
  }
  SECTION("inside a literal") {
    check_position(R"({"a":t)", "r");
    check_position(R"({"a":tru)", "e");
    check_position(R"({"a":fals)", "e");
    check_position(R"({"a":n)", "u");
  }
  SECTION("after the closing brace: whitespace only") {
    check_position("{}", "");
    check_position(R"({"a":1} )", "");
  }
}

TEST_CASE("fast path: in a string, raw control bytes are a syntax error, the rest may continue",
          "[fast_path]") {
  // A string opened by each prefix and closed by its suffix, with one byte of every value in it.
  const std::pair<std::string_view, std::string_view> strings[] = {
      {R"({")", R"(":1})"},
      {R"({"a":")", R"("})"},
      {R"({"a":["x",")", R"("]})"},
      {R"({"a":"0123456789abcdefghij)", R"("})"}};
  for (const auto& [prefix, suffix] : strings) {
    for (int c = 0; c < 256; ++c) {
      const std::string text = std::string(prefix) + static_cast<char>(c) + std::string(suffix);
      if (c < 0x20) {
        expect_syntax_error(text);
      } else if (c != '"') {  // a quote ends the string early: the suffix is then out of place
        CHECK(fast(text) != fast_parse_result::syntax_error);
        claims_differential::check_differential(text);
      }
    }
  }
}

TEST_CASE("fast path: a syntax error after more members than the bound is the bound's too_large",
          "[fast_path][limits]") {
  using tegata::detail::json_limits;
  // The text of an object's first n members, m0..m(n-1), without its closing brace.
  const auto members = [](std::size_t n) {
    std::string text = "{";
    for (std::size_t i = 0; i < n; ++i) text += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":1";
    return text;
  };
  const auto strict = [](std::string_view text, std::size_t max_members) {
    return tegata::detail::parse_json_object(text, json_limits{.max_members = max_members}).error();
  };
  // Up to kFlatMaxMembers - 1 members before the error: the flat reader defers at member
  // kFlatMaxMembers + 1 whatever follows (the header's case below).
  for (const std::size_t n :
       {std::size_t{1}, std::size_t{3}, tegata::detail::kFlatMaxMembers - 1}) {
    // Each syntax error after the n members, with the names the strict reader has counted when
    // it meets it: member n's name counts once it ends, so before an error after it, not before
    // an error inside it.
    const std::string name = ",\"m" + std::to_string(n) + "\"";
    const std::pair<std::string, std::size_t> errors[] = {{",}", n},
                                                          {" x", n},
                                                          {"}}", n},
                                                          {",\"m", n},
                                                          {name, n + 1},
                                                          {name + ":", n + 1},
                                                          {name + " 1", n + 1},
                                                          {name + R"(:["a",]})", n + 1}};
    for (const auto& [rest, names] : errors) {
      const std::string text = members(n) + rest;
      INFO("text: " << text);
      CHECK(fast(text, json_limits{.max_members = names}) == fast_parse_result::syntax_error);
      CHECK(strict(text, names) == errc::bad_json);
      CHECK(fast(text, json_limits{.max_members = names - 1}) == fast_parse_result::deferred);
      CHECK(strict(text, names - 1) == errc::too_large);
      claims_differential::check_differential(text);
      // Through the claims reader of verify_jwt and SessionManager.
      for (const std::size_t max_claims : {names - 1, names}) {
        if (max_claims == 0) continue;  // a Validator refuses a bound of 0
        const tegata::jws::Limits limits{.max_claims = max_claims};
        tegata::detail::json_object_storage read;
        CHECK(tegata::detail::read_claims_object(text, limits, read) ==
              (max_claims < names ? errc::too_large : errc::bad_json));
      }
    }
  }
  // The header's bound (jws::kMaxHeaderMembers, as many as the flat reader holds): member 33 is
  // deferred whatever follows, and the strict reader refuses it once its name is read.
  static_assert(tegata::jws::kMaxHeaderMembers == tegata::detail::kFlatMaxMembers);
  const std::string full = members(tegata::jws::kMaxHeaderMembers);
  tegata::jws::Header header;
  CHECK(tegata::jws::detail::parse_header_into(full + ",}", 16, header) == errc::bad_json);
  CHECK(tegata::jws::detail::parse_header_into(full + ",\"x\":", 16, header) == errc::too_large);
  CHECK(tegata::jws::detail::parse_header_into(full + ",\"x", 16, header) == errc::bad_json);
}

TEST_CASE("fast path: a NUL after a syntax error changes nothing", "[fast_path]") {
  using namespace std::string_literals;
  // The strict reader refuses a raw NUL anywhere, before reading: bad_json, the same answer.
  for (const std::string& text :
       {R"({"a":1,})"s + '\0', R"({"a":1)"s + '\0' + "}", R"({"a" )"s + '\0', "{\"a\":\"\0\"}"s,
        R"({"a":1}x)"s + '\0', R"({"a":tru)"s + '\0' + "e}"}) {
    expect_syntax_error(text);
  }
  // Even where the flat reader defers (a member over the bound before the syntax error), the
  // NUL makes the strict reader's answer bad_json rather than too_large.
  const std::string over = R"({"a":1,"b":2,})"s + '\0';
  CHECK(fast(over, tegata::detail::json_limits{.max_members = 1}) == fast_parse_result::deferred);
  CHECK(tegata::detail::parse_json_object(over, tegata::detail::json_limits{.max_members = 1})
            .error() == errc::bad_json);
  claims_differential::check_differential(over);
}

TEST_CASE("fast path: what cannot be an object is bad_json at once", "[fast_path]") {
  for (const std::string_view text : {"", " ", "\t\n", "1", "-1", "\"x\"", "null", "true", "x", "}",
                                      "\xEF\xBB\xBF{}", "not a JSON header, just text"}) {
    expect_not_an_object(text);
  }
  expect_not_an_object(std::string_view("\0{}", 3));
}

TEST_CASE("fast path: member and array limits defer instead of refusing", "[fast_path]") {
  std::string members = "{";
  for (std::size_t i = 0; i < tegata::detail::kFlatMaxMembers; ++i) {
    members += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":1";
  }
  expect_accepted(members + "}");
  expect_deferred(members + ",\"one_more\":1}");

  std::string strings = R"({"aud":[)";
  for (std::size_t i = 0; i < tegata::detail::kFlatMaxStrings; ++i) {
    strings += (i ? ",\"a" : "\"a") + std::to_string(i) + "\"";
  }
  expect_accepted(strings + "]}");
  expect_deferred(strings + ",\"x\"]}");
  // The limit counts the strings of every array together.
  expect_deferred(strings + R"(],"crit":["b"]})");
}

TEST_CASE("fast path: member names are classified exactly", "[fast_path]") {
  using tegata::detail::classify_member;
  using tegata::detail::member_name;
  for (std::size_t n = 1; n < tegata::detail::kMemberNameCount; ++n) {
    const auto name = static_cast<member_name>(n);
    CHECK(classify_member(tegata::detail::name_of(name)) == name);
  }
  using namespace std::string_view_literals;
  for (const std::string_view other :
       {""sv, "a"sv, "al"sv, "alg "sv, "ALG"sv, "Alg"sv, "algx"sv, "auth_tim"sv, "auth_timex"sv,
        "crit "sv, "cri"sv, "\0\0\0"sv, "xyz"sv, "isx"sv, "sib"sv, "kiD"sv, "ver\n"sv}) {
    CHECK(classify_member(other) == member_name::other);
  }
}

// --- Readers on both documents -------------------------------------------------------------------

TEST_CASE("fast path: header and claim readers agree on both documents", "[fast_path]") {
  // Each is accepted by the flat reader and runs the full differential property, which compares
  // the header, registered-claims and session readers (errors included) on both documents.
  for (const std::string_view text :
       {R"({"alg":"none"})", R"({"alg":"NoNe"})", R"({"alg":""})", R"({"alg":5})",
        R"({"alg":"HS256","typ":1})", R"({"alg":"HS256","kid":null})",
        R"({"alg":"HS256","crit":[]})", R"({"alg":"HS256","crit":["b64"]})",
        R"({"alg":"HS256","crit":"b64"})", R"({"iss":1})", R"({"aud":true})", R"({"aud":[]})",
        R"({"exp":"tomorrow"})", R"({"exp":null})", R"({"sub":""})", R"({"ver":"1"})",
        R"({"aud":"a","auth_time":50,"exp":100,"iat":50,"iss":"i","jti":"t","sid":"s","sub":"u"})",
        R"({"aud":"a","auth_time":true,"exp":100,"iat":50,"iss":"i","jti":"t","sid":"s",)"
        R"("sub":"u","ver":1})",
        R"({"aud":["b","a"],"auth_time":50,"exp":100,"iat":50,"iss":"i","jti":"t","sid":"s",)"
        R"("sub":"u","ver":1,"role":"r","flags":["x"],"ok":false,"none":null})"}) {
    expect_accepted(text);
  }
}

namespace {

tegata::SessionOptions session_options() {
  tegata::SessionOptions options;
  options.issuer = "https://issuer.example";
  options.audience = "api";
  return options;
}

const std::string kSecret = "fast path test secret, 32 bytes!";

std::string sign_payload(const nlohmann::json& payload, std::string_view typ = "at+jwt") {
  const tegata::HmacKey key(tegata::Algorithm::HS256, kSecret);
  return key.sign(tegata::TokenType(typ), payload.dump()).value();
}

nlohmann::json access_payload(std::chrono::sys_seconds now) {
  const auto t = now.time_since_epoch().count();
  return {{"iss", "https://issuer.example"},
          {"aud", "api"},
          {"sub", "alice"},
          {"sid", "family-1"},
          {"jti", "token-1"},
          {"ver", 0},
          {"iat", t},
          {"exp", t + 60},
          {"auth_time", t}};
}

}  // namespace

TEST_CASE("fast path: validate gives the same claims whichever path reads the payload",
          "[fast_path][session]") {
  tegata::ManualClock clock(std::chrono::sys_seconds{1'700'000'000s});
  tegata::SessionManager manager(tegata::HmacKey(tegata::Algorithm::HS256, kSecret),
                                 session_options(), clock);
  const auto now = clock.now();

  nlohmann::json plain = access_payload(now);
  plain["role"] = "admin";
  plain["scopes"] = {"read", "write"};
  // The same claims in a spelling only the strict reader takes: an escaped subject, and a
  // custom claim that is a nested object.
  std::string escaped = plain.dump();
  escaped.replace(escaped.find("\"alice\""), 7, R"("\u0061lice")");
  nlohmann::json nested = plain;
  nested["profile"] = {{"plan", "pro"}};

  const auto a = manager.validate(sign_payload(plain));
  const tegata::HmacKey key(tegata::Algorithm::HS256, kSecret);
  const auto b = manager.validate(key.sign(tegata::kAccessTokenType, escaped).value());
  const auto c = manager.validate(sign_payload(nested));
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  for (const auto* r : {&*a, &*b, &*c}) {
    CHECK(r->subject == "alice");
    CHECK(r->session_id == "family-1");
    CHECK(r->token_id == "token-1");
    CHECK(r->version == 0);
    CHECK(r->issued_at == now);
    CHECK(r->expires_at == now + 60s);
    CHECK(r->auth_time == now);
    CHECK(r->extra.at("role") == "admin");
    CHECK(r->extra.at("scopes") == nlohmann::json({"read", "write"}));
  }
  CHECK(claims_differential::same_json(a->extra, b->extra));
  CHECK(c->extra.at("profile") == nlohmann::json({{"plan", "pro"}}));
  CHECK_FALSE(a->extra.contains("sub"));
}

TEST_CASE("fast path: rejections through validate are the strict path's", "[fast_path][session]") {
  tegata::ManualClock clock(std::chrono::sys_seconds{1'700'000'000s});
  tegata::SessionManager manager(tegata::HmacKey(tegata::Algorithm::HS256, kSecret),
                                 session_options(), clock);
  const tegata::HmacKey key(tegata::Algorithm::HS256, kSecret);
  const auto now = clock.now();
  const auto with = [&](const char* name, const nlohmann::json& value) {
    nlohmann::json p = access_payload(now);
    p[name] = value;
    return manager.validate(sign_payload(p)).error();
  };
  CHECK(with("ver", -1) == errc::invalid_claim);   // deferred: number_integer
  CHECK(with("ver", 1.0) == errc::invalid_claim);  // deferred: float
  CHECK(with("ver", "1") == errc::invalid_claim);  // accepted: a string
  CHECK(with("exp", 1.5) == errc::expired);        // deferred, then truncated to 1
  CHECK(with("exp", "x") == errc::invalid_claim);
  CHECK(with("sub", "") == errc::invalid_claim);
  CHECK(with("aud", nlohmann::json::array({"x", "api"})) == std::error_code{});
  CHECK(with("aud", nlohmann::json::array({"x", 1})) == errc::invalid_claim);
  CHECK(with("iss", "other") == errc::wrong_issuer);
  // Duplicates and bad JSON under a valid signature.
  const std::string payload = access_payload(now).dump();
  CHECK(manager
            .validate(key.sign(tegata::kAccessTokenType,
                               payload.substr(0, payload.size() - 1) + R"(,"exp":1})")
                          .value())
            .error() == errc::duplicate_member);
  CHECK(manager.validate(key.sign(tegata::kAccessTokenType, "[]").value()).error() ==
        errc::bad_json);
  CHECK(manager.validate(key.sign(tegata::kAccessTokenType, "not json").value()).error() ==
        errc::bad_json);
  CHECK(manager.validate(key.sign(tegata::kAccessTokenType, "").value()).error() == errc::bad_json);
}

// --- The header cache
// ------------------------------------------------------------------------------

TEST_CASE("fast path: a cached header is never reused under another depth limit",
          "[fast_path][jws]") {
  const tegata::HmacKey key(tegata::Algorithm::HS256, kSecret);
  // A header with an array member needs depth 2.
  const std::string header = tegata::base64url_encode(R"({"alg":"HS256","x":["y"]})");
  const std::string token = header + "." + tegata::base64url_encode("{}") + ".c2ln";
  tegata::jws::Limits deep;
  tegata::jws::Limits shallow;
  shallow.max_json_depth = 1;
  for (int round = 0; round < 3; ++round) {
    CHECK(tegata::jws::parse(token, deep).has_value());
    CHECK(tegata::jws::parse(token, shallow).error() == errc::too_deep);
  }
  // Many distinct headers cycle through the cache without changing any answer.
  for (int i = 0; i < 20; ++i) {
    const std::string kid = "k" + std::to_string(i % 7);
    const std::string h = tegata::base64url_encode(R"({"alg":"HS256","kid":")" + kid + R"("})");
    const auto parsed = tegata::jws::parse(h + ".e30.c2ln");
    REQUIRE(parsed);
    CHECK(parsed->header.kid == kid);
    CHECK(parsed->header.has_kid);
    CHECK_FALSE(parsed->header.has_typ);
  }
}

TEST_CASE("fast path: SignatureBytes holds short signatures inline and long ones on the heap",
          "[fast_path][jws]") {
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{32}, std::size_t{136}, std::size_t{137}, std::size_t{512}}) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 + 1);
    tegata::jws::SignatureBytes sig;
    REQUIRE(sig.assign_base64url(tegata::base64url_encode(bytes)));
    CHECK(sig == bytes);
    tegata::jws::SignatureBytes copy = sig;
    CHECK(copy == bytes);
    tegata::jws::SignatureBytes moved = std::move(copy);
    CHECK(moved == bytes);
    copy = moved;
    CHECK(copy == bytes);
    CHECK_FALSE(sig.assign_base64url("A"));
    CHECK(sig.empty());
  }
}

// --- base64url
// -------------------------------------------------------------------------------------

TEST_CASE("fast path: the fast base64url codec agrees with the strict one", "[fast_path]") {
  std::mt19937 random(20240607);
  for (std::size_t length = 0; length < 200; ++length) {
    std::string bytes(length, '\0');
    for (auto& b : bytes) b = static_cast<char>(random());
    const std::string encoded = tegata::base64url_encode(bytes);
    claims_differential::check_differential(encoded);
    claims_differential::check_differential(bytes);
    // A character outside the alphabet at every position (the vector path covers 16 at a time).
    for (std::size_t at = 0; at < encoded.size(); ++at) {
      for (const char bad : {'+', '/', '=', '.', ' ', '\0', '\x80', '\xFF', '@', '[', '`', '{'}) {
        std::string broken = encoded;
        broken[at] = bad;
        claims_differential::check_differential(broken);
      }
    }
  }
  // Non-canonical final characters.
  for (const std::string_view text : {"QQ", "QR", "QUE", "QUF", "QUFB", "QUFBQQ", "QUFBQR"}) {
    claims_differential::check_differential(text);
  }
  // Every byte value at every position of a 16-character block.
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < 16; ++at) {
      std::string text(32, 'A');
      text[at] = static_cast<char>(c);
      claims_differential::check_differential(text);
    }
  }
}

// --- The JSON that issue() writes
// ------------------------------------------------------------------

TEST_CASE("fast path: issued tokens hold exactly the JSON nlohmann would write",
          "[fast_path][session]") {
  tegata::ManualClock clock(std::chrono::sys_seconds{1'700'000'000s});
  tegata::SessionOptions options = session_options();
  options.issuer = "https://issuer.example/\"quoted\" \xC3\xA9";  // needs escaping
  tegata::SessionManager manager(tegata::HmacKey(tegata::Algorithm::HS256, kSecret, "k\\1"),
                                 options, clock);
  for (const nlohmann::json& extra :
       {nlohmann::json::object(),
        nlohmann::json{{"a", 1},
                       {"auu", true},
                       {"b", "x"},
                       {"isz", nullptr},
                       {"role", "admin"},
                       {"zz", {{"nested", {1, 2.5, "\n"}}}},
                       {"~", -3},
                       {"\xC3\xA9", "\xC3\xA9"}},
        nlohmann::json{{"AAA", "first"}}, nlohmann::json{{"zzz", "last"}}}) {
    for (const std::string_view subject : {"alice", "b\"o\\b", "\xC3\xA9mile", "line\nbreak"}) {
      const auto pair = manager.issue(subject, extra);
      REQUIRE(pair);
      for (const std::string* token : {&pair->access_token, &pair->refresh_token}) {
        const auto parsed = tegata::jws::parse(*token);
        REQUIRE(parsed);
        const std::string payload = tegata::jws::decode_payload(*parsed).value();
        CHECK(payload == nlohmann::json::parse(payload).dump());
        const std::string header =
            tegata::base64url_decode(token->substr(0, token->find('.'))).value();
        CHECK(header == nlohmann::json::parse(header).dump());
      }
      const auto claims = manager.validate(pair->access_token);
      REQUIRE(claims);
      CHECK(claims->subject == subject);
      CHECK(claims->extra == extra);
    }
  }
  // A subject that is not UTF-8 cannot be written (nlohmann::json::dump() refuses it too): an
  // error code, not an exception (session_failure_test.cpp has the other entry points).
  CHECK(manager.issue("\xFF").error() == tegata::errc::invalid_argument);
}

TEST_CASE("fast path: an issuer or audience that is not UTF-8 is refused at construction",
          "[fast_path][session]") {
  tegata::SessionOptions options = session_options();
  options.audience = "api\xFF";
  CHECK_THROWS_AS(tegata::SessionManager(tegata::HmacKey(tegata::Algorithm::HS256, kSecret),
                                         options, tegata::ManualClock{}),
                  std::invalid_argument);
}

TEST_CASE("fast path: make_header writes what nlohmann would", "[fast_path][jws]") {
  for (const std::string_view kid : {"", "k1", "key \"2\"", "\xC3\xA9", "a\\b"}) {
    for (const std::string_view typ : {"", "JWT", "at+jwt"}) {
      nlohmann::json reference = {{"alg", "ES256"}};
      if (!kid.empty()) reference["kid"] = kid;
      if (!typ.empty()) reference["typ"] = typ;
      CHECK(tegata::jws::make_header("ES256", kid, typ) == reference.dump());
    }
  }
}

// --- Per-thread HMAC contexts
// ----------------------------------------------------------------------

TEST_CASE("fast path: HMAC keys stay correct through each thread's context cache",
          "[fast_path][hmac]") {
  // More keys than a thread caches, used in turn, then dropped and replaced: every MAC must
  // still be the right one (a stale context would verify the wrong key's tags).
  std::vector<tegata::HmacKey> keys;
  for (int i = 0; i < 20; ++i) {
    keys.emplace_back(tegata::Algorithm::HS256, kSecret + std::to_string(i));
  }
  std::vector<std::string> tags;
  for (const auto& key : keys) tags.push_back(key.sign_raw("message").value());
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      CHECK(keys[i].verify_raw("message", tags[i]));
      CHECK_FALSE(keys[i].verify_raw("message", tags[(i + 1) % tags.size()]));
    }
  }
  for (int generation = 0; generation < 50; ++generation) {
    const tegata::HmacKey fresh(tegata::Algorithm::HS384,
                                kSecret + kSecret + std::to_string(generation));
    const std::string tag = fresh.sign_raw("m").value();
    CHECK(fresh.verify_raw("m", tag));
    CHECK(tag.size() == 48);
    CHECK_FALSE(keys[0].verify_raw("m", tag));
  }

  // Threads share keys (each MACs with its own context) while other keys come and go.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const auto& key = keys[static_cast<std::size_t>((i + t) % 20)];
        const auto& tag = tags[static_cast<std::size_t>((i + t) % 20)];
        if (!key.verify_raw("message", tag)) ++failures;
        if (i % 50 == 0) {
          const tegata::HmacKey temporary(tegata::Algorithm::HS256, kSecret + "temporary");
          if (!temporary.verify_raw("x", temporary.sign_raw("x").value())) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
}

// --- Random ids
// --------------------------------------------------------------------------------------

TEST_CASE("fast path: session and token ids are distinct, including across fork()",
          "[fast_path][session]") {
  tegata::SessionManager manager(tegata::HmacKey(tegata::Algorithm::HS256, kSecret),
                                 session_options(), tegata::ManualClock{},
                                 tegata::NullRevocationStore{});
  std::set<std::string> ids;
  for (int i = 0; i < 400; ++i) {  // several refills of the per-thread pool
    const auto pair = manager.issue("alice");
    REQUIRE(pair);
    CHECK(ids.insert(pair->session_id).second);
    CHECK(pair->session_id.size() == 22);
  }
#if defined(__unix__) || defined(__APPLE__)
  // The parent has a partly used pool; the child must not hand out the same bytes.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const auto pair = manager.issue("child");
    const std::string sid = pair ? pair->session_id : std::string(22, '!');
    const auto written = write(fds[1], sid.data(), sid.size());
    _exit(written == static_cast<ssize_t>(sid.size()) ? 0 : 1);
  }
  close(fds[1]);
  const auto parent_pair = manager.issue("parent");
  REQUIRE(parent_pair);
  char buffer[22];
  std::size_t got = 0;
  while (got < sizeof buffer) {
    const auto n = read(fds[0], buffer + got, sizeof buffer - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(got == sizeof buffer);
  CHECK(std::string(buffer, sizeof buffer) != parent_pair->session_id);
#endif
}

// --- SipHash and the store's table
// ---------------------------------------------------------------------

TEST_CASE("fast path: SipHash-2-4 matches the paper's test vectors", "[fast_path][memory_store]") {
  std::uint64_t k0 = 0, k1 = 0;
  for (int i = 7; i >= 0; --i) k0 = (k0 << 8) | static_cast<std::uint64_t>(i);
  for (int i = 15; i >= 8; --i) k1 = (k1 << 8) | static_cast<std::uint64_t>(i);
  const tegata::detail::siphash<2, 4> sip(k0, k1);
  std::string message;
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  CHECK(sip("") == 0x726fdb47dd0e0e31ULL);
  CHECK(sip(message) == 0xa129ca6149be45e5ULL);
  CHECK(sip(message.substr(0, 8)) == 0x93f5f5799a932462ULL);
}

TEST_CASE("fast path: the store's table against a model, long ids included",
          "[fast_path][memory_store]") {
  using table_t = tegata::detail::expiring_table<2, std::uint64_t>;
  table_t table;
  // model: key -> (value, until)
  std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::int64_t>> model;
  std::mt19937 random(7);
  const auto hash_of = [](const std::string& a, const std::string& b) {
    // Deliberately poor, so probe sequences collide a lot.
    return static_cast<std::uint32_t>((a.size() * 31 + b.size()) & 0x3F);
  };
  const auto key_of = [&](int n) {
    const std::string a = "family-" + std::to_string(n % 97);
    const std::string b =
        n % 5 == 0 ? std::string(40 + n % 13, 'x') + std::to_string(n) : "jti-" + std::to_string(n);
    return std::pair{a, b};
  };
  std::int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    const int n = static_cast<int>(random() % 3000);
    auto [a, b] = key_of(n);
    const std::uint32_t h = hash_of(a, b);
    auto* e = table.find(h, {a, b});
    const auto it = model.find({a, b});
    REQUIRE((e != nullptr) == (it != model.end()));
    switch (random() % 4) {
      case 0:
      case 1:
        if (e == nullptr) {
          const std::int64_t until = now + 1 + static_cast<std::int64_t>(random() % 500);
          table.insert(h, {a, b}, static_cast<std::uint64_t>(n),
                       std::chrono::sys_seconds{std::chrono::seconds{until}});
          model[{a, b}] = {static_cast<std::uint64_t>(n), until};
        } else {
          CHECK(e->value == it->second.first);
          const std::int64_t until = now + static_cast<std::int64_t>(random() % 800);
          table.extend(*e, std::chrono::sys_seconds{std::chrono::seconds{until}});
          it->second.second = std::max(it->second.second, until);
          CHECK(e->until.time_since_epoch().count() == it->second.second);
        }
        break;
      case 2:
        if (e != nullptr) {
          CHECK(e->ids[0].view() == a);
          CHECK(e->ids[1].view() == b);
          table.erase(*e);
          model.erase(it);
        }
        break;
      default: {
        now += static_cast<std::int64_t>(random() % 20);
        std::size_t expected = 0;
        for (auto m = model.begin(); m != model.end();) {
          if (m->second.second <= now) {
            m = model.erase(m);
            ++expected;
          } else {
            ++m;
          }
        }
        CHECK(table.prune(std::chrono::sys_seconds{std::chrono::seconds{now}}) == expected);
      }
    }
    REQUIRE(table.size() == model.size());
  }
  for (const auto& [key, value] : model) {
    const auto* e = table.find(hash_of(key.first, key.second), {key.first, key.second});
    REQUIRE(e != nullptr);
    CHECK(e->value == value.first);
    CHECK(e->until.time_since_epoch().count() == value.second);
  }
}
