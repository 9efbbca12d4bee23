// tests/fuzz/properties.hpp - what must hold for every input, whatever its bytes.
//
// One check per fuzz target. The libFuzzer targets (tests/fuzz/fuzz_*.cpp) run them on generated
// inputs and abort on a violation; tests/unit/fuzz_regressions_test.cpp runs the very same checks
// on the committed regression inputs (tests/fuzz/regressions/<target>/) and on the seed corpus.
//
// A check states properties, not only "did not crash":
//  - jws:     a token that parses re-serialises to exactly its own bytes (strict base64url has one
//             spelling); a second JSON parser reads the same header and claims; an accepted
//             token's claims hold; a rejected token stays rejected at every later time; a token
//             with one character changed, or checked with another key, never verifies;
//             verify_jwt_claims gives verify_jwt's error, or reads its header, claims and payload.
//  - jwk:     an imported key is what the options asked for; export and re-import give the same
//             key, kid and thumbprint; a key that can sign produces signatures its public JWK
//             verifies; a JWK Set and a KeyRing built from it agree.
//  - pem:     parse, export, parse gives the same key; a key class either refuses a key with
//             std::invalid_argument or signs what its public key verifies.
//  - http:    bearer_token and cookie_value agree with independent reference parsers and return
//             views into their input; every cookie the CookieWriter writes reads back.
//  - dpop:    a DPoP proof is accepted only for its own request and time, with its jwk's
//             thumbprint, and with any one character changed never; the normal form of an
//             http(s) URI is a fixed point and has no query, fragment or dot segment.
//  - session: validate and refresh succeed only for tokens exactly as issued; a refresh token is
//             used once (or again within the grace window); revoked families, logged-out
//             subjects and rejected tokens never come back; failures never grow the store, and
//             the store is empty once everything has expired.
//
// Input formats are described at each check; every byte string is a valid input.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fixtures.hpp"
#include "reader.hpp"
#include "tegata/detail/http_uri.hpp"
#include "tegata/tegata.hpp"

namespace tegata_fuzz {

// Thrown by a check whose property does not hold. The fuzz targets turn it into an abort, the
// unit tests into a failure with this message.
class property_violation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

[[noreturn]] inline void violated(const char* condition, std::string_view what, const char* file,
                                  int line) {
  throw property_violation(std::string(file) + ":" + std::to_string(line) + ": " +
                           std::string(what) + " (" + condition + ")");
}

}  // namespace detail

// A macro, because the message needs the condition's text and the line.
#define TEGATA_PROPERTY(condition, what)                                                     \
  do {                                                                                       \
    if (!(condition)) ::tegata_fuzz::detail::violated(#condition, what, __FILE__, __LINE__); \
  } while (false)

namespace detail {

using tegata::errc;

inline bool one_of(std::error_code ec, std::initializer_list<errc> codes) {
  return std::any_of(codes.begin(), codes.end(), [&](errc e) { return ec == e; });
}

// Whether inner is a view into outer (compared as addresses, which std::less orders totally).
inline bool is_within(std::string_view inner, std::string_view outer) {
  const std::less<const char*> before;
  return !before(inner.data(), outer.data()) &&
         !before(outer.data() + outer.size(), inner.data() + inner.size());
}

inline bool same_outcome(std::error_code a, std::error_code b) { return a == b; }

// --- Reference grammar (RFC 6265, RFC 6750), written independently of tegata/http.hpp ---------

inline bool ref_is_token(std::string_view s) {
  constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 31 && u < 127 && separators.find(c) == std::string_view::npos;
  });
}

// cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
inline bool ref_is_cookie_octet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

inline std::string_view ref_trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return s.substr(s.size());
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
inline bool ref_is_token68(std::string_view s) {
  const auto body = s.substr(0, s.find_last_not_of('=') + 1);  // npos + 1 == 0: all '='
  if (body.empty()) return false;
  return std::all_of(body.begin(), body.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~+/").find(c) != std::string_view::npos;
  });
}

inline bool ref_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
           };
           return lower(x) == lower(y);
         });
}

}  // namespace detail

// =================================================================================================
// jws: compact parsing and verify_jwt, with an HS256 and an ES256 key.
//
// Input: a mode byte, then
//   mode & 3 == 0, 1: the rest is a token, verified with the HS256 (0) or ES256 (1) key;
//   mode & 3 == 2, 3: a 16-bit little-endian length, that many bytes of header JSON, then the
//                     payload JSON; the harness signs them with the HS256 (2) or ES256 (3) key,
//                     so the fuzzer reaches the claim checks without forging signatures.
//   mode & 4: verify with lenient_validator() instead of strict_validator().
// =================================================================================================

namespace detail {

// Every answer jws::parse may give for untrusted bytes.
inline bool is_parse_error(std::error_code ec) {
  return one_of(ec, {errc::malformed, errc::too_large, errc::bad_encoding, errc::bad_json,
                     errc::duplicate_member, errc::too_deep, errc::unsupported_algorithm,
                     errc::unsupported_critical});
}

// Every answer verify_jwt may give for untrusted bytes (out_of_memory would mean bad_alloc).
inline bool is_verify_error(std::error_code ec) {
  return is_parse_error(ec) ||
         one_of(ec, {errc::unknown_key, errc::bad_signature, errc::wrong_type, errc::wrong_issuer,
                     errc::wrong_audience, errc::missing_claim, errc::invalid_claim, errc::expired,
                     errc::not_yet_valid, errc::issued_in_future});
}

inline void check_parse(std::string_view token) {
  const auto parsed = tegata::jws::parse(token);
  if (!parsed) {
    TEGATA_PROPERTY(is_parse_error(parsed.error()), "jws::parse gave an undocumented error");
    return;
  }
  TEGATA_PROPERTY(std::count(token.begin(), token.end(), '.') == 2,
                  "a token without exactly three segments parsed");
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.rfind('.');
  TEGATA_PROPERTY(
      parsed->signing_input.data() == token.data() && parsed->signing_input.size() == dot2,
      "the signing input is not the token's first two segments as received");
  TEGATA_PROPERTY(parsed->encoded_payload == token.substr(dot1 + 1, dot2 - dot1 - 1) &&
                      is_within(parsed->encoded_payload, token),
                  "the payload view is not the token's second segment");

  // One spelling only: decoding and encoding again gives the received bytes, segment by segment.
  const std::string_view header_b64 = token.substr(0, dot1);
  const auto header_json = tegata::base64url_decode(header_b64);
  TEGATA_PROPERTY(header_json.has_value(), "a parsed token's header does not decode");
  TEGATA_PROPERTY(tegata::base64url_encode(*header_json) == header_b64,
                  "the header segment has a second base64url spelling");
  const auto payload = tegata::jws::decode_payload(*parsed);
  TEGATA_PROPERTY(payload.has_value(), "a parsed token's payload does not decode");
  TEGATA_PROPERTY(tegata::base64url_encode(*payload) == parsed->encoded_payload,
                  "the payload segment has a second base64url spelling");
  TEGATA_PROPERTY(
      tegata::jws::finish_compact(std::string(parsed->signing_input), parsed->signature) == token,
      "re-serialising a parsed token gives other bytes");

  // What tegata read from the header is what any JSON parser reads from it.
  const auto lenient = nlohmann::json::parse(*header_json, nullptr, /*allow_exceptions=*/false);
  TEGATA_PROPERTY(!lenient.is_discarded() && lenient.is_object(),
                  "a header the strict reader accepted is not a JSON object");
  const tegata::jws::Header& header = parsed->header;
  TEGATA_PROPERTY(lenient.contains("alg") && lenient["alg"] == header.alg && !header.alg.empty(),
                  "alg differs from the header JSON");
  TEGATA_PROPERTY(!tegata::jws::detail::iequals(header.alg, "none"), "alg none was accepted");
  TEGATA_PROPERTY(header.has_kid == lenient.contains("kid") &&
                      (!header.has_kid || lenient["kid"] == header.kid),
                  "kid differs from the header JSON");
  TEGATA_PROPERTY(header.has_typ == lenient.contains("typ") &&
                      (!header.has_typ || lenient["typ"] == header.typ),
                  "typ differs from the header JSON");
  TEGATA_PROPERTY(!lenient.contains("crit"), "a header with crit was accepted");
}

// An accepted token: everything the validator promised holds, and nothing near it verifies.
template <class Key>
void check_accepted(std::string_view token, const Key& key, const tegata::Validator& validator,
                    const tegata::Jwt& jwt) {
  const auto& options = validator.options();
  const auto parsed = tegata::jws::parse(token, options.limits);
  TEGATA_PROPERTY(parsed.has_value(), "a verified token does not parse");
  TEGATA_PROPERTY(jwt.header.alg == tegata::to_string(key.algorithm()),
                  "a token was verified under another algorithm than the key's");
  TEGATA_PROPERTY(key.verify_raw(parsed->signing_input, parsed->signature),
                  "a token verified whose signature the key rejects");

  const tegata::Claims& claims = jwt.claims;
  TEGATA_PROPERTY(claims.issuer == options.issuer, "an accepted token has another issuer");
  if (options.audience) {
    TEGATA_PROPERTY(claims.audience && std::count(claims.audience->begin(), claims.audience->end(),
                                                  *options.audience) > 0,
                    "an accepted token is not for our audience");
  } else {
    TEGATA_PROPERTY(!claims.audience, "an accepted token names an audience nobody configured");
  }
  const auto leeway = options.leeway;
  TEGATA_PROPERTY(
      claims.expires_at ? kNow < *claims.expires_at + leeway : options.allow_missing_exp,
      "an accepted token has expired, or has no exp");
  TEGATA_PROPERTY(!claims.not_before || *claims.not_before <= kNow + leeway,
                  "an accepted token is not valid yet");
  TEGATA_PROPERTY(!claims.issued_at || *claims.issued_at <= kNow + leeway,
                  "an accepted token was issued in the future");

  // The claims tegata returns are those any JSON parser reads from the payload.
  const auto payload = tegata::jws::decode_payload(*parsed);
  TEGATA_PROPERTY(payload.has_value(), "a verified payload does not decode");
  const auto lenient = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  TEGATA_PROPERTY(!lenient.is_discarded() && lenient == jwt.payload,
                  "a second JSON parser reads other claims");

  // Near misses never verify: one character changed, one removed, one added, another key.
  for (std::size_t k = 0; k < 8; ++k) {
    std::string changed(token);
    const std::size_t i = k * changed.size() / 8 + k % 3;
    if (i >= changed.size()) continue;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    TEGATA_PROPERTY(!tegata::verify_jwt(changed, key, validator, kNow),
                    "a token with one character changed still verifies");
  }
  TEGATA_PROPERTY(!tegata::verify_jwt(token.substr(0, token.size() - 1), key, validator, kNow),
                  "a truncated token still verifies");
  TEGATA_PROPERTY(!tegata::verify_jwt(std::string(token) + "A", key, validator, kNow),
                  "a token with a character appended still verifies");
  TEGATA_PROPERTY(!tegata::verify_jwt(token, other_hs256_key(), validator, kNow),
                  "a token verifies with a key that did not sign it");
}

// A rejected token stays rejected at every later time, for the same reason unless that reason
// is time itself. Only "not yet" (nbf, iat) may turn into an acceptance later.
template <class Key>
void check_rejection_is_permanent(std::string_view token, const Key& key,
                                  const tegata::Validator& validator, std::error_code error) {
  using namespace std::chrono_literals;
  if (error == errc::not_yet_valid || error == errc::issued_in_future) return;
  const std::chrono::sys_seconds later[] = {kNow + 1s, kNow + 86'400s,
                                            std::chrono::sys_seconds{tegata::kMaxNumericDate * 1s}};
  for (const auto when : later) {
    const auto again = tegata::verify_jwt(token, key, validator, when);
    TEGATA_PROPERTY(!again, "a rejected token was accepted later");
    TEGATA_PROPERTY(again.error() == error,
                    "a rejected token was rejected later for another reason");
  }
  if (error != errc::expired) {
    const auto earlier = tegata::verify_jwt(token, key, validator, std::chrono::sys_seconds{});
    TEGATA_PROPERTY(earlier.error() == error, "a time-independent rejection depends on the time");
  }
}

// What a VerifiedJwt read, against the Jwt verify_jwt built: the same header, registered claims
// and payload, and every custom claim typed as the DOM says.
inline void check_same_reading(const tegata::VerifiedJwt& verified, const tegata::Jwt& jwt) {
  const tegata::jws::Header& h = verified.header();
  TEGATA_PROPERTY(h.alg == jwt.header.alg && h.typ == jwt.header.typ && h.kid == jwt.header.kid &&
                      h.has_typ == jwt.header.has_typ && h.has_kid == jwt.header.has_kid,
                  "verify_jwt_claims read another header than verify_jwt");
  const tegata::Claims claims = verified.claims();
  const tegata::Claims& c = jwt.claims;
  TEGATA_PROPERTY(claims.issuer == c.issuer && claims.subject == c.subject &&
                      claims.audience == c.audience && claims.expires_at == c.expires_at &&
                      claims.not_before == c.not_before && claims.issued_at == c.issued_at &&
                      claims.jwt_id == c.jwt_id,
                  "verify_jwt_claims read other registered claims than verify_jwt");
  const auto same = [](std::optional<std::string_view> a, const std::optional<std::string>& b) {
    return a.has_value() == b.has_value() && (!a || *a == *b);
  };
  TEGATA_PROPERTY(same(verified.issuer(), c.issuer) && same(verified.subject(), c.subject) &&
                      same(verified.jwt_id(), c.jwt_id) && verified.expires_at() == c.expires_at &&
                      verified.not_before() == c.not_before &&
                      verified.issued_at() == c.issued_at && verified.audiences() == c.audience,
                  "a VerifiedJwt getter differs from its claims()");
  for (const std::string& aud : c.audience.value_or(std::vector<std::string>{})) {
    TEGATA_PROPERTY(verified.has_audience(aud), "has_audience misses an aud value");
  }
  const nlohmann::json payload = verified.payload();
  TEGATA_PROPERTY(payload == jwt.payload && payload.dump() == jwt.payload.dump(),
                  "verify_jwt_claims built another payload than verify_jwt");
  for (const auto& [name, value] : jwt.payload.items()) {
    TEGATA_PROPERTY(verified.has_claim(name), "has_claim misses a member");
    if (tegata::detail::is_registered_claim(name)) {
      TEGATA_PROPERTY(verified.string_claim(name).error() == errc::invalid_argument,
                      "a registered claim was read as a custom claim");
      continue;
    }
    const auto s = verified.string_claim(name);
    TEGATA_PROPERTY(value.is_string() ? s && *s == value.get_ref<const std::string&>()
                                      : s.error() == errc::invalid_claim,
                    "string_claim differs from the payload");
    const auto b = verified.bool_claim(name);
    TEGATA_PROPERTY(
        value.is_boolean() ? b && *b == value.get<bool>() : b.error() == errc::invalid_claim,
        "bool_claim differs from the payload");
    const auto i = verified.integer_claim(name);
    const bool fits = value.is_number_integer() &&
                      (!value.is_number_unsigned() ||
                       value.get<std::uint64_t>() <=
                           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    TEGATA_PROPERTY(fits ? i && nlohmann::json(*i) == value : i.error() == errc::invalid_claim,
                    "integer_claim differs from the payload");
    const auto a = verified.string_array_claim(name);
    const bool strings =
        value.is_array() && std::all_of(value.begin(), value.end(),
                                        [](const nlohmann::json& e) { return e.is_string(); });
    TEGATA_PROPERTY(strings ? a && nlohmann::json(*a) == value : a.error() == errc::invalid_claim,
                    "string_array_claim differs from the payload");
  }
}

// verify_jwt_claims answers exactly what verify_jwt answers: the same error, or the same header,
// claims and payload; and what it returned reads the same once moved, with the token gone.
template <class Key>
void check_same_as_verify_jwt(std::string_view token, const Key& key,
                              const tegata::Validator& validator, std::chrono::sys_seconds now) {
  const auto jwt = tegata::verify_jwt(token, key, validator, now);
  auto verified = [&] {
    const std::string copy(token);  // gone before the result is read
    return tegata::verify_jwt_claims(copy, key, validator, now);
  }();
  TEGATA_PROPERTY(verified.error() == jwt.error(),
                  "verify_jwt_claims and verify_jwt give different errors");
  if (!jwt) return;
  check_same_reading(*verified, *jwt);
  const tegata::VerifiedJwt moved = std::move(*verified);
  check_same_reading(moved, *jwt);
  TEGATA_PROPERTY(!verified->issuer() && !verified->has_claim("iss") && verified->payload().empty(),
                  "a moved-from VerifiedJwt still holds claims");
}

template <class Key>
void check_verification(std::string_view token, const Key& key,
                        const tegata::Validator& validator) {
  for (const auto now : {kNow, std::chrono::sys_seconds{}}) {
    check_same_as_verify_jwt(token, key, validator, now);
  }
  const auto first = tegata::verify_jwt(token, key, validator, kNow);
  const auto again = tegata::verify_jwt(token, key, validator, kNow);
  TEGATA_PROPERTY(first.has_value() == again.has_value() && first.error() == again.error(),
                  "verify_jwt gave two answers for one token");
  if (!first) {
    TEGATA_PROPERTY(is_verify_error(first.error()), "verify_jwt gave an undocumented error");
    check_rejection_is_permanent(token, key, validator, first.error());
    return;
  }
  check_accepted(token, key, validator, *first);
}

template <class Key>
void check_jws_with(ByteReader& in, bool sign, const Key& key, const tegata::Validator& validator) {
  if (!sign) {
    const std::string_view token = in.rest();
    check_parse(token);
    check_verification(token, key, validator);
    return;
  }
  const std::string_view header = in.take(in.u16());
  const std::string_view payload = in.rest();
  std::string input = tegata::jws::make_signing_input(header, payload);
  const auto signature = key.sign_raw(input);
  TEGATA_PROPERTY(signature.has_value(), "the fixture key failed to sign");
  const std::string token = tegata::jws::finish_compact(std::move(input), *signature);
  check_parse(token);
  check_verification(token, key, validator);
}

}  // namespace detail

inline void check_jws(std::string_view data) {
  ByteReader in(data);
  const std::uint8_t mode = in.byte();
  const bool sign = (mode & 2) != 0;
  const tegata::Validator& validator = (mode & 4) != 0 ? lenient_validator() : strict_validator();
  if ((mode & 1) == 0) {
    detail::check_jws_with(in, sign, hs256_key(), validator);
  } else {
    detail::check_jws_with(in, sign, es256_key(), validator);
  }
}

// =================================================================================================
// jwk: parse_jwk / parse_jwks (and KeyRing::from_jwks) on JSON text.
//
// Input: a flags byte, then the JSON text.
//   flags & 0x0F: the JwkOptions algorithm, 1..15 = kAlgorithms[n - 1], otherwise none;
//   flags & 0x10: operation sign (else verify);   flags & 0x20: kid_from_thumbprint;
//   flags & 0x40: the text is a JWK Set (else one JWK).
// =================================================================================================

inline constexpr tegata::Algorithm kAlgorithms[] = {
    tegata::Algorithm::HS256,  tegata::Algorithm::HS384, tegata::Algorithm::HS512,
    tegata::Algorithm::RS256,  tegata::Algorithm::RS384, tegata::Algorithm::RS512,
    tegata::Algorithm::PS256,  tegata::Algorithm::PS384, tegata::Algorithm::PS512,
    tegata::Algorithm::ES256,  tegata::Algorithm::ES384, tegata::Algorithm::ES512,
    tegata::Algorithm::ES256K, tegata::Algorithm::EdDSA, tegata::Algorithm::Ed25519};
static_assert(std::size(kAlgorithms) <= 15, "the algorithm is the flags' low nibble");

namespace detail {

inline bool is_jwk_error(std::error_code ec) {
  return one_of(ec, {errc::bad_json, errc::duplicate_member, errc::too_deep, errc::malformed,
                     errc::invalid_argument, errc::unsupported_algorithm, errc::not_supported,
                     errc::bad_encoding, errc::key_cannot_sign, errc::unknown_key, errc::not_found,
                     errc::too_large});
}

inline tegata::keys::JwkOptions jwk_options(std::uint8_t flags) {
  tegata::keys::JwkOptions options;
  const std::size_t alg = flags & 0x0F;
  if (alg >= 1 && alg <= std::size(kAlgorithms)) options.algorithm = kAlgorithms[alg - 1];
  options.operation =
      (flags & 0x10) != 0 ? tegata::keys::KeyOperation::sign : tegata::keys::KeyOperation::verify;
  options.kid_from_thumbprint = (flags & 0x20) != 0;
  return options;
}

inline std::string_view hmac_secret(const tegata::AnyKey& key) {
  const auto* hmac = key.target<tegata::HmacKey>();
  return hmac != nullptr ? hmac->secret() : std::string_view{};
}

// A key imported from jwk with options: what was asked for, and stable under export/import.
inline void check_imported_key(const nlohmann::json& jwk, const tegata::AnyKey& key,
                               const tegata::keys::JwkOptions& options) {
  namespace keys = tegata::keys;
  if (options.algorithm) {
    TEGATA_PROPERTY(key.algorithm() == *options.algorithm, "the key has another algorithm");
  }
  const auto alg = jwk.find("alg");
  if (alg != jwk.end()) {
    TEGATA_PROPERTY(alg->is_string() &&
                        alg->get_ref<const std::string&>() == tegata::to_string(key.algorithm()),
                    "the key's algorithm is not the JWK's alg");
  }
  if (options.operation == keys::KeyOperation::sign) {
    TEGATA_PROPERTY(key.can_sign(), "a key imported for signing cannot sign");
  } else if (!key.is_symmetric()) {
    TEGATA_PROPERTY(!key.can_sign(), "a key imported for verification kept its private part");
  }
  const auto kid = jwk.find("kid");
  if (kid != jwk.end() && kid->is_string() && !kid->get_ref<const std::string&>().empty()) {
    TEGATA_PROPERTY(kid->get_ref<const std::string&>() == key.kid(),
                    "the key's kid is not the JWK's kid");
  } else if (options.kid_from_thumbprint) {
    const auto thumbprint = keys::thumbprint_sha256(jwk);
    TEGATA_PROPERTY(thumbprint && *thumbprint == key.kid(), "the kid is not the thumbprint");
  } else {
    TEGATA_PROPERTY(key.kid().empty(), "a key without a kid got one");
  }

  static constexpr std::string_view message = "tegata fuzz: sign me";
  if (key.is_symmetric()) {
    TEGATA_PROPERTY(keys::public_jwk(key).error() == errc::not_supported,
                    "an HMAC secret has a public form");
    const auto exported = keys::private_jwk(key);
    TEGATA_PROPERTY(exported.has_value(), "an HMAC key cannot be exported");
    const auto back = keys::import_jwk(*exported, {.algorithm = key.algorithm()});
    TEGATA_PROPERTY(back && hmac_secret(*back) == hmac_secret(key) && back->kid() == key.kid(),
                    "an exported HMAC key re-imports as another key");
    const auto tag = key.sign_raw(message);
    TEGATA_PROPERTY(tag && back->verify_raw(message, *tag), "an HMAC round trip does not verify");
    return;
  }

  const auto published = keys::public_jwk(key);
  TEGATA_PROPERTY(published.has_value(), "an imported key has no public JWK");
  for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}) {
    TEGATA_PROPERTY(!published->contains(secret), "a public JWK carries private material");
  }
  const auto back = keys::import_jwk(*published, {.algorithm = key.algorithm()});
  TEGATA_PROPERTY(back.has_value(), "a published JWK does not re-import");
  TEGATA_PROPERTY(back->algorithm() == key.algorithm() && back->kid() == key.kid() &&
                      EVP_PKEY_eq(back->native_handle(), key.native_handle()) == 1,
                  "a published JWK re-imports as another key");
  const auto thumbprint = keys::thumbprint_sha256(key);
  const auto declared = keys::thumbprint_sha256(jwk);
  TEGATA_PROPERTY(thumbprint && declared && *thumbprint == *declared,
                  "the key's thumbprint is not the thumbprint of the JWK it came from");
  if (!key.can_sign()) return;
  const auto exported = keys::private_jwk(key);
  TEGATA_PROPERTY(exported.has_value(), "a private key cannot be exported");
  const auto reloaded = keys::import_jwk(
      *exported, {.algorithm = key.algorithm(), .operation = keys::KeyOperation::sign});
  TEGATA_PROPERTY(reloaded && reloaded->can_sign() &&
                      EVP_PKEY_eq(reloaded->native_handle(), key.native_handle()) == 1,
                  "an exported private JWK re-imports as another key");
  const auto signature = key.sign_raw(message);
  TEGATA_PROPERTY(signature.has_value(), "a key that can sign failed to sign");
  TEGATA_PROPERTY(back->verify_raw(message, *signature),
                  "the public JWK does not verify what the private key signed");
  TEGATA_PROPERTY(!back->verify_raw("tegata fuzz: another message", *signature),
                  "a signature verifies for another message");
}

inline void check_one_jwk(std::string_view text, const tegata::keys::JwkOptions& options) {
  const auto key = tegata::keys::parse_jwk(text, options);
  const auto again = tegata::keys::parse_jwk(text, options);
  TEGATA_PROPERTY(key.has_value() == again.has_value() && key.error() == again.error(),
                  "parse_jwk gave two answers for one text");
  if (!key) {
    TEGATA_PROPERTY(is_jwk_error(key.error()), "parse_jwk gave an undocumented error");
    return;
  }
  const auto json = tegata::detail::parse_json_object(text, 16);
  TEGATA_PROPERTY(json.has_value(), "a JWK was imported from text that is not a strict object");
  check_imported_key(*json, *key, options);
}

inline void check_jwk_set(std::string_view text, const tegata::keys::JwkOptions& options) {
  const auto set = tegata::keys::parse_jwks(text, options);
  const auto again = tegata::keys::parse_jwks(text, options);
  TEGATA_PROPERTY(set.has_value() == again.has_value() && set.error() == again.error(),
                  "parse_jwks gave two answers for one text");
  const auto json = tegata::detail::parse_json_object(text, 16);
  const bool verify = options.operation == tegata::keys::KeyOperation::verify;
  if (!set) {
    TEGATA_PROPERTY(is_jwk_error(set.error()), "parse_jwks gave an undocumented error");
    // A ring imports every key the way import_jwks does (for verification), so it refuses too.
    if (json && verify) {
      TEGATA_PROPERTY(!tegata::KeyRing::from_jwks(*json, options),
                      "a KeyRing accepted a JWK Set that import_jwks refuses");
    }
    return;
  }
  TEGATA_PROPERTY(json.has_value(), "a JWK Set was imported from text that is not strict JSON");
  const nlohmann::json& entries = json->at("keys");
  TEGATA_PROPERTY(entries.is_array() && entries.size() == set->size(),
                  "import_jwks returned another number of keys than the set has");
  std::set<std::string_view> kids;
  bool all_have_kids = true;
  for (std::size_t i = 0; i < set->size(); ++i) {
    const tegata::AnyKey& key = (*set)[i];
    check_imported_key(entries[i], key, options);
    all_have_kids = all_have_kids && !key.kid().empty();
    TEGATA_PROPERTY(key.kid().empty() || kids.insert(key.kid()).second,
                    "a JWK Set with a duplicate kid was accepted");
  }
  if (!verify) return;
  const bool mixed = std::any_of(set->begin(), set->end(), [&](const tegata::AnyKey& key) {
    return key.is_symmetric() != set->front().is_symmetric();
  });
  const auto ring = tegata::KeyRing::from_jwks(*json, options);
  TEGATA_PROPERTY(ring.has_value() == (!set->empty() && all_have_kids && !mixed),
                  "KeyRing::from_jwks and import_jwks disagree on a set");
  if (ring) TEGATA_PROPERTY(ring->size() == set->size(), "the ring lost or gained keys");
}

}  // namespace detail

inline void check_jwk(std::string_view data) {
  ByteReader in(data);
  const std::uint8_t flags = in.byte();
  const auto options = detail::jwk_options(flags);
  if ((flags & 0x40) != 0) {
    detail::check_jwk_set(in.rest(), options);
  } else {
    detail::check_one_jwk(in.rest(), options);
  }
}

// =================================================================================================
// pem: keys::parse_pem and keys::parse_der.
//
// Input: a flags byte (bit 0: DER, else PEM), then the key file bytes.
// =================================================================================================

namespace detail {

inline tegata::KeyHandle share(EVP_PKEY* key) {
  TEGATA_PROPERTY(EVP_PKEY_up_ref(key) == 1, "EVP_PKEY_up_ref failed");
  return tegata::KeyHandle(key);
}

// make() builds a key class around the parsed key. It may refuse the key, but only with
// std::invalid_argument (misconfiguration); if it accepts, what it signs its public key verifies.
template <class Make>
void check_key_class(std::string_view name, Make make, EVP_PKEY* public_key) {
  std::optional<tegata::AnyKey> key;
  try {
    key.emplace(make(nullptr));
  } catch (const std::invalid_argument&) {
    return;
  }
  if (!key->can_sign()) return;
  const tegata::AnyKey verifier = make(public_key);
  static constexpr std::string_view message = "tegata fuzz: sign me";
  const auto signature = key->sign_raw(message);
  TEGATA_PROPERTY(signature.has_value(), std::string(name) + " accepted a key that cannot sign");
  TEGATA_PROPERTY(key->verify_raw(message, *signature) && verifier.verify_raw(message, *signature),
                  std::string(name) +
                      " accepted a private key that signs what its public key "
                      "does not verify");
}

inline void check_parsed_key(EVP_PKEY* key) {
  namespace keys = tegata::keys;
  const auto public_pem = keys::to_pem_public(key);
  TEGATA_PROPERTY(public_pem.has_value(), "a parsed key has no public PEM");
  const auto public_key = keys::parse_pem(*public_pem);
  TEGATA_PROPERTY(public_key && EVP_PKEY_eq(public_key->get(), key) == 1,
                  "the public PEM of a key parses as another key");
  TEGATA_PROPERTY(!tegata::detail::has_private_key(public_key->get()),
                  "a public PEM carries a private key");
  if (tegata::detail::has_private_key(key)) {
    const auto private_pem = keys::to_pem_private(key);
    TEGATA_PROPERTY(private_pem.has_value(), "a private key has no private PEM");
    const auto reloaded = keys::parse_pem(*private_pem);
    TEGATA_PROPERTY(reloaded && EVP_PKEY_eq(reloaded->get(), key) == 1 &&
                        tegata::detail::has_private_key(reloaded->get()),
                    "the private PEM of a key parses as another key");
  }

  // Each key class takes the key or refuses it; a key pair it takes must be consistent.
  EVP_PKEY* const verify_with = public_key->get();
  const auto pick = [&](EVP_PKEY* p) { return share(p != nullptr ? p : key); };
  if (EVP_PKEY_is_a(key, "RSA")) {
    for (const auto alg : {tegata::Algorithm::RS256, tegata::Algorithm::PS256}) {
      check_key_class(
          "RsaKey", [&](EVP_PKEY* p) { return tegata::AnyKey(tegata::RsaKey(alg, pick(p))); },
          verify_with);
    }
  } else if (EVP_PKEY_is_a(key, "EC")) {
    for (const auto alg : {tegata::Algorithm::ES256, tegata::Algorithm::ES384,
                           tegata::Algorithm::ES512, tegata::Algorithm::ES256K}) {
      check_key_class(
          "EcdsaKey", [&](EVP_PKEY* p) { return tegata::AnyKey(tegata::EcdsaKey(alg, pick(p))); },
          verify_with);
    }
  } else if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    check_key_class(
        "EddsaKey", [&](EVP_PKEY* p) { return tegata::AnyKey(tegata::EddsaKey(pick(p))); },
        verify_with);
  }
}

}  // namespace detail

inline void check_pem(std::string_view data) {
  ByteReader in(data);
  const bool der = (in.byte() & 1) != 0;
  const std::string_view bytes = in.rest();
  const auto parse = [&] {
    return der ? tegata::keys::parse_der(bytes) : tegata::keys::parse_pem(bytes);
  };
  const auto key = parse();
  const auto again = parse();
  TEGATA_PROPERTY(key.has_value() == again.has_value() && key.error() == again.error(),
                  "key parsing gave two answers for one input");
  if (!key) {
    TEGATA_PROPERTY(
        detail::one_of(key.error(), {tegata::errc::too_large, tegata::errc::bad_encoding,
                                     tegata::errc::not_supported}),
        "key parsing gave an undocumented error");
    return;
  }
  TEGATA_PROPERTY(*key != nullptr && EVP_PKEY_eq(key->get(), again->get()) == 1,
                  "key parsing gave two keys for one input");
  detail::check_parsed_key(key->get());
}

// =================================================================================================
// http: bearer_token, cookie_value and the CookieWriter.
//
// Input: a mode byte, then
//   mode % 3 == 0: an Authorization header value;
//   mode % 3 == 1: a length byte, that many bytes of cookie name, then a Cookie header value;
//   mode % 3 == 2: a token to write into Set-Cookie values and read back.
// =================================================================================================

namespace detail {

inline void check_bearer(std::string_view header) {
  const auto token = tegata::http::bearer_token(header);
  // The reference reading of RFC 6750 §2.1 / RFC 9110 §11.4.
  const std::size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  std::error_code expected;
  if (header.empty()) {
    expected = errc::not_found;
  } else if (!ref_iequals(scheme, "bearer")) {
    expected = ref_is_token(scheme) ? errc::not_found : errc::invalid_argument;
  } else if (space == std::string_view::npos || !ref_is_token68(header.substr(space + 1))) {
    expected = errc::invalid_argument;
  }
  TEGATA_PROPERTY(token.error() == expected, "bearer_token disagrees with the reference");
  if (!token) return;
  TEGATA_PROPERTY(token->data() == header.data() + 7 && token->size() + 7 == header.size(),
                  "the bearer token is not the header's credentials as received");
}

inline void check_cookie(std::string_view header, std::string_view name) {
  const auto value = tegata::http::cookie_value(header, name);
  // The reference: split every pair first, then decide.
  std::vector<std::string_view> matches;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(header.find(';', start), header.size());
    const std::string_view pair = header.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && ref_trim(pair.substr(0, eq)) == name) {
      matches.push_back(ref_trim(pair.substr(eq + 1)));
    }
    if (end == header.size()) break;
    start = end + 1;
  }
  std::error_code expected;
  if (!ref_is_token(name) || matches.size() > 1) {
    expected = errc::invalid_argument;
  } else if (matches.empty() || matches.front().empty()) {
    expected = errc::not_found;
  } else if (!std::all_of(matches.front().begin(), matches.front().end(), ref_is_cookie_octet)) {
    expected = errc::invalid_argument;
  }
  TEGATA_PROPERTY(value.error() == expected, "cookie_value disagrees with the reference");
  if (!value) return;
  TEGATA_PROPERTY(is_within(*value, header), "cookie_value returned a view outside the header");
  TEGATA_PROPERTY(
      value->data() == matches.front().data() && value->size() == matches.front().size(),
      "cookie_value returned another part of the header than the reference");
}

inline void check_cookie_writer(std::string_view token) {
  using namespace std::chrono_literals;
  static const tegata::http::CookieWriter writer{};
  static const tegata::http::CookieWriter scoped{
      {.refresh_path = "/auth/refresh", .host_prefix = false}};
  const bool octets =
      !token.empty() && std::all_of(token.begin(), token.end(), ref_is_cookie_octet);
  const auto check = [&](const tegata::Result<std::string>& cookie, const std::string& name,
                         std::string_view attributes) {
    if (!octets) {
      TEGATA_PROPERTY(cookie.error() == errc::invalid_argument, "a bad cookie value was written");
      return false;
    }
    if (name.size() + token.size() > tegata::http::kMaxCookieNameValueBytes) {
      TEGATA_PROPERTY(cookie.error() == errc::too_large, "an oversized cookie was written");
      return false;
    }
    TEGATA_PROPERTY(cookie.has_value(), "a valid token could not be written");
    TEGATA_PROPERTY(*cookie == name + "=" + std::string(token) + std::string(attributes),
                    "the Set-Cookie value is not the expected one");
    return true;
  };
  const auto access = writer.access(token, kNow + 900s, kNow);
  if (check(access, writer.access_cookie_name(),
            "; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict")) {
    // What the browser sends back (the cookie among others) reads as the same token.
    const std::string header =
        "theme=dark; " + writer.access_cookie_name() + "=" + std::string(token) + "; lang=en";
    const auto back = writer.read_access(header);
    TEGATA_PROPERTY(back && *back == token && is_within(*back, header),
                    "a written access cookie does not read back");
  }
  const auto refresh = scoped.refresh(token, kNow + 86'400s, kNow);
  if (check(refresh, scoped.refresh_cookie_name(),
            "; Path=/auth/refresh; Max-Age=86400; HttpOnly; Secure; SameSite=Strict")) {
    const std::string header = scoped.refresh_cookie_name() + "=" + std::string(token);
    const auto back = scoped.read_refresh(header);
    TEGATA_PROPERTY(back && *back == token, "a written refresh cookie does not read back");
  }
}

}  // namespace detail

inline void check_http(std::string_view data) {
  ByteReader in(data);
  switch (in.byte() % 3) {
    case 0: detail::check_bearer(in.rest()); break;
    case 1: {
      const std::string_view name = in.take(in.byte());
      detail::check_cookie(in.rest(), name);
      break;
    }
    default: detail::check_cookie_writer(in.rest()); break;
  }
}

// =================================================================================================
// session: a SessionManager<HmacKey, ManualClock, MemoryRevocationStore> driven by a program.
//
// Input: a config byte (bit 0: leeway 30 s; bit 1: reuse_grace 10 s; bit 2: a store bound of
// 8 entries instead of 4096), then operations: an operation byte (modulo 14), then its operands.
//    0  issue(subject s)
//    1  validate(access token a)
//    2  refresh(refresh token a)
//    3  revoke(token a; a byte chooses access or refresh)
//    4  revoke_all(subject s)
//    5  advance the clock by b seconds
//    6  advance the clock by 30 * b seconds
//    7  validate(access token a, mutated)
//    8  refresh(refresh token a, mutated)
//    9  validate(raw bytes)
//   10  refresh(raw bytes)
//   11  the other kind: validate(refresh token a), refresh(access token a)
//   12  splice header, payload and signature of tokens a, b, c (a byte chooses the kind)
//   13  store().prune(now)
// A token a is picked by a byte among the pairs issued so far, a subject s by a byte, a mutation
// is a position (16 bits) and a byte, raw bytes are a length byte and that many bytes.
// Lifetimes: access 60 s, refresh 600 s, absolute 3600 s. At the end the clock moves past them all.
// =================================================================================================

namespace detail {

class session_program {
 public:
  using Manager =
      tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::MemoryRevocationStore>;

  explicit session_program(std::uint8_t config)
      : leeway_((config & 1) != 0 ? 30 : 0),
        grace_((config & 2) != 0 ? 10 : 0),
        clock_(kNow),
        store_(tegata::MemoryRevocationStore::Options{.max_entries = (config & 4) != 0 ? 8U : 4096U,
                                                      .shards = 4}),
        manager_(hs256_key(), options(leeway_, grace_), clock_, store_) {}

  void run(ByteReader& in) {
    for (int step = 0; step < kMaxSteps && !in.empty(); ++step) {
      switch (in.byte() % 14) {
        case 0: issue(in.byte()); break;
        case 1:
          if (auto* p = pick(in)) validate(p->access);
          break;
        case 2:
          if (auto* p = pick(in)) refresh(p->refresh);
          break;
        case 3:
          if (auto* p = pick(in)) revoke((in.byte() & 1) != 0 ? p->refresh : p->access);
          break;
        case 4: revoke_all(in.byte()); break;
        case 5: clock_.advance(std::chrono::seconds{in.byte()}); break;
        case 6: clock_.advance(std::chrono::seconds{30 * in.byte()}); break;
        case 7:
          if (auto* p = pick(in)) validate(mutate(p->access, in));
          break;
        case 8:
          if (auto* p = pick(in)) refresh(mutate(p->refresh, in));
          break;
        case 9: validate(std::string(in.take(in.byte()))); break;
        case 10: refresh(std::string(in.take(in.byte()))); break;
        case 11:
          if (auto* p = pick(in)) other_kind(*p);
          break;
        case 12: splice(in); break;
        default: store_.prune(clock_.now()); break;
      }
    }
    finish();
  }

 private:
  static constexpr int kMaxSteps = 256;
  static constexpr std::string_view kSubjects[] = {"alice", "bob", "carol"};

  struct Pair {
    std::string access, refresh, sid, subject;
    std::size_t serial = 0;  // issue order: revoke_all voids every pair issued before it
  };

  static tegata::SessionOptions options(int leeway, int grace) {
    using namespace std::chrono_literals;
    return {.issuer = std::string(kIssuer),
            .audience = std::string(kAudience),
            .access_ttl = 60s,
            .refresh_ttl = 600s,
            .absolute_ttl = 3600s,
            .leeway = std::chrono::seconds{leeway},
            .reuse_grace = std::chrono::seconds{grace}};
  }

  static bool store_trouble(std::error_code ec) {
    return one_of(ec, {errc::store_full, errc::store_unavailable});
  }

  // What validate and refresh may answer for a presented token: why the token is bad, why its
  // session is over, or that the store could not answer - never that an argument was invalid.
  static bool is_session_error(std::error_code ec) {
    return is_verify_error(ec) || store_trouble(ec) ||
           one_of(ec, {errc::revoked, errc::session_revoked, errc::version_mismatch,
                       errc::refresh_reused, errc::session_expired});
  }

  const Pair* pick(ByteReader& in) const {
    if (pairs_.empty()) return nullptr;
    return &pairs_[in.byte() % pairs_.size()];
  }

  const Pair* find(const std::string& token, bool refresh) const {
    const auto& index = refresh ? refresh_index_ : access_index_;
    const auto it = index.find(token);
    return it == index.end() ? nullptr : &pairs_[it->second];
  }

  // Dead for good: its family was revoked, or its subject logged out everywhere after it.
  bool dead(const Pair& p) const {
    const auto cut = subject_cut_.find(p.subject);
    return dead_families_.count(p.sid) != 0 ||
           (cut != subject_cut_.end() && p.serial < cut->second);
  }

  // same_chain: a pair handed out within the grace window, whose refresh token is the session's
  // current one; signed in the same second as that one, it is the same string.
  void record(tegata::TokenPair&& tokens, std::string subject, bool same_chain = false) {
    TEGATA_PROPERTY(
        !tokens.access_token.empty() && !tokens.refresh_token.empty() && !tokens.session_id.empty(),
        "a token pair has an empty member");
    TEGATA_PROPERTY(find(tokens.access_token, false) == nullptr &&
                        (same_chain || find(tokens.refresh_token, true) == nullptr),
                    "a token was issued twice");
    const std::size_t index = pairs_.size();
    access_index_.emplace(tokens.access_token, index);
    refresh_index_.emplace(tokens.refresh_token, index);
    pairs_.push_back(Pair{std::move(tokens.access_token), std::move(tokens.refresh_token),
                          std::move(tokens.session_id), std::move(subject), next_serial_++});
  }

  void issue(std::uint8_t s) {
    const std::string subject(kSubjects[s % std::size(kSubjects)]);
    const std::size_t before = store_.size();
    auto tokens = manager_.issue(subject);
    // Its record, and its subject's index if it is the subject's only live session.
    TEGATA_PROPERTY(store_.size() <= before + 2, "a login stored more than two entries");
    if (!tokens) {
      TEGATA_PROPERTY(store_trouble(tokens.error()), "a login failed");
      TEGATA_PROPERTY(store_.size() <= before, "a failed login grew the store");
      return;
    }
    record(std::move(*tokens), subject);
  }

  void validate(std::string token) {
    const std::size_t before = store_.size();
    const auto claims = manager_.validate(token);
    TEGATA_PROPERTY(store_.size() == before, "validate changed the store");
    if (!claims) {
      TEGATA_PROPERTY(is_session_error(claims.error()) && claims.error() != errc::refresh_reused &&
                          claims.error() != errc::session_expired,
                      "validate gave an undocumented error");
      if (find(token, true) != nullptr) {
        TEGATA_PROPERTY(claims.error() == errc::wrong_type,
                        "a refresh token was refused as an access token for another reason");
      }
      if (!store_trouble(claims.error())) rejected_access_.insert(token);
      return;
    }
    const Pair* p = find(token, false);
    TEGATA_PROPERTY(p != nullptr, "validate accepted a token that was never issued");
    TEGATA_PROPERTY(!dead(*p), "validate accepted a token of a revoked session or subject");
    TEGATA_PROPERTY(rejected_access_.count(token) == 0,
                    "validate accepted a token it had rejected");
    TEGATA_PROPERTY(claims->session_id == p->sid && claims->subject == p->subject,
                    "validate returned another session's claims");
    TEGATA_PROPERTY(clock_.now() < claims->expires_at + std::chrono::seconds{leeway_},
                    "validate accepted an expired token");
  }

  void refresh(std::string token) {
    const std::size_t before = store_.size();
    auto tokens = manager_.refresh(token);
    const std::size_t after = store_.size();
    const Pair* p = find(token, true);
    if (!tokens) {
      TEGATA_PROPERTY(is_session_error(tokens.error()), "refresh gave an undocumented error");
      TEGATA_PROPERTY(after <= before, "a failed refresh grew the store");
      if (find(token, false) != nullptr) {
        TEGATA_PROPERTY(tokens.error() == errc::wrong_type,
                        "an access token was refused as a refresh token for another reason");
      }
      if (tokens.error() == errc::refresh_reused) {
        TEGATA_PROPERTY(p != nullptr && first_use_.count(jti_of(token)) != 0,
                        "refresh_reused for a token that was never used");
        dead_families_.insert(p->sid);
      }
      if (!store_trouble(tokens.error())) rejected_refresh_.insert(token);
      return;
    }
    TEGATA_PROPERTY(after <= before, "a refresh grew the store");  // it updates the record
    TEGATA_PROPERTY(p != nullptr, "refresh accepted a token that was never issued");
    TEGATA_PROPERTY(!dead(*p), "refresh accepted a token of a revoked session or subject");
    TEGATA_PROPERTY(rejected_refresh_.count(token) == 0,
                    "refresh accepted a token it had rejected");
    TEGATA_PROPERTY(tokens->session_id == p->sid, "a refresh left its session family");
    // Uses are counted by refresh token id: a pair within the grace window carries the session's
    // current id in a token of its own.
    const auto now = clock_.now();
    const std::string jti = jti_of(token);
    const auto used = first_use_.find(jti);
    if (used == first_use_.end()) {
      first_use_.emplace(jti, now);
      latest_[p->sid] = jti;
    } else {
      TEGATA_PROPERTY(grace_ > 0 && now - used->second <= std::chrono::seconds{grace_} &&
                          latest_[p->sid] == jti,
                      "a used refresh token was accepted again");
    }
    const bool same_chain = used != first_use_.end();
    TEGATA_PROPERTY(!same_chain || jti_of(tokens->refresh_token) != jti,
                    "a pair within the grace window forked or repeated the chain");
    const std::string subject = p->subject;  // p dangles once pairs_ grows
    record(std::move(*tokens), subject, same_chain);
  }

  void revoke(std::string token) {
    const std::size_t before = store_.size();
    const auto done = manager_.revoke(token);
    if (!done) {
      TEGATA_PROPERTY(store_.size() <= before, "a failed revoke grew the store");
      return;
    }
    TEGATA_PROPERTY(store_.size() <= before + 1, "a revoke stored more than one entry");
    const Pair* p = find(token, false);
    if (p == nullptr) p = find(token, true);
    TEGATA_PROPERTY(p != nullptr, "revoke accepted a token that was never issued");
    dead_families_.insert(p->sid);
  }

  void revoke_all(std::uint8_t s) {
    const std::string subject(kSubjects[s % std::size(kSubjects)]);
    const std::size_t before = store_.size();
    const auto done = manager_.revoke_all(subject);
    TEGATA_PROPERTY(store_.size() <= before + (done ? 1 : 0), "revoke_all stored too much");
    if (done) subject_cut_[subject] = next_serial_;
  }

  // The jti of a token the manager issued (its payload is the manager's JSON).
  static std::string jti_of(const std::string& token) {
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    const auto payload = tegata::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    return nlohmann::json::parse(*payload).at("jti").get<std::string>();
  }

  static std::string mutate(const std::string& token, ByteReader& in) {
    std::string changed = token;
    const std::size_t at = in.u16() % changed.size();
    const char value = static_cast<char>(in.byte());
    changed[at] = value != changed[at] ? value : static_cast<char>(value ^ 1);
    return changed;
  }

  void other_kind(const Pair& p) {
    const std::string access = p.access;  // p dangles once refresh() grows pairs_
    validate(p.refresh);
    refresh(access);
  }

  // Header, payload and signature of three (possibly different) issued tokens.
  void splice(ByteReader& in) {
    const Pair* a = pick(in);
    const Pair* b = pick(in);
    const Pair* c = pick(in);
    if (a == nullptr) return;
    const auto segment = [](const std::string& token, int n) {
      const std::size_t dot1 = token.find('.');
      const std::size_t dot2 = token.rfind('.');
      if (n == 0) return token.substr(0, dot1);
      if (n == 1) return token.substr(dot1 + 1, dot2 - dot1 - 1);
      return token.substr(dot2 + 1);
    };
    const bool kind = (in.byte() & 1) != 0;
    const auto& ta = kind ? a->refresh : a->access;
    const auto& tb = kind ? b->refresh : b->access;
    const auto& tc = kind ? c->refresh : c->access;
    const std::string token = segment(ta, 0) + "." + segment(tb, 1) + "." + segment(tc, 2);
    if (kind) {
      refresh(token);
    } else {
      validate(token);
    }
  }

  // Past every lifetime nothing is accepted, and nothing is remembered.
  void finish() {
    using namespace std::chrono_literals;
    clock_.advance(3600s + 600s + std::chrono::seconds{leeway_} + 86'400s);
    const std::vector<Pair> all = pairs_;
    for (const Pair& p : all) {
      TEGATA_PROPERTY(!manager_.validate(p.access), "an access token outlived its session");
      TEGATA_PROPERTY(!manager_.refresh(p.refresh), "a refresh token outlived its session");
    }
    store_.prune(clock_.now());
    TEGATA_PROPERTY(store_.size() == 0, "the store kept entries after everything expired");
  }

  int leeway_;
  int grace_;
  tegata::ManualClock clock_;
  tegata::MemoryRevocationStore store_;
  Manager manager_;

  std::vector<Pair> pairs_;
  std::map<std::string, std::size_t, std::less<>> access_index_, refresh_index_;
  std::size_t next_serial_ = 0;
  std::set<std::string, std::less<>> dead_families_;
  std::map<std::string, std::size_t, std::less<>> subject_cut_;
  std::set<std::string, std::less<>> rejected_access_, rejected_refresh_;
  std::map<std::string, std::chrono::sys_seconds, std::less<>> first_use_;
  std::map<std::string, std::string, std::less<>> latest_;  // sid -> latest first-used refresh jti
};

}  // namespace detail

inline void check_session(std::string_view data) {
  ByteReader in(data);
  detail::session_program program(in.byte());
  program.run(in);
}

// =================================================================================================
// dpop: ProofVerifier, the URI normal form, and sessions bound to a key. Input: a mode byte, then
//   mode % 3 == 0: the proof, checked for POST kDpopUri at kNow (as is, and with nonces required)
//   mode % 3 == 1: a URI, normalized
//   mode % 3 == 2: a proof presented with a fixed access token bound to es256_key(), to
//                  SessionManager::validate for GET kDpopApiUri: its verdict must be what the
//                  verifier and the binding say, and an accepted proof is never accepted twice
// =================================================================================================

inline constexpr std::string_view kDpopUri = "https://api.tegata.test/token";
inline constexpr std::string_view kDpopApiUri = "https://api.tegata.test/me";

// An access token of a session bound to es256_key(), as a SessionManager over hs256_key() with
// kIssuer and kAudience would issue it; fixed, so that seeds can carry its ath.
inline const std::string& bound_access_token() {
  static const std::string token = [] {
    const nlohmann::json claims{
        {"aud", kAudience},
        {"auth_time", (kNow - 60s).time_since_epoch().count()},
        {"cnf", {{"jkt", tegata::keys::thumbprint_sha256(tegata::AnyKey(es256_key())).value()}}},
        {"exp", (kNow + 900s).time_since_epoch().count()},
        {"iat", (kNow - 60s).time_since_epoch().count()},
        {"iss", kIssuer},
        {"jti", "fuzz-access-token"},
        {"sid", "fuzz-session"},
        {"sub", "fuzz-user"},
        {"ver", 0}};
    return hs256_key().sign(tegata::kAccessTokenType, claims.dump()).value();
  }();
  return token;
}
inline const std::string& dpop_nonce_secret() {
  static const std::string secret(32, 'n');
  return secret;
}

namespace detail {

inline void check_dpop_proof(std::string_view proof) {
  using namespace std::chrono_literals;
  static const tegata::dpop::ProofVerifier verifier;
  static const tegata::dpop::ProofVerifier with_nonces([] {
    tegata::dpop::ProofOptions options;
    options.nonces.emplace(dpop_nonce_secret());
    return options;
  }());
  const tegata::dpop::ProofRequest request{"POST", kDpopUri};
  const auto proof_result = verifier.verify(proof, request, kNow);
  const auto nonce_result = with_nonces.verify(proof, request, kNow);
  // Nonces add a check, never remove one.
  TEGATA_PROPERTY(proof_result || !nonce_result, "a proof refused without nonces passes with them");
  if (!proof_result) {
    TEGATA_PROPERTY(proof_result.error() == tegata::errc::dpop_invalid,
                    "a refused proof is not dpop_invalid");
    return;
  }
  TEGATA_PROPERTY(nonce_result || nonce_result.error() == tegata::errc::use_dpop_nonce,
                  "nonces refuse a valid proof for another reason than its nonce");
  const tegata::dpop::Proof& accepted = *proof_result;
  // The jkt is the thumbprint of the jwk in the header, read here by a second parser.
  const std::size_t dot = proof.find('.');
  const std::size_t dot2 = proof.find('.', dot + 1);
  const auto header = nlohmann::json::parse(tegata::base64url_decode(proof.substr(0, dot)).value());
  const auto payload = nlohmann::json::parse(
      tegata::base64url_decode(proof.substr(dot + 1, dot2 - dot - 1)).value());
  TEGATA_PROPERTY(tegata::keys::thumbprint_sha256(header.at("jwk")).value() == accepted.jkt,
                  "the jkt is not the thumbprint of the proof's jwk");
  TEGATA_PROPERTY(!accepted.jti.empty() && accepted.jti.size() <= tegata::dpop::kMaxProofIdBytes,
                  "an accepted jti is empty or too long");
  // Only for its own request and time.
  TEGATA_PROPERTY(!verifier.verify(proof, {"GET", kDpopUri}, kNow),
                  "a proof is accepted for another method");
  TEGATA_PROPERTY(!verifier.verify(proof, {"POST", "https://api.tegata.test/other"}, kNow),
                  "a proof is accepted for another URI");
  TEGATA_PROPERTY(!verifier.verify(proof, {"POST", kDpopUri, "an.access.token"}, kNow) ||
                      payload.contains("ath"),
                  "a proof without ath is accepted with an access token");
  const auto window = verifier.options().iat_window;
  TEGATA_PROPERTY(!verifier.verify(proof, request, accepted.issued_at + window + 1s) &&
                      !verifier.verify(proof, request, accepted.issued_at - window - 1s),
                  "a proof is accepted outside its iat window");
  // Any one character changed: refused (strict base64url has one spelling per byte string).
  for (std::size_t i = 0; i < proof.size(); ++i) {
    std::string changed(proof);
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    TEGATA_PROPERTY(changed == proof || !verifier.verify(changed, request, kNow),
                    "a proof with one character changed is accepted");
  }
}

inline void check_uri(std::string_view uri) {
  const auto normal = tegata::detail::normalize_http_uri(uri);
  if (!normal) return;
  TEGATA_PROPERTY(tegata::detail::normalize_http_uri(*normal) == normal,
                  "a normalized URI is not its own normal form");
  TEGATA_PROPERTY(normal->starts_with("http://") || normal->starts_with("https://"),
                  "a normalized URI is not http(s)");
  TEGATA_PROPERTY(normal->find_first_of("?#") == std::string::npos,
                  "a normalized URI keeps its query or fragment");
  const std::string_view path = std::string_view(*normal).substr(normal->find('/', 8));
  TEGATA_PROPERTY(path.find("/./") == std::string_view::npos &&
                      path.find("/../") == std::string_view::npos && !path.ends_with("/.") &&
                      !path.ends_with("/.."),
                  "a normalized URI keeps a dot segment");
}

inline void check_bound_proof(std::string_view proof) {
  static const tegata::dpop::ProofVerifier verifier;
  static const std::string jkt =
      tegata::keys::thumbprint_sha256(tegata::AnyKey(es256_key())).value();
  const std::string& token = bound_access_token();
  // A manager of its own per input: the replay cache starts empty, so that a replayed input
  // finds the same verdict.
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock> manager(
      hs256_key(), {.issuer = std::string(kIssuer), .audience = std::string(kAudience)},
      tegata::ManualClock{kNow});
  const auto result = manager.validate(token, proof, "GET", kDpopApiUri);
  const auto verified = verifier.verify(proof, {"GET", kDpopApiUri, token}, kNow);
  if (proof.empty()) {
    TEGATA_PROPERTY(result.error() == tegata::errc::dpop_required,
                    "a bound token without a proof is not dpop_required");
  } else if (!verified) {
    TEGATA_PROPERTY(!result && result.error() == verified.error(),
                    "a bound token passes with a proof the verifier refuses, or another error");
  } else if (verified->jkt != jkt) {
    TEGATA_PROPERTY(result.error() == tegata::errc::dpop_mismatch,
                    "a proof by another key than the bound one is not dpop_mismatch");
  } else {
    TEGATA_PROPERTY(result && result->jkt == jkt, "a valid proof by the bound key is refused");
    TEGATA_PROPERTY(manager.validate(token, proof, "GET", kDpopApiUri).error() ==
                        tegata::errc::dpop_replayed,
                    "an accepted proof is accepted again");
  }
  // Never with the one-argument call, whatever the proof.
  TEGATA_PROPERTY(manager.validate(token).error() == tegata::errc::dpop_required,
                  "a bound token passes without a proof");
}

}  // namespace detail

inline void check_dpop(std::string_view data) {
  ByteReader in(data);
  switch (in.byte() % 3) {
    case 0: detail::check_dpop_proof(in.rest()); break;
    case 1: detail::check_uri(in.rest()); break;
    default: detail::check_bound_proof(in.rest()); break;
  }
}

// =================================================================================================
// The registry: a fuzz target and a regressions folder per entry, by name.
// =================================================================================================

struct Target {
  std::string_view name;
  void (*check)(std::string_view);
};

inline constexpr Target kTargets[] = {{"jws", check_jws},   {"jwk", check_jwk},
                                      {"pem", check_pem},   {"http", check_http},
                                      {"dpop", check_dpop}, {"session", check_session}};

// Fuzz targets in tests/fuzz/ that carry their own checks (<name>.cpp) rather than a check here.
// Their regressions/<name>/ inputs are replayed by their own unit tests, not by
// fuzz_regressions_test.cpp.
inline constexpr std::string_view kStandaloneTargets[] = {"claims_differential"};

// Runs one check. Returns why a property failed, or nothing when all held. An exception other
// than a property violation is a failure too: untrusted input must never make tegata throw.
inline std::optional<std::string> run_check(void (*check)(std::string_view),
                                            std::string_view data) {
  try {
    check(data);
    return std::nullopt;
  } catch (const property_violation& violation) {
    return std::string(violation.what());
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  } catch (...) {
    return std::string("unexpected exception of unknown type");
  }
}

}  // namespace tegata_fuzz
