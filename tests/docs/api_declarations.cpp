// docs/api.md's four signature listings (<!-- snippet: api_jwt -->, api_verified_jwt,
// api_session_manager, api_revocation_store) are tegata's declarations. A listing is no program,
// and tegata's own declarations cannot be repeated (a default argument may be given once), so each
// is compiled as printed in a namespace of its own, doc, which sees tegata's names, and then
// compared with the real one. Everything is checked at compile time: the test is that this file
// builds; it prints "ok" when run.
//   api_jwt               doc::sign_jwt and both doc::verify_jwt have the function types of
//                         tegata's, noexcept included, at a Signer and a Clock; the same calls
//                         compile with the default argument left out; both refuse a non-Signer.
//                         (The default's value, "JWT", cannot be compared: nothing is defined.)
//   api_verified_jwt      both doc::verify_jwt_claims are tegata's, as for verify_jwt (the listing
//                         declares them before its class, so their VerifiedJwt is tegata's); each
//                         member the listed class declares has the type of tegata's member of the
//                         same name, noexcept and const included, and the two classes are alike
//                         in what the listing shows of copy and move.
//   api_session_manager   doc::SessionManager<S> names the same specialization as tegata's: the
//                         same default Clock, Store and Events; both refuse what fails a
//                         constraint.
//   api_revocation_store  the listing abbreviates each parameter to its name (jti, until, ...);
//                         with each name declared as the type tegata uses for it, the listing is
//                         the member list of a class that satisfies tegata::RevocationStore, so
//                         every requirement is listed, with its exact return type and constness.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <tegata/tegata.hpp>

namespace doc {
using namespace tegata;

#include "api_jwt.cpp"

#include "api_verified_jwt.cpp"

#include "api_session_manager.cpp"

// What each abbreviated parameter of the listing stands for (api.md: "the manager passes `now`,
// and the time `until` which each fact matters").
struct ListedStore {
  using jti = std::string_view;
  using sid = std::string_view;
  using subject = std::string_view;
  using now = std::chrono::sys_seconds;
  using until = std::chrono::sys_seconds;
  using record = const SessionRecord&;
  using request = const RotationRequest&;
  using max_sessions = std::size_t;

#include "api_revocation_store.cpp"
};

}  // namespace doc

namespace {

using Key = tegata::HmacKey;  // a Signer
using Clock = tegata::SystemClock;

// --- api_jwt ---------------------------------------------------------------------------------
static_assert(std::is_same_v<decltype(&doc::sign_jwt<Key>), decltype(&tegata::sign_jwt<Key>)>,
              "sign_jwt: api.md's declaration is not tegata's");
// verify_jwt<Key> is the overload taking a time (the other one's Clock cannot be deduced here);
// verify_jwt<Key, Clock> the one taking a clock.
static_assert(std::is_same_v<decltype(&doc::verify_jwt<Key>), decltype(&tegata::verify_jwt<Key>)>,
              "verify_jwt(token, signer, validator, now): api.md's declaration is not tegata's");
static_assert(std::is_same_v<decltype(&doc::verify_jwt<Key, Clock>),
                             decltype(&tegata::verify_jwt<Key, Clock>)>,
              "verify_jwt(token, signer, validator, clock): api.md's declaration is not tegata's");
static_assert(requires(const Key& key, const nlohmann::json& claims) {
  doc::sign_jwt(key, claims);
  tegata::sign_jwt(key, claims);
}, "sign_jwt: the typ argument has a default in api.md and in tegata");

template <class S>
constexpr bool doc_signs = requires { &doc::sign_jwt<S>; };
template <class S>
constexpr bool tegata_signs = requires { &tegata::sign_jwt<S>; };
static_assert(!doc_signs<int> && !tegata_signs<int>, "sign_jwt: both require a Signer");

// --- api_verified_jwt ------------------------------------------------------------------------
static_assert(std::is_same_v<decltype(&doc::verify_jwt_claims<Key>),
                             decltype(&tegata::verify_jwt_claims<Key>)>,
              "verify_jwt_claims(token, signer, validator, now): api.md's declaration is not "
              "tegata's");
static_assert(std::is_same_v<decltype(&doc::verify_jwt_claims<Key, Clock>),
                             decltype(&tegata::verify_jwt_claims<Key, Clock>)>,
              "verify_jwt_claims(token, signer, validator, clock): api.md's declaration is not "
              "tegata's");

// A member function's type without its class: R(A...) const noexcept, and so on.
template <class T>
struct member_of;
template <class C, class M>
struct member_of<M C::*> {
  using type = M;
};
#define TEGATA_SAME_MEMBER(name)                                                       \
  static_assert(std::is_same_v<member_of<decltype(&doc::VerifiedJwt::name)>::type,     \
                               member_of<decltype(&tegata::VerifiedJwt::name)>::type>, \
                "VerifiedJwt::" #name ": api.md's declaration is not tegata's")
TEGATA_SAME_MEMBER(header);
TEGATA_SAME_MEMBER(issuer);
TEGATA_SAME_MEMBER(subject);
TEGATA_SAME_MEMBER(jwt_id);
TEGATA_SAME_MEMBER(expires_at);
TEGATA_SAME_MEMBER(not_before);
TEGATA_SAME_MEMBER(issued_at);
TEGATA_SAME_MEMBER(has_audience);
TEGATA_SAME_MEMBER(audiences);
TEGATA_SAME_MEMBER(string_claim);
TEGATA_SAME_MEMBER(integer_claim);
TEGATA_SAME_MEMBER(bool_claim);
TEGATA_SAME_MEMBER(string_array_claim);
TEGATA_SAME_MEMBER(has_claim);
TEGATA_SAME_MEMBER(claims);
TEGATA_SAME_MEMBER(payload);
#undef TEGATA_SAME_MEMBER
template <class T>
constexpr bool move_only = std::is_nothrow_move_constructible_v<T> &&
                           !std::is_copy_constructible_v<T> && !std::is_default_constructible_v<T>;
static_assert(move_only<doc::VerifiedJwt> && move_only<tegata::VerifiedJwt>,
              "VerifiedJwt: move-only, without a default constructor, in api.md and in tegata");

// --- api_session_manager ---------------------------------------------------------------------
template <class T>
struct doc_arguments;
template <class S, class C, class R, class E>
struct doc_arguments<doc::SessionManager<S, C, R, E>> {
  using type = std::tuple<S, C, R, E>;
};
template <class T>
struct tegata_arguments;
template <class S, class C, class R, class E>
struct tegata_arguments<tegata::SessionManager<S, C, R, E>> {
  using type = std::tuple<S, C, R, E>;
};
static_assert(std::is_same_v<doc_arguments<doc::SessionManager<Key>>::type,
                             tegata_arguments<tegata::SessionManager<Key>>::type>,
              "SessionManager: api.md's default Clock, Store and Events are not tegata's");

template <class... A>
constexpr bool doc_accepts = requires { typename doc::SessionManager<A...>; };
template <class... A>
constexpr bool tegata_accepts = requires { typename tegata::SessionManager<A...>; };
static_assert(doc_accepts<Key> && tegata_accepts<Key>);
static_assert(!doc_accepts<int> && !tegata_accepts<int>, "SessionManager: a Signer is required");
static_assert(!doc_accepts<Key, int> && !tegata_accepts<Key, int>,
              "SessionManager: a Clock is required");
static_assert(!doc_accepts<Key, Clock, int> && !tegata_accepts<Key, Clock, int>,
              "SessionManager: a RevocationStore is required");
static_assert(!doc_accepts<Key, Clock, tegata::MemoryRevocationStore, int> &&
                  !tegata_accepts<Key, Clock, tegata::MemoryRevocationStore, int>,
              "SessionManager: a SessionEvents policy is required");

// --- api_revocation_store --------------------------------------------------------------------
static_assert(tegata::RevocationStore<doc::ListedStore>,
              "api.md's RevocationStore listing is not the concept's requirements");

}  // namespace

int main() {
  std::puts("ok");
  return 0;
}
