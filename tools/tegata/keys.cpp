// tools/tegata/keys.cpp - key files: PEM, DER, JWK, JWK Sets and raw HMAC secrets.
#include "keys.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "cli.hpp"
#include "tegata/algorithm.hpp"
#include "tegata/algorithms/ecdsa.hpp"
#include "tegata/algorithms/eddsa.hpp"
#include "tegata/algorithms/hmac.hpp"
#include "tegata/algorithms/rsa.hpp"
#include "tegata/json.hpp"
#include "tegata/key_handle.hpp"
#include "tegata/keys/jwk.hpp"
#include "tegata/keys/pem.hpp"

namespace tegata::cli {

namespace {

using Operation = keys::KeyOperation;

constexpr std::size_t kMaxJsonDepth = 16;

struct Request {
  std::optional<Algorithm> alg{};  // unset: the one algorithm the key admits
  Operation operation{Operation::verify};
  std::optional<std::string> kid{};
};

std::string alg_name(Algorithm alg) { return std::string(to_string(alg)); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string strip_library_prefix(std::string message) {
  constexpr std::string_view prefix = "tegata: ";
  if (message.starts_with(prefix)) message.erase(0, prefix.size());
  return message;
}

errc code(std::error_code ec) { return static_cast<errc>(ec.value()); }

// A string member of an untrusted JSON object, "" when absent or not a string.
std::string_view string_member(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                               : std::string_view();
}

enum class Format { pem, jwk, der, raw };

// JSON that is an object naming "kty" (a JWK) or "keys" (a JWK Set). Random secret bytes never
// are, even when they happen to start with '{'.
bool is_jwk_text(std::string_view bytes) {
  auto object = parse_json_object(bytes, kMaxJsonDepth);
  return object && (object->contains("kty") || object->contains("keys"));
}

// A PEM block anywhere in the file, not only at its start: `openssl pkcs12 -nodes` writes
// "Bag Attributes" lines before each block, and other tools add comments. keys::parse_pem looks
// for the block the same way (it skips text before and between blocks, and still insists on
// exactly one key block), so the whole file is handed to it unchanged.
bool has_pem_block(std::string_view bytes) {
  return bytes.find("-----BEGIN") != std::string_view::npos;
}

// A file that keys::parse_der reads completely as a key, public or private (or an encrypted
// private key, which it recognises and refuses). Every structure it reads is a DER SEQUENCE, so
// a file not starting with 0x30 is none; the rest must parse to the last byte, which random
// secret bytes practically never do, even when they happen to start like a SEQUENCE.
bool is_der_key(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != '\x30') return false;
  const auto key = keys::parse_der(bytes);
  return key || key.error() == errc::not_supported;
}

// For HS*, a file is a raw secret only when it is neither a JWK nor any kind of key file: a
// public key used as an HMAC secret lets anyone forge tokens (RFC 8725 §2.1), so a PEM block
// anywhere or a complete DER key is reported as such (and refused by load) instead.
Format detect(std::string_view bytes, std::optional<Algorithm> alg) {
  const bool hmac = alg && is_hmac(*alg);
  const auto start = bytes.find_first_not_of(" \t\r\n");
  const std::string_view text = start == std::string_view::npos ? "" : bytes.substr(start);
  if (text.starts_with("{") && (!hmac || is_jwk_text(text))) return Format::jwk;
  if (has_pem_block(bytes)) return Format::pem;
  if (!hmac) return Format::der;
  return is_der_key(bytes) ? Format::der : Format::raw;
}

// --- PEM and DER ---------------------------------------------------------------------------------

// The named curve of an EC key as OpenSSL spells it ("prime256v1", "secp384r1", ...), empty for
// another key type or a curve without a name.
std::string curve_name(const EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return {};
  char name[80] = {};
  std::size_t length = 0;
  ERR_set_mark();  // a failed query leaves nothing behind on OpenSSL's error queue
  const bool named = EVP_PKEY_get_group_name(key, name, sizeof name, &length) == 1;
  ERR_pop_to_mark();
  return named ? std::string(name, length) : std::string();
}

// "an RSA key", "an EC key on secp384r1", "an Ed25519 key": what a file holds, for messages.
std::string describe(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) return "an RSA key";
  if (EVP_PKEY_is_a(key, "ED25519")) return "an Ed25519 key";
  if (EVP_PKEY_is_a(key, "ED448")) return "an Ed448 key";
  if (EVP_PKEY_is_a(key, "EC")) {
    const std::string curve = curve_name(key);
    return curve.empty() ? "an EC key on an unnamed curve" : "an EC key on " + curve;
  }
  return "a key of a type JWS does not use";
}

std::optional<Algorithm> only_algorithm(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return Algorithm::EdDSA;
  const std::string curve = curve_name(key);
  if (curve == "prime256v1" || curve == "P-256") return Algorithm::ES256;
  if (curve == "secp384r1" || curve == "P-384") return Algorithm::ES384;
  if (curve == "secp521r1" || curve == "P-521") return Algorithm::ES512;
  if (curve == "secp256k1") return Algorithm::ES256K;
  return std::nullopt;
}

bool family_matches(Algorithm alg, const EVP_PKEY* key) {
  if (is_rsa(alg)) {
    return EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
  }
  if (is_ecdsa(alg)) return EVP_PKEY_is_a(key, "EC");
  if (alg == Algorithm::Ed25519) return EVP_PKEY_is_a(key, "ED25519");
  if (alg == Algorithm::Ed448) return EVP_PKEY_is_a(key, "ED448");
  return alg == Algorithm::EdDSA && (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"));
}

// The key class for alg; it refuses what does not fit exactly (RSA below 2048 bits, another
// curve, a private key that does not match its public key) with std::invalid_argument.
AnyKey make_key(Algorithm alg, KeyHandle pkey, std::string kid) {
  if (is_rsa(alg)) return RsaKey(alg, std::move(pkey), std::move(kid));
  if (is_ecdsa(alg)) return EcdsaKey(alg, std::move(pkey), std::move(kid));
  return EddsaKey(alg, std::move(pkey), std::move(kid));
}

AnyKey load_pem_or_der(const std::string& path, std::string_view bytes, Format format,
                       const Request& request) {
  auto parsed = format == Format::pem ? keys::parse_pem(bytes) : keys::parse_der(bytes);
  if (!parsed) {
    switch (code(parsed.error())) {
      case errc::not_supported:
        usage_error(in_quotes(path) +
                    " is an encrypted key; decrypt it first "
                    "(openssl pkey -in ENCRYPTED -out KEY)");
      case errc::too_large: usage_error(in_quotes(path) + " is too large to be a key");
      default:
        usage_error(in_quotes(path) + (format == Format::pem
                                           ? " holds no readable PEM key"
                                           : " is not a PEM, DER or JWK key file"));
    }
  }
  KeyHandle pkey = std::move(*parsed);
  std::optional<Algorithm> alg = request.alg ? request.alg : only_algorithm(pkey.get());
  if (!alg) usage_error(in_quotes(path) + " holds " + describe(pkey.get()) + ": give --alg");
  if (!family_matches(*alg, pkey.get())) {
    usage_error(in_quotes(path) + " holds " + describe(pkey.get()) + ", which cannot be used for " +
                alg_name(*alg));
  }
  try {
    return make_key(*alg, std::move(pkey), request.kid.value_or(""));
  } catch (const std::invalid_argument& e) {
    // The key class's message names the problem, never key material.
    usage_error(in_quotes(path) + " cannot be used: " + strip_library_prefix(e.what()));
  }
}

// --- JWK -----------------------------------------------------------------------------------------

// The algorithm a JWK admits when it admits only one (by its curve).
std::optional<Algorithm> jwk_only_algorithm(const nlohmann::json& jwk) {
  const auto kty = jwk.find("kty");
  const auto crv = jwk.find("crv");
  if (kty == jwk.end() || crv == jwk.end() || !kty->is_string() || !crv->is_string()) {
    return std::nullopt;
  }
  if (*kty == "OKP") return Algorithm::EdDSA;
  if (*kty != "EC") return std::nullopt;
  if (*crv == "P-256") return Algorithm::ES256;
  if (*crv == "P-384") return Algorithm::ES384;
  if (*crv == "P-521") return Algorithm::ES512;
  if (*crv == "secp256k1") return Algorithm::ES256K;
  return std::nullopt;
}

// Why import_jwk refused a JWK, as the end of a sentence ("<where> <reason>").
std::string jwk_problem(const nlohmann::json& jwk, std::error_code ec,
                        const keys::JwkOptions& options) {
  switch (code(ec)) {
    case errc::malformed:
      return "is not a well-formed JWK (a member is missing, of the wrong type or of the wrong "
             "length)";
    case errc::bad_encoding: return "has a member that is not strict base64url";
    case errc::not_supported: return "has a key type or curve that JWS signatures do not use";
    case errc::key_cannot_sign: return "holds a public key; signing needs the private key";
    case errc::unsupported_algorithm:
      if (!options.algorithm) return "names no algorithm: give --alg";
      if (jwk.contains("alg") && jwk["alg"] != to_string(*options.algorithm)) {
        return "names another algorithm (alg) than " + alg_name(*options.algorithm);
      }
      return "cannot be used for " + alg_name(*options.algorithm) + " (another key type or curve)";
    case errc::invalid_argument: {
      const auto use = jwk.find("use");
      if (use != jwk.end() && *use != "sig") {
        return "is not a signature key (its \"use\" is not \"sig\")";
      }
      if (jwk.contains("key_ops")) {
        const auto wanted = options.operation == Operation::sign ? "sign" : "verify";
        const auto& ops = jwk["key_ops"];
        if (!ops.is_array() || std::find(ops.begin(), ops.end(), wanted) == ops.end()) {
          return std::string("does not allow \"") + wanted + "\" in its key_ops";
        }
      }
      const std::string_view kty = string_member(jwk, "kty");
      if (kty == "oct") return "is an HMAC secret shorter than the hash output";
      if (kty == "RSA") {
        return "is a weak or invalid RSA key (under 2048 bits, an exponent outside odd "
               "2^16 < e < 2^256, or private values that do not match)";
      }
      return "is not a valid key on its curve (a point not on the curve or outside its subgroup, "
             "or a private value that does not match)";
    }
    default: return "cannot be imported (" + error_name(ec) + ")";
  }
}

keys::JwkOptions jwk_options(const nlohmann::json& jwk, const Request& request) {
  keys::JwkOptions options;
  options.algorithm = request.alg ? request.alg : jwk_only_algorithm(jwk);
  options.operation = request.operation;
  return options;
}

nlohmann::json parse_json_file(const std::string& path, std::string_view text) {
  auto json = parse_json_object(text, kMaxJsonDepth);
  if (!json) {
    usage_error(in_quotes(path) + " is not a valid JSON object (" + error_name(json.error()) + ")");
  }
  return std::move(*json);
}

const nlohmann::json& keys_array(const std::string& path, const nlohmann::json& jwks) {
  const auto list = jwks.find("keys");
  if (list == jwks.end() || !list->is_array()) {
    usage_error(in_quotes(path) + " has no \"keys\" array");
  }
  if (list->empty()) usage_error(in_quotes(path) + " holds no keys");
  return *list;
}

std::string entry_name(const std::string& path, std::size_t index) {
  return "key " + std::to_string(index + 1) + " of " + in_quotes(path);
}

AnyKey load_jwk(const std::string& path, std::string_view text, const Request& request) {
  const nlohmann::json json = parse_json_file(path, text);
  const nlohmann::json* jwk = &json;
  std::string where = in_quotes(path);
  if (json.contains("keys")) {
    // A JWK Set: the key named by --kid, or its only key.
    const auto& list = keys_array(path, json);
    std::size_t chosen = 0;
    if (request.kid) {
      const auto named = [&](const nlohmann::json& entry) {
        return string_member(entry, "kid") == *request.kid;
      };
      const auto count = std::count_if(list.begin(), list.end(), named);
      if (count != 1) {
        usage_error(in_quotes(path) + (count == 0 ? " has no key" : " has several keys") +
                    " with kid " + in_quotes(*request.kid));
      }
      chosen =
          static_cast<std::size_t>(std::find_if(list.begin(), list.end(), named) - list.begin());
    } else if (list.size() != 1) {
      usage_error(in_quotes(path) + " holds " + std::to_string(list.size()) +
                  " keys: choose one with --kid (or verify with --jwks)");
    }
    jwk = &list[chosen];
    where = entry_name(path, chosen);
  }
  const keys::JwkOptions options = jwk_options(*jwk, request);
  auto key = keys::import_jwk(*jwk, options);
  if (!key) usage_error(where + " " + jwk_problem(*jwk, key.error(), options));
  if (request.kid && key->kid() != *request.kid) {
    if (!key->kid().empty()) {
      usage_error(where + " has the kid " + in_quotes(key->kid()) + ", not " +
                  in_quotes(*request.kid));
    }
    auto renamed = key->with_kid(*request.kid);
    if (!renamed) {
      usage_error(where + " cannot be given a kid (" + error_name(renamed.error()) + ")");
    }
    return *renamed;
  }
  return *key;
}

// --- Any file ------------------------------------------------------------------------------------

AnyKey load_secret(const std::string& path, std::string_view bytes, const Request& request) {
  if (bytes.empty()) usage_error(in_quotes(path) + " is empty");
  try {
    return HmacKey(*request.alg, bytes, request.kid.value_or(""));
  } catch (const std::invalid_argument& e) {
    usage_error(in_quotes(path) + " cannot be used: " + strip_library_prefix(e.what()));
  }
}

AnyKey load(const std::string& path, const Request& request) {
  const SecretFile file(path);
  const Format format = detect(file.view(), request.alg);
  if (format == Format::jwk) return load_jwk(path, file.view(), request);
  if (format == Format::raw) return load_secret(path, file.view(), request);
  if (request.alg && is_hmac(*request.alg)) {
    const std::string_view kind = format == Format::pem ? " is a PEM file" : " is a DER key file";
    usage_error(in_quotes(path) + std::string(kind) + ", but an " + alg_name(*request.alg) +
                " key must be a file holding the raw secret bytes or an oct JWK");
  }
  return load_pem_or_der(path, file.view(), format, request);
}

}  // namespace

AnyKey load_signing_key(Algorithm alg, const std::string& path,
                        const std::optional<std::string>& kid) {
  AnyKey key = load(path, {alg, Operation::sign, kid});
  if (!key.can_sign()) {
    usage_error(in_quotes(path) + " holds a public key; signing needs the private key");
  }
  return key;
}

AnyKey load_verification_key(Algorithm alg, const std::string& path) {
  return load(path, {alg, Operation::verify, std::nullopt});
}

AnyKey load_public_key(const std::optional<Algorithm>& alg, const std::string& path,
                       const std::optional<std::string>& kid) {
  return load(path, {alg, Operation::verify, kid});
}

KeyRing load_key_set(Algorithm alg, const std::string& path) {
  const SecretFile file(path);
  const nlohmann::json jwks = parse_json_file(path, file.view());
  if (jwks.contains("kty") && !jwks.contains("keys")) {
    usage_error(in_quotes(path) + " is a single JWK, not a JWK Set: use --key");
  }
  const auto& list = keys_array(path, jwks);
  // Named here rather than as "wrong key type": the setting in which a public key ends up used
  // as an HMAC secret (RFC 8725 §2.1).
  const auto is_oct = [](const nlohmann::json& jwk) { return string_member(jwk, "kty") == "oct"; };
  if (std::any_of(list.begin(), list.end(), is_oct) &&
      !std::all_of(list.begin(), list.end(), is_oct)) {
    usage_error(in_quotes(path) + " mixes HMAC secrets with public keys; use one kind per set");
  }
  std::vector<AnyKey> ring_keys;
  ring_keys.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    // A public key without kid gets its RFC 7638 thumbprint (a secret's would reveal a hash of
    // it, and is refused).
    const keys::JwkOptions options{
        .algorithm = alg, .operation = Operation::verify, .kid_from_thumbprint = !is_oct(list[i])};
    auto key = keys::import_jwk(list[i], options);
    if (!key) usage_error(entry_name(path, i) + " " + jwk_problem(list[i], key.error(), options));
    ring_keys.push_back(*key);
  }
  try {
    const AnyKey first = ring_keys.front();
    ring_keys.erase(ring_keys.begin());
    return KeyRing(first, ring_keys);
  } catch (const std::invalid_argument& e) {
    // Mixed HMAC and asymmetric keys, a repeated or missing kid.
    usage_error(in_quotes(path) +
                " cannot be used as a key set: " + strip_library_prefix(e.what()));
  }
}

std::string generate_key(Algorithm alg, const keys::KeyGenOptions& options) {
  // RFC 7518 §3.2: a secret as long as the hash output.
  if (is_hmac(alg)) return keys::generate_secret(alg);
  const auto pkey = keys::generate(alg, options);
  auto pem = keys::to_pem_private(pkey.get());
  if (!pem) throw std::runtime_error("OpenSSL could not encode the new key");
  return std::move(*pem);
}

}  // namespace tegata::cli
