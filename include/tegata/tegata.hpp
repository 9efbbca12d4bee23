// tegata/tegata.hpp - everything tegata offers, in one include.
#pragma once

// Foundations: errors, time, encodings.
#include "tegata/version.hpp"
#include "tegata/error.hpp"
#include "tegata/clock.hpp"
#include "tegata/base64url.hpp"

// Tokens: JWS structure, claims, strict validation.
#include "tegata/algorithm.hpp"
#include "tegata/jws.hpp"
#include "tegata/claims.hpp"
#include "tegata/validator.hpp"
#include "tegata/signer.hpp"
#include "tegata/jwt.hpp"

// Keys: one family per header, import and rotation.
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/keys/pem.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/key_ring.hpp"

// Sessions: state, the manager, and the cookies that carry the tokens.
#include "tegata/store/revocation_store.hpp"
#include "tegata/store/memory.hpp"
#include "tegata/store/null.hpp"
#include "tegata/session/options.hpp"
#include "tegata/session/tokens.hpp"
#include "tegata/session/manager.hpp"
#include "tegata/http.hpp"
