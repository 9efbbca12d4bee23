// Built by packaging.pkg_config with nothing but `pkg-config --cflags --libs tegata`: signs and
// verifies a token, and prints the version the headers declare, which the test compares with the
// pkg-config and CMake project versions.
#include <cstdio>
#include <tegata/tegata.hpp>

int main() {
  using namespace std::chrono;
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
  auto token = tegata::sign_jwt(key, {{"iss", "pkg-config"}, {"exp", 1'700'000'600}});
  if (!token) return 1;
  const tegata::Validator validator({.issuer = "pkg-config"});
  auto jwt = tegata::verify_jwt(*token, key, validator, sys_seconds{seconds{1'700'000'000}});
  if (!jwt) {
    std::printf("%s\n", jwt.error().message().c_str());
    return 1;
  }
  std::printf("tegata %d.%d.%d ok\n", TEGATA_VERSION_MAJOR, TEGATA_VERSION_MINOR,
              TEGATA_VERSION_PATCH);
  return 0;
}
