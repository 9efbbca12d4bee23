// tegata/jws.hpp - JWS compact serialization (RFC 7515 §7.1): split and parse, and everything of
// jws/compact.hpp (the token types and the writing of a token), which needs no JSON reader.
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
#include <initializer_list>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "tegata/base64url.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"

namespace tegata::jws {

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
std::error_code read_header(const tegata::detail::json_document& object, Header& header);

// The strict reader's bounds for a header: the depth limit and kMaxHeaderMembers.
constexpr tegata::detail::json_limits header_json_limits(std::size_t max_depth) noexcept {
  return {.max_depth = max_depth, .max_members = kMaxHeaderMembers};
}

// parse_header, writing into header (reused storage: no allocation for short values).
std::error_code parse_header_into(std::string_view json_text, std::size_t max_depth,
                                  Header& header);

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
Result<Header> parse_header(std::string_view json_text, std::size_t max_depth = 16);

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
// omitted when empty. Throws nlohmann::json::type_error, as nlohmann's serializer does, when one
// of them is not UTF-8 (Signers, which report errors rather than throw, use detail::append_header
// of jws/compact.hpp, which answers false instead).
std::string make_header(std::string_view alg, std::string_view kid, std::string_view typ);

}  // namespace tegata::jws

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/jws_inl.hpp"
#endif
