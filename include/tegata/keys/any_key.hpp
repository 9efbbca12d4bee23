// tegata/keys/any_key.hpp - one handle type for every kind of key.
//
// HmacKey, RsaKey, EcdsaKey and EddsaKey are distinct types, so code that holds keys of several
// families at once (a JWKS, a KeyRing, the CLI) needs a common type. AnyKey is that type: it
// erases the concrete key, keeps the Key interface, and is itself a Key and a Signer, so it can
// be passed wherever a key is expected.
//
// An AnyKey is immutable and never empty. Copies share the same key object, so copying is cheap
// (one reference count) and every copy may be used from many threads at once, provided the
// wrapped key type allows that (all of tegata's do).
//
// The key material of a wrapped key is reachable in two ways only: native_handle() (the
// OpenSSL key of an asymmetric key, as the concrete classes also expose it) and the JWK export
// functions of tegata/keys/jwk.hpp, which is where private material is deliberately exported.
#pragma once

#include <openssl/evp.h>

#include <concepts>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "tegata/algorithm.hpp"
#include "tegata/detail/exception_barrier.hpp"
#include "tegata/detail/openssl.hpp"
#include "tegata/error.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/signer.hpp"

namespace tegata {

class AnyKey;

namespace detail {

// The erased interface. Implementations are immutable after construction.
class any_key_base {
 public:
  any_key_base() = default;
  any_key_base(const any_key_base&) = delete;
  any_key_base& operator=(const any_key_base&) = delete;
  virtual ~any_key_base() = default;

  virtual Algorithm algorithm() const noexcept = 0;
  virtual std::string_view kid() const noexcept = 0;
  virtual bool can_sign() const noexcept = 0;
  virtual Result<std::string> sign_raw(std::string_view data) const = 0;
  virtual bool verify_raw(std::string_view data, std::string_view signature) const = 0;
  // The OpenSSL key of an asymmetric key; nullptr for HMAC secrets and foreign key types.
  virtual EVP_PKEY* native_handle() const noexcept = 0;
  // The raw secret of an HMAC key; empty for every other key.
  virtual std::string_view secret() const noexcept = 0;
  // The same key material under another kid, or nullptr when the key type cannot be rebuilt.
  virtual std::shared_ptr<const any_key_base> rebind_kid(std::string kid) const = 0;
  virtual const void* target(const std::type_info& type) const noexcept = 0;
};

// Exactly the accessor shapes that can be forwarded without risk of a dangling view: a key type
// whose secret() or native_handle() returns anything else is treated as having neither.
template <class K>
concept key_with_secret = requires(const K& key) {
  { key.secret() } -> std::same_as<std::string_view>;
};

template <class K>
concept key_with_native_handle = requires(const K& key) {
  { key.native_handle() } -> std::same_as<EVP_PKEY*>;
};

template <Key K>
class any_key_model final : public any_key_base {
 public:
  explicit any_key_model(K key)
      : key_(std::move(key)),
        // Copied once: the Key concept allows kid() to return a temporary, which a view returned
        // by this class must never point into.
        kid_(std::string_view(key_.kid())),
        algorithm_(key_.algorithm()) {}

  Algorithm algorithm() const noexcept override { return algorithm_; }
  std::string_view kid() const noexcept override { return kid_; }
  bool can_sign() const noexcept override { return key_.can_sign(); }

  Result<std::string> sign_raw(std::string_view data) const override { return key_.sign_raw(data); }

  bool verify_raw(std::string_view data, std::string_view signature) const override {
    return key_.verify_raw(data, signature);
  }

  EVP_PKEY* native_handle() const noexcept override {
    if constexpr (key_with_native_handle<K>) {
      return key_.native_handle();
    } else {
      return nullptr;
    }
  }

  std::string_view secret() const noexcept override {
    if constexpr (key_with_secret<K>) {
      return key_.secret();
    } else {
      return {};
    }
  }

  std::shared_ptr<const any_key_base> rebind_kid(std::string kid) const override {
    if constexpr (key_with_secret<K> &&
                  std::constructible_from<K, Algorithm, std::string_view, std::string>) {
      return std::make_shared<const any_key_model>(K(algorithm_, key_.secret(), std::move(kid)));
    } else if constexpr (key_with_native_handle<K> &&
                         std::constructible_from<K, Algorithm, KeyHandle, std::string>) {
      return std::make_shared<const any_key_model>(K(algorithm_, shared_pkey(), std::move(kid)));
    } else if constexpr (key_with_native_handle<K> &&
                         std::constructible_from<K, KeyHandle, std::string>) {
      return std::make_shared<const any_key_model>(K(shared_pkey(), std::move(kid)));
    } else {
      return nullptr;
    }
  }

  const void* target(const std::type_info& type) const noexcept override {
    return type == typeid(K) ? &key_ : nullptr;
  }

 private:
  // A second owning reference to the same immutable OpenSSL key.
  KeyHandle shared_pkey() const {
    EVP_PKEY* pkey = key_.native_handle();
    if (pkey == nullptr || EVP_PKEY_up_ref(pkey) != 1) {
      throw std::runtime_error("tegata: cannot share an OpenSSL key");
    }
    return KeyHandle(pkey);
  }

  K key_;
  std::string kid_;
  Algorithm algorithm_;
};

// The one door to an HMAC key's secret, used by the private JWK export.
struct any_key_access {
  static std::string_view secret(const AnyKey& key) noexcept;
};

}  // namespace detail

class AnyKey : public detail::single_key_signer<AnyKey> {
 public:
  // Wraps any key. Implicit on purpose, like std::function: a vector<AnyKey> or a KeyRing can
  // then be filled with HmacKey, RsaKey, EcdsaKey or EddsaKey values directly.
  template <Key K>
  requires(!std::same_as<std::remove_cvref_t<K>, AnyKey>)
      AnyKey(K key)  // NOLINT(google-explicit-constructor)
      : impl_(std::make_shared<const detail::any_key_model<K>>(std::move(key))) {}

  // No move operations: a moved-from AnyKey would be empty, and an AnyKey is never empty.
  // Copying costs one atomic increment.
  AnyKey(const AnyKey&) noexcept = default;
  AnyKey& operator=(const AnyKey&) noexcept = default;
  ~AnyKey() = default;

  Algorithm algorithm() const noexcept { return impl_->algorithm(); }
  std::string_view kid() const noexcept { return impl_->kid(); }
  // False for a public key, which only verifies.
  bool can_sign() const noexcept { return impl_->can_sign(); }
  // An HMAC key: anyone who can verify can also sign. Never mixed with asymmetric keys in a
  // KeyRing, so that a public key can never be mistaken for a MAC secret.
  bool is_symmetric() const noexcept { return is_hmac(algorithm()); }

  Result<std::string> sign_raw(std::string_view data) const { return impl_->sign_raw(data); }
  bool verify_raw(std::string_view data, std::string_view signature) const {
    return impl_->verify_raw(data, signature);
  }

  // The OpenSSL key behind an asymmetric key, for export and inspection; nullptr for HMAC keys.
  // The key is shared by every copy: do not modify it.
  EVP_PKEY* native_handle() const noexcept { return impl_->native_handle(); }

  // The wrapped key if it is a K, like std::function::target; nullptr otherwise.
  template <class K>
  const K* target() const noexcept {
    return static_cast<const K*>(impl_->target(typeid(K)));
  }

  // The same key material under another kid (keys are immutable, so this is a new key).
  // not_supported for a foreign key type that tegata cannot rebuild.
  Result<AnyKey> with_kid(std::string kid) const noexcept {
    return detail::exception_barrier([&]() -> Result<AnyKey> {
      auto rebound = impl_->rebind_kid(std::move(kid));
      if (!rebound) return errc::not_supported;
      return AnyKey(std::move(rebound));
    });
  }

 private:
  friend struct detail::any_key_access;
  explicit AnyKey(std::shared_ptr<const detail::any_key_base> impl) noexcept
      : impl_(std::move(impl)) {}

  std::shared_ptr<const detail::any_key_base> impl_;
};

static_assert(Key<AnyKey>);
static_assert(Signer<AnyKey>);

inline std::string_view detail::any_key_access::secret(const AnyKey& key) noexcept {
  return key.impl_->secret();
}

}  // namespace tegata
