// tegata/session/options.hpp - how long each token lives, and whom it is for.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

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
inline void check_session_options(const SessionOptions& o) {
  using std::chrono::seconds;
  auto refuse = [](const char* why) { throw std::invalid_argument(std::string("tegata: ") + why); };
  if (o.issuer.empty()) refuse("SessionOptions::issuer must not be empty");
  if (o.audience.empty()) refuse("SessionOptions::audience must not be empty");
  if (o.access_ttl <= seconds{0}) refuse("SessionOptions::access_ttl must be positive");
  if (o.refresh_ttl <= seconds{0}) refuse("SessionOptions::refresh_ttl must be positive");
  if (o.absolute_ttl <= seconds{0}) refuse("SessionOptions::absolute_ttl must be positive");
  if (o.access_ttl > o.refresh_ttl)
    refuse("SessionOptions::access_ttl must not exceed refresh_ttl");
  if (o.refresh_ttl > o.absolute_ttl)
    refuse("SessionOptions::refresh_ttl must not exceed absolute_ttl");
  // Far beyond any sane session; keeps every expiry below the NumericDate limit.
  if (o.absolute_ttl > seconds{10LL * 366 * 24 * 3600})
    refuse("SessionOptions::absolute_ttl exceeds 10 years");
  if (o.leeway < seconds{0} || o.leeway > seconds{300})
    refuse("SessionOptions::leeway must be 0..300 seconds");
  if (o.reuse_grace < seconds{0} || o.reuse_grace > seconds{300}) {
    refuse("SessionOptions::reuse_grace must be 0..300 seconds");
  }
  if (o.max_sessions_per_subject == 0) {
    refuse("SessionOptions::max_sessions_per_subject must be at least 1");
  }
  if (o.max_token_bytes < 512) refuse("SessionOptions::max_token_bytes must be at least 512");
}

}  // namespace detail
}  // namespace tegata
