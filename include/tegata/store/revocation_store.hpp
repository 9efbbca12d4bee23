// tegata/store/revocation_store.hpp - the RevocationStore policy: the only state tegata keeps.
//
// A store remembers exactly four things, each only as long as the tokens it concerns can live:
// revoked token ids (jti), revoked session families (sid), the version of each subject that
// signed out everywhere, and which refresh tokens have been used. The SessionManager passes the
// current time into every call (a store never reads a clock) and says until when each fact
// matters, so a store can forget it afterwards. Every operation is atomic on its own; a remote
// store answers errc::store_unavailable when it cannot reach its backend, and the manager then
// fails closed. Each `until` already covers the validator's leeway: a fact is needed until the
// last second at which any token it concerns could still be accepted.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string_view>

#include "tegata/error.hpp"

namespace tegata {

// What consuming a refresh token id found.
enum class RefreshUse {
  first,         // never used before: rotate
  within_grace,  // the family's most recently used refresh token, again within the grace window
  reused,        // used before and not excused by the grace window: treat as theft
};

// What the validate path needs to know about one access token, in one query.
struct TokenStatus {
  bool token_revoked = false;     // its jti was revoked
  bool family_revoked = false;    // its session family was revoked
  std::uint64_t min_version = 0;  // the subject's current version; older tokens are void
};

template <class S>
concept RevocationStore = requires(S& store, const S& const_store, std::string_view id,
                                   std::chrono::sys_seconds time, std::chrono::seconds grace) {
  // The validate path: status of (jti, sid, subject) at now.
  { const_store.status(id, id, id, time) } -> std::same_as<Result<TokenStatus>>;
  // revoke_token(jti, until, now): the jti is refused until `until` (the token's exp).
  { store.revoke_token(id, time, time) } -> std::same_as<Result<void>>;
  // revoke_family(sid, until, now): every token of the family is refused until `until`
  // (the family's absolute end, after which none of its tokens can be valid anyway).
  { store.revoke_family(id, time, time) } -> std::same_as<Result<void>>;
  // bump_version(subject, until, now): makes every token issued so far for the subject void and
  // returns the new version. Versions are seconds since the epoch of the latest bump, strictly
  // increasing, so a store may forget a version at `until` (when every token it voided has
  // expired) and reading 0 afterwards is still correct.
  { store.bump_version(id, time, time) } -> std::same_as<Result<std::uint64_t>>;
  // consume_refresh(sid, jti, until, now, grace): atomically records the use of a refresh token
  // (remembered until `until`, its exp) and reports whether it was the first use.
  { store.consume_refresh(id, id, time, time, grace) } -> std::same_as<Result<RefreshUse>>;
};

}  // namespace tegata
