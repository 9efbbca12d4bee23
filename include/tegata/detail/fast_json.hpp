// tegata/detail/fast_json.hpp - a reader for the one JSON shape token headers and claims nearly
// always have, so that validation does not build a DOM for them.
//
// The shape: one flat object whose members are strings, non-negative integers, true, false,
// null, or arrays of strings (aud, crit). fast_parse_object reads exactly that subset and nothing
// more:
//  - strings (names and values) of printable ASCII (0x20..0x7E) without escapes, so the bytes
//    between the quotes are the string's value;
//  - integers of 1 to 19 digits without sign, fraction, exponent or leading zero (all fit in
//    std::uint64_t, as nlohmann_json reads them: number_unsigned);
//  - at most kFlatMaxMembers members, no name twice, arrays of strings only (at most
//    kFlatMaxStrings strings in all arrays together), the four JSON whitespace bytes wherever
//    JSON allows whitespace, nothing after the closing brace but whitespace.
// Every value is a view into the text: no allocation, no copy. Anything else (escapes, non-ASCII,
// DEL, floats, negative numbers, nested objects, arrays of other things, duplicate names, too
// many members, a depth limit below what the input needs) is `deferred`: the strict reader
// (parse_json_object) decides it. This reader never rejects what the strict reader could
// accept. It decides two kinds of text itself, because the strict reader's answer to them is
// certain, and always bad_json:
//  - `not_an_object`: the first byte after whitespace opens neither an object nor an array (or
//    there is none). The strict reader reads a scalar or a syntax error, and builds no container.
//  - `syntax_error`: text that is no JSON at all, found while everything before it was inside
//    the subset: the text ends before the object closes, a byte stands where JSON allows none
//    like it (e.g. a trailing comma, a missing ':', a leading zero, a misspelt literal, bytes
//    after the closing brace), or a string holds a raw control byte. The strict reader reports
//    errors in text order; up to that point it meets no duplicate name and no depth over the
//    limit (the subset has neither), so its first error is this one, unless the object already
//    has more members than the member bound (json_limits::max_members), which it refuses first
//    with too_large. So syntax_error is only returned while the names read are within the bound
//    the caller passes; above it the text is deferred. (A raw NUL anywhere makes the strict
//    reader say bad_json before it reads anything: the same answer.)
//
// tests/fuzz/claims_differential.cpp checks that whenever this reader accepts, the strict reader
// accepts and builds the same values with the same JSON types, and that whenever it says
// not_an_object or syntax_error, the strict reader says bad_json under the same limits.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tegata/detail/json_limits.hpp"
#include "tegata/detail/member_names.hpp"
#include "tegata/detail/swar.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tegata::detail {

inline constexpr std::size_t kFlatMaxMembers = 32;
inline constexpr std::size_t kFlatMaxStrings = 32;

// A view that, unlike std::string_view, is trivially default-constructible, so that the arrays
// of a flat_object cost nothing to create: only what the parser fills is ever read.
struct text_span {
  const char* data;
  std::size_t size;
  std::string_view view() const noexcept { return {data, size}; }
  static text_span of(std::string_view s) noexcept { return {s.data(), s.size()}; }
};

struct flat_value {
  enum class kind : std::uint8_t { string, number, boolean, null, string_array };
  kind type;
  bool boolean;          // kind::boolean
  std::uint8_t first;    // kind::string_array: its strings are the object's strings
  std::uint8_t count;    //   [first, first + count)
  std::uint64_t number;  // kind::number
  text_span text;        // kind::string: the value (no escapes, so the raw bytes)
};

struct flat_member {
  text_span name;
  member_name known;  // classify_member(name)
  flat_value value;
};

// What fast_parse_object made of a text (see the top of this file).
enum class fast_parse_result : std::uint8_t { accepted, not_an_object, syntax_error, deferred };

namespace fast_json {
class flat_reader;
}  // namespace fast_json

// A parsed flat object. Views point into the parsed text, which must outlive it. Its arrays are
// deliberately left uninitialised: only the first size() members are ever read.
class flat_object {
 public:
  std::size_t size() const noexcept { return size_; }
  const flat_member* begin() const noexcept { return members_.data(); }
  const flat_member* end() const noexcept { return members_.data() + size_; }

  const flat_value* find(member_name name) const noexcept {
    const std::uint8_t i = index_[static_cast<std::size_t>(name)];
    return i == kAbsent ? nullptr : &members_[i].value;
  }

  std::span<const text_span> strings(const flat_value& array) const noexcept {
    return {strings_.data() + array.first, array.count};
  }

 private:
  friend class fast_json::flat_reader;
  static constexpr std::uint8_t kAbsent = 0xFF;

  std::array<flat_member, kFlatMaxMembers> members_;
  std::array<text_span, kFlatMaxStrings> strings_;
  std::array<std::uint8_t, kMemberNameCount> index_;  // position of each known name, or kAbsent
  std::uint8_t size_ = 0;
  std::uint8_t string_count_ = 0;
};

namespace fast_json {

// The reader's pieces are forced inline into fast_parse_object, where the reader is a local
// object, so that its cursor lives in a register. Left to GCC 12's heuristics (-O3), the member
// loop stayed out of line, with the cursor in memory, reloaded after every store into the
// flat_object, and a claims object took more instructions than with the single function this
// reader replaced; inlined, fewer (benchmarks/README.md has the callgrind figures). Undefined at
// the end of this file.
#if defined(__GNUC__) || defined(__clang__)
#define TEGATA_FAST_JSON_INLINE [[gnu::always_inline]]
#else
#define TEGATA_FAST_JSON_INLINE
#endif

// What reading one piece of the text found: the piece, within the subset (ok); text that is no
// JSON whatever follows (invalid); or text outside the subset, for the strict reader (defer).
enum class step : std::uint8_t { ok, invalid, defer };

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline void skip_space(const char*& p, const char* end) noexcept {
  while (p != end && is_space(*p)) ++p;
}

// Whether a JSON value can start with c.
constexpr bool starts_value(char c) noexcept {
  return c == '"' || c == '-' || is_digit(c) || c == '{' || c == '[' || c == 't' || c == 'f' ||
         c == 'n';
}

// A string stopped at byte c, which is neither its closing quote nor plain. A control byte
// (below 0x20, NUL included) may not appear raw in a JSON string at all; '\\', DEL and bytes of
// 0x80 and above may (an escape, DEL itself, UTF-8), and the strict reader decides those.
constexpr step string_stopped_at(char c) noexcept {
  return static_cast<unsigned char>(c) < 0x20 ? step::invalid : step::defer;
}

// A string without escapes; p is at the opening quote, which the caller has seen. Sixteen bytes
// at a time where SSE2 is available (every x86-64 processor), then eight: the first special byte
// must be the closing quote. A string the text ends inside is invalid.
TEGATA_FAST_JSON_INLINE inline step read_string(const char*& p, const char* end,
                                                text_span& out) noexcept {
  const char* const start = ++p;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed comparison: bytes of 0x80 and above are negative, so below 0x20 as well.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask == 0) {
      p += 16;
      continue;
    }
    p += std::countr_zero(mask);
    if (*p != '"') return string_stopped_at(*p);
    out = {start, static_cast<std::size_t>(p - start)};
    ++p;
    return step::ok;
  }
#endif
  for (;;) {
    std::uint64_t mask;
    std::size_t available = 8;
    if (end - p >= 8) {
      mask = special_bytes(load_le64(p));
    } else {
      // Near the end of the text: the missing bytes read as 0, which is special, so a string
      // that does not end in the text stops at the end of the text.
      available = static_cast<std::size_t>(end - p);
      char tail[8] = {};
      std::memcpy(tail, p, available);
      mask = special_bytes(load_le64(tail));
    }
    if (mask == 0) {
      p += 8;
      continue;
    }
    const auto first = static_cast<std::size_t>(std::countr_zero(mask)) / 8;
    if (first >= available) {
      p = end;
      return step::invalid;
    }
    p += first;
    if (*p != '"') return string_stopped_at(*p);
    out = {start, static_cast<std::size_t>(p - start)};
    ++p;
    return step::ok;
  }
}

// 0, or 1 to 19 digits without a leading zero; p is at the first digit. More digits make a
// number outside the subset (deferred). Whatever follows is left for the caller, which expects
// a separator there: see stopped_after_value for the bytes that may continue a number.
TEGATA_FAST_JSON_INLINE inline step read_number(const char*& p, const char* end,
                                                std::uint64_t& out) noexcept {
  if (*p == '0') {
    ++p;
    out = 0;
    return step::ok;
  }
  std::uint64_t value = 0;
  int digits = 0;
  while (p != end && is_digit(*p)) {
    if (++digits > 19) return step::defer;
    value = value * 10 + static_cast<std::uint64_t>(*p - '0');
    ++p;
  }
  out = value;
  return step::ok;
}

// A member's value ended, whitespace was skipped, and at p is neither ',' nor '}'. That is no
// JSON, with one exception: right after the digits of a number (p[-1] is a digit only when no
// whitespace was skipped after one), a fraction or an exponent may follow ('.', 'e', 'E'): a
// number outside the subset, which the strict reader decides. A digit there follows a leading
// zero, which JSON forbids.
inline step stopped_after_value(const char* p, const char* end) noexcept {
  if (p != end && (*p == '.' || *p == 'e' || *p == 'E') && is_digit(p[-1])) return step::defer;
  return step::invalid;
}

// true, false or null; p is at its first byte. JSON has no other word that starts like these.
TEGATA_FAST_JSON_INLINE inline step read_literal(const char*& p, const char* end,
                                                 std::string_view word) noexcept {
  if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) {
    return step::invalid;
  }
  p += word.size();
  return step::ok;
}

// The reader behind fast_parse_object: one forward pass over the text, into a flat_object. Each
// read_* member moves the cursor p_ past the piece it reads, or reports where it stopped.
class flat_reader {
 public:
  flat_reader(std::string_view text, std::size_t max_depth, flat_object& out) noexcept
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth), out_(out) {}

  TEGATA_FAST_JSON_INLINE fast_parse_result read(std::size_t max_members) noexcept {
    skip_space(p_, end_);
    if (p_ == end_ || (*p_ != '{' && *p_ != '[')) return fast_parse_result::not_an_object;
    if (*p_ != '{' || max_depth_ < 1) return fast_parse_result::deferred;
    ++p_;
    switch (read_members()) {
      case step::ok: return fast_parse_result::accepted;
      case step::invalid:
        // The strict reader counts each name as it reads it, and refuses the one over the bound
        // before it reaches the syntax error.
        return names_ <= max_members ? fast_parse_result::syntax_error
                                     : fast_parse_result::deferred;
      case step::defer: break;
    }
    return fast_parse_result::deferred;
  }

 private:
  // The members after '{', the closing '}' and the end of the text.
  TEGATA_FAST_JSON_INLINE step read_members() noexcept {
    out_.size_ = 0;
    out_.string_count_ = 0;
    out_.index_.fill(flat_object::kAbsent);
    skip_space(p_, end_);
    if (p_ != end_ && *p_ == '}') return read_end();
    for (;;) {
      if (out_.size_ == kFlatMaxMembers) return step::defer;
      flat_member& member = out_.members_[out_.size_];
      if (const step s = read_name(member); s != step::ok) return s;
      if (const step s = read_value(member.value); s != step::ok) return s;
      ++out_.size_;
      skip_space(p_, end_);
      // After a value, JSON allows only ',' and '}'.
      if (p_ == end_) return step::invalid;
      if (*p_ == '}') return read_end();
      if (*p_ != ',') return stopped_after_value(p_, end_);
      ++p_;
      skip_space(p_, end_);
    }
  }

  // After the closing brace: whitespace only.
  TEGATA_FAST_JSON_INLINE step read_end() noexcept {
    ++p_;
    skip_space(p_, end_);
    return p_ == end_ ? step::ok : step::invalid;
  }

  // A member's name and the ':' after it. Only a string can name a member ('}' right after '{'
  // is the caller's).
  TEGATA_FAST_JSON_INLINE step read_name(flat_member& member) noexcept {
    if (p_ == end_ || *p_ != '"') return step::invalid;
    if (const step s = read_string(p_, end_, member.name); s != step::ok) return s;
    ++names_;
    member.known = classify_member(member.name.view());
    if (is_repeated(member)) return step::defer;
    skip_space(p_, end_);
    if (p_ == end_ || *p_ != ':') return step::invalid;
    ++p_;
    return step::ok;
  }

  // Whether the name was read before (the strict reader refuses that); records where a known
  // name is. Names compare as bytes, which is exact: without escapes, the bytes are the value.
  TEGATA_FAST_JSON_INLINE bool is_repeated(const flat_member& member) noexcept {
    if (member.known != member_name::other) {
      std::uint8_t& slot = out_.index_[static_cast<std::size_t>(member.known)];
      if (slot != flat_object::kAbsent) return true;
      slot = out_.size_;
      return false;
    }
    for (std::size_t i = 0; i < out_.size_; ++i) {
      if (out_.members_[i].name.view() == member.name.view()) return true;
    }
    return false;
  }

  TEGATA_FAST_JSON_INLINE step read_value(flat_value& value) noexcept {
    skip_space(p_, end_);
    if (p_ == end_) return step::invalid;
    value.boolean = false;
    value.first = 0;
    value.count = 0;
    value.number = 0;
    value.text = {nullptr, 0};
    switch (*p_) {
      case '"': value.type = flat_value::kind::string; return read_string(p_, end_, value.text);
      case 't':
        value.type = flat_value::kind::boolean;
        value.boolean = true;
        return read_literal(p_, end_, "true");
      case 'f': value.type = flat_value::kind::boolean; return read_literal(p_, end_, "false");
      case 'n': value.type = flat_value::kind::null; return read_literal(p_, end_, "null");
      case '[': value.type = flat_value::kind::string_array; return read_string_array(value);
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9': value.type = flat_value::kind::number; return read_number(p_, end_, value.number);
      case '-':  // a negative number
      case '{':  // a nested object
        return step::defer;
      default: return step::invalid;  // no JSON value starts with this byte
    }
  }

  // p_ is at '['. The strings go to the object's shared string array.
  TEGATA_FAST_JSON_INLINE step read_string_array(flat_value& value) noexcept {
    if (max_depth_ < 2) return step::defer;  // the strict reader says too_deep at the '['
    value.first = out_.string_count_;
    ++p_;
    skip_space(p_, end_);
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return step::ok;
    }
    for (;;) {
      if (const step s = read_array_string(value); s != step::ok) return s;
      skip_space(p_, end_);
      // After an element, JSON allows only ',' and ']'.
      if (p_ == end_) return step::invalid;
      if (*p_ == ']') {
        ++p_;
        return step::ok;
      }
      if (*p_ != ',') return step::invalid;
      ++p_;
      skip_space(p_, end_);
    }
  }

  // One element of an array (a ']' after '[' is the caller's).
  TEGATA_FAST_JSON_INLINE step read_array_string(flat_value& value) noexcept {
    if (p_ == end_) return step::invalid;
    if (*p_ != '"') return starts_value(*p_) ? step::defer : step::invalid;
    if (out_.string_count_ == kFlatMaxStrings) return step::defer;
    if (const step s = read_string(p_, end_, out_.strings_[out_.string_count_]); s != step::ok) {
      return s;
    }
    ++out_.string_count_;
    ++value.count;
    return step::ok;
  }

  const char* p_;
  const char* const end_;
  const std::size_t max_depth_;
  flat_object& out_;
  std::size_t names_ = 0;  // the names read, as the strict reader counts members
};

}  // namespace fast_json

// Reads text as one flat object into out (see the top of this file), for the strict reader's
// limits: limits.max_depth (an array needs at least 2) and limits.max_members (a syntax error
// after more names than that is deferred: the strict reader refuses the member over the bound
// first). An object accepted with more members than limits.max_members is the caller's to refuse.
inline fast_parse_result fast_parse_object(std::string_view text, const json_limits& limits,
                                           flat_object& out) noexcept {
  return fast_json::flat_reader(text, limits.max_depth, out).read(limits.max_members);
}

// The same with no bound on the number of members, as parse_json_object(text, max_depth).
inline fast_parse_result fast_parse_object(std::string_view text, std::size_t max_depth,
                                           flat_object& out) noexcept {
  return fast_parse_object(text, json_limits{.max_depth = max_depth}, out);
}

#undef TEGATA_FAST_JSON_INLINE

}  // namespace tegata::detail
