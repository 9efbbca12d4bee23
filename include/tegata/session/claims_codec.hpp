// tegata/session/claims_codec.hpp - how a session lives in a token's claims: the members the
// SessionManager writes (sub, sid, jti, ver, auth_time beside the registered ones, and cnf for a
// session bound to a DPoP key), how it reads
// them back from a verified payload, and the fresh random ids it names sessions and tokens with.
// SessionManager composes these; it builds and parses no JSON itself.
#pragma once

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/detail/json_writer.hpp"
#include "tegata/detail/random_pool.hpp"
#include "tegata/error.hpp"
#include "tegata/jws/compact.hpp"
#include "tegata/jwt.hpp"
#include "tegata/validator.hpp"

namespace tegata::detail {

// Claim names the manager writes itself; extra claims may not use them.
constexpr bool is_reserved_claim(member_name name) noexcept {
  switch (name) {
    case member_name::typ:
    case member_name::sid:
    case member_name::ver:
    case member_name::auth_time:
    case member_name::cnf: return true;
    default: return is_registered_claim(name);
  }
}
constexpr bool is_reserved_claim(std::string_view name) noexcept {
  return is_reserved_claim(classify_member(name));
}

// The default of issue's and refresh's extra claims: one shared empty object rather than a new
// one (which allocates) per call.
inline const nlohmann::json& empty_json_object() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

// Custom claims for an access token: an object without reserved names.
inline std::error_code check_extra_claims(const nlohmann::json& extra) {
  if (!extra.is_object()) return errc::invalid_argument;
  for (const auto& item : extra.items()) {
    if (is_reserved_claim(item.key())) return errc::reserved_claim;
  }
  return {};
}

// 128 random bits as base64url (22 characters): session family ids and token ids.
struct random_id {
  char text[22];
  std::string_view view() const noexcept { return {text, sizeof text}; }
};

// Fills every id with fresh bytes from OpenSSL's DRBG (through this thread's pool, see
// detail/random_pool.hpp). False if it fails.
template <std::size_t N>
bool make_random_ids(std::array<random_id, N>& ids) noexcept {
  unsigned char bytes[16 * N];
  if (!random_pool::for_this_thread().take(bytes, sizeof bytes)) return false;
  for (std::size_t i = 0; i < N; ++i) {
    base64url_encode_fast(std::string_view(reinterpret_cast<const char*>(bytes) + 16 * i, 16),
                          ids[i].text);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading: from a verified payload (see detail/json_document.hpp and jwt.hpp's open_token).
// ---------------------------------------------------------------------------------------------

// The session members of a verified token (both kinds carry them), as views into its payload.
struct session_claims_view {
  std::string_view subject;
  std::string_view session_id;
  std::string_view token_id;
  std::uint64_t version = 0;
  std::chrono::sys_seconds auth_time{};
  std::string_view jkt;  // cnf.jkt: the DPoP key the session is bound to; empty when unbound
};

// The length of a SHA-256 thumbprint in base64url (RFC 7638, RFC 9449 §6).
inline constexpr std::size_t kThumbprintChars = 43;

// Whether text can be a SHA-256 JWK thumbprint as DPoP writes it: 43 base64url characters.
inline bool is_thumbprint(std::string_view text) noexcept {
  if (text.size() != kThumbprintChars) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return kBase64UrlDecodeTable[static_cast<unsigned char>(c)] != 0xFF;
  });
}

// cnf, when present, is exactly {"jkt": a thumbprint} (RFC 9449 §6.1): the manager writes no
// other confirmation method, and a token claiming one it does not check must not pass as
// unbound. (Only the strict reader holds nested objects, so a bound token's payload is a DOM.)
inline std::error_code read_confirmation(const json_document& payload, std::string_view& jkt) {
  const auto cnf = payload.find(member_name::cnf);
  if (!cnf) return {};
  const nlohmann::json* object = cnf->dom();
  if (object == nullptr || !object->is_object() || object->size() != 1) {
    return errc::invalid_claim;
  }
  const auto member = object->find("jkt");
  if (member == object->end() || !member->is_string()) return errc::invalid_claim;
  const auto& value = member->get_ref<const std::string&>();
  if (!is_thumbprint(value)) return errc::invalid_claim;
  jkt = value;
  return {};
}

// Reads sub, sid, jti (non-empty strings), then requires iat and exp, then ver (an unsigned
// integer), auth_time (a NumericDate) and cnf if present; missing_claim or invalid_claim.
inline std::error_code read_session_claims(const json_document& payload,
                                           const registered_claims_view& registered,
                                           session_claims_view& out) {
  for (const auto& [name, slot] :
       {std::pair{member_name::sub, &out.subject}, std::pair{member_name::sid, &out.session_id},
        std::pair{member_name::jti, &out.token_id}}) {
    const auto value = payload.find(name);
    if (!value) return errc::missing_claim;
    if (!value->is_string() || value->string().empty()) return errc::invalid_claim;
    *slot = value->string();
  }
  if (!registered.issued_at || !registered.expires_at) return errc::missing_claim;
  const auto ver = payload.find(member_name::ver);
  if (!ver) return errc::missing_claim;
  if (!ver->is_unsigned()) return errc::invalid_claim;
  out.version = ver->unsigned_number();
  const auto auth_time = payload.find(member_name::auth_time);
  if (!auth_time) return errc::missing_claim;
  auto at = numeric_date_of(*auth_time);
  if (!at) return at.error();
  out.auth_time = *at;
  return read_confirmation(payload, out.jkt);
}

// The registered and session claims of a verified token, read in the order every manager call
// reads them: the registered claims (their types), issuer and audience, the times by check_times
// (each call knows which of them apply: revoke ignores exp, refresh checks them after the
// session's absolute end), then the session claims.
struct session_reading {
  registered_claims_view registered;
  session_claims_view session;
};

template <class CheckTimes>
std::error_code read_session_token(const json_document& payload, const Validator& validator,
                                   CheckTimes&& check_times, session_reading& out) {
  if (auto ec = validator_access::read_and_check(
          validator, payload, std::forward<CheckTimes>(check_times), out.registered)) {
    return ec;
  }
  return read_session_claims(payload, out.registered, out.session);
}

// What validate reads from an access token: all of the above, every time checked.
inline std::error_code read_access_claims(const json_document& payload, const Validator& validator,
                                          std::chrono::sys_seconds now, session_reading& out) {
  if (auto ec = validator_access::read_and_check(validator, payload, now, out.registered)) {
    return ec;
  }
  return read_session_claims(payload, out.registered, out.session);
}

// The custom claims of a payload (every member whose name is not reserved), as issued.
inline void copy_extra_claims(const json_document& payload, nlohmann::json& extra) {
  payload.for_each_member([&](std::string_view name, member_name known, const json_value& value) {
    if (!is_reserved_claim(known)) extra[std::string(name)] = value.to_json();
  });
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

// What both tokens of a pair say alike.
struct session_token_claims {
  std::string_view subject;
  std::string_view session_id;
  std::uint64_t version;
  std::chrono::sys_seconds auth_time;
  std::chrono::sys_seconds issued_at;
  std::string_view jkt{};  // the DPoP key's thumbprint for a bound session: cnf.jkt; else empty
};

// Writes the claims object of the manager's tokens: the bytes nlohmann::json::dump() gives for the
// same members (names in sorted order, the extra ones merged in), without building a DOM. The
// issuer and audience members are written once, at construction.
class session_claims_writer {
 public:
  // Throws std::invalid_argument when the issuer or the audience is not valid UTF-8: no token
  // could carry it.
  session_claims_writer(std::string_view issuer, std::string_view audience)
      : iss_member_(configured_member("iss", "issuer", issuer)),
        aud_member_(configured_member("aud", "audience", audience)) {}

  // extra holds no reserved name (check_extra_claims). Throws nlohmann::json::type_error when the
  // subject, or a name or value among the extra claims, is not valid UTF-8.
  std::string write(const session_token_claims& c, std::string_view jti,
                    std::chrono::sys_seconds exp, const nlohmann::json& extra) const {
    std::string out;
    out.reserve(128 + iss_member_.size() + aud_member_.size() + c.subject.size() +
                c.session_id.size() + jti.size() + (c.jkt.empty() ? 0 : 20 + c.jkt.size()));
    out.push_back('{');
    // Extra members go between the registered ones, in sorted order: the ones before "aud" first
    // (the only place where no comma precedes a member), the rest each with its comma.
    auto next_extra = extra.cbegin();
    bool first = true;
    const auto extras_before = [&](std::optional<std::string_view> name) {
      for (; next_extra != extra.cend() && (!name || std::string_view(next_extra.key()) < *name);
           ++next_extra) {
        append_json_name(out, next_extra.key(), first);
        out += next_extra.value().dump();
      }
    };
    extras_before("aud");
    if (!first) out.push_back(',');
    out.append(aud_member_);
    first = false;
    extras_before("auth_time");
    out.append(std::string_view(R"(,"auth_time":)"));
    append_json_integer(out, c.auth_time.time_since_epoch().count());
    if (!c.jkt.empty()) {
      // Reserved, so no extra claim is named cnf; one may sort before it ("b...", "c...").
      extras_before("cnf");
      out.append(std::string_view(R"(,"cnf":{"jkt":)"));
      append_json_string(out, c.jkt);
      out.push_back('}');
    }
    extras_before("exp");
    out.append(std::string_view(R"(,"exp":)"));
    append_json_integer(out, exp.time_since_epoch().count());
    extras_before("iat");
    out.append(std::string_view(R"(,"iat":)"));
    append_json_integer(out, c.issued_at.time_since_epoch().count());
    extras_before("iss");
    out.push_back(',');
    out.append(iss_member_);
    extras_before("jti");
    out.append(std::string_view(R"(,"jti":)"));
    append_json_string(out, jti);
    extras_before("sid");
    out.append(std::string_view(R"(,"sid":)"));
    append_json_string(out, c.session_id);
    extras_before("sub");
    out.append(std::string_view(R"(,"sub":)"));
    append_json_string(out, c.subject);
    extras_before("ver");
    out.append(std::string_view(R"(,"ver":)"));
    append_json_integer(out, c.version);
    extras_before(std::nullopt);
    out.push_back('}');
    return out;
  }

 private:
  // `"name":value` for a configured string, as nlohmann::json would write it.
  static std::string configured_member(std::string_view name, std::string_view option,
                                       std::string_view value) {
    std::string out;
    bool first = true;
    append_json_name(out, name, first);
    try {
      append_json_string(out, value);
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument("tegata: SessionOptions::" + std::string(option) +
                                  " must be valid UTF-8");
    }
    return out;
  }

  std::string iss_member_;
  std::string aud_member_;
};

// Whether a payload the manager wrote with custom claims stays within the limits validate applies
// to custom claims (their count and depth): a token it would refuse is never handed out.
inline std::error_code check_custom_claims_limits(std::string_view claims,
                                                  const jws::Limits& limits) {
  json_object_storage read;
  return read_claims_object(claims, limits, read);
}

}  // namespace tegata::detail
