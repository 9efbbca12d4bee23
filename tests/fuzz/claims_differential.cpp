// tests/fuzz/claims_differential.cpp - differential fuzzing of tegata's validation fast path
// against the strict full path.
//
// The fast path (include/tegata/detail/fast_json.hpp and what reads its result) accepts a strict
// subset of JSON and defers everything else to the strict reader, detail::parse_json_object
// (nlohmann_json plus tegata's duplicate-member and depth checks). For every input, at several
// depth limits, this checks:
//  1. whenever the flat reader accepts, the strict reader accepts too and builds the same values
//     with the same JSON types (nlohmann's own operator== would call 1 and 1u equal: not enough);
//     and its index of known member names agrees with the members;
//  2. whenever the flat reader says not_an_object or syntax_error, the strict reader says
//     bad_json under the same limits: the depth limits below, with no bound on the members, with
//     the header's bound (jws::kMaxHeaderMembers) and with each claims bound of property 3b;
//     and a member bound changes the flat reader's answer only from syntax_error to deferred;
//  3. every reader built on the two (the JWS header, the registered claims, everything
//     SessionManager::validate reads, the custom claims) gives the same result, error code
//     included, whichever document it reads, and the public jws::parse_header (which takes the
//     fast path when it can) answers exactly what the strict path alone answers, under the same
//     bound on the header's members;
//  3b. under a bound on the number of claims (jws::Limits::max_claims), the claims reader of
//     verify_jwt and SessionManager (fast path when it can) answers exactly what the strict path
//     alone answers under that bound, values included, and the strict reader refuses
//     (too_large) exactly the objects it otherwise accepts with more members than the bound;
//  4. the fast base64url decoder and encoder agree with base64url.hpp's, byte for byte and on
//     every rejection, and both JSON string writers (detail/json_writer.hpp's for claims,
//     detail/json_string.hpp's for the header a Signer writes) agree with nlohmann::json::dump(),
//     the second answering false exactly where dump() throws.
// A violated property aborts with a message, so libFuzzer keeps the input.
//
// Build and run (clang, one job), from the repository root:
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
//           -D_GLIBCXX_ASSERTIONS -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -Iinclude
//           tests/fuzz/claims_differential.cpp -o claims_differential -lcrypto
//   ./claims_differential -max_total_time=300 -max_len=4096 -dict=tests/fuzz/dict/jws.dict CORPUS
//
// tests/unit/fast_path_test.cpp includes this file with TEGATA_CLAIMS_DIFFERENTIAL_NO_MAIN defined
// and runs check_differential() on a fixed set of boundary inputs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tegata/base64url.hpp"
#include "tegata/claims.hpp"
#include "tegata/detail/base64url_fast.hpp"
#include "tegata/detail/fast_json.hpp"
#include "tegata/detail/json_document.hpp"
#include "tegata/detail/json.hpp"
#include "tegata/detail/json_string.hpp"
#include "tegata/detail/json_writer.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/session/manager.hpp"
#include "tegata/validator.hpp"

namespace claims_differential {

using nlohmann::json;
using tegata::detail::fast_parse_result;
using tegata::detail::flat_object;

[[noreturn]] inline void violated(const char* property, std::string_view input) {
  std::fprintf(stderr, "claims_differential: %s\ninput (%zu bytes): ", property, input.size());
  for (const char c : input) std::fprintf(stderr, "%02x", static_cast<unsigned char>(c));
  std::fprintf(stderr, "\n");
  std::abort();
}

#define CLAIMS_DIFFERENTIAL_CHECK(condition, property) \
  do {                                                 \
    if (!(condition)) violated(property, input);       \
  } while (false)

// Equal values with equal JSON types, all the way down.
inline bool same_json(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        const auto other = b.find(it.key());
        if (other == b.end() || !same_json(*it, *other)) return false;
      }
      return true;
    }
    case json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same_json(a[i], b[i])) return false;
      }
      return true;
    }
    case json::value_t::string:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case json::value_t::boolean: return a.get<bool>() == b.get<bool>();
    case json::value_t::number_unsigned: return a.get<std::uint64_t>() == b.get<std::uint64_t>();
    case json::value_t::number_integer: return a.get<std::int64_t>() == b.get<std::int64_t>();
    case json::value_t::null: return true;
    default: return false;  // floats and binary never come out of the flat reader
  }
}

// --- What each reader yields, as comparable values ---------------------------------------------

struct header_result {
  std::error_code error;
  tegata::jws::Header header;
  bool operator==(const header_result& o) const {
    return error == o.error && header.alg == o.header.alg && header.typ == o.header.typ &&
           header.kid == o.header.kid && header.has_typ == o.header.has_typ &&
           header.has_kid == o.header.has_kid;
  }
};

template <class Object>
header_result read_header(const Object& object) {
  header_result r;
  r.error = tegata::jws::detail::read_header(tegata::detail::json_document(object), r.header);
  if (r.error) r.header = {};
  return r;
}

struct claims_result {
  std::error_code error;
  tegata::Claims claims;
  bool operator==(const claims_result& o) const {
    return error == o.error && claims.issuer == o.claims.issuer &&
           claims.subject == o.claims.subject && claims.audience == o.claims.audience &&
           claims.expires_at == o.claims.expires_at && claims.not_before == o.claims.not_before &&
           claims.issued_at == o.claims.issued_at && claims.jwt_id == o.claims.jwt_id;
  }
};

template <class Object>
claims_result read_claims(const Object& object) {
  claims_result r;
  auto claims = tegata::detail::owned_claims(tegata::detail::json_document(object));
  if (claims) {
    r.claims = std::move(*claims);
  } else {
    r.error = claims.error();
  }
  return r;
}

// Everything SessionManager::validate takes from a payload before the store, and the custom
// claims it returns.
struct access_result {
  std::error_code error;
  std::string subject, session_id, token_id;
  std::uint64_t version = 0;
  std::optional<std::chrono::sys_seconds> issued_at, expires_at;
  std::chrono::sys_seconds auth_time{};
  json extra = json::object();
  bool operator==(const access_result& o) const {
    return error == o.error && subject == o.subject && session_id == o.session_id &&
           token_id == o.token_id && version == o.version && issued_at == o.issued_at &&
           expires_at == o.expires_at && auth_time == o.auth_time && same_json(extra, o.extra);
  }
};

template <class Object>
access_result read_access(const Object& object, const tegata::Validator& validator,
                          std::chrono::sys_seconds now) {
  access_result r;
  const tegata::detail::json_document document(object);
  tegata::detail::session_reading read;
  r.error = tegata::detail::read_access_claims(document, validator, now, read);
  if (r.error) return r;
  r.subject = read.session.subject;
  r.session_id = read.session.session_id;
  r.token_id = read.session.token_id;
  r.version = read.session.version;
  r.issued_at = read.registered.issued_at;
  r.expires_at = read.registered.expires_at;
  r.auth_time = read.session.auth_time;
  tegata::detail::copy_extra_claims(document, r.extra);
  return r;
}

// Validators the access reading runs under: short configured values (which a fuzzer finds
// easily), and nothing configured.
inline const std::vector<tegata::Validator>& validators() {
  static const std::vector<tegata::Validator> all = [] {
    std::vector<tegata::Validator> v;
    tegata::ValidatorOptions configured;
    configured.issuer = "i";
    configured.audience = "a";
    configured.type = "at+jwt";
    configured.leeway = std::chrono::seconds{60};
    v.emplace_back(configured);
    tegata::ValidatorOptions bare;
    bare.allow_missing_exp = true;
    v.emplace_back(bare);
    return v;
  }();
  return all;
}

// Times at which the readers run: around small NumericDates (which a fuzzer writes) and now.
inline constexpr std::chrono::sys_seconds kTimes[] = {
    std::chrono::sys_seconds{std::chrono::seconds{0}},
    std::chrono::sys_seconds{std::chrono::seconds{50}},
    std::chrono::sys_seconds{std::chrono::seconds{1'700'000'000}}};

// --- The properties ------------------------------------------------------------------------------

// Property 2 under a member bound: the flat reader's answer under limits, against its answer
// without a bound (unbounded) and the strict reader's error under the same limits (strict_error,
// empty when it accepts).
inline void check_bounded_fast_parse(std::string_view input,
                                     const tegata::detail::json_limits& limits,
                                     fast_parse_result unbounded, std::error_code strict_error) {
  flat_object flat;
  const fast_parse_result fast = tegata::detail::fast_parse_object(input, limits, flat);
  CLAIMS_DIFFERENTIAL_CHECK(
      fast == unbounded ||
          (unbounded == fast_parse_result::syntax_error && fast == fast_parse_result::deferred),
      "a member bound changed the flat reader's answer otherwise than syntax_error to deferred");
  if (fast == fast_parse_result::syntax_error) {
    CLAIMS_DIFFERENTIAL_CHECK(strict_error == tegata::errc::bad_json,
                              "syntax_error under a member bound but the strict reader does not "
                              "say bad_json under it");
  }
}

inline void check_json(std::string_view input, std::size_t depth) {
  flat_object flat;
  const fast_parse_result fast = tegata::detail::fast_parse_object(input, depth, flat);
  auto strict = tegata::detail::parse_json_object(input, depth);

  if (fast == fast_parse_result::not_an_object) {
    CLAIMS_DIFFERENTIAL_CHECK(!strict && strict.error() == tegata::errc::bad_json,
                              "not_an_object but the strict reader does not say bad_json");
  }
  if (fast == fast_parse_result::syntax_error) {
    CLAIMS_DIFFERENTIAL_CHECK(!strict && strict.error() == tegata::errc::bad_json,
                              "syntax_error but the strict reader does not say bad_json");
  }
  if (fast == fast_parse_result::accepted) {
    CLAIMS_DIFFERENTIAL_CHECK(strict.has_value(),
                              "fast path accepted what the strict path rejects");
    CLAIMS_DIFFERENTIAL_CHECK(same_json(tegata::detail::json_document(flat).to_json(), *strict),
                              "fast path read other values or types than the strict path");
    // The index of known names agrees with the members.
    for (std::size_t n = 1; n < tegata::detail::kMemberNameCount; ++n) {
      const auto name = static_cast<tegata::detail::member_name>(n);
      const auto* found = flat.find(name);
      const auto it = strict->find(tegata::detail::name_of(name));
      CLAIMS_DIFFERENTIAL_CHECK((found != nullptr) == (it != strict->end()),
                                "the flat index disagrees with the members");
      if (found != nullptr) {
        CLAIMS_DIFFERENTIAL_CHECK(
            same_json(tegata::detail::json_document(flat).find(name)->to_json(), *it),
                                  "the flat index points at the wrong member");
      }
    }
    for (const auto& member : flat) {
      CLAIMS_DIFFERENTIAL_CHECK(member.known == tegata::detail::classify_member(member.name.view()),
                                "a member's recorded name class is wrong");
    }
    // Every reader gives the same result on both documents.
    CLAIMS_DIFFERENTIAL_CHECK(read_header(flat) == read_header(*strict),
                              "header reader differs between the paths");
    CLAIMS_DIFFERENTIAL_CHECK(read_claims(flat) == read_claims(*strict),
                              "registered claims differ between the paths");
    for (const auto& validator : validators()) {
      for (const auto now : kTimes) {
        CLAIMS_DIFFERENTIAL_CHECK(
            read_access(flat, validator, now) == read_access(*strict, validator, now),
            "access claims differ between the paths");
      }
    }
  }

  // Text the flat reader calls not_an_object holds no member for a bound to count, and the strict
  // reader calls it bad_json with or without one (property 2), so the bounded parses below are
  // skipped for it: the base64url inputs of tests/unit/fast_path_test.cpp are nearly all of that
  // kind, and these parses are the costly part.
  const bool bounds_can_matter = fast != fast_parse_result::not_an_object;

  // The public header parser (fast path when it can) answers what the strict path alone does,
  // under the same bound on the number of members.
  header_result strict_header;
  if (!bounds_can_matter) {
    strict_header.error = strict.error();
  } else {
    const tegata::detail::json_limits header_limits =
        tegata::jws::detail::header_json_limits(depth);
    auto bounded_header = tegata::detail::parse_json_object(input, header_limits);
    check_bounded_fast_parse(input, header_limits, fast, bounded_header.error());
    if (bounded_header) {
      strict_header = read_header(*bounded_header);
    } else {
      strict_header.error = bounded_header.error();
    }
  }
  header_result public_header;
  public_header.error = tegata::jws::detail::parse_header_into(input, depth, public_header.header);
  if (public_header.error) public_header.header = {};
  CLAIMS_DIFFERENTIAL_CHECK(public_header == strict_header,
                            "jws::parse_header differs from the strict path");

  // The claims reader under a member bound.
  if (!bounds_can_matter) return;
  for (const std::size_t max_claims :
       {std::size_t{1}, std::size_t{3}, tegata::detail::kFlatMaxMembers - 1, std::size_t{64}}) {
    const tegata::jws::Limits limits{.max_json_depth = depth, .max_claims = max_claims};
    tegata::detail::json_object_storage claims_read;
    const std::error_code read = tegata::detail::read_claims_object(input, limits, claims_read);
    auto bounded =
        tegata::detail::parse_json_object(input, tegata::detail::claims_json_limits(limits));
    check_bounded_fast_parse(input, tegata::detail::claims_json_limits(limits), fast,
                             bounded.error());
    CLAIMS_DIFFERENTIAL_CHECK(read == bounded.error(),
                              "the claims reader answers otherwise than the strict path under "
                              "a member bound");
    if (!read) {
      // A DOM comes from the strict reader itself (and may hold floats, which same_json does
      // not compare): nlohmann's equality is enough there.
      CLAIMS_DIFFERENTIAL_CHECK(claims_read.dom
                                    ? *claims_read.dom == *bounded
                                    : same_json(claims_read.document().to_json(), *bounded),
                                "the claims reader read other values than the strict path under "
                                "a member bound");
    }
    if (strict) {
      const bool over = strict->size() > max_claims;
      CLAIMS_DIFFERENTIAL_CHECK(
          over ? !bounded && bounded.error() == tegata::errc::too_large : bounded.has_value(),
          "the strict reader's member bound refuses the wrong objects");
    } else {
      CLAIMS_DIFFERENTIAL_CHECK(!bounded, "a member bound made the strict reader accept");
    }
  }
}

inline void check_base64url(std::string_view input) {
  auto strict = tegata::base64url_decode(input);
  const std::size_t n = tegata::detail::base64url_decoded_size(input.size());
  std::string fast(n == static_cast<std::size_t>(-1) ? 0 : n, '\0');
  const bool fast_ok = n != static_cast<std::size_t>(-1) &&
                       tegata::detail::base64url_decode_fast(input, fast.data());
  CLAIMS_DIFFERENTIAL_CHECK(fast_ok == strict.has_value(),
                            "fast base64url decoder accepts differently");
  if (fast_ok) {
    CLAIMS_DIFFERENTIAL_CHECK(fast == *strict, "fast base64url decoder decodes differently");
  }
  std::string encoded;
  tegata::detail::base64url_append_fast(input, encoded);
  CLAIMS_DIFFERENTIAL_CHECK(encoded == tegata::base64url_encode(input),
                            "fast base64url encoder encodes differently");
}

inline void check_json_writer(std::string_view input) {
  std::optional<std::string> reference;
  try {
    reference = json(input).dump();
  } catch (const json::exception&) {
  }
  std::optional<std::string> written;
  try {
    std::string out = "x";
    tegata::detail::append_json_string(out, input);
    written = out.substr(1);
  } catch (const json::exception&) {
  }
  CLAIMS_DIFFERENTIAL_CHECK(written == reference, "JSON string writer differs from dump()");

  std::string out = "x";
  const bool wrote = tegata::detail::try_append_json_string(out, input);
  CLAIMS_DIFFERENTIAL_CHECK(wrote ? reference == out.substr(1) : !reference && out == "x",
                            "JSON string writer of signers differs from dump()");
}

inline void check_differential(std::string_view input) {
  for (const std::size_t depth : {std::size_t{1}, std::size_t{2}, std::size_t{16}}) {
    check_json(input, depth);
  }
  check_base64url(input);
  check_json_writer(input);
}

#undef CLAIMS_DIFFERENTIAL_CHECK

}  // namespace claims_differential

#ifndef TEGATA_CLAIMS_DIFFERENTIAL_NO_MAIN
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  claims_differential::check_differential(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
