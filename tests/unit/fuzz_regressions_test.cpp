// Replays the fuzz targets' property checks (tests/fuzz/properties.hpp) in the ordinary test run:
// on every input committed under tests/fuzz/regressions/<target>/ (inputs a fuzzer once found
// failing), on the generated seed corpus (tests/fuzz/seeds.hpp), and on every one-byte input.
//
// The regressions folder comes from the compile definition TEGATA_FUZZ_REGRESSIONS_DIR (set by
// tests/CMakeLists.txt); without it, from this file's own location in the source tree.
#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/properties.hpp"
#include "fuzz/seeds.hpp"

namespace {

namespace fs = std::filesystem;

fs::path regressions_dir() {
#ifdef TEGATA_FUZZ_REGRESSIONS_DIR
  return fs::path(TEGATA_FUZZ_REGRESSIONS_DIR);
#else
  return fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "regressions";
#endif
}

const tegata_fuzz::Target* target_named(std::string_view name) {
  for (const auto& target : tegata_fuzz::kTargets) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  return entries;
}

}  // namespace

TEST_CASE("every committed fuzz regression input satisfies its target's properties",
          "[fuzz_regressions]") {
  const fs::path root = regressions_dir();
  INFO("regressions folder: " << root.string());
  REQUIRE(fs::is_directory(root));
  std::size_t replayed = 0;
  for (const fs::path& entry : sorted_entries(root)) {
    if (!fs::is_directory(entry)) {
      // Inputs live in a folder named after their target; only the README sits beside them.
      CHECK(entry.filename() == "README.md");
      continue;
    }
    const std::string name = entry.filename().string();
    if (std::find(std::begin(tegata_fuzz::kStandaloneTargets),
                  std::end(tegata_fuzz::kStandaloneTargets),
                  name) != std::end(tegata_fuzz::kStandaloneTargets)) {
      continue;  // replayed by that target's own unit test
    }
    const tegata_fuzz::Target* target = target_named(name);
    if (target == nullptr) {
      FAIL_CHECK("folder " << entry.string() << " is not named after a fuzz target");
      continue;
    }
    for (const fs::path& input : sorted_entries(entry)) {
      if (const auto failure = tegata_fuzz::run_check(target->check, read_file(input))) {
        FAIL_CHECK(input.string() << ": " << *failure);
      }
      ++replayed;
    }
  }
  // The count is reported so that a run shows the inputs were found at all.
  SUCCEED("replayed " << replayed << " regression inputs");
}

TEST_CASE("the fuzz seed corpus satisfies every property", "[fuzz_regressions]") {
  for (const auto& target : tegata_fuzz::kTargets) {
    const auto seeds = tegata_fuzz::seeds_for(target.name);
    INFO("target " << target.name);
    CHECK(seeds.size() >= 5);
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      if (const auto failure = tegata_fuzz::run_check(target.check, seeds[i])) {
        FAIL_CHECK("seed " << i << ": " << *failure);
      }
    }
  }
}

TEST_CASE("the fuzz property checks hold for the empty input and every one-byte input",
          "[fuzz_regressions]") {
  for (const auto& target : tegata_fuzz::kTargets) {
    INFO("target " << target.name);
    CHECK_FALSE(tegata_fuzz::run_check(target.check, {}));
    for (int b = 0; b < 256; ++b) {
      const std::string input(1, static_cast<char>(b));
      if (const auto failure = tegata_fuzz::run_check(target.check, input)) {
        FAIL_CHECK("byte " << b << ": " << *failure);
      }
    }
  }
}
