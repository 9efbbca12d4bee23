// benchmarks/profile.cpp - fixed-count runs of one operation, for instruction counts with
// callgrind (wall-clock numbers on a shared machine are noisy; instruction counts are not):
//
//   valgrind --tool=callgrind --toggle-collect='*tegata_bench::profile_*'
//            build/bench/benchmarks/tegata_bench --tegata_profile=validate:20000
//   callgrind_annotate callgrind.out.<pid>
//
// Everything is set up before the profiled function is entered, so the collected instructions
// divided by the count are the cost of one operation. The operations are listed in kOperations.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"
#include "tegata_fixtures.hpp"

namespace tegata_bench {

// Kept out of line so that callgrind's --toggle-collect finds them by name.
[[gnu::noinline]] std::size_t profile_hmac_reinit(EVP_MAC_CTX* ctx,
                                                  const std::vector<std::string>& inputs,
                                                  std::size_t n) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& input = inputs[i % inputs.size()];
    unsigned char tag[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    EVP_MAC_init(ctx, nullptr, 0, nullptr);
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MAC_final(ctx, tag, &length, sizeof tag);
    total += tag[0];
  }
  return total;
}

template <class Manager>
[[gnu::noinline]] std::size_t profile_validate(const Manager& manager,
                                               const std::vector<std::string>& tokens,
                                               std::size_t n) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) ok += manager.validate(tokens[i % tokens.size()]) ? 1 : 0;
  return ok;
}

[[gnu::noinline]] std::size_t profile_issue(Hs256Manager& manager, std::size_t n) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) ok += manager.issue(kSubject) ? 1 : 0;
  return ok;
}

[[gnu::noinline]] std::size_t profile_refresh(Hs256Manager& manager, std::string token,
                                              std::size_t n) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto pair = manager.refresh(token);
    if (!pair) break;
    token = std::move(pair->refresh_token);
    ++ok;
  }
  return ok;
}

// verify_jwt, or verify_jwt_claims and the subject read from what it returns.
template <bool Claims>
[[gnu::noinline]] std::size_t profile_verify(const tegata::HmacKey& key,
                                             const tegata::Validator& validator,
                                             const std::vector<std::string>& tokens,
                                             std::size_t n) {
  std::size_t ok = 0;
  const tegata::SystemClock clock;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& token = tokens[i % tokens.size()];
    if constexpr (Claims) {
      const auto jwt = tegata::verify_jwt_claims(token, key, validator, clock);
      ok += jwt && jwt->subject() ? 1 : 0;
    } else {
      ok += tegata::verify_jwt(token, key, validator, clock) ? 1 : 0;
    }
  }
  return ok;
}

namespace {

constexpr const char* kOperations =
    "hmac_reinit, validate, validate_null_store, bad_signature, malformed_segments, "
    "malformed_json, issue, refresh, verify_jwt, verify_jwt_claims";

std::size_t run(std::string_view op, std::size_t n) {
  const Hs256Tokens& t = hs256_tokens();
  if (op == "hmac_reinit") {
    std::vector<std::string> inputs;
    for (const auto& token : t.session) inputs.push_back(signing_input(token));
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_END};
    EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(t.secret.data()), t.secret.size(),
                 params);
    const std::size_t r = profile_hmac_reinit(ctx, inputs, n);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return r != 0 ? n : 0;
  }
  if (op == "validate") return profile_validate(hs256_manager(), t.session, n);
  if (op == "validate_null_store") {
    auto manager = make_hs256_manager(tegata::NullRevocationStore{});
    return profile_validate(manager, t.session, n);
  }
  if (op == "bad_signature") {
    return n - profile_validate(hs256_manager(), {t.session_bad_signature}, n);
  }
  if (op == "malformed_segments") {
    return n - profile_validate(hs256_manager(), {t.session_malformed_segments}, n);
  }
  if (op == "malformed_json") {
    return n - profile_validate(hs256_manager(), {t.session_malformed_json}, n);
  }
  if (op == "issue") {
    auto manager = make_hs256_manager(populated_store());
    return profile_issue(manager, n);
  }
  if (op == "refresh") {
    auto manager = make_hs256_manager(tegata::MemoryRevocationStore{});
    auto pair = manager.issue(kSubject);
    return pair ? profile_refresh(manager, pair->refresh_token, n) : 0;
  }
  if (op == "verify_jwt" || op == "verify_jwt_claims") {
    const tegata::HmacKey key(tegata::Algorithm::HS256, kHs256Secret, kGenericKid);
    tegata::ValidatorOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    const tegata::Validator validator(options);
    return op == "verify_jwt" ? profile_verify<false>(key, validator, t.generic, n)
                              : profile_verify<true>(key, validator, t.generic, n);
  }
  std::fprintf(stderr, "unknown operation %.*s; one of: %s\n", static_cast<int>(op.size()),
               op.data(), kOperations);
  return static_cast<std::size_t>(-1);
}

}  // namespace

// spec is "<operation>:<count>". Prints how many of the count behaved as expected (succeeded,
// or were rejected for the rejection operations); exit status 0 when all did.
int run_profile(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  std::size_t n = 0;
  if (colon == std::string_view::npos ||
      std::from_chars(spec.data() + colon + 1, spec.data() + spec.size(), n).ec != std::errc{}) {
    std::fprintf(stderr, "usage: --tegata_profile=<operation>:<count>; operations: %s\n",
                 kOperations);
    return 2;
  }
  const std::string_view op = spec.substr(0, colon);
  const std::size_t good = run(op, n);
  if (good == static_cast<std::size_t>(-1)) return 2;
  std::printf("%.*s: %zu of %zu as expected\n", static_cast<int>(op.size()), op.data(), good, n);
  return good == n ? 0 : 1;
}

}  // namespace tegata_bench
