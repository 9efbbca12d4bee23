// tegata/store/null.hpp - NullRevocationStore: the explicit stateless mode.
//
// WEAKER BY DESIGN. With this store a SessionManager keeps no state at all: a token is accepted
// on its signature and claims alone until it expires. That means
//  - no logout: revoke_token and end_session report errc::not_supported, and a token whose
//    session was "ended" stays valid until its exp;
//  - no session records: sessions() (the inventory) reports errc::not_supported, and a login
//    cannot be made shorter or non-persistent (IssueOptions), since no record keeps that choice;
//  - no log-out-everywhere: bump_version reports errc::not_supported and every subject's version
//    is always 0;
//  - no refresh reuse detection: every presentation of a refresh token rotates, so a stolen
//    refresh token keeps working, in parallel with the real one, until it expires.
// Choose it only when access tokens are short-lived and these losses are acceptable, and keep
// refresh tokens short-lived as well.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

  // Keeps nothing: see keeps_records (store/revocation_store.hpp).
  static constexpr bool keeps_records = false;

  // Never a record, and nothing revoked.
  Result<SessionLookup> find_session(std::string_view /*jti*/, std::string_view /*sid*/,
                                     std::string_view /*subject*/,
                                     std::chrono::sys_seconds /*now*/) const noexcept {
    return SessionLookup{};
  }

  // A login is accepted and nothing is kept; nothing is ever evicted.
  Result<std::vector<std::string>> create_session(std::string_view /*subject*/,
                                                  const SessionRecord& /*record*/,
                                                  std::size_t /*max_sessions*/,
                                                  std::chrono::sys_seconds /*now*/) noexcept {
    return std::vector<std::string>{};
  }

  // Always rotates: nothing remembers the previous use.
  Result<Rotation> rotate_session(std::string_view /*subject*/, std::string_view /*sid*/,
                                  const RotationRequest& request) {
    return Rotation{RotationVerdict::rotated, std::string(request.next), request.expires_at};
  }

  Result<bool> end_session(std::string_view /*subject*/, std::string_view /*sid*/,
                           std::chrono::sys_seconds /*until*/,
                           std::chrono::sys_seconds /*now*/) noexcept {
    return errc::not_supported;
  }

  Result<std::vector<SessionRecord>> sessions(std::string_view /*subject*/,
                                              std::chrono::sys_seconds /*now*/) const noexcept {
    return errc::not_supported;
  }

  Result<std::uint64_t> bump_version(std::string_view /*subject*/,
                                     std::chrono::sys_seconds /*until*/,
                                     std::chrono::sys_seconds /*now*/) noexcept {
    return errc::not_supported;
  }
};

static_assert(RevocationStore<NullRevocationStore>);

}  // namespace tegata
