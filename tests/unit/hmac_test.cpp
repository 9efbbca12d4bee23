// HmacKey (HS256/384/512) and verify_jwt over it: construction rules, MAC correctness,
// tampering, algorithm and key binding, duplicate claims, thread safety.
#include "tegata/algorithms/hmac.hpp"

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/vectors.hpp"
#include "tegata/base64url.hpp"
#include "tegata/clock.hpp"
#include "tegata/error.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/validator.hpp"

namespace {

using tegata::Algorithm;
using tegata::base64url_decode;
using tegata::base64url_encode;
using tegata::errc;
using tegata::HmacKey;

struct HsAlg {
  Algorithm alg;
  std::size_t size;  // hash output = minimum secret length, in bytes
};
constexpr HsAlg kHsAlgs[] = {
    {Algorithm::HS256, 32}, {Algorithm::HS384, 48}, {Algorithm::HS512, 64}};

// A secret of n bytes whose content depends on salt, so different salts give different keys.
std::string make_secret(std::size_t n, char salt = 's') {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(salt + 7 * i);
  return s;
}

constexpr std::int64_t kNow = 1'700'000'000;

nlohmann::json sample_claims() {
  return {{"sub", "alice"}, {"exp", kNow + 600}, {"iat", kNow}, {"role", "admin"}};
}

tegata::Validator default_validator() { return tegata::Validator(tegata::ValidatorOptions{}); }

struct Segments {
  std::string header, payload, signature;  // still base64url
};

Segments split(std::string_view token) {
  const auto d1 = token.find('.');
  const auto d2 = token.find('.', d1 + 1);
  REQUIRE(d1 != std::string_view::npos);
  REQUIRE(d2 != std::string_view::npos);
  return {std::string(token.substr(0, d1)), std::string(token.substr(d1 + 1, d2 - d1 - 1)),
          std::string(token.substr(d2 + 1))};
}

std::string join(const Segments& s) { return s.header + "." + s.payload + "." + s.signature; }

std::string decoded(std::string_view b64) { return base64url_decode(b64).value(); }

// verify_jwt at kNow with default (strict) validation.
std::error_code verify_error(std::string_view token, const HmacKey& key) {
  const tegata::ManualClock clock{std::chrono::sys_seconds{std::chrono::seconds{kNow}}};
  return tegata::verify_jwt(token, key, default_validator(), clock).error();
}

// A compact token over an arbitrary payload text, signed correctly by key with typ "JWT".
std::string sign_text(const HmacKey& key, std::string_view payload) {
  return key.sign(tegata::TokenType("JWT"), payload).value();
}

}  // namespace

TEST_CASE("hmac: secrets shorter than the hash output are refused", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    CHECK_THROWS_AS(HmacKey(hs.alg, make_secret(hs.size - 1)), std::invalid_argument);
    CHECK_THROWS_AS(HmacKey(hs.alg, make_secret(hs.size / 2)), std::invalid_argument);
    CHECK_THROWS_AS(HmacKey(hs.alg, ""), std::invalid_argument);
    CHECK_NOTHROW(HmacKey(hs.alg, make_secret(hs.size)));
    CHECK_NOTHROW(HmacKey(hs.alg, make_secret(hs.size + 1)));
    CHECK_NOTHROW(HmacKey(hs.alg, make_secret(1000)));  // longer than the block: hashed first
  }
  // A secret long enough for a shorter hash is still too short for a longer one.
  CHECK_THROWS_AS(HmacKey(Algorithm::HS384, make_secret(32)), std::invalid_argument);
  CHECK_THROWS_AS(HmacKey(Algorithm::HS512, make_secret(48)), std::invalid_argument);
}

TEST_CASE("hmac: a non-HS algorithm is refused", "[hmac]") {
  for (Algorithm alg : {Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256,
                        Algorithm::PS384, Algorithm::PS512, Algorithm::ES256, Algorithm::ES384,
                        Algorithm::ES512, Algorithm::ES256K, Algorithm::EdDSA, Algorithm::Ed25519,
                        Algorithm::Ed448}) {
    INFO(tegata::to_string(alg));
    CHECK_THROWS_AS(HmacKey(alg, make_secret(128)), std::invalid_argument);
  }
}

TEST_CASE("hmac: exception messages never contain the secret", "[hmac]") {
  const std::string marker = "TOPSECRET-tegata-KEYMATERIAL";
  auto message_of = [](Algorithm alg, const std::string& secret) -> std::string {
    try {
      HmacKey key(alg, secret);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    FAIL("HmacKey accepted a configuration it must refuse");
    return {};
  };
  // Too short for each algorithm, and long enough but for the wrong algorithm.
  for (const auto& hs : kHsAlgs) {
    const std::string secret = (marker + make_secret(64)).substr(0, hs.size - 1);
    const std::string what = message_of(hs.alg, secret);
    INFO("message: " << what);
    CHECK_FALSE(what.empty());
    CHECK(what.find(secret) == std::string::npos);
    CHECK(what.find("TOPSECRET") == std::string::npos);
    CHECK(what.find(base64url_encode(secret)) == std::string::npos);
  }
  const std::string what = message_of(Algorithm::RS256, marker + make_secret(64));
  INFO("message: " << what);
  CHECK_FALSE(what.empty());
  CHECK(what.find("TOPSECRET") == std::string::npos);
}

TEST_CASE("hmac: accessors report the bound algorithm, kid and secret", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    const std::string secret = make_secret(hs.size);
    const HmacKey key(hs.alg, secret, "key-1");
    CHECK(key.algorithm() == hs.alg);
    CHECK(key.kid() == "key-1");
    CHECK(key.can_sign());
    CHECK(key.secret() == secret);
    CHECK(HmacKey(hs.alg, secret).kid().empty());
  }
}

TEST_CASE("hmac: RFC 4231 test case 6 (key longer than the block size)", "[hmac]") {
  const std::string key = std::string(131, '\xaa');
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  struct Kat {
    Algorithm alg;
    std::string_view mac_hex;
  };
  const Kat kats[] = {
      {Algorithm::HS256, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {Algorithm::HS384,
       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
       "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"},
      {Algorithm::HS512,
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
  };
  for (const auto& kat : kats) {
    INFO(tegata::to_string(kat.alg));
    const HmacKey hmac(kat.alg, key);
    const std::string expected = tegata_test::hex_decode(kat.mac_hex);
    CHECK(hmac.sign_raw(data).value() == expected);
    CHECK(hmac.verify_raw(data, expected));
  }
}

TEST_CASE("hmac: verify_raw accepts only the exact, full-length tag", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    const HmacKey key(hs.alg, make_secret(hs.size));
    const std::string data = "header.payload";
    const std::string tag = key.sign_raw(data).value();
    REQUIRE(tag.size() == hs.size);
    CHECK(key.sign_raw(data).value() == tag);  // deterministic
    CHECK(key.verify_raw(data, tag));

    CHECK_FALSE(key.verify_raw(data, ""));
    CHECK_FALSE(key.verify_raw(data, tag.substr(0, hs.size - 1)));
    CHECK_FALSE(key.verify_raw(data, tag.substr(0, 16)));
    CHECK_FALSE(key.verify_raw(data, tag + '\0'));
    CHECK_FALSE(key.verify_raw(data, tag + tag));
    CHECK_FALSE(key.verify_raw("header.payloaD", tag));
    CHECK_FALSE(key.verify_raw("", tag));
    CHECK_FALSE(HmacKey(hs.alg, make_secret(hs.size, 't')).verify_raw(data, tag));
    for (std::size_t i = 0; i < tag.size(); ++i) {
      for (int bit : {0x01, 0x80}) {
        std::string flipped = tag;
        flipped[i] = static_cast<char>(flipped[i] ^ bit);
        INFO("byte " << i << " bit " << bit);
        CHECK_FALSE(key.verify_raw(data, flipped));
      }
    }
  }
  // A longer hash's tag, or its prefix, never verifies under a shorter one.
  const std::string secret = make_secret(64);
  const HmacKey hs256(Algorithm::HS256, secret), hs512(Algorithm::HS512, secret);
  const std::string tag512 = hs512.sign_raw("data").value();
  CHECK_FALSE(hs256.verify_raw("data", tag512));
  CHECK_FALSE(hs256.verify_raw("data", tag512.substr(0, 32)));
}

TEST_CASE("hmac: copies share the key state and keep working", "[hmac]") {
  const std::string secret = make_secret(32);
  std::string tag;
  std::optional<HmacKey> survivor;
  {
    const HmacKey original(Algorithm::HS256, secret, "kid-1");
    const HmacKey copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
    CHECK(copy.secret().data() == original.secret().data());  // one shared state, not a clone
    CHECK(copy.kid() == "kid-1");
    CHECK(copy.algorithm() == Algorithm::HS256);
    tag = original.sign_raw("msg").value();
    CHECK(copy.verify_raw("msg", tag));
    CHECK(copy.sign_raw("msg").value() == tag);

    HmacKey assigned(Algorithm::HS512, make_secret(64));
    assigned = original;
    CHECK(assigned.algorithm() == Algorithm::HS256);
    CHECK(assigned.verify_raw("msg", tag));
    survivor = copy;
  }
  // The state outlives the original and its direct copy.
  REQUIRE(survivor.has_value());
  CHECK(survivor->verify_raw("msg", tag));
  CHECK(survivor->secret() == secret);
}

TEST_CASE("hmac: one shared key is safe to use from several threads", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32), "shared");
  const HmacKey other(Algorithm::HS256, make_secret(32, 'o'));
  constexpr int kThreads = 4;
  constexpr int kIterations = 2000;
  std::atomic<int> failures{0};
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const std::string payload =
            R"({"t":)" + std::to_string(t) + R"(,"i":)" + std::to_string(i) + "}";
        auto token = key.sign(tegata::TokenType("JWT"), payload);
        auto parsed = token ? tegata::jws::parse(*token) : tegata::jws::parse("");
        const bool ok = token.has_value() && parsed.has_value() && !key.verify(*parsed) &&
                        key.verify_raw(parsed->signing_input, parsed->signature) &&
                        !other.verify_raw(parsed->signing_input, parsed->signature);
        (ok ? successes : failures).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(successes.load() == kThreads * kIterations);
}

TEST_CASE("hmac: verify_jwt round trip for HS256, HS384 and HS512", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    const HmacKey key(hs.alg, make_secret(hs.size), "k1");
    const std::string token = tegata::sign_jwt(key, sample_claims()).value();
    const tegata::ManualClock clock{std::chrono::sys_seconds{std::chrono::seconds{kNow}}};
    const auto jwt = tegata::verify_jwt(token, key, default_validator(), clock);
    REQUIRE(jwt.has_value());
    CHECK(jwt->header.alg == tegata::to_string(hs.alg));
    CHECK(jwt->header.kid == "k1");
    CHECK(jwt->header.typ == "JWT");
    CHECK(jwt->claims.subject == "alice");
    CHECK(jwt->claims.expires_at == std::chrono::sys_seconds{std::chrono::seconds{kNow + 600}});
    CHECK(jwt->payload == sample_claims());
    CHECK(decoded(split(token).signature).size() == hs.size);

    // typ "" omits the header member; the default validator accepts an absent typ.
    const std::string untyped = tegata::sign_jwt(key, sample_claims(), "").value();
    const auto r = tegata::verify_jwt(untyped, key, default_validator(), clock);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->header.has_typ);
  }
}

TEST_CASE("hmac: sign_jwt refuses claims that are not an object", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32));
  CHECK(tegata::sign_jwt(key, nlohmann::json::array()).error() == errc::invalid_argument);
  CHECK(tegata::sign_jwt(key, nlohmann::json("x")).error() == errc::invalid_argument);
  CHECK(tegata::sign_jwt(key, nlohmann::json()).error() == errc::invalid_argument);
}

TEST_CASE("hmac: a tampered header, payload or signature is bad_signature", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    const HmacKey key(hs.alg, make_secret(hs.size));
    const std::string token = tegata::sign_jwt(key, sample_claims()).value();
    REQUIRE_FALSE(verify_error(token, key));
    const Segments original = split(token);

    SECTION("header") {
      // Still a valid header for this key, but not the signed bytes.
      for (std::string_view header :
           {R"({"alg":"HS256","typ":"JWT","x":1})", R"({"typ":"JWT","alg":"HS256"})",
            R"({"alg":"HS256", "typ":"JWT"})", R"({"alg":"HS256"})"}) {
        std::string h(header);
        h.replace(h.find("HS256"), 5, tegata::to_string(hs.alg));
        Segments s = original;
        s.header = base64url_encode(h);
        INFO("header: " << h);
        CHECK(verify_error(join(s), key) == errc::bad_signature);
      }
    }
    SECTION("payload") {
      for (const nlohmann::json& claims :
           {nlohmann::json{
                {"sub", "mallory"}, {"exp", kNow + 600}, {"iat", kNow}, {"role", "admin"}},
            nlohmann::json{
                {"sub", "alice"}, {"exp", kNow + 60000}, {"iat", kNow}, {"role", "admin"}},
            nlohmann::json{{"sub", "alice"}, {"exp", kNow + 600}, {"iat", kNow}}}) {
        Segments s = original;
        s.payload = base64url_encode(claims.dump());
        INFO("payload: " << claims.dump());
        CHECK(verify_error(join(s), key) == errc::bad_signature);
      }
      // The same JSON with one extra space is different signed bytes.
      Segments s = original;
      std::string text = decoded(original.payload);
      text.insert(1, " ");
      s.payload = base64url_encode(text);
      CHECK(verify_error(join(s), key) == errc::bad_signature);
    }
    SECTION("signature") {
      const std::string sig = decoded(original.signature);
      for (std::size_t i = 0; i < sig.size(); ++i) {
        std::string flipped = sig;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        Segments s = original;
        s.signature = base64url_encode(flipped);
        INFO("signature byte " << i);
        CHECK(verify_error(join(s), key) == errc::bad_signature);
      }
    }
  }
}

TEST_CASE("hmac: no single-character change of a token verifies", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32), "k1");
  const std::string token = tegata::sign_jwt(key, sample_claims()).value();
  REQUIRE_FALSE(verify_error(token, key));
  std::size_t tried = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char c : {'A', 'B', 'g', '-', '_', '.', '=', '+'}) {
      if (token[i] == c) continue;
      std::string mutated = token;
      mutated[i] = c;
      INFO("position " << i << " replaced by '" << c << "'");
      CHECK(verify_error(mutated, key));  // strict base64url: no two spellings of one token
      ++tried;
    }
  }
  CHECK(tried > token.size() * 6);
}

TEST_CASE("hmac: a token for another HS algorithm is unsupported_algorithm", "[hmac]") {
  const std::string secret = make_secret(64);  // long enough for all three
  for (const auto& signer_alg : kHsAlgs) {
    const HmacKey signer(signer_alg.alg, secret);
    const std::string token = tegata::sign_jwt(signer, sample_claims()).value();
    for (const auto& verifier_alg : kHsAlgs) {
      if (verifier_alg.alg == signer_alg.alg) continue;
      INFO(tegata::to_string(signer_alg.alg)
           << " token, " << tegata::to_string(verifier_alg.alg) << " key");
      CHECK(verify_error(token, HmacKey(verifier_alg.alg, secret)) == errc::unsupported_algorithm);
    }
  }
  // Rewriting the header's alg does not make the key use another algorithm.
  const HmacKey hs256(Algorithm::HS256, secret);
  Segments s = split(tegata::sign_jwt(hs256, sample_claims()).value());
  s.header = base64url_encode(R"({"alg":"HS384","typ":"JWT"})");
  CHECK(verify_error(join(s), hs256) == errc::unsupported_algorithm);
  // Names that merely resemble the key's algorithm.
  for (std::string_view alg : {"hs256", "HS256 ", "HS-256", "RS256", "ES256"}) {
    s.header = base64url_encode(R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})");
    INFO("alg: " << alg);
    CHECK(verify_error(join(s), hs256) == errc::unsupported_algorithm);
  }
}

TEST_CASE("hmac: a token with another kid is unknown_key", "[hmac]") {
  const std::string secret = make_secret(32);
  const HmacKey key_a(Algorithm::HS256, secret, "a");
  const HmacKey key_b(Algorithm::HS256, secret, "b");
  const std::string token = tegata::sign_jwt(key_a, sample_claims()).value();
  CHECK_FALSE(verify_error(token, key_a));
  CHECK(verify_error(token, key_b) == errc::unknown_key);
  CHECK(verify_error(token, HmacKey(Algorithm::HS256, secret, "A")) == errc::unknown_key);
}

TEST_CASE("hmac: a signature of the wrong length is bad_signature", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    const HmacKey key(hs.alg, make_secret(hs.size));
    const Segments original = split(tegata::sign_jwt(key, sample_claims()).value());
    const std::string sig = decoded(original.signature);
    for (const std::string& bad : {sig.substr(0, sig.size() - 1), sig.substr(0, 16),
                                   sig.substr(0, 1), sig + '\0', sig + sig}) {
      Segments s = original;
      s.signature = base64url_encode(bad);
      INFO("signature length " << bad.size());
      CHECK(verify_error(join(s), key) == errc::bad_signature);
    }
  }
}

TEST_CASE("hmac: a token signed with another secret is bad_signature", "[hmac]") {
  for (const auto& hs : kHsAlgs) {
    INFO(tegata::to_string(hs.alg));
    const HmacKey key(hs.alg, make_secret(hs.size));
    const HmacKey other(hs.alg, make_secret(hs.size, 'x'));
    const HmacKey longer(hs.alg, make_secret(hs.size) + "!");
    const std::string token = tegata::sign_jwt(other, sample_claims()).value();
    CHECK(verify_error(token, key) == errc::bad_signature);
    CHECK(verify_error(tegata::sign_jwt(longer, sample_claims()).value(), key) ==
          errc::bad_signature);
  }
}

TEST_CASE("hmac: duplicate claim names are rejected even under a valid signature", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32));
  const std::string exp = std::to_string(kNow + 600);
  for (const std::string& payload : {
           R"({"sub":"alice","exp":)" + exp + R"(,"sub":"admin"})",
           R"({"exp":)" + exp + R"(,"exp":)" + std::to_string(kNow + 999999) + "}",
           R"({"exp":)" + exp + R"(,"role":"user","role":"admin"})",
           R"({"exp":)" + exp + R"(,"x":{"a":1,"a":2}})",
       }) {
    INFO("payload: " << payload);
    const std::string token = sign_text(key, payload);
    const auto parsed = tegata::jws::parse(token);
    REQUIRE(parsed.has_value());
    REQUIRE_FALSE(key.verify(*parsed));  // the signature itself is valid
    CHECK(verify_error(token, key) == errc::duplicate_member);
  }
}

TEST_CASE("hmac: a payload that is not a JSON object is bad_json", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32));
  for (std::string_view payload :
       {"[]", R"("x")", "", "1", "null", "true", "{", R"({"exp":1}x)", "{\"sub\":\"\xff\"}",
        R"({"exp":NaN})", R"({"exp":1e400})", "{\"exp\":1,}"}) {
    INFO("payload: " << payload);
    CHECK(verify_error(sign_text(key, payload), key) == errc::bad_json);
  }
}

// BUG (include/tegata/detail/json.hpp, parse_json_object(), line 98): a raw NUL byte ends
// nlohmann's input, so the bytes after it are ignored and the claims below read as
// {"sub":"alice",...}; any other JSON parser rejects this payload. Expected: bad_json.
TEST_CASE("hmac: a signed payload with bytes after a NUL is bad_json", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32));
  const std::string exp = std::to_string(kNow + 600);
  std::string payload = R"({"sub":"alice","exp":)" + exp + "}";
  payload += '\0';
  payload += R"({"sub":"admin","exp":)" + exp + "}";
  INFO("BUG in detail::parse_json_object: a NUL byte ends the input");
  CHECK(verify_error(sign_text(key, payload), key) == errc::bad_json);
}

TEST_CASE("hmac: a payload nested deeper than the limit is too_deep", "[hmac]") {
  const HmacKey key(Algorithm::HS256, make_secret(32));
  const std::string exp = std::to_string(kNow + 600);
  CHECK_FALSE(verify_error(sign_text(key, R"({"exp":)" + exp + R"(,"x":)" + std::string(15, '[') +
                                              std::string(15, ']') + "}"),
                           key));
  CHECK(verify_error(sign_text(key, R"({"exp":)" + exp + R"(,"x":)" + std::string(16, '[') +
                                        std::string(16, ']') + "}"),
                     key) == errc::too_deep);
}

TEST_CASE("hmac: a correctly signed payload segment that is not base64url is bad_encoding",
          "[hmac]") {
  // The MAC covers the bytes as sent, so a valid MAC over a bad segment is possible; the
  // payload must then still be refused on its encoding.
  const HmacKey key(Algorithm::HS256, make_secret(32));
  const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  for (std::string_view payload : {"e30=", "e3+9", "QR"}) {
    const std::string input = header + "." + std::string(payload);
    const std::string token = tegata::jws::finish_compact(input, key.sign_raw(input).value());
    INFO("payload segment: " << payload);
    CHECK(verify_error(token, key) == errc::bad_encoding);
  }
}

namespace {

// Signs in its destructor: a thread_local made before the thread's first MAC is destroyed after
// the thread's context cache.
struct SignsAtThreadExit {
  const tegata::HmacKey* key = nullptr;
  std::optional<std::string>* tag = nullptr;
  ~SignsAtThreadExit() {
    if (key == nullptr) return;
    auto late = key->sign_raw("late");
    if (late) *tag = *late;
  }
};

}  // namespace

TEST_CASE("hmac: a MAC from a thread_local destructor after the context cache is gone",
          "[hmac][concurrency]") {
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 'k'));
  const auto expected = key.sign_raw("late");
  REQUIRE(expected);
  std::optional<std::string> tag;
  bool early = false;
  std::thread([&] {
    thread_local SignsAtThreadExit at_exit;
    at_exit.key = &key;
    at_exit.tag = &tag;
    early = key.sign_raw("early").has_value();  // creates this thread's cache, after at_exit
  }).join();
  CHECK(early);
  REQUIRE(tag);
  CHECK(*tag == *expected);
}
