// tests/fuzz/fuzz_http.cpp - libFuzzer target: Authorization, Cookie and Set-Cookie handling.
// The properties checked and the input format: check_http in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_http, data, size);
}
