// tegata/keys/key_ring_inl.hpp - the definitions of tegata/keys/key_ring.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/keys/key_ring.hpp"

namespace tegata {

TEGATA_INLINE void detail::check_ring(const key_ring_snapshot& ring) {
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

TEGATA_INLINE KeyRing::KeyRing(AnyKey primary, const std::vector<AnyKey>& verify_only)
    : shared_(std::make_shared<detail::key_ring_shared>()) {
  auto first = std::make_shared<detail::key_ring_snapshot>();
  first->keys.reserve(1 + verify_only.size());
  first->keys.push_back(std::move(primary));
  first->keys.insert(first->keys.end(), verify_only.begin(), verify_only.end());
  detail::check_ring(*first);
  shared_->publish(std::move(first));
}

TEGATA_INLINE Result<KeyRing> KeyRing::from_jwks(const nlohmann::json& jwks,
                                                 const keys::JwkOptions& options,
                                                 std::string_view primary_kid) noexcept {
  // The constructor throws std::invalid_argument for keys that break the ring's rules.
  return detail::exception_barrier([&] { return import_ring(jwks, options, primary_kid); });
}

TEGATA_INLINE void KeyRing::add(AnyKey key) {
  rotate([&](detail::key_ring_snapshot& next) { next.keys.push_back(std::move(key)); });
}

TEGATA_INLINE void KeyRing::promote(std::string_view kid) {
  rotate([&](detail::key_ring_snapshot& next) {
    const std::size_t index = existing(next, kid);
    if (!next.keys[index].can_sign()) {
      throw std::invalid_argument("tegata: a KeyRing cannot promote a key that cannot sign");
    }
    next.primary = index;
  });
}

TEGATA_INLINE void KeyRing::retire(std::string_view kid) {
  rotate([&](detail::key_ring_snapshot& next) {
    const std::size_t index = existing(next, kid);
    if (index == next.primary) {
      throw std::invalid_argument("tegata: the primary key of a KeyRing cannot be retired");
    }
    next.keys.erase(next.keys.begin() + static_cast<std::ptrdiff_t>(index));
    if (index < next.primary) --next.primary;
  });
}

TEGATA_INLINE AnyKey KeyRing::primary() const {
  const auto ring = snapshot();
  return ring->keys[ring->primary];
}

TEGATA_INLINE std::optional<AnyKey> KeyRing::find(std::string_view kid) const {
  const auto ring = snapshot();
  const std::size_t index = ring->index_of(kid);
  if (index == detail::kNoKey) return std::nullopt;
  return ring->keys[index];
}

TEGATA_INLINE std::vector<AnyKey> KeyRing::keys() const {
  const auto ring = snapshot();
  std::vector<AnyKey> out;
  out.reserve(ring->keys.size());
  out.push_back(ring->keys[ring->primary]);
  for (std::size_t i = 0; i < ring->keys.size(); ++i) {
    if (i != ring->primary) out.push_back(ring->keys[i]);
  }
  return out;
}

TEGATA_INLINE std::size_t KeyRing::existing(const detail::key_ring_snapshot& ring,
                                            std::string_view kid) {
  const std::size_t index = ring.index_of(kid);
  if (index == detail::kNoKey) {
    throw std::invalid_argument("tegata: the KeyRing has no key with this kid");
  }
  return index;
}

TEGATA_INLINE Result<KeyRing> KeyRing::import_ring(const nlohmann::json& jwks,
                                                   const keys::JwkOptions& options,
                                                   std::string_view primary_kid) {
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
}

TEGATA_INLINE std::string KeyRing::declared_kid(const nlohmann::json& entry,
                                                const keys::JwkOptions& options) {
  if (!entry.is_object()) return {};
  const auto kid = entry.find("kid");
  if (kid != entry.end() && kid->is_string() && !kid->get_ref<const std::string&>().empty()) {
    return kid->get_ref<const std::string&>();
  }
  if (!options.kid_from_thumbprint) return {};
  auto thumbprint = keys::thumbprint_sha256(entry);
  return thumbprint ? std::move(*thumbprint) : std::string();
}

}  // namespace tegata
