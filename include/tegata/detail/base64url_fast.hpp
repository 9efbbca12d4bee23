// tegata/detail/base64url_fast.hpp - strict base64url decoding for the validation path.
//
// The same rules as detail::base64url_decode_into (base64url.hpp): the alphabet only, no padding,
// no length of 1 mod 4, zero unused bits in the last character; the same answer for every input
// (tests/unit/fast_path_test.cpp and tests/fuzz/claims_differential.cpp compare the two). Two
// techniques make it faster:
//  - On x86 with SSSE3 (checked at run time), 16 characters at a time: two nibble-indexed table
//    lookups (pshufb) validate them, a third gives the offset that turns each into its six bits,
//    and two multiply-adds and a shuffle pack them into 12 bytes.
//  - Otherwise, and for what is left: each of the four positions of a quantum has its own table,
//    which holds the character's six bits already shifted into place, so a quantum is four
//    lookups ORed together and one store. A character outside the alphabet sets a bit no valid
//    character sets; the bits of all quanta are ORed and tested once at the end.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tegata/base64url.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define TEGATA_BASE64URL_SSSE3 1
#include <tmmintrin.h>  // SSSE3 and the SSE2 it builds on: all this file uses (immintrin.h is 8x more)
#else
#define TEGATA_BASE64URL_SSSE3 0
#endif

namespace tegata::detail {

inline constexpr std::uint32_t kBase64UrlBadBit = 0x01000000;  // never set by a valid quantum

// kBase64UrlQuantumTables[i][c]: character c in position i of a quantum, placed where its bits go
// in the three output bytes b0 b1 b2, read as a little-endian 32-bit word (b0 lowest).
inline constexpr std::array<std::array<std::uint32_t, 256>, 4> kBase64UrlQuantumTables = [] {
  std::array<std::array<std::uint32_t, 256>, 4> tables{};
  for (int c = 0; c < 256; ++c) {
    const std::uint32_t s = kBase64UrlDecodeTable[static_cast<std::size_t>(c)];
    if (s == 0xFF) {
      for (auto& table : tables) table[static_cast<std::size_t>(c)] = kBase64UrlBadBit;
      continue;
    }
    tables[0][static_cast<std::size_t>(c)] = s << 2;                         // b0 high 6
    tables[1][static_cast<std::size_t>(c)] = (s >> 4) | ((s & 0x0F) << 12);  // b0 low 2, b1 high 4
    tables[2][static_cast<std::size_t>(c)] =
        ((s >> 2) << 8) | ((s & 0x03) << 22);          // b1 low 4, b2 high 2
    tables[3][static_cast<std::size_t>(c)] = s << 16;  // b2 low 6
  }
  return tables;
}();

inline std::uint32_t base64url_quantum(const char* in) noexcept {
  const auto& t = kBase64UrlQuantumTables;
  return t[0][static_cast<unsigned char>(in[0])] | t[1][static_cast<unsigned char>(in[1])] |
         t[2][static_cast<unsigned char>(in[2])] | t[3][static_cast<unsigned char>(in[3])];
}

inline void store_quantum(std::uint32_t q, char* out) noexcept {
  out[0] = static_cast<char>(q);
  out[1] = static_cast<char>(q >> 8);
  out[2] = static_cast<char>(q >> 16);
}

#if TEGATA_BASE64URL_SSSE3

// Decodes 16 * blocks characters at src into 12 * blocks bytes at out. False if any character is
// outside the alphabet (out is then unspecified).
__attribute__((target("ssse3"))) inline bool base64url_decode_blocks_ssse3(const char* src,
                                                                           std::size_t blocks,
                                                                           char* out) noexcept {
  // A character is valid when the class bits of its low nibble and of its high nibble meet:
  //   '-' 0x2D (class 1), '0'..'9' 0x30..0x39 (2), 'A'..'O' 0x41..0x4F and 'a'..'o' 0x61..0x6F
  //   (4), 'P'..'Z' 0x50..0x5A and 'p'..'z' 0x70..0x7A (8), '_' 0x5F (16).
  const __m128i low_classes = _mm_setr_epi8(0x0A, 0x0E, 0x0E, 0x0E, 0x0E, 0x0E, 0x0E, 0x0E, 0x0E,
                                            0x0E, 0x0C, 0x04, 0x04, 0x05, 0x04, 0x14);
  const __m128i high_classes =
      _mm_setr_epi8(0, 0, 0x01, 0x02, 0x04, 0x18, 0x04, 0x08, 0, 0, 0, 0, 0, 0, 0, 0);
  // What to add to a valid character, by high nibble, to get its six bits; '_' (high nibble 5,
  // where the letters need -65) needs -32: 33 more.
  const __m128i offsets = _mm_setr_epi8(0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i underscore = _mm_set1_epi8('_');
  const __m128i underscore_fix = _mm_set1_epi8(33);
  // Four six-bit values a b c d (one per byte) become the 24-bit value a<<18|b<<12|c<<6|d per
  // 32-bit lane, whose bytes are then put in big-endian order, 12 of the 16.
  const __m128i pair_weights = _mm_set1_epi32(0x01400140);
  const __m128i quad_weights = _mm_set1_epi32(0x00011000);
  const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  for (std::size_t i = 0; i < blocks; ++i, src += 16, out += 12) {
    const __m128i in = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i high = _mm_and_si128(_mm_srli_epi32(in, 4), nibble);
    const __m128i low = _mm_and_si128(in, nibble);
    // Bytes of 0x80 and above have a high nibble of 8..15, whose class is 0.
    const __m128i classes =
        _mm_and_si128(_mm_shuffle_epi8(low_classes, low), _mm_shuffle_epi8(high_classes, high));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(classes, _mm_setzero_si128())) != 0) return false;
    const __m128i fix = _mm_and_si128(_mm_cmpeq_epi8(in, underscore), underscore_fix);
    const __m128i values = _mm_add_epi8(in, _mm_add_epi8(_mm_shuffle_epi8(offsets, high), fix));
    const __m128i pairs = _mm_maddubs_epi16(values, pair_weights);
    const __m128i quads = _mm_madd_epi16(pairs, quad_weights);
    const __m128i bytes = _mm_shuffle_epi8(quads, order);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
    const auto last = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(bytes, 8)));
    std::memcpy(out + 8, &last, 4);
  }
  return true;
}

inline bool cpu_has_ssse3() noexcept {
  static const bool has = [] {
    __builtin_cpu_init();
    // GCC's builtin returns int, clang's returns bool: the cast reads right under both.
    return static_cast<bool>(__builtin_cpu_supports("ssse3"));
  }();
  return has;
}

#endif  // TEGATA_BASE64URL_SSSE3

// Decodes into out, which must hold base64url_decoded_size(in.size()) bytes. False on any input
// base64url_decode_into refuses; out is then unspecified.
inline bool base64url_decode_fast(std::string_view in, char* out) noexcept {
  std::size_t quanta = in.size() / 4;
  const std::size_t rest = in.size() % 4;
  if (rest == 1) return false;
  const char* src = in.data();
#if TEGATA_BASE64URL_SSSE3
  if (quanta >= 4 && cpu_has_ssse3()) {
    const std::size_t blocks = quanta / 4;
    if (!base64url_decode_blocks_ssse3(src, blocks, out)) return false;
    src += 16 * blocks;
    out += 12 * blocks;
    quanta -= 4 * blocks;
  }
#endif
  std::uint32_t seen = 0;
  std::size_t q = 0;
  if constexpr (std::endian::native == std::endian::little) {
    // Four bytes written per quantum, the fourth overwritten by the next one: only while another
    // quantum follows, so nothing is written past the output.
    for (; q + 1 < quanta; ++q, src += 4, out += 3) {
      const std::uint32_t value = base64url_quantum(src);
      seen |= value;
      std::memcpy(out, &value, 4);
    }
  }
  for (; q < quanta; ++q, src += 4, out += 3) {
    const std::uint32_t value = base64url_quantum(src);
    seen |= value;
    store_quantum(value, out);
  }
  if ((seen & kBase64UrlBadBit) != 0) return false;
  if (rest == 0) return true;
  // Two or three characters left: one or two bytes, and the unused low bits must be zero.
  const auto& table = kBase64UrlDecodeTable;
  const std::uint32_t a = table[static_cast<unsigned char>(src[0])];
  const std::uint32_t b = table[static_cast<unsigned char>(src[1])];
  const std::uint32_t c = rest == 3 ? table[static_cast<unsigned char>(src[2])] : 0;
  if ((a | b | c) & 0x80) return false;
  const std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
  out[0] = static_cast<char>(v >> 16);
  if (rest == 3) {
    out[1] = static_cast<char>(v >> 8);
    return (v & 0xFF) == 0;
  }
  return (v & 0xFFFF) == 0;
}

// --- Encoding ----------------------------------------------------------------------------------
// Twelve bits at a time: kBase64UrlPairs[v] holds the two characters of the 12-bit value v, so
// three bytes are two lookups, and six bytes (read as one 64-bit word) four lookups and one
// 8-byte store. The output is the same as base64url_encode_append's.

inline constexpr std::array<std::array<char, 2>, 4096> kBase64UrlPairs = [] {
  std::array<std::array<char, 2>, 4096> pairs{};
  for (std::size_t v = 0; v < 4096; ++v) {
    pairs[v] = {kBase64UrlAlphabet[v >> 6], kBase64UrlAlphabet[v & 63]};
  }
  return pairs;
}();

// The two characters of kBase64UrlPairs[v] as a 16-bit value, the first one in the low byte.
inline std::uint64_t base64url_pair_bits(std::uint64_t v) noexcept {
  const auto& pair = kBase64UrlPairs[v & 0xFFF];
  return static_cast<std::uint64_t>(static_cast<unsigned char>(pair[0])) |
         static_cast<std::uint64_t>(static_cast<unsigned char>(pair[1])) << 8;
}

constexpr std::uint64_t byte_swap(std::uint64_t w) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap64(w);
#else
  std::uint64_t swapped = 0;
  for (int k = 0; k < 8; ++k, w >>= 8) swapped = (swapped << 8) | (w & 0xFF);
  return swapped;
#endif
}

// Writes the unpadded base64url encoding of in (base64url_encoded_size(in.size()) characters).
inline void base64url_encode_fast(std::string_view in, char* out) noexcept {
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    // Reads 8 bytes and encodes the first 6, so it stops while 8 remain.
    for (; i + 8 <= in.size(); i += 6, out += 8) {
      std::uint64_t w;
      std::memcpy(&w, src + i, 8);
      w = byte_swap(w);  // the first byte highest
      const std::uint64_t chars =
          base64url_pair_bits(w >> 52) | base64url_pair_bits(w >> 40) << 16 |
          base64url_pair_bits(w >> 28) << 32 | base64url_pair_bits(w >> 16) << 48;
      std::memcpy(out, &chars, 8);
    }
  }
  for (; i + 3 <= in.size(); i += 3, out += 4) {
    const std::uint32_t v =
        (std::uint32_t{src[i]} << 16) | (std::uint32_t{src[i + 1]} << 8) | src[i + 2];
    std::memcpy(out, kBase64UrlPairs[v >> 12].data(), 2);
    std::memcpy(out + 2, kBase64UrlPairs[v & 0xFFF].data(), 2);
  }
  const std::size_t rest = in.size() - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint32_t{src[i]} << 16;
  if (rest == 2) v |= std::uint32_t{src[i + 1]} << 8;
  std::memcpy(out, kBase64UrlPairs[v >> 12].data(), 2);
  if (rest == 2) out[2] = kBase64UrlAlphabet[(v >> 6) & 63];
}

// Appends the encoding of in to out.
inline void base64url_append_fast(std::string_view in, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + base64url_encoded_size(in.size()));
  base64url_encode_fast(in, out.data() + start);
}

}  // namespace tegata::detail
