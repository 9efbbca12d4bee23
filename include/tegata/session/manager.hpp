// tegata/session/manager.hpp - the SessionManager: login, per-request validation, refresh with
// rotation and reuse detection, logout, and log-out-everywhere.
//
//   login        issue(subject)       -> access (at+jwt, minutes) + refresh (rt+jwt, days), and
//                                        the session's record in the store
//   each request validate(access)     -> claims, or why not (the record is not read)
//   access gone  refresh(refresh)     -> a new pair; the old refresh token is now used up.
//                                        Presenting a used refresh token again is theft: the
//                                        whole session family is revoked.
//   logout       revoke(any token)    -> the session family ends
//   everywhere   revoke_all(subject)  -> every token issued so far for the subject is void
//   inventory    sessions(subject)    -> the subject's live sessions; revoke_session(subject, id)
//                                        ends one of them (e.g. a lost phone, from the laptop)
//
// A session may be bound to a key the client holds (DPoP, RFC 9449): login verifies the request's
// proof (verify_proof) and passes its thumbprint in IssueOptions::dpop_jkt; both tokens then
// carry cnf.jkt, and validate, refresh and revoke take the request's proof, method and URI and
// refuse a bound token without a fresh, unused proof by that very key. A stolen token alone is
// then useless. Unbound sessions work as before, with or without a proof.
//
// The manager composes four policies: a Signer (key or KeyRing), a Clock (the only source of
// time), a RevocationStore (the only state: one record per live session) and Events (what it
// reports, after the store recorded it). It performs no I/O itself.
//
// The refresh protocol: verify the presented refresh token and read its session's record (one
// store query), mint the next pair, then one atomic compare-and-set on the record
// (RevocationStore::rotate_session): the current token rotates; the previous one within
// reuse_grace of the rotation gets a pair on the same chain; anything else is theft and ends the
// family in the same step. A failure before the compare-and-set consumes nothing.
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
#include <vector>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/function_ref.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/dpop/proof.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"
#include "tegata/jwt.hpp"
#include "tegata/session/claims_codec.hpp"
#include "tegata/session/events.hpp"
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
          RevocationStore StoreT = MemoryRevocationStore, SessionEvents EventsT = NoEvents>
class SessionManager {
 public:
  // Throws std::invalid_argument when the options are unsafe or inconsistent (see options.hpp).
  SessionManager(SignerT signer, SessionOptions options, ClockT clock = {}, StoreT store = {},
                 EventsT events = {});

  // Login: starts a new session family for subject and stores its record; beyond
  // max_sessions_per_subject the subject's least recently used session ends (event evicted).
  // extra holds custom claims for the access token; registered and session claim names are
  // refused (reserved_claim).
  Result<TokenPair> issue(std::string_view subject,
                          const nlohmann::json& extra = detail::empty_json_object());

  // The same, with metadata and "remember me" (see IssueOptions): metadata over 1 KiB or a
  // lifetime that is not positive is invalid_argument; with a store that keeps no records
  // (NullRevocationStore), a shorter or non-persistent session is not_supported. (A template
  // only so that a braced list, issue(subject, {{"role", "editor"}}), still means extra claims.)
  template <std::same_as<IssueOptions> Options>
  Result<TokenPair> issue(std::string_view subject, const Options& options) {
    return start(subject, options.extra, options);
  }

  // Per request: signature, type, issuer, audience, times, then the store (revoked token,
  // revoked family, subject version). Never throws. For the common token shape it allocates only
  // what the returned AccessClaims holds (see detail/fast_json.hpp).
  Result<AccessClaims> validate(std::string_view access_token) const noexcept;

  // Rotation: the session's current refresh token buys a new pair in the same family, with the
  // same auth_time and the session's own limits (IssueOptions); the presented token is used up.
  // The previous one within reuse_grace of that rotation gets a pair on the same chain (its
  // refresh token is the current one). Any other used one ends the family (refresh_reused,
  // event reuse_detected). A session that ended (logout, eviction) is session_revoked; one past
  // its absolute end is session_expired. extra: custom claims for the new access token (refresh
  // tokens carry none, so they never go stale).
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
  // fails with version_mismatch and every session of the subject ends; new logins work.
  Result<void> revoke_all(std::string_view subject);

  // The subject's live sessions, most recently used first (not_supported without records).
  Result<std::vector<SessionInfo>> sessions(std::string_view subject) const;

  // Ends the session session_id of subject: its tokens are refused at once (event
  // session_revoked). not_found unless subject owns that live session, so a guessed id of
  // another user's session reveals nothing and ends nothing.
  Result<void> revoke_session(std::string_view subject, std::string_view session_id);

  // ---- DPoP (RFC 9449): sessions bound to the client's key -----------------------------------
  // Each call below takes the request's DPoP header (its one proof, see http::dpop_proof; empty
  // when the request has none), its method and its absolute URI as the client addressed it (the
  // server's public origin plus the path; query and fragment are ignored). A proof is verified
  // at the manager's clock with SessionOptions::dpop and used up: the store remembers it for its
  // iat window, and a second use is dpop_replayed. Errors beyond the calls' own: dpop_required
  // (a bound token without a proof), dpop_invalid, use_dpop_nonce (send dpop_nonce() back),
  // dpop_mismatch (a valid proof by another key than the token's: e.g. a thief's own key),
  // dpop_replayed; not_supported with a store that cannot remember proofs (NullRevocationStore).
  // A proof sent with an unbound token must still verify, and binds nothing after the fact.

  // Login: the proof of the login request, verified and used up. Bind the new session with
  // IssueOptions{.dpop_jkt = proof->jkt}, after the credentials checked out.
  Result<dpop::Proof> verify_proof(std::string_view proof, std::string_view method,
                                   std::string_view uri) const noexcept;

  // validate(access_token), and for a bound token a proof by its key whose ath is the hash of
  // access_token (sent as Authorization: DPoP <token>). The plain validate refuses a bound token
  // with dpop_required.
  Result<AccessClaims> validate(std::string_view access_token, std::string_view proof,
                                std::string_view method, std::string_view uri) const noexcept;

  // refresh(refresh_token), and for a bound token a proof by its key (without ath: no access
  // token travels with a refresh). The new pair is bound to the same key. A failed proof uses
  // nothing up. The plain refresh refuses a bound token with dpop_required.
  Result<TokenPair> refresh(std::string_view refresh_token, std::string_view proof,
                            std::string_view method, std::string_view uri);
  template <ExtraClaimsFunction F>
  Result<TokenPair> refresh(std::string_view refresh_token, std::string_view proof,
                            std::string_view method, std::string_view uri, F&& extra_claims);

  // revoke(token), and for a bound token a proof by its key (with ath for an access token): a
  // thief holding a bound token cannot even log its owner out. The plain revoke refuses a bound
  // token with dpop_required.
  Result<void> revoke(std::string_view token, std::string_view proof, std::string_view method,
                      std::string_view uri);

  // The nonce to send in a DPoP-Nonce header now, when SessionOptions::dpop.nonces makes them
  // required (a refusal with use_dpop_nonce must carry it); nullopt otherwise.
  std::optional<std::string> dpop_nonce() const { return proofs_.nonce(clock_.now()); }

  const SessionOptions& options() const noexcept { return options_; }
  ClockT& clock() noexcept { return clock_; }
  StoreT& store() noexcept { return store_; }
  SignerT& signer() noexcept { return signer_; }
  EventsT& events() noexcept { return events_; }

 private:
  // Lets refresh's caller refuse the refresh or choose the new access token's claims (into
  // extra), given the verified refresh token's session claims.
  using prepare_function =
      detail::function_ref<std::error_code(const detail::session_claims_view&)>;

  // A request's DPoP proof and what it must have been made for (proof empty: the request has
  // none).
  struct proof_input {
    std::string_view proof, method, uri;
  };

  // What a session's tokens may not outlive, from its record (or the manager's options).
  struct session_limits {
    std::chrono::sys_seconds end;      // the absolute end
    std::chrono::seconds refresh_ttl;  // the idle limit
    bool persistent;
  };

  Result<TokenPair> start(std::string_view subject, const nlohmann::json& extra,
                          const IssueOptions& options);
  Result<TokenPair> rotate(std::string_view refresh_token, prepare_function prepare,
                           const nlohmann::json& extra, const proof_input* dpop);
  Result<AccessClaims> check_access(std::string_view access_token,
                                    const proof_input* dpop) const noexcept;
  Result<void> end_family(std::string_view token, const proof_input* dpop);
  Result<std::optional<dpop::Proof>> check_proof(const proof_input* dpop, std::string_view bound,
                                                 std::string_view access_token,
                                                 std::chrono::sys_seconds now) const;
  std::error_code use_proof(const dpop::Proof& proof, std::chrono::sys_seconds now) const;
  static std::error_code check_status(const TokenStatus& status,
                                      const detail::session_claims_view& session);
  std::error_code check_store(const detail::session_claims_view& session,
                              std::chrono::sys_seconds now) const;
  Result<TokenPair> mint(const detail::session_token_claims& common, std::string sid,
                         const session_limits& limits, const nlohmann::json& extra,
                         std::string_view access_id, std::string_view refresh_id);
  Result<std::string> sign_refresh(const detail::session_token_claims& common,
                                   std::string_view refresh_id,
                                   std::chrono::sys_seconds expires_at) const;
  Result<std::string> sign(TokenType type, std::string_view claims,
                           bool has_custom_claims = false) const;

  void emit(SessionEventKind kind, std::string_view subject, std::string_view session_id,
            std::chrono::sys_seconds now) noexcept {
    events_.on_event(SessionEvent{kind, subject, session_id, now});
  }

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

  // The limits of a session without a record (a store that keeps none): the manager's own.
  session_limits default_limits(std::chrono::sys_seconds auth_time) const noexcept {
    return {absolute_end(auth_time), options_.refresh_ttl, true};
  }

  SignerT signer_;
  SessionOptions options_;
  ClockT clock_;
  StoreT store_;
  [[no_unique_address]] EventsT events_;
  Validator access_validator_;
  Validator refresh_validator_;
  detail::session_claims_writer claims_writer_;
  dpop::ProofVerifier proofs_;
};

// ---------------------------------------------------------------------------------------------
// The members, defined out of the class so that they are not inline: tegata::compiled can then
// instantiate the common managers once, and the extern template declarations at the end keep
// every other translation unit from doing it again.
// ---------------------------------------------------------------------------------------------

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
SessionManager<SignerT, ClockT, StoreT, EventsT>::SessionManager(SignerT signer,
                                                                 SessionOptions options,
                                                                 ClockT clock, StoreT store,
                                                                 EventsT events)
    : signer_(std::move(signer)),
      options_(checked(std::move(options))),
      clock_(std::move(clock)),
      store_(std::move(store)),
      events_(std::move(events)),
      access_validator_(validator_options(kAccessTokenType)),
      refresh_validator_(validator_options(kRefreshTokenType)),
      claims_writer_(options_.issuer, options_.audience),
      proofs_(options_.dpop) {}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::issue(
    std::string_view subject, const nlohmann::json& extra) {
  static const IssueOptions defaults{};
  return start(subject, extra, defaults);
}


// Login: checks the options, mints the first pair, then stores the session's record (evicting
// the subject's least recently used sessions beyond the bound), and only then reports it.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::start(
    std::string_view subject, const nlohmann::json& extra, const IssueOptions& options) {
  if (subject.empty()) return errc::invalid_argument;
  if (auto ec = detail::check_extra_claims(extra)) return ec;
  if (options.metadata.size() > IssueOptions::kMaxMetadataBytes) return errc::invalid_argument;
  const auto positive = [](const std::optional<std::chrono::seconds>& ttl) {
    return !ttl || *ttl > std::chrono::seconds::zero();
  };
  if (!positive(options.refresh_ttl) || !positive(options.absolute_ttl)) {
    return errc::invalid_argument;
  }
  if (!options.dpop_jkt.empty()) {
    if (!detail::is_thumbprint(options.dpop_jkt)) return errc::invalid_argument;
    // Every later request of the session must present a single-use proof.
    if constexpr (!ProofReplayCache<StoreT>) return errc::not_supported;
  }
  // Never longer than the manager's limits.
  const std::chrono::seconds refresh_ttl =
      std::min(options.refresh_ttl.value_or(options_.refresh_ttl), options_.refresh_ttl);
  const std::chrono::seconds absolute_ttl =
      std::min(options.absolute_ttl.value_or(options_.absolute_ttl), options_.absolute_ttl);
  if constexpr (!keeps_records<StoreT>) {
    // Without a record, nothing would keep the choice for the next rotation.
    if (refresh_ttl != options_.refresh_ttl || absolute_ttl != options_.absolute_ttl ||
        !options.persistent) {
      return errc::not_supported;
    }
  }
  const std::chrono::sys_seconds now = clock_.now();
  std::array<detail::random_id, 3> ids;  // the family, the access token, the refresh token
  if (!detail::make_random_ids(ids)) return errc::crypto_failure;
  const std::string_view sid = ids[0].view();
  // The version in force for this subject now; the fresh ids cannot be revoked yet.
  auto status = store_.status(ids[1].view(), sid, subject, now);
  if (!status) return status.error();
  const session_limits limits{now + absolute_ttl, refresh_ttl, options.persistent};
  auto pair = mint({subject, sid, status->min_version, now, now, options.dpop_jkt},
                   std::string(sid), limits, extra, ids[1].view(), ids[2].view());
  if (!pair) return pair;
  SessionRecord record;
  try {
    record.session_id = pair->session_id;
    record.refresh_id.assign(ids[2].view());
    record.metadata = options.metadata;
    record.jkt = options.dpop_jkt;
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  }
  record.auth_time = now;
  record.last_refresh = now;
  record.expires_at = pair->refresh_expires_at;
  record.absolute_end = limits.end;
  record.refresh_ttl = refresh_ttl;
  record.access_until = pair->access_expires_at + options_.leeway;
  record.until = std::max(record.expires_at + options_.leeway, record.access_until);
  record.persistent = options.persistent;
  record.version = status->min_version;
  auto evicted = store_.create_session(subject, record, options_.max_sessions_per_subject, now);
  if (!evicted) return evicted.error();
  emit(SessionEventKind::login, subject, pair->session_id, now);
  for (const std::string& id : *evicted) emit(SessionEventKind::evicted, subject, id, now);
  return pair;
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<AccessClaims> SessionManager<SignerT, ClockT, StoreT, EventsT>::validate(
    std::string_view access_token) const noexcept {
  return check_access(access_token, nullptr);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<AccessClaims> SessionManager<SignerT, ClockT, StoreT, EventsT>::validate(
    std::string_view access_token, std::string_view proof, std::string_view method,
    std::string_view uri) const noexcept {
  const proof_input dpop{proof, method, uri};
  return check_access(access_token, &dpop);
}

// validate: the token, then its binding (the proof, when there is one or the token is bound),
// then the store's verdict, and the proof is used up last, once everything else has passed.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<AccessClaims> SessionManager<SignerT, ClockT, StoreT, EventsT>::check_access(
    std::string_view access_token, const proof_input* dpop) const noexcept {
  try {
    detail::opened_token opened;
    if (auto ec = detail::open_token(access_token, signer_, access_validator_, opened)) return ec;
    const std::chrono::sys_seconds now = clock_.now();
    const detail::json_document payload = opened.document();
    detail::session_reading read;
    if (auto ec = detail::read_access_claims(payload, access_validator_, now, read)) return ec;
    auto proof = check_proof(dpop, read.session.jkt, access_token, now);
    if (!proof) return proof.error();
    if (auto ec = check_store(read.session, now)) return ec;
    if (*proof) {
      if (auto ec = use_proof(**proof, now)) return ec;
    }
    AccessClaims claims;
    claims.subject.assign(read.session.subject);
    claims.session_id.assign(read.session.session_id);
    claims.token_id.assign(read.session.token_id);
    claims.version = read.session.version;
    claims.issued_at = *read.registered.issued_at;
    claims.expires_at = *read.registered.expires_at;
    claims.auth_time = read.session.auth_time;
    claims.jkt.assign(read.session.jkt);
    detail::copy_extra_claims(payload, claims.extra);
    return claims;
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  }
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::refresh(
    std::string_view refresh_token, const nlohmann::json& extra) {
  if (auto ec = detail::check_extra_claims(extra)) return ec;
  return rotate(
      refresh_token, [](const detail::session_claims_view&) { return std::error_code{}; }, extra,
      nullptr);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::refresh(
    std::string_view refresh_token, std::string_view proof, std::string_view method,
    std::string_view uri) {
  const proof_input dpop{proof, method, uri};
  return rotate(
      refresh_token, [](const detail::session_claims_view&) { return std::error_code{}; },
      detail::empty_json_object(), &dpop);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
template <ExtraClaimsFunction F>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::refresh(
    std::string_view refresh_token, F&& extra_claims) {
  return refresh(refresh_token, {}, {}, {}, std::forward<F>(extra_claims));
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
template <ExtraClaimsFunction F>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::refresh(
    std::string_view refresh_token, std::string_view proof, std::string_view method,
    std::string_view uri, F&& extra_claims) {
  const proof_input dpop{proof, method, uri};
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
      extra, &dpop);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<void> SessionManager<SignerT, ClockT, StoreT, EventsT>::revoke(std::string_view token) {
  return end_family(token, nullptr);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<void> SessionManager<SignerT, ClockT, StoreT, EventsT>::revoke(std::string_view token,
                                                                      std::string_view proof,
                                                                      std::string_view method,
                                                                      std::string_view uri) {
  const proof_input dpop{proof, method, uri};
  return end_family(token, &dpop);
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<void> SessionManager<SignerT, ClockT, StoreT, EventsT>::end_family(
    std::string_view token, const proof_input* dpop) {
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
  const detail::session_claims_view& session = read.session;
  // An access token's proof carries its hash (ath); a refresh token travels without one.
  const std::string_view access_token = validator == &access_validator_ ? token : std::string_view{};
  auto proof = check_proof(dpop, session.jkt, access_token, now);
  if (!proof) return proof.error();
  const std::chrono::sys_seconds last = last_accepted(session.auth_time);
  if (now >= last) return {};
  if (*proof) {
    if (auto ec3 = use_proof(**proof, now)) return ec3;
  }
  // Every access token of the family was issued by now, so none is accepted after this; the
  // store keeps the family refused at least until then, and as long as its record says.
  const std::chrono::sys_seconds until =
      std::min(now + options_.access_ttl + options_.leeway, last);
  auto ended = store_.end_session(session.subject, session.session_id, until, now);
  if (!ended) return ended.error();
  if (*ended) emit(SessionEventKind::logout, session.subject, session.session_id, now);
  return {};
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<void> SessionManager<SignerT, ClockT, StoreT, EventsT>::revoke_all(
    std::string_view subject) {
  if (subject.empty()) return errc::invalid_argument;
  const std::chrono::sys_seconds now = clock_.now();
  // Every token issued before now is refused from now + absolute_ttl + leeway at the latest.
  auto version = store_.bump_version(subject, now + options_.absolute_ttl + options_.leeway, now);
  if (!version) return version.error();
  emit(SessionEventKind::logout_all, subject, {}, now);
  return {};
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<std::vector<SessionInfo>> SessionManager<SignerT, ClockT, StoreT, EventsT>::sessions(
    std::string_view subject) const {
  if (subject.empty()) return errc::invalid_argument;
  auto records = store_.sessions(subject, clock_.now());
  if (!records) return records.error();
  std::vector<SessionInfo> out;
  out.reserve(records->size());
  for (SessionRecord& r : *records) {
    out.push_back(SessionInfo{std::move(r.session_id), r.auth_time, r.last_refresh, r.expires_at,
                              r.persistent, std::move(r.metadata), std::move(r.jkt)});
  }
  return out;
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<void> SessionManager<SignerT, ClockT, StoreT, EventsT>::revoke_session(
    std::string_view subject, std::string_view session_id) {
  if (subject.empty() || session_id.empty()) return errc::not_found;
  const std::chrono::sys_seconds now = clock_.now();
  // until = now: a session that is not live (or not the subject's) gets no marker.
  auto ended = store_.end_session(subject, session_id, now, now);
  if (!ended) return ended.error();
  if (!*ended) return errc::not_found;
  emit(SessionEventKind::session_revoked, subject, session_id, now);
  return {};
}

// refresh: verifies the refresh token and reads its session's record, lets prepare (given the
// token's session claims) refuse the refresh or fill extra, mints the next pair, and only then
// makes the one compare-and-set on the record.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::rotate(
    std::string_view refresh_token, prepare_function prepare, const nlohmann::json& extra,
    const proof_input* dpop) {
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
  auto proof = check_proof(dpop, session.jkt, {}, now);
  if (!proof) return proof.error();
  auto lookup = store_.find_session(session.token_id, session.session_id, session.subject, now);
  if (!lookup) return lookup.error();
  if (auto ec = check_status(lookup->status, session)) return ec;
  session_limits limits = default_limits(session.auth_time);
  if constexpr (keeps_records<StoreT>) {
    // No live record: the session ended (and its marker has gone) or was never recorded.
    if (!lookup->record) return errc::session_revoked;
    const SessionRecord& record = *lookup->record;
    if (now >= record.absolute_end) return errc::session_expired;  // a shortened session
    // The token's binding is signed, so this holds unless the store lost it: then fail closed.
    if (record.jkt != session.jkt) return errc::dpop_mismatch;
    limits = {record.absolute_end, record.refresh_ttl, record.persistent};
  }
  if (auto ec = prepare(session)) return ec;
  // Everything that can fail (ids, both payloads, limits, signatures) happens before the one
  // irreversible step, the compare-and-set: a refresh that fails here leaves the presented
  // token as usable as it was, so the client's retry is not mistaken for theft.
  std::array<detail::random_id, 2> ids;  // the access token, the refresh token
  if (!detail::make_random_ids(ids)) return errc::crypto_failure;
  // The new pair carries the subject's version as the lookup just read it: a log out
  // everywhere that lands after that read voids the new pair too (it fails closed).
  const detail::session_token_claims common{session.subject, session.session_id,
                                            lookup->status.min_version, session.auth_time, now,
                                            session.jkt};
  auto pair =
      mint(common, std::string(session.session_id), limits, extra, ids[0].view(), ids[1].view());
  if (!pair) return pair;
  // Used up right before the compare-and-set: a replayed proof rotates nothing.
  if (*proof) {
    if (auto ec = use_proof(**proof, now)) return ec;
  }
  RotationRequest request{session.token_id,
                          ids[1].view(),
                          now,
                          options_.reuse_grace,
                          pair->refresh_expires_at,
                          pair->access_expires_at + options_.leeway,
                          {}};
  request.until = std::max(request.expires_at + options_.leeway, request.access_until);
  auto rotation = store_.rotate_session(session.subject, session.session_id, request);
  if (!rotation) return rotation.error();
  switch (rotation->verdict) {
    case RotationVerdict::rotated: break;
    case RotationVerdict::within_grace: {
      // The loser of a concurrent refresh: a pair on the same chain, whose refresh token is the
      // record's current one (same id, same end), so the session never forks.
      auto same_chain = sign_refresh(common, rotation->current, rotation->expires_at);
      if (!same_chain) return same_chain.error();
      pair->refresh_token = std::move(*same_chain);
      pair->refresh_expires_at = rotation->expires_at;
      break;
    }
    case RotationVerdict::reused:
      emit(SessionEventKind::reuse_detected, session.subject, session.session_id, now);
      return errc::refresh_reused;
    case RotationVerdict::ended: return errc::session_revoked;
  }
  emit(SessionEventKind::refresh, session.subject, session.session_id, now);
  return pair;
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<dpop::Proof> SessionManager<SignerT, ClockT, StoreT, EventsT>::verify_proof(
    std::string_view proof, std::string_view method, std::string_view uri) const noexcept {
  try {
    if (proof.empty()) return errc::dpop_required;
    const proof_input dpop{proof, method, uri};
    const std::chrono::sys_seconds now = clock_.now();
    auto verified = check_proof(&dpop, {}, {}, now);
    if (!verified) return verified.error();
    if (auto ec = use_proof(**verified, now)) return ec;
    return std::move(**verified);
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  }
}

// The request's proof, checked against the token's binding (bound: the jkt of its cnf, empty
// for an unbound token): nullopt when there is no proof and none is needed; dpop_required when
// the token is bound and the request carries none; otherwise the proof, verified for this
// request (with ath when access_token is not empty) and made by the bound key. Not yet used up
// (use_proof): the caller does that once every other check has passed.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<std::optional<dpop::Proof>> SessionManager<SignerT, ClockT, StoreT, EventsT>::check_proof(
    const proof_input* dpop, std::string_view bound, std::string_view access_token,
    std::chrono::sys_seconds now) const {
  if (dpop == nullptr || dpop->proof.empty()) {
    if (bound.empty()) return std::optional<dpop::Proof>{};
    return errc::dpop_required;
  }
  if constexpr (!ProofReplayCache<StoreT>) {
    return errc::not_supported;  // a proof that cannot be used up is no proof
  } else {
    auto proof = proofs_.verify(dpop->proof, {dpop->method, dpop->uri, access_token}, now);
    if (!proof) return proof.error();
    if (!bound.empty() && proof->jkt != bound) return errc::dpop_mismatch;
    return std::optional<dpop::Proof>(std::move(*proof));
  }
}

// Records a verified proof as used for as long as its iat window accepts it; dpop_replayed when
// it was used before. The store's key is 128 bits of SHA-256 over the key's thumbprint (fixed
// length) and the jti: one client choosing another's jti burns nothing of the other's.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
std::error_code SessionManager<SignerT, ClockT, StoreT, EventsT>::use_proof(
    const dpop::Proof& proof, std::chrono::sys_seconds now) const {
  if constexpr (!ProofReplayCache<StoreT>) {
    return errc::not_supported;
  } else {
    std::string input;
    input.reserve(proof.jkt.size() + proof.jti.size());
    input.append(proof.jkt).append(proof.jti);
    auto digest = detail::jwk::sha256(input);
    if (!digest) return digest.error();
    const std::string key = base64url_encode(std::string_view(*digest).substr(0, 16));
    const std::chrono::sys_seconds until =
        proof.issued_at + options_.dpop.iat_window + std::chrono::seconds{1};
    auto first = store_.use_proof(key, until, now);
    if (!first) return first.error();
    if (!*first) return errc::dpop_replayed;
    return {};
  }
}

// The store's verdict on a token (revoked token, ended family, subject version).
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
std::error_code SessionManager<SignerT, ClockT, StoreT, EventsT>::check_status(
    const TokenStatus& status, const detail::session_claims_view& session) {
  if (status.family_revoked) return errc::session_revoked;
  if (status.token_revoked) return errc::revoked;
  if (session.version < status.min_version) return errc::version_mismatch;
  return {};
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
std::error_code SessionManager<SignerT, ClockT, StoreT, EventsT>::check_store(
    const detail::session_claims_view& session, std::chrono::sys_seconds now) const {
  auto status = store_.status(session.token_id, session.session_id, session.subject, now);
  if (!status) return status.error();
  return check_status(*status, session);
}

// Signs a new pair of the family sid, within the session's limits, with fresh token ids.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<TokenPair> SessionManager<SignerT, ClockT, StoreT, EventsT>::mint(
    const detail::session_token_claims& common, std::string sid, const session_limits& limits,
    const nlohmann::json& extra, std::string_view access_id, std::string_view refresh_id) {
  const std::chrono::sys_seconds now = common.issued_at;
  const std::chrono::sys_seconds access_exp = std::min(now + options_.access_ttl, limits.end);
  const std::chrono::sys_seconds refresh_exp = std::min(now + limits.refresh_ttl, limits.end);
  std::string access_claims;
  try {
    access_claims = claims_writer_.write(common, access_id, access_exp, extra);
  } catch (const nlohmann::json::type_error&) {
    // The subject, or a name or value among the extra claims, is not valid UTF-8: JSON cannot
    // carry it. (nlohmann's serializer reports that, and only that, as a type_error.)
    return errc::invalid_argument;
  }
  auto refresh_token = sign_refresh(common, refresh_id, refresh_exp);
  if (!refresh_token) return refresh_token.error();
  auto access_token = sign(kAccessTokenType, access_claims, !extra.empty());
  if (!access_token) return access_token.error();

  return TokenPair{
      std::move(*access_token), std::move(*refresh_token), std::move(sid), access_exp, refresh_exp,
      limits.persistent};
}

template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<std::string> SessionManager<SignerT, ClockT, StoreT, EventsT>::sign_refresh(
    const detail::session_token_claims& common, std::string_view refresh_id,
    std::chrono::sys_seconds expires_at) const {
  std::string claims;
  try {
    claims = claims_writer_.write(common, refresh_id, expires_at, detail::empty_json_object());
  } catch (const nlohmann::json::type_error&) {
    return errc::invalid_argument;  // the subject is not valid UTF-8
  }
  return sign(kRefreshTokenType, claims);
}

// A token the manager would refuse to validate is never handed out: the limits validate applies
// (token and header size, and for custom claims their count and depth) hold for every token
// signed here. The manager's own claims are flat and few; only custom ones need reading.
template <Signer SignerT, Clock ClockT, RevocationStore StoreT, SessionEvents EventsT>
Result<std::string> SessionManager<SignerT, ClockT, StoreT, EventsT>::sign(
    TokenType type, std::string_view claims, bool has_custom_claims) const {
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
// Compiled once, in tegata::compiled (src/tegata.cpp): a program that links it does not
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
