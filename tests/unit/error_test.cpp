// errc, the "tegata" error category, and Result<T> / Result<void>.
#include "tegata/error.hpp"

#include <catch2/catch_test_macros.hpp>
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
constexpr int kLast = static_cast<int>(errc::cross_site_request);

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
