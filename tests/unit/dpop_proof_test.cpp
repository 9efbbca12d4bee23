// DPoP proofs (RFC 9449 §4.3): every check of ProofVerifier, each shown by a proof that differs
// from an accepted one in that check alone; and the URI normal form htu is compared in.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/http_uri.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/dpop/nonce.hpp"
#include "tegata/dpop/proof.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/pem.hpp"

namespace {

using json = nlohmann::json;
using tegata::Algorithm;
using tegata::AnyKey;
using tegata::errc;
using tegata::dpop::ProofOptions;
using tegata::dpop::ProofRequest;
using tegata::dpop::ProofVerifier;
using namespace std::chrono_literals;

const std::chrono::sys_seconds kNow{std::chrono::seconds{1'800'000'000}};
constexpr std::string_view kUri = "https://api.example.com/resource";

AnyKey make_key(Algorithm alg, int rsa_bits = 2048) {
  tegata::keys::KeyGenOptions options;
  options.rsa_bits = rsa_bits;
  tegata::KeyHandle handle = tegata::keys::generate(alg, options);
  if (tegata::is_rsa(alg)) return tegata::RsaKey(alg, std::move(handle));
  if (tegata::is_ecdsa(alg)) return tegata::EcdsaKey(alg, std::move(handle));
  return tegata::EddsaKey(alg, std::move(handle));
}

// A proof as a client makes it; edit changes the header and payload before signing, and signer
// (when given) signs instead of key, whose public JWK is the one in the header.
struct ProofParts {
  json header;
  json payload;
};

std::string make_proof(const AnyKey& key, const std::function<void(ProofParts&)>& edit = {},
                       const AnyKey* signer = nullptr) {
  auto jwk = tegata::keys::public_jwk(key);  // none for an HMAC key: edit provides one
  ProofParts parts{{{"typ", "dpop+jwt"},
                    {"alg", std::string(tegata::to_string(key.algorithm()))},
                    {"jwk", jwk ? *jwk : json::object()}},
                   {{"jti", "e1j3V_bKic8-LAEB"},
                    {"htm", "POST"},
                    {"htu", std::string(kUri)},
                    {"iat", kNow.time_since_epoch().count()}}};
  if (edit) edit(parts);
  const std::string input = tegata::base64url_encode(parts.header.dump()) + "." +
                            tegata::base64url_encode(parts.payload.dump());
  auto signature = (signer != nullptr ? *signer : key).sign_raw(input);
  REQUIRE(signature);
  return input + "." + tegata::base64url_encode(*signature);
}

std::string access_token_hash(std::string_view token) {
  auto digest = tegata::detail::jwk::sha256(token);
  REQUIRE(digest);
  return tegata::base64url_encode(*digest);
}

const ProofRequest kPost{"POST", kUri};

// A proof with one edit is refused, while the same proof without it is accepted: the refusal is
// that edit's, not some other check's.
void check_refused(const AnyKey& key, const std::function<void(ProofParts&)>& edit,
                   const ProofRequest& request = kPost) {
  const ProofVerifier verifier;
  REQUIRE(verifier.verify(make_proof(key), request, kNow));
  auto proof = verifier.verify(make_proof(key, edit), request, kNow);
  REQUIRE_FALSE(proof);
  CHECK(proof.error() == errc::dpop_invalid);
}

}  // namespace

TEST_CASE("dpop: a proof by each default algorithm is accepted, with its key's thumbprint",
          "[dpop]") {
  const ProofVerifier verifier;
  for (const Algorithm alg : {Algorithm::ES256, Algorithm::EdDSA, Algorithm::Ed25519,
                              Algorithm::RS256, Algorithm::PS256}) {
    INFO(tegata::to_string(alg));
    const AnyKey key = make_key(alg);
    auto proof = verifier.verify(make_proof(key), kPost, kNow);
    REQUIRE(proof);
    CHECK(proof->jkt == *tegata::keys::thumbprint_sha256(key));
    CHECK(proof->jti == "e1j3V_bKic8-LAEB");
    CHECK(proof->issued_at == kNow);
    CHECK_FALSE(proof->nonce.has_value());
  }
}

TEST_CASE("dpop: the nonce a proof carries is reported, and must be a string", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  auto proof = ProofVerifier().verify(
      make_proof(key, [](ProofParts& p) { p.payload["nonce"] = "eyJ7S_zG.eyJH0-Z.HX4w-7v"; }),
      kPost, kNow);
  REQUIRE(proof);
  CHECK(proof->nonce == "eyJ7S_zG.eyJH0-Z.HX4w-7v");
  check_refused(key, [](ProofParts& p) { p.payload["nonce"] = 5; });
}

TEST_CASE("dpop: htm must be the request's method, exactly", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  check_refused(key, [](ProofParts& p) { p.payload["htm"] = "GET"; });
  check_refused(key, [](ProofParts& p) { p.payload["htm"] = "post"; });
  auto get = ProofVerifier().verify(make_proof(key), ProofRequest{"GET", kUri}, kNow);
  CHECK(get.error() == errc::dpop_invalid);
}

TEST_CASE("dpop: htu is compared with the request URI in normal form, without query", "[dpop]") {
  const AnyKey key = make_key(Algorithm::EdDSA);
  const ProofVerifier verifier;
  for (const char* htu :
       {"https://api.example.com/resource", "HTTPS://API.Example.COM/resource",
        "https://api.example.com:443/resource", "https://api.example.com/a/../resource",
        "https://api.example.com/./resource", "https://api.example.com/%72esource",
        "https://api.example.com/resource?x=1", "https://api.example.com/resource#top"}) {
    INFO(htu);
    CHECK(verifier.verify(make_proof(key, [&](ProofParts& p) { p.payload["htu"] = htu; }), kPost,
                          kNow));
  }
  // The request's own URI may carry a query, and is normalized too.
  CHECK(verifier.verify(make_proof(key),
                        ProofRequest{"POST", "https://API.example.com:443/resource?page=2"}, kNow));
  for (const char* htu :
       {"http://api.example.com/resource", "https://api.example.com:8443/resource",
        "https://api.example.org/resource", "https://api.example.com/resource/",
        "https://api.example.com/Resource", "https://api.example.com/other",
        "https://user@api.example.com/resource", "/resource", "api.example.com/resource", "",
        "https://api.example.com/res ource", "https://api.example.com/%zzresource"}) {
    INFO(htu);
    check_refused(key, [&](ProofParts& p) { p.payload["htu"] = htu; });
  }
}

TEST_CASE("dpop: iat must lie within the window around now", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  const ProofVerifier verifier;  // 60 s either side
  const auto at = [&](std::chrono::seconds offset) {
    return make_proof(
        key, [&](ProofParts& p) { p.payload["iat"] = (kNow + offset).time_since_epoch().count(); });
  };
  CHECK(verifier.verify(at(-60s), kPost, kNow));
  CHECK(verifier.verify(at(60s), kPost, kNow));
  CHECK(verifier.verify(at(-61s), kPost, kNow).error() == errc::dpop_invalid);
  CHECK(verifier.verify(at(61s), kPost, kNow).error() == errc::dpop_invalid);
  const ProofVerifier strict(ProofOptions{.iat_window = 5s});
  CHECK(strict.verify(at(-5s), kPost, kNow));
  CHECK(strict.verify(at(-6s), kPost, kNow).error() == errc::dpop_invalid);
  check_refused(key, [](ProofParts& p) { p.payload["iat"] = "1800000000"; });
  check_refused(key, [](ProofParts& p) { p.payload["iat"] = -1; });
}

TEST_CASE("dpop: with an access token, ath must be its SHA-256 hash", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  const std::string token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
  const ProofRequest with_token{"GET", kUri, token};
  const auto with_ath = [&](json ath) {
    return [ath = std::move(ath)](ProofParts& p) {
      p.payload["htm"] = "GET";
      p.payload["ath"] = ath;
    };
  };
  const ProofVerifier verifier;
  CHECK(verifier.verify(make_proof(key, with_ath(access_token_hash(token))), with_token, kNow));
  CHECK_FALSE(
      verifier.verify(make_proof(key, with_ath(access_token_hash(token + "x"))), with_token, kNow));
  CHECK_FALSE(verifier.verify(make_proof(key, with_ath(7)), with_token, kNow));
  auto without_ath = verifier.verify(
      make_proof(key, [](ProofParts& p) { p.payload["htm"] = "GET"; }), with_token, kNow);
  CHECK(without_ath.error() == errc::dpop_invalid);
}

TEST_CASE("dpop: the header must say dpop+jwt and carry nothing tegata cannot honour", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  check_refused(key, [](ProofParts& p) { p.header["typ"] = "JWT"; });
  check_refused(key, [](ProofParts& p) { p.header["typ"] = "DPOP+JWT"; });
  check_refused(key, [](ProofParts& p) { p.header.erase("typ"); });
  check_refused(key, [](ProofParts& p) { p.header["crit"] = json::array({"exp"}); });
  check_refused(key, [](ProofParts& p) { p.header.erase("jwk"); });
  check_refused(key, [](ProofParts& p) { p.header["jwk"] = "not an object"; });
}

TEST_CASE("dpop: the payload needs jti, htm, htu and iat, and a bounded jti", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  for (const char* member : {"jti", "htm", "htu", "iat"}) {
    INFO(member);
    check_refused(key, [&](ProofParts& p) { p.payload.erase(member); });
  }
  check_refused(key, [](ProofParts& p) { p.payload["jti"] = ""; });
  check_refused(key, [](ProofParts& p) { p.payload["jti"] = 12345; });
  check_refused(key, [](ProofParts& p) {
    p.payload["jti"] = std::string(tegata::dpop::kMaxProofIdBytes + 1, 'j');
  });
  CHECK(ProofVerifier().verify(make_proof(key,
                                          [](ProofParts& p) {
                                            p.payload["jti"] =
                                                std::string(tegata::dpop::kMaxProofIdBytes, 'j');
                                          }),
                               kPost, kNow));
}

TEST_CASE("dpop: alg must be asymmetric, allowed, and the one the jwk's key serves", "[dpop]") {
  const AnyKey es256 = make_key(Algorithm::ES256);
  check_refused(es256, [](ProofParts& p) { p.header["alg"] = "none"; });
  check_refused(es256, [](ProofParts& p) { p.header["alg"] = "ES384"; });
  check_refused(es256, [](ProofParts& p) { p.header["alg"] = "RS256"; });
  check_refused(es256, [](ProofParts& p) { p.header["jwk"]["alg"] = "ES384"; });

  // An HMAC proof, its secret in the jwk: refused for its alg, whatever it verifies with.
  const AnyKey mac = tegata::HmacKey(Algorithm::HS256, std::string(32, 'k'));
  const std::string hs256 = make_proof(mac, [](ProofParts& p) {
    p.header["jwk"] = json{{"kty", "oct"}, {"k", tegata::base64url_encode(std::string(32, 'k'))}};
  });
  CHECK(ProofVerifier().verify(hs256, kPost, kNow).error() == errc::dpop_invalid);

  // ES384 is not in the default list; allowed, it verifies.
  const AnyKey es384 = make_key(Algorithm::ES384);
  CHECK(ProofVerifier().verify(make_proof(es384), kPost, kNow).error() == errc::dpop_invalid);
  CHECK(ProofVerifier(ProofOptions{.algorithms = {Algorithm::ES384}})
            .verify(make_proof(es384), kPost, kNow));
  // Its header is now in this thread's cache of proof keys: the default verifier still refuses.
  CHECK(ProofVerifier().verify(make_proof(es384), kPost, kNow).error() == errc::dpop_invalid);

  // An ES256 header with a P-384 key (signed by it): the curve does not fit the alg.
  const std::string mismatched =
      make_proof(es384, [](ProofParts& p) { p.header["alg"] = "ES256"; });
  CHECK(ProofVerifier().verify(mismatched, kPost, kNow).error() == errc::dpop_invalid);
}

TEST_CASE("dpop: a jwk carrying the private key is refused", "[dpop]") {
  for (const Algorithm alg : {Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256}) {
    INFO(tegata::to_string(alg));
    const AnyKey key = make_key(alg);
    check_refused(key, [&](ProofParts& p) { p.header["jwk"] = *tegata::keys::private_jwk(key); });
  }
}

TEST_CASE("dpop: the signature must be by the jwk's key over the bytes received", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  const AnyKey thief = make_key(Algorithm::ES256);
  const ProofVerifier verifier;
  CHECK(verifier.verify(make_proof(key, {}, &thief), kPost, kNow).error() == errc::dpop_invalid);
  std::string proof = make_proof(key);
  REQUIRE(verifier.verify(proof, kPost, kNow));
  const std::size_t payload_at = proof.find('.') + 3;
  proof[payload_at] = proof[payload_at] == 'A' ? 'B' : 'A';
  CHECK(verifier.verify(proof, kPost, kNow).error() == errc::dpop_invalid);
}

TEST_CASE("dpop: an RSA key above max_rsa_bits is refused before it is used", "[dpop]") {
  const AnyKey big = make_key(Algorithm::PS256, 3072);
  CHECK(ProofVerifier().verify(make_proof(big), kPost, kNow));
  const ProofVerifier bounded(ProofOptions{.max_rsa_bits = 2048});
  // Refused whether the header is new to this thread or was seen (and cached) above.
  CHECK(bounded.verify(make_proof(big), kPost, kNow).error() == errc::dpop_invalid);
  CHECK(bounded.verify(make_proof(make_key(Algorithm::RS256, 3072)), kPost, kNow).error() ==
        errc::dpop_invalid);
  CHECK(bounded.verify(make_proof(make_key(Algorithm::PS256)), kPost, kNow));
}

TEST_CASE("dpop: malformed proofs are refused without throwing", "[dpop]") {
  const AnyKey key = make_key(Algorithm::ES256);
  const std::string good = make_proof(key);
  const ProofVerifier verifier;
  const std::string cases[] = {"",
                               "a.b",
                               "a.b.c.d",
                               good + ".",
                               "." + good.substr(good.find('.')),
                               good.substr(0, good.rfind('.') + 1),
                               good.substr(0, good.find('.')) + "..sig",
                               "e30.e30.AAAA",
                               good + "=",
                               std::string(5000, 'a')};
  for (const std::string& proof : cases) {
    INFO(proof.substr(0, 60));
    auto result = verifier.verify(proof, kPost, kNow);
    REQUIRE_FALSE(result);
    CHECK(result.error() == errc::dpop_invalid);
  }
  const ProofVerifier small(ProofOptions{.max_proof_bytes = 256});
  CHECK(small.verify(good, kPost, kNow).error() == errc::dpop_invalid);
}

TEST_CASE("dpop: a verifier that could not verify safely is refused at construction", "[dpop]") {
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.algorithms = {}}), std::invalid_argument);
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.algorithms = {Algorithm::ES256, Algorithm::HS256}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.iat_window = 0s}), std::invalid_argument);
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.iat_window = 11min}), std::invalid_argument);
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.max_proof_bytes = 100}), std::invalid_argument);
  CHECK_THROWS_AS(ProofVerifier(ProofOptions{.max_rsa_bits = 1024}), std::invalid_argument);
  CHECK_NOTHROW(ProofVerifier(ProofOptions{}));
}

TEST_CASE("http uri: the normal form of RFC 3986 §6.2.2 and §6.2.3", "[dpop][uri]") {
  using tegata::detail::normalize_http_uri;
  const std::pair<const char*, const char*> same[] = {
      {"https://example.com", "https://example.com/"},
      {"HTTP://Example.COM:80/a", "http://example.com/a"},
      {"https://example.com:0443/a", "https://example.com/a"},
      {"https://example.com:/a", "https://example.com/a"},
      {"https://example.com:8080/a", "https://example.com:8080/a"},
      {"http://example.com:443/a", "http://example.com:443/a"},
      {"https://example.com/a%2fb", "https://example.com/a%2Fb"},
      {"https://example.com/%7Euser/%41", "https://example.com/~user/A"},
      {"https://ex%41mple.com/", "https://example.com/"},
      {"https://example.com/a/b/c/./../../g", "https://example.com/a/g"},
      {"https://example.com/../a", "https://example.com/a"},
      {"https://example.com/a/..", "https://example.com/"},
      {"https://example.com/a?b=c#d", "https://example.com/a"},
      {"https://example.com#frag?x", "https://example.com/"},
      {"https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"},
      {"https://[::1]:8443/", "https://[::1]:8443/"},
      {"https://example.com/a:b@c!$&'()*+,;=", "https://example.com/a:b@c!$&'()*+,;="},
  };
  for (const auto& [in, out] : same) {
    INFO(in);
    const auto normalized = normalize_http_uri(in);
    REQUIRE(normalized);
    CHECK(*normalized == out);
  }
  for (const char* bad : {"",
                          "/a",
                          "example.com/a",
                          "ftp://example.com/",
                          "https:/example.com/",
                          "https://",
                          "https:///a",
                          "https://u:p@example.com/",
                          "https://example.com:65536/",
                          "https://example.com:8a/",
                          "https://[::1/",
                          "https://[]/",
                          "https://[::1]x/",
                          "https://[g::1]/",
                          "https://exa mple.com/",
                          "https://example.com/a b",
                          "https://example.com/%",
                          "https://example.com/%4",
                          "https://example.com/%g0",
                          "https://example.com/\xc3\xa9",
                          "https://example.com/a\"b"}) {
    INFO(bad);
    CHECK_FALSE(normalize_http_uri(bad));
  }
}

TEST_CASE("dpop nonce: accepted in its window and the next, from any issuer sharing the secret",
          "[dpop][nonce]") {
  using tegata::dpop::NonceIssuer;
  const std::string secret(32, 's');
  const NonceIssuer issuer(secret, 60s);
  const auto window_start = std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}};
  const std::string nonce = issuer.issue(window_start);
  CHECK(nonce.size() == 32);
  CHECK(issuer.issue(window_start + 59s) == nonce);  // one nonce per window
  CHECK(issuer.issue(window_start + 60s) != nonce);
  CHECK(issuer.accepts(nonce, window_start));
  CHECK(issuer.accepts(nonce, window_start + 119s));
  CHECK_FALSE(issuer.accepts(nonce, window_start + 120s));
  CHECK_FALSE(issuer.accepts(nonce, window_start - 1s));  // not before it was issued
  CHECK(NonceIssuer(secret, 60s).accepts(nonce, window_start));
  CHECK_FALSE(NonceIssuer(std::string(32, 't'), 60s).accepts(nonce, window_start));
  std::string tampered = nonce;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  CHECK_FALSE(issuer.accepts(tampered, window_start));
  CHECK_FALSE(issuer.accepts("", window_start));
  CHECK_FALSE(issuer.accepts(nonce + "A", window_start));
  CHECK_THROWS_AS(NonceIssuer(std::string(31, 's')), std::invalid_argument);
  CHECK_THROWS_AS(NonceIssuer(secret, 9s), std::invalid_argument);
  CHECK_THROWS_AS(NonceIssuer(secret, 61min), std::invalid_argument);
}

TEST_CASE("dpop nonce: required, a proof without the current nonce is use_dpop_nonce",
          "[dpop][nonce]") {
  const AnyKey key = make_key(Algorithm::ES256);
  ProofOptions options;
  options.nonces.emplace(std::string(32, 'n'), 5min);
  const ProofVerifier verifier(options);
  const ProofVerifier without_nonces;
  CHECK_FALSE(without_nonces.nonce(kNow));
  const std::optional<std::string> nonce = verifier.nonce(kNow);
  REQUIRE(nonce);
  const auto with_nonce = [](std::string value) {
    return [value = std::move(value)](ProofParts& p) { p.payload["nonce"] = value; };
  };
  auto proof = verifier.verify(make_proof(key, with_nonce(*nonce)), kPost, kNow);
  REQUIRE(proof);
  CHECK(proof->nonce == *nonce);
  CHECK(verifier.verify(make_proof(key), kPost, kNow).error() == errc::use_dpop_nonce);
  CHECK(verifier.verify(make_proof(key, with_nonce("made-up")), kPost, kNow).error() ==
        errc::use_dpop_nonce);
  // Ten minutes on, the nonce is stale (the proof's iat moves with the clock).
  const auto later = kNow + 10min;
  const std::string late = make_proof(key, [&](ProofParts& p) {
    p.payload["nonce"] = *nonce;
    p.payload["iat"] = later.time_since_epoch().count();
  });
  CHECK(verifier.verify(late, kPost, later).error() == errc::use_dpop_nonce);
  // A proof that fails another check is dpop_invalid, whatever its nonce.
  auto wrong_method = verifier.verify(make_proof(key), ProofRequest{"GET", kUri}, kNow);
  CHECK(wrong_method.error() == errc::dpop_invalid);
}
