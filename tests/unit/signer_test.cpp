// The Signer interface as a caller meets it: sign(typ, payload) does not compile with its two
// arguments swapped, and signing needs no JSON library.
//
// The key classes and signer.hpp come first, alone: nlohmann_json must not have been included by
// them (it is what made every algorithm header preprocess to about 190,000 lines).
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/signer.hpp"

#if defined(NLOHMANN_JSON_VERSION_MAJOR)
#error "signer.hpp or a key class includes nlohmann_json; signing needs only jws/compact.hpp"
#endif

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <string_view>

#include "tegata/error.hpp"
#include "tegata/jws.hpp"
#include "tegata/keys/key_ring.hpp"
#include "tegata/session/manager.hpp"

namespace {

using tegata::TokenType;

template <class S>
constexpr bool signs = requires(const S& s, TokenType typ, std::string_view payload) {
  s.sign(typ, payload);
};
template <class S>
constexpr bool signs_swapped = requires(const S& s, TokenType typ, std::string_view payload) {
  s.sign(payload, typ);
};
template <class S>
constexpr bool signs_two_views = requires(const S& s, std::string_view text) {
  s.sign(text, text);
};
template <class S>
constexpr bool signs_a_literal_typ = requires(const S& s, std::string_view payload) {
  s.sign("JWT", payload);
};

template <class S>
constexpr bool typ_is_checked =
    tegata::Signer<S> && signs<S> && !signs_swapped<S> && !signs_two_views<S> &&
    !signs_a_literal_typ<S>;

static_assert(typ_is_checked<tegata::HmacKey>);
static_assert(typ_is_checked<tegata::RsaKey>);
static_assert(typ_is_checked<tegata::EcdsaKey>);
static_assert(typ_is_checked<tegata::EddsaKey>);
static_assert(typ_is_checked<tegata::AnyKey>);
static_assert(typ_is_checked<tegata::KeyRing>);

// A Signer written before TokenType, taking the typ as a std::string_view, is still one.
struct ViewSigner {
  tegata::Result<std::string> sign(std::string_view typ, std::string_view payload) const;
  std::error_code verify(const tegata::jws::Parsed& token) const;
};
static_assert(tegata::Signer<ViewSigner>);

static_assert(TokenType().empty());
static_assert(TokenType("JWT").value() == "JWT");
static_assert(tegata::kAccessTokenType == "at+jwt");
static_assert(tegata::kRefreshTokenType == "rt+jwt");
static_assert(!(tegata::kAccessTokenType == tegata::kRefreshTokenType));
static_assert(std::string_view(tegata::kAccessTokenType) == "at+jwt");

}  // namespace

TEST_CASE("signer: the typ is written as given, and an empty one is left out", "[signer]") {
  const tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, 's'), "k1");
  for (const TokenType typ : {TokenType("JWT"), tegata::kAccessTokenType, TokenType()}) {
    auto token = key.sign(typ, R"({"sub":"alice"})");
    REQUIRE(token);
    auto parsed = tegata::jws::parse(*token);
    REQUIRE(parsed);
    CHECK(parsed->header.has_typ == !typ.empty());
    CHECK(parsed->header.typ == typ);
    CHECK(parsed->header.kid == "k1");
    CHECK(key.verify(*parsed) == std::error_code{});
  }
}
