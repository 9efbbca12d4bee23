// tegata/jwt.hpp - sign and verify a JWT with any Signer: the stand-alone, session-less API.
//
// verify_jwt follows the only safe order: size, structure and header first; then the signature
// over the exact bytes received; only then is the payload decoded and parsed, and the claims
// checked against the Validator.
#pragma once

#include <chrono>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/claims.hpp"
#include "tegata/clock.hpp"
#include "tegata/detail/json_document.hpp"
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
// Errors: invalid_argument (claims is not an object, or a string in it or typ is not valid UTF-8,
// which JSON cannot carry), key_cannot_sign, crypto_failure.
template <Signer S>
Result<std::string> sign_jwt(const S& signer, const nlohmann::json& claims,
                             std::string_view typ = "JWT") {
  if (!claims.is_object()) return errc::invalid_argument;
  try {
    return signer.sign(TokenType(typ), claims.dump());
  } catch (const nlohmann::json::type_error&) {  // invalid UTF-8, the serializer's only type_error
    return errc::invalid_argument;
  }
}

namespace detail {

// A token whose size, structure, header, signature and typ have been checked, with its payload
// decoded and read (see detail/json_document.hpp). Lives on the caller's stack, or in the one heap
// block of a VerifiedJwt (verified_jwt.hpp), and never moves: views point into the token (parsed's
// signing_input and encoded_payload) and into this object (everything else).
struct opened_token {
  jws::Parsed parsed;
  jws::detail::decode_buffer<1024> payload;  // the decoded payload text
  json_object_storage claims;                // what the JSON readers made of it

  json_document document() const noexcept { return claims.document(); }
};

// The strict reader's bounds for a claims object.
constexpr json_limits claims_json_limits(const jws::Limits& limits) noexcept {
  return {.max_depth = limits.max_json_depth, .max_members = limits.max_claims};
}

// Reads a decoded payload as the claims object.
inline std::error_code read_claims_object(std::string_view text, const jws::Limits& limits,
                                          json_object_storage& out) {
  return read_json_object(text, claims_json_limits(limits), out);
}

// Everything verify_jwt does except the claim checks: size, structure, header, signature over the
// received bytes, typ, and only then the payload's JSON. The payload's encoding is checked (by
// decoding it) before the signature, so that a bad segment is bad_encoding; it is read only after.
template <Signer S>
std::error_code open_token(std::string_view token, const S& signer, const Validator& validator,
                           opened_token& out) {
  const jws::Limits& limits = validator.options().limits;
  out.claims.dom.reset();
  if (auto ec = jws::detail::parse_into(token, limits, out.parsed, &out.payload)) return ec;
  if (auto ec = signer.verify(out.parsed)) return ec;
  if (auto ec = validator.check_type(out.parsed.header)) return ec;
  return read_claims_object(out.payload.view(), limits, out.claims);
}

// open_token, then the registered claims and the whole payload as owned values.
template <Signer S>
Result<Jwt> open_jwt(std::string_view token, const S& signer, const Validator& validator) noexcept {
  try {
    opened_token opened;
    if (auto ec = open_token(token, signer, validator, opened)) return ec;
    auto claims = owned_claims(opened.document());
    if (!claims) return claims.error();
    nlohmann::json payload =
        opened.claims.dom ? std::move(*opened.claims.dom) : opened.document().to_json();
    return Jwt{std::move(opened.parsed.header), std::move(*claims), std::move(payload)};
  } catch (const std::bad_alloc&) {
    // The only exception left on this path: report it as a failure, never as success.
    return errc::out_of_memory;
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
