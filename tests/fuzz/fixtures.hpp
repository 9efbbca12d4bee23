// tests/fuzz/fixtures.hpp - the fixed keys, times and options the fuzz targets check against.
//
// Everything here is deterministic, so that an input that fails once fails again when it is
// replayed from tests/fuzz/regressions/ by the unit tests. The keys are test keys generated for
// tegata's fuzzing; they protect nothing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "tegata/tegata.hpp"

namespace tegata_fuzz {

using namespace std::chrono_literals;

// The time every token is verified at: 2023-11-14T22:13:20Z.
inline constexpr std::chrono::sys_seconds kNow{1'700'000'000s};

inline constexpr std::string_view kIssuer = "https://issuer.tegata.test";
inline constexpr std::string_view kAudience = "tegata-fuzz";

inline const tegata::HmacKey& hs256_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS256,
                                   "tegata fuzz HS256 secret, 32+ bytes long, test only");
  return key;
}

// Same algorithm, another secret: nothing the first key signed may verify with it.
inline const tegata::HmacKey& other_hs256_key() {
  static const tegata::HmacKey key(tegata::Algorithm::HS256,
                                   "another tegata fuzz HS256 secret, also test only");
  return key;
}

// A P-256 key pair (PKCS#8), generated with `openssl genpkey` for these tests.
inline constexpr std::string_view kEs256PrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2OLssVeArE43VFsK\n"
    "Z/llV6LbH8rcUYcrn345dfBoH9uhRANCAATxyWlAsLqb7fP5vMLegizQsbyruLcp\n"
    "HwXN0Ivtpl6CsTonQYmhwCZuDmpR41Dyz++OVTrYvpypTxBF3iCxsUN7\n"
    "-----END PRIVATE KEY-----\n";

inline const tegata::EcdsaKey& es256_key() {
  static const tegata::EcdsaKey key(tegata::Algorithm::ES256,
                                    tegata::keys::parse_pem(kEs256PrivatePem).value());
  return key;
}

// The validator configurations a jws input can select (see check_jws).
inline const tegata::Validator& strict_validator() {
  static const tegata::Validator validator(
      tegata::ValidatorOptions{.issuer = std::string(kIssuer), .audience = std::string(kAudience)});
  return validator;
}

inline const tegata::Validator& lenient_validator() {
  static const tegata::Validator validator(
      tegata::ValidatorOptions{.type = "at+jwt", .leeway = 60s, .allow_missing_exp = true});
  return validator;
}

}  // namespace tegata_fuzz
