// benchmarks/bench_openssl.cpp - raw OpenSSL 3 baselines over the very bytes tegata verifies:
// the cost of the cryptography alone, which nothing built on OpenSSL can go below.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "asym_fixtures.hpp"
#include "fixtures.hpp"

namespace tegata_bench {
namespace {

struct MacInputs {
  std::vector<std::string> inputs;  // signing inputs
  std::vector<std::string> tags;    // their HMAC-SHA256
};

const MacInputs& mac_inputs(bool generic) {
  static const auto make = [](const std::vector<std::string>& tokens) {
    MacInputs m;
    for (const auto& token : tokens) {
      m.inputs.push_back(signing_input(token));
      m.tags.push_back(signature_bytes(token));
    }
    return m;
  };
  static const MacInputs session = make(hs256_tokens().session);
  static const MacInputs generic_inputs = make(hs256_tokens().generic);
  return generic ? generic_inputs : session;
}

OSSL_PARAM* sha256_params() {
  static char digest[] = "SHA256";
  static OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                OSSL_PARAM_END};
  return params;
}

const unsigned char* secret_data() {
  return reinterpret_cast<const unsigned char*>(hs256_tokens().secret.data());
}

bool tag_matches(const unsigned char* tag, std::size_t length, const std::string& expected) {
  return length == expected.size() && CRYPTO_memcmp(tag, expected.data(), length) == 0;
}

void fail(benchmark::State& state, const char* what) { state.SkipWithError(what); }

// The measured loop of the HMAC baselines: mac(input, tag, length) computes one tag, which must
// match the token's. Only how the context is obtained differs between them.
template <class Mac>
void mac_loop(benchmark::State& state, const MacInputs& m, Mac&& mac) {
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    const std::size_t k = i++ % kTokenCount;
    unsigned char tag[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (!mac(m.inputs[k], tag, length) || !tag_matches(tag, length, m.tags[k])) [[unlikely]] {
      fail(state, "HMAC mismatch");
      break;
    }
  }
}

bool mac_update_final(EVP_MAC_CTX* ctx, const std::string& input, unsigned char* tag,
                      std::size_t& length) {
  return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1 &&
         EVP_MAC_final(ctx, tag, &length, EVP_MAX_MD_SIZE) == 1;
}

// One prepared context for the whole run, re-initialised without a new key before each MAC:
// OpenSSL keeps the keyed inner and outer states, so only the digest state is reset.
void openssl_hmac_reinit(benchmark::State& state, bool generic) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (EVP_MAC_init(ctx, secret_data(), hs256_tokens().secret.size(), sha256_params()) != 1) {
    fail(state, "EVP_MAC_init");
  }
  mac_loop(state, mac_inputs(generic), [&](const std::string& input, unsigned char* tag,
                                           std::size_t& length) {
    return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
           mac_update_final(ctx, input, tag, length);
  });
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}

// The same, one context per thread, in one and two threads: nothing is shared, so its scaling is
// what the machine allows at the moment (the control for tegata_validate_mt).
void openssl_hmac_reinit_mt(benchmark::State& state) {
  openssl_hmac_reinit(state, false);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// EVP_MAC_CTX_dup of a keyed context per MAC: thread-safe sharing of one prepared context.
void openssl_hmac_dup(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* prepared = EVP_MAC_CTX_new(mac);
  EVP_MAC_init(prepared, secret_data(), hs256_tokens().secret.size(), sha256_params());
  mac_loop(state, mac_inputs(false), [&](const std::string& input, unsigned char* tag,
                                         std::size_t& length) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(prepared);
    const bool ok = ctx != nullptr && mac_update_final(ctx, input, tag, length);
    EVP_MAC_CTX_free(ctx);
    return ok;
  });
  EVP_MAC_CTX_free(prepared);
  EVP_MAC_free(mac);
}

// A new context keyed from scratch per MAC (the fetched EVP_MAC is kept).
void openssl_hmac_new(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  mac_loop(state, mac_inputs(false), [&](const std::string& input, unsigned char* tag,
                                         std::size_t& length) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    const bool ok =
        ctx != nullptr &&
        EVP_MAC_init(ctx, secret_data(), hs256_tokens().secret.size(), sha256_params()) == 1 &&
        mac_update_final(ctx, input, tag, length);
    EVP_MAC_CTX_free(ctx);
    return ok;
  });
  EVP_MAC_free(mac);
}

// --- Signatures: EVP_DigestVerify with the key loaded once -------------------------------------

bool init_verify(EVP_MD_CTX* ctx, const AsymFixture& f) {
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx, &pctx, f.md, nullptr, f.key) != 1) return false;
  if (!f.pss) return true;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, f.md) == 1;
}

bool verify_one(EVP_MD_CTX* ctx, const AsymFixture& f, std::size_t k) {
  const std::string& input = f.inputs[k];
  const std::string& sig = f.openssl_signatures[k];
  return EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

// The straightforward way: a context initialised with the pre-loaded key for every verification.
void openssl_verify_init(benchmark::State& state, Alg alg) {
  const AsymFixture& f = asym_fixture(alg);
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    const std::size_t k = i++ % f.inputs.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && init_verify(ctx, f) && verify_one(ctx, f, k);
    EVP_MD_CTX_free(ctx);
    if (!ok) [[unlikely]] {
      fail(state, "verify failed");
      break;
    }
  }
}

// A context prepared once and copied for every verification (what tegata does).
void openssl_verify_copy(benchmark::State& state, Alg alg) {
  const AsymFixture& f = asym_fixture(alg);
  EVP_MD_CTX* prepared = EVP_MD_CTX_new();
  if (!init_verify(prepared, f)) fail(state, "init failed");
  std::size_t i = 0;
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      const std::size_t k = i++ % f.inputs.size();
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      const bool ok =
          ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, prepared) == 1 && verify_one(ctx, f, k);
      EVP_MD_CTX_free(ctx);
      if (!ok) [[unlikely]] {
        fail(state, "verify failed");
        break;
      }
    }
  }
  EVP_MD_CTX_free(prepared);
}

// --- Operations for the paired benchmarks --------------------------------------------------------

bool op_hmac_reinit(std::size_t i) {
  // One prepared context per thread, as in openssl_hmac_reinit.
  static thread_local EVP_MAC_CTX* ctx = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* c = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    EVP_MAC_init(c, secret_data(), hs256_tokens().secret.size(), sha256_params());
    return c;
  }();
  const MacInputs& m = mac_inputs(false);
  const std::size_t k = i % kTokenCount;
  unsigned char tag[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(m.inputs[k].data()),
                        m.inputs[k].size()) == 1 &&
         EVP_MAC_final(ctx, tag, &length, sizeof tag) == 1 && tag_matches(tag, length, m.tags[k]);
}

template <Alg A>
bool op_verify_init(std::size_t i) {
  const AsymFixture& f = asym_fixture(A);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && init_verify(ctx, f) && verify_one(ctx, f, i % f.inputs.size());
  EVP_MD_CTX_free(ctx);
  return ok;
}

template <Alg A>
bool op_verify_copy(std::size_t i) {
  const AsymFixture& f = asym_fixture(A);
  static EVP_MD_CTX* prepared = [&] {
    EVP_MD_CTX* p = EVP_MD_CTX_new();
    init_verify(p, f);
    return p;
  }();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, prepared) == 1 &&
                  verify_one(ctx, f, i % f.inputs.size());
  EVP_MD_CTX_free(ctx);
  return ok;
}

// Two verifications, of two inputs: what a DPoP-bound request costs at least (the access token's
// signature and the proof's).
template <Alg A>
bool op_verify_copy_twice(std::size_t i) {
  return op_verify_copy<A>(2 * i) && op_verify_copy<A>(2 * i + 1);
}

const OperationRegistrar registered[] = {
    {"openssl_hmac_reinit", op_hmac_reinit},
    {"openssl_verify_copy_twice/ES256", op_verify_copy_twice<Alg::ES256>},
    {"openssl_verify_copy_twice/EdDSA", op_verify_copy_twice<Alg::EdDSA>},
    {"openssl_verify_init/ES256", op_verify_init<Alg::ES256>},
    {"openssl_verify_copy/ES256", op_verify_copy<Alg::ES256>},
    {"openssl_verify_init/ES384", op_verify_init<Alg::ES384>},
    {"openssl_verify_copy/ES384", op_verify_copy<Alg::ES384>},
    {"openssl_verify_init/EdDSA", op_verify_init<Alg::EdDSA>},
    {"openssl_verify_copy/EdDSA", op_verify_copy<Alg::EdDSA>},
    {"openssl_verify_init/RS256", op_verify_init<Alg::RS256>},
    {"openssl_verify_copy/RS256", op_verify_copy<Alg::RS256>},
    {"openssl_verify_init/PS256", op_verify_init<Alg::PS256>},
    {"openssl_verify_copy/PS256", op_verify_copy<Alg::PS256>},
};

}  // namespace

BENCHMARK_CAPTURE(openssl_hmac_reinit, session, false);
BENCHMARK_CAPTURE(openssl_hmac_reinit, generic, true);
BENCHMARK(openssl_hmac_reinit_mt)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(openssl_hmac_dup);
BENCHMARK(openssl_hmac_new);

BENCHMARK_CAPTURE(openssl_verify_init, ES256, Alg::ES256);
BENCHMARK_CAPTURE(openssl_verify_copy, ES256, Alg::ES256);
BENCHMARK_CAPTURE(openssl_verify_init, ES384, Alg::ES384);
BENCHMARK_CAPTURE(openssl_verify_copy, ES384, Alg::ES384);
BENCHMARK_CAPTURE(openssl_verify_init, EdDSA, Alg::EdDSA);
BENCHMARK_CAPTURE(openssl_verify_copy, EdDSA, Alg::EdDSA);
BENCHMARK_CAPTURE(openssl_verify_init, RS256, Alg::RS256);
BENCHMARK_CAPTURE(openssl_verify_copy, RS256, Alg::RS256);
BENCHMARK_CAPTURE(openssl_verify_init, PS256, Alg::PS256);
BENCHMARK_CAPTURE(openssl_verify_copy, PS256, Alg::PS256);

}  // namespace tegata_bench
