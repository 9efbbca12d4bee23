// tegata/validator_inl.hpp - the definitions of tegata/validator.hpp (tegata/detail/inline.hpp says
// why they are apart).
#pragma once

#include "tegata/validator.hpp"

namespace tegata {

TEGATA_INLINE Validator::Validator(ValidatorOptions options) : options_(std::move(options)) {
  if (options_.leeway < std::chrono::seconds{0} || options_.leeway > kMaxLeeway) {
    throw std::invalid_argument("tegata: leeway must be between 0 and 300 seconds");
  }
  if ((options_.issuer && options_.issuer->empty()) ||
      (options_.audience && options_.audience->empty()) ||
      (options_.type && options_.type->empty())) {
    throw std::invalid_argument("tegata: a configured issuer, audience or type must not be empty");
  }
  const jws::Limits& limits = options_.limits;
  // A bound of 0 is a mistake (a field left unset), never a policy. A max_header_bytes above
  // max_token_bytes is allowed: it only means that max_token_bytes decides (lowering the token
  // size alone must not make the defaults invalid).
  if (limits.max_token_bytes == 0 || limits.max_header_bytes == 0 || limits.max_json_depth == 0 ||
      limits.max_claims == 0) {
    throw std::invalid_argument(
        "tegata: max_token_bytes, max_header_bytes, max_json_depth and max_claims must be "
        "positive");
  }
  if (limits.max_json_depth > jws::kMaxJsonDepth) {
    throw std::invalid_argument("tegata: max_json_depth must not exceed " +
                                std::to_string(jws::kMaxJsonDepth));
  }
}

}  // namespace tegata
