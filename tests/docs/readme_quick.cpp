// README.md's quick example (<!-- snippet: quick -->), compiled and run as printed. What the
// example leaves to the reader is defined here, and its statements are the body of a request
// handler. Run with no cookie, the handler must answer as the example says a failure is
// answered: 401, named not_found.
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <tegata/tegata.hpp>

namespace {

const std::string secret_from_your_vault(32, 's');
const std::string_view request_cookie_header;  // the request carries no cookie
std::string role_of(std::string_view) { return "editor"; }

std::string replied;
int reply(int status, std::string_view error) {
  replied = std::to_string(status) + " " + std::string(error);
  return status;
}

int handle_request() {
#include "quick.cpp"
  return 200;
}

}  // namespace

int main() {
  handle_request();
  std::printf("%s\n", replied.c_str());
  return replied == "401 not_found" ? 0 : 1;
}
