// tegata/algorithms/hmac.hpp - HS256, HS384, HS512 (RFC 7518 §3.2) over OpenSSL's EVP_MAC.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tegata/algorithm.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/instance_id.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/detail/thread_cache.hpp"
#include "tegata/error.hpp"
#include "tegata/signer.hpp"

namespace tegata {

namespace detail {

const char* hmac_digest_name(Algorithm alg);

std::size_t hmac_size(Algorithm alg);

// The key and an EVP_MAC_CTX initialised with it, made once and never modified afterwards.
struct hmac_state {
  Algorithm alg;
  std::string kid;
  secret_bytes secret;
  evp_mac_ptr mac;
  evp_mac_ctx_ptr prepared;
  std::uint64_t id;  // unique in the process, never reused: names this key in the thread caches

  hmac_state(Algorithm a, std::string_view key, std::string key_id);
};

// Each thread keeps its own copies of the prepared contexts of the last few keys it used, and
// re-initialises a copy for every MAC (EVP_MAC_init without a key keeps the keyed inner and outer
// digest states and only resets them): the cost of OpenSSL's HMAC itself, with no context
// creation and no state shared between threads (an EVP_MAC_CTX is not thread-safe; its copies
// are independent).
//
// Lifetime (the protocol is detail::thread_cache's). A copy holds key material of its own, so it
// must not outlive its key for long: a slot whose key has died is freed (its context cleansed by
// EVP_MAC_CTX_free) the next time the thread misses in its cache, at least every kSweepInterval
// MACs, and when the thread exits. A key's id is never reused, so a slot can never be mistaken
// for another key's. At most kSlots contexts per thread: a thread that cycles through more keys
// than that still works, re-copying contexts as it goes. OpenSSL runs no code of ours, so slots
// are never pinned: a context is used and reset before the thread's next MAC.
using hmac_context_cache = thread_cache<hmac_state, evp_mac_ctx_ptr, 8>;

inline bool hmac_update_final(EVP_MAC_CTX* ctx, std::string_view data, unsigned char* out,
                              std::size_t& out_len) noexcept {
  return ctx != nullptr &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) ==
             1 &&
         EVP_MAC_final(ctx, out, &out_len, EVP_MAX_MD_SIZE) == 1;
}

// hmac_compute when this thread's cache has no usable copy of state's context: a fresh copy,
// kept in the cache for the next MACs (cache may be nullptr: then used once and freed). Apart from
// hmac_compute's hit path so that the hit path stays small enough to be inlined.
bool hmac_compute_fresh(hmac_context_cache* cache, const std::shared_ptr<const hmac_state>& state,
                        std::string_view data, unsigned char* out, std::size_t& out_len) noexcept;

// The MAC of data under state's key, computed with this thread's copy of its context. While the
// thread exits, after its cache is gone (a later thread_local destructor that signs), with a copy
// of its own.
bool hmac_compute(const std::shared_ptr<const hmac_state>& state, std::string_view data,
                  unsigned char* out, std::size_t& out_len) noexcept;

}  // namespace detail

// A shared secret bound to one HMAC algorithm. Copies share the same immutable key state, so a
// copy is cheap and every copy is safe to use from many threads at once (each thread MACs with a
// context of its own: see hmac_context_cache).
class HmacKey : public detail::single_key_signer<HmacKey> {
 public:
  // Throws std::invalid_argument when alg is not HS* or the secret is shorter than the hash.
  HmacKey(Algorithm alg, std::string_view secret, std::string kid = {});

  Algorithm algorithm() const noexcept { return state_->alg; }
  const std::string& kid() const noexcept { return state_->kid; }
  bool can_sign() const noexcept { return true; }

  // The MAC of data. Fails only if OpenSSL does (crypto_failure).
  Result<std::string> sign_raw(std::string_view data) const;

  // Recomputes the MAC and compares in constant time; a tag of any other length is rejected.
  bool verify_raw(std::string_view data, std::string_view tag) const;

  // The raw secret, for export as a private JWK. Handle with care.
  std::string_view secret() const noexcept { return state_->secret.view(); }

 private:
  std::shared_ptr<const detail::hmac_state> state_;
};

static_assert(Key<HmacKey>);
static_assert(Signer<HmacKey>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/algorithms/hmac_inl.hpp"
#endif
