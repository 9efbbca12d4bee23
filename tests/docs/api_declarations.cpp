// docs/api.md's three signature listings (<!-- snippet: api_jwt -->, api_session_manager,
// api_revocation_store) are tegata's declarations. A listing is no program, and tegata's own
// declarations cannot be repeated (a default argument may be given once), so each is compiled as
// printed in a namespace of its own, doc, which sees tegata's names, and then compared with the
// real one. Everything is checked at compile time: the test is that this file builds; it prints
// "ok" when run.
//   api_jwt               doc::sign_jwt and both doc::verify_jwt have the function types of
//                         tegata's, noexcept included, at a Signer and a Clock; the same calls
//                         compile with the default argument left out; both refuse a non-Signer.
//                         (The default's value, "JWT", cannot be compared: nothing is defined.)
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
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <tegata/tegata.hpp>

namespace doc {
using namespace tegata;

#include "api_jwt.cpp"

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
