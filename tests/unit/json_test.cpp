// tegata::parse_json_object (tegata/json.hpp): JSON from outside, read as strictly as a token's
// header and claims.
#include "tegata/json.hpp"

#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tegata/error.hpp"

namespace {

using tegata::errc;
using tegata::parse_json_object;

std::string nested(std::size_t depth) {
  std::string text;
  for (std::size_t i = 1; i < depth; ++i) text += R"({"a":)";
  text += "{}";
  text.append(depth - 1, '}');
  return text;
}

}  // namespace

TEST_CASE("parse_json_object reads one JSON object", "[json]") {
  auto object = parse_json_object(R"({"sub":"alice","roles":["a","b"],"n":1})");
  REQUIRE(object);
  CHECK(*object == nlohmann::json{{"sub", "alice"}, {"roles", {"a", "b"}}, {"n", 1}});
  CHECK(parse_json_object(" {} \n").value().empty());
}

TEST_CASE("parse_json_object refuses what nlohmann::json::parse would resolve", "[json]") {
  CHECK(parse_json_object(R"({"role":"user","role":"admin"})").error() == errc::duplicate_member);
  CHECK(parse_json_object(R"({"a":{"b":1,"b":2}})").error() == errc::duplicate_member);
  for (const std::string_view text :
       {std::string_view("[1]"), std::string_view("\"s\""), std::string_view("{} {}"),
        std::string_view("{\"a\":1"), std::string_view("{\"a\":\"\xff\"}"),
        std::string_view("\xEF\xBB\xBF{}"), std::string_view("{}\0", 3), std::string_view("")}) {
    INFO("text: " << text);
    CHECK(parse_json_object(text).error() == errc::bad_json);
  }
}

TEST_CASE("parse_json_object bounds nesting, the object itself at depth 1", "[json]") {
  CHECK(parse_json_object(nested(16)));
  CHECK(parse_json_object(nested(17)).error() == errc::too_deep);
  CHECK(parse_json_object(nested(64), 64));
  CHECK(parse_json_object(nested(65), 64).error() == errc::too_deep);
  CHECK(parse_json_object("{}", 1));
  CHECK(parse_json_object(R"({"a":[]})", 1).error() == errc::too_deep);
}
