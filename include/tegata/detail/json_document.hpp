// tegata/detail/json_document.hpp - a verified JSON object (a token's header or its claims) as
// the checks read it: the one interface between the token logic and the two JSON readers.
//
// Two readers can produce the object. The flat reader (detail/fast_json.hpp) covers the shape
// headers and claims nearly always have, and builds nothing: its values are views into the text.
// The strict reader (detail/json.hpp) reads every other JSON text into an nlohmann DOM.
// read_json_object tries the first and falls back to the second, and the answer, error included,
// is always the strict reader's (tests/fuzz/claims_differential.cpp checks it). json_document
// then hides which of them ran: jws.hpp's header reader, claims.hpp, the session claims and the
// manager are written once, against json_document and json_value, so both paths apply the same
// rules in the same order.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/detail/fast_json.hpp"
#include "tegata/detail/inline.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/detail/json_limits.hpp"
#include "tegata/detail/member_names.hpp"
#include "tegata/error.hpp"

namespace tegata::detail {

// One member's value. A view: valid while the document it came from is.
class json_value {
 public:
  bool is_string() const noexcept {
    return flat_ ? flat_->type == flat_value::kind::string : dom_->is_string();
  }
  // Only after is_string().
  std::string_view string() const noexcept {
    return flat_ ? flat_->text.view() : std::string_view(dom_->get_ref<const std::string&>());
  }

  // JSON number_unsigned: what nlohmann_json makes of an integer without sign that fits in 64
  // bits (the only numbers the flat reader holds).
  bool is_unsigned() const noexcept {
    return flat_ ? flat_->type == flat_value::kind::number : dom_->is_number_unsigned();
  }
  // Only after is_unsigned().
  std::uint64_t unsigned_number() const noexcept {
    return flat_ ? flat_->number : dom_->get<std::uint64_t>();
  }

  bool is_boolean() const noexcept {
    return flat_ ? flat_->type == flat_value::kind::boolean : dom_->is_boolean();
  }
  // Only after is_boolean().
  bool boolean() const noexcept { return flat_ ? flat_->boolean : dom_->get<bool>(); }

  // The DOM value, or nullptr for a value of the flat reader (which holds no other numbers than
  // unsigned integers: see claims.hpp's NumericDate).
  const nlohmann::json* dom() const noexcept { return dom_; }

  // Visits the elements of an array as strings (nullopt for an element that is not a string)
  // until visit returns false. False when the value is not an array.
  template <class Visit>
  bool visit_strings(Visit&& visit) const {
    if (flat_) {
      if (flat_->type != flat_value::kind::string_array) return false;
      for (const text_span s : object_->strings(*flat_)) {
        if (!visit(std::optional<std::string_view>(s.view()))) break;
      }
      return true;
    }
    if (!dom_->is_array()) return false;
    for (const auto& element : *dom_) {
      const std::optional<std::string_view> s =
          element.is_string()
              ? std::optional<std::string_view>(element.get_ref<const std::string&>())
              : std::nullopt;
      if (!visit(s)) break;
    }
    return true;
  }

  // Only for an array.
  std::size_t array_size() const noexcept { return flat_ ? flat_->count : dom_->size(); }

  // The value as the strict reader would have built it.
  nlohmann::json to_json() const;

 private:
  friend class json_document;
  json_value(const flat_object& object, const flat_value& value) noexcept
      : object_(&object), flat_(&value) {}
  explicit json_value(const nlohmann::json& value) noexcept : dom_(&value) {}

  const flat_object* object_ = nullptr;
  const flat_value* flat_ = nullptr;  // set: a value of the flat reader; null: dom_ is
  const nlohmann::json* dom_ = nullptr;
};

// A JSON object, from either reader. A view: the flat_object (and the text it points into) or the
// DOM must outlive it.
class json_document {
 public:
  explicit json_document(const flat_object& object) noexcept : flat_(&object) {}
  // object must be a JSON object.
  explicit json_document(const nlohmann::json& object) noexcept : dom_(&object) {}

  std::optional<json_value> find(member_name name) const noexcept {
    if (flat_) {
      const flat_value* value = flat_->find(name);
      if (value == nullptr) return std::nullopt;
      return json_value(*flat_, *value);
    }
    const auto it = dom_->find(name_of(name));
    if (it == dom_->end()) return std::nullopt;
    return json_value(*it);
  }

  // The member of any name (as its unescaped bytes), known to tegata or not.
  std::optional<json_value> find(std::string_view name) const noexcept {
    if (flat_) {
      // The flat reader holds names without escapes: their bytes are their values.
      for (const flat_member& member : *flat_) {
        if (member.name.view() == name) return json_value(*flat_, member.value);
      }
      return std::nullopt;
    }
    const auto it = dom_->find(name);
    if (it == dom_->end()) return std::nullopt;
    return json_value(*it);
  }

  // Calls f(std::string_view name, member_name known, json_value value) for every member.
  template <class F>
  void for_each_member(F&& f) const {
    if (flat_) {
      for (const flat_member& member : *flat_) {
        f(member.name.view(), member.known, json_value(*flat_, member.value));
      }
      return;
    }
    for (const auto& [name, value] : dom_->items()) {
      f(std::string_view(name), classify_member(name), json_value(value));
    }
  }

  // The whole object as the strict reader would have built it.
  nlohmann::json to_json() const;

 private:
  const flat_object* flat_ = nullptr;  // set: the flat reader's object; null: dom_ is
  const nlohmann::json* dom_ = nullptr;
};

// What read_json_object reads into: the flat reader's object, or the strict reader's DOM when the
// flat reader deferred. Lives on the caller's stack; the text must outlive it.
struct json_object_storage {
  flat_object flat;
  std::optional<nlohmann::json> dom;

  json_document document() const noexcept {
    return dom ? json_document(*dom) : json_document(flat);
  }
};

// Reads text, which must be one JSON object within limits: into out.flat when the flat reader
// accepts it (no DOM is built), into out.dom otherwise. Errors are the strict reader's: bad_json,
// duplicate_member, too_deep, too_large.
std::error_code read_json_object(std::string_view text, const json_limits& limits,
                                 json_object_storage& out);

}  // namespace tegata::detail

#if !defined(TEGATA_COMPILED_LIB)
#include "tegata/detail/json_document_inl.hpp"
#endif
