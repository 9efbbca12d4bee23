// tegata/jwt.hpp - sign and verify a JWT with any Signer: the stand-alone, session-less API.
//
// verify_jwt follows the only safe order: size, structure and header first; then the signature
// over the exact bytes received; only then is the payload decoded and parsed, and the claims
// checked against the Validator.
#pragma once

#include <chrono>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/error.hpp"
#include "tegata/jws.hpp"
#include "tegata/signer.hpp"
#include "tegata/validator.hpp"

namespace tegata {

// A token whose signature and claims have been checked.
struct Jwt {
  jws::Header header;
  Claims claims;
  nlohmann::json payload;  // every claim, registered or not
};

// Signs a claims object. typ defaults to "JWT"; pass "" to omit it.
// Errors: invalid_argument (claims is not an object), key_cannot_sign, crypto_failure.
template <Signer S>
Result<std::string> sign_jwt(const S& signer, const nlohmann::json& claims,
                             std::string_view typ = "JWT") {
  if (!claims.is_object()) return errc::invalid_argument;
  return signer.sign(typ, claims.dump());
}

namespace detail {

// Everything verify_jwt does except the claim checks: size, structure, header, signature over the
// received bytes, typ, and only then the payload. Lets callers with extra rules (the session
// manager) order their own checks without repeating this sequence.
template <Signer S>
Result<Jwt> open_jwt(std::string_view token, const S& signer, const Validator& validator) noexcept {
  try {
    auto parsed = jws::parse(token, validator.options().limits);
    if (!parsed) return parsed.error();
    if (auto ec = signer.verify(*parsed)) return ec;
    if (auto ec = validator.check_type(parsed->header)) return ec;
    auto payload_text = jws::decode_payload(*parsed);
    if (!payload_text) return payload_text.error();
    auto payload = parse_json_object(*payload_text, validator.options().limits.max_json_depth);
    if (!payload) return payload.error();
    auto claims = parse_claims(*payload);
    if (!claims) return claims.error();
    return Jwt{std::move(parsed->header), std::move(*claims), std::move(*payload)};
  } catch (const std::bad_alloc&) {
    // The only exception left on this path: report it as a failure, never as success.
    return errc::crypto_failure;
  }
}

}  // namespace detail

// Verifies signature and claims at time now. Never throws on bad input.
template <Signer S>
Result<Jwt> verify_jwt(std::string_view token, const S& signer, const Validator& validator,
                       std::chrono::sys_seconds now) noexcept {
  auto jwt = detail::open_jwt(token, signer, validator);
  if (!jwt) return jwt;
  if (auto ec = validator.check_claims(jwt->claims, now)) return ec;
  return jwt;
}

template <Signer S, Clock C>
Result<Jwt> verify_jwt(std::string_view token, const S& signer, const Validator& validator,
                       const C& clock) noexcept {
  return verify_jwt(token, signer, validator, std::chrono::sys_seconds{clock.now()});
}

}  // namespace tegata
