// benchmarks/bench_openssl_legacy.cpp - OpenSSL's one-shot HMAC(), deprecated in OpenSSL 3 and
// what libjwt and cpp-jwt call: it fetches the digest and builds a keyed context on every call.
#define OPENSSL_SUPPRESS_DEPRECATED  // HMAC() is the point of this baseline
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <string>
#include <vector>

#include "fixtures.hpp"

namespace tegata_bench {
namespace {

void openssl_hmac_oneshot(benchmark::State& state) {
  const auto& tokens = hs256_tokens().session;
  std::vector<std::string> inputs, tags;
  for (const auto& token : tokens) {
    inputs.push_back(signing_input(token));
    tags.push_back(signature_bytes(token));
  }
  const std::string& secret = hs256_tokens().secret;
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    const std::size_t k = i++ % inputs.size();
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const bool ok = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                         reinterpret_cast<const unsigned char*>(inputs[k].data()), inputs[k].size(),
                         tag, &length) != nullptr &&
                    length == tags[k].size() && CRYPTO_memcmp(tag, tags[k].data(), length) == 0;
    if (!ok) [[unlikely]] {
      state.SkipWithError("HMAC mismatch");
      break;
    }
  }
}

}  // namespace

BENCHMARK(openssl_hmac_oneshot);

}  // namespace tegata_bench
