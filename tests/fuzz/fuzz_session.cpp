// tests/fuzz/fuzz_session.cpp - libFuzzer target: a SessionManager driven by a program.
// The properties checked and the input format: check_session in properties.hpp.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tegata_fuzz::fuzz_one(tegata_fuzz::check_session, data, size);
}
