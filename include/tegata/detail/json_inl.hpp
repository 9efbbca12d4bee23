// tegata/detail/json_inl.hpp - the definitions of tegata/detail/json.hpp (tegata/detail/inline.hpp
// says why they are apart).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/detail/json.hpp"

namespace tegata::detail {

// The DOM builder behind parse_json_object: nlohmann's SAX events, with the checks above.
class strict_json_builder {
 public:
  using json = nlohmann::json;

  explicit strict_json_builder(json_limits limits) : limits_(limits) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& /*value*/) { return fail(errc::bad_json); }

  bool start_object(std::size_t /*elements*/) { return open(json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    // Counted before anything else is done with the member, so parsing stops at the first one
    // over the bound.
    if (stack_.size() == 1 && ++top_level_members_ > limits_.max_members) {
      return fail(errc::too_large);
    }
    if (stack_.back()->contains(name)) return fail(errc::duplicate_member);
    key_ = std::move(name);
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) {
    return fail(errc::bad_json);
  }

  errc error() const noexcept { return error_; }
  json& root() noexcept { return root_; }

 private:
  json* place(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  bool put(json&& value) {
    place(std::move(value));
    return true;
  }
  bool open(json&& container) {
    if (stack_.size() >= limits_.max_depth) return fail(errc::too_deep);
    // A child pointer stays valid: its parent receives no new element until the child closes.
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  bool fail(errc e) {
    if (error_ == errc{}) error_ = e;
    return false;
  }

  json_limits limits_;
  std::size_t top_level_members_ = 0;
  std::vector<json*> stack_;
  std::string key_;
  json root_;
  errc error_{};
};

TEGATA_INLINE Result<nlohmann::json> parse_json_object(std::string_view text, json_limits limits) {
  // nlohmann's reader stops at a raw NUL and skips a UTF-8 byte order mark; another parser would
  // read the bytes after the NUL, or refuse the BOM. Neither can appear in a token tegata writes,
  // so both are refused rather than read one way here and another way elsewhere.
  if (text.find('\0') != std::string_view::npos) return errc::bad_json;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") return errc::bad_json;
  strict_json_builder builder(limits);
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder,
                                            nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) return builder.error() == errc{} ? errc::bad_json : builder.error();
  if (!builder.root().is_object()) return errc::bad_json;
  return std::move(builder.root());
}

}  // namespace tegata::detail
