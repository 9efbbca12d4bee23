// docs/guide.md's claims function (<!-- snippet: claims_function -->), run as printed with the
// names it leaves to the reader; then the claims it computes must be in the refreshed token.
#include <cstdio>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>

namespace {

struct Users {
  std::string role_of(std::string_view subject) const { return subject == "alice" ? "editor" : ""; }
};

}  // namespace

int main() {
  using namespace std::chrono_literals;
  const Users users;
  tegata::ManualClock clock{std::chrono::sys_seconds{1'800'000'000s}};
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock> sessions(
      tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 's'), "k"),
      {.issuer = "https://auth.example.com", .audience = "api"}, clock);
  const std::string user = "alice";
  const std::string refresh_token;  // the block's refresh is tried without a cookie: malformed
#include "claims_function.cpp"
  if (!login || next.error() != tegata::errc::malformed) return 1;
  // The block's function, at a real refresh: the new access token carries the role again.
  clock.advance(16min);
  auto rotated = sessions.refresh(login->refresh_token, claims_for);
  if (!rotated) return 1;
  auto claims = sessions.validate(rotated->access_token);
  if (!claims || claims->extra != nlohmann::json{{"role", "editor"}}) return 1;
  std::puts("ok");
}
