// tests/fuzz/harness.hpp - the body of every libFuzzer entry point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "properties.hpp"

namespace tegata_fuzz {

// Runs check on one input and aborts, after saying which property failed, if any did. libFuzzer
// then saves the input as a crash artifact: copy it into tests/fuzz/regressions/<target>/.
inline int fuzz_one(void (*check)(std::string_view), const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto failure = run_check(check, input)) {
    std::fprintf(stderr, "tegata: property violated: %s\n", failure->c_str());
    std::abort();
  }
  return 0;
}

}  // namespace tegata_fuzz
