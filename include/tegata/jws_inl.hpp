// tegata/jws_inl.hpp - the definitions of tegata/jws.hpp (tegata/detail/inline.hpp says why they
// are apart).
#pragma once

#include "tegata/jws.hpp"

namespace tegata::jws {

TEGATA_INLINE std::error_code detail::read_header(const tegata::detail::json_document& object,
                                                  Header& header) {
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

TEGATA_INLINE std::error_code detail::parse_header_into(std::string_view json_text,
                                                        std::size_t max_depth, Header& header) {
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

TEGATA_INLINE Result<Header> parse_header(std::string_view json_text, std::size_t max_depth) {
  Header header;
  if (auto ec = detail::parse_header_into(json_text, max_depth, header)) return ec;
  return header;
}

TEGATA_INLINE std::string make_header(std::string_view alg, std::string_view kid,
                                      std::string_view typ) {
  std::string header;
  if (!detail::append_header(header, alg, kid, typ)) {
    // The first string that is not UTF-8 makes the serializer throw its type_error.
    for (const std::string_view s : {alg, kid, typ}) static_cast<void>(nlohmann::json(s).dump());
  }
  return header;
}

}  // namespace tegata::jws
