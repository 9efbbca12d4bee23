// tegata/tegata.hpp - everything tegata offers, in one include.
#pragma once

#include "tegata/version.hpp"
#include "tegata/error.hpp"
#include "tegata/clock.hpp"
#include "tegata/algorithm.hpp"
#include "tegata/base64url.hpp"
#include "tegata/jws.hpp"
#include "tegata/claims.hpp"
#include "tegata/validator.hpp"
#include "tegata/signer.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/jwt.hpp"
