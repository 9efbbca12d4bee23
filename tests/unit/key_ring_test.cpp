// KeyRing: key selection by kid, the rotation lifecycle, the ring's rules, JWKS import, and
// rotation while other threads sign and verify.
#include "tegata/keys/key_ring.hpp"

#include <openssl/evp.h>

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/keys/jwk.hpp"

namespace {

using json = nlohmann::json;
using tegata::Algorithm;
using tegata::AnyKey;
using tegata::errc;
using tegata::KeyRing;
namespace keys = tegata::keys;

tegata::detail::evp_pkey_ptr keygen(const char* type, const char* curve = nullptr) {
  EVP_PKEY* key = curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(key != nullptr);
  return tegata::detail::evp_pkey_ptr(key);
}

AnyKey es256(std::string kid) {
  return tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), std::move(kid));
}

AnyKey ed25519(std::string kid) { return tegata::EddsaKey(keygen("ED25519"), std::move(kid)); }

AnyKey rs256(std::string kid) {
  static const tegata::detail::evp_pkey_ptr rsa = [] {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
    REQUIRE(key != nullptr);
    return tegata::detail::evp_pkey_ptr(key);
  }();
  REQUIRE(EVP_PKEY_up_ref(rsa.get()) == 1);
  return tegata::RsaKey(Algorithm::RS256, tegata::detail::evp_pkey_ptr(rsa.get()), std::move(kid));
}

AnyKey hs256(std::string kid, char fill = 's') {
  return tegata::HmacKey(Algorithm::HS256, std::string(32, fill), std::move(kid));
}

std::string sign(const KeyRing& ring, std::string_view payload = R"({"sub":"alice"})") {
  auto token = ring.sign("JWT", payload);
  REQUIRE(token);
  return *token;
}

std::error_code verify(const KeyRing& ring, const std::string& token) {
  auto parsed = tegata::jws::parse(token);
  REQUIRE(parsed);
  return ring.verify(*parsed);
}

std::string kid_of(const std::string& token) {
  auto parsed = tegata::jws::parse(token);
  REQUIRE(parsed);
  return parsed->header.kid;
}

// A compact JWS with exactly this header, signed by key (which need not match the header).
std::string forge(const AnyKey& key, const json& header,
                  std::string_view payload = R"({"sub":"mallory"})") {
  std::string input =
      tegata::base64url_encode(header.dump()) + "." + tegata::base64url_encode(payload);
  auto signature = key.sign_raw(input);
  REQUIRE(signature);
  return input + "." + tegata::base64url_encode(*signature);
}

}  // namespace

TEST_CASE("the rotation lifecycle", "[key_ring]") {
  KeyRing ring(es256("2024-01"));
  const KeyRing handle = ring;  // e.g. the copy a SessionManager holds
  const std::string old_token = sign(ring);
  CHECK(kid_of(old_token) == "2024-01");
  CHECK_FALSE(verify(ring, old_token));

  // 1. Add the next key as verify-only: the old key still signs.
  ring.add(es256("2024-02"));
  CHECK(ring.primary_kid() == "2024-01");
  CHECK(handle.size() == 2);
  CHECK(kid_of(sign(handle)) == "2024-01");

  // 2. Publish the JWKS; verifiers build their ring from it.
  auto jwks = ring.public_jwks();
  REQUIRE(jwks);
  REQUIRE(jwks->at("keys").size() == 2);
  CHECK(jwks->at("keys")[0].at("kid") == "2024-01");
  CHECK(jwks->at("keys")[1].at("kid") == "2024-02");
  for (const json& jwk : jwks->at("keys")) CHECK_FALSE(jwk.contains("d"));
  auto verifier = KeyRing::from_jwks(*jwks);
  REQUIRE(verifier);
  CHECK_FALSE(verify(*verifier, old_token));

  // 3. Promote: new tokens carry the new kid; old tokens still verify everywhere.
  ring.promote("2024-02");
  CHECK(ring.primary_kid() == "2024-02");
  CHECK(handle.primary_kid() == "2024-02");
  const std::string new_token = sign(handle);
  CHECK(kid_of(new_token) == "2024-02");
  CHECK_FALSE(verify(ring, old_token));
  CHECK_FALSE(verify(ring, new_token));
  CHECK_FALSE(verify(*verifier, new_token));
  CHECK(ring.public_jwks()->at("keys")[0].at("kid") == "2024-02");

  // 4. Retire the old key: its tokens are now unknown.
  ring.retire("2024-01");
  CHECK(ring.size() == 1);
  CHECK_FALSE(handle.contains("2024-01"));
  CHECK(verify(handle, old_token) == errc::unknown_key);
  CHECK_FALSE(verify(handle, new_token));

  SECTION("misuse leaves the ring unchanged") {
    CHECK_THROWS_AS(ring.retire("2024-02"), std::invalid_argument);  // the primary
    CHECK_THROWS_AS(ring.retire("2024-01"), std::invalid_argument);  // already gone
    CHECK_THROWS_AS(ring.promote("2024-01"), std::invalid_argument);
    CHECK(ring.size() == 1);
    CHECK(ring.primary_kid() == "2024-02");
  }
  SECTION("retiring a key before the primary keeps the primary") {
    ring.add(es256("2024-03"));
    ring.add(es256("2024-04"));
    ring.promote("2024-04");
    ring.retire("2024-02");
    CHECK(ring.primary_kid() == "2024-04");
    CHECK(kid_of(sign(ring)) == "2024-04");
    CHECK(ring.keys().size() == 2);
    CHECK(ring.keys()[0].kid() == "2024-04");
  }
}

TEST_CASE("key selection by kid and the key's own algorithm", "[key_ring]") {
  const AnyKey rsa = rs256("rsa");
  const AnyKey ec = es256("ec");
  const KeyRing ring(rsa, {ec});

  CHECK_FALSE(verify(ring, sign(ring)));
  CHECK_FALSE(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "ec"}})));
  CHECK_FALSE(verify(ring, forge(rsa, {{"alg", "RS256"}, {"kid", "rsa"}, {"typ", "JWT"}})));

  SECTION("a header alg that is not the key's") {
    CHECK(verify(ring, forge(rsa, {{"alg", "RS256"}, {"kid", "ec"}})) ==
          errc::unsupported_algorithm);
    CHECK(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "rsa"}})) ==
          errc::unsupported_algorithm);
    CHECK(verify(ring, forge(rsa, {{"alg", "PS256"}, {"kid", "rsa"}})) ==
          errc::unsupported_algorithm);
    CHECK(verify(ring, forge(ec, {{"alg", "ES384"}, {"kid", "ec"}})) ==
          errc::unsupported_algorithm);
  }
  SECTION("an unknown kid") {
    CHECK(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "ec2"}})) == errc::unknown_key);
    CHECK(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", ""}})) == errc::unknown_key);
    CHECK(verify(ring, forge(ec, {{"alg", "ES256"}, {"kid", "EC"}})) == errc::unknown_key);
  }
  SECTION("no kid: only a ring of one key can answer") {
    CHECK(verify(ring, forge(ec, {{"alg", "ES256"}})) == errc::unknown_key);
    const KeyRing single(ec);
    CHECK_FALSE(verify(single, forge(ec, {{"alg", "ES256"}})));
    CHECK(verify(single, forge(ec, {{"alg", "RS256"}})) == errc::unsupported_algorithm);
  }
  SECTION("a signature by another key") {
    CHECK(verify(ring, forge(es256("ec"), {{"alg", "ES256"}, {"kid", "ec"}})) ==
          errc::bad_signature);
    std::string token = sign(ring);
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    CHECK(verify(ring, token) == errc::bad_signature);
  }
  SECTION("through verify_jwt") {
    const tegata::Validator validator({.issuer = "https://issuer.example"});
    const auto now = std::chrono::sys_seconds{std::chrono::seconds{1'700'000'000}};
    const json claims = {
        {"iss", "https://issuer.example"}, {"sub", "alice"}, {"exp", 1'700'000'600}};
    auto token = tegata::sign_jwt(ring, claims);
    REQUIRE(token);
    auto jwt = tegata::verify_jwt(*token, ring, validator, now);
    REQUIRE(jwt);
    CHECK(jwt->header.kid == "rsa");
    CHECK(jwt->payload.at("sub") == "alice");
    CHECK(tegata::verify_jwt(forge(ec, {{"alg", "ES256"}, {"kid", "rsa"}}, claims.dump()), ring,
                             validator, now)
              .error() == errc::unsupported_algorithm);
  }
}

TEST_CASE("the ring's rules", "[key_ring]") {
  SECTION("duplicate kids") {
    CHECK_THROWS_AS(KeyRing(es256("a"), {es256("a")}), std::invalid_argument);
    KeyRing ring(es256("a"), {es256("b")});
    CHECK_THROWS_AS(ring.add(ed25519("b")), std::invalid_argument);
    CHECK(ring.size() == 2);
  }
  SECTION("every key needs a kid") {
    CHECK_THROWS_AS(KeyRing(es256("")), std::invalid_argument);
    KeyRing ring(es256("a"));
    CHECK_THROWS_AS(ring.add(es256("")), std::invalid_argument);
    CHECK(ring.size() == 1);
  }
  SECTION("HMAC secrets and asymmetric keys never share a ring") {
    CHECK_THROWS_AS(KeyRing(hs256("h"), {es256("e")}), std::invalid_argument);
    CHECK_THROWS_AS(KeyRing(rs256("r"), {hs256("h")}), std::invalid_argument);
    KeyRing asymmetric(es256("e"), {rs256("r"), ed25519("d")});
    CHECK_THROWS_AS(asymmetric.add(hs256("h")), std::invalid_argument);
    KeyRing symmetric(hs256("h1", '1'), {hs256("h2", '2')});
    CHECK_THROWS_AS(symmetric.add(ed25519("d")), std::invalid_argument);
    CHECK(asymmetric.size() == 3);
    CHECK(symmetric.size() == 2);
  }
  SECTION("a ring of HMAC secrets rotates too, but publishes nothing") {
    KeyRing ring(hs256("h1", '1'));
    const std::string old_token = sign(ring);
    ring.add(hs256("h2", '2'));
    ring.promote("h2");
    CHECK(kid_of(sign(ring)) == "h2");
    CHECK_FALSE(verify(ring, old_token));
    CHECK(ring.public_jwks().error() == errc::not_supported);
  }
  SECTION("only a key that can sign can be promoted") {
    const AnyKey next = es256("next");
    auto public_next = keys::import_jwk(keys::public_jwk(next).value());
    REQUIRE(public_next);
    KeyRing ring(es256("current"), {*public_next});
    CHECK_THROWS_AS(ring.promote("next"), std::invalid_argument);
    CHECK(ring.primary_kid() == "current");
  }
  SECTION("a verify-only primary says it cannot sign") {
    auto public_key = keys::import_jwk(keys::public_jwk(es256("pub")).value());
    REQUIRE(public_key);
    const KeyRing ring(*public_key);
    CHECK(ring.sign("JWT", "{}").error() == errc::key_cannot_sign);
  }
  SECTION("error messages carry no key material") {
    const std::string secret(32, 'Q');
    try {
      KeyRing ring(tegata::HmacKey(Algorithm::HS256, secret, "h"), {es256("e")});
      FAIL("a mixed ring was accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("a KeyRing from a JWK Set", "[key_ring]") {
  const AnyKey first = es256("first");
  const AnyKey second = ed25519("second");
  const json private_set = {
      {"keys", {keys::private_jwk(first).value(), keys::private_jwk(second).value()}}};
  const json public_set = {
      {"keys", {keys::public_jwk(first).value(), keys::public_jwk(second).value()}}};

  SECTION("a verifier's ring from the public set") {
    auto ring = KeyRing::from_jwks(public_set);
    REQUIRE(ring);
    CHECK(ring->primary_kid() == "first");
    CHECK(ring->sign("JWT", "{}").error() == errc::key_cannot_sign);
    CHECK_FALSE(verify(*ring, sign(KeyRing(second))));
    CHECK_FALSE(verify(*ring, sign(KeyRing(first))));
  }
  SECTION("a signer's ring from the private set") {
    auto ring = KeyRing::from_jwks(private_set, {.operation = keys::KeyOperation::sign});
    REQUIRE(ring);
    CHECK(ring->primary_kid() == "first");
    const std::string token = sign(*ring);
    CHECK_FALSE(verify(KeyRing(first), token));
    // Only the primary was imported with its private part.
    CHECK_FALSE(ring->find("second")->can_sign());
  }
  SECTION("choosing the primary by kid") {
    auto ring = KeyRing::from_jwks(private_set, {.operation = keys::KeyOperation::sign}, "second");
    REQUIRE(ring);
    CHECK(ring->primary_kid() == "second");
    CHECK(kid_of(sign(*ring)) == "second");
    CHECK(KeyRing::from_jwks(private_set, {}, "third").error() == errc::unknown_key);
  }
  SECTION("a primary without its private part") {
    CHECK(KeyRing::from_jwks(public_set, {.operation = keys::KeyOperation::sign}).error() ==
          errc::key_cannot_sign);
  }
  SECTION("keys without kid") {
    json set = public_set;
    set["keys"][1].erase("kid");
    CHECK(KeyRing::from_jwks(set).error() == errc::invalid_argument);
    auto ring = KeyRing::from_jwks(set, {.kid_from_thumbprint = true});
    REQUIRE(ring);
    const std::string thumbprint = keys::thumbprint_sha256(second).value();
    CHECK(ring->contains(thumbprint));
    auto by_thumbprint = KeyRing::from_jwks(set, {.kid_from_thumbprint = true}, thumbprint);
    REQUIRE(by_thumbprint);
    CHECK(by_thumbprint->primary_kid() == thumbprint);
  }
  SECTION("sets a ring must refuse") {
    json duplicate = public_set;
    duplicate["keys"][1]["kid"] = "first";
    CHECK(KeyRing::from_jwks(duplicate).error() == errc::invalid_argument);
    json mixed = public_set;
    mixed["keys"].push_back(keys::private_jwk(hs256("h")).value());
    CHECK(KeyRing::from_jwks(mixed).error() == errc::invalid_argument);
    json encryption = public_set;
    encryption["keys"][1]["use"] = "enc";
    CHECK(KeyRing::from_jwks(encryption).error() == errc::invalid_argument);
    CHECK(KeyRing::from_jwks(json{{"keys", json::array()}}).error() == errc::not_found);
    CHECK(KeyRing::from_jwks(json::array()).error() == errc::malformed);
    CHECK(KeyRing::from_jwks(json{{"keys", "none"}}).error() == errc::malformed);
    CHECK(KeyRing::from_jwks(json{{"keys", json::array({42})}}).error() == errc::malformed);
  }
}

TEST_CASE("rotation while other threads sign and verify", "[key_ring][concurrency]") {
  // HMAC keys keep the test fast; the ring's logic does not depend on the key type.
  KeyRing ring(hs256("k0", 'a'));
  constexpr int kRotations = 150;
  constexpr int kWorkers = 3;
  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::atomic<long> verified{0}, retired{0}, spurious{0}, sign_failures{0};

  // Kids are never reused, so a key that is in the ring after a verification was in it during
  // that verification: a failure for such a key is spurious.
  auto check = [&](const KeyRing& handle, const std::string& token) {
    auto parsed = tegata::jws::parse(token);
    if (!parsed) {
      spurious.fetch_add(1);
      return;
    }
    const std::error_code ec = handle.verify(*parsed);
    if (!ec) {
      verified.fetch_add(1);
    } else if (ec == errc::unknown_key && !handle.contains(parsed->header.kid)) {
      retired.fetch_add(1);
    } else {
      spurious.fetch_add(1);
    }
  };

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const KeyRing handle = ring;  // each worker holds its own copy, as a server component would
      started.fetch_add(1);
      std::vector<std::string> older;
      int iterations = 0;
      while (!done.load() || iterations < 200) {
        ++iterations;
        auto token = handle.sign("JWT", R"({"w":)" + std::to_string(w) + "}");
        if (!token) {
          sign_failures.fetch_add(1);
          continue;
        }
        check(handle, *token);
        // Tokens from a while ago: their key may have been retired meanwhile.
        if (older.size() < 64) {
          older.push_back(*token);
        } else {
          check(handle, older[static_cast<std::size_t>(iterations) % older.size()]);
          older[static_cast<std::size_t>(iterations) % older.size()] = *token;
        }
      }
    });
  }

  // Each rotation waits for some verifications, so that rotations and verifications interleave
  // however the threads are scheduled (progress, not time, is what is waited for).
  while (started.load() < kWorkers) std::this_thread::yield();
  auto checks = [&] { return verified.load() + retired.load() + spurious.load(); };
  for (int i = 1; i <= kRotations; ++i) {
    const long before = checks();
    while (checks() < before + kWorkers) std::this_thread::yield();
    const std::string kid = "k" + std::to_string(i);
    ring.add(hs256(kid, static_cast<char>('a' + i % 26)));
    ring.promote(kid);
    if (i >= 2) ring.retire("k" + std::to_string(i - 2));
  }
  done.store(true);
  for (auto& worker : workers) worker.join();

  CHECK(spurious.load() == 0);
  CHECK(sign_failures.load() == 0);
  CHECK(verified.load() > 0);
  CHECK(ring.size() == 2);
  CHECK(ring.primary_kid() == "k" + std::to_string(kRotations));
  INFO("verified " << verified.load() << ", retired " << retired.load());
}
