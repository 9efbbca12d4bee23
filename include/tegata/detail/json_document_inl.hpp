// tegata/detail/json_document_inl.hpp - the definitions of tegata/detail/json_document.hpp
// (tegata/detail/inline.hpp says why they are apart).
#pragma once

#include "tegata/detail/json_document.hpp"

namespace tegata::detail {

TEGATA_INLINE nlohmann::json json_value::to_json() const {
  if (dom_) return *dom_;
  switch (flat_->type) {
    case flat_value::kind::string: return nlohmann::json(std::string(flat_->text.view()));
    case flat_value::kind::number: return nlohmann::json(flat_->number);  // number_unsigned
    case flat_value::kind::boolean: return nlohmann::json(flat_->boolean);
    case flat_value::kind::null: return nlohmann::json(nullptr);
    case flat_value::kind::string_array: {
      nlohmann::json array = nlohmann::json::array();
      for (const text_span s : object_->strings(*flat_)) array.push_back(std::string(s.view()));
      return array;
    }
  }
  return nlohmann::json();
}

TEGATA_INLINE nlohmann::json json_document::to_json() const {
  if (dom_) return *dom_;
  // Inserted in name order, each at the end of the map: no searching, no comparisons beyond
  // the sort of at most kFlatMaxMembers names.
  std::array<const flat_member*, kFlatMaxMembers> sorted;
  std::size_t n = 0;
  for (const flat_member& member : *flat_) sorted[n++] = &member;
  std::sort(
      sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n),
      [](const flat_member* a, const flat_member* b) { return a->name.view() < b->name.view(); });
  nlohmann::json result = nlohmann::json::object();
  auto& members = result.get_ref<nlohmann::json::object_t&>();
  for (std::size_t i = 0; i < n; ++i) {
    members.emplace_hint(members.end(), std::string(sorted[i]->name.view()),
                         json_value(*flat_, sorted[i]->value).to_json());
  }
  return result;
}

TEGATA_INLINE std::error_code read_json_object(std::string_view text, const json_limits& limits,
                                               json_object_storage& out) {
  out.dom.reset();
  switch (fast_parse_object(text, limits, out.flat)) {
    case fast_parse_result::accepted:
      // The flat reader holds at most kFlatMaxMembers, so the count is known here. The strict
      // reader would say too_large as well: it meets no other error before the member over the
      // bound, since the flat reader found none in the whole text.
      return out.flat.size() > limits.max_members ? make_error_code(errc::too_large)
                                                  : std::error_code{};
    case fast_parse_result::not_an_object:
    case fast_parse_result::syntax_error: return errc::bad_json;
    case fast_parse_result::deferred: break;
  }
  auto object = parse_json_object(text, limits);
  if (!object) return object.error();
  out.dom = std::move(*object);
  return {};
}

}  // namespace tegata::detail
