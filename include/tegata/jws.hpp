// tegata/jws.hpp - JWS compact serialization (RFC 7515 §7.1): split, parse, serialize.
//
// Parsing checks only what can be checked without a key: the size limit (before any decoding),
// exactly three segments, strict base64url, a strict JSON header object with a string "alg",
// string "typ"/"kid" when present, and "crit". Nothing here trusts the header's alg: the key
// chosen by the Signer decides the algorithm.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tegata/base64url.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/error.hpp"

namespace tegata::jws {

struct Limits {
  std::size_t max_token_bytes = 8192;  // checked before anything is decoded
  std::size_t max_json_depth = 16;     // for the header and the claims
};

// The protected header members tegata acts on.
struct Header {
  std::string alg;
  std::string typ;  // empty when absent (has_typ tells the difference)
  std::string kid;  // empty when absent
  bool has_typ = false;
  bool has_kid = false;
};

// A parsed compact JWS whose signature has NOT been checked yet. The views point into the
// caller's token, which must outlive this object.
struct Parsed {
  Header header;
  std::string_view signing_input;    // "BASE64URL(header).BASE64URL(payload)", exactly as received
  std::string_view encoded_payload;  // second segment, still base64url
  std::string signature;             // decoded signature bytes
};

namespace detail {

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Header parameters whose meaning tegata implements and which may therefore appear in "crit".
// There are none: b64=false (RFC 7797) and others are refused when marked critical.
constexpr bool understood_critical(std::string_view) noexcept { return false; }

inline std::error_code read_optional_string(const nlohmann::json& object, const char* name,
                                            std::string& out, bool& present) {
  const auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) return errc::malformed;
  out = it->get_ref<const std::string&>();
  present = true;
  return {};
}

inline std::error_code check_crit(const nlohmann::json& header) {
  const auto it = header.find("crit");
  if (it == header.end()) return {};
  // RFC 7515 §4.1.11: a non-empty array of names.
  if (!it->is_array() || it->empty()) return errc::malformed;
  for (const auto& name : *it) {
    if (!name.is_string()) return errc::malformed;
    if (!understood_critical(name.get_ref<const std::string&>())) return errc::unsupported_critical;
  }
  return {};
}

}  // namespace detail

// Parses a decoded header JSON text. Errors: bad_json, duplicate_member, too_deep, malformed,
// unsupported_algorithm (alg "none" in any spelling), unsupported_critical.
inline Result<Header> parse_header(std::string_view json_text, std::size_t max_depth = 16) {
  auto object = tegata::detail::parse_json_object(json_text, max_depth);
  if (!object) return object.error();
  Header header;
  const auto alg = object->find("alg");
  if (alg == object->end() || !alg->is_string() || alg->get_ref<const std::string&>().empty()) {
    return errc::malformed;
  }
  header.alg = alg->get_ref<const std::string&>();
  if (detail::iequals(header.alg, "none")) return errc::unsupported_algorithm;
  if (auto ec = detail::read_optional_string(*object, "typ", header.typ, header.has_typ)) return ec;
  if (auto ec = detail::read_optional_string(*object, "kid", header.kid, header.has_kid)) return ec;
  if (auto ec = detail::check_crit(*object)) return ec;
  return header;
}

// Splits and parses a compact JWS. The payload is left encoded: it must not be interpreted
// before the signature has been verified.
inline Result<Parsed> parse(std::string_view token, const Limits& limits = {}) {
  if (token.size() > limits.max_token_bytes) return errc::too_large;
  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return errc::malformed;
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return errc::malformed;
  if (token.find('.', dot2 + 1) != std::string_view::npos) return errc::malformed;
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  // An empty payload is legal JWS; an empty header or signature never is for tegata.
  if (header_b64.empty() || signature_b64.empty()) return errc::malformed;

  auto header_json = base64url_decode(header_b64);
  if (!header_json) return header_json.error();
  auto header = parse_header(*header_json, limits.max_json_depth);
  if (!header) return header.error();
  auto signature = base64url_decode(signature_b64);
  if (!signature) return signature.error();
  // Validate the payload's encoding now so that a token with a bad payload segment is rejected
  // as malformed rather than as a bad signature.
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  if (!tegata::detail::base64url_valid(payload_b64)) return errc::bad_encoding;
  Parsed parsed;
  parsed.header = std::move(*header);
  parsed.signing_input = token.substr(0, dot2);
  parsed.encoded_payload = payload_b64;
  parsed.signature = std::move(*signature);
  return parsed;
}

// Decodes the payload of a token whose signature has been verified.
inline Result<std::string> decode_payload(const Parsed& parsed) {
  return base64url_decode(parsed.encoded_payload);
}

// The protected header tegata writes: {"alg":..,"kid":..,"typ":..} in that order, kid and typ
// omitted when empty.
inline std::string make_header(std::string_view alg, std::string_view kid, std::string_view typ) {
  nlohmann::json header = nlohmann::json::object();
  header["alg"] = alg;
  if (!kid.empty()) header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  return header.dump();
}

// "BASE64URL(header).BASE64URL(payload)", ready to be signed.
inline std::string make_signing_input(std::string_view header_json, std::string_view payload) {
  std::string out;
  out.reserve(tegata::detail::base64url_encoded_size(header_json.size()) + 1 +
              tegata::detail::base64url_encoded_size(payload.size()) + 128);
  tegata::detail::base64url_encode_append(header_json, out);
  out.push_back('.');
  tegata::detail::base64url_encode_append(payload, out);
  return out;
}

// Appends ".BASE64URL(signature)" to a signing input, giving the compact serialization.
inline std::string finish_compact(std::string signing_input, std::string_view signature) {
  signing_input.push_back('.');
  tegata::detail::base64url_encode_append(signature, signing_input);
  return signing_input;
}

}  // namespace tegata::jws
