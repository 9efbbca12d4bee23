// benchmarks/bench_tegata.cpp - tegata on the shared token bytes: SessionManager (validate,
// rejections, issue, refresh, two threads), verify_jwt and verify_jwt_claims, every signature
// algorithm, and the footprint of MemoryRevocationStore.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "asym_fixtures.hpp"
#include "fixtures.hpp"
#include "tegata_fixtures.hpp"

namespace tegata_bench {
namespace {

using tegata::errc;

std::string random_id() { return tegata::base64url_encode(tegata::detail::random_bytes(16)); }

bool check_all_valid(benchmark::State& state, const std::vector<std::string>& tokens) {
  for (const auto& token : tokens) {
    if (!hs256_manager().validate(token)) {
      state.SkipWithError("a fixture token does not validate");
      return false;
    }
  }
  return true;
}

// The measured loop of every validate benchmark: tokens in turn from `first`, each must validate.
template <class Manager>
void validate_loop(benchmark::State& state, const Manager& manager,
                   const std::vector<std::string>& tokens, std::size_t first = 0) {
  std::size_t i = first;
  AllocScope allocs(state);
  for (auto _ : state) {
    auto claims = manager.validate(tokens[i++ % tokens.size()]);
    if (!claims) [[unlikely]] {
      state.SkipWithError("validate failed");
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Each thread starts at its own token, so two threads never look up the same session.
std::size_t first_token_of_thread(const benchmark::State& state) {
  return static_cast<std::size_t>(state.thread_index()) * (kTokenCount / 2);
}

// HS256 SessionManager::validate of valid tokens, with MemoryRevocationStore.
void tegata_validate(benchmark::State& state) {
  const auto& tokens = hs256_tokens().session;
  if (!check_all_valid(state, tokens)) return;
  validate_loop(state, hs256_manager(), tokens, first_token_of_thread(state));
}

// The same tokens through a manager whose store holds nothing, and through the stateless mode:
// what the store's lookups cost on top of the rest.
template <class Store>
void tegata_validate_store(benchmark::State& state, Store store) {
  validate_loop(state, make_hs256_manager(std::move(store)), hs256_tokens().session);
}
void tegata_validate_empty_store(benchmark::State& state) {
  tegata_validate_store(state, tegata::MemoryRevocationStore{});
}
void tegata_validate_null_store(benchmark::State& state) {
  tegata_validate_store(state, tegata::NullRevocationStore{});
}

// Two threads through a KeyRing (the rotation-ready Signer): the ring's snapshot comes from each
// thread's cache, and only a rotation makes a thread reload it.
void tegata_validate_keyring(benchmark::State& state) {
  static auto manager = make_manager(tegata::KeyRing(tegata::AnyKey(tegata::HmacKey(
                                         tegata::Algorithm::HS256, kHs256Secret, kSessionKid))),
                                     tegata::NullRevocationStore{});
  validate_loop(state, manager, hs256_tokens().session, first_token_of_thread(state));
}

void tegata_validate_rejects(benchmark::State& state, const std::string* token, errc expected) {
  const auto& manager = hs256_manager();
  AllocScope allocs(state);
  for (auto _ : state) {
    auto claims = manager.validate(*token);
    if (claims.error() != expected) [[unlikely]] {
      state.SkipWithError("unexpected result");
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
}

void tegata_validate_malformed_segments(benchmark::State& state) {
  tegata_validate_rejects(state, &hs256_tokens().session_malformed_segments, errc::malformed);
}
void tegata_validate_malformed_base64(benchmark::State& state) {
  tegata_validate_rejects(state, &hs256_tokens().session_malformed_base64, errc::bad_encoding);
}
void tegata_validate_malformed_json(benchmark::State& state) {
  tegata_validate_rejects(state, &hs256_tokens().session_malformed_json, errc::bad_json);
}
void tegata_validate_malformed_object(benchmark::State& state) {
  tegata_validate_rejects(state, &hs256_tokens().session_malformed_object, errc::bad_json);
}
void tegata_validate_bad_signature(benchmark::State& state) {
  tegata_validate_rejects(state, &hs256_tokens().session_bad_signature, errc::bad_signature);
}

// Login: two HS256 tokens with fresh random ids, the store's version lookup, and the session's
// record (beyond max_sessions_per_subject logins of kSubject, the eviction of the oldest).
void tegata_issue(benchmark::State& state) {
  auto manager = make_hs256_manager(populated_store());
  AllocScope allocs(state);
  for (auto _ : state) {
    auto pair = manager.issue(kSubject);
    if (!pair) [[unlikely]] {
      state.SkipWithError("issue failed");
      break;
    }
    benchmark::DoNotOptimize(pair);
  }
}

// Rotation: each iteration presents the refresh token the previous one received, so every
// refresh rotates (verify and read the record, sign a new pair, compare-and-set the record).
void tegata_refresh(benchmark::State& state) {
  tegata::MemoryRevocationStore::Options options;
  options.max_entries = 50'000'000;  // a long run consumes millions of refresh tokens
  auto manager = make_hs256_manager(tegata::MemoryRevocationStore(options));
  auto first = manager.issue(kSubject);
  if (!first) {
    state.SkipWithError("issue failed");
    return;
  }
  std::string refresh_token = first->refresh_token;
  AllocScope allocs(state);
  for (auto _ : state) {
    auto pair = manager.refresh(refresh_token);
    if (!pair) [[unlikely]] {
      state.SkipWithError("refresh failed");
      break;
    }
    refresh_token = std::move(pair->refresh_token);
    benchmark::DoNotOptimize(pair);
  }
}

// The stand-alone API on the peers' token (typ JWT): signature, iss, aud, exp, nbf, iat.
const tegata::HmacKey& generic_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS256, kHs256Secret, kGenericKid);
  return key;
}

const tegata::Validator& generic_validator() {
  static const tegata::Validator validator = [] {
    tegata::ValidatorOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    return tegata::Validator(options);
  }();
  return validator;
}

// verify_jwt builds Claims and the payload's DOM; verify_jwt_claims returns a VerifiedJwt, of
// which the caller reads the subject here (read in place).
bool verify_jwt_ok(const std::string& token) {
  return tegata::verify_jwt(token, generic_key(), generic_validator(), tegata::SystemClock{})
      .has_value();
}
bool verify_jwt_claims_ok(const std::string& token) {
  const auto jwt =
      tegata::verify_jwt_claims(token, generic_key(), generic_validator(), tegata::SystemClock{});
  return jwt && jwt->subject().has_value();
}

template <bool (*Verify)(const std::string&)>
void tegata_verify_generic(benchmark::State& state) {
  const auto& tokens = hs256_tokens().generic;
  std::size_t i = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    if (!Verify(tokens[i++ % kTokenCount])) [[unlikely]] {
      state.SkipWithError("verification failed");
      break;
    }
  }
}

// --- Signature algorithms: SessionManager::validate, stateless store ---------------------------

tegata::KeyHandle shared(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return tegata::KeyHandle(key);
}

// The stateless manager for alg's fixture key, made once per algorithm.
template <Alg A>
const auto& asym_manager() {
  static const auto manager = [] {
    const AsymFixture& f = asym_fixture(A);
    const auto key = [&] {
      if constexpr (A == Alg::ES256) {
        return tegata::EcdsaKey(tegata::Algorithm::ES256, shared(f.key), kSessionKid);
      } else if constexpr (A == Alg::ES384) {
        return tegata::EcdsaKey(tegata::Algorithm::ES384, shared(f.key), kSessionKid);
      } else if constexpr (A == Alg::EdDSA) {
        return tegata::EddsaKey(shared(f.key), kSessionKid);
      } else if constexpr (A == Alg::RS256) {
        return tegata::RsaKey(tegata::Algorithm::RS256, shared(f.key), kSessionKid);
      } else {
        return tegata::RsaKey(tegata::Algorithm::PS256, shared(f.key), kSessionKid);
      }
    }();
    return make_manager(key, tegata::NullRevocationStore{});
  }();
  return manager;
}

template <Alg A>
void tegata_validate_asym(benchmark::State& state) {
  validate_loop(state, asym_manager<A>(), asym_fixture(A).tokens);
}

// --- MemoryRevocationStore footprint -------------------------------------------------------------

enum class Fact { revoked_jti, revoked_family, subject_version, session_record, used_proof };

// Fills a fresh store with 10^6 live entries of one kind and reports the heap bytes it holds per
// entry: every block's usable size plus glibc's 8-byte chunk header, counted by the replaced
// allocator (ids are generated before counting starts). session_record: 10^6 live sessions, each
// of its own subject and without metadata, so each is its record and its subject's index (two
// entries); it reports bytes_per_session.
void store_bytes_per_entry(benchmark::State& state, Fact fact) {
  constexpr std::size_t kEntries = 1'000'000;
  const auto now = tegata::SystemClock{}.now();
  const auto until = now + std::chrono::hours{1};
  std::vector<std::string> ids;
  ids.reserve(kEntries);
  for (std::size_t i = 0; i < kEntries; ++i) {
    ids.push_back(fact == Fact::subject_version ? "user-" + std::to_string(1'000'000 + i)
                                                : random_id());
  }
  std::vector<tegata::SessionRecord> records;
  if (fact == Fact::session_record) {
    for (std::size_t i = 0; i < kEntries; ++i) {
      tegata::SessionRecord r;
      r.session_id = random_id();
      r.refresh_id = random_id();
      r.auth_time = r.last_refresh = now;
      r.expires_at = r.absolute_end = r.access_until = r.until = until;
      r.refresh_ttl = std::chrono::hours{1};
      records.push_back(std::move(r));
    }
  }
  const std::size_t expected = fact == Fact::session_record ? 2 * kEntries : kEntries;
  for (auto _ : state) {
    tegata::MemoryRevocationStore::Options options;
    options.max_entries = 2 * expected;
    const std::int64_t before = [] {
      set_byte_tracking(true);
      return tracked_live_bytes();
    }();
    std::int64_t bytes = 0;
    std::size_t entries = 0;
    {
      tegata::MemoryRevocationStore store(options);
      bool ok = true;
      switch (fact) {
        case Fact::revoked_jti:
          for (const auto& id : ids) ok = ok && store.revoke_token(id, until, now).has_value();
          break;
        case Fact::revoked_family:
          for (const auto& id : ids) {
            ok = ok && store.end_session("user", id, until, now).has_value();  // a marker
          }
          break;
        case Fact::subject_version:
          for (const auto& id : ids) ok = ok && store.bump_version(id, until, now).has_value();
          break;
        case Fact::session_record:
          for (std::size_t i = 0; i < kEntries; ++i) {
            ok = ok && store.create_session(ids[i], records[i], 100, now).has_value();
          }
          break;
        case Fact::used_proof:  // DPoP replay keys: 22 characters, as the manager makes them
          for (const auto& id : ids) {
            auto first = store.use_proof(id, until, now);
            ok = ok && first.has_value() && *first;
          }
          break;
      }
      bytes = tracked_live_bytes() - before;
      entries = store.size();
      if (!ok || entries != expected) state.SkipWithError("store refused an entry");
    }
    set_byte_tracking(false);
    state.counters["entries"] = static_cast<double>(entries);
    state.counters["bytes_per_entry"] = static_cast<double>(bytes) / static_cast<double>(entries);
    if (fact == Fact::session_record) {
      state.counters["bytes_per_session"] =
          static_cast<double>(bytes) / static_cast<double>(kEntries);
    }
  }
}

// --- Operations for the paired benchmarks --------------------------------------------------------

bool op_validate(std::size_t i) {
  return hs256_manager().validate(hs256_tokens().session[i % kTokenCount]).has_value();
}

bool op_validate_null_store(std::size_t i) {
  static const auto manager = make_hs256_manager(tegata::NullRevocationStore{});
  return manager.validate(hs256_tokens().session[i % kTokenCount]).has_value();
}

template <const std::string Hs256Tokens::*Token>
bool op_rejects(errc expected) {
  return hs256_manager().validate(hs256_tokens().*Token).error() == expected;
}
bool op_bad_signature(std::size_t) {
  return op_rejects<&Hs256Tokens::session_bad_signature>(errc::bad_signature);
}
bool op_malformed_segments(std::size_t) {
  return op_rejects<&Hs256Tokens::session_malformed_segments>(errc::malformed);
}
bool op_malformed_base64(std::size_t) {
  return op_rejects<&Hs256Tokens::session_malformed_base64>(errc::bad_encoding);
}
bool op_malformed_json(std::size_t) {
  return op_rejects<&Hs256Tokens::session_malformed_json>(errc::bad_json);
}
bool op_malformed_object(std::size_t) {
  return op_rejects<&Hs256Tokens::session_malformed_object>(errc::bad_json);
}

// Logins of one subject: each beyond max_sessions_per_subject ends (evicts) the oldest, whose
// access token lives on, so the store keeps one entry per login for access_ttl. It is replaced
// every kIssuesPerStore logins, as op_refresh's, so that it never fills.
bool op_issue(std::size_t) {
  constexpr std::size_t kIssuesPerStore = 100'000;
  static std::optional<Hs256Manager> manager;
  static std::size_t done = kIssuesPerStore;
  if (done++ == kIssuesPerStore) {
    manager.emplace(make_hs256_manager(populated_store()));
    done = 1;
  }
  return manager->issue(kSubject).has_value();
}

// A chain of refreshes, as tegata_refresh. The store is replaced every kRefreshesPerStore
// refreshes, so that it holds as many entries in every repetition (a server prunes).
bool op_refresh(std::size_t) {
  constexpr std::size_t kRefreshesPerStore = 100'000;
  static std::optional<Hs256Manager> manager;
  static std::string token;
  static std::size_t done = kRefreshesPerStore;
  if (done++ == kRefreshesPerStore) {
    manager.emplace(make_hs256_manager(tegata::MemoryRevocationStore{}));
    token = manager->issue(kSubject).value().refresh_token;
    done = 1;
  }
  auto pair = manager->refresh(token);
  if (!pair) return false;
  token = std::move(pair->refresh_token);
  return true;
}

// The same chain with an Events policy that counts what it is told: what reporting costs, and,
// paired with op_refresh (NoEvents), that the default costs nothing.
struct CountingEvents {
  std::uint64_t* count;
  void on_event(const tegata::SessionEvent& event) noexcept {
    *count += 1 + event.subject.size();  // reads the event, as a real policy would
  }
};
bool op_refresh_events(std::size_t) {
  constexpr std::size_t kRefreshesPerStore = 100'000;
  using Manager = tegata::SessionManager<tegata::HmacKey, tegata::SystemClock,
                                         tegata::MemoryRevocationStore, CountingEvents>;
  static std::uint64_t reported = 0;
  static std::optional<Manager> manager;
  static std::string token;
  static std::size_t done = kRefreshesPerStore;
  if (done++ == kRefreshesPerStore) {
    manager.emplace(tegata::HmacKey(tegata::Algorithm::HS256, kHs256Secret, kSessionKid),
                    session_options(), tegata::SystemClock{}, tegata::MemoryRevocationStore{},
                    CountingEvents{&reported});
    token = manager->issue(kSubject).value().refresh_token;
    done = 1;
  }
  auto pair = manager->refresh(token);
  if (!pair) return false;
  token = std::move(pair->refresh_token);
  benchmark::DoNotOptimize(reported);
  return true;
}

bool op_verify_jwt(std::size_t i) { return verify_jwt_ok(hs256_tokens().generic[i % kTokenCount]); }
bool op_verify_jwt_claims(std::size_t i) {
  return verify_jwt_claims_ok(hs256_tokens().generic[i % kTokenCount]);
}

template <Alg A>
bool op_asym(std::size_t i) {
  const auto& tokens = asym_fixture(A).tokens;
  return asym_manager<A>().validate(tokens[i % tokens.size()]).has_value();
}

// One manager shared by every thread, stateless: with HmacKey, nothing on this path is written by
// more than one thread.
void tegata_validate_null_store_mt(benchmark::State& state) {
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (kTokenCount / 2);
  if (!op_validate_null_store(i)) {
    state.SkipWithError("validate failed");
    return;
  }
  for (auto _ : state) {
    if (!op_validate_null_store(i++)) [[unlikely]] {
      state.SkipWithError("validate failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void tegata_refresh_events(benchmark::State& state) {
  AllocScope allocs(state);
  for (auto _ : state) {
    if (!op_refresh_events(0)) [[unlikely]] {
      state.SkipWithError("refresh failed");
      break;
    }
  }
}

const OperationRegistrar registered[] = {
    {"tegata_validate", op_validate},
    {"tegata_validate_null_store", op_validate_null_store},
    {"tegata_validate_bad_signature", op_bad_signature},
    {"tegata_validate_malformed_segments", op_malformed_segments},
    {"tegata_validate_malformed_base64", op_malformed_base64},
    {"tegata_validate_malformed_json", op_malformed_json},
    {"tegata_validate_malformed_object", op_malformed_object},
    {"tegata_issue", op_issue},
    {"tegata_refresh", op_refresh},
    {"tegata_refresh_events", op_refresh_events},
    {"tegata_verify_jwt", op_verify_jwt},
    {"tegata_verify_jwt_claims", op_verify_jwt_claims},
    {"tegata_validate_asym/ES256", op_asym<Alg::ES256>},
    {"tegata_validate_asym/ES384", op_asym<Alg::ES384>},
    {"tegata_validate_asym/EdDSA", op_asym<Alg::EdDSA>},
    {"tegata_validate_asym/RS256", op_asym<Alg::RS256>},
    {"tegata_validate_asym/PS256", op_asym<Alg::PS256>},
};

}  // namespace

BENCHMARK(tegata_validate);
BENCHMARK(tegata_validate)->Name("tegata_validate_mt")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(tegata_validate_null_store_mt)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(tegata_validate_keyring)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(tegata_validate_empty_store);
BENCHMARK(tegata_validate_null_store);
BENCHMARK(tegata_validate_malformed_segments);
BENCHMARK(tegata_validate_malformed_base64);
BENCHMARK(tegata_validate_malformed_json);
BENCHMARK(tegata_validate_malformed_object);
BENCHMARK(tegata_validate_bad_signature);
BENCHMARK(tegata_issue);
BENCHMARK(tegata_refresh);
BENCHMARK(tegata_refresh_events);
BENCHMARK(tegata_verify_generic<verify_jwt_ok>)->Name("tegata_verify_jwt");
BENCHMARK(tegata_verify_generic<verify_jwt_claims_ok>)->Name("tegata_verify_jwt_claims");
BENCHMARK(tegata_validate_asym<Alg::ES256>)->Name("tegata_validate_asym/ES256");
BENCHMARK(tegata_validate_asym<Alg::ES384>)->Name("tegata_validate_asym/ES384");
BENCHMARK(tegata_validate_asym<Alg::EdDSA>)->Name("tegata_validate_asym/EdDSA");
BENCHMARK(tegata_validate_asym<Alg::RS256>)->Name("tegata_validate_asym/RS256");
BENCHMARK(tegata_validate_asym<Alg::PS256>)->Name("tegata_validate_asym/PS256");
BENCHMARK_CAPTURE(store_bytes_per_entry, revoked_jti, Fact::revoked_jti)
    ->Iterations(1)
    ->Repetitions(1);
BENCHMARK_CAPTURE(store_bytes_per_entry, revoked_family, Fact::revoked_family)
    ->Iterations(1)
    ->Repetitions(1);
BENCHMARK_CAPTURE(store_bytes_per_entry, subject_version, Fact::subject_version)
    ->Iterations(1)
    ->Repetitions(1);
BENCHMARK_CAPTURE(store_bytes_per_entry, session_record, Fact::session_record)
    ->Iterations(1)
    ->Repetitions(1);
BENCHMARK_CAPTURE(store_bytes_per_entry, used_proof, Fact::used_proof)
    ->Iterations(1)
    ->Repetitions(1);

}  // namespace tegata_bench
