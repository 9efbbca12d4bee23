// Strict base64url: every byte string has exactly one accepted spelling.
#include "tegata/base64url.hpp"

#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using tegata::base64url_decode;
using tegata::base64url_encode;
using tegata::errc;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Deterministic bytes covering the whole 0..255 range (a small LCG: no seeding, no flakiness).
std::string pseudo_random_bytes(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  std::uint32_t state = seed;
  for (auto& c : out) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return out;
}

void check_rejected(std::string_view text) {
  INFO("input: \"" << text << "\" (" << text.size() << " bytes)");
  const auto r = base64url_decode(text);
  CHECK_FALSE(r.has_value());
  CHECK(r.error() == errc::bad_encoding);
}

}  // namespace

TEST_CASE("base64url: RFC 4648 known answers, URL-safe alphabet, no padding", "[base64url]") {
  struct Case {
    std::string_view plain, encoded;
  };
  const Case cases[] = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      // Standard base64 would write "+/8=": base64url uses '-' and '_' and drops the padding.
      {std::string_view("\xfb\xff", 2), "-_8"},
      {std::string_view("\x00", 1), "AA"},
  };
  for (const auto& c : cases) {
    INFO("encoded: " << c.encoded);
    CHECK(base64url_encode(c.plain) == c.encoded);
    const auto decoded = base64url_decode(c.encoded);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == c.plain);
  }
}

TEST_CASE("base64url: round trip of every length 0..64", "[base64url]") {
  for (std::size_t n = 0; n <= 64; ++n) {
    for (std::uint32_t seed : {1u, 0xdeadbeefu, 0x80808080u}) {
      const std::string bytes = pseudo_random_bytes(n, seed + static_cast<std::uint32_t>(n));
      const std::string encoded = base64url_encode(bytes);
      INFO("length " << n << ", encoded " << encoded);
      CHECK(encoded.size() == (n * 4 + 2) / 3);  // unpadded length
      CHECK(encoded.find_first_not_of(kAlphabet) == std::string::npos);
      const auto decoded = base64url_decode(encoded);
      REQUIRE(decoded.has_value());
      CHECK(*decoded == bytes);
    }
  }
  // The extremes of the byte range, where sign extension bugs show.
  for (std::size_t n = 1; n <= 8; ++n) {
    for (char fill : {'\x00', '\xff', '\x80', '\x7f'}) {
      const std::string bytes(n, fill);
      const auto decoded = base64url_decode(base64url_encode(bytes));
      REQUIRE(decoded.has_value());
      CHECK(*decoded == bytes);
    }
  }
}

TEST_CASE("base64url: padding is rejected", "[base64url]") {
  for (std::string_view text : {"Zg==", "Zm8=", "Zg=", "Zm9v====", "=",
                                "==", "====", "Zm9vYg==", "Zm9vYmE=", "Z=g", "=Zg"}) {
    check_rejected(text);
  }
}

TEST_CASE("base64url: '+' and '/' (standard alphabet) are rejected", "[base64url]") {
  for (std::string_view text : {"+/8", "ab+c", "ab/c", "+AAA", "AAA/", "Zm9v+w", "Zm9v/w"}) {
    check_rejected(text);
  }
}

// Every input below has a length that is not 1 mod 4, so only the offending byte can reject it.
TEST_CASE("base64url: whitespace, line breaks and NUL are rejected", "[base64url]") {
  using namespace std::string_view_literals;
  for (std::string_view text :
       {"Zm9v Zg"sv, " Zm9"sv, "Zm9 "sv, "Zm9v\tZg"sv, "Zm9v\nZg"sv, "Zm9v\r\nZm9v"sv, "Zm9\n"sv,
        "Zm\0v"sv, "Zm9v\0\0\0\0"sv, "\0\0"sv, "Zm9v\vZg"sv, "Zm9v\fZg"sv}) {
    check_rejected(text);
  }
}

TEST_CASE("base64url: a length of 1 mod 4 is rejected", "[base64url]") {
  for (std::string_view text : {"Z", "A", "Zm9vY", "Zm9vYmFyZ", "AAAAAAAAA"}) check_rejected(text);
}

TEST_CASE("base64url: non-canonical trailing bits are rejected", "[base64url]") {
  // "QQ" is the one spelling of "A"; "QR".."Qf" differ only in the unused low four bits.
  check_rejected("QR");
  check_rejected("QX");
  check_rejected("Zh");  // "f" is "Zg"
  // "QUI" is the one spelling of "AB"; "QUJ", "QUK", "QUL" set the unused low two bits.
  check_rejected("QUJ");
  check_rejected("QUK");
  check_rejected("QUL");
  check_rejected("Zm9vQR");  // after a full group
  check_rejected("Zm9vQUJ");

  // Exhaustively: in a 2-character tail only characters whose low 4 bits are zero are canonical,
  // in a 3-character tail only those whose low 2 bits are zero.
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    const std::string two = std::string("Zm9vQ") + kAlphabet[i];
    const std::string three = std::string("Zm9vQU") + kAlphabet[i];
    INFO("last character " << kAlphabet[i] << " (value " << i << ")");
    CHECK(base64url_decode(two).has_value() == (i % 16 == 0));
    CHECK(base64url_decode(three).has_value() == (i % 4 == 0));
    if (i % 16 != 0) CHECK(base64url_decode(two).error() == errc::bad_encoding);
    if (i % 4 != 0) CHECK(base64url_decode(three).error() == errc::bad_encoding);
  }
}

TEST_CASE("base64url: every byte outside the alphabet is rejected at every position",
          "[base64url]") {
  std::size_t rejected = 0;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (kAlphabet.find(c) != std::string_view::npos) continue;
    for (std::size_t pos = 0; pos < 4; ++pos) {
      std::string text = "QUJD";  // "ABC"
      text[pos] = c;
      INFO("byte 0x" << std::hex << b << " at position " << std::dec << pos);
      const auto r = base64url_decode(text);
      CHECK(r.error() == errc::bad_encoding);
      // The same byte in a 2- and 3-character tail.
      std::string tail = "QUJDQQ";
      tail[4 + pos % 2] = c;
      CHECK(base64url_decode(tail).error() == errc::bad_encoding);
      std::string tail3 = "QUJDQUI";
      tail3[4 + pos % 3] = c;
      CHECK(base64url_decode(tail3).error() == errc::bad_encoding);
      ++rejected;
    }
  }
  CHECK(rejected == (256 - 64) * 4);
}

TEST_CASE("base64url: non-ASCII (UTF-8 and high) bytes are rejected", "[base64url]") {
  check_rejected("Zm9v\xc3\xa9");  // "é" in UTF-8
  check_rejected("\xc3\xa9Zg");
  check_rejected("\x80\x80");
  check_rejected("\xff\xff\xff\xff");
  check_rejected("Zm9v\xef\xbc\xa1Z");  // full-width 'A'
}
