// tests/fuzz/fuzz_pem.cpp - libFuzzer target: PEM and DER key import.
// The properties checked and the input format: check_pem in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_pem, data, size);
}
