// http::CsrfGuard: the Origin / Sec-Fetch-Site check on state-changing requests.
#include "tegata/csrf.hpp"

#include <catch2/catch_test_macros.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using tegata::errc;
using tegata::http::CsrfGuard;

namespace {

tegata::Result<void> post(const CsrfGuard& guard, std::string_view origin,
                          std::string_view fetch_site = {}) {
  return guard.check("POST", origin, fetch_site);
}

}  // namespace

TEST_CASE("csrf: safe methods pass whatever their headers say", "[csrf]") {
  const CsrfGuard guard({"https://app.example.com"});
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    CHECK(guard.check(method, "https://evil.example", "cross-site"));
  }
  // Methods are case-sensitive: "get" is not GET, so it is checked like any other method.
  CHECK(guard.check("get", "https://evil.example", "").error() == errc::cross_site_request);
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    CHECK(guard.check(method, "https://evil.example", "").error() == errc::cross_site_request);
    CHECK(guard.check(method, "https://app.example.com", "same-origin"));
  }
}

TEST_CASE("csrf: Origin must be exactly one of the allowed origins", "[csrf]") {
  const CsrfGuard guard({"https://app.example.com", "http://127.0.0.1:8080"});
  CHECK(post(guard, "https://app.example.com"));
  CHECK(post(guard, "HTTPS://APP.Example.COM"));      // scheme and host are case-insensitive
  CHECK(post(guard, "https://app.example.com:443"));  // the default port is no port
  CHECK(post(guard, "http://127.0.0.1:8080"));
  // Origin decides even when Sec-Fetch-Site says otherwise (an allowed sibling is same-site).
  CHECK(post(guard, "https://app.example.com", "same-site"));

  for (const char* origin :
       {"https://evil.example", "https://app.example.com.evil.example", "https://example.com",
        "https://sub.app.example.com", "http://app.example.com", "https://app.example.com:8443",
        "http://127.0.0.1:8081", "http://127.0.0.1", "null", "https://app.example.com/",
        "https://app.example.com/path", "https://app.example.com https://evil.example",
        "https://user@app.example.com", "ftp://app.example.com", "app.example.com", "https://",
        "https://app.example.com:", "https://app.example.com:99999x", " "}) {
    INFO(origin);
    CHECK(post(guard, origin, "same-origin").error() == errc::cross_site_request);
  }
}

TEST_CASE("csrf: without Origin, Sec-Fetch-Site decides", "[csrf]") {
  const CsrfGuard guard({"https://app.example.com"});
  CHECK(post(guard, "", "same-origin"));
  CHECK(post(guard, "", "none"));  // the user's own action: address bar, bookmark
  for (const char* site : {"same-site", "cross-site", "Same-Origin", "same-origin, cross-site"}) {
    INFO(site);
    CHECK(post(guard, "", site).error() == errc::cross_site_request);
  }
}

TEST_CASE("csrf: with neither header, a non-browser client passes unless browsers are required",
          "[csrf]") {
  CHECK(post(CsrfGuard({"https://app.example.com"}), ""));
  const CsrfGuard strict({"https://app.example.com"}, {.require_browser_headers = true});
  CHECK(post(strict, "").error() == errc::cross_site_request);
  CHECK(post(strict, "https://app.example.com"));
  CHECK(post(strict, "", "same-origin"));
}

TEST_CASE("csrf: IPv6 origins and ports", "[csrf]") {
  const CsrfGuard guard({"http://[::1]:8080", "https://[2001:db8::1]"});
  CHECK(post(guard, "http://[::1]:8080"));
  CHECK(post(guard, "https://[2001:DB8::1]:443"));
  CHECK(post(guard, "http://[::1]:8081").error() == errc::cross_site_request);
  CHECK(post(guard, "http://[::1]").error() == errc::cross_site_request);
}

TEST_CASE("csrf: a bad allowed origin fails at construction", "[csrf]") {
  using IA = std::invalid_argument;
  CHECK_THROWS_AS(CsrfGuard(std::vector<std::string>{}), IA);
  for (const char* bad : {"app.example.com", "https://app.example.com/",
                          "https://app.example.com/x", "ftp://app.example.com", "https://",
                          "https://a b", "null", "*", "https://app.example.com:port"}) {
    INFO(bad);
    CHECK_THROWS_AS(CsrfGuard({bad}), IA);
  }
  CHECK(CsrfGuard({"https://app.example.com"}).allowed_origins().size() == 1);
}

TEST_CASE("csrf: a guard keeps working when copied and moved", "[csrf]") {
  // Short origins live in the strings' own buffers: what the guard parsed at construction must
  // not point into them.
  CsrfGuard original({"http://a.io", "https://b.io:8443"});
  const CsrfGuard copy = original;
  const CsrfGuard moved = std::move(original);
  for (const CsrfGuard* guard : {&copy, &moved}) {
    CHECK(post(*guard, "http://a.io:80"));
    CHECK(post(*guard, "https://B.IO:8443"));
    CHECK(post(*guard, "https://b.io").error() == errc::cross_site_request);
  }
}
