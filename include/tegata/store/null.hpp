// tegata/store/null.hpp - NullRevocationStore: the explicit stateless mode.
//
// WEAKER BY DESIGN. With this store a SessionManager keeps no state at all: a token is accepted
// on its signature and claims alone until it expires. That means
//  - no logout: revoke_token and revoke_family report errc::not_supported, and a token whose
//    session was "ended" stays valid until its exp;
//  - no log-out-everywhere: bump_version reports errc::not_supported and every subject's version
//    is always 0;
//  - no refresh reuse detection: every presentation of a refresh token counts as its first use,
//    so a stolen refresh token keeps working, in parallel with the real one, until it expires.
// Choose it only when access tokens are short-lived and these losses are acceptable, and keep
// refresh tokens short-lived as well.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "tegata/error.hpp"
#include "tegata/store/revocation_store.hpp"

namespace tegata {

class NullRevocationStore {
 public:
  // Nothing is ever revoked and every version is 0.
  Result<TokenStatus> status(std::string_view /*jti*/, std::string_view /*sid*/,
                             std::string_view /*subject*/,
                             std::chrono::sys_seconds /*now*/) const noexcept {
    return TokenStatus{};
  }

  Result<void> revoke_token(std::string_view /*jti*/, std::chrono::sys_seconds /*until*/,
                            std::chrono::sys_seconds /*now*/) noexcept {
    return errc::not_supported;
  }

  Result<void> revoke_family(std::string_view /*sid*/, std::chrono::sys_seconds /*until*/,
                             std::chrono::sys_seconds /*now*/) noexcept {
    return errc::not_supported;
  }

  Result<std::uint64_t> bump_version(std::string_view /*subject*/,
                                     std::chrono::sys_seconds /*until*/,
                                     std::chrono::sys_seconds /*now*/) noexcept {
    return errc::not_supported;
  }

  // Always RefreshUse::first: nothing remembers the previous use.
  Result<RefreshUse> consume_refresh(std::string_view /*sid*/, std::string_view /*jti*/,
                                     std::chrono::sys_seconds /*until*/,
                                     std::chrono::sys_seconds /*now*/,
                                     std::chrono::seconds /*grace*/) noexcept {
    return RefreshUse::first;
  }
};

static_assert(RevocationStore<NullRevocationStore>);

}  // namespace tegata
