// tegata/session/claims_codec_inl.hpp - the definitions of tegata/session/claims_codec.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/session/claims_codec.hpp"

namespace tegata::detail {

TEGATA_INLINE const nlohmann::json& empty_json_object() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

TEGATA_INLINE std::error_code check_extra_claims(const nlohmann::json& extra) {
  if (!extra.is_object()) return errc::invalid_argument;
  for (const auto& item : extra.items()) {
    if (is_reserved_claim(item.key())) return errc::reserved_claim;
  }
  return {};
}

TEGATA_INLINE std::error_code read_confirmation(const json_document& payload,
                                                std::string_view& jkt) {
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

TEGATA_INLINE std::error_code read_session_claims(const json_document& payload,
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

TEGATA_INLINE std::error_code read_access_claims(const json_document& payload,
                                                 const Validator& validator,
                                                 std::chrono::sys_seconds now,
                                                 session_reading& out) {
  if (auto ec = validator_access::read_and_check(validator, payload, now, out.registered)) {
    return ec;
  }
  return read_session_claims(payload, out.registered, out.session);
}

TEGATA_INLINE void copy_extra_claims(const json_document& payload, nlohmann::json& extra) {
  payload.for_each_member([&](std::string_view name, member_name known, const json_value& value) {
    if (!is_reserved_claim(known)) extra[std::string(name)] = value.to_json();
  });
}

TEGATA_INLINE session_claims_writer::session_claims_writer(std::string_view issuer,
                                                           std::string_view audience)
    : iss_member_(configured_member("iss", "issuer", issuer)),
      aud_member_(configured_member("aud", "audience", audience)) {}

TEGATA_INLINE std::string session_claims_writer::write(const session_token_claims& c,
                                                       std::string_view jti,
                                                       std::chrono::sys_seconds exp,
                                                       const nlohmann::json& extra) const {
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

TEGATA_INLINE std::string session_claims_writer::configured_member(std::string_view name,
                                                                   std::string_view option,
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

TEGATA_INLINE std::error_code check_custom_claims_limits(std::string_view claims,
                                                         const jws::Limits& limits) {
  json_object_storage read;
  return read_claims_object(claims, limits, read);
}

}  // namespace tegata::detail
