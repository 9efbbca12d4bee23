// tools/tegata/dpop.cpp - tegata dpop: check DPoP proofs (RFC 9449), one per stdin line, for a
// request given on the command line; one verdict per output line.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "tegata/clock.hpp"
#include "tegata/dpop/proof.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: tegata dpop --method METHOD --uri URI [options] < proofs

Reads one DPoP proof per line from stdin and checks it as made for the request given here
(RFC 9449 §4.3: typ, an asymmetric alg, a public jwk, the signature, htm, htu, iat, and ath when
--access-token is given). Prints one line per proof:
  ok {"iat":...,"jkt":"...","jti":"...","nonce":"..."}   jkt: the key's RFC 7638 thumbprint
  fail dpop_invalid
  fail use_dpop_nonce NONCE      (with --nonce-secret) retry with NONCE in the proof, as a
                                 server's DPoP-Nonce header would say
Each proof is checked alone: a jti seen twice is not detected here (the server's replay cache
does that).

options:
  --method METHOD         the request's HTTP method, e.g. POST (compared exactly)
  --uri URI               the request's absolute URI (query and fragment are ignored)
  --access-token TOKEN    the access token sent with the request: the proof's ath must be its hash
  --algs ALG,...          the algorithms accepted (default ES256,EdDSA,Ed25519,RS256,PS256)
  --iat-window SECONDS    how far iat may lie from now, either side (1 to 600, default 60)
  --nonce-secret FILE     require a nonce issued with this secret (32 bytes or more) in the
                          current or the previous window
  --nonce-lifetime S      the nonce window (10 to 3600 seconds, default 300)
  --now UNIX_SECONDS      check as of this instant instead of the system clock

exit status: 0 every proof was ok (or there were none); 1 some proof failed; 2 usage error.
)";

std::vector<Algorithm> parse_algorithms(const std::string& list) {
  std::vector<Algorithm> algorithms;
  std::istringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) algorithms.push_back(parse_algorithm(name));
  return algorithms;
}

}  // namespace

int run_dpop(std::span<char* const> argv) {
  const Args args(argv, {{"method"},
                         {"uri"},
                         {"access-token"},
                         {"algs"},
                         {"iat-window"},
                         {"nonce-secret"},
                         {"nonce-lifetime"},
                         {"now"}});
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  const std::string method = args.required("method");
  const std::string uri = args.required("uri");
  const std::string access_token = args.get("access-token").value_or("");
  dpop::ProofOptions options;
  if (auto algs = args.get("algs")) options.algorithms = parse_algorithms(*algs);
  if (auto window = args.get("iat-window")) {
    options.iat_window = std::chrono::seconds{parse_integer("iat-window", *window, 600)};
  }
  if (args.has("nonce-lifetime") && !args.has("nonce-secret")) {
    usage_error("--nonce-lifetime needs --nonce-secret");
  }
  if (auto path = args.get("nonce-secret")) {
    const SecretFile secret(*path);
    std::chrono::seconds lifetime{300};
    if (auto given = args.get("nonce-lifetime")) {
      lifetime = std::chrono::seconds{parse_integer("nonce-lifetime", *given, 3600)};
    }
    options.nonces.emplace(secret.view(), lifetime);
  }
  std::chrono::sys_seconds now = SystemClock{}.now();
  if (auto at = args.get("now")) {
    now =
        std::chrono::sys_seconds{std::chrono::seconds{parse_integer("now", *at, kMaxNumericDate)}};
  }
  // ProofVerifier and NonceIssuer refuse what cannot verify safely (std::invalid_argument: exit 2).
  const dpop::ProofVerifier verifier(std::move(options));
  const dpop::ProofRequest request{method, uri, access_token};

  int status = kOk;
  std::string proof;
  while (next_token(std::cin, proof)) {
    auto verified = verifier.verify(proof, request, now);
    if (!verified) {
      status = kRejected;
      std::cout << "fail " << error_name(verified.error());
      if (verified.error() == errc::use_dpop_nonce) std::cout << ' ' << *verifier.nonce(now);
      std::cout << std::endl;
      continue;
    }
    nlohmann::json out = {{"jkt", verified->jkt},
                          {"jti", verified->jti},
                          {"iat", verified->issued_at.time_since_epoch().count()}};
    if (verified->nonce) out["nonce"] = *verified->nonce;
    // ASCII only: the jti and nonce are the client's, not necessarily safe for a terminal.
    std::cout << "ok "
              << out.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace)
              << std::endl;
  }
  return status;
}

}  // namespace tegata::cli
