// A DPoP client for tests (RFC 9449 §4.2): holds a key pair and makes one proof per request,
// each with a fresh jti, as a browser or an app would. Test code only: it throws
// std::runtime_error where a step that cannot fail does (used by Catch2 tests and plain
// programs alike).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/base64url.hpp"
#include "tegata/detail/jwk_params.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/pem.hpp"

namespace tegata_test {

class DpopClient {
 public:
  explicit DpopClient(tegata::Algorithm alg = tegata::Algorithm::ES256) : key_(make_key(alg)) {
    jkt_ = must(tegata::keys::thumbprint_sha256(key_));
  }

  const std::string& jkt() const noexcept { return jkt_; }
  const tegata::AnyKey& key() const noexcept { return key_; }

  // A proof for method and uri at time iat; with the hash of access_token in ath when it is
  // given, and nonce when given.
  std::string proof(std::string_view method, std::string_view uri, std::chrono::sys_seconds iat,
                    std::string_view access_token = {},
                    std::optional<std::string> nonce = std::nullopt) {
    nlohmann::json header{{"typ", "dpop+jwt"},
                          {"alg", std::string(tegata::to_string(key_.algorithm()))},
                          {"jwk", must(tegata::keys::public_jwk(key_))}};
    nlohmann::json payload{{"jti", "proof-" + std::to_string(++proofs_made_)},
                           {"htm", std::string(method)},
                           {"htu", std::string(uri)},
                           {"iat", iat.time_since_epoch().count()}};
    if (!access_token.empty()) {
      payload["ath"] = tegata::base64url_encode(must(tegata::detail::jwk::sha256(access_token)));
    }
    if (nonce) payload["nonce"] = *nonce;
    const std::string input = tegata::base64url_encode(header.dump()) + "." +
                              tegata::base64url_encode(payload.dump());
    return input + "." + tegata::base64url_encode(must(key_.sign_raw(input)));
  }

 private:
  template <class T>
  static T must(tegata::Result<T> result) {
    if (!result) throw std::runtime_error("DpopClient: " + result.error().message());
    return std::move(*result);
  }

  static tegata::AnyKey make_key(tegata::Algorithm alg) {
    tegata::KeyHandle handle = tegata::keys::generate(alg);
    if (tegata::is_rsa(alg)) return tegata::RsaKey(alg, std::move(handle));
    if (tegata::is_ecdsa(alg)) return tegata::EcdsaKey(alg, std::move(handle));
    return tegata::EddsaKey(alg, std::move(handle));
  }

  tegata::AnyKey key_;
  std::string jkt_;
  std::uint64_t proofs_made_ = 0;
};

// A login bound to client's key as a server makes it (docs/guide.md): the login request's proof
// for POST uri, verified and used up by sessions, then the session issued with its thumbprint.
// Throws std::runtime_error when either step fails.
template <class Manager>
tegata::TokenPair bound_login(Manager& sessions, DpopClient& client, std::string_view subject,
                              std::string_view uri) {
  auto proof =
      sessions.verify_proof(client.proof("POST", uri, sessions.clock().now()), "POST", uri);
  if (!proof) throw std::runtime_error("bound_login: " + proof.error().message());
  tegata::IssueOptions options;
  options.dpop_jkt = proof->jkt;
  auto pair = sessions.issue(subject, options);
  if (!pair) throw std::runtime_error("bound_login: " + pair.error().message());
  return std::move(*pair);
}

}  // namespace tegata_test
