// docs/guide.md's error answer (<!-- snippet: error_reply -->), run as printed in a request
// handler: an expired access token must be logged as "expired" and answered 401.
#include <cstdio>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>

namespace {

std::string logged;
void log(std::string_view what, std::string_view name) { logged = std::string(what).append(name); }
int reply(int status) { return status; }

}  // namespace

int main() {
  using namespace std::chrono_literals;
  tegata::ManualClock clock{std::chrono::sys_seconds{1'800'000'000s}};
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock> sessions(
      tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 's'), "k"),
      {.issuer = "https://auth.example.com", .audience = "api"}, clock);
  auto pair = sessions.issue("alice");
  if (!pair) return 1;
  clock.advance(16min);
  const tegata::Result<std::string_view> token = std::string_view(pair->access_token);
  const auto handle = [&]() -> int {
#include "error_reply.cpp"
    return 200;
  };
  const int status = handle();
  std::printf("%d %s\n", status, logged.c_str());
  return status == 401 && logged == "request refused: expired" ? 0 : 1;
}
