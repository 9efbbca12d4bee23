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
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/fast_json.hpp"
#include "tegata/detail/json_writer.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/random_pool.hpp"
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
constexpr bool is_reserved_claim(member_name name) noexcept {
  switch (name) {
    case member_name::iss:
    case member_name::sub:
    case member_name::aud:
    case member_name::exp:
    case member_name::nbf:
    case member_name::iat:
    case member_name::jti:
    case member_name::typ:
    case member_name::sid:
    case member_name::ver:
    case member_name::auth_time: return true;
    default: return false;
  }
}
constexpr bool is_reserved_claim(std::string_view name) noexcept {
  return is_reserved_claim(classify_member(name));
}

// The default of issue's and refresh's extra claims: one shared empty object rather than a new
// one (which allocates) per call.
inline const nlohmann::json& empty_json_object() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

// 128 random bits as base64url (22 characters): session family ids and token ids.
struct random_id {
  char text[22];
  std::string_view view() const noexcept { return {text, sizeof text}; }
};

// Fills every id with fresh bytes from OpenSSL's DRBG (through this thread's pool, see
// detail/random_pool.hpp). False if it fails.
template <std::size_t N>
bool make_random_ids(std::array<random_id, N>& ids) noexcept {
  unsigned char bytes[16 * N];
  if (!random_pool::for_this_thread().take(bytes, sizeof bytes)) return false;
  for (std::size_t i = 0; i < N; ++i) {
    base64url_encode_fast(std::string_view(reinterpret_cast<const char*>(bytes) + 16 * i, 16),
                          ids[i].text);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return true;
}

// The session members of a verified token (both kinds carry them), as views into its payload.
struct session_claims_view {
  std::string_view subject;
  std::string_view session_id;
  std::string_view token_id;
  std::uint64_t version = 0;
  std::chrono::sys_seconds auth_time{};
};

// Reads sub, sid, jti (non-empty strings), then requires iat and exp, then ver (an unsigned
// integer) and auth_time (a NumericDate), from either document; missing_claim or invalid_claim.
template <class Object>
std::error_code read_session_claims(const Object& payload, const registered_claims_view& registered,
                                    session_claims_view& out) {
  for (const auto& [name, slot] :
       {std::pair{member_name::sub, &out.subject}, std::pair{member_name::sid, &out.session_id},
        std::pair{member_name::jti, &out.token_id}}) {
    const auto* value = find_member(payload, name);
    if (value == nullptr) return errc::missing_claim;
    if (!is_string(*value) || string_of(*value).empty()) return errc::invalid_claim;
    *slot = string_of(*value);
  }
  if (!registered.issued_at || !registered.expires_at) return errc::missing_claim;
  const auto* ver = find_member(payload, member_name::ver);
  if (ver == nullptr) return errc::missing_claim;
  if (!is_unsigned(*ver)) return errc::invalid_claim;
  out.version = unsigned_of(*ver);
  const auto* auth_time = find_member(payload, member_name::auth_time);
  if (auth_time == nullptr) return errc::missing_claim;
  auto at = numeric_date_of(*auth_time);
  if (!at) return at.error();
  out.auth_time = *at;
  return {};
}

// The custom claims of a payload (every member whose name is not reserved), as issued.
inline void copy_extra_claims(const nlohmann::json& payload, nlohmann::json& extra) {
  for (const auto& item : payload.items()) {
    if (!is_reserved_claim(item.key())) extra[item.key()] = item.value();
  }
}
inline void copy_extra_claims(const flat_object& payload, nlohmann::json& extra) {
  for (const flat_member& member : payload) {
    if (!is_reserved_claim(member.known)) {
      extra[std::string(member.name.view())] = to_json(payload, member.value);
    }
  }
}

// What SessionManager::validate reads from a verified access token's payload, in its order:
// registered claims (types), issuer and audience, times, session claims. The store comes after.
struct access_reading {
  registered_claims_view registered;
  session_claims_view session;
};

template <class Object>
std::error_code read_access_claims(const Object& payload, const Validator& validator,
                                   std::chrono::sys_seconds now, access_reading& out) {
  bool audience_matches = false;
  if (auto ec = read_registered_claims(payload, out.registered,
                                       validator.audience_matcher(audience_matches))) {
    return ec;
  }
  if (auto ec = validator.check_issuer_and_audience(out.registered, audience_matches)) return ec;
  if (auto ec = validator.check_times(out.registered, now)) return ec;
  return read_session_claims(payload, out.registered, out.session);
}

}  // namespace detail

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
                          const nlohmann::json& extra = detail::empty_json_object()) {
    if (subject.empty()) return errc::invalid_argument;
    if (auto ec = check_extra(extra)) return ec;
    const std::chrono::sys_seconds now = clock_.now();
    std::array<detail::random_id, 3> ids;  // the family, the access token, the refresh token
    if (!detail::make_random_ids(ids)) return errc::crypto_failure;
    return mint(subject, std::string(ids[0].view()), now, now, extra, ids[1].view(), ids[2].view());
  }

  // Per request: signature, type, issuer, audience, times, then the store (revoked token,
  // revoked family, subject version). Never throws. For the common token shape it allocates only
  // what the returned AccessClaims holds (see detail/fast_json.hpp).
  Result<AccessClaims> validate(std::string_view access_token) const noexcept {
    try {
      detail::opened_token opened;
      if (auto ec = detail::open_token(access_token, signer_, access_validator_, opened)) return ec;
      const std::chrono::sys_seconds now = clock_.now();
      return opened.visit([&](const auto& payload) -> Result<AccessClaims> {
        detail::access_reading read;
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
      });
    } catch (const std::bad_alloc&) {
      return errc::crypto_failure;
    }
  }

  // Rotation: a valid, never-used refresh token buys a new pair in the same family, with the same
  // auth_time; the presented token is used up. A used one revokes the family (refresh_reused),
  // except the family's latest one again within reuse_grace. extra: custom claims for the new
  // access token (refresh tokens carry none, so they never go stale).
  Result<TokenPair> refresh(std::string_view refresh_token,
                            const nlohmann::json& extra = detail::empty_json_object()) {
    if (auto ec = check_extra(extra)) return ec;
    return rotate(
        refresh_token, [](const detail::session_claims_view&) { return std::error_code{}; },
        extra);
  }

  // The same, with the new access token's custom claims computed by extra_claims from the subject
  // and session id of the refresh token, once that token has passed every check (signature,
  // claims, the store) and before anything is signed or used up: claims that depend on the user
  // (a role, a tenant) follow every rotation. What it returns is checked like the json overload's
  // extra (invalid_argument, reserved_claim, too_large, too_deep); an error it returns (as a
  // Result) is returned as is. Either way, and if it throws (the exception reaches the caller
  // unchanged), nothing was written and the presented refresh token stays usable. It is also
  // called for a token that the store then finds used up (refresh_reused).
  template <ExtraClaimsFunction F>
  Result<TokenPair> refresh(std::string_view refresh_token, F&& extra_claims) {
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
          return check_extra(extra);
        },
        extra);
  }

  // Logout: ends the session family of an access or a refresh token. The token must pass every
  // check of validate or refresh (signature, type, issuer, audience, nbf, iat, session claims)
  // except the passing of its exp: a client whose access token has expired can still log out, and
  // its family, which may live on through its refresh token, ends. A token of a family that is
  // past its absolute end (plus leeway) answers success without a store write: no token of that
  // family can be accepted any more.
  Result<void> revoke(std::string_view token) {
    const std::chrono::sys_seconds now = clock_.now();
    detail::opened_token opened;
    const Validator* validator = &access_validator_;
    std::error_code ec = detail::open_token(token, signer_, access_validator_, opened);
    if (ec == errc::wrong_type) {
      validator = &refresh_validator_;
      ec = detail::open_token(token, signer_, refresh_validator_, opened);
    }
    if (ec) return ec;
    return opened.visit([&](const auto& payload) -> Result<void> {
      detail::registered_claims_view registered;
      bool audience_matches = false;
      if (auto ec2 = detail::read_registered_claims(
              payload, registered, validator->audience_matcher(audience_matches))) {
        return ec2;
      }
      if (auto ec2 = validator->check_issuer_and_audience(registered, audience_matches)) {
        return ec2;
      }
      if (auto ec2 = validator->check_times_ignoring_expiry(registered, now)) return ec2;
      detail::session_claims_view session;
      if (auto ec2 = detail::read_session_claims(payload, registered, session)) return ec2;
      const std::chrono::sys_seconds until = last_accepted(session.auth_time);
      if (now >= until) return {};
      return store_.revoke_family(session.session_id, until, now);
    });
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
  // refresh: verifies the refresh token, then lets prepare (given the token's session claims)
  // refuse the refresh or fill extra, then mints the new pair, and only then uses the token up.
  template <class Prepare>
  Result<TokenPair> rotate(std::string_view refresh_token, Prepare&& prepare,
                           const nlohmann::json& extra) {
    const std::chrono::sys_seconds now = clock_.now();
    detail::opened_token opened;
    if (auto ec = detail::open_token(refresh_token, signer_, refresh_validator_, opened)) return ec;
    return opened.visit([&](const auto& payload) -> Result<TokenPair> {
      detail::registered_claims_view registered;
      bool audience_matches = false;
      if (auto ec = detail::read_registered_claims(
              payload, registered, refresh_validator_.audience_matcher(audience_matches))) {
        return ec;
      }
      if (auto ec = refresh_validator_.check_issuer_and_audience(registered, audience_matches)) {
        return ec;
      }
      detail::session_claims_view session;
      if (auto ec = detail::read_session_claims(payload, registered, session)) return ec;
      // The absolute limit is the server's own rule, so it is reported before the token's exp
      // (which it caps) and without leeway.
      if (now >= absolute_end(session.auth_time)) return errc::session_expired;
      if (auto ec = refresh_validator_.check_times(registered, now)) return ec;
      std::uint64_t version = 0;
      if (auto ec = check_store(session, now, &version)) return ec;
      if (auto ec = prepare(std::as_const(session))) return ec;
      // Everything that can fail (ids, both payloads, limits, signatures) happens before the one
      // irreversible step, using up the presented token: a refresh that fails here leaves that
      // token as usable as it was, so the client's retry is not mistaken for theft.
      std::array<detail::random_id, 2> ids;  // the access token, the refresh token
      if (!detail::make_random_ids(ids)) return errc::crypto_failure;
      // The new pair carries the subject's version as check_store just read it: a log out
      // everywhere that lands after that read voids the new pair too (it fails closed).
      auto pair = mint(session.subject, std::string(session.session_id), session.auth_time, now,
                       extra, ids[0].view(), ids[1].view(), version);
      if (!pair) return pair;
      if (auto ec = use_refresh_token(session, *registered.expires_at, now)) return ec;
      return pair;
    });
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

  // The store's verdict on a token; min_version (when given) receives the subject's version.
  std::error_code check_store(const detail::session_claims_view& session,
                              std::chrono::sys_seconds now,
                              std::uint64_t* min_version = nullptr) const {
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
  std::error_code use_refresh_token(const detail::session_claims_view& session,
                                    std::chrono::sys_seconds expires_at,
                                    std::chrono::sys_seconds now) {
    auto use = store_.consume_refresh(session.session_id, session.token_id,
                                      expires_at + options_.leeway, now, options_.reuse_grace);
    if (!use) return use.error();
    if (*use == RefreshUse::reused) {
      auto revoked =
          store_.revoke_family(session.session_id, last_accepted(session.auth_time), now);
      // If the store cannot record the revocation, say so rather than pretend the theft is
      // contained.
      if (!revoked) return revoked.error();
      return errc::refresh_reused;
    }
    return {};
  }

  // Signs a new pair for the family sid, whose session began at auth_time, with fresh token ids,
  // for the subject's version (read from the store when not given).
  Result<TokenPair> mint(std::string_view subject, std::string sid,
                         std::chrono::sys_seconds auth_time, std::chrono::sys_seconds now,
                         const nlohmann::json& extra, std::string_view access_id,
                         std::string_view refresh_id,
                         std::optional<std::uint64_t> version = std::nullopt) {
    if (!version) {
      // The version in force for this subject now; the fresh ids cannot be revoked yet.
      auto status = store_.status(access_id, sid, subject, now);
      if (!status) return status.error();
      version = status->min_version;
    }
    const std::chrono::sys_seconds end = absolute_end(auth_time);
    const std::chrono::sys_seconds access_exp = std::min(now + options_.access_ttl, end);
    const std::chrono::sys_seconds refresh_exp = std::min(now + options_.refresh_ttl, end);

    const token_claims common{subject, sid, *version, auth_time, now};
    std::string refresh_claims;
    std::string access_claims;
    try {
      refresh_claims = claims_json(common, refresh_id, refresh_exp, detail::empty_json_object());
      access_claims = claims_json(common, access_id, access_exp, extra);
    } catch (const nlohmann::json::type_error&) {
      // The subject, or a name or value among the extra claims, is not valid UTF-8: JSON cannot
      // carry it. (nlohmann's serializer reports that, and only that, as a type_error.)
      return errc::invalid_argument;
    }
    auto refresh_token = sign(kRefreshTokenType, refresh_claims);
    if (!refresh_token) return refresh_token.error();
    auto access_token = sign(kAccessTokenType, access_claims, !extra.empty());
    if (!access_token) return access_token.error();

    return TokenPair{std::move(*access_token), std::move(*refresh_token), std::move(sid),
                     access_exp, refresh_exp};
  }

  // What both tokens of a pair say alike.
  struct token_claims {
    std::string_view subject;
    std::string_view sid;
    std::uint64_t version;
    std::chrono::sys_seconds auth_time;
    std::chrono::sys_seconds now;
  };

  // The claims object, written directly: the bytes nlohmann::json::dump() gives for the same
  // members (names in sorted order, the extra ones merged in), without building a DOM. extra
  // holds no reserved name: issue and refresh refuse those first. The issuer and audience members
  // were written once, at construction.
  std::string claims_json(const token_claims& c, std::string_view jti, std::chrono::sys_seconds exp,
                          const nlohmann::json& extra) const {
    std::string out;
    out.reserve(128 + iss_member_.size() + aud_member_.size() + c.subject.size() + c.sid.size() +
                jti.size());
    out.push_back('{');
    // Extra members go between the registered ones, in sorted order: the ones before "aud" first
    // (the only place where no comma precedes a member), the rest each with its comma.
    auto next_extra = extra.cbegin();
    bool first = true;
    const auto extras_before = [&](std::optional<std::string_view> name) {
      for (; next_extra != extra.cend() && (!name || std::string_view(next_extra.key()) < *name);
           ++next_extra) {
        detail::append_json_name(out, next_extra.key(), first);
        out += next_extra.value().dump();
      }
    };
    extras_before("aud");
    if (!first) out.push_back(',');
    out.append(aud_member_);
    first = false;
    extras_before("auth_time");
    out.append(std::string_view(R"(,"auth_time":)"));
    detail::append_json_integer(out, c.auth_time.time_since_epoch().count());
    extras_before("exp");
    out.append(std::string_view(R"(,"exp":)"));
    detail::append_json_integer(out, exp.time_since_epoch().count());
    extras_before("iat");
    out.append(std::string_view(R"(,"iat":)"));
    detail::append_json_integer(out, c.now.time_since_epoch().count());
    extras_before("iss");
    out.push_back(',');
    out.append(iss_member_);
    extras_before("jti");
    out.append(std::string_view(R"(,"jti":)"));
    detail::append_json_string(out, jti);
    extras_before("sid");
    out.append(std::string_view(R"(,"sid":)"));
    detail::append_json_string(out, c.sid);
    extras_before("sub");
    out.append(std::string_view(R"(,"sub":)"));
    detail::append_json_string(out, c.subject);
    extras_before("ver");
    out.append(std::string_view(R"(,"ver":)"));
    detail::append_json_integer(out, c.version);
    extras_before(std::nullopt);
    out.push_back('}');
    return out;
  }

  // `"name":value` for a configured string, as nlohmann::json would write it. A value that is not
  // valid UTF-8 could never be written into a token: refused at construction.
  static std::string json_member(std::string_view name, std::string_view value) {
    std::string out;
    bool first = true;
    detail::append_json_name(out, name, first);
    try {
      detail::append_json_string(out, value);
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(
          "tegata: SessionOptions::" + std::string(name == "iss" ? "issuer" : "audience") +
          " must be valid UTF-8");
    }
    return out;
  }

  // Custom claims for an access token: an object without reserved names.
  static std::error_code check_extra(const nlohmann::json& extra) {
    if (!extra.is_object()) return errc::invalid_argument;
    for (const auto& item : extra.items()) {
      if (detail::is_reserved_claim(item.key())) return errc::reserved_claim;
    }
    return {};
  }

  // A token the manager would refuse to validate is never handed out: the limits validate
  // applies (token and header size, and for custom claims their count and depth) hold for every
  // token signed here. The manager's own claims are flat and few; only custom ones need reading.
  Result<std::string> sign(std::string_view type, std::string_view claims,
                           bool has_custom_claims = false) const {
    const jws::Limits& limits = access_validator_.options().limits;
    if (has_custom_claims) {
      detail::flat_object flat;
      std::optional<nlohmann::json> dom;
      if (auto ec = detail::read_claims_object(claims, limits, flat, dom)) return ec;
    }
    auto token = signer_.sign(type, claims);
    if (token &&
        (token->size() > limits.max_token_bytes || token->find('.') > limits.max_header_bytes)) {
      return errc::too_large;
    }
    return token;
  }

  SignerT signer_;
  SessionOptions options_;
  ClockT clock_;
  StoreT store_;
  Validator access_validator_;
  Validator refresh_validator_;
  std::string iss_member_ = json_member("iss", options_.issuer);
  std::string aud_member_ = json_member("aud", options_.audience);
};

}  // namespace tegata
