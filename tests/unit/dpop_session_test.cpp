// Sessions bound to the client's key (DPoP, RFC 9449): login binds with the proof's thumbprint,
// both tokens carry cnf.jkt, and validate, refresh and revoke accept a bound token only with a
// fresh, unused proof by that key. Each attack of RFC 9449 §11 is shown refused, and what it
// leaves behind checked (nothing used up, the session alive). Unbound sessions as before.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>
#include <utility>

#include "support/dpop_client.hpp"

using namespace std::chrono_literals;
using tegata::Algorithm;
using tegata::errc;
using tegata_test::DpopClient;

namespace {

const std::chrono::sys_seconds kStart{std::chrono::seconds{1'800'000'000}};
constexpr std::string_view kLogin = "https://app.example/login";
constexpr std::string_view kApi = "https://app.example/api/me";
constexpr std::string_view kRefresh = "https://app.example/refresh";
constexpr std::string_view kLogout = "https://app.example/logout";

tegata::SessionOptions test_options() {
  tegata::SessionOptions o;
  o.issuer = "https://auth.example";
  o.audience = "api";
  o.access_ttl = 15min;
  o.refresh_ttl = 24h;
  o.absolute_ttl = 72h;
  return o;
}

using Manager = tegata::SessionManager<tegata::HmacKey, tegata::ManualClock>;

struct Fixture {
  tegata::ManualClock clock{kStart};
  tegata::MemoryRevocationStore store;
  Manager sessions{tegata::HmacKey(Algorithm::HS256, std::string(32, 'd'), "k1"), test_options(),
                   clock, store};
  DpopClient client;  // the legitimate client, ES256
  DpopClient thief = DpopClient(Algorithm::Ed25519);

  // A login bound to client's key, as a server does it: the proof first, then the session.
  tegata::TokenPair login(std::string_view subject = "alice") {
    return tegata_test::bound_login(sessions, client, subject, kLogin);
  }
};

nlohmann::json payload_of(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  auto text = tegata::base64url_decode(token.substr(first + 1, second - first - 1));
  REQUIRE(text);
  return nlohmann::json::parse(*text);
}

}  // namespace

TEST_CASE("dpop session: a bound login puts cnf.jkt in both tokens and the record", "[dpop]") {
  Fixture f;
  const auto pair = f.login();
  const nlohmann::json expected{{"jkt", f.client.jkt()}};
  CHECK(payload_of(pair.access_token)["cnf"] == expected);
  CHECK(payload_of(pair.refresh_token)["cnf"] == expected);

  auto claims = f.sessions.validate(pair.access_token,
                                    f.client.proof("GET", kApi, f.clock.now(), pair.access_token),
                                    "GET", kApi);
  REQUIRE(claims);
  CHECK(claims->jkt == f.client.jkt());
  CHECK(claims->extra.empty());  // cnf is the manager's, not a custom claim

  auto listed = f.sessions.sessions("alice");
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].jkt == f.client.jkt());
}

TEST_CASE("dpop session: validate needs a fresh proof by the bound key, once", "[dpop]") {
  Fixture f;
  const auto pair = f.login();
  const std::string& at = pair.access_token;

  SECTION("a bound token alone is refused, whichever call presents it") {
    CHECK(f.sessions.validate(at).error() == errc::dpop_required);
    CHECK(f.sessions.validate(at, "", "GET", kApi).error() == errc::dpop_required);
  }
  SECTION("the thief's own valid proof is a mismatch") {
    CHECK(f.sessions.validate(at, f.thief.proof("GET", kApi, f.clock.now(), at), "GET", kApi)
              .error() == errc::dpop_mismatch);
  }
  SECTION("a proof used twice is a replay; a new one passes") {
    const std::string proof = f.client.proof("GET", kApi, f.clock.now(), at);
    REQUIRE(f.sessions.validate(at, proof, "GET", kApi));
    CHECK(f.sessions.validate(at, proof, "GET", kApi).error() == errc::dpop_replayed);
    f.clock.advance(59s);  // still within the proof's iat window
    CHECK(f.sessions.validate(at, proof, "GET", kApi).error() == errc::dpop_replayed);
    CHECK(f.sessions.validate(at, f.client.proof("GET", kApi, f.clock.now(), at), "GET", kApi));
  }
  SECTION("a proof for another request, another token or none is invalid") {
    const auto now = f.clock.now();
    CHECK(f.sessions.validate(at, f.client.proof("POST", kApi, now, at), "GET", kApi).error() ==
          errc::dpop_invalid);
    CHECK(f.sessions.validate(at, f.client.proof("GET", kRefresh, now, at), "GET", kApi).error() ==
          errc::dpop_invalid);
    CHECK(f.sessions.validate(at, f.client.proof("GET", kApi, now), "GET", kApi).error() ==
          errc::dpop_invalid);  // no ath
    CHECK(f.sessions.validate(at, f.client.proof("GET", kApi, now, pair.refresh_token), "GET", kApi)
              .error() == errc::dpop_invalid);  // ath of another token
    CHECK(f.sessions.validate(at, f.client.proof("GET", kApi, now - 61s, at), "GET", kApi)
              .error() == errc::dpop_invalid);  // stale
    CHECK(f.sessions.validate(at, f.client.proof("GET", kApi, now + 61s, at), "GET", kApi)
              .error() == errc::dpop_invalid);  // from the future
  }
  SECTION("a refused proof is not used up") {
    const std::string proof = f.client.proof("GET", kApi, f.clock.now(), at);
    CHECK(f.sessions.validate(at, proof, "POST", kApi).error() == errc::dpop_invalid);
    CHECK(f.sessions.validate(at, proof, "GET", kApi));
  }
  SECTION("the token's revocation comes before the proof is used up") {
    REQUIRE(f.sessions.revoke(pair.refresh_token,
                              f.client.proof("POST", kLogout, f.clock.now()), "POST", kLogout));
    const std::string proof = f.client.proof("GET", kApi, f.clock.now(), at);
    CHECK(f.sessions.validate(at, proof, "GET", kApi).error() == errc::session_revoked);
  }
}

TEST_CASE("dpop session: refresh needs the bound key, and a refused refresh uses nothing up",
          "[dpop]") {
  Fixture f;
  const auto pair = f.login();
  const std::string& rt = pair.refresh_token;

  CHECK(f.sessions.refresh(rt).error() == errc::dpop_required);
  CHECK(f.sessions.refresh(rt, "", "POST", kRefresh).error() == errc::dpop_required);
  // A stolen refresh token with the thief's own proof.
  CHECK(f.sessions.refresh(rt, f.thief.proof("POST", kRefresh, f.clock.now()), "POST", kRefresh)
            .error() == errc::dpop_mismatch);
  CHECK(f.sessions.refresh(rt, f.client.proof("POST", kApi, f.clock.now()), "POST", kRefresh)
            .error() == errc::dpop_invalid);
  // None of that was theft, and none of it used the token up: the owner's refresh works, and
  // rotates (reuse of rt past the grace window is then theft, as for any session).
  const std::string proof = f.client.proof("POST", kRefresh, f.clock.now());
  auto next = f.sessions.refresh(rt, proof, "POST", kRefresh);
  REQUIRE(next);
  CHECK(payload_of(next->access_token)["cnf"]["jkt"] == f.client.jkt());
  CHECK(payload_of(next->refresh_token)["cnf"]["jkt"] == f.client.jkt());
  // The same proof again, even with the new token: a replay, and the new token is not used up.
  CHECK(f.sessions.refresh(next->refresh_token, proof, "POST", kRefresh).error() ==
        errc::dpop_replayed);
  auto third = f.sessions.refresh(next->refresh_token,
                                  f.client.proof("POST", kRefresh, f.clock.now()), "POST",
                                  kRefresh);
  REQUIRE(third);
  CHECK(f.sessions.validate(third->access_token,
                            f.client.proof("GET", kApi, f.clock.now(), third->access_token),
                            "GET", kApi));

  SECTION("with computed claims") {
    auto fourth = f.sessions.refresh(
        third->refresh_token, f.client.proof("POST", kRefresh, f.clock.now()), "POST", kRefresh,
        [](std::string_view subject, std::string_view) {
          return nlohmann::json{{"role", subject == "alice" ? "editor" : "none"}};
        });
    REQUIRE(fourth);
    CHECK(payload_of(fourth->access_token)["role"] == "editor");
    CHECK(payload_of(fourth->access_token)["cnf"]["jkt"] == f.client.jkt());
    CHECK(f.sessions.refresh(fourth->refresh_token,
                             [](std::string_view, std::string_view) { return nlohmann::json{}; })
              .error() == errc::dpop_required);
  }
}

TEST_CASE("dpop session: logout of a bound session needs the key too", "[dpop]") {
  Fixture f;
  const auto pair = f.login();
  // A thief holding the token cannot end its owner's session.
  CHECK(f.sessions.revoke(pair.access_token).error() == errc::dpop_required);
  CHECK(f.sessions.revoke(pair.refresh_token,
                          f.thief.proof("POST", kLogout, f.clock.now()), "POST", kLogout)
            .error() == errc::dpop_mismatch);
  REQUIRE(f.sessions.sessions("alice")->size() == 1);
  // The access token's proof carries its hash.
  CHECK(f.sessions.revoke(pair.access_token, f.client.proof("POST", kLogout, f.clock.now()),
                          "POST", kLogout)
            .error() == errc::dpop_invalid);
  REQUIRE(f.sessions.revoke(pair.access_token,
                            f.client.proof("POST", kLogout, f.clock.now(), pair.access_token),
                            "POST", kLogout));
  CHECK(f.sessions.sessions("alice")->empty());
  CHECK(f.sessions.refresh(pair.refresh_token, f.client.proof("POST", kRefresh, f.clock.now()),
                           "POST", kRefresh)
            .error() == errc::session_revoked);
}

TEST_CASE("dpop session: an unbound session works as before, and a proof binds nothing later",
          "[dpop]") {
  Fixture f;
  auto pair = f.sessions.issue("bob");
  REQUIRE(pair);
  CHECK_FALSE(payload_of(pair->access_token).contains("cnf"));
  CHECK(f.sessions.validate(pair->access_token));
  auto claims = f.sessions.validate(
      pair->access_token, f.client.proof("GET", kApi, f.clock.now(), pair->access_token), "GET",
      kApi);
  REQUIRE(claims);
  CHECK(claims->jkt.empty());
  // A proof sent along must still be valid.
  CHECK(f.sessions.validate(pair->access_token, f.client.proof("GET", kApi, f.clock.now()), "GET",
                            kApi)
            .error() == errc::dpop_invalid);
  auto next = f.sessions.refresh(pair->refresh_token,
                                 f.client.proof("POST", kRefresh, f.clock.now()), "POST", kRefresh);
  REQUIRE(next);
  CHECK_FALSE(payload_of(next->access_token).contains("cnf"));
  CHECK_FALSE(payload_of(next->refresh_token).contains("cnf"));
  CHECK(f.sessions.validate(next->access_token));  // no proof needed: still unbound
  CHECK(f.sessions.sessions("bob")->at(0).jkt.empty());
  CHECK(f.sessions.revoke(next->access_token));
}

TEST_CASE("dpop session: login proofs and the binding option are checked", "[dpop]") {
  Fixture f;
  CHECK(f.sessions.verify_proof("", "POST", kLogin).error() == errc::dpop_required);
  CHECK(f.sessions.verify_proof("not.a.proof", "POST", kLogin).error() == errc::dpop_invalid);
  const std::string proof = f.client.proof("POST", kLogin, f.clock.now());
  REQUIRE(f.sessions.verify_proof(proof, "POST", kLogin));
  CHECK(f.sessions.verify_proof(proof, "POST", kLogin).error() == errc::dpop_replayed);
  // The replay key covers the key too: another client's proof with the same jti is its own.
  CHECK(f.sessions.verify_proof(f.thief.proof("POST", kLogin, f.clock.now()), "POST", kLogin));

  for (const std::string& bad : {std::string(42, 'a'), std::string(44, 'a'),
                                std::string(42, 'a') + "=", std::string(42, 'a') + "+"}) {
    tegata::IssueOptions options;
    options.dpop_jkt = bad;
    CHECK(f.sessions.issue("alice", options).error() == errc::invalid_argument);
  }
  CHECK(f.sessions.issue("alice", {{"cnf", {{"jkt", f.client.jkt()}}}}).error() ==
        errc::reserved_claim);
  CHECK(f.store.size() == 2);  // the two proofs; no session was stored

  // A store that cannot remember proofs cannot hold a bound session.
  tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::NullRevocationStore>
      stateless(tegata::HmacKey(Algorithm::HS256, std::string(32, 'd'), "k1"), test_options(),
                f.clock);
  tegata::IssueOptions bound;
  bound.dpop_jkt = f.client.jkt();
  CHECK(stateless.issue("alice", bound).error() == errc::not_supported);
  CHECK(stateless.verify_proof(f.client.proof("POST", kLogin, f.clock.now()), "POST", kLogin)
            .error() == errc::not_supported);
}

TEST_CASE("dpop session: a bound token's cnf must be exactly {jkt: thumbprint}", "[dpop]") {
  Fixture f;
  const auto pair = f.login();
  const tegata::HmacKey signer(Algorithm::HS256, std::string(32, 'd'), "k1");
  // The same claims with cnf changed, signed with the manager's own key (as an insider could):
  // a cnf the manager does not understand never passes as unbound.
  nlohmann::json claims = payload_of(pair.access_token);
  for (const nlohmann::json& cnf :
       {nlohmann::json("x"), nlohmann::json::object(), nlohmann::json{{"jwk", "x"}},
        nlohmann::json{{"jkt", f.client.jkt()}, {"x5t#S256", "x"}},
        nlohmann::json{{"jkt", "short"}}, nlohmann::json{{"jkt", 5}}}) {
    INFO(cnf.dump());
    claims["cnf"] = cnf;
    auto token = signer.sign(tegata::kAccessTokenType, claims.dump());
    REQUIRE(token);
    CHECK(f.sessions.validate(*token).error() == errc::invalid_claim);
  }
}

TEST_CASE("dpop session: nonces, when required, are the server's own and retried", "[dpop]") {
  tegata::ManualClock clock{kStart};
  tegata::SessionOptions options = test_options();
  options.dpop.nonces.emplace(std::string(32, 'n'));
  Manager sessions(tegata::HmacKey(Algorithm::HS256, std::string(32, 'd'), "k1"), options, clock);
  DpopClient client;
  auto refused = sessions.verify_proof(client.proof("POST", kLogin, clock.now()), "POST", kLogin);
  CHECK(refused.error() == errc::use_dpop_nonce);
  const auto nonce = sessions.dpop_nonce();
  REQUIRE(nonce);
  auto proof = sessions.verify_proof(client.proof("POST", kLogin, clock.now(), {}, *nonce), "POST",
                                     kLogin);
  REQUIRE(proof);
  CHECK(proof->nonce == *nonce);
  const Fixture without;
  CHECK_FALSE(without.sessions.dpop_nonce());  // none without the option
}

TEST_CASE("dpop session: used proofs are forgotten after their window, and bounded", "[dpop]") {
  SECTION("expiry") {
    Fixture f;
    const auto pair = f.login();  // one proof, one record, one index
    const std::size_t base = f.store.size();
    for (int i = 0; i < 10; ++i) {
      REQUIRE(f.sessions.validate(
          pair.access_token, f.client.proof("GET", kApi, f.clock.now(), pair.access_token), "GET",
          kApi));
    }
    CHECK(f.store.size() == base + 10);
    f.clock.advance(62s);
    f.store.prune(f.clock.now());
    CHECK(f.store.size() == base - 1);  // the login's proof is gone too
  }
  SECTION("a full store refuses the request rather than forget a proof") {
    tegata::ManualClock clock{kStart};
    tegata::MemoryRevocationStore store(tegata::MemoryRevocationStore::Options{4, 1});
    Manager sessions(tegata::HmacKey(Algorithm::HS256, std::string(32, 'd'), "k1"),
                     test_options(), clock, store);
    DpopClient client;
    for (int i = 0; i < 4; ++i) {
      REQUIRE(sessions.verify_proof(client.proof("POST", kLogin, clock.now()), "POST", kLogin));
    }
    CHECK(sessions.verify_proof(client.proof("POST", kLogin, clock.now()), "POST", kLogin)
              .error() == errc::store_full);
    clock.advance(62s);
    CHECK(sessions.verify_proof(client.proof("POST", kLogin, clock.now()), "POST", kLogin));
  }
}

TEST_CASE("dpop session: every default algorithm binds", "[dpop]") {
  for (const Algorithm alg : {Algorithm::ES256, Algorithm::EdDSA, Algorithm::Ed25519,
                              Algorithm::RS256, Algorithm::PS256}) {
    INFO(tegata::to_string(alg));
    Fixture f;
    f.client = DpopClient(alg);
    const auto pair = f.login();
    CHECK(f.sessions.validate(pair.access_token,
                              f.client.proof("GET", kApi, f.clock.now(), pair.access_token),
                              "GET", kApi));
    CHECK(f.sessions.refresh(pair.refresh_token, f.client.proof("POST", kRefresh, f.clock.now()),
                             "POST", kRefresh));
  }
}
