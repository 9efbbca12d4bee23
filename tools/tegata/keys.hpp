// tools/tegata/keys.hpp - turns the key files named on the command line into tegata keys. The
// only part of the tool that knows key file formats.
//
// A key file is recognised by its content: a JWK or JWK Set (a JSON object with "kty" or
// "keys"), PEM ("-----BEGIN" anywhere, so text before the block is allowed), otherwise DER, or for
// HS* the raw secret bytes. Neither a PEM file nor a file that parses as a DER key is ever taken
// as an HMAC secret, so a public key cannot be turned into a MAC key by mistake.
// Every function throws Failure(kUsage) with a sentence naming the file (never its contents).
#pragma once

#include <optional>
#include <string>

#include "tegata/algorithm.hpp"
#include "tegata/keys/any_key.hpp"
#include "tegata/keys/key_ring.hpp"
#include "tegata/keys/pem.hpp"

namespace tegata::cli {

// The private key in path for alg. kid is the key id for token headers; in a JWK Set it
// selects the key (a set of one key needs none).
AnyKey load_signing_key(Algorithm alg, const std::string& path,
                        const std::optional<std::string>& kid);

// The key in path (public or private) for alg, to verify with.
AnyKey load_verification_key(Algorithm alg, const std::string& path);

// The key in path, to publish. alg may be left out when the key admits only one algorithm
// (EC and Ed keys, or a JWK with "alg"); an RSA key serves RS* and PS* alike and needs it.
AnyKey load_public_key(const std::optional<Algorithm>& alg, const std::string& path,
                       const std::optional<std::string>& kid);

// The JWK Set in path as a KeyRing: every key is imported for alg, and the set is refused as a
// whole when one key is (use "enc", weak, malformed, another alg) or when the keys cannot form a
// ring (a kid missing or repeated, HMAC secrets mixed with asymmetric keys).
KeyRing load_key_set(Algorithm alg, const std::string& path);

// A new private key for alg, serialised as keygen writes it: PKCS#8 PEM, or for HS* the raw
// secret of the hash's length. The caller wipes it.
std::string generate_key(Algorithm alg, const keys::KeyGenOptions& options);

}  // namespace tegata::cli
