// tegata/session/tokens.hpp - what login and refresh hand out, and what validation hands back.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace tegata {

// The result of a login or a refresh. Send both tokens in HttpOnly cookies (tegata/http.hpp);
// never to JavaScript.
struct TokenPair {
  std::string access_token;   // typ at+jwt, short-lived
  std::string refresh_token;  // typ rt+jwt, single use: each refresh returns a new one
  std::string session_id;     // sid, the session family both belong to
  std::chrono::sys_seconds access_expires_at{};
  std::chrono::sys_seconds refresh_expires_at{};
  // false for a session that ends with the browser (IssueOptions::persistent): its cookies carry
  // no Max-Age (http::CookieWriter::write follows this). Every rotation of the session keeps it.
  bool persistent = true;
};

// How issue() starts a session, beyond the subject. Every member has a default, so a designated
// initializer may name only the ones it sets: IssueOptions{.dpop_jkt = proof->jkt}.
struct IssueOptions {
  nlohmann::json extra = nlohmann::json::object();  // custom access-token claims (as before)
  // Opaque to tegata (device name, user agent, ...): kept in the session's record only, never in
  // a token, and shown by sessions(). At most kMaxMetadataBytes (invalid_argument beyond).
  std::string metadata{};
  // "Remember me": a session may be shorter than the manager's limits (a longer value counts as
  // the manager's; zero or negative is invalid_argument) and non-persistent (its cookies carry
  // no Max-Age, so they end with the browser). Kept in the record: every rotation honours it.
  std::optional<std::chrono::seconds> refresh_ttl{}, absolute_ttl{};
  bool persistent = true;
  // DPoP (RFC 9449): binds the session to the client's key. Set it to the jkt of the login
  // request's proof as SessionManager::verify_proof returned it (never to a thumbprint the
  // client merely claims): both tokens then carry cnf.jkt, and every later validate, refresh
  // and revoke needs a proof signed by that key. Empty: an unbound session, as before. Anything
  // but a SHA-256 thumbprint (43 base64url characters) is invalid_argument.
  std::string dpop_jkt{};

  static constexpr std::size_t kMaxMetadataBytes = 1024;
};

// One live session of a subject, as sessions() lists it.
struct SessionInfo {
  std::string session_id;
  std::chrono::sys_seconds auth_time{};     // login
  std::chrono::sys_seconds last_refresh{};  // latest rotation, auth_time if none yet
  std::chrono::sys_seconds expires_at{};    // when it ends if left alone (idle or absolute end)
  bool persistent = true;                   // as chosen at login
  std::string metadata;                     // as given at login
  std::string jkt;                          // the DPoP key it is bound to; empty if none
};

// A validated access token.
struct AccessClaims {
  std::string subject;                    // sub
  std::string session_id;                 // sid
  std::string token_id;                   // jti
  std::uint64_t version{0};               // ver: the subject's version when the token was issued
  std::chrono::sys_seconds issued_at{};   // iat
  std::chrono::sys_seconds expires_at{};  // exp
  std::chrono::sys_seconds auth_time{};   // when the user logged in (the session family began)
  std::string jkt;                        // cnf.jkt: the DPoP key the session is bound to (the
                                          // request's proof was checked against it); else empty
  nlohmann::json extra = nlohmann::json::object();  // custom claims, as issued
};

}  // namespace tegata
