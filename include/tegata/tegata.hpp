// tegata/tegata.hpp - everything tegata offers, in one include.
#pragma once

// Foundations: errors, time, encodings.
#include "tegata/base64url.hpp"
#include "tegata/clock.hpp"
#include "tegata/error.hpp"
#include "tegata/version.hpp"

// Tokens: JWS structure, claims, strict validation.
#include "tegata/algorithm.hpp"
#include "tegata/claims.hpp"
#include "tegata/json.hpp"
#include "tegata/jws.hpp"
#include "tegata/jwt.hpp"
#include "tegata/signer.hpp"
#include "tegata/validator.hpp"
#include "tegata/verified_jwt.hpp"

// Keys: one family per header, import and rotation.
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/key_ring.hpp"
#include "tegata/keys/pem.hpp"

// Sessions: state, the manager, and the cookies that carry the tokens.
#include "tegata/csrf.hpp"
#include "tegata/dpop/nonce.hpp"
#include "tegata/dpop/proof.hpp"
#include "tegata/http.hpp"
#include "tegata/session/events.hpp"
#include "tegata/session/manager.hpp"
#include "tegata/session/options.hpp"
#include "tegata/session/tokens.hpp"
#include "tegata/store/memory.hpp"
#include "tegata/store/null.hpp"
#include "tegata/store/revocation_store.hpp"
