// docs/guide.md's sample of the cookies written with the defaults (<!-- snippet: default_cookies
// -->): a CookieWriter and a SessionManager, both with their default options, issue a pair and
// write its cookies at the time of issue; the two Set-Cookie lines, each token shown as <jwt>,
// must be the block's text exactly. Run with the block's file as its argument; prints "ok", or
// both texts.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <tegata/tegata.hpp>

namespace {

// "name=<token>; attributes" -> "name=<jwt>; attributes"
std::string with_placeholder(const std::string& cookie) {
  const auto value = cookie.find('=') + 1;
  return cookie.substr(0, value) + "<jwt>" + cookie.substr(cookie.find(';', value));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: docs_guide_default_cookies BLOCK_FILE\n", stderr);
    return 2;
  }
  std::ifstream file(argv[1]);
  std::stringstream block;
  block << file.rdbuf();

  // A manual clock, so that issuing and writing happen in the same second.
  const tegata::ManualClock clock{std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}}};
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'), "k1");
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock> sessions(
      key, {.issuer = "https://example.com", .audience = "api"}, clock);
  const tegata::http::CookieWriter cookies;
  auto pair = sessions.issue("alice");
  if (!pair) return std::puts(pair.error().message().c_str()), 1;
  auto set = cookies.write(*pair, sessions.clock().now());
  if (!set) return std::puts(set.error().message().c_str()), 1;

  const std::string written = "Set-Cookie: " + with_placeholder(set->access) + "\n" +
                              "Set-Cookie: " + with_placeholder(set->refresh) + "\n";
  if (written != block.str()) {
    std::printf("the guide shows:\n%swith the defaults, tegata writes:\n%s", block.str().c_str(),
                written.c_str());
    return 1;
  }
  std::puts("ok");
  return 0;
}
