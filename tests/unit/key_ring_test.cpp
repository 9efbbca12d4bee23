// KeyRing: key selection by kid, the rotation lifecycle, the ring's rules, JWKS import, rotation
// while other threads sign and verify, and the per-thread snapshot cache (rotations seen at once,
// several rings on one thread, key material released, rings used from inside a verification).
#include "tegata/keys/key_ring.hpp"

#include <openssl/evp.h>

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
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

tegata::KeyHandle keygen(const char* type, const char* curve = nullptr) {
  EVP_PKEY* key = curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(key != nullptr);
  return tegata::KeyHandle(key);
}

AnyKey es256(std::string kid) {
  return tegata::EcdsaKey(Algorithm::ES256, keygen("EC", "P-256"), std::move(kid));
}

AnyKey ed25519(std::string kid) { return tegata::EddsaKey(keygen("ED25519"), std::move(kid)); }

AnyKey rs256(std::string kid) {
  static const tegata::KeyHandle rsa = [] {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
    REQUIRE(key != nullptr);
    return tegata::KeyHandle(key);
  }();
  REQUIRE(EVP_PKEY_up_ref(rsa.get()) == 1);
  return tegata::RsaKey(Algorithm::RS256, tegata::KeyHandle(rsa.get()), std::move(kid));
}

AnyKey hs256(std::string kid, char fill = 's') {
  return tegata::HmacKey(Algorithm::HS256, std::string(32, fill), std::move(kid));
}

std::string sign(const KeyRing& ring, std::string_view payload = R"({"sub":"alice"})") {
  auto token = ring.sign(tegata::TokenType("JWT"), payload);
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

// verify for worker threads, where Catch2's assertions may not be used.
std::error_code verify_in_thread(const KeyRing& ring, const std::string& token) {
  auto parsed = tegata::jws::parse(token);
  return parsed ? ring.verify(*parsed) : parsed.error();
}

// A key whose lifetime a test can watch (alive expires with the last copy of the key), and which
// can run a callback while it verifies, so that a test can use KeyRings from inside a
// verification. An HMAC key does the work.
struct WatchedKey {
  AnyKey key;
  std::shared_ptr<const int> alive = std::make_shared<const int>(0);
  std::shared_ptr<const std::function<void()>> while_verifying = nullptr;

  Algorithm algorithm() const noexcept { return key.algorithm(); }
  std::string_view kid() const noexcept { return key.kid(); }
  bool can_sign() const noexcept { return true; }
  tegata::Result<std::string> sign_raw(std::string_view data) const { return key.sign_raw(data); }
  bool verify_raw(std::string_view data, std::string_view signature) const {
    if (while_verifying && *while_verifying) (*while_verifying)();
    return key.verify_raw(data, signature);
  }
};

// A ring whose only key is a WatchedKey held by nothing but the ring, and the key's watch.
std::pair<std::optional<KeyRing>, std::weak_ptr<const int>> watched_ring(
    std::string kid, char fill,
    std::shared_ptr<const std::function<void()>> while_verifying = nullptr) {
  WatchedKey key{hs256(std::move(kid), fill)};
  key.while_verifying = std::move(while_verifying);
  std::weak_ptr<const int> watch = key.alive;
  std::optional<KeyRing> ring(std::in_place, AnyKey(std::move(key)));
  return {std::move(ring), std::move(watch)};
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
    CHECK(ring.sign(tegata::TokenType("JWT"), "{}").error() == errc::key_cannot_sign);
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
    CHECK(ring->sign(tegata::TokenType("JWT"), "{}").error() == errc::key_cannot_sign);
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
        auto token = handle.sign(tegata::TokenType("JWT"), R"({"w":)" + std::to_string(w) + "}");
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

// --- The per-thread snapshot cache ---------------------------------------------------------------

TEST_CASE("a rotation is seen by another thread's next operation", "[key_ring][concurrency]") {
  // Each round the worker caches the ring's snapshot (it signs and verifies), then the main thread
  // rotates: adds k<r>, promotes it and retires k<r-1>, whose token the worker then presents. A
  // worker that kept using its cached snapshot would still accept it.
  constexpr int kRounds = 20;
  KeyRing ring(hs256("k0", 'a'));
  std::vector<std::string> tokens(kRounds + 1), kids(kRounds + 1);
  std::vector<std::error_code> own(kRounds + 1), retired(kRounds + 1);
  std::atomic<int> turn{0};  // even: the worker's turn, odd: the main thread's

  std::thread worker([&] {
    const KeyRing handle = ring;
    for (int r = 0; r <= kRounds; ++r) {
      while (turn.load() != 2 * r) std::this_thread::yield();
      const auto round = static_cast<std::size_t>(r);
      if (r > 0) retired[round] = verify_in_thread(handle, tokens[round - 1]);
      auto token = handle.sign(tegata::TokenType("JWT"), R"({"sub":"alice"})");
      if (token) {
        tokens[round] = *token;
        auto parsed = tegata::jws::parse(*token);
        if (parsed) kids[round] = parsed->header.kid;
        own[round] = verify_in_thread(handle, *token);
      }
      turn.store(2 * r + 1);
    }
  });
  for (int r = 1; r <= kRounds; ++r) {
    while (turn.load() != 2 * r - 1) std::this_thread::yield();
    const std::string kid = "k" + std::to_string(r);
    ring.add(hs256(kid, static_cast<char>('a' + r)));
    ring.promote(kid);
    ring.retire("k" + std::to_string(r - 1));
    turn.store(2 * r);
  }
  worker.join();

  for (std::size_t r = 0; r <= kRounds; ++r) {
    INFO("round " << r);
    CHECK(kids[r] == "k" + std::to_string(r));
    CHECK_FALSE(own[r]);
    if (r > 0) CHECK(retired[r] == errc::unknown_key);
  }
}

TEST_CASE("several rings used in turn on one thread", "[key_ring]") {
  // One kid, different secrets: a ring that answered with another ring's snapshot would report
  // success or unknown_key where bad_signature is the answer.
  SECTION("two rings, one of them rotated") {
    KeyRing a(hs256("k", 'a'));
    KeyRing b(hs256("k", 'b'));
    const std::string from_a = sign(a);
    std::string from_b = sign(b);
    errc a_rejects_b = errc::bad_signature;
    errc b_rejects_a = errc::bad_signature;
    for (int i = 0; i < 8; ++i) {
      CHECK_FALSE(verify(a, from_a));
      CHECK(verify(a, from_b) == a_rejects_b);
      CHECK_FALSE(verify(b, from_b));
      CHECK(verify(b, from_a) == b_rejects_a);
      if (i == 3) {
        b.add(hs256("k2", 'c'));
        b.promote("k2");
        b.retire("k");
        from_b = sign(b);
        CHECK(kid_of(from_b) == "k2");
        CHECK(kid_of(sign(a)) == "k");
        a_rejects_b = errc::unknown_key;  // a has no k2
        b_rejects_a = errc::unknown_key;  // b's k is retired
      }
    }
  }
  SECTION("more rings than a thread's cache holds") {
    constexpr std::size_t kRings = 2 * tegata::detail::key_ring_cache::kSlots + 1;
    std::vector<KeyRing> rings;
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < kRings; ++i) {
      rings.emplace_back(hs256("k", static_cast<char>('a' + i)));
      tokens.push_back(sign(rings.back()));
    }
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < kRings; ++i) {
        CHECK_FALSE(verify(rings[i], tokens[i]));
        CHECK(verify(rings[i], tokens[(i + 1) % kRings]) == errc::bad_signature);
      }
    }
  }
}

TEST_CASE("key material cached by a thread is released", "[key_ring]") {
  // What a thread's cache keeps alive, and until when (see tegata::detail::key_ring_cache).
  SECTION("a destroyed ring's keys: by the thread's next load of any ring") {
    auto [ring, watch] = watched_ring("w", 'w');
    CHECK_FALSE(verify(*ring, sign(*ring)));
    ring.reset();
    CHECK_FALSE(watch.expired());  // this thread's cache holds the last snapshot
    const KeyRing other(hs256("other"));
    CHECK_FALSE(verify(other, sign(other)));
    CHECK(watch.expired());
  }
  SECTION("a destroyed ring's keys: within kSweepInterval operations on other rings") {
    const KeyRing other(hs256("other"));
    const std::string token = sign(other);
    auto parsed = tegata::jws::parse(token);
    REQUIRE(parsed);
    CHECK_FALSE(other.verify(*parsed));  // other is cached: what follows are cache hits
    auto [ring, watch] = watched_ring("w", 'w');
    CHECK_FALSE(verify(*ring, sign(*ring)));
    ring.reset();
    CHECK_FALSE(watch.expired());
    std::size_t failures = 0;
    for (std::uint32_t i = 0; i < tegata::detail::key_ring_cache::kSweepInterval; ++i) {
      if (other.verify(*parsed)) ++failures;
    }
    CHECK(failures == 0);
    CHECK(watch.expired());
  }
  SECTION("a destroyed ring's keys: when the thread exits") {
    auto [ring, watch] = watched_ring("w", 'w');
    std::atomic<int> turn{0};
    std::error_code result = errc::crypto_failure;
    std::thread worker([&, &ring = ring] {
      auto token = ring->sign(tegata::TokenType("JWT"), "{}");
      result = token ? verify_in_thread(*ring, *token) : token.error();
      turn.store(1);
      while (turn.load() != 2) std::this_thread::yield();
    });
    while (turn.load() != 1) std::this_thread::yield();
    ring.reset();
    CHECK_FALSE(watch.expired());  // the worker's cache holds the last snapshot
    turn.store(2);
    worker.join();
    CHECK_FALSE(result);
    CHECK(watch.expired());
  }
  SECTION("a retired key: by the thread's next operation on the ring") {
    auto [ring, watch] = watched_ring("w", 'w');
    const std::string token = sign(*ring);
    CHECK_FALSE(verify(*ring, token));
    ring->add(hs256("next"));
    ring->promote("next");
    ring->retire("w");
    CHECK_FALSE(watch.expired());  // this thread's cache holds the snapshot from before
    CHECK(verify(*ring, token) == errc::unknown_key);
    CHECK(watch.expired());
  }
}

TEST_CASE("KeyRings used from inside a verification", "[key_ring]") {
  SECTION("the key being run rotates its own ring out and verifies through it again") {
    // The outer verification runs a key of the snapshot it holds; the nested calls retire that
    // key and make the thread load the ring again. The snapshot must stay alive until the outer
    // call returns (ASan reports the use after free otherwise; the watch reports it here).
    auto callback = std::make_shared<std::function<void()>>();
    auto [ring, watch] = watched_ring("outer", 'o', callback);
    const std::string outer_token = sign(*ring);
    CHECK_FALSE(verify(*ring, outer_token));  // cached before the nested rotation
    bool armed = true;
    std::error_code nested_outer, nested_next;
    bool alive_after_nested = false;
    *callback = [&, &ring = ring, &watch = watch] {
      if (!std::exchange(armed, false)) return;
      ring->add(hs256("next", 'n'));
      ring->promote("next");
      ring->retire("outer");
      nested_outer = verify_in_thread(*ring, outer_token);
      nested_next = verify_in_thread(*ring, sign(*ring));
      alive_after_nested = !watch.expired();
    };
    CHECK_FALSE(verify(*ring, outer_token));  // the snapshot from before the rotation
    CHECK(nested_outer == errc::unknown_key);
    CHECK_FALSE(nested_next);
    CHECK(alive_after_nested);
    CHECK(verify(*ring, outer_token) == errc::unknown_key);
    CHECK(watch.expired());
  }
  SECTION("a chain of rings deeper than the thread's cache") {
    // Ring i's key verifies a token through ring i+1 before checking its own signature, so that
    // at the bottom of the chain every slot is in use. One kid, different secrets: a ring that
    // answered with another ring's snapshot would not say bad_signature. In the last round the
    // bottom of the chain rotates every ring, so that the snapshots in use are held by nothing
    // but the calls in progress.
    constexpr std::size_t kDepth = tegata::detail::key_ring_cache::kSlots + 3;
    std::vector<std::optional<KeyRing>> rings(kDepth);
    std::vector<std::weak_ptr<const int>> watches(kDepth);
    std::vector<std::string> tokens(kDepth);
    std::vector<std::error_code> nested(kDepth, errc::crypto_failure);
    std::vector<std::error_code> crossed(kDepth, errc::crypto_failure);
    bool rotate_at_bottom = false;
    std::size_t alive_at_bottom = 0;
    for (std::size_t i = kDepth; i-- > 0;) {
      auto callback = std::make_shared<const std::function<void()>>([&, i] {
        if (i + 1 < kDepth) {
          nested[i] = verify_in_thread(*rings[i + 1], tokens[i + 1]);
          crossed[i] = verify_in_thread(*rings[i + 1], tokens[i]);
        } else if (std::exchange(rotate_at_bottom, false)) {
          for (std::size_t j = 0; j < kDepth; ++j) {
            rings[j]->add(hs256("k2", static_cast<char>('A' + j)));
            rings[j]->promote("k2");
            rings[j]->retire("k");
          }
          for (const auto& watch : watches) alive_at_bottom += watch.expired() ? 0 : 1;
        }
      });
      std::tie(rings[i], watches[i]) = watched_ring("k", static_cast<char>('a' + i), callback);
      tokens[i] = sign(*rings[i]);
    }
    for (int round = 0; round < 3; ++round) {
      INFO("round " << round);
      const bool last = round == 2;
      rotate_at_bottom = last;
      CHECK_FALSE(verify(*rings[0], tokens[0]));
      for (std::size_t i = 0; i + 1 < kDepth; ++i) {
        INFO("depth " << i);
        CHECK_FALSE(nested[i]);
        // After the rotation at the bottom, the tokens of k are unknown.
        CHECK(crossed[i] == (last ? errc::unknown_key : errc::bad_signature));
        nested[i] = crossed[i] = errc::crypto_failure;
      }
    }
    CHECK(alive_at_bottom == kDepth);
    for (std::size_t i = 0; i < kDepth; ++i) {
      CHECK(verify(*rings[i], tokens[i]) == errc::unknown_key);
      CHECK(watches[i].expired());
    }
  }
}

TEST_CASE("rotations of several rings while threads use them all", "[key_ring][concurrency]") {
  // More rings than a thread's cache holds, so the workers evict and reload while the main thread
  // rotates, and a ring replaced now and then, so that rings die while caches hold them.
  constexpr std::size_t kRings = tegata::detail::key_ring_cache::kSlots + 2;
  constexpr int kRotations = 120;
  constexpr int kWorkers = 2;
  std::vector<KeyRing> rings;
  for (std::size_t i = 0; i < kRings; ++i) {
    rings.emplace_back(hs256("r" + std::to_string(i) + "-0", static_cast<char>('a' + i)));
  }
  std::mutex transient_mutex;
  KeyRing transient(hs256("t0", 't'));
  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::atomic<long> checks{0}, spurious{0};

  auto check = [&](const KeyRing& ring, const std::string& token, bool own) {
    auto parsed = tegata::jws::parse(token);
    const std::error_code ec = parsed ? ring.verify(*parsed) : parsed.error();
    // Kids are never reused: a key still in the ring after the verification was in it during.
    const bool ok = own ? (!ec || (ec == errc::unknown_key && !ring.contains(parsed->header.kid)))
                        : ec == errc::unknown_key;
    if (!ok) spurious.fetch_add(1);
    checks.fetch_add(1);
  };

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::vector<KeyRing> handles = rings;
      started.fetch_add(1);
      std::string previous;
      for (int iteration = 0; !done.load() || iteration < 100; ++iteration) {
        const std::size_t i =
            (static_cast<std::size_t>(iteration) + static_cast<std::size_t>(w)) % (kRings + 1);
        KeyRing ring = handles[0];
        if (i < kRings) {
          ring = handles[i];
        } else {
          const std::lock_guard<std::mutex> lock(transient_mutex);
          ring = transient;
        }
        auto token = ring.sign(tegata::TokenType("JWT"), "{}");
        if (!token) {
          spurious.fetch_add(1);
          continue;
        }
        check(ring, *token, true);
        if (!previous.empty()) check(ring, previous, false);  // another ring's token
        previous = *token;
      }
    });
  }

  while (started.load() < kWorkers) std::this_thread::yield();
  for (int n = 1; n <= kRotations; ++n) {
    const long before = checks.load();
    while (checks.load() < before + 2 * kWorkers) std::this_thread::yield();
    const std::size_t i = static_cast<std::size_t>(n) % (kRings + 1);
    if (i == kRings) {
      const KeyRing next(hs256("t" + std::to_string(n), 't'));
      const std::lock_guard<std::mutex> lock(transient_mutex);
      transient = next;
      continue;
    }
    const std::string prefix = "r" + std::to_string(i) + "-";
    const std::string kid = prefix + std::to_string(n);
    rings[i].add(hs256(kid, static_cast<char>('a' + n % 26)));
    rings[i].promote(kid);
    if (rings[i].size() > 2) rings[i].retire(rings[i].keys()[1].kid());  // the oldest
  }
  done.store(true);
  for (auto& worker : workers) worker.join();

  CHECK(spurious.load() == 0);
  CHECK(checks.load() > 0);
  for (const KeyRing& ring : rings) CHECK(ring.size() <= 2);
}
