// README.md's ManualClock block (<!-- snippet: manual_clock -->), run as printed, with the key and
// options it leaves to the reader. Its asserts are the test (compiled without NDEBUG).
#include <cassert>
#include <cstdio>
#include <string>
#include <tegata/tegata.hpp>

using namespace std::chrono_literals;

int main() {
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 's'), "k");
  const tegata::SessionOptions options{.issuer = "https://auth.example.com", .audience = "api"};
#include "manual_clock.cpp"
  std::puts("ok");
}
