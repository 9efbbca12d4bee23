// tegata/keys/key_ring.hpp - several keys behind one Signer: key rotation without downtime.
//
// A KeyRing holds one primary key, which signs (its kid goes into every header it writes), and
// any number of verify-only keys. Verification picks the key by the token's kid and then
// requires the header's alg to be that key's own algorithm; it never picks a key, or an
// algorithm, from the alg header:
//   kid absent from the ring                    -> unknown_key
//   no kid in the token                         -> unknown_key, unless the ring holds exactly
//                                                  one key (then that key is used)
//   alg is not the algorithm bound to that key  -> unsupported_algorithm
//   signature does not verify                   -> bad_signature
//
// Rotation, while the server runs:
//   ring.add(next);          // verify-only for now
//   publish ring.public_jwks() and wait until every verifier has fetched it
//   ring.promote(next_kid);  // new tokens carry next_kid; tokens of the old key still verify
//   ... once the old key's tokens have expired:
//   ring.retire(old_kid);    // its tokens now fail with unknown_key
//
// Rules, checked whenever the key set changes (std::invalid_argument, as for misconfiguration):
// every key has a non-empty kid, no two keys share a kid, and the ring never mixes HMAC secrets
// with asymmetric keys: a verifier that holds both kinds is the setting in which a public key
// gets used as an HMAC secret (RFC 8725 §2.1).
//
// Threads: a KeyRing is a handle. Its copies share one ring, so a SessionManager holding a copy
// sees the rotations made through the original. The ring is an immutable snapshot replaced
// atomically by each rotation: sign and verify read one snapshot and take no lock, so they may
// run in any number of threads while another thread rotates, and a token verifies for as long as
// its key is in the ring. Rotations are serialised among themselves by a mutex.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tegata/error.hpp"
#include "tegata/jws.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/signer.hpp"

namespace tegata {

namespace detail {

inline constexpr std::size_t kNoKey = static_cast<std::size_t>(-1);

// One state of a ring. Never modified once published.
struct key_ring_snapshot {
  std::vector<AnyKey> keys;
  std::size_t primary = 0;

  std::size_t index_of(std::string_view kid) const noexcept {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].kid() == kid) return i;
    }
    return kNoKey;
  }
};

// Throws std::invalid_argument unless keys can form a ring (see the rules above).
inline void check_ring(const key_ring_snapshot& ring) {
  if (ring.keys.empty() || ring.primary >= ring.keys.size()) {
    throw std::invalid_argument("tegata: a KeyRing needs a primary key");
  }
  const bool symmetric = ring.keys.front().is_symmetric();
  for (std::size_t i = 0; i < ring.keys.size(); ++i) {
    const AnyKey& key = ring.keys[i];
    if (key.kid().empty()) {
      throw std::invalid_argument("tegata: every key in a KeyRing needs a kid");
    }
    if (key.is_symmetric() != symmetric) {
      throw std::invalid_argument("tegata: a KeyRing cannot mix HMAC secrets with asymmetric keys");
    }
    if (ring.index_of(key.kid()) != i) {
      throw std::invalid_argument("tegata: two keys in a KeyRing have the same kid");
    }
  }
}

struct key_ring_shared {
  std::mutex rotation;  // serialises writers; readers never take it
  std::atomic<std::shared_ptr<const key_ring_snapshot>> current;
};

}  // namespace detail

class KeyRing {
 public:
  // The primary key signs; the others verify only. Throws std::invalid_argument when the keys
  // break the rules above.
  explicit KeyRing(AnyKey primary, const std::vector<AnyKey>& verify_only = {})
      : shared_(std::make_shared<detail::key_ring_shared>()) {
    auto first = std::make_shared<detail::key_ring_snapshot>();
    first->keys.reserve(1 + verify_only.size());
    first->keys.push_back(std::move(primary));
    first->keys.insert(first->keys.end(), verify_only.begin(), verify_only.end());
    detail::check_ring(*first);
    shared_->current.store(std::move(first), std::memory_order_release);
  }

  // A ring from a JWK Set, every key imported with options (see tegata/keys/jwk.hpp). The
  // primary is the key whose kid is primary_kid, or the first key when primary_kid is empty.
  // With options.operation == sign only the primary is imported with its private part (it must
  // have one); the others are imported as public keys. Errors: those of import_jwk, malformed
  // (no "keys" array), not_found (no keys), too_large (more than options.max_keys keys, refused
  // before any key is looked at), unknown_key (no key has primary_kid), invalid_argument (the
  // keys break the ring's rules). Never throws.
  static Result<KeyRing> from_jwks(const nlohmann::json& jwks, const keys::JwkOptions& options = {},
                                   std::string_view primary_kid = {}) noexcept {
    try {
      if (!jwks.is_object()) return errc::malformed;
      const auto list = jwks.find("keys");
      if (list == jwks.end() || !list->is_array()) return errc::malformed;
      if (list->empty()) return errc::not_found;
      if (list->size() > options.max_keys) return errc::too_large;
      std::size_t primary = 0;
      if (!primary_kid.empty()) {
        primary = detail::kNoKey;
        for (std::size_t i = 0; i < list->size() && primary == detail::kNoKey; ++i) {
          if (declared_kid(list->at(i), options) == primary_kid) primary = i;
        }
        if (primary == detail::kNoKey) return errc::unknown_key;
      }
      keys::JwkOptions verify_only = options;
      verify_only.operation = keys::KeyOperation::verify;
      std::vector<AnyKey> others;
      std::optional<AnyKey> first;
      for (std::size_t i = 0; i < list->size(); ++i) {
        auto key = keys::import_jwk(list->at(i), i == primary ? options : verify_only);
        if (!key) return key.error();
        if (i == primary) {
          first.emplace(std::move(*key));
        } else {
          others.push_back(std::move(*key));
        }
      }
      // AnyKey is a shared handle without move operations: a copy is as cheap.
      return KeyRing(*first, others);
    } catch (const std::invalid_argument&) {
      return errc::invalid_argument;
    } catch (const std::exception&) {
      return errc::crypto_failure;
    }
  }

  // A handle: copies share the ring. There are no move operations, so a KeyRing is never empty.
  KeyRing(const KeyRing&) noexcept = default;
  KeyRing& operator=(const KeyRing&) noexcept = default;
  ~KeyRing() = default;

  // --- Signer ---------------------------------------------------------------------------------

  // Signs with the primary key; alg, kid and key come from the same snapshot. Errors:
  // key_cannot_sign (the primary is a public key), crypto_failure.
  Result<std::string> sign(std::string_view typ, std::string_view payload) const {
    const auto ring = snapshot();
    return detail::sign_with_key(ring->keys[ring->primary], typ, payload);
  }

  // See the table at the top of this file.
  std::error_code verify(const jws::Parsed& token) const {
    const auto ring = snapshot();
    const AnyKey* key = nullptr;
    if (token.header.has_kid) {
      const std::size_t index = ring->index_of(token.header.kid);
      if (index != detail::kNoKey) key = &ring->keys[index];
    } else if (ring->keys.size() == 1) {
      key = &ring->keys.front();
    }
    if (key == nullptr) return errc::unknown_key;
    return detail::verify_with_key(*key, token);
  }

  // --- Rotation (each throws std::invalid_argument and leaves the ring unchanged on misuse) ----

  // Adds a verify-only key. It may hold a private part, so that it can be promoted later.
  void add(AnyKey key) {
    rotate([&](detail::key_ring_snapshot& next) { next.keys.push_back(std::move(key)); });
  }

  // Makes the key with this kid the one that signs. It must be able to sign.
  void promote(std::string_view kid) {
    rotate([&](detail::key_ring_snapshot& next) {
      const std::size_t index = existing(next, kid);
      if (!next.keys[index].can_sign()) {
        throw std::invalid_argument("tegata: a KeyRing cannot promote a key that cannot sign");
      }
      next.primary = index;
    });
  }

  // Removes the key with this kid: tokens it signed stop verifying (unknown_key). The primary
  // cannot be retired; promote another key first.
  void retire(std::string_view kid) {
    rotate([&](detail::key_ring_snapshot& next) {
      const std::size_t index = existing(next, kid);
      if (index == next.primary) {
        throw std::invalid_argument("tegata: the primary key of a KeyRing cannot be retired");
      }
      next.keys.erase(next.keys.begin() + static_cast<std::ptrdiff_t>(index));
      if (index < next.primary) --next.primary;
    });
  }

  // --- Inspection (each answer is one snapshot; a concurrent rotation may follow it) ----------

  AnyKey primary() const {
    const auto ring = snapshot();
    return ring->keys[ring->primary];
  }
  std::string primary_kid() const { return std::string(primary().kid()); }

  std::optional<AnyKey> find(std::string_view kid) const {
    const auto ring = snapshot();
    const std::size_t index = ring->index_of(kid);
    if (index == detail::kNoKey) return std::nullopt;
    return ring->keys[index];
  }
  bool contains(std::string_view kid) const { return snapshot()->index_of(kid) != detail::kNoKey; }

  // Every key, the primary first.
  std::vector<AnyKey> keys() const {
    const auto ring = snapshot();
    std::vector<AnyKey> out;
    out.reserve(ring->keys.size());
    out.push_back(ring->keys[ring->primary]);
    for (std::size_t i = 0; i < ring->keys.size(); ++i) {
      if (i != ring->primary) out.push_back(ring->keys[i]);
    }
    return out;
  }
  std::size_t size() const { return snapshot()->keys.size(); }

  // The JWKS to publish: every key of the ring, the primary first. not_supported for a ring of
  // HMAC secrets, which have no public form.
  Result<nlohmann::json> public_jwks() const { return keys::public_jwks(keys()); }

 private:
  std::shared_ptr<const detail::key_ring_snapshot> snapshot() const noexcept {
    return shared_->current.load(std::memory_order_acquire);
  }

  static std::size_t existing(const detail::key_ring_snapshot& ring, std::string_view kid) {
    const std::size_t index = ring.index_of(kid);
    if (index == detail::kNoKey) {
      throw std::invalid_argument("tegata: the KeyRing has no key with this kid");
    }
    return index;
  }

  // Copies the current snapshot, applies change, checks the result and publishes it.
  template <class Change>
  void rotate(Change&& change) {
    const std::lock_guard<std::mutex> lock(shared_->rotation);
    auto next = std::make_shared<detail::key_ring_snapshot>(*snapshot());
    std::forward<Change>(change)(*next);
    detail::check_ring(*next);
    shared_->current.store(std::move(next), std::memory_order_release);
  }

  // The kid a JWKS entry will have once imported with options: its "kid" member, or its
  // thumbprint when options ask for one. Empty when there is none (or the entry is invalid:
  // its import reports why).
  static std::string declared_kid(const nlohmann::json& entry, const keys::JwkOptions& options) {
    if (!entry.is_object()) return {};
    const auto kid = entry.find("kid");
    if (kid != entry.end() && kid->is_string() && !kid->get_ref<const std::string&>().empty()) {
      return kid->get_ref<const std::string&>();
    }
    if (!options.kid_from_thumbprint) return {};
    auto thumbprint = keys::thumbprint_sha256(entry);
    return thumbprint ? std::move(*thumbprint) : std::string();
  }

  std::shared_ptr<detail::key_ring_shared> shared_;
};

static_assert(Signer<KeyRing>);

}  // namespace tegata
