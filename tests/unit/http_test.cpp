// Tests for tegata/http.hpp: Set-Cookie building, Authorization and Cookie header parsing.
#include "tegata/http.hpp"

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tegata::errc;
using tegata::http::CookieOptions;
using tegata::http::CookieWriter;
using tegata::http::SameSite;
using namespace std::chrono_literals;

constexpr std::chrono::sys_seconds kNow{std::chrono::seconds{1'700'000'000}};
// A JWS compact token: base64url segments and dots only.
constexpr std::string_view kJwt =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtLV8";

constexpr std::size_t kMiB = std::size_t{1} << 20;

// What a session's TokenPair looks like to write(); the real one lives in the session headers.
struct FakePair {
  std::string access_token, refresh_token, session_id;
  std::chrono::sys_seconds access_expires_at, refresh_expires_at;
};

}  // namespace

TEST_CASE("http: defaults: __Host- cookies, Path=/, HttpOnly, Secure, SameSite=Strict", "[http]") {
  const CookieWriter cookies;
  CHECK(cookies.access_cookie_name() == "__Host-access_token");
  CHECK(cookies.refresh_cookie_name() == "__Host-refresh_token");

  auto access = cookies.access(kJwt, kNow + 900s, kNow);
  REQUIRE(access);
  CHECK(*access == "__Host-access_token=" + std::string(kJwt) +
                       "; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict");

  auto refresh = cookies.refresh("abc.def.ghi", kNow + 14 * 24h, kNow);
  REQUIRE(refresh);
  CHECK(*refresh ==
        "__Host-refresh_token=abc.def.ghi; Path=/; Max-Age=1209600; HttpOnly; Secure; "
        "SameSite=Strict");
}

TEST_CASE("http: CookieOptions defaults are the documented ones", "[http]") {
  const CookieOptions options;
  CHECK(options.access_name == "access_token");
  CHECK(options.refresh_name == "refresh_token");
  CHECK(options.same_site == SameSite::Strict);
  CHECK(options.refresh_path.empty());
  CHECK(options.host_prefix);
  CHECK(options.domain.empty());
  CHECK_FALSE(options.insecure_http_for_testing);
}

TEST_CASE("http: insecure_http_for_testing drops the prefix and Secure, nothing else", "[http]") {
  SECTION("defaults otherwise") {
    const CookieWriter cookies{{.insecure_http_for_testing = true}};
    CHECK(cookies.access_cookie_name() == "access_token");
    CHECK(cookies.refresh_cookie_name() == "refresh_token");
    auto access = cookies.access("a.b.c", kNow + 900s, kNow);
    REQUIRE(access);
    CHECK(*access == "access_token=a.b.c; Path=/; Max-Age=900; HttpOnly; SameSite=Strict");
    CHECK(cookies.clear_refresh() ==
          "refresh_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  }
  SECTION("with a refresh path, Lax and custom names") {
    const CookieWriter cookies{{.access_name = "at",
                                .refresh_name = "rt",
                                .same_site = SameSite::Lax,
                                .refresh_path = "/refresh",
                                .host_prefix = false,
                                .insecure_http_for_testing = true}};
    CHECK(cookies.refresh_cookie_name() == "rt");
    auto refresh = cookies.refresh("r.r.r", kNow + 60s, kNow);
    REQUIRE(refresh);
    CHECK(*refresh == "rt=r.r.r; Path=/refresh; Max-Age=60; HttpOnly; SameSite=Lax");
  }
  SECTION("reads back by the bare names") {
    const CookieWriter cookies{{.insecure_http_for_testing = true}};
    auto access = cookies.read_access("__Host-access_token=x.x.x; access_token=a.a.a");
    REQUIRE(access);
    CHECK(*access == "a.a.a");
    auto missing = cookies.read_refresh("__Host-refresh_token=r.r.r");
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::not_found);
  }
  SECTION("the configuration rules still hold") {
    CHECK_THROWS_AS((CookieWriter{{.domain = "example.com", .insecure_http_for_testing = true}}),
                    std::invalid_argument);
    CHECK_THROWS_AS((CookieWriter{{.access_name = "__Host-a", .insecure_http_for_testing = true}}),
                    std::invalid_argument);
  }
}

TEST_CASE("http: SameSite=Lax", "[http]") {
  const CookieWriter cookies{{.same_site = SameSite::Lax}};
  auto access = cookies.access("a.b.c", kNow + 60s, kNow);
  REQUIRE(access);
  CHECK(*access == "__Host-access_token=a.b.c; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax");
  CHECK(cookies.clear_refresh() ==
        "__Host-refresh_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
}

TEST_CASE("http: by default the refresh cookie is __Host- on Path=/, which no sibling can plant",
          "[http]") {
  const CookieWriter cookies;
  CHECK(cookies.refresh_cookie_name() == "__Host-refresh_token");
  auto refresh = cookies.refresh("r.r.r", kNow + 3600s, kNow);
  REQUIRE(refresh);
  CHECK(*refresh ==
        "__Host-refresh_token=r.r.r; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict");
  // What a sibling subdomain can plant is a __Secure- or bare cookie with a Domain: never read.
  for (const char* planted : {"__Secure-refresh_token=evil.evil.evil", "refresh_token=e.v.l"}) {
    CHECK(cookies.read_refresh(planted).error() == errc::not_found);
  }
}

TEST_CASE("http: a refresh path needs host_prefix off, since a __Secure- cookie can be planted",
          "[http]") {
  // __Host- requires Path=/; a path would silently make the refresh cookie plantable.
  CHECK_THROWS_AS((CookieWriter{{.refresh_path = "/auth/refresh"}}), std::invalid_argument);
  CHECK_THROWS_AS((CookieWriter{{.refresh_path = "/auth/refresh", .host_prefix = true}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      (CookieWriter{{.refresh_path = "/auth/refresh", .insecure_http_for_testing = true}}),
      std::invalid_argument);

  // Chosen explicitly: the refresh token travels only to its endpoint, both cookies are
  // __Secure-, and a planted duplicate makes read_refresh fail rather than pick one.
  const CookieWriter cookies{{.refresh_path = "/auth/refresh", .host_prefix = false}};
  CHECK(cookies.access_cookie_name() == "__Secure-access_token");
  CHECK(cookies.refresh_cookie_name() == "__Secure-refresh_token");
  CHECK(
      cookies.read_refresh("__Secure-refresh_token=r.r.r; __Secure-refresh_token=e.v.l").error() ==
      errc::invalid_argument);

  auto refresh = cookies.refresh("r.r.r", kNow + 3600s, kNow);
  REQUIRE(refresh);
  CHECK(*refresh ==
        "__Secure-refresh_token=r.r.r; Path=/auth/refresh; Max-Age=3600; HttpOnly; "
        "Secure; SameSite=Strict");
  auto access = cookies.access("a.a.a", kNow + 900s, kNow);
  REQUIRE(access);
  CHECK(*access ==
        "__Secure-access_token=a.a.a; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict");

  CHECK(cookies.clear_refresh() ==
        "__Secure-refresh_token=; Path=/auth/refresh; Max-Age=0; "
        "HttpOnly; Secure; SameSite=Strict");
}

TEST_CASE("http: refresh_path \"/\" is the same as no path", "[http]") {
  const CookieWriter cookies{{.refresh_path = "/"}};
  CHECK(cookies.refresh_cookie_name() == "__Host-refresh_token");
  CHECK(cookies.clear_refresh() ==
        "__Host-refresh_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
}

TEST_CASE("http: custom names", "[http]") {
  const CookieWriter cookies{{.access_name = "at", .refresh_name = "rt"}};
  CHECK(cookies.access_cookie_name() == "__Host-at");
  CHECK(cookies.refresh_cookie_name() == "__Host-rt");
}

TEST_CASE("http: host_prefix off: __Secure- prefix, optional Domain", "[http]") {
  SECTION("with a domain") {
    const CookieWriter cookies{
        {.refresh_path = "/auth/refresh", .host_prefix = false, .domain = "example.com"}};
    CHECK(cookies.access_cookie_name() == "__Secure-access_token");
    CHECK(cookies.refresh_cookie_name() == "__Secure-refresh_token");
    auto access = cookies.access("a.b.c", kNow + 900s, kNow);
    REQUIRE(access);
    CHECK(*access ==
          "__Secure-access_token=a.b.c; Path=/; Domain=example.com; Max-Age=900; "
          "HttpOnly; Secure; SameSite=Strict");
    auto refresh = cookies.refresh("r.r.r", kNow + 10s, kNow);
    REQUIRE(refresh);
    CHECK(*refresh ==
          "__Secure-refresh_token=r.r.r; Path=/auth/refresh; Domain=example.com; "
          "Max-Age=10; HttpOnly; Secure; SameSite=Strict");
    CHECK(cookies.clear_access() ==
          "__Secure-access_token=; Path=/; Domain=example.com; "
          "Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    CHECK(cookies.clear_refresh() ==
          "__Secure-refresh_token=; Path=/auth/refresh; "
          "Domain=example.com; Max-Age=0; HttpOnly; Secure; "
          "SameSite=Strict");
  }
  SECTION("without a domain: host-only cookie, still __Secure-") {
    const CookieWriter cookies{{.host_prefix = false}};
    auto access = cookies.access("a.b.c", kNow + 5s, kNow);
    REQUIRE(access);
    CHECK(*access ==
          "__Secure-access_token=a.b.c; Path=/; Max-Age=5; HttpOnly; Secure; SameSite=Strict");
  }
  SECTION("subdomains, digits and hyphens inside labels") {
    CHECK_NOTHROW((CookieWriter{{.host_prefix = false, .domain = "api-1.eu.example.co.uk"}}));
    CHECK_NOTHROW((CookieWriter{{.host_prefix = false, .domain = "xn--bcher-kva.example"}}));
    CHECK_NOTHROW((CookieWriter{{.host_prefix = false, .domain = "localhost"}}));
  }
}

TEST_CASE("http: clearing cookies for logout", "[http]") {
  const CookieWriter cookies;
  CHECK(cookies.clear_access() ==
        "__Host-access_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
  CHECK(cookies.clear_refresh() ==
        "__Host-refresh_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
  const auto both = cookies.clear();
  CHECK(both.access == cookies.clear_access());
  CHECK(both.refresh == cookies.clear_refresh());
}

TEST_CASE("http: Max-Age is the remaining life; no life left is refused", "[http]") {
  const CookieWriter cookies;
  SECTION("one second left") {
    auto c = cookies.access("t", kNow + 1s, kNow);
    REQUIRE(c);
    CHECK(*c == "__Host-access_token=t; Path=/; Max-Age=1; HttpOnly; Secure; SameSite=Strict");
  }
  SECTION("expires exactly now") {
    auto c = cookies.access("t", kNow, kNow);
    REQUIRE_FALSE(c);
    CHECK(c.error() == errc::expired);
    auto r = cookies.refresh("t", kNow, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::expired);
  }
  SECTION("already expired") {
    auto c = cookies.refresh("t", kNow - 1s, kNow);
    REQUIRE_FALSE(c);
    CHECK(c.error() == errc::expired);
  }
  SECTION("extreme time points do not overflow") {
    using std::chrono::sys_seconds;
    const sys_seconds earliest{std::chrono::seconds{INT64_MIN}};
    const sys_seconds latest{std::chrono::seconds{INT64_MAX}};
    auto c = cookies.access("t", latest, earliest);
    REQUIRE(c);
    CHECK(*c ==
          "__Host-access_token=t; Path=/; Max-Age=18446744073709551615; HttpOnly; Secure; "
          "SameSite=Strict");
    auto e = cookies.access("t", earliest, latest);
    REQUIRE_FALSE(e);
    CHECK(e.error() == errc::expired);
  }
}

TEST_CASE("http: token values must be non-empty cookie-octets", "[http]") {
  const CookieWriter cookies;
  for (std::string_view bad : std::vector<std::string_view>{
           "", "a b", "a;b", "a,b", "a\"b", "\"ab\"", "a\\b", "a\tb", "a\nb", "a\rb", "a\x7f",
           "caf\xc3\xa9", std::string_view("a\0b", 3)}) {
    CAPTURE(bad);
    auto a = cookies.access(bad, kNow + 60s, kNow);
    REQUIRE_FALSE(a);
    CHECK(a.error() == errc::invalid_argument);
    auto r = cookies.refresh(bad, kNow + 60s, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
  }
  SECTION("an invalid value is refused even when it has also expired") {
    auto a = cookies.access("a b", kNow, kNow);
    REQUIRE_FALSE(a);
    CHECK(a.error() == errc::invalid_argument);
  }
  SECTION("every cookie-octet is accepted") {
    std::string all;
    for (int c = 0x21; c <= 0x7E; ++c) {
      if (c != '"' && c != ',' && c != ';' && c != '\\') all.push_back(static_cast<char>(c));
    }
    auto a = cookies.access(all, kNow + 60s, kNow);
    REQUIRE(a);
    CHECK(a->find(all) == std::string("__Host-access_token=").size());
  }
}

TEST_CASE("http: a cookie the browser would drop (over 4096 bytes) is refused", "[http]") {
  const CookieWriter cookies;
  const std::size_t name = cookies.access_cookie_name().size();
  const std::string fits(tegata::http::kMaxCookieNameValueBytes - name, 'a');
  auto ok = cookies.access(fits, kNow + 60s, kNow);
  REQUIRE(ok);
  const std::string too_big = fits + "a";
  auto big = cookies.access(too_big, kNow + 60s, kNow);
  REQUIRE_FALSE(big);
  CHECK(big.error() == errc::too_large);
}

TEST_CASE("http: write() and clear() handle a token pair", "[http]") {
  const CookieWriter cookies;
  FakePair pair{"a.a.a", "r.r.r", "sid", kNow + 900s, kNow + 3600s};
  auto set = cookies.write(pair, kNow);
  REQUIRE(set);
  CHECK(set->access ==
        "__Host-access_token=a.a.a; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict");
  CHECK(set->refresh ==
        "__Host-refresh_token=r.r.r; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict");

  SECTION("either token failing fails the whole pair") {
    pair.refresh_token = "not a token";
    auto bad = cookies.write(pair, kNow);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::invalid_argument);
    pair.refresh_token = "r.r.r";
    auto expired = cookies.write(pair, kNow + 900s);
    REQUIRE_FALSE(expired);
    CHECK(expired.error() == errc::expired);
  }
}

TEST_CASE("http: bad configuration throws at construction", "[http]") {
  using IA = std::invalid_argument;
  SECTION("names") {
    for (const std::string& bad : std::vector<std::string>{
             "", "access token", "a;b", "a=b", "a,b", "a\"b", "a/b", "a:b", "a(b)", "a@b", "a[b]",
             "a?b", "a{b}", "a\\b", "a\tb", "a\x01", "caf\xc3\xa9", "a\x7f"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((CookieWriter{{.access_name = bad}}), IA);
      CHECK_THROWS_AS((CookieWriter{{.refresh_name = bad}}), IA);
    }
    CHECK_NOTHROW((CookieWriter{{.access_name = "a!#$%&'*+-.^_`|~Z9"}}));
  }
  SECTION("names that carry a prefix already") {
    CHECK_THROWS_AS((CookieWriter{{.access_name = "__Host-access"}}), IA);
    CHECK_THROWS_AS((CookieWriter{{.refresh_name = "__Secure-refresh"}}), IA);
    CHECK_THROWS_AS((CookieWriter{{.access_name = "__host-access"}}), IA);
    CHECK_THROWS_AS((CookieWriter{{.refresh_name = "__SECURE-refresh"}}), IA);
  }
  SECTION("equal names") {
    CHECK_THROWS_AS((CookieWriter{{.access_name = "t", .refresh_name = "t"}}), IA);
    CHECK_THROWS_AS((CookieWriter{{.access_name = "t",
                                   .refresh_name = "t",
                                   .refresh_path = "/refresh",
                                   .host_prefix = false}}),
                    IA);
  }
  SECTION("paths") {
    for (const std::string& bad :
         std::vector<std::string>{"auth/refresh", "/a;b", "/a b", "/a\tb", "/a\x01", "/caf\xc3\xa9",
                                  "/a\x7f", " /a", std::string("/a\0b", 4)}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((CookieWriter{{.refresh_path = bad, .host_prefix = false}}), IA);
    }
    CHECK_NOTHROW(
        (CookieWriter{{.refresh_path = "/v1/auth/refresh-token_x.y~z", .host_prefix = false}}));
  }
  SECTION("a domain needs host_prefix off") {
    CHECK_THROWS_AS((CookieWriter{{.domain = "example.com"}}), IA);
    CHECK_THROWS_AS((CookieWriter{{.host_prefix = true, .domain = "example.com"}}), IA);
  }
  SECTION("domains") {
    const std::string label63(63, 'a');
    for (const std::string& bad : std::vector<std::string>{
             ".example.com", "example.com.", "exa mple.com", "example..com", "-example.com",
             "example-.com", "exa_mple.com", "example.com;", "example.com/", "ex\xc3\xa4mple.com",
             label63 + "a.com", std::string("example\0.com", 12)}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((CookieWriter{{.host_prefix = false, .domain = bad}}), IA);
    }
    CHECK_NOTHROW((CookieWriter{{.host_prefix = false, .domain = label63 + ".com"}}));
    std::string longest;  // 253 characters: 3 labels of 63, one of 61
    longest = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    REQUIRE(longest.size() == 253);
    CHECK_NOTHROW((CookieWriter{{.host_prefix = false, .domain = longest}}));
    CHECK_THROWS_AS((CookieWriter{{.host_prefix = false, .domain = longest + "b"}}), IA);
  }
  SECTION("SameSite out of range") {
    CHECK_THROWS_AS((CookieWriter{{.same_site = static_cast<SameSite>(7)}}), IA);
  }
}

TEST_CASE("http: bearer_token", "[http]") {
  using tegata::http::bearer_token;
  SECTION("the scheme is case-insensitive") {
    for (std::string_view header : {"Bearer abc", "bearer abc", "BEARER abc", "bEaReR abc"}) {
      CAPTURE(header);
      auto t = bearer_token(header);
      REQUIRE(t);
      CHECK(*t == "abc");
    }
  }
  SECTION("a JWS, and every token68 character") {
    const std::string header = "Bearer " + std::string(kJwt);
    auto jwt = bearer_token(header);
    REQUIRE(jwt);
    CHECK(*jwt == kJwt);
    auto all = bearer_token("Bearer azAZ09-._~+/==");
    REQUIRE(all);
    CHECK(*all == "azAZ09-._~+/==");
  }
  SECTION("the view points into the header") {
    const std::string header = "Bearer xyz";
    auto t = bearer_token(header);
    REQUIRE(t);
    CHECK(t->data() == header.data() + 7);
  }
  SECTION("no bearer credentials: not_found") {
    for (std::string_view header :
         {"", "Basic abc", "Basic", "Bearerabc", "Digest a=b", "Bearer-x abc", "Token abc"}) {
      CAPTURE(header);
      auto t = bearer_token(header);
      REQUIRE_FALSE(t);
      CHECK(t.error() == errc::not_found);
    }
  }
  SECTION("malformed: invalid_argument") {
    for (std::string_view header : {"Bearer",
                                    "Bearer ",
                                    "Bearer  abc",
                                    "Bearer abc ",
                                    "Bearer abc def",
                                    "Bearer\tabc",
                                    " Bearer abc",
                                    "Bearer a,b",
                                    "Bearer \"abc\"",
                                    "Bearer a\"b",
                                    "Bearer caf\xc3\xa9",
                                    "Bearer a;b",
                                    "Bearer a\\b",
                                    "Bearer a\x7f",
                                    "Bearer a\nb",
                                    "Bearer =",
                                    "Bearer ==",
                                    "Bearer =abc",
                                    "Bearer ab=c",
                                    "Bearer ab==c",
                                    "Bearer abc=\t",
                                    "Bearer a b",
                                    "\"Bearer\" abc",
                                    "Bear(er abc",
                                    ",",
                                    " "}) {
      CAPTURE(header);
      auto t = bearer_token(header);
      REQUIRE_FALSE(t);
      CHECK(t.error() == errc::invalid_argument);
    }
    auto nul = bearer_token(std::string_view("Bearer a\0b", 10));
    REQUIRE_FALSE(nul);
    CHECK(nul.error() == errc::invalid_argument);
  }
  SECTION("padding only at the end") {
    auto one = bearer_token("Bearer abc=");
    REQUIRE(one);
    CHECK(*one == "abc=");
    auto two = bearer_token("Bearer abc==");
    REQUIRE(two);
    CHECK(*two == "abc==");
  }
}

TEST_CASE("http: cookie_value", "[http]") {
  using tegata::http::cookie_value;
  auto value_of = [](std::string_view header, std::string_view name) -> std::string {
    auto v = cookie_value(header, name);
    REQUIRE(v);
    return std::string(*v);
  };
  auto error_of = [](std::string_view header, std::string_view name) {
    auto v = cookie_value(header, name);
    REQUIRE_FALSE(v);
    return v.error();
  };

  SECTION("single, first, middle, last") {
    CHECK(value_of("a=1", "a") == "1");
    CHECK(value_of("a=1; b=2; c=3", "a") == "1");
    CHECK(value_of("a=1; b=2; c=3", "b") == "2");
    CHECK(value_of("a=1; b=2; c=3", "c") == "3");
  }
  SECTION("names that are a prefix or suffix of another name") {
    CHECK(value_of("xaccess_token=1; access_token=2", "access_token") == "2");
    CHECK(value_of("access_token=2; xaccess_token=1", "access_token") == "2");
    CHECK(value_of("access_tokenx=1; access_token=2", "access_token") == "2");
    CHECK(value_of("access_token=2; access_tokenx=1", "access_token") == "2");
    CHECK(error_of("xaccess_token=1; access_tokenx=2", "access_token") == errc::not_found);
    CHECK(error_of("__Host-access_token=1", "access_token") == errc::not_found);
    CHECK(value_of("access_token=1; __Host-access_token=2", "__Host-access_token") == "2");
  }
  SECTION("a name appearing only inside another cookie's value") {
    CHECK(error_of("x=access_token=1", "access_token") == errc::not_found);
    CHECK(value_of("x=access_token=1; access_token=2", "access_token") == "2");
  }
  SECTION("values containing '=' (base64 padding)") {
    CHECK(value_of("a=abc==; b=x", "a") == "abc==");
    CHECK(value_of("a==", "a") == "=");
  }
  SECTION("missing") {
    CHECK(error_of("", "a") == errc::not_found);
    CHECK(error_of("b=1; c=2", "a") == errc::not_found);
    CHECK(error_of(";;;", "a") == errc::not_found);
    CHECK(error_of("A=1", "a") == errc::not_found);  // names are case-sensitive
  }
  SECTION("an empty value counts as absent") {
    CHECK(error_of("a=", "a") == errc::not_found);
    CHECK(error_of("a=; b=2", "a") == errc::not_found);
    CHECK(error_of("b=2; a=  ", "a") == errc::not_found);
    CHECK(value_of("a=; b=2", "b") == "2");
  }
  SECTION("duplicates are ambiguous") {
    CHECK(error_of("a=1; a=2", "a") == errc::invalid_argument);
    CHECK(error_of("a=1; a=1", "a") == errc::invalid_argument);
    CHECK(error_of("a=1; b=2; a=", "a") == errc::invalid_argument);
    CHECK(error_of("a=; a=2", "a") == errc::invalid_argument);
    CHECK(value_of("a=1; a=2; b=3", "b") == "3");  // only the asked-for name matters
  }
  SECTION("whitespace variants") {
    CHECK(value_of("a=1;b=2", "b") == "2");
    CHECK(value_of("a=1;  b=2", "b") == "2");
    CHECK(value_of("a=1 ;b=2 ", "a") == "1");
    CHECK(value_of("a=1 ;b=2 ", "b") == "2");
    CHECK(value_of("  a = 1  ", "a") == "1");
    CHECK(value_of("\ta=1\t;\tb=2\t", "b") == "2");
    CHECK(value_of("a=1; ; b=2;", "b") == "2");
  }
  SECTION("pieces without '=' are skipped") {
    CHECK(value_of("garbage; a=1", "a") == "1");
    CHECK(value_of("a=1; garbage", "a") == "1");
    CHECK(value_of("a; a=1", "a") == "1");
    CHECK(value_of("=; =x; a=1", "a") == "1");
    CHECK(error_of("a", "a") == errc::not_found);
    CHECK(error_of("=", "a") == errc::not_found);
  }
  SECTION("values that tegata never writes are refused") {
    CHECK(error_of("a=\"abc\"", "a") == errc::invalid_argument);
    CHECK(error_of("a=\"\"", "a") == errc::invalid_argument);
    CHECK(error_of("a=x y", "a") == errc::invalid_argument);
    CHECK(error_of("a=x,y", "a") == errc::invalid_argument);
    CHECK(error_of("a=x\\y", "a") == errc::invalid_argument);
    CHECK(error_of("a=caf\xc3\xa9", "a") == errc::invalid_argument);
    CHECK(error_of("a=x\x7f", "a") == errc::invalid_argument);
    CHECK(error_of(std::string_view("a=x\0y", 5), "a") == errc::invalid_argument);
    // Other cookies' values are not our business.
    CHECK(value_of("b=\"quoted, spaced\"; a=1", "a") == "1");
  }
  SECTION("the name asked for must be a token") {
    CHECK(error_of("a=1", "") == errc::invalid_argument);
    CHECK(error_of("a b=1", "a b") == errc::invalid_argument);
    CHECK(error_of("a=1", "a=") == errc::invalid_argument);
    CHECK(error_of("a=1", "a;") == errc::invalid_argument);
  }
  SECTION("the view points into the header") {
    const std::string header = "a=1; b=xyz";
    auto v = cookie_value(header, "b");
    REQUIRE(v);
    CHECK(v->data() == header.data() + 7);
  }
  SECTION("a 1 MB header") {
    std::string header;
    header.reserve(kMiB + 64);
    while (header.size() < kMiB) header += "access_tokenx=aaaaaaaaaaaaaaaaaaaa; ";
    CHECK(error_of(header, "access_token") == errc::not_found);
    const std::string with_ours = header + "access_token=ours";
    CHECK(value_of(with_ours, "access_token") == "ours");
    const std::string one_big_value = "a=" + std::string(kMiB, 'v');
    CHECK(value_of(one_big_value, "a").size() == kMiB);
    const std::string separators(kMiB, ';');
    CHECK(error_of(separators, "a") == errc::not_found);
    const std::string equals(kMiB, '=');
    CHECK(error_of(equals, "a") == errc::not_found);
    const std::string spaces = "a=1" + std::string(kMiB, ' ') + "1";
    CHECK(error_of(spaces, "a") == errc::invalid_argument);  // interior spaces
  }
}

TEST_CASE("http: a CookieWriter reads back the cookies it writes", "[http]") {
  const CookieWriter cookies;
  const std::string header = "theme=dark; __Host-access_token=a.a.a; __Host-refresh_token=r.r.r";
  auto access = cookies.read_access(header);
  REQUIRE(access);
  CHECK(*access == "a.a.a");
  auto refresh = cookies.read_refresh(header);
  REQUIRE(refresh);
  CHECK(*refresh == "r.r.r");

  SECTION("the bare name, as another host could plant it, is not read") {
    auto planted = cookies.read_access("access_token=evil.evil.evil");
    REQUIRE_FALSE(planted);
    CHECK(planted.error() == errc::not_found);
  }
  SECTION("a duplicate refresh cookie is refused") {
    auto dup = cookies.read_refresh("__Host-refresh_token=a.b.c; __Host-refresh_token=d.e.f");
    REQUIRE_FALSE(dup);
    CHECK(dup.error() == errc::invalid_argument);
  }
  SECTION("round trip through Set-Cookie") {
    auto set = cookies.access(kJwt, kNow + 60s, kNow);
    REQUIRE(set);
    // The browser sends back "name=value", the part before the first "; ".
    const std::string sent = set->substr(0, set->find("; "));
    const std::string header_back = "x=1; " + sent;
    auto back = cookies.read_access(header_back);
    REQUIRE(back);
    CHECK(*back == kJwt);
  }
}

TEST_CASE("http: dpop_token reads the DPoP scheme, as bearer_token reads Bearer", "[http][dpop]") {
  using tegata::http::dpop_token;
  CHECK(*dpop_token("DPoP eyJ.a-b_c.d") == "eyJ.a-b_c.d");
  CHECK(*dpop_token("dpop eyJ.x.y") == "eyJ.x.y");
  CHECK(dpop_token("").error() == errc::not_found);
  CHECK(dpop_token("Bearer eyJ.x.y").error() == errc::not_found);  // another scheme
  CHECK(tegata::http::bearer_token("DPoP eyJ.x.y").error() == errc::not_found);
  for (const char* bad : {"DPoP", "DPoP ", "DPoP  eyJ", "DPoP eyJ x", "DPoP eyJ,x", "DPoP \"x\"",
                          "DPoP x=y", "DPoP eyJ "}) {
    INFO(bad);
    CHECK(dpop_token(bad).error() == errc::invalid_argument);
  }
}

TEST_CASE("http: dpop_proof takes exactly one DPoP field holding one compact JWS", "[http][dpop]") {
  using tegata::http::dpop_proof;
  const std::string_view one[] = {"eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln"};
  auto proof = dpop_proof(one);
  REQUIRE(proof);
  CHECK(*proof == one[0]);
  CHECK(proof->data() == one[0].data());  // a view into the argument
  CHECK(dpop_proof({}).error() == errc::not_found);
  const std::string_view two[] = {one[0], one[0]};
  CHECK(dpop_proof(two).error() == errc::invalid_argument);
  for (const std::string_view bad : {"", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b.c=",
                                     "a.b.c d", " a.b.c", "a.b.c, a.b.c", "a.b+.c", "a.b/.c"}) {
    INFO(bad);
    const std::string_view values[] = {bad};
    CHECK(dpop_proof(values).error() == errc::invalid_argument);
  }
}

TEST_CASE("http: dpop_challenge names the algorithms and the error", "[http][dpop]") {
  using tegata::Algorithm;
  using tegata::http::dpop_challenge;
  const Algorithm algs[] = {Algorithm::ES256, Algorithm::Ed25519};
  CHECK(dpop_challenge(errc::not_found, algs) == R"(DPoP algs="ES256 Ed25519")");
  CHECK(dpop_challenge({}, algs) == R"(DPoP algs="ES256 Ed25519")");
  CHECK(dpop_challenge(errc::dpop_invalid, algs) ==
        R"(DPoP algs="ES256 Ed25519", error="invalid_dpop_proof")");
  CHECK(dpop_challenge(errc::use_dpop_nonce, algs) ==
        R"(DPoP algs="ES256 Ed25519", error="use_dpop_nonce")");
  CHECK(dpop_challenge(errc::expired, algs) ==
        R"(DPoP algs="ES256 Ed25519", error="invalid_token")");
  CHECK(dpop_challenge(errc::session_revoked, std::span<const Algorithm>(algs, 1)) ==
        R"(DPoP algs="ES256", error="invalid_token")");
}
