// tegata/detail/exception_barrier.hpp - where an exception becomes an error code, written once for
// the functions that promise never to throw (key import and export, AnyKey::with_kid).
#pragma once

#include <exception>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "tegata/error.hpp"

namespace tegata::detail {

// Returns what body returns (a Result), or the error that an exception thrown by body stands for:
//   std::bad_alloc            out_of_memory
//   std::invalid_argument     invalid_argument: a key class refused the key material (an RSA
//                             exponent, an EC point outside its subgroup, a private key that does
//                             not match its public key, ...)
//   any other std::exception  crypto_failure: OpenSSL could not do its part (a context it could
//                             not allocate, a digest it does not provide, ...)
// Anything else is not caught: it ends the program, as it would leave any noexcept function.
template <class Body>
auto exception_barrier(Body&& body) noexcept -> std::invoke_result_t<Body&&> {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return errc::out_of_memory;
  } catch (const std::invalid_argument&) {
    return errc::invalid_argument;
  } catch (const std::exception&) {
    return errc::crypto_failure;
  }
}

}  // namespace tegata::detail
