// tegata::compiled: the definitions that the headers leave out when TEGATA_COMPILED_LIB is
// defined (their *_inl.hpp, see tegata/detail/inline.hpp), compiled once for the whole program.
#if !defined(TEGATA_COMPILED_LIB)
#error "tegata::compiled is built with TEGATA_COMPILED_LIB defined, as its users see it"
#endif

#include "tegata/store/memory_inl.hpp"
#include "tegata/http_inl.hpp"
#include "tegata/detail/json_inl.hpp"
#include "tegata/detail/json_document_inl.hpp"
#include "tegata/claims_inl.hpp"
#include "tegata/session/claims_codec_inl.hpp"
