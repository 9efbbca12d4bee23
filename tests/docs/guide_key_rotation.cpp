// docs/guide.md's key rotation (<!-- snippet: key_rotation -->), run as printed with two ES256
// keys; then tokens are signed by the new key, and the old key's tokens fail with unknown_key.
#include <cstdio>
#include <string>
#include <tegata/tegata.hpp>

namespace {

nlohmann::json published;
void publish(const nlohmann::json& jwks) { published = jwks; }

tegata::EcdsaKey es256(std::string kid) {
  return tegata::EcdsaKey(tegata::Algorithm::ES256,
                          tegata::keys::generate(tegata::Algorithm::ES256), std::move(kid));
}

}  // namespace

int main() {
  const tegata::EcdsaKey current_key = es256("2026-11");
  const tegata::EcdsaKey next_key = es256("2026-12");
  const tegata::SessionOptions options{.issuer = "https://auth.example.com", .audience = "api"};
  // A token of the old key, issued before the rotation.
  auto before = tegata::SessionManager(tegata::KeyRing(current_key), options).issue("alice");
  if (!before) return 1;
#include "key_rotation.cpp"
  if (published["keys"].size() != 2) return 1;
  auto after = sessions.issue("alice");
  if (!after || !sessions.validate(after->access_token)) return 1;
  if (sessions.validate(before->access_token).error() != tegata::errc::unknown_key) return 1;
  std::puts("ok");
}
