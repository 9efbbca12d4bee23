// tegata/algorithms/hmac_inl.hpp - the definitions of tegata/algorithms/hmac.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/algorithms/hmac.hpp"

namespace tegata {

TEGATA_INLINE const char* detail::hmac_digest_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS256: return "SHA256";
    case Algorithm::HS384: return "SHA384";
    case Algorithm::HS512: return "SHA512";
    default: throw std::invalid_argument("tegata: HmacKey needs HS256, HS384 or HS512");
  }
}

TEGATA_INLINE std::size_t detail::hmac_size(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS256: return 32;
    case Algorithm::HS384: return 48;
    default: return 64;
  }
}

TEGATA_INLINE detail::hmac_state::hmac_state(Algorithm a, std::string_view key, std::string key_id)
    : alg(a), kid(std::move(key_id)), secret(key), id(next_instance_id()) {
  const char* digest = hmac_digest_name(a);
  // RFC 7518 §3.2: the key must be at least as long as the hash output.
  if (key.size() < hmac_size(a)) {
    throw std::invalid_argument("tegata: HMAC secret is shorter than the hash output");
  }
  mac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) throw std::runtime_error("tegata: OpenSSL has no HMAC implementation");
  prepared.reset(EVP_MAC_CTX_new(mac.get()));
  if (!prepared) throw std::runtime_error("tegata: cannot allocate an HMAC context");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(prepared.get(), secret.data(), secret.size(), params) != 1) {
    throw std::runtime_error("tegata: cannot initialise HMAC");
  }
}

TEGATA_INLINE bool detail::hmac_compute_fresh(hmac_context_cache* cache,
                                              const std::shared_ptr<const hmac_state>& state,
                                              std::string_view data, unsigned char* out,
                                              std::size_t& out_len) noexcept {
  evp_mac_ctx_ptr copy(EVP_MAC_CTX_dup(state->prepared.get()));
  if (!copy) return false;
  if (cache != nullptr) {
    // install swaps: copy is left with the slot's previous context, if any, freed on return.
    const hmac_context_cache::slot* fresh = cache->install(state, copy);
    if (fresh != nullptr) return hmac_update_final(fresh->value.get(), data, out, out_len);
  }
  return hmac_update_final(copy.get(), data, out, out_len);
}

TEGATA_INLINE bool detail::hmac_compute(const std::shared_ptr<const hmac_state>& state,
                                        std::string_view data, unsigned char* out,
                                        std::size_t& out_len) noexcept {
  hmac_context_cache* cache = hmac_context_cache::local();
  if (cache != nullptr) {
    hmac_context_cache::slot* hit = cache->find(state->id);
    if (hit != nullptr && EVP_MAC_init(hit->value.get(), nullptr, 0, nullptr) == 1) {
      return hmac_update_final(hit->value.get(), data, out, out_len);
    }
    // A miss, or OpenSSL could not reuse the copy: a fresh one replaces it.
  }
  return hmac_compute_fresh(cache, state, data, out, out_len);
}

TEGATA_INLINE HmacKey::HmacKey(Algorithm alg, std::string_view secret, std::string kid)
    : state_(std::make_shared<const detail::hmac_state>(alg, secret, std::move(kid))) {}

TEGATA_INLINE Result<std::string> HmacKey::sign_raw(std::string_view data) const {
  unsigned char tag[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (!detail::hmac_compute(state_, data, tag, len)) return errc::crypto_failure;
  return std::string(reinterpret_cast<const char*>(tag), len);
}

TEGATA_INLINE bool HmacKey::verify_raw(std::string_view data, std::string_view tag) const {
  unsigned char expected[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (!detail::hmac_compute(state_, data, expected, len)) return false;
  return detail::constant_time_equal(std::string_view(reinterpret_cast<const char*>(expected), len),
                                     tag);
}

}  // namespace tegata
