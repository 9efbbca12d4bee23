// tegata/session/tokens.hpp - what login and refresh hand out, and what validation hands back.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
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
  nlohmann::json extra = nlohmann::json::object();  // custom claims, as issued
};

}  // namespace tegata
