// tegata/verified_jwt.hpp - verify_jwt without the DOM: the same checks, and a VerifiedJwt whose
// getters read the header and the claims where the JSON reader left them.
//
// verify_jwt (jwt.hpp) returns every claim as owned values: a Claims and an nlohmann::json
// document of the whole payload, which costs more than all of the checks. verify_jwt_claims runs
// the very same checks, in the same order, with the same errors, and returns a VerifiedJwt
// instead: registered claims and typed custom claims are read on request, without a copy, and
// Claims or the DOM are built only when asked for (after the idea of Tink's VerifiedJwt).
//
// A VerifiedJwt owns what it reads: one heap block holds the decoded payload and what the JSON
// reader made of it, and nothing in it refers to the token the caller passed, which may go away.
// The block never moves, so a VerifiedJwt can be moved freely; the string_views its getters
// return are valid while the VerifiedJwt that returned them lives (and is not assigned to).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/error.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/signer.hpp"
#include "tegata/validator.hpp"

namespace tegata {

class VerifiedJwt;

namespace detail {

// What a VerifiedJwt holds, in its one heap block: the opened token (the decoded payload and the
// reader's result, whose views point into it) and the registered claims read from it.
struct verified_state {
  opened_token opened;
  registered_claims_view registered;
};

// Makes VerifiedJwts for verify_jwt_claims.
struct verified_jwt_access {
  static VerifiedJwt make(std::unique_ptr<const verified_state> state) noexcept;
};

}  // namespace detail

// A token whose signature and claims verify_jwt_claims has checked. Move-only. A moved-from
// VerifiedJwt holds no token: its header is empty, its optional getters answer nullopt, its
// custom-claim getters not_found, claims() an empty Claims and payload() an empty object.
class VerifiedJwt {
 public:
  VerifiedJwt(VerifiedJwt&&) noexcept = default;
  VerifiedJwt& operator=(VerifiedJwt&&) noexcept = default;
  VerifiedJwt(const VerifiedJwt&) = delete;
  VerifiedJwt& operator=(const VerifiedJwt&) = delete;
  ~VerifiedJwt() = default;

  // The protected header members tegata acts on: alg, typ, kid.
  const jws::Header& header() const noexcept {
    static const jws::Header empty;
    return state_ ? state_->opened.parsed.header : empty;
  }

  // The registered claims (RFC 7519 §4.1), as verify_jwt's Claims holds them.
  std::optional<std::string_view> issuer() const noexcept { return registered().issuer; }
  std::optional<std::string_view> subject() const noexcept { return registered().subject; }
  std::optional<std::string_view> jwt_id() const noexcept { return registered().jwt_id; }
  std::optional<std::chrono::sys_seconds> expires_at() const noexcept {
    return registered().expires_at;
  }
  std::optional<std::chrono::sys_seconds> not_before() const noexcept {
    return registered().not_before;
  }
  std::optional<std::chrono::sys_seconds> issued_at() const noexcept {
    return registered().issued_at;
  }

  // Whether aud names audience (aud may be a string or an array of strings).
  bool has_audience(std::string_view audience) const noexcept;
  // Every aud value (a string is a one-element list); nullopt without aud. Throws std::bad_alloc.
  std::optional<std::vector<std::string>> audiences() const;

  // Custom claims, by name. Each answers not_found when the claim is absent, invalid_claim when it
  // has another JSON type (or, for integer_claim, does not fit in std::int64_t), and
  // invalid_argument for the name of a registered claim, which has a getter above.
  Result<std::string_view> string_claim(std::string_view name) const noexcept;
  // A JSON integer: 1.0 and 1e3 are numbers of another kind, and invalid_claim.
  Result<std::int64_t> integer_claim(std::string_view name) const noexcept;
  Result<bool> bool_claim(std::string_view name) const noexcept;
  // An array of strings (an empty array included). Throws std::bad_alloc.
  Result<std::vector<std::string>> string_array_claim(std::string_view name) const;
  // Whether the payload has a member of this name, registered claims included.
  bool has_claim(std::string_view name) const noexcept {
    return state_ && document().find(name).has_value();
  }

  // Built on request, each time it is called; both throw std::bad_alloc and nothing else.
  // The registered claims as verify_jwt's Jwt::claims holds them.
  Claims claims() const;
  // The whole payload, every claim, as verify_jwt's Jwt::payload holds it.
  nlohmann::json payload() const;

 private:
  friend struct detail::verified_jwt_access;

  explicit VerifiedJwt(std::unique_ptr<const detail::verified_state> state) noexcept
      : state_(std::move(state)) {}

  const detail::registered_claims_view& registered() const noexcept {
    static const detail::registered_claims_view none;
    return state_ ? state_->registered : none;
  }
  // Only with state_.
  detail::json_document document() const noexcept { return state_->opened.document(); }

  Result<detail::json_value> custom_claim(std::string_view name) const noexcept;

  std::unique_ptr<const detail::verified_state> state_;
};

inline VerifiedJwt detail::verified_jwt_access::make(
    std::unique_ptr<const verified_state> state) noexcept {
  return VerifiedJwt(std::move(state));
}

// Verifies signature and claims at time now, exactly as verify_jwt does (the same checks in the
// same order, the same error for every token), and returns the header and the claims to be read
// in place. Never throws: memory running out is out_of_memory. One heap block per call, valid or
// not, besides what the Signer's cryptography allocates.
template <Signer S>
Result<VerifiedJwt> verify_jwt_claims(std::string_view token, const S& signer,
                                      const Validator& validator,
                                      std::chrono::sys_seconds now) noexcept {
  try {
    // Not value-initialised: the buffers are written before they are read, as on the stack.
    auto state = std::make_unique_for_overwrite<detail::verified_state>();
    if (auto ec = detail::open_token(token, signer, validator, state->opened)) return ec;
    if (auto ec = detail::validator_access::read_and_check(validator, state->opened.document(), now,
                                                           state->registered)) {
      return ec;
    }
    // The caller's token may go away: keep no view into it.
    state->opened.parsed.signing_input = {};
    state->opened.parsed.encoded_payload = {};
    return detail::verified_jwt_access::make(std::move(state));
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  }
}

template <Signer S, Clock C>
Result<VerifiedJwt> verify_jwt_claims(std::string_view token, const S& signer,
                                      const Validator& validator, const C& clock) noexcept {
  return verify_jwt_claims(token, signer, validator, std::chrono::sys_seconds{clock.now()});
}

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/verified_jwt_inl.hpp"
#endif
