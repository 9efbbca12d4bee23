// consumer.strict_warnings: a user's translation unit compiled with the strict warnings many
// projects use, and -Werror:
//   -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Werror
// with tegata's headers NOT treated as system headers (as with `pkg-config --cflags tegata`, or a
// subproject whose SYSTEM property the user turned off), so that any warning in them fails.
// It includes everything (and tegata/store/redis.hpp when TEGATA_CONSUMER_REDIS is defined,
// tegata/store/sqlite.hpp when TEGATA_CONSUMER_SQLITE is),
// explicitly instantiates the class templates users instantiate, and calls the function templates
// and every key family, so that template code is compiled too. Then it runs one session through
// issue, validate, refresh and revoke (with the cookies and the CSRF check), and prints "ok".
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <tegata/tegata.hpp>
#ifdef TEGATA_CONSUMER_REDIS
#include <tegata/store/redis.hpp>
#endif
#ifdef TEGATA_CONSUMER_SQLITE
#include <tegata/store/sqlite.hpp>
#endif

// Every member of the main class templates, as users instantiate them.
template class tegata::SessionManager<tegata::HmacKey>;
template class tegata::SessionManager<tegata::KeyRing, tegata::ManualClock,
                                      tegata::MemoryRevocationStore>;
template class tegata::SessionManager<tegata::AnyKey, tegata::SystemClock,
                                      tegata::NullRevocationStore>;
template class tegata::SessionManager<tegata::EcdsaKey, tegata::ManualClock>;
template class tegata::Result<tegata::TokenPair>;
template class tegata::Result<tegata::AccessClaims>;
template class tegata::Result<tegata::http::SetCookies>;
#ifdef TEGATA_CONSUMER_REDIS
template class tegata::SessionManager<tegata::KeyRing, tegata::SystemClock,
                                      tegata::redis::RevocationStore>;
#endif
#ifdef TEGATA_CONSUMER_SQLITE
template class tegata::SessionManager<tegata::KeyRing, tegata::SystemClock,
                                      tegata::sqlite::RevocationStore>;
#endif

namespace {

int failures = 0;

void check(bool condition, const char* what) {
  if (!condition) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}

// Signs and verifies a plain JWT with one key, and round-trips the key through its JWK.
template <class Key>
void plain_jwt(const Key& key, const char* name) {
  using namespace std::chrono;
  const sys_seconds now{seconds{1'800'000'000}};
  auto token = tegata::sign_jwt(key, {{"iss", "strict"}, {"exp", 1'800'000'600}});
  check(token.has_value(), name);
  if (!token) return;
  const tegata::Validator validator({.issuer = "strict"});
  check(tegata::verify_jwt(*token, key, validator, now).has_value(), name);
  const tegata::ManualClock clock{now};
  check(tegata::verify_jwt(*token, key, validator, clock).has_value(), name);
}

template <class Key>
void jwk_round_trip(const Key& key, const char* name) {
  auto jwk = tegata::keys::public_jwk(tegata::AnyKey(key));
  check(jwk.has_value(), name);
  if (!jwk) return;
  check(tegata::keys::thumbprint_sha256(*jwk).has_value(), name);
  auto back = tegata::keys::import_jwk(*jwk, {});
  check(back.has_value(), name);
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  using tegata::Algorithm;
  namespace keys = tegata::keys;

  const tegata::HmacKey hmac(Algorithm::HS256, std::string(32, 'k'), "h1");
  const tegata::RsaKey rsa(Algorithm::PS256, keys::generate(Algorithm::PS256), "r1");
  const tegata::EcdsaKey ecdsa(Algorithm::ES256, keys::generate(Algorithm::ES256), "e1");
  const tegata::EddsaKey eddsa(keys::generate(Algorithm::EdDSA), "d1");
  plain_jwt(hmac, "HS256 JWT");
  plain_jwt(rsa, "PS256 JWT");
  plain_jwt(ecdsa, "ES256 JWT");
  plain_jwt(eddsa, "EdDSA JWT");
  plain_jwt(tegata::AnyKey(eddsa), "AnyKey JWT");
  jwk_round_trip(rsa, "RSA JWK");
  jwk_round_trip(ecdsa, "EC JWK");
  jwk_round_trip(eddsa, "OKP JWK");
  check(keys::private_jwk(tegata::AnyKey(hmac)).has_value(), "HMAC private JWK");

  auto pem = keys::to_pem_private(ecdsa.native_handle());
  check(pem.has_value() && keys::parse_pem(*pem).has_value(), "PEM round trip");

  tegata::KeyRing ring(ecdsa, {tegata::AnyKey(eddsa)});
  check(ring.public_jwks().has_value(), "KeyRing JWKS");
  auto from_jwks = tegata::KeyRing::from_jwks(*ring.public_jwks());
  check(from_jwks.has_value(), "KeyRing from JWKS");

  // One session, start to end, on a ManualClock and a KeyRing.
  const tegata::ManualClock clock{std::chrono::sys_seconds{1'800'000'000s}};
  tegata::SessionManager<tegata::KeyRing, tegata::ManualClock, tegata::MemoryRevocationStore>
      sessions(ring, {.issuer = "https://strict.example", .audience = "api", .access_ttl = 5min},
               clock);
  const tegata::http::CookieWriter cookies;
  auto pair = sessions.issue("alice", {{"role", "editor"}});
  check(pair.has_value(), "issue");
  if (!pair) return 1;
  auto set = cookies.write(*pair, sessions.clock().now());
  check(set.has_value(), "cookies");
  if (!set) return 1;
  const std::string cookie_header = "a=b; " + set->access.substr(0, set->access.find(';'));
  auto access = cookies.read_access(cookie_header);
  check(access.has_value(), "read the access cookie");
  if (!access) return 1;
  check(sessions.validate(*access).has_value(), "validate");
  check(tegata::http::bearer_token("Bearer " + pair->access_token).has_value(), "bearer");
  const tegata::http::CsrfGuard csrf({"https://strict.example:443"});
  check(csrf.check("POST", "https://STRICT.example", "").has_value(), "CSRF same origin");
  check(!csrf.check("POST", "https://evil.example", "cross-site").has_value(), "CSRF cross site");
  // The refresh overload that computes the new access token's claims is a member template.
  auto next = sessions.refresh(pair->refresh_token,
                               [](std::string_view subject, std::string_view) {
                                 return nlohmann::json{{"role", subject == "alice" ? "editor" : ""}};
                               });
  check(next.has_value(), "refresh");
  if (!next) return 1;
  auto refreshed = sessions.validate(next->access_token);
  check(refreshed && refreshed->extra.value("role", "") == "editor", "claims at refresh");
  const std::error_code expired = tegata::errc::expired;
  check(tegata::to_string(expired) == "expired" &&
            tegata::http_status(tegata::classify(expired)) == 401,
        "error name and class");
  check(sessions.revoke(next->access_token).has_value(), "revoke");
  check(sessions.validate(next->access_token).error() == tegata::errc::session_revoked,
        "revoked session");
  check(sessions.revoke_all("alice").has_value(), "revoke_all");
  check(sessions.store().size() > 0, "store");

  if (failures != 0) return 1;
  std::puts("ok");
  return 0;
}
