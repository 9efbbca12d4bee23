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

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/function_ref.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"
#include "tegata/jwt.hpp"
#include "tegata/session/claims_codec.hpp"
#include "tegata/session/options.hpp"
#include "tegata/session/tokens.hpp"
#include "tegata/signer.hpp"
#include "tegata/store/memory.hpp"
#include "tegata/store/revocation_store.hpp"
#include "tegata/validator.hpp"

#if defined(TEGATA_COMPILED_LIB)
// The signers of the managers compiled once in tegata::compiled (see the end of this file).
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/key_ring.hpp"
#endif

namespace tegata {

// Header typ values (RFC 9068 for access tokens); each kind is refused where the other is expected.
inline constexpr TokenType kAccessTokenType{"at+jwt"};
inline constexpr TokenType kRefreshTokenType{"rt+jwt"};

// A function that computes the custom claims of the access token a refresh hands out, from the
// subject and the session id of the verified refresh token (views, valid during the call):
//   nlohmann::json f(std::string_view subject, std::string_view session_id)
// or, to refuse the refresh with an error of its own (nothing is then used up),
//   tegata::Result<nlohmann::json> f(std::string_view subject, std::string_view session_id)
template <class F>
concept ExtraClaimsFunction =
    !std::same_as<std::remove_cvref_t<F>, nlohmann::json> &&
    std::invocable<F&, std::string_view, std::string_view> &&
    (std::same_as<std::remove_cvref_t<std::invoke_result_t<F&, std::string_view, std::string_view>>,
                  Result<nlohmann::json>> ||
     std::convertible_to<std::invoke_result_t<F&, std::string_view, std::string_view>,
                         nlohmann::json>);

template <Signer SignerT, Clock ClockT = SystemClock,
          RevocationStore StoreT = MemoryRevocationStore>
class SessionManager {
 public:
  // Throws std::invalid_argument when the options are unsafe or inconsistent (see options.hpp).
  SessionManager(SignerT signer, SessionOptions options, ClockT clock = {}, StoreT store = {});

  // Login: starts a new session family for subject. extra holds custom claims for the access
  // token; registered and session claim names are refused (reserved_claim).
  Result<TokenPair> issue(std::string_view subject,
                          const nlohmann::json& extra = detail::empty_json_object());

  // Per request: signature, type, issuer, audience, times, then the store (revoked token,
  // revoked family, subject version). Never throws. For the common token shape it allocates only
  // what the returned AccessClaims holds (see detail/fast_json.hpp).
  Result<AccessClaims> validate(std::string_view access_token) const noexcept;

  // Rotation: a valid, never-used refresh token buys a new pair in the same family, with the same
  // auth_time; the presented token is used up. A used one revokes the family (refresh_reused),
  // except the family's latest one again within reuse_grace. extra: custom claims for the new
  // access token (refresh tokens carry none, so they never go stale).
  Result<TokenPair> refresh(std::string_view refresh_token,
                            const nlohmann::json& extra = detail::empty_json_object());

  // The same, with the new access token's custom claims computed by extra_claims from the subject
  // and session id of the refresh token, once that token has passed every check (signature,
  // claims, the store) and before anything is signed or used up: claims that depend on the user
  // (a role, a tenant) follow every rotation. What it returns is checked like the json overload's
  // extra (invalid_argument, reserved_claim, too_large, too_deep); an error it returns (as a
  // Result) is returned as is. Either way, and if it throws (the exception reaches the caller
  // unchanged), nothing was written and the presented refresh token stays usable. It is also
  // called for a token that the store then finds used up (refresh_reused).
  template <ExtraClaimsFunction F>
  Result<TokenPair> refresh(std::string_view refresh_token, F&& extra_claims);

  // Logout: ends the session family of an access or a refresh token. The token must pass every
  // check of validate or refresh (signature, type, issuer, audience, nbf, iat, session claims)
  // except the passing of its exp: a client whose access token has expired can still log out, and
  // its family, which may live on through its refresh token, ends. A token of a family that is
  // past its absolute end (plus leeway) answers success without a store write: no token of that
  // family can be accepted any more.
  Result<void> revoke(std::string_view token);

  // Log out everywhere (e.g. after a password change): every token issued so far for subject
  // fails with version_mismatch; new logins work.
  Result<void> revoke_all(std::string_view subject);

  const SessionOptions& options() const noexcept { return options_; }
  ClockT& clock() noexcept { return clock_; }
  StoreT& store() noexcept { return store_; }
  SignerT& signer() noexcept { return signer_; }

 private:
  // Lets refresh's caller refuse the refresh or choose the new access token's claims (into
  // extra), given the verified refresh token's session claims.
  using prepare_function =
      detail::function_ref<std::error_code(const detail::session_claims_view&)>;

  Result<TokenPair> rotate(std::string_view refresh_token, prepare_function prepare,
                           const nlohmann::json& extra);
  std::error_code check_store(const detail::session_claims_view& session,
                              std::chrono::sys_seconds now,
                              std::uint64_t* min_version = nullptr) const;
  std::error_code use_refresh_token(const detail::session_claims_view& session,
                                    std::chrono::sys_seconds expires_at,
                                    std::chrono::sys_seconds now);
  Result<TokenPair> mint(std::string_view subject, std::string sid,
                         std::chrono::sys_seconds auth_time, std::chrono::sys_seconds now,
                         const nlohmann::json& extra, std::string_view access_id,
                         std::string_view refresh_id,
                         std::optional<std::uint64_t> version = std::nullopt);
  Result<std::string> sign(TokenType type, std::string_view claims,
                           bool has_custom_claims = false) const;

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

  SignerT signer_;
  SessionOptions options_;
  ClockT clock_;
  StoreT store_;
  Validator access_validator_;
  Validator refresh_validator_;
  detail::session_claims_writer claims_writer_;
};

// ---------------------------------------------------------------------------------------------
// The members, defined out of the class so that they are not inline: tegata::compiled can then
// instantiate the common managers once, and the extern template declarations at the end keep
// every other translation unit from doing it again.
// ---------------------------------------------------------------------------------------------

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
SessionManager<SignerT, ClockT, StoreT>::SessionManager(SignerT signer, SessionOptions options,
                                                        ClockT clock, StoreT store)
    : signer_(std::move(signer)),
      options_(checked(std::move(options))),
      clock_(std::move(clock)),
      store_(std::move(store)),
      access_validator_(validator_options(kAccessTokenType)),
      refresh_validator_(validator_options(kRefreshTokenType)),
      claims_writer_(options_.issuer, options_.audience) {}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT>::issue(std::string_view subject,
                                                                 const nlohmann::json& extra) {
  if (subject.empty()) return errc::invalid_argument;
  if (auto ec = detail::check_extra_claims(extra)) return ec;
  const std::chrono::sys_seconds now = clock_.now();
  std::array<detail::random_id, 3> ids;  // the family, the access token, the refresh token
  if (!detail::make_random_ids(ids)) return errc::crypto_failure;
  return mint(subject, std::string(ids[0].view()), now, now, extra, ids[1].view(), ids[2].view());
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<AccessClaims> SessionManager<SignerT, ClockT, StoreT>::validate(
    std::string_view access_token) const noexcept {
  try {
    detail::opened_token opened;
    if (auto ec = detail::open_token(access_token, signer_, access_validator_, opened)) return ec;
    const std::chrono::sys_seconds now = clock_.now();
    const detail::json_document payload = opened.document();
    detail::session_reading read;
    if (auto ec = detail::read_access_claims(payload, access_validator_, now, read)) return ec;
    if (auto ec = check_store(read.session, now)) return ec;
    AccessClaims claims;
    claims.subject.assign(read.session.subject);
    claims.session_id.assign(read.session.session_id);
    claims.token_id.assign(read.session.token_id);
    claims.version = read.session.version;
    claims.issued_at = *read.registered.issued_at;
    claims.expires_at = *read.registered.expires_at;
    claims.auth_time = read.session.auth_time;
    detail::copy_extra_claims(payload, claims.extra);
    return claims;
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  }
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT>::refresh(std::string_view refresh_token,
                                                                   const nlohmann::json& extra) {
  if (auto ec = detail::check_extra_claims(extra)) return ec;
  return rotate(
      refresh_token, [](const detail::session_claims_view&) { return std::error_code{}; }, extra);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
template <ExtraClaimsFunction F>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT>::refresh(std::string_view refresh_token,
                                                                   F&& extra_claims) {
  nlohmann::json extra;
  return rotate(
      refresh_token,
      [&](const detail::session_claims_view& session) -> std::error_code {
        using returned =
            std::remove_cvref_t<std::invoke_result_t<F&, std::string_view, std::string_view>>;
        if constexpr (std::same_as<returned, Result<nlohmann::json>>) {
          Result<nlohmann::json> computed =
              std::invoke(extra_claims, session.subject, session.session_id);
          if (!computed) return computed.error();
          extra = std::move(*computed);
        } else {
          extra = std::invoke(extra_claims, session.subject, session.session_id);
        }
        return detail::check_extra_claims(extra);
      },
      extra);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<void> SessionManager<SignerT, ClockT, StoreT>::revoke(std::string_view token) {
  const std::chrono::sys_seconds now = clock_.now();
  detail::opened_token opened;
  const Validator* validator = &access_validator_;
  std::error_code ec = detail::open_token(token, signer_, access_validator_, opened);
  if (ec == errc::wrong_type) {
    validator = &refresh_validator_;
    ec = detail::open_token(token, signer_, refresh_validator_, opened);
  }
  if (ec) return ec;
  detail::session_reading read;
  const auto check_times = [&](const detail::registered_claims_view& registered) {
    return detail::validator_access::check_times_ignoring_expiry(*validator, registered, now);
  };
  if (auto ec2 = detail::read_session_token(opened.document(), *validator, check_times, read)) {
    return ec2;
  }
  const std::chrono::sys_seconds until = last_accepted(read.session.auth_time);
  if (now >= until) return {};
  return store_.revoke_family(read.session.session_id, until, now);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<void> SessionManager<SignerT, ClockT, StoreT>::revoke_all(std::string_view subject) {
  if (subject.empty()) return errc::invalid_argument;
  const std::chrono::sys_seconds now = clock_.now();
  // Every token issued before now is refused from now + absolute_ttl + leeway at the latest.
  auto version = store_.bump_version(subject, now + options_.absolute_ttl + options_.leeway, now);
  if (!version) return version.error();
  return {};
}

// refresh: verifies the refresh token, then lets prepare (given the token's session claims)
// refuse the refresh or fill extra, then mints the new pair, and only then uses the token up.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT>::rotate(std::string_view refresh_token,
                                                                  prepare_function prepare,
                                                                  const nlohmann::json& extra) {
  const std::chrono::sys_seconds now = clock_.now();
  detail::opened_token opened;
  if (auto ec = detail::open_token(refresh_token, signer_, refresh_validator_, opened)) return ec;
  detail::session_reading read;
  // The times come after the session's absolute end, below.
  const auto no_times = [](const detail::registered_claims_view&) { return std::error_code{}; };
  if (auto ec = detail::read_session_token(opened.document(), refresh_validator_, no_times, read)) {
    return ec;
  }
  const detail::session_claims_view& session = read.session;
  // The absolute limit is the server's own rule, so it is reported before the token's exp
  // (which it caps) and without leeway.
  if (now >= absolute_end(session.auth_time)) return errc::session_expired;
  if (auto ec = detail::validator_access::check_times(refresh_validator_, read.registered, now)) {
    return ec;
  }
  std::uint64_t version = 0;
  if (auto ec = check_store(session, now, &version)) return ec;
  if (auto ec = prepare(session)) return ec;
  // Everything that can fail (ids, both payloads, limits, signatures) happens before the one
  // irreversible step, using up the presented token: a refresh that fails here leaves that
  // token as usable as it was, so the client's retry is not mistaken for theft.
  std::array<detail::random_id, 2> ids;  // the access token, the refresh token
  if (!detail::make_random_ids(ids)) return errc::crypto_failure;
  // The new pair carries the subject's version as check_store just read it: a log out
  // everywhere that lands after that read voids the new pair too (it fails closed).
  auto pair = mint(session.subject, std::string(session.session_id), session.auth_time, now, extra,
                   ids[0].view(), ids[1].view(), version);
  if (!pair) return pair;
  if (auto ec = use_refresh_token(session, *read.registered.expires_at, now)) return ec;
  return pair;
}

// The store's verdict on a token; min_version (when given) receives the subject's version.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
std::error_code SessionManager<SignerT, ClockT, StoreT>::check_store(
    const detail::session_claims_view& session, std::chrono::sys_seconds now,
    std::uint64_t* min_version) const {
  auto status = store_.status(session.token_id, session.session_id, session.subject, now);
  if (!status) return status.error();
  if (status->family_revoked) return errc::session_revoked;
  if (status->token_revoked) return errc::revoked;
  if (session.version < status->min_version) return errc::version_mismatch;
  if (min_version != nullptr) *min_version = status->min_version;
  return {};
}

// Records the use of a verified refresh token that expires at expires_at. A second use (outside
// the store's grace rule) revokes the family and is refresh_reused.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
std::error_code SessionManager<SignerT, ClockT, StoreT>::use_refresh_token(
    const detail::session_claims_view& session, std::chrono::sys_seconds expires_at,
    std::chrono::sys_seconds now) {
  auto use = store_.consume_refresh(session.session_id, session.token_id,
                                    expires_at + options_.leeway, now, options_.reuse_grace);
  if (!use) return use.error();
  if (*use == RefreshUse::reused) {
    auto revoked = store_.revoke_family(session.session_id, last_accepted(session.auth_time), now);
    // If the store cannot record the revocation, say so rather than pretend the theft is
    // contained.
    if (!revoked) return revoked.error();
    return errc::refresh_reused;
  }
  return {};
}

// Signs a new pair for the family sid, whose session began at auth_time, with fresh token ids,
// for the subject's version (read from the store when not given).
template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT>::mint(
    std::string_view subject, std::string sid, std::chrono::sys_seconds auth_time,
    std::chrono::sys_seconds now, const nlohmann::json& extra, std::string_view access_id,
    std::string_view refresh_id, std::optional<std::uint64_t> version) {
  if (!version) {
    // The version in force for this subject now; the fresh ids cannot be revoked yet.
    auto status = store_.status(access_id, sid, subject, now);
    if (!status) return status.error();
    version = status->min_version;
  }
  const std::chrono::sys_seconds end = absolute_end(auth_time);
  const std::chrono::sys_seconds access_exp = std::min(now + options_.access_ttl, end);
  const std::chrono::sys_seconds refresh_exp = std::min(now + options_.refresh_ttl, end);

  const detail::session_token_claims common{subject, sid, *version, auth_time, now};
  std::string refresh_claims;
  std::string access_claims;
  try {
    refresh_claims =
        claims_writer_.write(common, refresh_id, refresh_exp, detail::empty_json_object());
    access_claims = claims_writer_.write(common, access_id, access_exp, extra);
  } catch (const nlohmann::json::type_error&) {
    // The subject, or a name or value among the extra claims, is not valid UTF-8: JSON cannot
    // carry it. (nlohmann's serializer reports that, and only that, as a type_error.)
    return errc::invalid_argument;
  }
  auto refresh_token = sign(kRefreshTokenType, refresh_claims);
  if (!refresh_token) return refresh_token.error();
  auto access_token = sign(kAccessTokenType, access_claims, !extra.empty());
  if (!access_token) return access_token.error();

  return TokenPair{std::move(*access_token), std::move(*refresh_token), std::move(sid), access_exp,
                   refresh_exp};
}

// A token the manager would refuse to validate is never handed out: the limits validate applies
// (token and header size, and for custom claims their count and depth) hold for every token
// signed here. The manager's own claims are flat and few; only custom ones need reading.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT>
Result<std::string> SessionManager<SignerT, ClockT, StoreT>::sign(TokenType type,
                                                                  std::string_view claims,
                                                                  bool has_custom_claims) const {
  const jws::Limits& limits = access_validator_.options().limits;
  if (has_custom_claims) {
    if (auto ec = detail::check_custom_claims_limits(claims, limits)) return ec;
  }
  auto token = signer_.sign(type, claims);
  if (token &&
      (token->size() > limits.max_token_bytes || token->find('.') > limits.max_header_bytes)) {
    return errc::too_large;
  }
  return token;
}

#if defined(TEGATA_COMPILED_LIB)
// Compiled once, in tegata::compiled (src/session_manager.cpp): a program that links it does not
// compile these managers again in each of its translation units. Other managers (another clock
// or store) are instantiated where they are used, as without tegata::compiled.
extern template class SessionManager<HmacKey>;
extern template class SessionManager<EcdsaKey>;
extern template class SessionManager<EddsaKey>;
extern template class SessionManager<RsaKey>;
extern template class SessionManager<AnyKey>;
extern template class SessionManager<KeyRing>;
#endif

}  // namespace tegata
