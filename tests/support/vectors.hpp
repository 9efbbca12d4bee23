// Test support: locating and reading the external test vectors (../shared/vectors).
//
// The vectors directory comes from the CMake cache variable TEGATA_VECTORS_DIR. When it is empty
// the vector tests skip with a visible message; when TEGATA_REQUIRE_VECTORS is 1 (as in CI) a
// missing directory or file fails the run instead, so CI can never pass without them.
#pragma once

#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#ifndef TEGATA_VECTORS_DIR
#define TEGATA_VECTORS_DIR ""
#endif
#ifndef TEGATA_REQUIRE_VECTORS
#define TEGATA_REQUIRE_VECTORS 0
#endif

namespace tegata_test {

// Loads <vectors>/<relative>, or skips/fails the current test when it is unavailable.
inline nlohmann::json load_vector_file(const std::string& relative) {
  const std::string dir = TEGATA_VECTORS_DIR;
  if (dir.empty()) {
    if (TEGATA_REQUIRE_VECTORS) FAIL("TEGATA_VECTORS_DIR is not set but vectors are required");
    SKIP("TEGATA_VECTORS_DIR is not set: skipping vector test " << relative);
  }
  const std::filesystem::path path = std::filesystem::path(dir) / relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (TEGATA_REQUIRE_VECTORS) FAIL("vector file missing: " << path.string());
    SKIP("vector file missing: " << path.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// Lower-case or upper-case hex to bytes; the vector files are trusted, so bad hex is a test bug.
inline std::string hex_decode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  REQUIRE(hex.size() % 2 == 0);
  std::string out(hex.size() / 2, '\0');
  bool ok = true;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    ok = ok && hi >= 0 && lo >= 0;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  REQUIRE(ok);  // once per string: a per-byte assertion would flood the report
  return out;
}

// Counts what a vector file's run did, so a test can assert every case was accounted for.
struct VectorTally {
  std::size_t run = 0;       // verdict asserted (valid/invalid)
  std::size_t observed = 0;  // "acceptable": outcome recorded, not asserted
  std::size_t skipped = 0;   // documented skip (see the file's skip table)
  std::size_t total() const { return run + observed + skipped; }
};

}  // namespace tegata_test
