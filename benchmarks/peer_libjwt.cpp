// benchmarks/peer_libjwt.cpp - libjwt (Debian libjwt-dev 1.10) on the shared HS256 tokens.
//
// libjwt 1.10 checks the signature and the alg; the claims are checked here with its accessors
// (iss, aud, exp, nbf), the same checks tegata and cpp-jwt make. libjwt decodes and parses both
// JSON segments before it looks at the signature, and takes the key per call. It refuses tegata's
// access tokens (typ at+jwt), so it reads the generic tokens only.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <jwt.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "fixtures.hpp"

namespace tegata_bench {
namespace {

bool libjwt_validate(const std::string& token, const std::string& secret, long now) {
  jwt_t* jwt = nullptr;
  if (jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 0) {
    return false;
  }
  bool ok = jwt_get_alg(jwt) == JWT_ALG_HS256;
  const char* iss = jwt_get_grant(jwt, "iss");
  ok = ok && iss != nullptr && std::strcmp(iss, kIssuer) == 0;
  const char* aud = jwt_get_grant(jwt, "aud");
  ok = ok && aud != nullptr && std::strcmp(aud, kAudience) == 0;
  errno = 0;
  const long exp = jwt_get_grant_int(jwt, "exp");
  ok = ok && errno == 0 && now < exp;
  errno = 0;
  const long nbf = jwt_get_grant_int(jwt, "nbf");
  ok = ok && (errno == ENOENT || (errno == 0 && now >= nbf));
  jwt_free(jwt);
  return ok;
}

void run(benchmark::State& state, const std::vector<std::string>& tokens, bool expect_valid) {
  const std::string& secret = hs256_tokens().secret;
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    const long now = static_cast<long>(std::time(nullptr));
    if (libjwt_validate(tokens[i++ % tokens.size()], secret, now) != expect_valid) [[unlikely]] {
      state.SkipWithError("unexpected libjwt result");
      break;
    }
  }
}

void libjwt_validate_generic(benchmark::State& state) { run(state, hs256_tokens().generic, true); }
void libjwt_malformed_segments(benchmark::State& state) {
  run(state, {hs256_tokens().generic_malformed_segments}, false);
}
void libjwt_bad_signature(benchmark::State& state) {
  run(state, {hs256_tokens().generic_bad_signature}, false);
}

bool op_validate_generic(std::size_t i) {
  const auto& tokens = hs256_tokens().generic;
  return libjwt_validate(tokens[i % tokens.size()], hs256_tokens().secret,
                         static_cast<long>(std::time(nullptr)));
}

const OperationRegistrar registered{"libjwt_validate_generic", op_validate_generic};

}  // namespace

BENCHMARK(libjwt_validate_generic);
BENCHMARK(libjwt_malformed_segments);
BENCHMARK(libjwt_bad_signature);

}  // namespace tegata_bench
