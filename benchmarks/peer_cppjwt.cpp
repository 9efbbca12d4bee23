// benchmarks/peer_cppjwt.cpp - cpp-jwt (Debian libcpp-jwt-dev 1.4) on the shared HS256 tokens.
//
// cpp-jwt refuses any typ but "JWT", so it reads the generic tokens only. Its parameters (allowed
// algorithms, secret, issuer, audience) are built once; jwt::decode with an error_code reports
// failures without throwing, and checks the signature, exp, nbf, iss and aud.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <jwt/jwt.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "fixtures.hpp"

namespace tegata_bench {
namespace {

void run(benchmark::State& state, const std::vector<std::string>& tokens, bool expect_valid) {
  namespace params = jwt::params;
  const std::string& secret = hs256_tokens().secret;
  const auto algorithms = params::algorithms({"HS256"});
  const auto key = params::secret(secret);
  const auto issuer = params::issuer(kIssuer);
  const auto audience = params::aud(kAudience);
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    std::error_code ec;
    auto decoded = jwt::decode(tokens[i++ % tokens.size()], algorithms, ec, key, issuer, audience,
                               params::verify(true));
    if (static_cast<bool>(ec) == expect_valid) [[unlikely]] {
      state.SkipWithError("unexpected cpp-jwt result");
      break;
    }
    benchmark::DoNotOptimize(decoded);
  }
}

void cppjwt_validate_generic(benchmark::State& state) { run(state, hs256_tokens().generic, true); }
void cppjwt_malformed_segments(benchmark::State& state) {
  run(state, {hs256_tokens().generic_malformed_segments}, false);
}
void cppjwt_bad_signature(benchmark::State& state) {
  run(state, {hs256_tokens().generic_bad_signature}, false);
}

bool op_validate_generic(std::size_t i) {
  namespace params = jwt::params;
  static const auto algorithms = params::algorithms({"HS256"});
  static const auto key = params::secret(hs256_tokens().secret);
  static const auto issuer = params::issuer(kIssuer);
  static const auto audience = params::aud(kAudience);
  const auto& tokens = hs256_tokens().generic;
  std::error_code ec;
  auto decoded = jwt::decode(tokens[i % tokens.size()], algorithms, ec, key, issuer, audience,
                             params::verify(true));
  benchmark::DoNotOptimize(decoded);
  return !ec;
}

const OperationRegistrar registered{"cppjwt_validate_generic", op_validate_generic};

}  // namespace

BENCHMARK(cppjwt_validate_generic);
BENCHMARK(cppjwt_malformed_segments);
BENCHMARK(cppjwt_bad_signature);

}  // namespace tegata_bench
