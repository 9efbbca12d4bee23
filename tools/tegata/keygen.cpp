// tools/tegata/keygen.cpp - tegata keygen: a new private key in a file only its owner can read.
#include <openssl/crypto.h>

#include <iostream>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/rsa.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp = R"(usage: tegata keygen --alg ALG --out FILE

Writes a new private key for ALG to FILE, created with mode 0600. An existing FILE is never
overwritten.
  HS256 HS384 HS512      32, 48 or 64 random bytes (the raw secret)
  RS*, PS*               RSA, 2048 bits unless --bits, PKCS#8 PEM
  ES256 ES384 ES512      P-256, P-384, P-521, PKCS#8 PEM
  ES256K                 secp256k1, PKCS#8 PEM
  EdDSA                  Ed25519 unless --curve Ed448, PKCS#8 PEM
  Ed25519 Ed448          that curve (RFC 9864), PKCS#8 PEM
Publish the public part with: tegata jwks --key FILE

options:
  --alg ALG        the algorithm the key is for
  --out FILE       where to write the key (must not exist)
  --bits N         RSA modulus size, 2048 to 16384
  --curve CURVE    EdDSA curve: Ed25519 (default) or Ed448
)";

// Wipes the new key from memory however the function is left.
class Wiped {
 public:
  explicit Wiped(std::string& bytes) noexcept : bytes_(bytes) {}
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

 private:
  std::string& bytes_;
};

}  // namespace

int run_keygen(std::span<char* const> argv) {
  const Args args(argv, {{"alg"}, {"out"}, {"bits"}, {"curve"}});
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  const Algorithm alg = parse_algorithm(args.required("alg"));
  const std::string out = args.required("out");
  keys::KeyGenOptions options;
  if (auto bits = args.get("bits")) {
    if (!is_rsa(alg)) usage_error("--bits is only for RS* and PS* keys");
    options.rsa_bits = static_cast<int>(parse_integer("bits", *bits, kMaxRsaBits));
  }
  if (auto curve = args.get("curve")) {
    if (alg != Algorithm::EdDSA) {
      usage_error("--curve is only for EdDSA keys (the other algorithms fix it)");
    }
    if (*curve == "Ed25519") {
      options.ed_curve = EdCurve::Ed25519;
    } else if (*curve == "Ed448") {
      options.ed_curve = EdCurve::Ed448;
    } else {
      usage_error("--curve must be Ed25519 or Ed448");
    }
  }
  std::string key = generate_key(alg, options);
  const Wiped wiped(key);
  write_private_file(out, key);
  return kOk;
}

}  // namespace tegata::cli
