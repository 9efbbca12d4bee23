// keys::parse_pem / parse_der / to_pem_private / to_pem_public / generate / generate_secret: every
// supported encoding, and refusal of garbage, truncation, ambiguity and encrypted keys (without
// prompting). The test keys are generated here and written with OpenSSL's OSSL_ENCODER.
#include "tegata/keys/pem.hpp"

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"

namespace {

using tegata::Algorithm;
using tegata::errc;
using tegata::KeyHandle;
using tegata::keys::parse_der;
using tegata::keys::parse_pem;

// Serialises key with OpenSSL itself (independently of the code under test). With a cipher the
// private key is encrypted under the passphrase "secret".
std::string encode(EVP_PKEY* key, int selection, const char* type, const char* structure,
                   const char* cipher = nullptr) {
  const tegata::detail::ossl_encoder_ctx_ptr ctx(
      OSSL_ENCODER_CTX_new_for_pkey(key, selection, type, structure, nullptr));
  REQUIRE(ctx);
  REQUIRE(OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) > 0);
  if (cipher != nullptr) {
    REQUIRE(OSSL_ENCODER_CTX_set_cipher(ctx.get(), cipher, nullptr) == 1);
    REQUIRE(OSSL_ENCODER_CTX_set_passphrase(
                ctx.get(), reinterpret_cast<const unsigned char*>("secret"), 6) == 1);
  }
  unsigned char* data = nullptr;
  std::size_t length = 0;
  REQUIRE(OSSL_ENCODER_to_data(ctx.get(), &data, &length) == 1);
  std::string out(reinterpret_cast<const char*>(data), length);
  OPENSSL_clear_free(data, length);
  return out;
}

std::string private_pem(EVP_PKEY* key, const char* structure = "PrivateKeyInfo") {
  return encode(key, EVP_PKEY_KEYPAIR, "PEM", structure);
}
std::string public_pem(EVP_PKEY* key, const char* structure = "SubjectPublicKeyInfo") {
  return encode(key, EVP_PKEY_PUBLIC_KEY, "PEM", structure);
}

// The key decoded from PEM or DER is the same key: equal public components.
void check_same_key(const tegata::Result<KeyHandle>& parsed, EVP_PKEY* original, bool is_private) {
  REQUIRE(parsed);
  CHECK(EVP_PKEY_eq(parsed->get(), original) == 1);
  CHECK(tegata::detail::has_private_key(parsed->get()) == is_private);
}

// Algorithm-independent: the error queue must hold nothing from a refused parse.
void check_error_queue_clean() { CHECK(ERR_peek_error() == 0); }

KeyHandle rsa_key() {
  static const KeyHandle key = tegata::keys::generate(Algorithm::PS256);
  EVP_PKEY_up_ref(key.get());
  return KeyHandle(key.get());
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

}  // namespace

TEST_CASE("PKCS#8 and SubjectPublicKeyInfo PEM are read for every key type", "[pem]") {
  const Algorithm alg = GENERATE(Algorithm::RS256, Algorithm::ES256, Algorithm::ES384,
                                 Algorithm::ES512, Algorithm::ES256K, Algorithm::EdDSA,
                                 Algorithm::Ed448);
  CAPTURE(tegata::to_string(alg));
  const KeyHandle key = alg == Algorithm::RS256 ? rsa_key() : tegata::keys::generate(alg);
  const std::string priv = private_pem(key.get());
  const std::string pub = public_pem(key.get());
  CHECK(priv.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  CHECK(pub.rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0);
  check_same_key(parse_pem(priv), key.get(), true);
  check_same_key(parse_pem(pub), key.get(), false);
  SECTION("with CRLF line endings, explanatory text and surrounding whitespace") {
    check_same_key(parse_pem("Key for tests\r\n\r\n" + replace_all(priv, "\n", "\r\n") + "\r\n  "),
                   key.get(), true);
  }
  SECTION("and the same structures as DER") {
    check_same_key(parse_der(encode(key.get(), EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo")),
                   key.get(), true);
    check_same_key(parse_der(encode(key.get(), EVP_PKEY_PUBLIC_KEY, "DER", "SubjectPublicKeyInfo")),
                   key.get(), false);
  }
}

TEST_CASE("Ed448 PEM is read", "[pem]") {
  const KeyHandle key =
      tegata::keys::generate(Algorithm::EdDSA, {.ed_curve = tegata::EdCurve::Ed448});
  check_same_key(parse_pem(private_pem(key.get())), key.get(), true);
  check_same_key(parse_pem(public_pem(key.get())), key.get(), false);
}

TEST_CASE("Traditional RSA and EC PEM and DER are read", "[pem]") {
  const KeyHandle rsa = rsa_key();
  const KeyHandle ec = tegata::keys::generate(Algorithm::ES384);
  const std::string rsa_private = private_pem(rsa.get(), "type-specific");
  const std::string rsa_public = public_pem(rsa.get(), "type-specific");
  const std::string ec_private = private_pem(ec.get(), "type-specific");
  CHECK(rsa_private.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0) == 0);
  CHECK(rsa_public.rfind("-----BEGIN RSA PUBLIC KEY-----\n", 0) == 0);
  CHECK(ec_private.rfind("-----BEGIN EC PRIVATE KEY-----\n", 0) == 0);
  check_same_key(parse_pem(rsa_private), rsa.get(), true);
  check_same_key(parse_pem(rsa_public), rsa.get(), false);
  check_same_key(parse_pem(ec_private), ec.get(), true);
  check_same_key(parse_der(encode(rsa.get(), EVP_PKEY_KEYPAIR, "DER", "type-specific")), rsa.get(),
                 true);
  check_same_key(parse_der(encode(rsa.get(), EVP_PKEY_PUBLIC_KEY, "DER", "type-specific")),
                 rsa.get(), false);
  check_same_key(parse_der(encode(ec.get(), EVP_PKEY_KEYPAIR, "DER", "type-specific")), ec.get(),
                 true);

  SECTION("an EC PARAMETERS block before the key, as `openssl ecparam -genkey` writes it") {
    const std::string params = encode(ec.get(), EVP_PKEY_KEY_PARAMETERS, "PEM", "type-specific");
    REQUIRE(params.rfind("-----BEGIN EC PARAMETERS-----\n", 0) == 0);
    check_same_key(parse_pem(params + ec_private), ec.get(), true);
  }
}

TEST_CASE("Parsed keys sign and verify with the key classes", "[pem]") {
  const KeyHandle key = tegata::keys::generate(Algorithm::ES256);
  auto priv = parse_pem(private_pem(key.get()));
  auto pub = parse_pem(public_pem(key.get()));
  REQUIRE(priv);
  REQUIRE(pub);
  const tegata::EcdsaKey signer(Algorithm::ES256, std::move(*priv));
  const tegata::EcdsaKey verifier(Algorithm::ES256, std::move(*pub));
  auto signature = signer.sign_raw("data");
  REQUIRE(signature);
  CHECK(verifier.verify_raw("data", *signature));
}

TEST_CASE("Malformed PEM is refused with bad_encoding", "[pem]") {
  const KeyHandle key = tegata::keys::generate(Algorithm::ES256);
  const std::string priv = private_pem(key.get());
  const std::string pub = public_pem(key.get());
  ERR_clear_error();
  SECTION("empty input and garbage") {
    CHECK(parse_pem("").error() == errc::bad_encoding);
    CHECK(parse_pem("not a key").error() == errc::bad_encoding);
    CHECK(parse_pem(std::string(100, '\0')).error() == errc::bad_encoding);
    CHECK(parse_pem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n").error() ==
          errc::bad_encoding);
    CHECK(parse_pem("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n").error() ==
          errc::bad_encoding);
  }
  SECTION("truncated: the END line is missing") {
    CHECK(parse_pem(priv.substr(0, priv.size() / 2)).error() == errc::bad_encoding);
    CHECK(parse_pem("-----BEGIN PRIVATE KEY").error() == errc::bad_encoding);
  }
  SECTION("truncated: base64 lines are missing") {
    const std::size_t first_line_end = priv.find('\n') + 1;
    const std::string cut =
        priv.substr(0, first_line_end + 30) + "\n" + priv.substr(priv.find("-----END"));
    CHECK(parse_pem(cut).error() == errc::bad_encoding);
  }
  SECTION("a label that does not match its END line") {
    CHECK(parse_pem(replace_all(priv, "END PRIVATE KEY", "END PUBLIC KEY")).error() ==
          errc::bad_encoding);
  }
  SECTION("a label that does not match the content") {
    CHECK(parse_pem(replace_all(pub, "PUBLIC KEY", "PRIVATE KEY")).error() == errc::bad_encoding);
    CHECK(parse_pem(replace_all(priv, "PRIVATE KEY", "PUBLIC KEY")).error() == errc::bad_encoding);
    CHECK(
        parse_pem(replace_all(private_pem(key.get(), "type-specific"), "EC PRIVATE", "RSA PRIVATE"))
            .error() == errc::bad_encoding);
  }
  SECTION("no key block, or two") {
    CHECK(parse_pem(replace_all(pub, "PUBLIC KEY", "CERTIFICATE")).error() == errc::bad_encoding);
    CHECK(parse_pem(priv + pub).error() == errc::bad_encoding);
    CHECK(parse_pem(pub + pub).error() == errc::bad_encoding);
  }
  SECTION("oversized input is refused before it is read") {
    CHECK(parse_pem(pub + std::string(tegata::keys::kMaxKeyFileBytes, '\n')).error() ==
          errc::too_large);
  }
  check_error_queue_clean();
}

TEST_CASE("Malformed DER is refused with bad_encoding", "[pem]") {
  const KeyHandle key = tegata::keys::generate(Algorithm::ES256);
  const std::string spki = encode(key.get(), EVP_PKEY_PUBLIC_KEY, "DER", "SubjectPublicKeyInfo");
  ERR_clear_error();
  CHECK(parse_der("").error() == errc::bad_encoding);
  CHECK(parse_der("garbage").error() == errc::bad_encoding);
  CHECK(parse_der(spki.substr(0, spki.size() - 1)).error() == errc::bad_encoding);
  CHECK(parse_der(spki + std::string(1, '\0')).error() == errc::bad_encoding);  // trailing byte
  CHECK(parse_der(spki + spki).error() == errc::bad_encoding);
  CHECK(parse_der(public_pem(key.get())).error() == errc::bad_encoding);  // PEM is not DER
  std::string off_curve = spki;
  off_curve.back() = static_cast<char>(off_curve.back() ^ 1);  // y no longer on the curve
  CHECK(parse_der(off_curve).error() == errc::bad_encoding);
  CHECK(parse_der(std::string(tegata::keys::kMaxKeyFileBytes + 1, '\x30')).error() ==
        errc::too_large);
  check_error_queue_clean();
}

TEST_CASE("Encrypted keys are refused with not_supported and no passphrase prompt", "[pem]") {
  const KeyHandle key = tegata::keys::generate(Algorithm::ES256);
  ERR_clear_error();
  SECTION("PKCS#8 ENCRYPTED PRIVATE KEY") {
    const std::string pem =
        encode(key.get(), EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", "AES-256-CBC");
    REQUIRE(pem.rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0) == 0);
    CHECK(parse_pem(pem).error() == errc::not_supported);
  }
  SECTION("a traditional key with a Proc-Type: 4,ENCRYPTED header") {
    const std::string pem =
        encode(key.get(), EVP_PKEY_KEYPAIR, "PEM", "type-specific", "AES-256-CBC");
    REQUIRE(pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
    CHECK(parse_pem(pem).error() == errc::not_supported);
  }
  SECTION("EncryptedPrivateKeyInfo DER") {
    const std::string der =
        encode(key.get(), EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", "AES-256-CBC");
    CHECK(parse_der(der).error() == errc::not_supported);
  }
  SECTION("OpenSSL itself asks tegata's callback, which refuses") {
    // Bypasses the label check: the decoder is free to pick any structure, finds the encrypted
    // one and asks for a passphrase. The callback refuses (it never reads a terminal).
    const std::string pem =
        encode(key.get(), EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", "AES-256-CBC");
    CHECK(tegata::detail::decode_key(pem, {"PEM", nullptr, nullptr, true}).error() ==
          errc::not_supported);
    const std::string traditional =
        encode(key.get(), EVP_PKEY_KEYPAIR, "PEM", "type-specific", "AES-256-CBC");
    CHECK(tegata::detail::decode_key(traditional, {"PEM", "type-specific", "EC", true}).error() ==
          errc::not_supported);
  }
  check_error_queue_clean();
}

TEST_CASE("to_pem_private and to_pem_public write PKCS#8 and SPKI", "[pem]") {
  const Algorithm alg = GENERATE(Algorithm::PS256, Algorithm::ES512, Algorithm::EdDSA);
  const KeyHandle key = alg == Algorithm::PS256 ? rsa_key() : tegata::keys::generate(alg);
  auto priv = tegata::keys::to_pem_private(key.get());
  auto pub = tegata::keys::to_pem_public(key.get());
  REQUIRE(priv);
  REQUIRE(pub);
  CHECK(priv->rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  CHECK(pub->rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0);
  CHECK(pub->find("PRIVATE") == std::string::npos);
  check_same_key(parse_pem(*priv), key.get(), true);
  check_same_key(parse_pem(*pub), key.get(), false);

  auto public_key = parse_pem(*pub);
  REQUIRE(public_key);
  CHECK(tegata::keys::to_pem_private(public_key->get()).error() == errc::invalid_argument);
  CHECK(tegata::keys::to_pem_public(public_key->get()));
  CHECK(tegata::keys::to_pem_private(nullptr).error() == errc::invalid_argument);
  CHECK(tegata::keys::to_pem_public(nullptr).error() == errc::invalid_argument);
}

TEST_CASE("generate makes a key that fits each algorithm", "[pem]") {
  for (Algorithm alg : {Algorithm::ES256, Algorithm::ES384, Algorithm::ES512, Algorithm::ES256K}) {
    CAPTURE(tegata::to_string(alg));
    const tegata::EcdsaKey key(alg, tegata::keys::generate(alg));
    CHECK(key.can_sign());
  }
  const tegata::RsaKey rsa(Algorithm::RS512, rsa_key());
  CHECK(tegata::detail::key_bits(rsa.native_handle()) == 2048);
  const tegata::EddsaKey ed25519(tegata::keys::generate(Algorithm::EdDSA));
  CHECK(ed25519.curve() == tegata::EdCurve::Ed25519);
  const tegata::EddsaKey ed448(
      tegata::keys::generate(Algorithm::EdDSA, {.ed_curve = tegata::EdCurve::Ed448}));
  CHECK(ed448.curve() == tegata::EdCurve::Ed448);

  CHECK_THROWS_AS(tegata::keys::generate(Algorithm::HS256), std::invalid_argument);
  CHECK_THROWS_AS(tegata::keys::generate(Algorithm::RS256, {.rsa_bits = 1024}),
                  std::invalid_argument);
  CHECK_THROWS_AS(tegata::keys::generate(Algorithm::PS256, {.rsa_bits = 32768}),
                  std::invalid_argument);
}

TEST_CASE("generate_secret makes an HMAC secret as long as the hash", "[pem]") {
  for (const auto& [alg, size] :
       {std::pair{Algorithm::HS256, std::size_t{32}}, std::pair{Algorithm::HS384, std::size_t{48}},
        std::pair{Algorithm::HS512, std::size_t{64}}}) {
    CAPTURE(tegata::to_string(alg));
    const std::string secret = tegata::keys::generate_secret(alg);
    CHECK(secret.size() == size);
    CHECK(secret != tegata::keys::generate_secret(alg));
    CHECK_NOTHROW(tegata::HmacKey(alg, secret));
  }
  CHECK_THROWS_AS(tegata::keys::generate_secret(Algorithm::RS256), std::invalid_argument);
  CHECK_THROWS_AS(tegata::keys::generate_secret(Algorithm::EdDSA), std::invalid_argument);
}

TEST_CASE("A generated 3072-bit RSA key has 3072 bits", "[pem]") {
  const KeyHandle key = tegata::keys::generate(Algorithm::RS384, {.rsa_bits = 3072});
  CHECK(tegata::detail::key_bits(key.get()) == 3072);
}
