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
// control bytes, floats, negative numbers, nested objects, arrays of other things, duplicate
// names, too many members, syntax errors, a depth limit below what the input needs) is
// `deferred`: the strict reader (parse_json_object) decides it. This reader never rejects what
// the strict reader could accept, with one exception that it decides itself because the answer
// is certain: text whose first byte after whitespace opens neither an object nor an array (or
// which is empty) is `not_an_object`, for which the strict reader's answer is always bad_json
// (the value it would read is a scalar or a syntax error, and it builds no container).
//
// tests/fuzz/claims_differential.cpp checks that whenever this reader accepts, the strict reader
// accepts and builds the same values with the same JSON types, and that whenever it says
// not_an_object, the strict reader says bad_json.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tegata::detail {

// The member names tegata reads from headers and claims; `other` for every other name.
enum class member_name : std::uint8_t {
  other,
  alg,
  kid,
  typ,
  crit,
  iss,
  sub,
  aud,
  exp,
  nbf,
  iat,
  jti,
  sid,
  ver,
  auth_time,
};
inline constexpr std::size_t kMemberNameCount = 15;

constexpr std::string_view name_of(member_name name) noexcept {
  switch (name) {
    case member_name::alg: return "alg";
    case member_name::kid: return "kid";
    case member_name::typ: return "typ";
    case member_name::crit: return "crit";
    case member_name::iss: return "iss";
    case member_name::sub: return "sub";
    case member_name::aud: return "aud";
    case member_name::exp: return "exp";
    case member_name::nbf: return "nbf";
    case member_name::iat: return "iat";
    case member_name::jti: return "jti";
    case member_name::sid: return "sid";
    case member_name::ver: return "ver";
    case member_name::auth_time: return "auth_time";
    case member_name::other: break;
  }
  return {};
}

namespace fast_json {

// The bytes of a three-byte name as one integer, first byte lowest.
constexpr std::uint32_t pack3(std::string_view s) noexcept {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16;
}

// The three-byte names, found with one multiplication and one comparison: a perfect hash into
// 32 slots, its multiplier searched at compile time. (A chain of comparisons, or a switch,
// costs a branch misprediction on most names.)
inline constexpr member_name kThreeByteNames[] = {
    member_name::alg, member_name::kid, member_name::typ, member_name::iss,
    member_name::sub, member_name::aud, member_name::exp, member_name::nbf,
    member_name::iat, member_name::jti, member_name::sid, member_name::ver};

constexpr std::uint32_t slot_of(std::uint32_t packed, std::uint32_t multiplier) noexcept {
  return (packed * multiplier) >> 27;  // the top 5 bits of a 32-bit product: 0..31
}

constexpr std::uint32_t find_multiplier() noexcept {
  for (std::uint32_t m = 0x9E3779B1u;; m += 2) {
    bool used[32] = {};
    bool collision = false;
    for (const member_name n : kThreeByteNames) {
      const std::uint32_t slot = slot_of(pack3(name_of(n)), m);
      collision = collision || used[slot];
      used[slot] = true;
    }
    if (!collision) return m;
  }
}

inline constexpr std::uint32_t kNameMultiplier = find_multiplier();

struct name_slot {
  std::uint32_t packed = 0;  // 0 for an empty slot: no name of three bytes packs to 0 here
  member_name name = member_name::other;
};

inline constexpr std::array<name_slot, 32> kNameSlots = [] {
  std::array<name_slot, 32> slots{};
  for (const member_name n : kThreeByteNames) {
    const std::uint32_t packed = pack3(name_of(n));
    slots[slot_of(packed, kNameMultiplier)] = {packed, n};
  }
  return slots;
}();

}  // namespace fast_json

constexpr member_name classify_member(std::string_view name) noexcept {
  switch (name.size()) {
    case 3: {
      const std::uint32_t packed = fast_json::pack3(name);
      const fast_json::name_slot& slot =
          fast_json::kNameSlots[fast_json::slot_of(packed, fast_json::kNameMultiplier)];
      // "\0\0\0" packs to 0 like an empty slot, and is no known name either way.
      return slot.packed == packed && packed != 0 ? slot.name : member_name::other;
    }
    case 4: return name == "crit" ? member_name::crit : member_name::other;
    case 9: return name == "auth_time" ? member_name::auth_time : member_name::other;
    default: return member_name::other;
  }
}

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

enum class fast_parse_result : std::uint8_t { accepted, not_an_object, deferred };

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
  friend fast_parse_result fast_parse_object(std::string_view, std::size_t, flat_object&) noexcept;
  static constexpr std::uint8_t kAbsent = 0xFF;

  std::array<flat_member, kFlatMaxMembers> members_;
  std::array<text_span, kFlatMaxStrings> strings_;
  std::array<std::uint8_t, kMemberNameCount> index_;  // position of each known name, or kAbsent
  std::uint8_t size_ = 0;
  std::uint8_t string_count_ = 0;
};

namespace fast_json {

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline void skip_space(const char*& p, const char* end) noexcept {
  while (p != end && is_space(*p)) ++p;
}

// The 8 bytes at p as one integer, the first byte lowest.
inline std::uint64_t load_le64(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) {
    std::uint64_t swapped = 0;
    for (int i = 0; i < 8; ++i) swapped |= ((w >> (8 * i)) & 0xFF) << (8 * (7 - i));
    w = swapped;
  }
  return w;
}

// The high bit of every byte of w that ends or leaves the plain string subset: below 0x20, above
// 0x7E, '"' or '\\'. Exact per byte (no carry crosses a byte): each byte is reduced to its low 7
// bits before any addition, and its own high bit (0x80 and above) counts directly.
constexpr std::uint64_t special_bytes(std::uint64_t w) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t high = 0x8080808080808080ULL;
  const std::uint64_t low7 = w & ~high;
  const std::uint64_t below_space = (low7 + ones * (0x80 - 0x20)) ^ high;  // high bit: < 0x20
  const std::uint64_t above_tilde = low7 + ones * (0x80 - 0x7F);           // high bit: == 0x7F
  const std::uint64_t quote = low7 ^ (ones * '"');
  const std::uint64_t backslash = low7 ^ (ones * '\\');
  const std::uint64_t is_quote = ~(quote + ~high) & high;          // high bit: == '"'
  const std::uint64_t is_backslash = ~(backslash + ~high) & high;  // high bit: == '\\'
  return (w | below_space | above_tilde | is_quote | is_backslash) & high;
}

// A string without escapes; p is at the opening quote. Sixteen bytes at a time where SSE2 is
// available (every x86-64 processor), then eight: the first special byte must be the closing
// quote.
inline bool read_string(const char*& p, const char* end, text_span& out) noexcept {
  if (p == end || *p != '"') return false;
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
    if (*p != '"') return false;
    out = {start, static_cast<std::size_t>(p - start)};
    ++p;
    return true;
  }
#endif
  for (;;) {
    std::uint64_t mask;
    std::size_t available = 8;
    if (end - p >= 8) {
      mask = special_bytes(load_le64(p));
    } else {
      // Near the end of the text: the missing bytes read as 0, which is special, so a string
      // that does not end in the text is refused below.
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
    if (first >= available || p[first] != '"') return false;
    p += first;
    out = {start, static_cast<std::size_t>(p - start)};
    ++p;
    return true;
  }
}

// 0, or 1 to 19 digits without a leading zero. A digit, '.', 'e' or 'E' right after is left for
// the caller, which expects a separator there and defers.
inline bool read_number(const char*& p, const char* end, std::uint64_t& out) noexcept {
  if (*p == '0') {
    ++p;
    out = 0;
    return true;
  }
  std::uint64_t value = 0;
  int digits = 0;
  while (p != end && *p >= '0' && *p <= '9') {
    if (++digits > 19) return false;
    value = value * 10 + static_cast<std::uint64_t>(*p - '0');
    ++p;
  }
  out = value;
  return true;
}

inline bool read_literal(const char*& p, const char* end, std::string_view word) noexcept {
  if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) {
    return false;
  }
  p += word.size();
  return true;
}

}  // namespace fast_json

// Reads text as one flat object into out (see the top of this file). max_depth is the strict
// reader's limit: an array needs at least 2.
inline fast_parse_result fast_parse_object(std::string_view text, std::size_t max_depth,
                                           flat_object& out) noexcept {
  using fast_json::skip_space;
  const char* p = text.data();
  const char* const end = p + text.size();
  skip_space(p, end);
  if (p == end || (*p != '{' && *p != '[')) return fast_parse_result::not_an_object;
  if (*p != '{' || max_depth < 1) return fast_parse_result::deferred;
  ++p;
  out.size_ = 0;
  out.string_count_ = 0;
  out.index_.fill(flat_object::kAbsent);
  skip_space(p, end);
  if (p != end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (out.size_ == kFlatMaxMembers) return fast_parse_result::deferred;
      flat_member& member = out.members_[out.size_];
      if (!fast_json::read_string(p, end, member.name)) return fast_parse_result::deferred;
      // Names are compared as bytes, which is exact: without escapes, bytes are the value.
      const member_name known = classify_member(member.name.view());
      member.known = known;
      if (known != member_name::other) {
        auto& slot = out.index_[static_cast<std::size_t>(known)];
        if (slot != flat_object::kAbsent) return fast_parse_result::deferred;
        slot = out.size_;
      } else {
        for (std::size_t i = 0; i < out.size_; ++i) {
          if (out.members_[i].name.view() == member.name.view()) {
            return fast_parse_result::deferred;
          }
        }
      }
      skip_space(p, end);
      if (p == end || *p != ':') return fast_parse_result::deferred;
      ++p;
      skip_space(p, end);
      if (p == end) return fast_parse_result::deferred;
      flat_value& value = member.value;
      value.boolean = false;
      value.first = 0;
      value.count = 0;
      value.number = 0;
      value.text = {nullptr, 0};
      switch (*p) {
        case '"':
          value.type = flat_value::kind::string;
          if (!fast_json::read_string(p, end, value.text)) return fast_parse_result::deferred;
          break;
        case 't':
        case 'f':
          value.type = flat_value::kind::boolean;
          value.boolean = *p == 't';
          if (!fast_json::read_literal(p, end, value.boolean ? "true" : "false")) {
            return fast_parse_result::deferred;
          }
          break;
        case 'n':
          value.type = flat_value::kind::null;
          if (!fast_json::read_literal(p, end, "null")) return fast_parse_result::deferred;
          break;
        case '[': {
          if (max_depth < 2) return fast_parse_result::deferred;
          value.type = flat_value::kind::string_array;
          value.first = out.string_count_;
          ++p;
          skip_space(p, end);
          if (p != end && *p == ']') {
            ++p;
            break;
          }
          for (;;) {
            if (out.string_count_ == kFlatMaxStrings) return fast_parse_result::deferred;
            if (!fast_json::read_string(p, end, out.strings_[out.string_count_])) {
              return fast_parse_result::deferred;
            }
            ++out.string_count_;
            ++value.count;
            skip_space(p, end);
            if (p == end) return fast_parse_result::deferred;
            if (*p == ']') {
              ++p;
              break;
            }
            if (*p != ',') return fast_parse_result::deferred;
            ++p;
            skip_space(p, end);
          }
          break;
        }
        default:
          if (*p < '0' || *p > '9') return fast_parse_result::deferred;
          value.type = flat_value::kind::number;
          if (!fast_json::read_number(p, end, value.number)) return fast_parse_result::deferred;
      }
      ++out.size_;
      skip_space(p, end);
      if (p == end) return fast_parse_result::deferred;
      if (*p == '}') {
        ++p;
        break;
      }
      if (*p != ',') return fast_parse_result::deferred;
      ++p;
      skip_space(p, end);
    }
  }
  skip_space(p, end);
  return p == end ? fast_parse_result::accepted : fast_parse_result::deferred;
}

// The value as the strict reader would have built it.
inline nlohmann::json to_json(const flat_object& object, const flat_value& value) {
  switch (value.type) {
    case flat_value::kind::string: return nlohmann::json(std::string(value.text.view()));
    case flat_value::kind::number: return nlohmann::json(value.number);  // number_unsigned
    case flat_value::kind::boolean: return nlohmann::json(value.boolean);
    case flat_value::kind::null: return nlohmann::json(nullptr);
    case flat_value::kind::string_array: {
      nlohmann::json array = nlohmann::json::array();
      for (const text_span s : object.strings(value)) array.push_back(std::string(s.view()));
      return array;
    }
  }
  return nlohmann::json();
}

inline nlohmann::json to_json(const flat_object& object) {
  // Inserted in name order, each at the end of the map: no searching, no comparisons beyond the
  // sort of at most kFlatMaxMembers names.
  std::array<const flat_member*, kFlatMaxMembers> sorted;
  std::size_t n = 0;
  for (const flat_member& member : object) sorted[n++] = &member;
  std::sort(
      sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n),
      [](const flat_member* a, const flat_member* b) { return a->name.view() < b->name.view(); });
  nlohmann::json result = nlohmann::json::object();
  auto& members = result.get_ref<nlohmann::json::object_t&>();
  for (std::size_t i = 0; i < n; ++i) {
    members.emplace_hint(members.end(), std::string(sorted[i]->name.view()),
                         to_json(object, sorted[i]->value));
  }
  return result;
}

// --- One interface to read a member's value from either document --------------------------------
// The header and claim readers (jws.hpp, claims.hpp, session/manager.hpp) are written once against
// these overloads and run on a flat_object or on the strict reader's nlohmann::json, so both paths
// apply the same rules in the same order.

inline const flat_value* find_member(const flat_object& object, member_name name) noexcept {
  return object.find(name);
}
inline const nlohmann::json* find_member(const nlohmann::json& object, member_name name) noexcept {
  const auto it = object.find(name_of(name));
  return it == object.end() ? nullptr : &*it;
}

inline bool is_string(const flat_value& v) noexcept { return v.type == flat_value::kind::string; }
inline bool is_string(const nlohmann::json& v) noexcept { return v.is_string(); }

// Only after is_string(v).
inline std::string_view string_of(const flat_value& v) noexcept { return v.text.view(); }
inline std::string_view string_of(const nlohmann::json& v) noexcept {
  return v.get_ref<const std::string&>();
}

// JSON number_unsigned: what nlohmann_json makes of an integer without sign that fits in 64 bits.
inline bool is_unsigned(const flat_value& v) noexcept { return v.type == flat_value::kind::number; }
inline bool is_unsigned(const nlohmann::json& v) noexcept { return v.is_number_unsigned(); }
inline std::uint64_t unsigned_of(const flat_value& v) noexcept { return v.number; }
inline std::uint64_t unsigned_of(const nlohmann::json& v) noexcept {
  return v.get<std::uint64_t>();
}

// Visits the elements of an array as strings (nullopt for an element that is not a string) until
// visit returns false. False when v is not an array.
template <class Visit>
bool visit_array(const flat_object& object, const flat_value& v, Visit&& visit) {
  if (v.type != flat_value::kind::string_array) return false;
  for (const text_span s : object.strings(v)) {
    if (!visit(std::optional<std::string_view>(s.view()))) break;
  }
  return true;
}
template <class Visit>
bool visit_array(const nlohmann::json&, const nlohmann::json& v, Visit&& visit) {
  if (!v.is_array()) return false;
  for (const auto& element : v) {
    const std::optional<std::string_view> s =
        element.is_string() ? std::optional<std::string_view>(string_of(element)) : std::nullopt;
    if (!visit(s)) break;
  }
  return true;
}

inline std::size_t array_size(const flat_value& v) noexcept { return v.count; }
inline std::size_t array_size(const nlohmann::json& v) noexcept { return v.size(); }

}  // namespace tegata::detail
