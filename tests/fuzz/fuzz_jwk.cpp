// tests/fuzz/fuzz_jwk.cpp - libFuzzer target: JWK and JWK Set import, KeyRing::from_jwks.
// The properties checked and the input format: check_jwk in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_jwk, data, size);
}
