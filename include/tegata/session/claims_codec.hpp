// tegata/session/claims_codec.hpp - how a session lives in a token's claims: the members the
// SessionManager writes (sub, sid, jti, ver, auth_time beside the registered ones, and cnf for a
// session bound to a DPoP key), how it reads
// them back from a verified payload, and the fresh random ids it names sessions and tokens with.
// SessionManager composes these; it builds and parses no JSON itself.
#pragma once

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/detail/json_writer.hpp"
#include "tegata/detail/random_pool.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"
#include "tegata/jwt.hpp"
#include "tegata/validator.hpp"

namespace tegata::detail {

// Claim names the manager writes itself; extra claims may not use them.
constexpr bool is_reserved_claim(member_name name) noexcept {
  switch (name) {
    case member_name::typ:
    case member_name::sid:
    case member_name::ver:
    case member_name::auth_time:
    case member_name::cnf: return true;
    default: return is_registered_claim(name);
  }
}
constexpr bool is_reserved_claim(std::string_view name) noexcept {
  return is_reserved_claim(classify_member(name));
}

// The default of issue's and refresh's extra claims: one shared empty object rather than a new
// one (which allocates) per call.
const nlohmann::json& empty_json_object();

// Custom claims for an access token: an object without reserved names.
std::error_code check_extra_claims(const nlohmann::json& extra);

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

// ---------------------------------------------------------------------------------------------
// Reading: from a verified payload (see detail/json_document.hpp and jwt.hpp's open_token).
// ---------------------------------------------------------------------------------------------

// The session members of a verified token (both kinds carry them), as views into its payload.
struct session_claims_view {
  std::string_view subject;
  std::string_view session_id;
  std::string_view token_id;
  std::uint64_t version = 0;
  std::chrono::sys_seconds auth_time{};
  std::string_view jkt;  // cnf.jkt: the DPoP key the session is bound to; empty when unbound
};

// The length of a SHA-256 thumbprint in base64url (RFC 7638, RFC 9449 §6).
inline constexpr std::size_t kThumbprintChars = 43;

// Whether text can be a SHA-256 JWK thumbprint as DPoP writes it: 43 base64url characters.
inline bool is_thumbprint(std::string_view text) noexcept {
  if (text.size() != kThumbprintChars) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return kBase64UrlDecodeTable[static_cast<unsigned char>(c)] != 0xFF;
  });
}

// cnf, when present, is exactly {"jkt": a thumbprint} (RFC 9449 §6.1): the manager writes no
// other confirmation method, and a token claiming one it does not check must not pass as
// unbound. (Only the strict reader holds nested objects, so a bound token's payload is a DOM.)
std::error_code read_confirmation(const json_document& payload, std::string_view& jkt);

// Reads sub, sid, jti (non-empty strings), then requires iat and exp, then ver (an unsigned
// integer), auth_time (a NumericDate) and cnf if present; missing_claim or invalid_claim.
std::error_code read_session_claims(const json_document& payload,
                                    const registered_claims_view& registered,
                                    session_claims_view& out);

// The registered and session claims of a verified token, read in the order every manager call
// reads them: the registered claims (their types), issuer and audience, the times by check_times
// (each call knows which of them apply: revoke ignores exp, refresh checks them after the
// session's absolute end), then the session claims.
struct session_reading {
  registered_claims_view registered;
  session_claims_view session;
};

template <class CheckTimes>
std::error_code read_session_token(const json_document& payload, const Validator& validator,
                                   CheckTimes&& check_times, session_reading& out) {
  if (auto ec = validator_access::read_and_check(
          validator, payload, std::forward<CheckTimes>(check_times), out.registered)) {
    return ec;
  }
  return read_session_claims(payload, out.registered, out.session);
}

// What validate reads from an access token: all of the above, every time checked.
std::error_code read_access_claims(const json_document& payload, const Validator& validator,
                                   std::chrono::sys_seconds now, session_reading& out);

// The custom claims of a payload (every member whose name is not reserved), as issued.
void copy_extra_claims(const json_document& payload, nlohmann::json& extra);

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

// What both tokens of a pair say alike.
struct session_token_claims {
  std::string_view subject;
  std::string_view session_id;
  std::uint64_t version;
  std::chrono::sys_seconds auth_time;
  std::chrono::sys_seconds issued_at;
  std::string_view jkt{};  // the DPoP key's thumbprint for a bound session: cnf.jkt; else empty
};

// Writes the claims object of the manager's tokens: the bytes nlohmann::json::dump() gives for the
// same members (names in sorted order, the extra ones merged in), without building a DOM. The
// issuer and audience members are written once, at construction.
class session_claims_writer {
 public:
  // Throws std::invalid_argument when the issuer or the audience is not valid UTF-8: no token
  // could carry it.
  session_claims_writer(std::string_view issuer, std::string_view audience);

  // extra holds no reserved name (check_extra_claims). Throws nlohmann::json::type_error when the
  // subject, or a name or value among the extra claims, is not valid UTF-8.
  std::string write(const session_token_claims& c, std::string_view jti,
                    std::chrono::sys_seconds exp, const nlohmann::json& extra) const;

 private:
  // `"name":value` for a configured string, as nlohmann::json would write it.
  static std::string configured_member(std::string_view name, std::string_view option,
                                       std::string_view value);

  std::string iss_member_;
  std::string aud_member_;
};

// Whether a payload the manager wrote with custom claims stays within the limits validate applies
// to custom claims (their count and depth): a token it would refuse is never handed out.
std::error_code check_custom_claims_limits(std::string_view claims, const jws::Limits& limits);

}  // namespace tegata::detail

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/session/claims_codec_inl.hpp"
#endif
