// benchmarks/tegata_fixtures.hpp - how the benchmarks configure tegata (tegata translation units
// only).
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <tegata/tegata.hpp>
#include <utility>

#include "fixtures.hpp"

namespace tegata_bench {

inline constexpr const char* kHs256Secret = "bench-secret-0123456789abcdefghi";  // 32 bytes
inline constexpr const char* kSessionKid = "key-2025";                           // 8 bytes
inline constexpr const char* kGenericKid = "key-2025-01";                        // 11 bytes
inline constexpr const char* kSubject = "user-12345678";                         // 13 bytes
inline constexpr const char* kGenericSubject = "user-12345678901234";            // 19 bytes
// Long enough that no token expires during a run (callgrind runs are slow).
inline constexpr std::chrono::seconds kTokenLifetime{6 * 3600};

inline tegata::SessionOptions session_options() {
  tegata::SessionOptions options;
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.access_ttl = kTokenLifetime;
  return options;
}

template <class Key, class Store>
tegata::SessionManager<Key, tegata::SystemClock, Store> make_manager(Key key, Store store) {
  return tegata::SessionManager<Key, tegata::SystemClock, Store>(
      std::move(key), session_options(), tegata::SystemClock{}, std::move(store));
}

template <class Store>
auto make_hs256_manager(Store store) {
  return make_manager(tegata::HmacKey(tegata::Algorithm::HS256, kHs256Secret, kSessionKid),
                      std::move(store));
}

using Hs256Manager = decltype(make_hs256_manager(tegata::MemoryRevocationStore{}));

// A store that already holds facts about other sessions, so lookups search populated tables as
// they would on a server: 20,000 each of revoked token ids, revoked families, consumed refresh
// tokens and subject versions, none of which concern the benchmark's tokens.
tegata::MemoryRevocationStore populated_store();

// The manager every HS256 validate benchmark uses (over populated_store()).
Hs256Manager& hs256_manager();

// A fresh key pair: EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "ED25519", "RSA" 2048.
inline tegata::KeyHandle generate_key(tegata::Algorithm alg) {
  using tegata::Algorithm;
  EVP_PKEY* key = nullptr;
  switch (alg) {
    case Algorithm::ES256: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case Algorithm::ES384: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case Algorithm::EdDSA: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    default: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  }
  if (key == nullptr) throw std::runtime_error("fixture: key generation failed");
  return tegata::KeyHandle(key);
}

}  // namespace tegata_bench
