// tegata/detail/pkey.hpp - what the RSA, ECDSA and EdDSA key classes share: facts about an
// EVP_PKEY, OpenSSL error-queue hygiene, and the prepared EVP_DigestSign/EVP_DigestVerify engine.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/algorithm.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/openssl.hpp"

namespace tegata::detail {

using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;

// OpenSSL reports failures on a thread-local error queue. A rejected signature or a refused key
// is an ordinary outcome for tegata, reported through errc; leaving OpenSSL's entries behind
// would make them show up later in the application's own error handling. This scope removes
// whatever was queued while it was alive and leaves older entries alone.
class openssl_error_scope {
 public:
  openssl_error_scope() noexcept { ERR_set_mark(); }
  ~openssl_error_scope() { ERR_pop_to_mark(); }
  openssl_error_scope(const openssl_error_scope&) = delete;
  openssl_error_scope& operator=(const openssl_error_scope&) = delete;
};

// Whether key holds a private part. The parameter is queried with a null buffer, so OpenSSL
// only reports its size and no copy of the secret is ever made.
bool has_private_key(const EVP_PKEY* key) noexcept;

// The size of the key in bits (the modulus for RSA), 0 when unknown.
inline int key_bits(const EVP_PKEY* key) noexcept {
  return key == nullptr ? 0 : EVP_PKEY_get_bits(key);
}

// The named curve of an EC key as OpenSSL spells it (e.g. "prime256v1"), empty when the key has
// no named curve (explicit parameters that match no known curve) or is not an EC key.
std::string curve_name(const EVP_PKEY* key);

// The OpenSSL digest behind a JWS algorithm; nullptr for EdDSA, which hashes internally.
constexpr const char* digest_name(Algorithm alg) noexcept {
  switch (alg) {
    case Algorithm::HS256:
    case Algorithm::RS256:
    case Algorithm::PS256:
    case Algorithm::ES256:
    case Algorithm::ES256K: return "SHA256";
    case Algorithm::HS384:
    case Algorithm::RS384:
    case Algorithm::PS384:
    case Algorithm::ES384: return "SHA384";
    case Algorithm::HS512:
    case Algorithm::RS512:
    case Algorithm::PS512:
    case Algorithm::ES512: return "SHA512";
    case Algorithm::EdDSA:
    case Algorithm::Ed25519:
    case Algorithm::Ed448: return nullptr;
  }
  return nullptr;
}

// The digest fetched once per key and kept, so no operation repeats the provider lookup.
evp_md_ptr fetch_digest(Algorithm alg);

// One key bound to one signature scheme, with the EVP_DigestSign/EVP_DigestVerify contexts
// initialised once at construction (key, digest, and for RSASSA-PSS the padding, the salt length
// fixed to the hash length and MGF1 over the same hash).
//
// Thread safety: after construction nothing here is modified. Every operation copies a prepared
// template into a context of its own (EVP_MD_CTX_copy_ex only reads its source), so concurrent
// callers share the EVP_PKEY, which OpenSSL 3 allows, and nothing else. Should an OpenSSL build
// be unable to copy these contexts (checked once, here), each operation initialises a fresh
// context instead: slower by the provider lookup, equally correct.
class evp_signature {
 public:
  // md is null for EdDSA. Throws std::invalid_argument when OpenSSL refuses the key for the
  // scheme, std::runtime_error when it cannot allocate.
  evp_signature(evp_pkey_ptr key, evp_md_ptr md, bool pss)
      : key_(std::move(key)), md_(std::move(md)), pss_(pss) {
    if (!key_) throw std::invalid_argument("tegata: no key was given");
    const openssl_error_scope errors;
    max_size_ = static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()));
    verify_template_ = make_template(false);
    if (has_private_key(key_.get())) sign_template_ = make_template(true);
    copyable_ = copies(verify_template_.get()) && (!sign_template_ || copies(sign_template_.get()));
  }

  EVP_PKEY* key() const noexcept { return key_.get(); }
  bool can_sign() const noexcept { return sign_template_ != nullptr; }
  // An upper bound of the signature size in OpenSSL's encoding (DER for ECDSA).
  std::size_t max_signature_size() const noexcept { return max_size_; }

  // Signs data into out, which holds max_signature_size() bytes; length receives the size.
  bool sign(std::string_view data, unsigned char* out, std::size_t& length) const noexcept {
    if (!can_sign()) return false;
    const openssl_error_scope errors;
    const evp_md_ctx_ptr ctx = begin(true);
    length = max_size_;
    return ctx && EVP_DigestSign(ctx.get(), out, &length, bytes(data), data.size()) == 1;
  }

  bool verify(std::string_view data, const unsigned char* signature,
              std::size_t length) const noexcept {
    const openssl_error_scope errors;
    const evp_md_ctx_ptr ctx = begin(false);
    return ctx && EVP_DigestVerify(ctx.get(), signature, length, bytes(data), data.size()) == 1;
  }

 private:
  static const unsigned char* bytes(std::string_view data) noexcept {
    static constexpr unsigned char empty = 0;
    return data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  }

  bool initialise(EVP_MD_CTX* ctx, bool signing) const noexcept {
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    const int ok = signing ? EVP_DigestSignInit(ctx, &pctx, md_.get(), nullptr, key_.get())
                           : EVP_DigestVerifyInit(ctx, &pctx, md_.get(), nullptr, key_.get());
    if (ok != 1) return false;
    if (!pss_) return true;
    // RFC 7518 §3.5: salt as long as the hash, MGF1 with the same hash. On verification the
    // salt length is enforced, never recovered from the signature.
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_.get()) == 1;
  }

  evp_md_ctx_ptr make_template(bool signing) const {
    evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::runtime_error("tegata: cannot allocate an OpenSSL digest context");
    if (!initialise(ctx.get(), signing)) {
      throw std::invalid_argument(signing ? "tegata: OpenSSL refuses this key for signing"
                                          : "tegata: OpenSSL refuses this key for verification");
    }
    return ctx;
  }

  static bool copies(const EVP_MD_CTX* prepared) noexcept {
    const evp_md_ctx_ptr probe(EVP_MD_CTX_new());
    return probe && EVP_MD_CTX_copy_ex(probe.get(), prepared) == 1;
  }

  evp_md_ctx_ptr begin(bool signing) const noexcept {
    evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx) return ctx;
    const EVP_MD_CTX* prepared = signing ? sign_template_.get() : verify_template_.get();
    const bool ready =
        copyable_ ? EVP_MD_CTX_copy_ex(ctx.get(), prepared) == 1 : initialise(ctx.get(), signing);
    if (!ready) ctx.reset();
    return ctx;
  }

  evp_pkey_ptr key_;
  evp_md_ptr md_;
  bool pss_ = false;
  bool copyable_ = false;
  std::size_t max_size_ = 0;
  evp_md_ctx_ptr verify_template_;
  evp_md_ctx_ptr sign_template_;  // null for a public key
};

}  // namespace tegata::detail

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/pkey_inl.hpp"
#endif
