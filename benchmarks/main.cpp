// benchmarks/main.cpp - installs the allocation counters before anything runs, records the
// environment in the JSON output, and runs the benchmarks.
#include <benchmark/benchmark.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tegata/version.hpp>
#include <vector>

#include "alloc_counter.hpp"
#include "fixtures.hpp"

namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

// The console output, plus a failure exit status when any benchmark stopped with an error (an
// unexpected result), so that a smoke run in CI catches a benchmark that no longer measures what
// it says.
class CheckingReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal: CI logs stay free of escape codes.
  CheckingReporter()
      : ConsoleReporter(isatty(fileno(stdout)) != 0 ? OO_Defaults : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.error_occurred) failed_ = true;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  bool failed() const noexcept { return failed_; }

 private:
  bool failed_ = false;
};

}  // namespace

namespace tegata_bench {
int run_profile(std::string_view spec);
}

int main(int argc, char** argv) {
  if (!tegata_bench::install_openssl_counter()) {
    std::fprintf(stderr, "warning: OpenSSL allocations are not counted separately\n");
  }
  // --tegata_profile=<operation>:<count> runs one operation a fixed number of times instead of
  // the benchmarks (see profile.cpp).
  constexpr std::string_view kProfileFlag = "--tegata_profile=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(kProfileFlag))
      return tegata_bench::run_profile(arg.substr(kProfileFlag.size()));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("tegata_version", std::to_string(TEGATA_VERSION_MAJOR) + "." +
                                                    std::to_string(TEGATA_VERSION_MINOR) + "." +
                                                    std::to_string(TEGATA_VERSION_PATCH));
  benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
  benchmark::AddCustomContext("nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_MINOR) +
                                                   "." +
                                                   std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  benchmark::AddCustomContext("compiler", compiler());
  benchmark::AddCustomContext("peers", TEGATA_BENCH_PEERS);
  const auto& tokens = tegata_bench::hs256_tokens();
  benchmark::AddCustomContext("session_token_bytes", std::to_string(tokens.session.front().size()));
  benchmark::AddCustomContext("session_signing_input_bytes",
                              std::to_string(tokens.session.front().rfind('.')));
  benchmark::AddCustomContext("generic_token_bytes", std::to_string(tokens.generic.front().size()));
  CheckingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return reporter.failed() ? 1 : 0;
}
