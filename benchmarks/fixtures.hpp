// benchmarks/fixtures.hpp - the keys and token bytes every benchmark shares.
//
// Plain standard types only: the peer translation units (libjwt, cpp-jwt) include this without
// tegata, and are compiled with OpenSSL's deprecated API visible, which those libraries need.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"

namespace tegata_bench {

// Tokens are cycled through in every benchmark, so no run sees only one token's bytes.
inline constexpr std::size_t kTokenCount = 1024;

inline constexpr const char* kIssuer = "https://auth.example.com";   // 24 bytes
inline constexpr const char* kAudience = "https://api.example.com";  // 23 bytes

// The HS256 shapes of the issue: a 47-byte header with kid, 215 bytes of claims, a 351-byte
// signing input, a 395-byte token.
struct Hs256Tokens {
  std::string secret;  // 32 bytes
  // tegata's access tokens (typ at+jwt; iss, sub, aud, exp, iat, jti, sid, ver, auth_time), as
  // SessionManager::issue writes them. Only SessionManager (and libjwt, which ignores typ)
  // accept these.
  std::vector<std::string> session;
  // The same shape for peers: typ JWT (cpp-jwt refuses any other typ); iss, sub, aud, iat, nbf,
  // exp, jti, ver, sid. Signed by the same key.
  std::vector<std::string> generic;
  std::string session_malformed_segments;  // two segments
  std::string session_malformed_base64;    // a '+' in the header segment
  std::string session_malformed_json;      // the header is base64url of text that is not JSON
  std::string session_malformed_object;    // the header is a truncated JSON object
  std::string session_bad_signature;       // one signature character changed
  std::string generic_malformed_segments;
  std::string generic_bad_signature;
};

const Hs256Tokens& hs256_tokens();

// Everything up to the last '.', which is what the signature covers.
std::string signing_input(const std::string& token);
// The decoded signature segment.
std::string signature_bytes(const std::string& token);

// --- Operations for the paired benchmarks (paired.cpp) ------------------------------------------
// One benchmarked operation on its i-th input (inputs are cycled); true when it behaved as
// expected (accepted, or rejected with the expected error). Each translation unit registers its
// operations under the names of its benchmarks; a peer that is not built registers none.
using Operation = bool (*)(std::size_t i);

struct OperationRegistrar {
  OperationRegistrar(const char* name, Operation operation);
};

Operation find_operation(std::string_view name);  // nullptr when not registered

// Reports the heap allocations made by this thread during a benchmark's timed loop as
// per-iteration counters: allocs (every malloc/calloc/realloc, whoever made it), cxx_allocs
// (operator new: tegata's own code is C++ only) and ossl_allocs (made inside OpenSSL).
class AllocScope {
 public:
  explicit AllocScope(benchmark::State& state) : state_(state), start_(thread_alloc_counts()) {}
  ~AllocScope() {
    const AllocCounts end = thread_alloc_counts();
    using benchmark::Counter;
    state_.counters["allocs"] =
        Counter(static_cast<double>(end.heap - start_.heap), Counter::kAvgIterations);
    state_.counters["cxx_allocs"] =
        Counter(static_cast<double>(end.cxx - start_.cxx), Counter::kAvgIterations);
    state_.counters["ossl_allocs"] =
        Counter(static_cast<double>(end.openssl - start_.openssl), Counter::kAvgIterations);
  }
  AllocScope(const AllocScope&) = delete;
  AllocScope& operator=(const AllocScope&) = delete;

 private:
  benchmark::State& state_;
  AllocCounts start_;
};

}  // namespace tegata_bench
