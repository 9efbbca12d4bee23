// tegata/session/options_inl.hpp - the definitions of tegata/session/options.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/session/options.hpp"

namespace tegata {

TEGATA_INLINE void detail::check_session_options(const SessionOptions& o) {
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

}  // namespace tegata
