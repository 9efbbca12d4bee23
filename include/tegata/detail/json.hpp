// tegata/detail/json.hpp - the strict JSON reader used for token headers and claims.
//
// nlohmann_json's default parser keeps the last of two members with the same name; a JOSE
// implementation must reject such objects (RFC 7515 §4, RFC 8725 §3.9), because two parsers
// that pick different duplicates see different claims. This reader builds the DOM through
// nlohmann's SAX interface, rejects duplicates, bounds nesting depth and the number of members of
// the top-level object as it reads (so an input over a bound costs no more than the bound), and
// never throws on malformed input.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/detail/inline.hpp"
#include "tegata/detail/json_limits.hpp"
#include "tegata/error.hpp"

namespace tegata::detail {

// Parses text that must be exactly one JSON object. Errors: bad_json, duplicate_member, too_deep,
// too_large (more top-level members than limits.max_members); the first one met in reading order.
Result<nlohmann::json> parse_json_object(std::string_view text, json_limits limits);

// The same with no bound on the number of members (the input's size bounds it).
inline Result<nlohmann::json> parse_json_object(std::string_view text, std::size_t max_depth) {
  return parse_json_object(text, json_limits{.max_depth = max_depth});
}

}  // namespace tegata::detail

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/json_inl.hpp"
#endif
