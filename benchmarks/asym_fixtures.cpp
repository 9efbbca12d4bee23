// benchmarks/asym_fixtures.cpp - builds the signature fixtures with tegata's own SessionManager.
#include "asym_fixtures.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "fixtures.hpp"
#include "tegata_fixtures.hpp"

namespace tegata_bench {
namespace {

tegata::Algorithm to_tegata(Alg alg) {
  switch (alg) {
    case Alg::ES256: return tegata::Algorithm::ES256;
    case Alg::ES384: return tegata::Algorithm::ES384;
    case Alg::EdDSA: return tegata::Algorithm::EdDSA;
    case Alg::RS256: return tegata::Algorithm::RS256;
    case Alg::PS256: return tegata::Algorithm::PS256;
  }
  return tegata::Algorithm::RS256;
}

template <class Key>
void issue_tokens(AsymFixture& f, Key key) {
  auto manager = make_manager(std::move(key), tegata::NullRevocationStore{});
  for (std::size_t i = 0; i < kAsymTokenCount; ++i) {
    auto pair = manager.issue(kSubject);
    if (!pair) throw std::runtime_error("fixture: issue failed");
    f.tokens.push_back(pair->access_token);
  }
}

tegata::KeyHandle shared(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return tegata::KeyHandle(key);
}

AsymFixture make_fixture(Alg alg) {
  AsymFixture f;
  const tegata::Algorithm a = to_tegata(alg);
  f.key = generate_key(a).release();
  f.pss = alg == Alg::PS256;
  if (alg == Alg::ES384) {
    f.md = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  } else if (alg != Alg::EdDSA) {
    f.md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  }
  switch (alg) {
    case Alg::ES256:
    case Alg::ES384: issue_tokens(f, tegata::EcdsaKey(a, shared(f.key), kSessionKid)); break;
    case Alg::EdDSA: issue_tokens(f, tegata::EddsaKey(shared(f.key), kSessionKid)); break;
    default: issue_tokens(f, tegata::RsaKey(a, shared(f.key), kSessionKid));
  }
  for (const auto& token : f.tokens) {
    f.inputs.push_back(signing_input(token));
    std::string sig = signature_bytes(token);
    if (alg == Alg::ES256 || alg == Alg::ES384) {
      unsigned char der[tegata::detail::kEcdsaMaxDer];
      const std::size_t n = tegata::detail::ecdsa_p1363_to_der(sig, sig.size() / 2, der);
      sig.assign(reinterpret_cast<const char*>(der), n);
    }
    f.openssl_signatures.push_back(std::move(sig));
  }
  return f;
}

}  // namespace

const AsymFixture& asym_fixture(Alg alg) {
  static const std::map<Alg, AsymFixture> fixtures = [] {
    std::map<Alg, AsymFixture> all;
    for (Alg a : {Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::RS256, Alg::PS256}) {
      all.emplace(a, make_fixture(a));
    }
    return all;
  }();
  return fixtures.at(alg);
}

}  // namespace tegata_bench
