// tegata::compiled: everything the headers leave to it, in one translation unit.
//
// Translation units that link tegata::compiled see TEGATA_COMPILED_LIB. The headers then declare
// the functions of their *_inl.hpp without defining them (tegata/detail/inline.hpp), and the
// extern template declarations at the end of tegata/session/manager.hpp keep them from
// instantiating the common managers. Both are compiled here, once: the definitions from every
// *_inl.hpp, and the SessionManagers of the common signers with the default clock and store. One
// translation unit, so that the managers inline the functions they call as they do header-only.
// See "Compile time" in benchmarks/README.md.
#if !defined(TEGATA_COMPILED_LIB)
#error "tegata::compiled is built with TEGATA_COMPILED_LIB defined, as its users see it"
#endif

#include "tegata/algorithms/ecdsa_inl.hpp"
#include "tegata/algorithms/eddsa_inl.hpp"
#include "tegata/algorithms/hmac_inl.hpp"
#include "tegata/algorithms/rsa_inl.hpp"
#include "tegata/claims_inl.hpp"
#include "tegata/csrf_inl.hpp"
#include "tegata/detail/http_uri_inl.hpp"
#include "tegata/detail/json_document_inl.hpp"
#include "tegata/detail/json_inl.hpp"
#include "tegata/detail/jwk_params_inl.hpp"
#include "tegata/detail/pkey_inl.hpp"
#include "tegata/detail/rsa_checks_inl.hpp"
#include "tegata/dpop/nonce_inl.hpp"
#include "tegata/dpop/proof_inl.hpp"
#include "tegata/error_inl.hpp"
#include "tegata/http_inl.hpp"
#include "tegata/jws_inl.hpp"
#include "tegata/keys/jwk_inl.hpp"
#include "tegata/keys/key_ring_inl.hpp"
#include "tegata/keys/pem_inl.hpp"
#include "tegata/session/claims_codec_inl.hpp"
#include "tegata/session/options_inl.hpp"
#include "tegata/store/memory_inl.hpp"
#include "tegata/validator_inl.hpp"
#include "tegata/verified_jwt_inl.hpp"
#include "tegata/session/manager.hpp"

namespace tegata {

template class SessionManager<HmacKey>;
template class SessionManager<EcdsaKey>;
template class SessionManager<EddsaKey>;
template class SessionManager<RsaKey>;
template class SessionManager<AnyKey>;
template class SessionManager<KeyRing>;

}  // namespace tegata
