// tests/fuzz/seeds.hpp - the seed corpus: valid and near-valid inputs for each fuzz target.
//
// A fuzzer finds its way much faster from inputs that already pass the first checks (a token
// with a good signature, a JWK that imports, a program that logs in and refreshes). The seeds are
// generated, not committed: tests/fuzz/make_seeds.cpp writes them into the build directory for
// libFuzzer, and tests/unit/fuzz_regressions_test.cpp runs every property check on them, so
// the success paths of the checks are exercised by the ordinary unit tests too.
//
// Each seed is already in its target's input format (see properties.hpp).
#pragma once

#include <openssl/encoder.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/tegata.hpp"

namespace tegata_fuzz {

namespace seeds {

using json = nlohmann::json;

inline std::int64_t at(std::chrono::seconds offset) {
  return (kNow + offset).time_since_epoch().count();
}

// Claims that pass strict_validator() at kNow.
inline json good_claims() {
  using namespace std::chrono_literals;
  return {{"iss", kIssuer},  {"aud", kAudience}, {"sub", "alice"},       {"exp", at(3600s)},
          {"iat", at(-10s)}, {"nbf", at(-10s)},  {"jti", "seed-token-1"}};
}

inline std::string with_mode(std::uint8_t mode, std::string_view rest) {
  return std::string(1, static_cast<char>(mode)) + std::string(rest);
}

// A jws input that has the harness sign header and payload (mode bits 1, plus key and validator).
inline std::string jws_signed(std::uint8_t mode, std::string_view header,
                              std::string_view payload) {
  std::string out(1, static_cast<char>(mode | 2));
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xFF));
  out.append(header).append(payload);
  return out;
}

inline std::vector<std::string> jws() {
  using namespace std::chrono_literals;
  std::vector<std::string> out;
  const json claims = good_claims();
  json expired = claims;
  expired["exp"] = at(-1s);
  json audiences = claims;
  audiences["aud"] = {"other", kAudience};
  const json lenient = {{"sub", "bob"}, {"iat", at(0s)}, {"scope", "read write"}};

  // Raw tokens: 0 = HS256 key, 1 = ES256 key, 4 = lenient validator.
  out.push_back(with_mode(0, tegata::sign_jwt(hs256_key(), claims).value()));
  out.push_back(with_mode(0, tegata::sign_jwt(hs256_key(), expired).value()));
  out.push_back(with_mode(0, tegata::sign_jwt(hs256_key(), audiences).value()));
  out.push_back(with_mode(0, tegata::sign_jwt(other_hs256_key(), claims).value()));
  out.push_back(with_mode(1, tegata::sign_jwt(es256_key(), claims).value()));
  out.push_back(with_mode(4, tegata::sign_jwt(hs256_key(), lenient, "at+jwt").value()));
  out.push_back(with_mode(5, tegata::sign_jwt(es256_key(), lenient, "at+jwt").value()));
  out.push_back(with_mode(0, "eyJhbGciOiJub25lIn0.e30."));
  out.push_back(with_mode(0, "a.b.c"));

  // Header and payload for the harness to sign.
  const std::string payload = claims.dump();
  for (const std::uint8_t key : {0, 1}) {
    const std::string_view alg = key == 0 ? "HS256" : "ES256";
    const std::string header = json{{"alg", alg}, {"typ", "JWT"}}.dump();
    out.push_back(jws_signed(key, header, payload));
    out.push_back(jws_signed(key, R"({"alg":")" + std::string(alg) + R"("})", payload));
    out.push_back(jws_signed(key, R"({"alg":")" + std::string(alg) + R"(","kid":"k1"})", payload));
    out.push_back(
        jws_signed(key, R"({"alg":")" + std::string(alg) + R"(","crit":["exp"]})", payload));
    out.push_back(jws_signed(key | 4, R"({"alg":")" + std::string(alg) + R"(","typ":"at+jwt"})",
                             lenient.dump()));
  }
  // Claims of every odd shape, after our issuer (and mostly our audience).
  const std::string header = R"({"alg":"HS256"})";
  const std::string ours = R"({"iss":"https://issuer.tegata.test",)";
  const std::string aud = ours + R"("aud":"tegata-fuzz",)";
  for (const std::string& odd : {
           aud + R"("exp":"1700003600"})",
           aud + R"("exp":1700003600.5})",
           aud + R"("exp":9223372036854775808})",
           aud + R"("nbf":1800000000,"exp":1900000000})",
           aud + R"("exp":1700003600,"x":[[[{}]]]})",
           aud + R"("exp":1700003600,})",
           ours + R"("aud":["a","tegata-fuzz"],"exp":1e300})",
           ours + R"("aud":{"x":1},"exp":1700003600})",
           ours + R"("iss":"x","aud":"tegata-fuzz","exp":1700003600})",
           std::string(R"({"exp":1700003600 /* comment */})"),
           std::string("{\"exp\":1700003600,\"s\":\"\xC3\x28\"}"),
       }) {
    out.push_back(jws_signed(0, header, odd));
  }
  return out;
}

inline std::string jwk_input(std::uint8_t flags, const json& value) {
  return with_mode(flags, value.dump());
}

// Flags: low nibble = 1 + index into kAlgorithms (0: none), 0x10 sign, 0x20 thumbprint kid,
// 0x40 JWK Set.
inline std::uint8_t alg_flag(tegata::Algorithm alg) {
  for (std::size_t i = 0; i < std::size(kAlgorithms); ++i) {
    if (kAlgorithms[i] == alg) return static_cast<std::uint8_t>(i + 1);
  }
  return 0;
}

inline std::vector<std::string> jwk() {
  namespace keys = tegata::keys;
  using tegata::Algorithm;
  std::vector<std::string> out;
  const tegata::AnyKey hmac =
      tegata::HmacKey(Algorithm::HS256, "tegata fuzz seed secret of 32+ bytes!", "h1");
  const tegata::AnyKey ec =
      tegata::EcdsaKey(Algorithm::ES256, keys::parse_pem(kEs256PrivatePem).value(), "e1");
  const tegata::AnyKey rsa =
      tegata::RsaKey(Algorithm::PS256, keys::generate(Algorithm::PS256), "r1");
  const tegata::AnyKey ed = tegata::EddsaKey(keys::generate(Algorithm::EdDSA), "d1");
  const tegata::AnyKey k256 =
      tegata::EcdsaKey(Algorithm::ES256K, keys::generate(Algorithm::ES256K), "s1");
  const tegata::AnyKey p521 = tegata::EcdsaKey(Algorithm::ES512, keys::generate(Algorithm::ES512));

  out.push_back(jwk_input(0, keys::private_jwk(hmac).value()));
  out.push_back(jwk_input(0x10, keys::private_jwk(hmac).value()));
  for (const auto* key : {&ec, &rsa, &ed, &k256}) {
    const json published = keys::public_jwk(*key).value();
    const json secret = keys::private_jwk(*key).value();
    out.push_back(jwk_input(0, published));
    out.push_back(jwk_input(0x10, secret));
    out.push_back(jwk_input(0, secret));
    json bare = published;
    bare.erase("alg");
    bare.erase("kid");
    out.push_back(jwk_input(alg_flag(key->algorithm()) | 0x20, bare));
  }
  out.push_back(jwk_input(alg_flag(Algorithm::ES512), keys::public_jwk(p521).value()));
  json enc = keys::public_jwk(ec).value();
  enc["use"] = "enc";
  out.push_back(jwk_input(0, enc));

  const std::vector<tegata::AnyKey> asymmetric = {ec, rsa, ed, k256};
  out.push_back(jwk_input(0x40, keys::public_jwks(asymmetric).value()));
  json mixed = keys::public_jwks(asymmetric).value();
  mixed["keys"].push_back(keys::private_jwk(hmac).value());
  out.push_back(jwk_input(0x40, mixed));
  out.push_back(jwk_input(0x40, json{{"keys", json::array({keys::private_jwk(hmac).value()})}}));
  out.push_back(jwk_input(0x40, json{{"keys", json::array()}}));
  return out;
}

// A key in one of OpenSSL's encodings: "PEM" or "DER", structure as OSSL_ENCODER names it.
inline std::string encode(EVP_PKEY* key, bool with_private, const char* type,
                          const char* structure) {
  using ctx_ptr = std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)>;
  const ctx_ptr ctx(
      OSSL_ENCODER_CTX_new_for_pkey(key, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                                    type, structure, nullptr),
      &OSSL_ENCODER_CTX_free);
  unsigned char* data = nullptr;
  std::size_t size = 0;
  if (!ctx || OSSL_ENCODER_to_data(ctx.get(), &data, &size) != 1) return {};
  std::string out(reinterpret_cast<const char*>(data), size);
  OPENSSL_free(data);
  return out;
}

inline std::vector<std::string> pem() {
  namespace keys = tegata::keys;
  using tegata::Algorithm;
  std::vector<std::string> out;
  const auto ec = keys::parse_pem(kEs256PrivatePem).value();
  const auto rsa = keys::generate(Algorithm::RS256);
  const auto ed = keys::generate(Algorithm::EdDSA);
  for (EVP_PKEY* key : {ec.get(), rsa.get(), ed.get()}) {
    out.push_back(with_mode(0, encode(key, true, "PEM", "PrivateKeyInfo")));
    out.push_back(with_mode(0, encode(key, false, "PEM", "SubjectPublicKeyInfo")));
    out.push_back(with_mode(1, encode(key, true, "DER", "PrivateKeyInfo")));
    out.push_back(with_mode(1, encode(key, false, "DER", "SubjectPublicKeyInfo")));
  }
  for (EVP_PKEY* key : {ec.get(), rsa.get()}) {
    out.push_back(with_mode(0, encode(key, true, "PEM", "type-specific")));
    out.push_back(with_mode(1, encode(key, true, "DER", "type-specific")));
  }
  out.push_back(with_mode(0, encode(rsa.get(), false, "PEM", "type-specific")));
  out.push_back(with_mode(
      0, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
             std::string(kEs256PrivatePem)));
  out.push_back(with_mode(
      0, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"));
  return out;
}

inline std::vector<std::string> http() {
  const std::string token = tegata::sign_jwt(hs256_key(), good_claims()).value();
  std::vector<std::string> out;
  for (const std::string& authorization :
       {"Bearer " + token, std::string("bearer mF_9.B5f-4.1JqM=="),
        std::string("Basic QWxhZGRpbg=="), std::string("Bearer  x"), std::string("Bearer")}) {
    out.push_back(with_mode(0, authorization));
  }
  const auto cookie = [](std::string_view name, std::string_view header) {
    return with_mode(1, std::string(1, static_cast<char>(name.size())) + std::string(name) +
                            std::string(header));
  };
  out.push_back(
      cookie("__Host-access_token", "theme=dark; __Host-access_token=" + token + "; lang=en"));
  out.push_back(cookie("sid", "sid=a; sid=b"));
  out.push_back(cookie("sid", "sid=\"quoted\""));
  out.push_back(cookie("sid", " sid = value \t;x"));
  out.push_back(with_mode(2, token));
  out.push_back(with_mode(2, "a;b"));
  return out;
}

// dpop proofs (mode 0) for POST kDpopUri at kNow, made as a client makes them, by the ES256 and
// an Ed25519 key, one with the nonce check_dpop requires; the hostile shapes a verifier must
// refuse (an HMAC proof, alg none, a private jwk, no jti, typ JWT, crit); URIs (mode 1); and
// proofs for the bound token (mode 2): by the bound key, by another key, without ath, none.
inline std::string dpop_proof(const tegata::AnyKey& key, nlohmann::json header,
                              nlohmann::json payload) {
  if (!header.contains("typ")) header["typ"] = "dpop+jwt";
  if (!header.contains("alg")) header["alg"] = tegata::to_string(key.algorithm());
  if (!header.contains("jwk")) header["jwk"] = tegata::keys::public_jwk(key).value();
  const std::string input =
      tegata::base64url_encode(header.dump()) + "." + tegata::base64url_encode(payload.dump());
  return input + "." + tegata::base64url_encode(key.sign_raw(input).value());
}

inline std::vector<std::string> dpop() {
  const tegata::AnyKey es256 = es256_key();
  const tegata::AnyKey ed25519 = tegata::EddsaKey(
      tegata::Algorithm::Ed25519, tegata::keys::generate(tegata::Algorithm::Ed25519));
  const tegata::AnyKey hs256 = hs256_key();
  const nlohmann::json claims = {{"jti", "seed-1"},
                                 {"htm", "POST"},
                                 {"htu", std::string(kDpopUri)},
                                 {"iat", kNow.time_since_epoch().count()}};
  nlohmann::json with_nonce = claims;
  with_nonce["nonce"] = tegata::dpop::NonceIssuer(dpop_nonce_secret()).issue(kNow);
  nlohmann::json without_jti = claims;
  without_jti.erase("jti");
  std::vector<std::string> out;
  const auto proof = [&](std::string text) { out.push_back(with_mode(0, text)); };
  proof(dpop_proof(es256, {}, claims));
  proof(dpop_proof(ed25519, {}, claims));
  proof(dpop_proof(es256, {}, with_nonce));
  proof(dpop_proof(
      hs256, {{"jwk", {{"kty", "oct"}, {"k", tegata::base64url_encode(std::string(32, 's'))}}}},
      claims));
  proof(dpop_proof(es256, {{"jwk", tegata::keys::private_jwk(es256).value()}}, claims));
  proof(dpop_proof(es256, {}, without_jti));
  proof(dpop_proof(es256, {{"crit", {"exp"}}}, claims));
  const std::string none_header = tegata::base64url_encode(nlohmann::json{
      {"typ", "dpop+jwt"},
      {"alg", "none"},
      {"jwk", tegata::keys::public_jwk(es256).value()}}.dump());
  proof(none_header + "." + tegata::base64url_encode(claims.dump()) + ".");
  proof(dpop_proof(es256, {{"typ", "JWT"}}, claims));
  nlohmann::json bound_claims = claims;
  bound_claims["htm"] = "GET";
  bound_claims["htu"] = std::string(kDpopApiUri);
  const nlohmann::json without_ath = bound_claims;
  bound_claims["ath"] = tegata::base64url_encode(
      tegata::detail::jwk::sha256(bound_access_token()).value());
  out.push_back(with_mode(2, dpop_proof(es256, {}, bound_claims)));
  out.push_back(with_mode(2, dpop_proof(ed25519, {}, bound_claims)));
  out.push_back(with_mode(2, dpop_proof(es256, {}, without_ath)));
  out.push_back(with_mode(2, ""));
  for (const char* uri : {"HTTPS://API.tegata.test:443/a/./b/../token?x#y",
                          "http://[::1]:8080/%7e%2f", "https://h/.."}) {
    out.push_back(with_mode(1, uri));
  }
  return out;
}

// A session program (see check_session): config byte, then operations.
inline std::string program(std::initializer_list<int> bytes) {
  std::string out;
  for (const int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

inline std::vector<std::string> session() {
  return {
      // Log in, validate, refresh, validate the new token, replay the old refresh token.
      program({0, 0, 0, 1, 0, 2, 0, 1, 1, 2, 0, 1, 1}),
      // With a grace window: refresh twice within it, then again after it.
      program({2, 0, 1, 2, 0, 5, 3, 2, 0, 5, 20, 2, 0, 1, 2}),
      // Logout, then everything of the family is refused.
      program({0, 0, 0, 2, 0, 3, 0, 0, 1, 0, 1, 1, 2, 1}),
      // Log out everywhere, log in again.
      program({1, 0, 1, 0, 1, 4, 1, 0, 1, 1, 0, 1, 2, 2, 1}),
      // Time passes: access tokens expire, refresh tokens carry on, the absolute limit ends it.
      program({1, 0, 0, 5,  90, 1, 0, 2,  0, 6, 18, 2,  1, 6, 18, 2,  2, 6, 18,
               2, 3, 6, 18, 2,  4, 6, 18, 2, 5, 6,  18, 2, 6, 6,  18, 2, 7}),
      // Hostile presentations: mutated, raw, the other kind, spliced.
      program(
          {0, 0, 2, 7, 0, 5, 0, 65, 8, 0, 9, 0, 66, 9, 3, 'a', '.', 'b', 11, 0, 12, 0, 0, 0, 1}),
      // Leeway 30 s at the absolute end: refresh up to the end, log out, and present the last
      // access token inside the leeway after the end (the logout must still hold).
      program({1, 0,  0, 6, 19, 2,  0, 6, 19, 2,   1, 6, 19, 2, 2, 6, 19, 2, 3,
               6, 19, 2, 4, 6,  19, 2, 5, 5,  150, 2, 6, 3,  7, 0, 5, 40, 1, 7}),
      // A tiny store: revocations until it is full.
      program({4, 0, 0, 0, 1, 0, 2, 3, 0, 0, 3, 1, 1, 3, 2, 0, 4, 0, 4, 1, 4, 2, 13, 2, 3}),
  };
}

// claims_differential reads its input as the JSON text of a header or a payload (and as
// base64url text): the objects tegata writes and reads, and the shapes where the flat reader
// hands over to the strict one (floats, signs, escapes, nesting, duplicates, oversized numbers).
inline std::vector<std::string> claims_differential() {
  using namespace std::chrono_literals;
  json access = good_claims();
  access["typ"] = "at+jwt";
  access["sid"] = "seed-family-1";
  access["ver"] = 7;
  access["auth_time"] = at(-600s);
  access["scope"] = "read write";
  json audiences = good_claims();
  audiences["aud"] = {"other", kAudience};
  return {
      good_claims().dump(),
      access.dump(),
      audiences.dump(),
      R"({"alg":"HS256","typ":"JWT"})",
      R"({"alg":"ES256","kid":"k1","typ":"at+jwt"})",
      R"({"alg":"HS256","crit":["exp"]})",
      R"({"alg":"none"})",
      R"( { "sub" : "alice" , "exp" : 1700003600 } )",
      R"({"sub":"a\"b\\c\/\u00e9\ud83d\ude00","jti":""})",
      R"({"exp":1700003600.5,"nbf":-1,"iat":1e3,"x":-0})",
      R"({"ver":18446744073709551615,"exp":18446744073709551616})",
      R"({"x":{"y":[1,2,{"z":null}]},"b":true,"f":false,"n":null})",
      R"({"aud":[],"sub":1,"iss":["a"]})",
      R"({"a":1,"a":2})",
      R"({"exp":1700003600,})",
      R"([1,2])",
      "eyJhbGciOiJIUzI1NiJ9",
  };
}

}  // namespace seeds

// The seeds of the target with this name (see kTargets and kStandaloneTargets), empty for an
// unknown name.
inline std::vector<std::string> seeds_for(std::string_view target) {
  if (target == "jws") return seeds::jws();
  if (target == "jwk") return seeds::jwk();
  if (target == "pem") return seeds::pem();
  if (target == "http") return seeds::http();
  if (target == "dpop") return seeds::dpop();
  if (target == "session") return seeds::session();
  if (target == "claims_differential") return seeds::claims_differential();
  return {};
}

}  // namespace tegata_fuzz
