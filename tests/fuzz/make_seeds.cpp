// tests/fuzz/make_seeds.cpp - writes the seed corpus: OUT/<target>/seed-NNN for every target
// (kTargets and kStandaloneTargets).
//
//   tegata_fuzz_seeds OUT
//
// The seeds are generated (seeds.hpp) rather than committed; the build writes them beside the
// fuzzers, and libFuzzer reads them as its starting corpus.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "properties.hpp"
#include "seeds.hpp"

namespace {

void write_seeds(const std::filesystem::path& root, std::string_view target) {
  const std::filesystem::path dir = root / std::string(target);
  std::filesystem::create_directories(dir);
  const auto seeds = tegata_fuzz::seeds_for(target);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seed-%03zu", i);
    std::ofstream file(dir / name, std::ios::binary | std::ios::trunc);
    file.write(seeds[i].data(), static_cast<std::streamsize>(seeds[i].size()));
    if (!file) throw std::runtime_error("cannot write " + (dir / name).string());
  }
  std::printf("%s: %zu seeds in %s\n", std::string(target).c_str(), seeds.size(),
              dir.string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIRECTORY\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path root(argv[1]);
    for (const auto& target : tegata_fuzz::kTargets) write_seeds(root, target.name);
    for (const std::string_view target : tegata_fuzz::kStandaloneTargets) write_seeds(root, target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tegata_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
