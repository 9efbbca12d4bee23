// benchmarks/asym_fixtures.hpp - one key pair per signature algorithm and tokens signed with it.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <vector>

namespace tegata_bench {

enum class Alg { ES256, ES384, EdDSA, RS256, PS256 };

struct AsymFixture {
  EVP_PKEY* key = nullptr;  // the key pair, loaded once (never freed: lives for the process)
  EVP_MD* md = nullptr;     // null for EdDSA
  bool pss = false;         // PS256: RSASSA-PSS, salt = hash length, MGF1 with the same hash
  std::vector<std::string> tokens;              // tegata access tokens signed with key
  std::vector<std::string> inputs;              // their signing inputs
  std::vector<std::string> openssl_signatures;  // their signatures as OpenSSL verifies them
                                                // (DER for ECDSA, raw otherwise)
};

inline constexpr std::size_t kAsymTokenCount = 16;

const AsymFixture& asym_fixture(Alg alg);

}  // namespace tegata_bench
