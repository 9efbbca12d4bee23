// tegata/session/options.hpp - how long each token lives, and whom it is for.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "tegata/detail/inline.hpp"
#include "tegata/dpop/proof.hpp"

namespace tegata {

struct SessionOptions {
  std::string issuer{};    // required: the iss of every token, checked on every validation
  std::string audience{};  // required: the aud of every token, checked on every validation
  // Access tokens are checked without a store round trip for revocation reasons other than the
  // ones the store holds, so keep them short: 15 minutes by default.
  std::chrono::seconds access_ttl{15 * 60};
  // Idle limit: a refresh token unused this long expires, and the session with it.
  std::chrono::seconds refresh_ttl{14 * 24 * 3600};
  // Hard limit from login (auth_time): rotation never extends a session beyond it.
  std::chrono::seconds absolute_ttl{30 * 24 * 3600};
  // Accepted clock skew between servers; at most 5 minutes.
  std::chrono::seconds leeway{0};
  // Concurrent-refresh window: the session's previous refresh token (the one the latest rotation
  // used up) may be presented again this long after that rotation and get a pair on the same
  // chain (its refresh token is the current one: the session never forks). Several tabs, or a
  // page fanning out requests, refresh at once as the normal case; their losers are not thieves.
  // Any later reuse, or reuse of an older token, is still theft. 0 treats every second use as
  // theft. At most 5 minutes.
  std::chrono::seconds reuse_grace{10};
  std::size_t max_token_bytes{8192};
  // Live sessions per subject: a login beyond it ends the subject's least recently used session
  // (event evicted), so one account cannot grow the store without bound. At least 1.
  std::size_t max_sessions_per_subject{100};
  // DPoP (RFC 9449): how the proofs of sessions bound to a client's key are checked (algorithms,
  // iat window, size limits, and whether a server nonce is required). Unbound sessions ignore it.
  // The manager's constructor refuses what dpop::ProofVerifier refuses.
  dpop::ProofOptions dpop{};
};

namespace detail {

// Misconfiguration fails loudly, once, at construction.
void check_session_options(const SessionOptions& o);

}  // namespace detail
}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/session/options_inl.hpp"
#endif
