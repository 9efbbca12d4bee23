// tegata/jws/compact.hpp - the JWS compact serialization (RFC 7515 §7.1) without a JSON reader:
// the types a token is parsed into (Limits, Header, SignatureBytes, Parsed) and the writing of a
// token (its protected header, signing input and compact form).
//
// This is all that signing and verifying need, so signer.hpp and the key classes include this
// header and no JSON library. Parsing a token reads JSON (the flat reader, and nlohmann_json
// behind it) and is jws.hpp's, which includes this one.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/json_string.hpp"

namespace tegata::jws {

// Bounds on the work one token can cause, each checked before the work it bounds; a token over
// any of them is refused with errc::too_large (errc::too_deep for the depth). Validator refuses
// a zero bound and a depth above kMaxJsonDepth at construction.
struct Limits {
  // The whole token, checked before anything else is looked at.
  std::size_t max_token_bytes = 8192;
  // The header segment as received (base64url), checked right after the token is split on its
  // dots, before it is decoded or looked up in the header cache. Above max_token_bytes it is
  // never the one that refuses.
  std::size_t max_header_bytes = 1024;
  // Open objects and arrays in the header and in the claims, the top-level object included.
  std::size_t max_json_depth = 16;
  // Members of the claims object (members of nested objects are bounded by the token's size
  // only). The strict reader counts them as it reads and stops at the first one over the bound,
  // before the rest of the DOM is built; the flat reader never holds more than 32.
  std::size_t max_claims = 64;
};

// Members of the header object. Fixed rather than an option: a real header holds a handful of
// registered parameters (tegata writes three), far below it.
inline constexpr std::size_t kMaxHeaderMembers = 32;

// The deepest max_json_depth a Validator accepts. Readers of the claims copy nested values
// recursively, so an unbounded depth would be a stack bound in disguise; no real token nests
// more than a few levels.
inline constexpr std::size_t kMaxJsonDepth = 256;

// The protected header members tegata acts on.
struct Header {
  std::string alg;
  std::string typ;  // empty when absent (has_typ tells the difference)
  std::string kid;  // empty when absent
  bool has_typ = false;
  bool has_kid = false;
};

// Decoded signature bytes. Every HMAC, ECDSA and EdDSA signature fits inline, so parsing one
// needs no heap; longer ones (RSA) are held on the heap. Reads like a std::string_view.
class SignatureBytes {
 public:
  static constexpr std::size_t kInlineCapacity = 136;  // ES512: 132 bytes, Ed448: 114

  SignatureBytes() noexcept = default;
  explicit SignatureBytes(std::string_view bytes) { assign(bytes); }
  SignatureBytes(const SignatureBytes& other) { assign(other.view()); }
  SignatureBytes& operator=(const SignatureBytes& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  SignatureBytes(SignatureBytes&& other) noexcept { take(other); }
  SignatureBytes& operator=(SignatureBytes&& other) noexcept {
    if (this != &other) take(other);
    return *this;
  }
  ~SignatureBytes() = default;

  // Decodes strict base64url text; false (and empty) when it is not.
  bool assign_base64url(std::string_view text) {
    const std::size_t n = tegata::detail::base64url_decoded_size(text.size());
    if (n == static_cast<std::size_t>(-1)) return clear_false();
    char* out = storage(n);
    if (!tegata::detail::base64url_decode_fast(text, out)) return clear_false();
    size_ = n;
    return true;
  }

  const char* data() const noexcept { return heap_ ? heap_.get() : inline_.data(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {data(), size_}; }
  operator std::string_view() const noexcept {
    return view();
  }  // NOLINT(google-explicit-constructor)

  friend bool operator==(const SignatureBytes& a, std::string_view b) noexcept {
    return a.view() == b;
  }

 private:
  char* storage(std::size_t n) {
    size_ = 0;
    if (n <= kInlineCapacity) {
      heap_.reset();
      return inline_.data();
    }
    heap_ = std::make_unique_for_overwrite<char[]>(n);
    return heap_.get();
  }
  void assign(std::string_view bytes) {
    char* out = storage(bytes.size());
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    size_ = bytes.size();
  }
  void take(SignatureBytes& other) noexcept {
    heap_ = std::move(other.heap_);
    if (!heap_ && other.size_ != 0) std::memcpy(inline_.data(), other.inline_.data(), other.size_);
    size_ = other.size_;
    other.size_ = 0;
  }
  bool clear_false() noexcept {
    size_ = 0;
    return false;
  }

  std::unique_ptr<char[]> heap_;
  std::size_t size_ = 0;
  std::array<char, kInlineCapacity> inline_;  // only the first size_ bytes are meaningful
};

// A parsed compact JWS whose signature has NOT been checked yet. The views point into the
// caller's token, which must outlive this object.
struct Parsed {
  Header header;
  std::string_view signing_input;    // "BASE64URL(header).BASE64URL(payload)", exactly as received
  std::string_view encoded_payload;  // second segment, still base64url
  SignatureBytes signature;          // decoded signature bytes
};

namespace detail {

// The protected header tegata writes, appended to out: {"alg":..,"kid":..,"typ":..} in that
// order, kid and typ omitted when empty; the bytes nlohmann_json's dump() would write. False, with
// out as it was, when one of the three is not UTF-8 (JSON cannot carry it).
inline bool append_header(std::string& out, std::string_view alg, std::string_view kid,
                          std::string_view typ) {
  const std::size_t start = out.size();
  out.reserve(start + 32 + alg.size() + kid.size() + typ.size());
  out.append(std::string_view(R"({"alg":)"));
  bool ok = tegata::detail::try_append_json_string(out, alg);
  if (ok && !kid.empty()) {
    out.append(std::string_view(R"(,"kid":)"));
    ok = tegata::detail::try_append_json_string(out, kid);
  }
  if (ok && !typ.empty()) {
    out.append(std::string_view(R"(,"typ":)"));
    ok = tegata::detail::try_append_json_string(out, typ);
  }
  if (!ok) {
    out.resize(start);
    return false;
  }
  out.push_back('}');
  return true;
}

}  // namespace detail

// "BASE64URL(header).BASE64URL(payload)", ready to be signed.
inline std::string make_signing_input(std::string_view header_json, std::string_view payload) {
  std::string out;
  out.reserve(tegata::detail::base64url_encoded_size(header_json.size()) + 1 +
              tegata::detail::base64url_encoded_size(payload.size()) + 128);
  tegata::detail::base64url_append_fast(header_json, out);
  out.push_back('.');
  tegata::detail::base64url_append_fast(payload, out);
  return out;
}

// Appends ".BASE64URL(signature)" to a signing input, giving the compact serialization.
inline std::string finish_compact(std::string signing_input, std::string_view signature) {
  signing_input.push_back('.');
  tegata::detail::base64url_append_fast(signature, signing_input);
  return signing_input;
}

}  // namespace tegata::jws
