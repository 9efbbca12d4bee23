// tegata/session/options.hpp - how long each token lives, and whom it is for.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

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
  // Concurrent-refresh window: the family's most recently used refresh token may be presented
  // again this long after its first use (several tabs refreshing at once) and still rotate.
  // 0 (the default) treats every second use as theft. At most 5 minutes.
  std::chrono::seconds reuse_grace{0};
  std::size_t max_token_bytes{8192};
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
  if (o.max_token_bytes < 512) refuse("SessionOptions::max_token_bytes must be at least 512");
}

}  // namespace detail
}  // namespace tegata
