// tests/fuzz/fuzz_dpop.cpp - libFuzzer target: DPoP proofs, and the normal form of URIs.
// The properties checked and the input format: check_dpop in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_dpop, data, size);
}
