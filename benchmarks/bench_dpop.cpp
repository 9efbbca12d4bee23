// benchmarks/bench_dpop.cpp - SessionManager::validate of a DPoP-bound access token with its
// proof (RFC 9449), for ES256 and EdDSA. What it must do beyond the raw cryptography: read the
// token and the proof (both JSON), hash the access token for ath, check htm, htu and iat, compare
// the proof key's thumbprint with cnf.jkt, and record the proof's jti in the store. Its baseline
// is the raw OpenSSL verification of the two signatures (openssl_verify_copy_twice): the ratio is
// what tegata adds to the cost nobody can avoid.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata_fixtures.hpp"

namespace tegata_bench {
namespace {

constexpr std::string_view kUri = "https://api.example/resource";
constexpr std::size_t kProofCount = 64;

// The memory store, except that a proof's replay key is made unique per call: the benchmark
// presents its kProofCount proofs again and again (making a new one per call would measure the
// client's signing), and each call must still insert its entry as a first use does. The clock
// stands still, so the entries stay (about 40 bytes each; the bound is raised to fit a run).
class FreshProofStore : public tegata::MemoryRevocationStore {
 public:
  FreshProofStore() : tegata::MemoryRevocationStore(Options{std::size_t{1} << 26, 16}) {}

  tegata::Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
                                 std::chrono::sys_seconds now) const {
    std::string unique(key);
    unique += std::to_string(calls_->fetch_add(1, std::memory_order_relaxed));
    return MemoryRevocationStore::use_proof(unique, until, now);
  }

 private:
  std::shared_ptr<std::atomic<std::uint64_t>> calls_ = std::make_shared<std::atomic<std::uint64_t>>();
};

template <class Key>
using DpopManager = tegata::SessionManager<Key, tegata::ManualClock, FreshProofStore>;

template <class Key>
struct DpopFixture {
  DpopManager<Key> manager;
  std::string access_token;
  std::vector<std::string> proofs;
};

// A proof as a client makes it (header with the public JWK, a fresh jti, ath), signed by key.
std::string make_proof(const tegata::AnyKey& key, std::size_t n, std::chrono::sys_seconds now,
                       std::string_view access_token) {
  auto digest = tegata::detail::jwk::sha256(access_token);
  const nlohmann::json header{{"typ", "dpop+jwt"},
                              {"alg", std::string(tegata::to_string(key.algorithm()))},
                              {"jwk", tegata::keys::public_jwk(key).value()}};
  const nlohmann::json payload{{"jti", "bench-proof-" + std::to_string(n)},
                               {"htm", "GET"},
                               {"htu", std::string(kUri)},
                               {"iat", now.time_since_epoch().count()},
                               {"ath", tegata::base64url_encode(digest.value())}};
  const std::string input = tegata::base64url_encode(header.dump()) + "." +
                            tegata::base64url_encode(payload.dump());
  return input + "." + tegata::base64url_encode(key.sign_raw(input).value());
}

template <class Key>
std::unique_ptr<DpopFixture<Key>> make_fixture(tegata::Algorithm alg, Key server_key,
                                               tegata::AnyKey client_key) {
  const tegata::ManualClock clock{tegata::SystemClock{}.now()};
  auto f = std::unique_ptr<DpopFixture<Key>>(new DpopFixture<Key>{
      DpopManager<Key>(std::move(server_key), session_options(), clock, FreshProofStore{}), {}, {}});
  auto jkt = tegata::keys::thumbprint_sha256(client_key);
  tegata::IssueOptions options;
  options.dpop_jkt = jkt.value();
  auto pair = f->manager.issue(kSubject, options);
  if (!pair) throw std::runtime_error("fixture: bound login failed");
  f->access_token = pair->access_token;
  for (std::size_t n = 0; n < kProofCount; ++n) {
    f->proofs.push_back(make_proof(client_key, n, clock.now(), f->access_token));
  }
  if (!f->manager.validate(f->access_token, f->proofs[0], "GET", kUri)) {
    throw std::runtime_error(std::string("fixture: a bound ") +
                             std::string(tegata::to_string(alg)) + " token does not validate");
  }
  return f;
}

const DpopFixture<tegata::EcdsaKey>& es256_fixture() {
  static const auto f = make_fixture(
      tegata::Algorithm::ES256,
      tegata::EcdsaKey(tegata::Algorithm::ES256, generate_key(tegata::Algorithm::ES256),
                       kSessionKid),
      tegata::AnyKey(tegata::EcdsaKey(tegata::Algorithm::ES256,
                                      generate_key(tegata::Algorithm::ES256))));
  return *f;
}

const DpopFixture<tegata::EddsaKey>& eddsa_fixture() {
  static const auto f = make_fixture(
      tegata::Algorithm::EdDSA,
      tegata::EddsaKey(generate_key(tegata::Algorithm::EdDSA), kSessionKid),
      tegata::AnyKey(tegata::EddsaKey(generate_key(tegata::Algorithm::EdDSA))));
  return *f;
}

template <class Fixture>
bool validate_once(const Fixture& f, std::size_t i) {
  auto claims = f.manager.validate(f.access_token, f.proofs[i % f.proofs.size()], "GET", kUri);
  benchmark::DoNotOptimize(claims);
  return claims.has_value();
}

bool op_validate_dpop_es256(std::size_t i) { return validate_once(es256_fixture(), i); }
bool op_validate_dpop_eddsa(std::size_t i) { return validate_once(eddsa_fixture(), i); }

template <class Fixture>
void validate_dpop_loop(benchmark::State& state, const Fixture& f) {
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    if (!validate_once(f, i++)) [[unlikely]] {
      state.SkipWithError("validate with a proof failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void tegata_validate_dpop_es256(benchmark::State& state) {
  validate_dpop_loop(state, es256_fixture());
}
void tegata_validate_dpop_eddsa(benchmark::State& state) {
  validate_dpop_loop(state, eddsa_fixture());
}

const OperationRegistrar registered[] = {
    {"tegata_validate_dpop/ES256", op_validate_dpop_es256},
    {"tegata_validate_dpop/EdDSA", op_validate_dpop_eddsa},
};

}  // namespace

BENCHMARK(tegata_validate_dpop_es256)->Name("tegata_validate_dpop/ES256");
BENCHMARK(tegata_validate_dpop_eddsa)->Name("tegata_validate_dpop/EdDSA");

}  // namespace tegata_bench
