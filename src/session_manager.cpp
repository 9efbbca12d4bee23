// tegata::compiled: the SessionManagers of the common signers, with the default clock and store,
// compiled once. Translation units that link tegata::compiled see TEGATA_COMPILED_LIB and the
// matching extern template declarations (end of tegata/session/manager.hpp), so they neither
// instantiate nor optimise these again: see "Compile time" in benchmarks/README.md.
#include "tegata/session/manager.hpp"

#if !defined(TEGATA_COMPILED_LIB)
#error "tegata::compiled is built with TEGATA_COMPILED_LIB defined, as its users see it"
#endif

namespace tegata {

template class SessionManager<HmacKey>;
template class SessionManager<EcdsaKey>;
template class SessionManager<EddsaKey>;
template class SessionManager<RsaKey>;
template class SessionManager<AnyKey>;
template class SessionManager<KeyRing>;

}  // namespace tegata
