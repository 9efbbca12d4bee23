// benchmarks/paired.cpp - the ratios of issue 5, measured directly: an operation and its baseline
// run in alternating blocks of about 100 us each, timed with the thread's CPU clock, so that both
// see the same state of the machine. On a shared machine two separately measured benchmarks can
// run seconds apart under different load; a pair cannot. Each pair reports per-operation CPU
// time (ns), the baseline's (baseline_ns, the fastest when there are several), and their ratio.
#include <time.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fixtures.hpp"

namespace tegata_bench {
namespace {

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Pair {
  const char* subject;
  std::vector<const char*> baselines;
};

// Subject first: the ratio is subject / baseline (for the peers: peer / tegata).
const std::vector<Pair>& pairs() {
  static const std::vector<Pair> all = {
      {"tegata_validate", {"openssl_hmac_reinit"}},
      {"tegata_validate_null_store", {"openssl_hmac_reinit"}},
      {"tegata_validate_bad_signature", {"openssl_hmac_reinit"}},
      {"tegata_validate_malformed_segments", {"openssl_hmac_reinit"}},
      {"tegata_validate_malformed_base64", {"openssl_hmac_reinit"}},
      {"tegata_validate_malformed_json", {"openssl_hmac_reinit"}},
      {"tegata_validate_malformed_object", {"openssl_hmac_reinit"}},
      {"tegata_issue", {"openssl_hmac_reinit"}},
      {"tegata_refresh", {"openssl_hmac_reinit"}},
      {"tegata_refresh", {"tegata_refresh_events"}},  // NoEvents / a counting policy
      {"tegata_verify_jwt", {"openssl_hmac_reinit"}},
      {"tegata_verify_jwt_claims", {"openssl_hmac_reinit"}},
      {"tegata_validate_asym/ES256", {"openssl_verify_copy/ES256", "openssl_verify_init/ES256"}},
      {"tegata_validate_asym/ES384", {"openssl_verify_copy/ES384", "openssl_verify_init/ES384"}},
      {"tegata_validate_asym/EdDSA", {"openssl_verify_copy/EdDSA", "openssl_verify_init/EdDSA"}},
      {"tegata_validate_asym/RS256", {"openssl_verify_copy/RS256", "openssl_verify_init/RS256"}},
      {"tegata_validate_asym/PS256", {"openssl_verify_copy/PS256", "openssl_verify_init/PS256"}},
      {"tegata_validate_dpop/ES256", {"openssl_verify_copy_twice/ES256"}},
      {"tegata_validate_dpop/EdDSA", {"openssl_verify_copy_twice/EdDSA"}},
      {"libjwt_validate_generic", {"tegata_validate"}},
      {"libjwt_validate_generic", {"tegata_verify_jwt"}},
      {"libjwt_validate_generic", {"tegata_verify_jwt_claims"}},
      {"cppjwt_validate_generic", {"tegata_validate"}},
      {"cppjwt_validate_generic", {"tegata_verify_jwt"}},
      {"cppjwt_validate_generic", {"tegata_verify_jwt_claims"}},
  };
  return all;
}

constexpr double kBlockNs = 100'000;
constexpr std::size_t kMinBlock = 8;

void run_pair(benchmark::State& state, const Pair& pair) {
  std::vector<Operation> ops{find_operation(pair.subject)};
  for (const char* b : pair.baselines) ops.push_back(find_operation(b));
  if (std::find(ops.begin(), ops.end(), nullptr) != ops.end()) {
    state.SkipWithError("an operation of this pair is not built");
    return;
  }
  // Calibration sets each operation's block to about kBlockNs: five rounds of about 1 ms each,
  // keeping the fastest estimate, since a disturbance (another process, a migration) only ever
  // makes an operation look slower. It also warms caches and fixtures up. A block holds at least
  // kMinBlock operations unless one takes longer than a block, so that an operation is never
  // measured only right after a switch.
  std::vector<std::size_t> block(ops.size());
  std::vector<std::size_t> next(ops.size(), 0);
  for (std::size_t k = 0; k < ops.size(); ++k) {
    double fastest = 0;
    for (int round = 0; round < 5; ++round) {
      const double start = thread_cpu_ns();
      std::size_t n = 0;
      while (n == 0 || thread_cpu_ns() - start < 1e6) {
        if (!ops[k](next[k]++)) {
          state.SkipWithError("an operation did not behave as expected");
          return;
        }
        ++n;
      }
      const double per_op = (thread_cpu_ns() - start) / static_cast<double>(n);
      if (round == 0 || per_op < fastest) fastest = per_op;
    }
    const auto fitting = static_cast<std::size_t>(kBlockNs / fastest);
    block[k] = fastest > kBlockNs ? 1 : std::max(kMinBlock, fitting);
  }
  std::vector<double> spent(ops.size(), 0);
  std::vector<double> done(ops.size(), 0);
  bool ok = true;
  for (auto _ : state) {
    for (std::size_t k = 0; k < ops.size(); ++k) {
      const double start = thread_cpu_ns();
      for (std::size_t j = 0; j < block[k]; ++j) ok = ops[k](next[k]++) && ok;
      spent[k] += thread_cpu_ns() - start;
      done[k] += static_cast<double>(block[k]);
    }
  }
  if (!ok) {
    state.SkipWithError("an operation did not behave as expected");
    return;
  }
  const double subject = spent[0] / done[0];
  double baseline = spent[1] / done[1];
  for (std::size_t k = 2; k < ops.size(); ++k) baseline = std::min(baseline, spent[k] / done[k]);
  state.counters["ns"] = subject;
  state.counters["baseline_ns"] = baseline;
  state.counters["ratio"] = subject / baseline;
}

const bool registered = [] {
  for (const Pair& pair : pairs()) {
    benchmark::RegisterBenchmark(
        ("pair/" + std::string(pair.subject) + "/" + pair.baselines.front()).c_str(),
        [&pair](benchmark::State& state) { run_pair(state, pair); });
  }
  return true;
}();

}  // namespace
}  // namespace tegata_bench
