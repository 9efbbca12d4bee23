// tegata/detail/json_limits.hpp - the bounds both JSON readers enforce while they read.
#pragma once

#include <cstddef>

namespace tegata::detail {

struct json_limits {
  std::size_t max_depth = 16;  // open objects and arrays, the top-level object included
  // Members of the top-level object; nested objects are bounded by the input's size only.
  std::size_t max_members = static_cast<std::size_t>(-1);
};

}  // namespace tegata::detail
