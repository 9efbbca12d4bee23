// errc, the "tegata" error category, and Result<T> / Result<void>.
#include "tegata/error.hpp"

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace {

using tegata::bad_result_access;
using tegata::errc;
using tegata::Result;

constexpr int kFirst = static_cast<int>(errc::malformed);
constexpr int kLast = static_cast<int>(errc::dpop_replayed);

Result<int> parse_positive(int v) {
  if (v <= 0) return errc::invalid_argument;
  return v;
}

}  // namespace

TEST_CASE("error: the category is named tegata", "[error]") {
  CHECK(std::string_view(tegata::error_category().name()) == "tegata");
  CHECK(&tegata::error_category() == &tegata::error_category());  // one instance
  const std::error_code ec = errc::bad_signature;
  CHECK(ec.category() == tegata::error_category());
  CHECK(std::string_view(ec.category().name()) == "tegata");
  CHECK(ec.value() == static_cast<int>(errc::bad_signature));
  CHECK(ec);  // no errc value is zero, so every code is an error
  CHECK(tegata::make_error_code(errc::expired) == errc::expired);
  CHECK(ec != errc::expired);
  CHECK(ec != std::make_error_code(std::errc::invalid_argument));
  STATIC_CHECK(std::is_error_code_enum_v<errc>);
}

TEST_CASE("error: every errc has a distinct message and a name", "[error]") {
  REQUIRE(kFirst == 1);
  std::set<std::string> messages;
  std::set<std::string_view> names;
  for (int v = kFirst; v <= kLast; ++v) {
    const auto e = static_cast<errc>(v);
    const std::error_code ec = e;
    const std::string message = ec.message();
    const std::string_view name = tegata::to_string(e);
    INFO("errc value " << v << " (" << name << "): " << message);
    CHECK_FALSE(message.empty());
    CHECK(message != "unknown tegata error");
    CHECK_FALSE(name.empty());
    CHECK(name != "unknown");
    CHECK(messages.insert(message).second);
    CHECK(names.insert(name).second);
  }
  CHECK(messages.size() == static_cast<std::size_t>(kLast - kFirst + 1));
  // Spot checks of the stable names.
  CHECK(tegata::to_string(errc::malformed) == "malformed");
  CHECK(tegata::to_string(errc::bad_signature) == "bad_signature");
  CHECK(tegata::to_string(errc::not_found) == "not_found");
  // Outside the enumeration: a fallback, never a crash.
  CHECK(tegata::error_category().message(kLast + 1) == "unknown tegata error");
  CHECK(tegata::error_category().message(0) == "unknown tegata error");
  CHECK(tegata::to_string(static_cast<errc>(kLast + 1)) == "unknown");
}

TEST_CASE("error: Result<T> holds a value or an error", "[error]") {
  const Result<int> ok = parse_positive(7);
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK(ok.value() == 7);
  CHECK(*ok == 7);
  CHECK(ok.error() == std::error_code{});
  CHECK_FALSE(ok.error());

  const Result<int> bad = parse_positive(-1);
  CHECK_FALSE(bad.has_value());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == errc::invalid_argument);

  const Result<int> from_code{std::error_code(errc::expired)};
  CHECK(from_code.error() == errc::expired);

  STATIC_CHECK_FALSE(std::is_convertible_v<Result<int>, bool>);  // explicit operator bool
}

TEST_CASE("error: Result<T> gives access to its value", "[error]") {
  Result<std::string> r = std::string("hello");
  CHECK(r->size() == 5);
  r->append("!");
  CHECK(*r == "hello!");
  r.value() += "?";
  CHECK(r.value() == "hello!?");
  const std::string moved = std::move(r).value();
  CHECK(moved == "hello!?");

  // Move-only values work too.
  Result<std::unique_ptr<int>> p = std::make_unique<int>(3);
  REQUIRE(p.has_value());
  CHECK(**p == 3);
  const std::unique_ptr<int> owned = std::move(p).value();
  CHECK(*owned == 3);
}

TEST_CASE("error: value() of a failed Result throws bad_result_access", "[error]") {
  Result<int> bad = errc::bad_signature;
  CHECK_THROWS_AS(bad.value(), bad_result_access);
  CHECK_THROWS_AS(std::as_const(bad).value(), bad_result_access);
  CHECK_THROWS_AS(std::move(bad).value(), bad_result_access);
  try {
    (void)parse_positive(0).value();
    FAIL("value() did not throw");
  } catch (const bad_result_access& e) {
    CHECK(e.code() == errc::invalid_argument);
    CHECK_FALSE(std::string(e.what()).empty());
  }
  // It is a std::system_error, so generic handlers catch it.
  CHECK_THROWS_AS(parse_positive(0).value(), std::system_error);
}

TEST_CASE("error: Result<void> is success or an error", "[error]") {
  const Result<void> ok;
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK_FALSE(ok.error());
  CHECK_NOTHROW(ok.value());

  const Result<void> bad = errc::revoked;
  CHECK_FALSE(bad.has_value());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == errc::revoked);
  CHECK_THROWS_AS(bad.value(), bad_result_access);
  try {
    bad.value();
  } catch (const bad_result_access& e) {
    CHECK(e.code() == errc::revoked);
  }

  const Result<void> from_code{std::error_code(errc::store_unavailable)};
  CHECK(from_code.error() == errc::store_unavailable);
  // An empty error_code means success.
  const Result<void> from_empty{std::error_code{}};
  CHECK(from_empty.has_value());
}

TEST_CASE("error: to_string(std::error_code) names any error without allocating", "[error]") {
  STATIC_CHECK(std::is_same_v<decltype(tegata::to_string(std::error_code{})), std::string_view>);
  STATIC_CHECK(noexcept(tegata::to_string(std::error_code{})));
  for (int v = kFirst; v <= kLast; ++v) {
    const auto e = static_cast<errc>(v);
    INFO("errc value " << v);
    CHECK(tegata::to_string(std::error_code(e)) == tegata::to_string(e));
  }
  // What a Result hands out.
  const Result<int> failed = parse_positive(0);
  CHECK(tegata::to_string(failed.error()) == "invalid_argument");
  // Success, a value outside the enumeration, and codes of other categories.
  CHECK(tegata::to_string(std::error_code{}) == "success");
  CHECK(tegata::to_string(std::error_code(kLast + 1, tegata::error_category())) == "unknown");
  CHECK(tegata::to_string(std::make_error_code(std::errc::timed_out)) == "generic");
  CHECK(tegata::to_string(std::error_code(ETIMEDOUT, std::system_category())) == "system");
}

TEST_CASE("error: every errc has the class that docs/api.md gives it", "[error]") {
  using tegata::ErrorClass;
  // docs/api.md, "enum class tegata::errc": keep the two in step.
  const std::map<errc, ErrorClass> documented = {
      {errc::malformed, ErrorClass::unauthenticated},
      {errc::too_large, ErrorClass::unauthenticated},
      {errc::bad_encoding, ErrorClass::unauthenticated},
      {errc::bad_json, ErrorClass::unauthenticated},
      {errc::duplicate_member, ErrorClass::unauthenticated},
      {errc::too_deep, ErrorClass::unauthenticated},
      {errc::unsupported_algorithm, ErrorClass::unauthenticated},
      {errc::unsupported_critical, ErrorClass::unauthenticated},
      {errc::unknown_key, ErrorClass::unauthenticated},
      {errc::bad_signature, ErrorClass::unauthenticated},
      {errc::wrong_type, ErrorClass::unauthenticated},
      {errc::wrong_issuer, ErrorClass::unauthenticated},
      {errc::wrong_audience, ErrorClass::unauthenticated},
      {errc::missing_claim, ErrorClass::unauthenticated},
      {errc::invalid_claim, ErrorClass::unauthenticated},
      {errc::expired, ErrorClass::unauthenticated},
      {errc::not_yet_valid, ErrorClass::unauthenticated},
      {errc::issued_in_future, ErrorClass::unauthenticated},
      {errc::revoked, ErrorClass::unauthenticated},
      {errc::session_revoked, ErrorClass::unauthenticated},
      {errc::version_mismatch, ErrorClass::unauthenticated},
      {errc::refresh_reused, ErrorClass::unauthenticated},
      {errc::session_expired, ErrorClass::unauthenticated},
      {errc::reserved_claim, ErrorClass::server_error},
      {errc::store_unavailable, ErrorClass::unavailable},
      {errc::store_full, ErrorClass::unavailable},
      {errc::not_supported, ErrorClass::server_error},
      {errc::key_cannot_sign, ErrorClass::server_error},
      {errc::crypto_failure, ErrorClass::server_error},
      {errc::invalid_argument, ErrorClass::bad_request},
      {errc::not_found, ErrorClass::unauthenticated},
      {errc::cross_site_request, ErrorClass::forbidden},
      {errc::out_of_memory, ErrorClass::server_error},
      {errc::dpop_invalid, ErrorClass::unauthenticated},
      {errc::use_dpop_nonce, ErrorClass::unauthenticated},
      {errc::dpop_required, ErrorClass::unauthenticated},
      {errc::dpop_mismatch, ErrorClass::unauthenticated},
      {errc::dpop_replayed, ErrorClass::unauthenticated},
  };
  for (int v = kFirst; v <= kLast; ++v) {
    const auto e = static_cast<errc>(v);
    INFO("errc value " << v << " (" << tegata::to_string(e) << ")");
    const auto it = documented.find(e);
    REQUIRE(it != documented.end());  // a new errc needs its class here and in docs/api.md
    CHECK(tegata::classify(e) == it->second);
    CHECK(tegata::classify(std::error_code(e)) == it->second);
    CHECK(tegata::classify(e) != ErrorClass::none);
  }
  CHECK(documented.size() == static_cast<std::size_t>(kLast - kFirst + 1));
  STATIC_CHECK(tegata::classify(errc::expired) == ErrorClass::unauthenticated);
  STATIC_CHECK(noexcept(tegata::classify(std::error_code{})));

  // Not a tegata error: success is none; anything unknown is the server's problem.
  CHECK(tegata::classify(std::error_code{}) == ErrorClass::none);
  CHECK(tegata::classify(std::error_code(kLast + 1, tegata::error_category())) ==
        ErrorClass::server_error);
  CHECK(tegata::classify(std::make_error_code(std::errc::timed_out)) == ErrorClass::server_error);
}

TEST_CASE("error: each class has its HTTP status", "[error]") {
  using tegata::ErrorClass;
  STATIC_CHECK(tegata::http_status(ErrorClass::none) == 200);
  STATIC_CHECK(tegata::http_status(ErrorClass::unauthenticated) == 401);
  STATIC_CHECK(tegata::http_status(ErrorClass::bad_request) == 400);
  STATIC_CHECK(tegata::http_status(ErrorClass::forbidden) == 403);
  STATIC_CHECK(tegata::http_status(ErrorClass::unavailable) == 503);
  STATIC_CHECK(tegata::http_status(ErrorClass::server_error) == 500);
  CHECK(tegata::http_status(tegata::classify(std::error_code(errc::session_revoked))) == 401);
  CHECK(tegata::http_status(tegata::classify(std::error_code(errc::store_unavailable))) == 503);
}
