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
// sees the rotations made through the original. The ring is an immutable snapshot that each
// rotation replaces. sign and verify use one snapshot from start to end, and see every rotation
// that returned before they started (before in the sense of the memory model: the rotating thread
// then unlocked a mutex, stored an atomic or finished, and this thread saw it), so they may run in
// any number of threads while another thread rotates, and a token verifies for as long as its key
// is in the ring. They take no lock and write no memory shared with other threads in the common
// case: each thread keeps the snapshot it last used of each of the last few rings it used, and
// re-reads the ring (under a lock held only for a pointer copy) after a rotation. Rotations are
// serialised among themselves by a mutex.
//
// Key material: those per-thread copies keep a snapshot alive after the ring has moved on. A
// retired key, or the keys of a destroyed ring, stay in memory in a thread that used the ring
// until that thread uses the ring again, re-reads any ring, makes detail::key_ring_cache's
// kSweepInterval more KeyRing operations, or exits. A thread that stops using KeyRings keeps them
// until it exits.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/instance_id.hpp"
#include "tegata/detail/thread_cache.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"
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
void check_ring(const key_ring_snapshot& ring);

// What the handles of one ring share.
//
// Ordering. A publication replaces current and increments generation together, under publication;
// a reader that loads reads both under the same lock. So each generation number names exactly one
// snapshot of this ring, and a thread that cached (g, snapshot) read under the lock and then reads
// generation == g uses the very snapshot that was current at g, one that is never modified. A
// rotation has stored its generation before it returns; an operation that starts after it returned
// (the operation happens after the rotation) reads that value or a later one (coherence of the
// atomic: a read cannot see a value older than one that happens before it), so it does not match
// the generation cached before the rotation and loads the ring anew, under the lock. What makes
// the snapshot safe to read is the lock, not the memory order of generation; acquire and release
// cost the fast path nothing on common hardware and also give a reader of generation g everything
// its publisher did before publishing g.
struct key_ring_shared {
  // Assumed size of a cache line: the members the fast path reads get one to themselves.
  static constexpr std::size_t kCacheLine = 64;

  // What the fast path of sign and verify reads. Nothing writes this line between rotations: not
  // the locks below, not the reference counts that copying a handle changes (they sit before it).
  //
  // id is unique in the process and never reused: it names this ring in the thread caches, where
  // a new ring allocated at a dead ring's address must not be mistaken for it.
  alignas(kCacheLine) const std::uint64_t id = next_instance_id();
  std::atomic<std::uint64_t> generation{0};  // the number of publications so far

  alignas(kCacheLine) std::mutex rotation;  // serialises rotations; sign and verify never take it
  std::mutex publication;  // guards current: held for a pointer copy or swap, nothing longer
  std::shared_ptr<const key_ring_snapshot> current;

  // The current snapshot and its generation, as one pair.
  std::pair<std::uint64_t, std::shared_ptr<const key_ring_snapshot>> load() {
    const std::lock_guard<std::mutex> lock(publication);
    return {generation.load(std::memory_order_relaxed), current};
  }

  // Makes next current and returns the snapshot it replaces, for the caller to release outside
  // the lock (its keys' destructors run then).
  std::shared_ptr<const key_ring_snapshot> publish(std::shared_ptr<const key_ring_snapshot> next) {
    const std::lock_guard<std::mutex> lock(publication);
    current.swap(next);
    generation.store(generation.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return next;
  }
};

// Each thread remembers, for the last few rings it used, the snapshot it read last and that
// snapshot's generation. An operation whose ring still has that generation uses the remembered
// snapshot by reference: one read of the ring's generation, which nobody writes between
// rotations, and no reference count, so threads do not contend for a cache line. Otherwise it
// loads the ring (key_ring_shared::load) and remembers the result.
//
// Reentrancy. An operation pins its slot for as long as it uses the snapshot: a key's code may
// use KeyRings itself (the same ring included, even rotating it), and a pinned slot is neither
// refreshed nor evicted meanwhile; an operation that finds no slot it may change uses a snapshot
// of its own. A slot is made consistent before the snapshot it drops is released, since that
// runs the keys' destructors.
//
// Lifetime (the protocol is detail::thread_cache's). A slot keeps its snapshot, key material
// included, alive. Each slot watches its ring through a weak_ptr, and a slot whose ring has died,
// or has published a newer snapshot, is released: by the thread's next operation on that ring
// (for a newer snapshot), by its next load of any ring, at least every kSweepInterval operations,
// and when the thread exits. At most kSlots snapshots per thread: a thread that cycles through
// more rings than that still works, loading as it goes.
struct key_ring_cached {
  std::uint64_t generation = 0;
  std::shared_ptr<const key_ring_snapshot> snapshot;

  // False once the ring has published a newer snapshot: the sweep releases this one then.
  bool current_for(const key_ring_shared& ring) const noexcept {
    return ring.generation.load(std::memory_order_acquire) == generation;
  }
};

using key_ring_cache = thread_cache<key_ring_shared, key_ring_cached, 4>;

// The snapshot one operation uses, from this thread's cache when possible (see key_ring_cache).
// Lives on the stack of the operation; the reference it gives is valid until it is destroyed.
class key_ring_lease {
 public:
  // Throws std::system_error only if the ring's mutex cannot be locked.
  explicit key_ring_lease(const std::shared_ptr<key_ring_shared>& ring) {
    key_ring_cache* cache = key_ring_cache::local();
    if (cache != nullptr) {
      key_ring_cache::slot* cached = cache->find(ring->id);
      if (cached != nullptr && cached->value.current_for(*ring)) {
        ++cached->pins;
        slot_ = cached;
        ring_ = cached->value.snapshot.get();
        return;
      }
    }
    load(cache, ring);
  }

  key_ring_lease(const key_ring_lease&) = delete;
  key_ring_lease& operator=(const key_ring_lease&) = delete;
  ~key_ring_lease() {
    if (slot_ != nullptr) --slot_->pins;
  }

  const key_ring_snapshot& operator*() const noexcept { return *ring_; }
  const key_ring_snapshot* operator->() const noexcept { return ring_; }

 private:
  // The constructor when this thread has no current snapshot of ring (or no cache: nullptr): loads
  // it and keeps it in the cache if a slot may change. Apart from the constructor's hit path so
  // that the hit path stays small enough to be inlined.
  void load(key_ring_cache* cache, const std::shared_ptr<key_ring_shared>& ring) {
    auto [generation, snapshot] = ring->load();
    key_ring_cached loaded{generation, std::move(snapshot)};
    if (cache != nullptr) slot_ = cache->install(ring, loaded);
    if (slot_ != nullptr) {
      // loaded now holds what the slot held before: it is released on return, when the slot is
      // already pinned.
      ++slot_->pins;
      ring_ = slot_->value.snapshot.get();
    } else {
      owned_ = std::move(loaded.snapshot);  // no slot could hold it
      ring_ = owned_.get();
    }
  }

  key_ring_cache::slot* slot_ = nullptr;
  std::shared_ptr<const key_ring_snapshot> owned_;  // only when no slot could hold the snapshot
  const key_ring_snapshot* ring_ = nullptr;
};

}  // namespace detail

class KeyRing {
 public:
  // The primary key signs; the others verify only. Throws std::invalid_argument when the keys
  // break the rules above.
  explicit KeyRing(AnyKey primary, const std::vector<AnyKey>& verify_only = {});

  // A ring from a JWK Set, every key imported with options (see tegata/keys/jwk.hpp). The
  // primary is the key whose kid is primary_kid, or the first key when primary_kid is empty.
  // With options.operation == sign only the primary is imported with its private part (it must
  // have one); the others are imported as public keys. Errors: those of import_jwk, malformed
  // (no "keys" array), not_found (no keys), too_large (more than options.max_keys keys, refused
  // before any key is looked at), unknown_key (no key has primary_kid), invalid_argument (the
  // keys break the ring's rules). Never throws.
  static Result<KeyRing> from_jwks(const nlohmann::json& jwks, const keys::JwkOptions& options = {},
                                   std::string_view primary_kid = {}) noexcept;

  // A handle: copies share the ring. There are no move operations, so a KeyRing is never empty.
  KeyRing(const KeyRing&) noexcept = default;
  KeyRing& operator=(const KeyRing&) noexcept = default;
  ~KeyRing() = default;

  // --- Signer ---------------------------------------------------------------------------------

  // Signs with the primary key; alg, kid and key come from the same snapshot. Errors:
  // key_cannot_sign (the primary is a public key), invalid_argument (typ or the primary's kid is
  // not UTF-8), crypto_failure.
  Result<std::string> sign(TokenType typ, std::string_view payload) const {
    const detail::key_ring_lease ring(shared_);
    return detail::sign_with_key(ring->keys[ring->primary], typ, payload);
  }

  // See the table at the top of this file.
  std::error_code verify(const jws::Parsed& token) const {
    const detail::key_ring_lease ring(shared_);
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
  void add(AnyKey key);

  // Makes the key with this kid the one that signs. It must be able to sign.
  void promote(std::string_view kid);

  // Removes the key with this kid: tokens it signed stop verifying (unknown_key). The primary
  // cannot be retired; promote another key first.
  void retire(std::string_view kid);

  // --- Inspection (each answer is one snapshot; a concurrent rotation may follow it) ----------

  AnyKey primary() const;
  std::string primary_kid() const { return std::string(primary().kid()); }

  std::optional<AnyKey> find(std::string_view kid) const;
  bool contains(std::string_view kid) const { return snapshot()->index_of(kid) != detail::kNoKey; }

  // Every key, the primary first.
  std::vector<AnyKey> keys() const;
  std::size_t size() const { return snapshot()->keys.size(); }

  // The JWKS to publish: every key of the ring, the primary first. not_supported for a ring of
  // HMAC secrets, which have no public form.
  Result<nlohmann::json> public_jwks() const { return keys::public_jwks(keys()); }

 private:
  // For inspection, which is not on the hot path: a snapshot of its own, kept as long as needed.
  std::shared_ptr<const detail::key_ring_snapshot> snapshot() const {
    return shared_->load().second;
  }

  static std::size_t existing(const detail::key_ring_snapshot& ring, std::string_view kid);

  // Copies the current snapshot, applies change, checks the result and publishes it. The
  // snapshot replaced is released after the locks, since its keys' destructors run then.
  template <class Change>
  void rotate(Change&& change) {
    std::shared_ptr<const detail::key_ring_snapshot> replaced;
    {
      const std::lock_guard<std::mutex> lock(shared_->rotation);
      auto next = std::make_shared<detail::key_ring_snapshot>(*snapshot());
      std::forward<Change>(change)(*next);
      detail::check_ring(*next);
      replaced = shared_->publish(std::move(next));
    }
  }

  // from_jwks but for its exception barrier.
  static Result<KeyRing> import_ring(const nlohmann::json& jwks, const keys::JwkOptions& options,
                                     std::string_view primary_kid);

  // The kid a JWKS entry will have once imported with options: its "kid" member, or its
  // thumbprint when options ask for one. Empty when there is none (or the entry is invalid:
  // its import reports why).
  static std::string declared_kid(const nlohmann::json& entry, const keys::JwkOptions& options);

  std::shared_ptr<detail::key_ring_shared> shared_;
};

static_assert(Signer<KeyRing>);

}  // namespace tegata

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/keys/key_ring_inl.hpp"
#endif
