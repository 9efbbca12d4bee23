// tegata/error_inl.hpp - the definitions of tegata/error.hpp (tegata/detail/inline.hpp says why
// they are apart).
#pragma once

#include "tegata/error.hpp"

namespace tegata {

TEGATA_INLINE const char* detail::error_category_impl::name() const noexcept { return "tegata"; }

TEGATA_INLINE std::string detail::error_category_impl::message(int ev) const {
  return describe(static_cast<errc>(ev));
}

}  // namespace tegata
