// tools/tegata/jwks.cpp - tegata jwks: the public JWK Set to publish for a set of key files.
#include <iostream>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "tegata/keys/jwk.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: tegata jwks --key FILE [--key FILE | FILE]... [--kid KID] [--alg ALG]

Prints the public JWK Set (RFC 7517) of the given keys, e.g. for /.well-known/jwks.json,
in the order given. Private members are never printed; HMAC secrets have no public form and
are refused.

options:
  --key FILE   a PEM, DER or JWK key file, private or public (repeatable)
  --kid KID    the key id, with a single key (default: the key's own kid, or else its
               RFC 7638 SHA-256 thumbprint)
  --alg ALG    the algorithm of every key, recorded in its "alg" member; may be left out for
               EC and Ed keys and for JWKs that name theirs, but RSA keys need it
)";

}  // namespace

int run_jwks(std::span<char* const> argv) {
  const Args args(argv, {{"key", true, true}, {"kid"}, {"alg"}}, /*allow_positional=*/true);
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  std::vector<std::string> paths = args.all("key");
  paths.insert(paths.end(), args.positional().begin(), args.positional().end());
  if (paths.empty()) usage_error("give at least one key file with --key");
  const auto kid = args.get("kid");
  if (kid && paths.size() != 1) usage_error("--kid names a single key; give one key file, or none");
  std::optional<Algorithm> alg;
  if (auto name = args.get("alg")) alg = parse_algorithm(*name);

  std::vector<AnyKey> keys;
  for (const std::string& path : paths) {
    const AnyKey key = load_public_key(alg, path, kid);
    if (key.is_symmetric()) {
      usage_error("'" + path + "' is an HMAC secret, which has no public form");
    }
    auto published = keys::with_thumbprint_kid(key);
    if (!published) usage_error("cannot compute the thumbprint of '" + path + "'");
    keys.push_back(*published);
  }
  auto jwks = keys::public_jwks(keys);
  if (!jwks) {
    usage_error(jwks.error() == errc::invalid_argument
                    ? "two of the keys have the same kid"
                    : "cannot export the keys (" + error_name(jwks.error()) + ")");
  }
  std::cout << jwks->dump() << '\n';
  return kOk;
}

}  // namespace tegata::cli
