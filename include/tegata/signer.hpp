// tegata/signer.hpp - the signing policy: what a SessionManager (or verify_jwt) needs from keys.
//
// Two levels:
//  - a Key is one algorithm bound to one key: it signs and verifies raw bytes;
//  - a Signer turns payloads into compact tokens and checks parsed tokens. Every Key class is a
//    Signer over itself; a KeyRing is a Signer over several keys (rotation).
// The algorithm is always the one bound to the key at configuration time; the token header's
// alg is only compared against it, never obeyed.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/algorithm.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"

namespace tegata {

// The typ header parameter (RFC 7515 §4.1.9) that Signer::sign writes into a token, or none when
// empty. A type of its own, made from a string only explicitly (TokenType("JWT")), so that sign's
// two arguments cannot be swapped: sign(payload, typ) does not compile. Like the std::string_view
// it holds, it refers to the characters it was made from, and reads as that view.
// SessionManager's kAccessTokenType and kRefreshTokenType are TokenTypes.
class TokenType {
 public:
  constexpr TokenType() noexcept = default;
  constexpr explicit TokenType(std::string_view value) noexcept : value_(value) {}

  constexpr std::string_view value() const noexcept { return value_; }
  constexpr bool empty() const noexcept { return value_.empty(); }
  // Implicit, as std::string's is: wherever a string_view is expected, the text is what is meant.
  constexpr operator std::string_view() const noexcept { return value_; }

  friend constexpr bool operator==(const TokenType&, const TokenType&) noexcept = default;
  friend constexpr bool operator==(TokenType a, std::string_view b) noexcept {
    return a.value_ == b;
  }

 private:
  std::string_view value_;
};

template <class K>
concept Key = requires(const K& key, std::string_view bytes) {
  { key.algorithm() } -> std::same_as<Algorithm>;
  { key.kid() } -> std::convertible_to<std::string_view>;
  { key.can_sign() } -> std::same_as<bool>;
  { key.sign_raw(bytes) } -> std::same_as<Result<std::string>>;
  { key.verify_raw(bytes, bytes) } -> std::same_as<bool>;
};

template <class S>
concept Signer = requires(const S& signer, TokenType typ, std::string_view payload,
                          const jws::Parsed& token) {
  // Compact JWS over payload with the given typ header (omitted when empty). Errors:
  // invalid_argument when typ or the key's kid is not UTF-8 (JSON cannot carry it),
  // key_cannot_sign, crypto_failure.
  { signer.sign(typ, payload) } -> std::same_as<Result<std::string>>;
  // Success is an empty error_code; otherwise unknown_key, unsupported_algorithm or bad_signature.
  { signer.verify(token) } -> std::same_as<std::error_code>;
};

namespace detail {

// Whether a token's header addresses this key: its kid (when both have one) and its alg.
template <Key K>
std::error_code match_header(const K& key, const jws::Header& header) noexcept {
  if (header.has_kid && !std::string_view(key.kid()).empty() && header.kid != key.kid()) {
    return errc::unknown_key;
  }
  if (header.alg != to_string(key.algorithm())) return errc::unsupported_algorithm;
  return {};
}

template <Key K>
std::error_code verify_with_key(const K& key, const jws::Parsed& token) {
  if (auto ec = match_header(key, token.header)) return ec;
  if (!key.verify_raw(token.signing_input, token.signature)) return errc::bad_signature;
  return {};
}

template <Key K>
Result<std::string> sign_with_key(const K& key, TokenType typ, std::string_view payload) {
  if (!key.can_sign()) return errc::key_cannot_sign;
  std::string header;
  if (!jws::detail::append_header(header, to_string(key.algorithm()), key.kid(), typ.value())) {
    return errc::invalid_argument;
  }
  std::string input = jws::make_signing_input(header, payload);
  auto signature = key.sign_raw(input);
  if (!signature) return signature.error();
  return jws::finish_compact(std::move(input), *signature);
}

// Gives a Key class the Signer interface: derive from it with the class itself as Derived.
template <class Derived>
class single_key_signer {
 public:
  Result<std::string> sign(TokenType typ, std::string_view payload) const {
    return sign_with_key(self(), typ, payload);
  }
  std::error_code verify(const jws::Parsed& token) const { return verify_with_key(self(), token); }

 private:
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace tegata
