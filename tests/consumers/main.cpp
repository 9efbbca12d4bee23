// Shared by the add_subdirectory, fetchcontent and find_package consumer projects: signs and
// verifies one token, then logs in, validates and refreshes a session, through tegata's public
// API, exactly as an application would. The add_subdirectory and find_package consumers link
// tegata::compiled, so there the session calls are the library's.
#include <cstdio>
#include <tegata/tegata.hpp>

int main() {
  using namespace std::chrono;
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
  const sys_seconds now{seconds{1'700'000'000}};
  auto token = tegata::sign_jwt(key, {{"iss", "consumer"}, {"exp", 1'700'000'600}});
  if (!token) return 1;
  const tegata::Validator validator({.issuer = "consumer"});
  auto jwt = tegata::verify_jwt(*token, key, validator, now);
  if (!jwt) {
    std::puts(jwt.error().message().c_str());
    return 1;
  }
  tegata::SessionManager sessions(key, {.issuer = "consumer", .audience = "consumer-api"});
  auto pair = sessions.issue("alice");
  if (!pair || !sessions.validate(pair->access_token) || !sessions.refresh(pair->refresh_token)) {
    std::puts("session failed");
    return 1;
  }
  std::puts("ok");
  return 0;
}
