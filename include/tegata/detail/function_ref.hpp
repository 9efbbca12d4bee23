// tegata/detail/function_ref.hpp - a non-owning reference to something callable.
//
// SessionManager's refresh takes the application's callback as a template parameter, but the
// rotation it runs is one ordinary member function: so that rotation can be compiled once (see
// src/tegata.cpp and TEGATA_COMPILED_LIB), the callback reaches it through this
// reference, which costs one indirect call and no allocation. The referenced callable must
// outlive the reference: it is only ever passed down a call, never stored.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace tegata::detail {

template <class Signature>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
 public:
  template <class F>
    requires(!std::same_as<std::remove_cvref_t<F>, function_ref> &&
             std::is_invocable_r_v<R, F&, Args...>)
  // Implicit, to be passed like the callable itself. The requires-clause keeps it from standing in
  // for the copy constructor, which clang-tidy 14 does not see.
  // NOLINTNEXTLINE(google-explicit-constructor,bugprone-forwarding-reference-overload)
  function_ref(F&& f) noexcept
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return std::invoke(*static_cast<std::remove_reference_t<F>*>(object),
                             std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace tegata::detail
