// tegata/session/manager.hpp - the SessionManager: login, per-request validation, refresh with
// rotation and reuse detection, logout, and log-out-everywhere.
//
//   login        issue(subject)       -> access (at+jwt, minutes) + refresh (rt+jwt, days)
//   each request validate(access)     -> claims, or why not
//   access gone  refresh(refresh)     -> a new pair; the old refresh token is now used up.
//                                        Presenting a used refresh token again is theft: the
//                                        whole session family is revoked.
//   logout       revoke(any token)    -> the session family ends
//   everywhere   revoke_all(subject)  -> every token issued so far for the subject is void
//
// The manager composes three policies: a Signer (key or KeyRing), a Clock (the only source of
// time) and a RevocationStore (the only state). It performs no I/O itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/error.hpp"
#include "tegata/jwt.hpp"
#include "tegata/session/options.hpp"
#include "tegata/session/tokens.hpp"
#include "tegata/signer.hpp"
#include "tegata/store/memory.hpp"
#include "tegata/store/revocation_store.hpp"
#include "tegata/validator.hpp"

namespace tegata {

// Header typ values (RFC 9068 for access tokens); each kind is refused where the other is expected.
inline constexpr std::string_view kAccessTokenType = "at+jwt";
inline constexpr std::string_view kRefreshTokenType = "rt+jwt";

namespace detail {

// Claim names the manager writes itself; extra claims may not use them.
inline bool is_reserved_claim(std::string_view name) noexcept {
  constexpr std::string_view reserved[] = {"iss", "sub", "aud", "exp", "nbf",      "iat",
                                           "jti", "typ", "sid", "ver", "auth_time"};
  for (auto r : reserved) {
    if (r == name) return true;
  }
  return false;
}

// 128 random bits, base64url: session family ids and token ids.
inline std::string random_id() {
  const std::string bytes = random_bytes(16);
  return bytes.empty() ? std::string{} : base64url_encode(bytes);
}

// The session members of a verified token (both kinds carry them).
struct SessionClaims {
  std::string subject;
  std::string session_id;
  std::string token_id;
  std::uint64_t version = 0;
  std::chrono::sys_seconds auth_time{};
};

inline std::error_code read_session_string(const nlohmann::json& payload, const char* name,
                                           std::string& out) {
  const auto it = payload.find(name);
  if (it == payload.end()) return errc::missing_claim;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) return errc::invalid_claim;
  out = it->get_ref<const std::string&>();
  return {};
}

inline Result<SessionClaims> read_session_claims(const Jwt& jwt) {
  SessionClaims s;
  if (auto ec = read_session_string(jwt.payload, "sub", s.subject)) return ec;
  if (auto ec = read_session_string(jwt.payload, "sid", s.session_id)) return ec;
  if (auto ec = read_session_string(jwt.payload, "jti", s.token_id)) return ec;
  if (!jwt.claims.issued_at || !jwt.claims.expires_at) return errc::missing_claim;
  const auto ver = jwt.payload.find("ver");
  if (ver == jwt.payload.end()) return errc::missing_claim;
  if (!ver->is_number_unsigned()) return errc::invalid_claim;
  s.version = ver->get<std::uint64_t>();
  const auto auth_time = jwt.payload.find("auth_time");
  if (auth_time == jwt.payload.end()) return errc::missing_claim;
  auto at = parse_numeric_date(*auth_time);
  if (!at) return at.error();
  s.auth_time = *at;
  return s;
}

}  // namespace detail

template <Signer SignerT, Clock ClockT = SystemClock,
          RevocationStore StoreT = MemoryRevocationStore>
class SessionManager {
 public:
  // Throws std::invalid_argument when the options are unsafe or inconsistent (see options.hpp).
  SessionManager(SignerT signer, SessionOptions options, ClockT clock = {}, StoreT store = {})
      : signer_(std::move(signer)),
        options_(checked(std::move(options))),
        clock_(std::move(clock)),
        store_(std::move(store)),
        access_validator_(validator_options(kAccessTokenType)),
        refresh_validator_(validator_options(kRefreshTokenType)) {}

  // Login: starts a new session family for subject. extra holds custom claims for the access
  // token; registered and session claim names are refused (reserved_claim).
  Result<TokenPair> issue(std::string_view subject,
                          const nlohmann::json& extra = nlohmann::json::object()) {
    if (subject.empty()) return errc::invalid_argument;
    if (!extra.is_object()) return errc::invalid_argument;
    for (const auto& item : extra.items()) {
      if (detail::is_reserved_claim(item.key())) return errc::reserved_claim;
    }
    const std::chrono::sys_seconds now = clock_.now();
    std::string sid = detail::random_id();
    if (sid.empty()) return errc::crypto_failure;
    return mint(subject, std::move(sid), now, now, extra);
  }

  // Per request: signature, type, issuer, audience, times, then the store (revoked token,
  // revoked family, subject version). Never throws.
  Result<AccessClaims> validate(std::string_view access_token) const noexcept {
    const std::chrono::sys_seconds now = clock_.now();
    auto jwt = detail::open_jwt(access_token, signer_, access_validator_);
    if (!jwt) return jwt.error();
    if (auto ec = access_validator_.check_claims(jwt->claims, now)) return ec;
    try {
      auto session = detail::read_session_claims(*jwt);
      if (!session) return session.error();
      if (auto ec = check_store(*session, now)) return ec;
      AccessClaims claims;
      claims.subject = std::move(session->subject);
      claims.session_id = std::move(session->session_id);
      claims.token_id = std::move(session->token_id);
      claims.version = session->version;
      claims.issued_at = *jwt->claims.issued_at;
      claims.expires_at = *jwt->claims.expires_at;
      claims.auth_time = session->auth_time;
      for (auto& item : jwt->payload.items()) {
        if (!detail::is_reserved_claim(item.key()))
          claims.extra[item.key()] = std::move(item.value());
      }
      return claims;
    } catch (const std::bad_alloc&) {
      return errc::crypto_failure;
    }
  }

  // Rotation: a valid, never-used refresh token buys a new pair in the same family, with the same
  // auth_time; the presented token is used up. A used one revokes the family (refresh_reused),
  // except the family's latest one again within reuse_grace. extra: custom claims for the new
  // access token (refresh tokens carry none, so they never go stale).
  Result<TokenPair> refresh(std::string_view refresh_token,
                            const nlohmann::json& extra = nlohmann::json::object()) {
    if (!extra.is_object()) return errc::invalid_argument;
    for (const auto& item : extra.items()) {
      if (detail::is_reserved_claim(item.key())) return errc::reserved_claim;
    }
    const std::chrono::sys_seconds now = clock_.now();
    auto jwt = detail::open_jwt(refresh_token, signer_, refresh_validator_);
    if (!jwt) return jwt.error();
    if (auto ec = refresh_validator_.check_issuer_and_audience(jwt->claims)) return ec;
    auto session = detail::read_session_claims(*jwt);
    if (!session) return session.error();
    // The absolute limit is the server's own rule, so it is reported before the token's exp
    // (which it caps) and without leeway.
    if (now >= absolute_end(session->auth_time)) return errc::session_expired;
    if (auto ec = refresh_validator_.check_times(jwt->claims, now)) return ec;
    if (auto ec = check_store(*session, now)) return ec;

    auto use = store_.consume_refresh(session->session_id, session->token_id,
                                      *jwt->claims.expires_at + options_.leeway, now,
                                      options_.reuse_grace);
    if (!use) return use.error();
    if (*use == RefreshUse::reused) {
      auto revoked =
          store_.revoke_family(session->session_id, last_accepted(session->auth_time), now);
      // If the store cannot record the revocation, say so rather than pretend the theft is
      // contained.
      if (!revoked) return revoked.error();
      return errc::refresh_reused;
    }
    return mint(session->subject, std::move(session->session_id), session->auth_time, now, extra);
  }

  // Logout: ends the session family of an access or a refresh token (which must be valid).
  Result<void> revoke(std::string_view token) {
    const std::chrono::sys_seconds now = clock_.now();
    auto session = verify_either(token, now);
    if (!session) return session.error();
    return store_.revoke_family(session->session_id, last_accepted(session->auth_time), now);
  }

  // Log out everywhere (e.g. after a password change): every token issued so far for subject
  // fails with version_mismatch; new logins work.
  Result<void> revoke_all(std::string_view subject) {
    if (subject.empty()) return errc::invalid_argument;
    const std::chrono::sys_seconds now = clock_.now();
    // Every token issued before now is refused from now + absolute_ttl + leeway at the latest.
    auto version = store_.bump_version(subject, now + options_.absolute_ttl + options_.leeway, now);
    if (!version) return version.error();
    return {};
  }

  const SessionOptions& options() const noexcept { return options_; }
  ClockT& clock() noexcept { return clock_; }
  StoreT& store() noexcept { return store_; }
  SignerT& signer() noexcept { return signer_; }

 private:
  static SessionOptions checked(SessionOptions options) {
    detail::check_session_options(options);
    return options;
  }

  ValidatorOptions validator_options(std::string_view type) const {
    ValidatorOptions v;
    v.issuer = options_.issuer;
    v.audience = options_.audience;
    v.type = std::string(type);
    v.leeway = options_.leeway;
    v.limits.max_token_bytes = options_.max_token_bytes;
    return v;
  }

  std::chrono::sys_seconds absolute_end(std::chrono::sys_seconds auth_time) const noexcept {
    return auth_time + options_.absolute_ttl;
  }

  // The store must remember a fact as long as any token it concerns is still accepted, which is
  // up to leeway past its exp; no token of a family has an exp past the family's absolute end.
  std::chrono::sys_seconds last_accepted(std::chrono::sys_seconds auth_time) const noexcept {
    return absolute_end(auth_time) + options_.leeway;
  }

  std::error_code check_store(const detail::SessionClaims& session,
                              std::chrono::sys_seconds now) const {
    auto status = store_.status(session.token_id, session.session_id, session.subject, now);
    if (!status) return status.error();
    if (status->family_revoked) return errc::session_revoked;
    if (status->token_revoked) return errc::revoked;
    if (session.version < status->min_version) return errc::version_mismatch;
    return {};
  }

  // A valid token of either kind, for logout.
  Result<detail::SessionClaims> verify_either(std::string_view token,
                                              std::chrono::sys_seconds now) const {
    auto jwt = detail::open_jwt(token, signer_, access_validator_);
    const Validator* validator = &access_validator_;
    if (!jwt && jwt.error() == errc::wrong_type) {
      jwt = detail::open_jwt(token, signer_, refresh_validator_);
      validator = &refresh_validator_;
    }
    if (!jwt) return jwt.error();
    if (auto ec = validator->check_claims(jwt->claims, now)) return ec;
    return detail::read_session_claims(*jwt);
  }

  // Signs a new pair for the family sid, whose session began at auth_time.
  Result<TokenPair> mint(std::string_view subject, std::string sid,
                         std::chrono::sys_seconds auth_time, std::chrono::sys_seconds now,
                         const nlohmann::json& extra) {
    std::string access_id = detail::random_id();
    std::string refresh_id = detail::random_id();
    if (access_id.empty() || refresh_id.empty()) return errc::crypto_failure;
    // The version in force for this subject now; the fresh ids cannot be revoked yet.
    auto status = store_.status(access_id, sid, subject, now);
    if (!status) return status.error();
    const std::chrono::sys_seconds end = absolute_end(auth_time);
    const std::chrono::sys_seconds access_exp = std::min(now + options_.access_ttl, end);
    const std::chrono::sys_seconds refresh_exp = std::min(now + options_.refresh_ttl, end);

    nlohmann::json claims = session_claims(subject, sid, status->min_version, auth_time, now);
    claims["jti"] = refresh_id;
    claims["exp"] = refresh_exp.time_since_epoch().count();
    auto refresh_token = sign(kRefreshTokenType, claims);
    if (!refresh_token) return refresh_token.error();

    claims.update(extra);
    claims["jti"] = access_id;
    claims["exp"] = access_exp.time_since_epoch().count();
    auto access_token = sign(kAccessTokenType, claims);
    if (!access_token) return access_token.error();

    return TokenPair{std::move(*access_token), std::move(*refresh_token), std::move(sid),
                     access_exp, refresh_exp};
  }

  nlohmann::json session_claims(std::string_view subject, std::string_view sid,
                                std::uint64_t version, std::chrono::sys_seconds auth_time,
                                std::chrono::sys_seconds now) const {
    return nlohmann::json{{"iss", options_.issuer},
                          {"sub", subject},
                          {"aud", options_.audience},
                          {"iat", now.time_since_epoch().count()},
                          {"sid", sid},
                          {"ver", version},
                          {"auth_time", auth_time.time_since_epoch().count()}};
  }

  // A token the manager would refuse to validate is never handed out.
  Result<std::string> sign(std::string_view type, const nlohmann::json& claims) const {
    auto token = signer_.sign(type, claims.dump());
    if (token && token->size() > options_.max_token_bytes) return errc::too_large;
    return token;
  }

  SignerT signer_;
  SessionOptions options_;
  ClockT clock_;
  StoreT store_;
  Validator access_validator_;
  Validator refresh_validator_;
};

}  // namespace tegata
