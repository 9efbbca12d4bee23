// tegata/dpop/nonce.hpp - server-provided DPoP nonces (RFC 9449 §8) without per-nonce state.
//
// A nonce bounds how long before its use a proof can have been made: a client that signs proofs
// ahead of time (or an attacker who obtained signed proofs) must include a value the server chose
// recently. The nonce of a time window is a MAC over the window's number, so every server that
// shares the secret issues and accepts the same nonces, and none keeps a list. A nonce is
// accepted during its own window and the next one: for at least `lifetime` after it is issued,
// for at most twice that.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/base64url.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/pkey.hpp"

namespace tegata::dpop {

class NonceIssuer {
 public:
  // The secret is at least 32 random bytes (keys::generate_secret(Algorithm::HS256) makes one),
  // shared by the servers that must accept each other's nonces. Throws std::invalid_argument
  // for a shorter secret or a lifetime outside 10 s..1 h.
  explicit NonceIssuer(std::string_view secret,
                       std::chrono::seconds lifetime = std::chrono::minutes{5});
  NonceIssuer(const NonceIssuer&) = default;
  NonceIssuer& operator=(const NonceIssuer&) = default;
  ~NonceIssuer() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

  // The nonce to send (DPoP-Nonce header) at time now. Empty only if OpenSSL fails.
  std::string issue(std::chrono::sys_seconds now) const { return nonce_of(window(now)); }

  // Whether nonce is one this issuer (or one sharing its secret) issued for the current window or
  // the previous one.
  bool accepts(std::string_view nonce, std::chrono::sys_seconds now) const;

 private:
  std::int64_t window(std::chrono::sys_seconds now) const noexcept {
    const std::int64_t t = now.time_since_epoch().count();
    const std::int64_t w = lifetime_.count();
    return t >= 0 ? t / w : (t - w + 1) / w;  // floor, also before 1970
  }

  // base64url(window (8 bytes, big-endian) || the first 16 bytes of HMAC-SHA256(secret, label ||
  // window)): 32 characters.
  std::string nonce_of(std::int64_t window) const;

  std::string secret_;
  std::chrono::seconds lifetime_;
};

}  // namespace tegata::dpop

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/dpop/nonce_inl.hpp"
#endif
