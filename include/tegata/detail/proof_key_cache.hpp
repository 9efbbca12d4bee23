// tegata/detail/proof_key_cache.hpp - the keys of the DPoP proof headers a thread saw last.
//
// A client signs every proof with the same key and its library writes the same header bytes
// each time ({"alg":..,"typ":"dpop+jwt","jwk":{..}}), so the header segment of its proofs repeats
// byte for byte. What a proof's header decides (typ, alg, crit, the jwk, the key built from it and
// its thumbprint) is a function of those bytes alone, so a byte-identical segment may reuse it:
// building an EC or RSA key from a JWK costs about as much again as verifying a signature with
// it. Only headers that passed those checks are kept, and the verifier's own options (the allowed
// algorithms, the largest RSA key) are checked again on every use.
//
// kEntries per thread, replaced in turn, each holding a public key and at most kMaxHeaderBytes of
// header: nothing secret, a few KiB at most. A thread_local object destroyed after this cache may
// still verify proofs: local() is nullptr from the start of the cache's destruction (a trivially
// destructible flag, readable until the thread ends), and callers then work without it.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/algorithm.hpp"
#include "tegata/keys/any_key.hpp"

namespace tegata::detail {

// What a proof header decides, once it has passed the checks that depend on its bytes only.
struct proof_key {
  Algorithm algorithm;
  AnyKey key;
  std::string jkt;                // RFC 7638 thumbprint of the jwk
  std::size_t modulus_chars = 0;  // the length of an RSA jwk's "n" (0 for other keys)
};

class proof_key_cache {
 public:
  static constexpr std::size_t kEntries = 8;
  static constexpr std::size_t kMaxHeaderBytes = 2048;

  proof_key_cache() = default;
  proof_key_cache(const proof_key_cache&) = delete;
  proof_key_cache& operator=(const proof_key_cache&) = delete;
  ~proof_key_cache() { gone() = true; }

  // This thread's cache, or nullptr once it is being destroyed.
  static proof_key_cache* local() noexcept {
    if (gone()) return nullptr;
    static thread_local proof_key_cache cache;
    return &cache;
  }

  // The key of a header segment seen before; valid until this thread's next remember().
  const proof_key* find(std::string_view header) const noexcept {
    for (const entry& e : entries_) {
      if (e.key && e.header == header) return &*e.key;
    }
    return nullptr;
  }

  // Keeps a header's key, replacing the oldest entry. May throw std::bad_alloc.
  void remember(std::string_view header, const proof_key& key) {
    if (header.size() > kMaxHeaderBytes) return;
    entry& e = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    e.key.reset();  // never a key paired with the wrong header, whatever throws below
    e.header.assign(header);
    e.key.emplace(key);
  }

 private:
  static bool& gone() noexcept {
    static thread_local bool flag = false;
    return flag;
  }

  struct entry {
    std::string header;
    std::optional<proof_key> key;
  };
  std::array<entry, kEntries> entries_{};
  std::size_t next_ = 0;
};

}  // namespace tegata::detail
