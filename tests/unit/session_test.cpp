// SessionManager: the whole lifecycle, every transition and error code, driven by a ManualClock.
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using tegata::errc;

namespace {

const std::chrono::sys_seconds kStart{std::chrono::seconds{1'800'000'000}};

tegata::HmacKey test_key(std::string kid = "k1", char fill = 's') {
  return tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, fill), std::move(kid));
}

tegata::SessionOptions test_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  o.access_ttl = 15min;
  o.refresh_ttl = 24h;
  o.absolute_ttl = 72h;
  // Most cases here predate the grace window's 10 s default and test that any second use is
  // theft; the grace window has cases of its own (here and in session_records_test.cpp).
  o.reuse_grace = 0s;
  return o;
}

using Manager = tegata::SessionManager<tegata::HmacKey, tegata::ManualClock>;

struct Fixture {
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager manager{test_key(), test_options(), clock, store};
};

// Decodes a token's payload without verifying it (test inspection only).
nlohmann::json payload_of(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  return nlohmann::json::parse(
      *tegata::base64url_decode(token.substr(first + 1, second - first - 1)));
}

nlohmann::json header_of(const std::string& token) {
  return nlohmann::json::parse(*tegata::base64url_decode(token.substr(0, token.find('.'))));
}

}  // namespace

TEST_CASE("issue returns an access/refresh pair with the session claims", "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice", {{"role", "admin"}});
  REQUIRE(pair);
  CHECK(pair->access_expires_at == kStart + 15min);
  CHECK(pair->refresh_expires_at == kStart + 24h);
  CHECK(pair->session_id.size() == 22);  // 128 bits, base64url

  CHECK(header_of(pair->access_token)["typ"] == "at+jwt");
  CHECK(header_of(pair->refresh_token)["typ"] == "rt+jwt");
  const auto access = payload_of(pair->access_token);
  const auto refresh = payload_of(pair->refresh_token);
  for (const auto* name : {"iss", "sub", "aud", "exp", "iat", "jti", "sid", "ver", "auth_time"}) {
    INFO(name);
    CHECK(access.contains(name));
    CHECK(refresh.contains(name));
  }
  CHECK(access["role"] == "admin");
  CHECK_FALSE(refresh.contains("role"));
  CHECK(access["sid"] == pair->session_id);
  CHECK(refresh["sid"] == pair->session_id);
  CHECK(access["jti"] != refresh["jti"]);
  CHECK(access["auth_time"] == kStart.time_since_epoch().count());

  auto claims = f.manager.validate(pair->access_token);
  REQUIRE(claims);
  CHECK(claims->subject == "alice");
  CHECK(claims->session_id == pair->session_id);
  CHECK(claims->token_id == access["jti"]);
  CHECK(claims->issued_at == kStart);
  CHECK(claims->expires_at == kStart + 15min);
  CHECK(claims->auth_time == kStart);
  CHECK(claims->version == 0);
  CHECK(claims->extra == nlohmann::json{{"role", "admin"}});
}

TEST_CASE("every login starts a new family with fresh ids", "[session]") {
  Fixture f;
  auto a = f.manager.issue("alice");
  auto b = f.manager.issue("alice");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->session_id != b->session_id);
  CHECK(payload_of(a->access_token)["jti"] != payload_of(b->access_token)["jti"]);
}

TEST_CASE("issue refuses reserved extra claims and bad arguments", "[session]") {
  Fixture f;
  for (const auto* name :
       {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "sid", "ver", "auth_time"}) {
    INFO(name);
    CHECK(f.manager.issue("alice", {{name, 1}}).error() == errc::reserved_claim);
  }
  CHECK(f.manager.issue("").error() == errc::invalid_argument);
  CHECK(f.manager.issue("alice", nlohmann::json::array()).error() == errc::invalid_argument);
  // A token the manager would refuse is never issued.
  CHECK(f.manager.issue("alice", {{"blob", std::string(9000, 'x')}}).error() == errc::too_large);
}

TEST_CASE("access tokens expire exactly at exp, with leeway honoured", "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  f.clock.set(kStart + 15min - 1s);
  CHECK(f.manager.validate(pair->access_token));
  f.clock.set(kStart + 15min);
  CHECK(f.manager.validate(pair->access_token).error() == errc::expired);

  auto options = test_options();
  options.leeway = 30s;
  tegata::ManualClock clock{kStart};
  Manager lenient(test_key(), options, clock);
  auto p2 = lenient.issue("alice");
  REQUIRE(p2);
  clock.set(kStart + 15min + 29s);
  CHECK(lenient.validate(p2->access_token));
  clock.set(kStart + 15min + 30s);
  CHECK(lenient.validate(p2->access_token).error() == errc::expired);
}

TEST_CASE("refresh rotates: new pair, same family, old refresh token used up", "[session]") {
  Fixture f;
  auto first = f.manager.issue("alice");
  REQUIRE(first);
  f.clock.advance(16min);
  CHECK(f.manager.validate(first->access_token).error() == errc::expired);

  auto second = f.manager.refresh(first->refresh_token);
  REQUIRE(second);
  CHECK(second->session_id == first->session_id);
  CHECK(second->refresh_token != first->refresh_token);
  CHECK(second->access_expires_at == kStart + 16min + 15min);
  CHECK(second->refresh_expires_at == kStart + 16min + 24h);
  const auto p = payload_of(second->access_token);
  CHECK(p["auth_time"] == kStart.time_since_epoch().count());
  CHECK(p["iat"] == (kStart + 16min).time_since_epoch().count());
  auto claims = f.manager.validate(second->access_token);
  REQUIRE(claims);
  CHECK(claims->auth_time == kStart);

  // Custom claims can be supplied again on refresh; refresh tokens never carry them.
  auto third = f.manager.refresh(second->refresh_token, {{"role", "reader"}});
  REQUIRE(third);
  CHECK(f.manager.validate(third->access_token)->extra == nlohmann::json{{"role", "reader"}});
  CHECK(f.manager.refresh(third->refresh_token, {{"sid", "x"}}).error() == errc::reserved_claim);
}

TEST_CASE("refresh with a claims function: per-user claims survive rotation",
          "[session][claims_function]") {
  Fixture f;
  std::string role = "editor";
  int calls = 0;
  std::string seen_subject, seen_session;
  const auto claims_of = [&](std::string_view subject, std::string_view session_id) {
    ++calls;
    seen_subject = subject;
    seen_session = session_id;
    return nlohmann::json{{"role", role}};
  };
  auto pair = f.manager.issue("alice", claims_of("alice", ""));
  REQUIRE(pair);
  calls = 0;
  f.clock.advance(16min);

  auto next = f.manager.refresh(pair->refresh_token, claims_of);
  REQUIRE(next);
  CHECK(calls == 1);
  CHECK(seen_subject == "alice");
  CHECK(seen_session == pair->session_id);
  auto claims = f.manager.validate(next->access_token);
  REQUIRE(claims);
  CHECK(claims->extra == nlohmann::json{{"role", "editor"}});
  CHECK_FALSE(payload_of(next->refresh_token).contains("role"));  // refresh tokens carry none

  // The claims are computed at each refresh, so a change of role arrives with the next one.
  role = "viewer";
  f.clock.advance(16min);
  auto third = f.manager.refresh(next->refresh_token, claims_of);
  REQUIRE(third);
  claims = f.manager.validate(third->access_token);
  REQUIRE(claims);
  CHECK(claims->extra == nlohmann::json{{"role", "viewer"}});
  CHECK(calls == 2);

  // A function may also answer Result<nlohmann::json>, and a mutable or move-only one works.
  f.clock.advance(16min);
  auto fourth = f.manager.refresh(
      third->refresh_token,
      [n = std::make_unique<int>(0)](std::string_view subject,
                                     std::string_view) mutable -> tegata::Result<nlohmann::json> {
        ++*n;
        return nlohmann::json{{"name", subject}, {"n", *n}};
      });
  REQUIRE(fourth);
  claims = f.manager.validate(fourth->access_token);
  REQUIRE(claims);
  CHECK(claims->extra == nlohmann::json{{"name", "alice"}, {"n", 1}});
}

TEST_CASE("refresh with a claims function: not called for a token that does not verify",
          "[session][claims_function]") {
  Fixture f;
  int calls = 0;
  const auto claims_of = [&](std::string_view, std::string_view) {
    ++calls;
    return nlohmann::json::object();
  };
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  std::string forged = pair->refresh_token;
  forged.back() = forged.back() == 'A' ? 'Q' : 'A';
  CHECK(f.manager.refresh(forged, claims_of).error() == errc::bad_signature);
  CHECK(f.manager.refresh(pair->access_token, claims_of).error() == errc::wrong_type);
  CHECK(f.manager.refresh("not a token", claims_of).error() == errc::malformed);
  auto other = f.manager.issue("bob");
  REQUIRE(other);
  REQUIRE(f.manager.revoke(other->access_token));
  CHECK(f.manager.refresh(other->refresh_token, claims_of).error() == errc::session_revoked);
  f.clock.set(pair->refresh_expires_at);
  CHECK(f.manager.refresh(pair->refresh_token, claims_of).error() == errc::expired);
  CHECK(calls == 0);
}

TEST_CASE("refresh: the claims overloads stay apart", "[session][claims_function]") {
  const auto json_fn = [](std::string_view, std::string_view) { return nlohmann::json{}; };
  const auto result_fn = [](std::string_view, std::string_view) -> tegata::Result<nlohmann::json> {
    return tegata::errc::not_found;
  };
  const auto wrong_arguments = [](int) { return nlohmann::json{}; };
  const auto wrong_result = [](std::string_view, std::string_view) { return 1.5; };
  STATIC_CHECK(tegata::ExtraClaimsFunction<decltype(json_fn)>);
  STATIC_CHECK(tegata::ExtraClaimsFunction<decltype(result_fn)>);
  STATIC_CHECK_FALSE(tegata::ExtraClaimsFunction<decltype(wrong_arguments)>);
  STATIC_CHECK_FALSE(tegata::ExtraClaimsFunction<nlohmann::json>);
  STATIC_CHECK_FALSE(tegata::ExtraClaimsFunction<std::string>);
  // A number converts to nlohmann::json: accepted by the type, refused at run time (not an object).
  STATIC_CHECK(tegata::ExtraClaimsFunction<decltype(wrong_result)>);

  // Braced claims and json values still take the json overload.
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  auto next = f.manager.refresh(pair->refresh_token, {{"role", "editor"}});
  REQUIRE(next);
  const nlohmann::json extra = {{"role", "viewer"}};
  auto third = f.manager.refresh(next->refresh_token, extra);
  REQUIRE(third);
  CHECK(payload_of(third->access_token)["role"] == "viewer");
}

TEST_CASE("refresh token reuse is theft: the whole family is revoked", "[session]") {
  Fixture f;
  auto first = f.manager.issue("alice");
  REQUIRE(first);
  f.clock.advance(1min);
  auto second = f.manager.refresh(first->refresh_token);
  REQUIRE(second);
  f.clock.advance(1min);

  // The attacker replays the stolen, already used refresh token.
  CHECK(f.manager.refresh(first->refresh_token).error() == errc::refresh_reused);
  // From now on every token of the family fails, including the legitimate newest ones.
  CHECK(f.manager.validate(second->access_token).error() == errc::session_revoked);
  CHECK(f.manager.validate(first->access_token).error() == errc::session_revoked);
  CHECK(f.manager.refresh(second->refresh_token).error() == errc::session_revoked);
  CHECK(f.manager.refresh(first->refresh_token).error() == errc::session_revoked);

  // Another session of the same user is untouched, and a new login works.
  auto other = f.manager.issue("alice");
  REQUIRE(other);
  CHECK(f.manager.validate(other->access_token));
}

TEST_CASE("reuse grace: only the latest used token, only within the window", "[session]") {
  auto options = test_options();
  options.reuse_grace = 10s;
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager m(test_key(), options, clock, store);

  SECTION("the immediately preceding token within grace gets a pair in the same family") {
    auto first = m.issue("alice");
    REQUIRE(first);
    auto second = m.refresh(first->refresh_token);
    REQUIRE(second);
    clock.advance(10s);  // the boundary is inclusive
    auto parallel = m.refresh(first->refresh_token);
    REQUIRE(parallel);
    CHECK(parallel->session_id == first->session_id);
    CHECK(m.validate(parallel->access_token));
    CHECK(m.validate(second->access_token));
  }
  SECTION("one second after the window it is theft") {
    auto first = m.issue("alice");
    REQUIRE(first);
    auto second = m.refresh(first->refresh_token);
    REQUIRE(second);
    clock.advance(11s);
    CHECK(m.refresh(first->refresh_token).error() == errc::refresh_reused);
    CHECK(m.validate(second->access_token).error() == errc::session_revoked);
  }
  SECTION("an older token is always theft, even within the window") {
    auto first = m.issue("alice");
    REQUIRE(first);
    auto second = m.refresh(first->refresh_token);
    REQUIRE(second);
    auto third = m.refresh(second->refresh_token);
    REQUIRE(third);
    CHECK(m.refresh(first->refresh_token).error() == errc::refresh_reused);
    CHECK(m.validate(third->access_token).error() == errc::session_revoked);
  }
}

TEST_CASE("without grace a second use is theft even in the same second", "[session]") {
  Fixture f;
  auto first = f.manager.issue("alice");
  REQUIRE(first);
  REQUIRE(f.manager.refresh(first->refresh_token));
  CHECK(f.manager.refresh(first->refresh_token).error() == errc::refresh_reused);
}

TEST_CASE("idle limit: an unused refresh token expires at refresh_ttl", "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  f.clock.set(kStart + 24h - 1s);
  auto rotated = f.manager.refresh(pair->refresh_token);
  REQUIRE(rotated);
  f.clock.set(kStart + 24h - 1s + 24h);
  CHECK(f.manager.refresh(rotated->refresh_token).error() == errc::expired);
}

TEST_CASE("absolute lifetime: rotation never extends a session past auth_time + absolute_ttl",
          "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  const auto end = kStart + 72h;
  // Refresh every 20 hours: the refresh expiry is capped by the absolute end.
  for (int i = 1; i <= 3; ++i) {
    f.clock.set(kStart + i * 20h);
    auto next = f.manager.refresh(pair->refresh_token);
    REQUIRE(next);
    CHECK(next->refresh_expires_at == std::min(kStart + i * 20h + 24h, end));
    pair = std::move(next);
  }
  CHECK(pair->refresh_expires_at == end);
  f.clock.set(end - 1s);
  auto last = f.manager.refresh(pair->refresh_token);
  REQUIRE(last);
  CHECK(last->refresh_expires_at == end);
  CHECK(last->access_expires_at == end);  // access tokens are capped too
  f.clock.set(end);
  CHECK(f.manager.refresh(last->refresh_token).error() == errc::session_expired);
  CHECK(f.manager.validate(last->access_token).error() == errc::expired);
}

TEST_CASE("tokens are typed: refresh is never access and vice versa", "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  CHECK(f.manager.validate(pair->refresh_token).error() == errc::wrong_type);
  CHECK(f.manager.refresh(pair->access_token).error() == errc::wrong_type);
  // The access token was not consumed by the failed refresh, and still validates.
  CHECK(f.manager.validate(pair->access_token));
}

TEST_CASE("tokens of another issuer, audience or key are refused", "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);

  auto other_issuer = test_options();
  other_issuer.issuer = "https://evil.example";
  Manager m1(test_key(), other_issuer, f.clock);
  CHECK(m1.validate(pair->access_token).error() == errc::wrong_issuer);
  CHECK(m1.refresh(pair->refresh_token).error() == errc::wrong_issuer);

  auto other_audience = test_options();
  other_audience.audience = "billing";
  Manager m2(test_key(), other_audience, f.clock);
  CHECK(m2.validate(pair->access_token).error() == errc::wrong_audience);
  CHECK(m2.refresh(pair->refresh_token).error() == errc::wrong_audience);

  Manager m3(test_key("k1", 'x'), test_options(), f.clock);
  CHECK(m3.validate(pair->access_token).error() == errc::bad_signature);
  Manager m4(test_key("k2"), test_options(), f.clock);
  CHECK(m4.validate(pair->access_token).error() == errc::unknown_key);
}

TEST_CASE("tampered and malformed tokens fail with a specific code and no side effect",
          "[session]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  std::string tampered = pair->access_token;
  tampered.back() = tampered.back() == 'A' ? 'Q' : 'A';
  CHECK(f.manager.validate(tampered).error() == errc::bad_signature);
  CHECK(f.manager.validate("").error() == errc::malformed);
  CHECK(f.manager.validate("a.b").error() == errc::malformed);
  CHECK(f.manager.validate(std::string(9000, 'a')).error() == errc::too_large);
  std::string bad_refresh = pair->refresh_token;
  bad_refresh.back() = bad_refresh.back() == 'A' ? 'Q' : 'A';
  CHECK(f.manager.refresh(bad_refresh).error() == errc::bad_signature);
  // The genuine refresh token was not consumed by the forged attempt.
  CHECK(f.manager.refresh(pair->refresh_token));
}

TEST_CASE("a validly signed token without session claims is refused", "[session]") {
  Fixture f;
  const auto key = test_key();
  nlohmann::json claims = {{"iss", "https://auth.example"},
                           {"aud", "api"},
                           {"sub", "alice"},
                           {"iat", kStart.time_since_epoch().count()},
                           {"exp", (kStart + 5min).time_since_epoch().count()}};
  auto no_sid = key.sign(tegata::kAccessTokenType, claims.dump());
  REQUIRE(no_sid);
  CHECK(f.manager.validate(*no_sid).error() == errc::missing_claim);
  claims["sid"] = "s";
  claims["jti"] = "j";
  claims["auth_time"] = kStart.time_since_epoch().count();
  claims["ver"] = "0";
  auto bad_ver = key.sign(tegata::kAccessTokenType, claims.dump());
  REQUIRE(bad_ver);
  CHECK(f.manager.validate(*bad_ver).error() == errc::invalid_claim);
  claims["ver"] = 0;
  auto ok = key.sign(tegata::kAccessTokenType, claims.dump());
  REQUIRE(ok);
  CHECK(f.manager.validate(*ok));
}

TEST_CASE("logout revokes the family through either token", "[session]") {
  Fixture f;
  SECTION("with the access token") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    REQUIRE(f.manager.revoke(pair->access_token));
    CHECK(f.manager.validate(pair->access_token).error() == errc::session_revoked);
    CHECK(f.manager.refresh(pair->refresh_token).error() == errc::session_revoked);
  }
  SECTION("with the refresh token") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    REQUIRE(f.manager.revoke(pair->refresh_token));
    CHECK(f.manager.validate(pair->access_token).error() == errc::session_revoked);
    CHECK(f.manager.refresh(pair->refresh_token).error() == errc::session_revoked);
  }
  SECTION("other sessions stay valid; a forged token revokes nothing") {
    auto a = f.manager.issue("alice");
    auto b = f.manager.issue("alice");
    REQUIRE(a);
    REQUIRE(b);
    std::string forged = a->access_token;
    forged.back() = forged.back() == 'A' ? 'Q' : 'A';
    CHECK(f.manager.revoke(forged).error() == errc::bad_signature);
    CHECK(f.manager.validate(a->access_token));
    REQUIRE(f.manager.revoke(a->access_token));
    CHECK(f.manager.validate(b->access_token));
  }
}

TEST_CASE("logout works with an expired token: only exp is relaxed", "[session][logout]") {
  Fixture f;
  SECTION("an expired access token ends its family; the live refresh token is revoked") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    f.clock.set(pair->access_expires_at + 1h);
    REQUIRE(f.manager.validate(pair->access_token).error() == errc::expired);
    REQUIRE(f.manager.revoke(pair->access_token));
    CHECK(f.manager.refresh(pair->refresh_token).error() == errc::session_revoked);
  }
  SECTION("an expired refresh token ends its family, whose newer tokens are revoked") {
    auto first = f.manager.issue("alice");
    REQUIRE(first);
    f.clock.set(kStart + 20h);
    auto second = f.manager.refresh(first->refresh_token);
    REQUIRE(second);
    f.clock.set(first->refresh_expires_at + 1h);  // the first refresh token has expired
    REQUIRE(f.manager.revoke(first->refresh_token));
    CHECK(f.manager.refresh(second->refresh_token).error() == errc::session_revoked);
  }
  SECTION("other sessions of the subject are untouched") {
    auto a = f.manager.issue("alice");
    auto b = f.manager.issue("alice");
    REQUIRE(a);
    REQUIRE(b);
    f.clock.set(kStart + 16min);
    REQUIRE(f.manager.revoke(a->access_token));
    CHECK(f.manager.refresh(b->refresh_token));
  }
  SECTION("signature, type, issuer and audience are still checked") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    f.clock.set(kStart + 16min);
    std::string forged = pair->access_token;
    forged.back() = forged.back() == 'A' ? 'Q' : 'A';
    CHECK(f.manager.revoke(forged).error() == errc::bad_signature);
    auto other_issuer = test_options();
    other_issuer.issuer = "https://evil.example";
    Manager m1(test_key(), other_issuer, f.clock, f.store);
    CHECK(m1.revoke(pair->access_token).error() == errc::wrong_issuer);
    auto other_audience = test_options();
    other_audience.audience = "billing";
    Manager m2(test_key(), other_audience, f.clock, f.store);
    CHECK(m2.revoke(pair->access_token).error() == errc::wrong_audience);
    // A JWT of another type (typ JWT) is neither an access nor a refresh token.
    const tegata::HmacKey key = test_key();
    auto payload = payload_of(pair->access_token);
    auto plain = key.sign(tegata::TokenType("JWT"), payload.dump());
    REQUIRE(plain);
    CHECK(f.manager.revoke(*plain).error() == errc::wrong_type);
    // None of these ended the session.
    CHECK(f.manager.refresh(pair->refresh_token));
  }
  SECTION("nbf and iat in the future are still refused") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    f.clock.set(kStart + 16min);  // past the access token's exp
    const tegata::HmacKey key = test_key();
    auto claims = payload_of(pair->access_token);
    claims["iat"] = (kStart + 1h).time_since_epoch().count();
    auto from_future = key.sign(tegata::kAccessTokenType, claims.dump());
    REQUIRE(from_future);
    CHECK(f.manager.revoke(*from_future).error() == errc::issued_in_future);
    claims = payload_of(pair->access_token);
    claims["nbf"] = (kStart + 1h).time_since_epoch().count();
    auto not_yet = key.sign(tegata::kAccessTokenType, claims.dump());
    REQUIRE(not_yet);
    CHECK(f.manager.revoke(*not_yet).error() == errc::not_yet_valid);
    CHECK(f.manager.refresh(pair->refresh_token));
  }
  SECTION("a token without exp is still refused") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    const tegata::HmacKey key = test_key();
    auto claims = payload_of(pair->access_token);
    claims.erase("exp");
    auto no_exp = key.sign(tegata::kAccessTokenType, claims.dump());
    REQUIRE(no_exp);
    CHECK(f.manager.revoke(*no_exp).error() == errc::missing_claim);
    CHECK(f.manager.refresh(pair->refresh_token));
  }
  SECTION("past the family's absolute end: success, and nothing is written") {
    auto pair = f.manager.issue("alice");
    REQUIRE(pair);
    f.store.prune(kStart);
    const std::size_t before = f.store.size();
    f.clock.set(kStart + 72h);  // absolute_ttl: no token of the family is accepted any more
    CHECK(f.manager.revoke(pair->access_token));
    CHECK(f.manager.revoke(pair->refresh_token));
    CHECK(f.store.size() == before);
  }
}

TEST_CASE("logout with an expired token, with leeway: the revocation outlives every token",
          "[session][logout]") {
  auto options = test_options();
  options.leeway = 30s;
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager m(test_key(), options, clock, store);
  auto login = m.issue("alice");
  REQUIRE(login);
  auto pair = login;
  const std::chrono::seconds rotations[] = {20h, 40h, 60h, 72h - 1s};
  for (const auto at : rotations) {
    clock.set(kStart + at);
    auto next = m.refresh(pair->refresh_token);
    REQUIRE(next);
    pair = std::move(next);
  }
  REQUIRE(pair->access_expires_at == kStart + 72h);
  // Past the absolute end but within leeway, the latest access token is still accepted ...
  clock.set(kStart + 72h + 10s);
  REQUIRE(m.validate(pair->access_token));
  // ... so a logout with the login's long-expired access token must still be recorded.
  REQUIRE(m.revoke(login->access_token));
  CHECK(m.validate(pair->access_token).error() == errc::session_revoked);
  clock.set(kStart + 72h + 29s);
  store.prune(clock.now());
  CHECK(m.validate(pair->access_token).error() == errc::session_revoked);
}

TEST_CASE("log out everywhere bumps the version; new logins work", "[session]") {
  Fixture f;
  auto one = f.manager.issue("alice");
  auto two = f.manager.issue("alice");
  auto bob = f.manager.issue("bob");
  REQUIRE(one);
  REQUIRE(two);
  REQUIRE(bob);
  REQUIRE(f.manager.revoke_all("alice"));
  CHECK(f.manager.validate(one->access_token).error() == errc::version_mismatch);
  CHECK(f.manager.validate(two->access_token).error() == errc::version_mismatch);
  CHECK(f.manager.refresh(one->refresh_token).error() == errc::version_mismatch);
  CHECK(f.manager.validate(bob->access_token));

  auto again = f.manager.issue("alice");  // same second as the bump
  REQUIRE(again);
  auto claims = f.manager.validate(again->access_token);
  REQUIRE(claims);
  CHECK(claims->version > 0);
  f.clock.advance(20min);
  auto rotated = f.manager.refresh(again->refresh_token);
  REQUIRE(rotated);
  CHECK(f.manager.validate(rotated->access_token));

  // A second bump voids the tokens issued after the first one.
  REQUIRE(f.manager.revoke_all("alice"));
  CHECK(f.manager.validate(rotated->access_token).error() == errc::version_mismatch);
  CHECK(f.manager.revoke_all("").error() == errc::invalid_argument);
}

TEST_CASE("the stateless mode checks signatures and claims only", "[session]") {
  tegata::ManualClock clock{kStart};
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::NullRevocationStore> m(
      test_key(), test_options(), clock);
  auto pair = m.issue("alice");
  REQUIRE(pair);
  CHECK(m.validate(pair->access_token));
  auto rotated = m.refresh(pair->refresh_token);
  REQUIRE(rotated);
  // Weaker by design: reuse goes undetected, and logout cannot be enforced.
  CHECK(m.refresh(pair->refresh_token));
  CHECK(m.revoke(pair->access_token).error() == errc::not_supported);
  CHECK(m.revoke_all("alice").error() == errc::not_supported);
}

TEST_CASE("misconfiguration fails at construction", "[session]") {
  auto make = [](auto mutate) {
    auto o = test_options();
    mutate(o);
    Manager m(test_key(), o, tegata::ManualClock{kStart});
  };
  using O = tegata::SessionOptions;
  CHECK_THROWS_AS(make([](O& o) { o.issuer.clear(); }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.audience.clear(); }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.access_ttl = 0s; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.access_ttl = 48h; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.refresh_ttl = 100h; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.leeway = 301s; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.leeway = -1s; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.reuse_grace = 301s; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](O& o) { o.max_token_bytes = 100; }), std::invalid_argument);
  CHECK_NOTHROW(make([](O& o) { o.leeway = 300s; }));
}

TEST_CASE("pruning: once every token has expired the store holds nothing", "[session]") {
  Fixture f;
  std::vector<tegata::TokenPair> pairs;
  for (int i = 0; i < 20; ++i) {
    auto p = f.manager.issue("user" + std::to_string(i % 5));
    REQUIRE(p);
    pairs.push_back(*p);
  }
  for (int i = 0; i < 10; ++i) REQUIRE(f.manager.refresh(pairs[i].refresh_token));
  CHECK(f.manager.refresh(pairs[0].refresh_token).error() == errc::refresh_reused);
  REQUIRE(f.manager.revoke(pairs[15].access_token));
  REQUIRE(f.manager.revoke_all("user4"));
  CHECK(f.store.size() > 0);

  f.clock.advance(72h + 1s);
  f.store.prune(f.clock.now());
  CHECK(f.store.size() == 0);
}

TEST_CASE("concurrent refreshes of one token: exactly one wins, then the family is revoked",
          "[session][concurrency]") {
  Fixture f;
  auto pair = f.manager.issue("alice");
  REQUIRE(pair);
  std::atomic<int> successes{0}, reused{0}, revoked{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      auto r = f.manager.refresh(pair->refresh_token);
      if (r) {
        ++successes;
      } else if (r.error() == errc::refresh_reused) {
        ++reused;
      } else if (r.error() == errc::session_revoked) {
        ++revoked;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  CHECK(successes == 1);
  CHECK(reused + revoked == 7);
  CHECK(reused >= 1);
  CHECK(f.manager.validate(pair->access_token).error() == errc::session_revoked);
}

TEST_CASE("parallel validations stay consistent with concurrent revocations",
          "[session][concurrency]") {
  Fixture f;
  constexpr int kSessions = 64;
  std::vector<tegata::TokenPair> pairs;
  for (int i = 0; i < kSessions; ++i) pairs.push_back(*f.manager.issue("user" + std::to_string(i)));
  std::vector<std::atomic<bool>> revoked(kSessions);
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistencies{0};
  std::vector<std::thread> validators;
  for (int t = 0; t < 4; ++t) {
    validators.emplace_back([&, t] {
      for (int round = 0; !stop.load() || round < 200; ++round) {
        const int i = (round * 7 + t) % kSessions;
        const bool was_revoked = revoked[i].load();
        auto r = f.manager.validate(pairs[i].access_token);
        // Once revoke() has returned, no validation may succeed.
        if (was_revoked && r) ++inconsistencies;
        if (!r && r.error() != errc::session_revoked) ++inconsistencies;
        if (round > 2000) break;
      }
    });
  }
  for (int i = 0; i < kSessions; i += 2) {
    REQUIRE(f.manager.revoke(pairs[i].access_token));
    revoked[i] = true;
  }
  stop = true;
  for (auto& t : validators) t.join();
  CHECK(inconsistencies == 0);
  for (int i = 0; i < kSessions; ++i) {
    CHECK(static_cast<bool>(f.manager.validate(pairs[i].access_token)) == (i % 2 == 1));
  }
}

TEST_CASE("leeway: a refresh token used within the leeway after exp is still single-use",
          "[session]") {
  auto options = test_options();
  options.leeway = 30s;
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager m(test_key(), options, clock, store);
  auto pair = m.issue("alice");
  REQUIRE(pair);
  clock.set(pair->refresh_expires_at + 10s);
  auto rotated = m.refresh(pair->refresh_token);
  REQUIRE(rotated);
  clock.advance(10s);
  CHECK(m.refresh(pair->refresh_token).error() == errc::refresh_reused);
  CHECK(m.validate(rotated->access_token).error() == errc::session_revoked);
  clock.set(pair->refresh_expires_at + 30s);
  CHECK(m.refresh(pair->refresh_token).error() == errc::expired);
}

TEST_CASE("leeway: logout holds until the last second a token of the family is accepted",
          "[session]") {
  auto options = test_options();
  options.leeway = 30s;
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager m(test_key(), options, clock, store);
  auto pair = m.issue("alice");
  REQUIRE(pair);
  for (auto at : {20h, 40h, 60h}) {
    clock.set(kStart + at);
    auto next = m.refresh(pair->refresh_token);
    REQUIRE(next);
    pair = std::move(next);
  }
  clock.set(kStart + 72h - 1s);
  auto last = m.refresh(pair->refresh_token);
  REQUIRE(last);
  REQUIRE(last->access_expires_at == kStart + 72h);
  REQUIRE(m.revoke(last->access_token));
  clock.set(kStart + 72h + 29s);  // past the absolute end, within leeway: still refused
  store.prune(clock.now());
  CHECK(m.validate(last->access_token).error() == errc::session_revoked);
}

TEST_CASE("issue and refresh never hand out a token that validate would refuse", "[session][limits]") {
  // The manager writes nine claims itself; jws::Limits::max_claims (64) bounds them all.
  auto extra_claims = [](std::size_t n) {
    nlohmann::json extra = nlohmann::json::object();
    for (std::size_t i = 0; i < n; ++i) extra["c" + std::to_string(i)] = i;
    return extra;
  };
  tegata::ManualClock clock{kStart};
  Manager manager{test_key(), test_options(), clock, tegata::MemoryRevocationStore{}};
  auto at_limit = manager.issue("alice", extra_claims(64 - 9));
  REQUIRE(at_limit);
  CHECK(manager.validate(at_limit->access_token));
  CHECK(manager.issue("alice", extra_claims(64 - 9 + 1)).error() == errc::too_large);
  CHECK(manager.refresh(at_limit->refresh_token, extra_claims(64 - 9 + 1)).error() ==
        errc::too_large);

  // Deeper than max_json_depth (16, the claims object included).
  nlohmann::json nested = 0;
  for (int i = 0; i < 15; ++i) nested = nlohmann::json::array({nested});
  auto deep_enough = manager.issue("alice", {{"n", nested}});
  REQUIRE(deep_enough);
  CHECK(manager.validate(deep_enough->access_token));
  CHECK(manager.issue("alice", {{"n", nlohmann::json::array({nested})}}).error() ==
        errc::too_deep);

  // A kid so long that the header segment exceeds max_header_bytes (1024).
  Manager long_kid{test_key(std::string(800, 'k')), test_options(), clock,
                   tegata::MemoryRevocationStore{}};
  CHECK(long_kid.issue("alice").error() == errc::too_large);
}
