// tools/tegata/verify.cpp - tegata verify: one token per stdin line, one verdict per output line.
#include <chrono>
#include <iostream>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "tegata/clock.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/validator.hpp"

namespace tegata::cli {

namespace {

constexpr const char* kHelp =
    R"(usage: tegata verify --alg ALG (--key FILE | --jwks FILE) [options] < tokens

Reads one token per line from stdin and prints one line per token:
  ok <claims as compact JSON>     (with --jws: ok <payload as base64url>)
  fail <error>                    e.g. fail bad_signature, fail expired
The checks are the library's strict defaults: the algorithm is the one given here, never the
token's; exp is required; iss and aud must be absent unless --iss / --aud are given; typ must
be absent or JWT unless --typ is given.

options:
  --alg ALG              the algorithm every accepted token must use
  --key FILE             the key: PEM or DER (public or private), a JWK, or for HS* a file
                         holding the raw secret bytes
  --jwks FILE            a JWK Set; each token's key is chosen by its kid (a token without kid
                         only when the set holds one key). Every key is used with --alg: a set
                         with a key that cannot be (use "enc", weak, another alg, a repeated kid,
                         HMAC secrets mixed with public keys) is refused
  --iss ISSUER           require this iss
  --aud AUDIENCE         require this audience in aud
  --typ TYP              require this header typ (e.g. at+jwt)
  --leeway SECONDS       allowed clock skew for exp, nbf and iat (0 to 300, default 0)
  --allow-missing-exp    accept tokens without exp (they never expire)
  --now UNIX_SECONDS     check times as of this instant instead of the system clock
  --jws                  check only the JWS (header, key, signature; --typ if given), for
                         payloads that are not JWT claims

exit status: 0 every token was ok (or there were none); 1 some token failed; 2 usage error.
)";

struct Check {
  Validator validator;
  std::chrono::sys_seconds now{};
  bool jws_only = false;
};

std::string verdict(std::string_view token, const auto& signer, const Check& check) {
  const Validator& validator = check.validator;
  if (check.jws_only) {
    auto parsed = jws::parse(token, validator.options().limits);
    if (!parsed) return "fail " + error_name(parsed.error());
    if (auto ec = signer.verify(*parsed)) return "fail " + error_name(ec);
    if (validator.options().type) {
      if (auto ec = validator.check_type(parsed->header)) return "fail " + error_name(ec);
    }
    return "ok " + std::string(parsed->encoded_payload);
  }
  auto jwt = verify_jwt(token, signer, validator, check.now);
  if (!jwt) return "fail " + error_name(jwt.error());
  // ASCII only, like inspect: the claims are verified, but not necessarily safe for a terminal.
  return "ok " + jwt->payload.dump(-1, ' ', /*ensure_ascii=*/true,
                                   nlohmann::json::error_handler_t::replace);
}

int verify_all(const auto& signer, const Check& check) {
  int status = kOk;
  std::string token;
  while (next_token(std::cin, token)) {
    const std::string line = verdict(token, signer, check);
    if (!line.starts_with("ok ")) status = kRejected;
    // Flushed per token, so that a program can feed tokens one at a time through a pipe.
    std::cout << line << std::endl;
  }
  return status;
}

}  // namespace

int run_verify(std::span<char* const> argv) {
  const Args args(argv, {{"alg"},
                         {"key"},
                         {"jwks"},
                         {"iss"},
                         {"aud"},
                         {"typ"},
                         {"leeway"},
                         {"allow-missing-exp", false},
                         {"now"},
                         {"jws", false}});
  if (args.help()) {
    std::cout << kHelp;
    return kOk;
  }
  const Algorithm alg = parse_algorithm(args.required("alg"));
  if (args.has("key") == args.has("jwks")) usage_error("give exactly one of --key and --jwks");
  const bool jws_only = args.has("jws");
  if (jws_only) {
    for (const char* claim_option : {"iss", "aud", "leeway", "allow-missing-exp"}) {
      if (args.has(claim_option)) {
        usage_error("--" + std::string(claim_option) +
                    " checks JWT claims and cannot be used with --jws");
      }
    }
  }

  ValidatorOptions options;
  options.issuer = args.get("iss");
  options.audience = args.get("aud");
  options.type = args.get("typ");
  if (auto leeway = args.get("leeway")) {
    options.leeway = std::chrono::seconds{parse_integer("leeway", *leeway, kMaxLeeway.count())};
  }
  options.allow_missing_exp = args.has("allow-missing-exp");
  std::chrono::sys_seconds now = SystemClock{}.now();
  if (auto at = args.get("now")) {
    now =
        std::chrono::sys_seconds{std::chrono::seconds{parse_integer("now", *at, kMaxNumericDate)}};
  }
  // The Validator refuses an empty --iss, --aud or --typ (std::invalid_argument: exit 2).
  const Check check{Validator(std::move(options)), now, jws_only};

  if (auto path = args.get("key")) return verify_all(load_verification_key(alg, *path), check);
  return verify_all(load_key_set(alg, args.required("jwks")), check);
}

}  // namespace tegata::cli
