// tests/fuzz/fuzz_jws.cpp - libFuzzer target: compact JWS parsing and verify_jwt (HS256, ES256).
// The properties checked and the input format: check_jws in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_jws, data, size);
}
