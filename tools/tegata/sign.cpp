// tools/tegata/sign.cpp - tegata sign: JSON claims in, compact JWS out.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "tegata/jwt.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: tegata sign --alg ALG --key FILE [--kid KID] [--typ TYP] --claims JSON

Signs the JSON object given as --claims and prints the compact JWS on stdout.
The claims are signed as given: add exp (and iat, iss, aud...) yourself.

options:
  --alg ALG       HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512
                  ES256 ES384 ES512 ES256K EdDSA Ed25519 Ed448
  --key FILE      the private key: PEM or DER (PKCS#8 or traditional), a private JWK or
                  JWK Set, or for HS* a file holding the raw secret bytes
  --kid KID       key id for the header; selects the key in a JWK Set
  --typ TYP       header typ (default JWT; --typ '' omits it)
  --claims JSON   the claims, a JSON object (duplicate member names are refused)
)";

}  // namespace

int run_sign(std::span<char* const> argv) {
  const Args args(argv, {{"alg"}, {"key"}, {"kid"}, {"typ"}, {"claims"}});
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  const Algorithm alg = parse_algorithm(args.required("alg"));
  const std::string key_path = args.required("key");
  const nlohmann::json claims = parse_json_argument("claims", args.required("claims"));
  const std::string typ = args.get("typ").value_or("JWT");

  const AnyKey key = load_signing_key(alg, key_path, args.get("kid"));
  auto token = sign_jwt(key, claims, typ);
  if (!token) throw Failure(kRejected, "signing failed: " + token.error().message());
  std::cout << *token << '\n';
  return kOk;
}

}  // namespace tegata::cli
