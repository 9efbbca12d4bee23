// tegata/json.hpp - JSON text read the way tegata reads a token's header and claims, for the JSON
// an application takes from outside (claims from a request or a file, a key file it inspects).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "tegata/detail/json.hpp"
#include "tegata/error.hpp"

namespace tegata {

// Exactly one JSON object, read strictly: a member name given twice is duplicate_member (where
// nlohmann::json::parse keeps one of the two), nesting deeper than max_depth (the object itself
// is depth 1) is too_deep, and anything else that is not one object (a syntax error, invalid
// UTF-8, a NUL byte, a byte order mark, text after the object) is bad_json. The default depth is
// that of jws::Limits. Never throws on bad input; only std::bad_alloc can escape.
inline Result<nlohmann::json> parse_json_object(std::string_view text, std::size_t max_depth = 16) {
  return detail::parse_json_object(text, max_depth);
}

}  // namespace tegata
