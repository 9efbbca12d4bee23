// benchmarks/fixtures.cpp - builds the shared HS256 tokens once, with tegata itself.
#include "fixtures.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <tegata/tegata.hpp>

#include "tegata_fixtures.hpp"

namespace tegata_bench {

namespace {

std::map<std::string, Operation, std::less<>>& operations() {
  static std::map<std::string, Operation, std::less<>> all;
  return all;
}

}  // namespace

OperationRegistrar::OperationRegistrar(const char* name, Operation operation) {
  operations()[name] = operation;
}

Operation find_operation(std::string_view name) {
  const auto it = operations().find(name);
  return it == operations().end() ? nullptr : it->second;
}

std::string signing_input(const std::string& token) { return token.substr(0, token.rfind('.')); }

std::string signature_bytes(const std::string& token) {
  auto bytes = tegata::base64url_decode(std::string_view(token).substr(token.rfind('.') + 1));
  if (!bytes) throw std::runtime_error("fixture: bad signature segment");
  return *bytes;
}

namespace {

// Replaces one character of the signature segment with another base64url character whose low
// bits are not the canonical padding bits (a middle character), so the token stays well-formed.
std::string with_bad_signature(std::string token) {
  const std::size_t at = token.rfind('.') + 10;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  return token;
}

Hs256Tokens make_hs256_tokens() {
  Hs256Tokens t;
  t.secret = kHs256Secret;
  auto manager = make_hs256_manager(tegata::MemoryRevocationStore{});
  for (std::size_t i = 0; i < kTokenCount; ++i) {
    auto pair = manager.issue(kSubject);
    if (!pair) throw std::runtime_error("fixture: issue failed");
    t.session.push_back(pair->access_token);
  }

  const tegata::HmacKey key(tegata::Algorithm::HS256, kHs256Secret, kGenericKid);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto iat = now.time_since_epoch().count();
  for (std::size_t i = 0; i < kTokenCount; ++i) {
    const nlohmann::json claims = {
        {"iss", kIssuer},
        {"sub", kGenericSubject},
        {"aud", kAudience},
        {"iat", iat},
        {"nbf", iat},
        {"exp", iat + kTokenLifetime.count()},
        {"jti", tegata::base64url_encode(tegata::detail::random_bytes(16))},
        {"ver", 0},
        {"sid", tegata::base64url_encode(tegata::detail::random_bytes(16))}};
    auto token = tegata::sign_jwt(key, claims, "JWT");
    if (!token) throw std::runtime_error("fixture: sign_jwt failed");
    t.generic.push_back(*token);
  }

  const std::string& s = t.session.front();
  const std::size_t dot1 = s.find('.');
  t.session_malformed_segments = s.substr(0, s.rfind('.'));
  t.session_malformed_base64 = s;
  t.session_malformed_base64[5] = '+';
  t.session_malformed_json =
      tegata::base64url_encode("not a JSON header, just text") + s.substr(dot1);
  t.session_malformed_object =
      tegata::base64url_encode("{\"alg\":\"HS256\",\"kid\":") + s.substr(dot1);
  t.session_bad_signature = with_bad_signature(s);
  const std::string& g = t.generic.front();
  t.generic_malformed_segments = g.substr(0, g.rfind('.'));
  t.generic_bad_signature = with_bad_signature(g);
  return t;
}

}  // namespace

tegata::MemoryRevocationStore populated_store() {
  tegata::MemoryRevocationStore store;
  const auto now = tegata::SystemClock{}.now();
  const auto until = now + kTokenLifetime;
  const auto id = [] { return tegata::base64url_encode(tegata::detail::random_bytes(16)); };
  for (int i = 0; i < 20000; ++i) {
    (void)store.revoke_token(id(), until, now);
    (void)store.end_session("user-" + std::to_string(i), id(), until, now);
    tegata::SessionRecord session;
    session.session_id = id();
    session.refresh_id = id();
    session.auth_time = session.last_refresh = now;
    session.expires_at = session.absolute_end = session.access_until = session.until = until;
    session.refresh_ttl = kTokenLifetime;
    (void)store.create_session("user-" + std::to_string(i), session, 100, now);
    (void)store.bump_version("user-" + std::to_string(i), until, now);
  }
  return store;
}

Hs256Manager& hs256_manager() {
  static Hs256Manager manager = make_hs256_manager(populated_store());
  return manager;
}

const Hs256Tokens& hs256_tokens() {
  static const Hs256Tokens tokens = make_hs256_tokens();
  return tokens;
}

}  // namespace tegata_bench
