// tegata/jws.hpp - JWS compact serialization (RFC 7515 §7.1): split, parse, serialize.
//
// Parsing checks only what can be checked without a key: the size limits (before any decoding),
// exactly three segments, strict base64url, a strict JSON header object with a string "alg",
// string "typ"/"kid" when present, and "crit". Nothing here trusts the header's alg: the key
// chosen by the Signer decides the algorithm.
//
// Parsing runs on every request, so it allocates nothing for the common token. A header this
// thread has parsed before comes from a small per-thread cache of results (header_cache); a new
// one is decoded into a stack buffer and read by the flat reader of detail/fast_json.hpp (the
// strict nlohmann_json reader decides whatever that reader defers). The signature is decoded
// into storage inside Parsed. The payload is only checked (or decoded into the caller's buffer,
// for the SessionManager), never interpreted here. The exceptions: a kid longer than
// std::string's inline capacity (15 bytes in libstdc++), an RSA signature, and the first sight
// of a header by a thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/detail/json_writer.hpp"
#include "tegata/error.hpp"

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

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Header parameters whose meaning tegata implements and which may therefore appear in "crit".
// There are none: b64=false (RFC 7797) and others are refused when marked critical.
constexpr bool understood_critical(std::string_view /*name*/) noexcept { return false; }

// Decoded bytes held on the stack when they fit in N bytes, on the heap otherwise.
template <std::size_t N>
class decode_buffer {
 public:
  decode_buffer() noexcept {}  // NOLINT: the inline bytes are written before they are read
  decode_buffer(const decode_buffer&) = delete;
  decode_buffer& operator=(const decode_buffer&) = delete;

  // Decodes strict base64url text. False when it is not.
  bool decode(std::string_view text) {
    const std::size_t n = tegata::detail::base64url_decoded_size(text.size());
    if (n == static_cast<std::size_t>(-1)) return false;
    char* out = inline_;
    if (n > N) {
      heap_ = std::make_unique_for_overwrite<char[]>(n);
      out = heap_.get();
    }
    if (!tegata::detail::base64url_decode_fast(text, out)) return false;
    view_ = std::string_view(out, n);
    return true;
  }
  std::string_view view() const noexcept { return view_; }

 private:
  std::unique_ptr<char[]> heap_;
  std::string_view view_;
  char inline_[N];
};

// Reads the header members, in the order the errors are reported: alg, typ, kid, crit.
inline std::error_code read_header(const tegata::detail::json_document& object, Header& header) {
  using tegata::detail::member_name;
  const auto alg = object.find(member_name::alg);
  if (!alg || !alg->is_string() || alg->string().empty()) return errc::malformed;
  header.alg.assign(alg->string());
  if (iequals(header.alg, "none")) return errc::unsupported_algorithm;
  const auto read_optional_string = [&](member_name name, std::string& out, bool& present) {
    const auto value = object.find(name);
    if (!value) return true;
    if (!value->is_string()) return false;
    out.assign(value->string());
    present = true;
    return true;
  };
  if (!read_optional_string(member_name::typ, header.typ, header.has_typ) ||
      !read_optional_string(member_name::kid, header.kid, header.has_kid)) {
    return errc::malformed;
  }
  const auto crit = object.find(member_name::crit);
  if (!crit) return {};
  // RFC 7515 §4.1.11: a non-empty array of names.
  std::error_code result;
  const bool is_array = crit->visit_strings([&](std::optional<std::string_view> name) {
    if (!name) {
      result = errc::malformed;
    } else if (!understood_critical(*name)) {
      result = errc::unsupported_critical;
    }
    return !result;
  });
  if (!is_array || crit->array_size() == 0) return errc::malformed;
  return result;
}

// The strict reader's bounds for a header: the depth limit and kMaxHeaderMembers.
constexpr tegata::detail::json_limits header_json_limits(std::size_t max_depth) noexcept {
  return {.max_depth = max_depth, .max_members = kMaxHeaderMembers};
}

// parse_header, writing into header (reused storage: no allocation for short values).
inline std::error_code parse_header_into(std::string_view json_text, std::size_t max_depth,
                                         Header& header) {
  header.alg.clear();
  header.typ.clear();
  header.kid.clear();
  header.has_typ = false;
  header.has_kid = false;
  tegata::detail::json_object_storage object;
  if (auto ec =
          tegata::detail::read_json_object(json_text, header_json_limits(max_depth), object)) {
    return ec;
  }
  return read_header(object.document(), header);
}

// The headers a thread parsed last. A server sees the same few headers over and over (one per
// key and token type), and a header's parse depends only on its bytes and the depth limit, so a
// byte-identical segment gets the same Header without being decoded and read again. Only
// successful parses are kept, only of segments up to kMaxSegment bytes, kEntries of them per
// thread (replaced in turn): a few hundred bytes that hold nothing secret.
class header_cache {
 public:
  static constexpr std::size_t kEntries = 4;
  static constexpr std::size_t kMaxSegment = 256;

  const Header* find(std::string_view segment, std::size_t max_depth) const noexcept {
    for (const entry& e : entries_) {
      if (e.used && e.max_depth == max_depth && std::string_view(e.segment) == segment) {
        return &e.header;
      }
    }
    return nullptr;
  }

  void remember(std::string_view segment, std::size_t max_depth, const Header& header) noexcept {
    if (segment.size() > kMaxSegment) return;
    entry& e = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    e.used = false;
    try {
      e.segment.assign(segment);
      e.header = header;
    } catch (const std::bad_alloc&) {
      return;  // not remembered: the next token with this header is parsed again
    }
    e.max_depth = max_depth;
    e.used = true;
  }

 private:
  struct entry {
    bool used = false;
    std::size_t max_depth = 0;
    std::string segment;
    Header header;
  };
  std::array<entry, kEntries> entries_{};
  std::size_t next_ = 0;
};

inline header_cache& thread_header_cache() noexcept {
  thread_local header_cache cache;
  return cache;
}

// jws::parse, writing into out. When payload is given, the payload segment is decoded into it
// (which checks its encoding exactly as the check alone would); it is not interpreted.
template <class PayloadBuffer = decode_buffer<1>>
std::error_code parse_into(std::string_view token, const Limits& limits, Parsed& out,
                           PayloadBuffer* payload = nullptr) {
  if (token.size() > limits.max_token_bytes) return errc::too_large;
  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return errc::malformed;
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return errc::malformed;
  if (token.find('.', dot2 + 1) != std::string_view::npos) return errc::malformed;
  const std::string_view header_b64 = token.substr(0, dot1);
  if (header_b64.size() > limits.max_header_bytes) return errc::too_large;
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  // An empty payload is legal JWS; an empty header or signature never is for tegata.
  if (header_b64.empty() || signature_b64.empty()) return errc::malformed;

  header_cache& headers = thread_header_cache();
  if (const Header* known = headers.find(header_b64, limits.max_json_depth)) {
    out.header = *known;
  } else {
    decode_buffer<256> header_json;
    if (!header_json.decode(header_b64)) return errc::bad_encoding;
    if (auto ec = parse_header_into(header_json.view(), limits.max_json_depth, out.header)) {
      return ec;
    }
    headers.remember(header_b64, limits.max_json_depth, out.header);
  }
  if (!out.signature.assign_base64url(signature_b64)) return errc::bad_encoding;
  // Check the payload's encoding now so that a token with a bad payload segment is rejected as
  // malformed rather than as a bad signature.
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const bool payload_ok = payload != nullptr ? payload->decode(payload_b64)
                                             : tegata::detail::base64url_valid(payload_b64);
  if (!payload_ok) return errc::bad_encoding;
  out.signing_input = token.substr(0, dot2);
  out.encoded_payload = payload_b64;
  return {};
}

}  // namespace detail

// Parses a decoded header JSON text. Errors: bad_json, duplicate_member, too_deep, too_large
// (more than kMaxHeaderMembers members), malformed, unsupported_algorithm (alg "none" in any
// spelling), unsupported_critical.
inline Result<Header> parse_header(std::string_view json_text, std::size_t max_depth = 16) {
  Header header;
  if (auto ec = detail::parse_header_into(json_text, max_depth, header)) return ec;
  return header;
}

// Splits and parses a compact JWS. The payload is left encoded: it must not be interpreted
// before the signature has been verified.
inline Result<Parsed> parse(std::string_view token, const Limits& limits = {}) {
  Parsed parsed;
  if (auto ec = detail::parse_into(token, limits, parsed)) return ec;
  return parsed;
}

// Decodes the payload of a token whose signature has been verified.
inline Result<std::string> decode_payload(const Parsed& parsed) {
  return base64url_decode(parsed.encoded_payload);
}

// The protected header tegata writes: {"alg":..,"kid":..,"typ":..} in that order, kid and typ
// omitted when empty.
inline std::string make_header(std::string_view alg, std::string_view kid, std::string_view typ) {
  std::string header;
  header.reserve(32 + alg.size() + kid.size() + typ.size());
  header.append(std::string_view(R"({"alg":)"));
  tegata::detail::append_json_string(header, alg);
  if (!kid.empty()) {
    header.append(std::string_view(R"(,"kid":)"));
    tegata::detail::append_json_string(header, kid);
  }
  if (!typ.empty()) {
    header.append(std::string_view(R"(,"typ":)"));
    tegata::detail::append_json_string(header, typ);
  }
  header.push_back('}');
  return header;
}

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
