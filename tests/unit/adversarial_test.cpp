// The adversarial corpus: hostile tokens and header values, each with the exact errc tegata must
// answer, and a check that the work done on hostile input grows no faster than its length.
//
// Tokens are built the way an attacker would, and signed with the verifier's own key wherever
// the point is what happens *after* the signature check (duplicate claims, odd numbers, bad
// UTF-8): an unsigned variant would only ever test bad_signature. Encoding variants (padding,
// '+', whitespace) are signed over the bytes exactly as sent, so a rejection can only come from
// the strict base64url reader.
#include <openssl/bn.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tegata/tegata.hpp"

// =================================================================================================
// Allocation counter: the "counter, not a stopwatch" behind the linear-work test at the end.
//
// Method. While a CountAllocations guard is alive on a thread, every heap allocation made on that
// thread adds 1 to a count and its size to a byte total. The test feeds inputs of growing size
// (1x, 2x, 4x, 8x) and requires both totals to grow at most in proportion; a quadratic step (a
// copy per character, a re-scan that builds strings) multiplies them by 64 instead of 8. Counts
// are exact and repeatable, so the assertion cannot be flaky the way a timing would be. What this
// does not see is work that allocates nothing: for the parsers that allocate nothing at all
// (cookie_value, bearer_token, the size check before parsing) the test asserts exactly zero
// allocations at every size, and their single forward pass is what keeps them linear.
//
// How allocations are seen. Normally by replacing the global operator new and operator delete,
// which the C++ standard allows once per program: this is the only file in tests/unit that does
// so (checked when it was written: grep -rn "operator new" tests/). Under AddressSanitizer or
// ThreadSanitizer a replacement would take over the sanitizer's own operator new and lose its
// new/delete mismatch checks for the whole test binary, so there the counter uses the
// sanitizers' allocation hook (__sanitizer_install_malloc_and_free_hooks) instead, which also
// sees malloc calls (OpenSSL's); the proportions under test are the same.
// =================================================================================================

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEGATA_TEST_ALLOCATION_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TEGATA_TEST_ALLOCATION_HOOK 1
#endif
#endif

#ifdef TEGATA_TEST_ALLOCATION_HOOK
#include <sanitizer/allocator_interface.h>
#endif

namespace {

// Plain thread_local integers: no constructor, so touching them can never itself allocate.
thread_local bool counting = false;
thread_local std::size_t counted_allocations = 0;
thread_local std::size_t counted_bytes = 0;

void note_allocation(std::size_t size) noexcept {
  if (!counting) return;
  ++counted_allocations;
  counted_bytes += size;
}

struct Work {
  std::size_t allocations = 0;
  std::size_t bytes = 0;
};

class CountAllocations {
 public:
  CountAllocations() noexcept {
    counted_allocations = 0;
    counted_bytes = 0;
    counting = true;
  }
  ~CountAllocations() { counting = false; }
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  Work work() const noexcept { return {counted_allocations, counted_bytes}; }
};

#ifdef TEGATA_TEST_ALLOCATION_HOOK
void malloc_hook(const volatile void*, std::size_t size) { note_allocation(size); }
void free_hook(const volatile void*) {}
const bool hook_installed = __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook) != 0;
#else
constexpr bool hook_installed = true;  // the operator new below counts
#endif

}  // namespace

#ifndef TEGATA_TEST_ALLOCATION_HOOK
// The replaceable forms that the others (array, nothrow) forward to by default, and the sized
// deletes, which GCC asks for explicitly when the unsized ones are replaced.
void* operator new(std::size_t size) {
  note_allocation(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  note_allocation(size);
  const auto align = static_cast<std::size_t>(alignment);
  const std::size_t rounded = (size + align - 1) / align * align;  // aligned_alloc needs a multiple
  if (void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tegata::Algorithm;
using tegata::errc;

// =================================================================================================
// Fixtures
// =================================================================================================

constexpr std::chrono::sys_seconds kNow{1'700'000'000s};
constexpr std::string_view kHmacSecret = "adversarial corpus HS256 secret, test only!";

const tegata::HmacKey& hs_key() {
  static const tegata::HmacKey key(Algorithm::HS256, kHmacSecret, "k1");
  return key;
}

// An attacker's own secret: what it signs must never verify with hs_key().
const tegata::HmacKey& attacker_key() {
  static const tegata::HmacKey key(Algorithm::HS256, "the attacker's own HS256 secret, 32+ bytes",
                                   "k1");
  return key;
}

const tegata::RsaKey& rs_key() {
  static const tegata::RsaKey key(Algorithm::RS256, tegata::keys::generate(Algorithm::RS256),
                                  "rsa-1");
  return key;
}

const tegata::EcdsaKey& es_key() {
  static const tegata::EcdsaKey key(Algorithm::ES256, tegata::keys::generate(Algorithm::ES256),
                                    "ec-1");
  return key;
}

std::string public_der(EVP_PKEY* key) {
  using ctx_ptr = std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)>;
  const ctx_ptr ctx(OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "DER",
                                                  "SubjectPublicKeyInfo", nullptr),
                    &OSSL_ENCODER_CTX_free);
  unsigned char* data = nullptr;
  std::size_t size = 0;
  REQUIRE(ctx);
  REQUIRE(OSSL_ENCODER_to_data(ctx.get(), &data, &size) == 1);
  std::string out(reinterpret_cast<const char*>(data), size);
  OPENSSL_free(data);
  return out;
}

// What a key-confusion attacker downloads and then uses as an HMAC secret.
const std::string& rsa_public_pem() {
  static const std::string pem = tegata::keys::to_pem_public(rs_key().native_handle()).value();
  return pem;
}
const std::string& ec_public_pem() {
  static const std::string pem = tegata::keys::to_pem_public(es_key().native_handle()).value();
  return pem;
}

tegata::HmacKey hmac_with_secret(std::string_view secret) {
  return tegata::HmacKey(Algorithm::HS256, secret);
}

tegata::Validator validator(std::size_t max_token_bytes = 8192,
                            std::size_t max_header_bytes = 1024) {
  tegata::ValidatorOptions options;
  options.issuer = "https://issuer.example";
  options.audience = "api";
  options.limits.max_token_bytes = max_token_bytes;
  options.limits.max_header_bytes = max_header_bytes;
  return tegata::Validator(options);
}

// Every size and count bound out of the way (the depth limit stays 16), so that what is measured
// is the parsers' own work on input of any size rather than the bounds that stop them early.
tegata::Validator unbounded_validator(std::size_t max_bytes) {
  tegata::ValidatorOptions options;
  options.issuer = "https://issuer.example";
  options.audience = "api";
  options.limits.max_token_bytes = max_bytes;
  options.limits.max_header_bytes = max_bytes;
  options.limits.max_claims = max_bytes;
  return tegata::Validator(options);
}

// --- Building tokens --------------------------------------------------------------------------

std::string b64(std::string_view bytes) { return tegata::base64url_encode(bytes); }

// A JSON object text from member texts, exactly as written (duplicates and all).
std::string object(std::initializer_list<std::string_view> members) {
  std::string out = "{";
  for (const auto member : members) {
    if (out.size() > 1) out += ',';
    out += member;
  }
  return out + '}';
}

constexpr std::string_view kAlg = R"("alg":"HS256")";
constexpr std::string_view kKid = R"("kid":"k1")";
constexpr std::string_view kIss = R"("iss":"https://issuer.example")";
constexpr std::string_view kAud = R"("aud":"api")";
constexpr std::string_view kSub = R"("sub":"alice")";
constexpr std::string_view kExp = R"("exp":1700003600)";  // kNow + 1 h
constexpr std::string_view kIat = R"("iat":1699999990)";

std::string good_header() { return object({kAlg, kKid}); }
std::string good_claims() { return object({kIss, kAud, kSub, kExp, kIat}); }
// The good claims with one more member (which may repeat or replace one: the parser decides).
std::string claims_with(std::string_view member) {
  return object({kIss, kAud, kSub, kIat, member});
}

template <class Key>
std::string sign_input(std::string input, const Key& key) {
  const std::string signature = key.sign_raw(input).value();
  return input + "." + b64(signature);
}

// Signs exactly these header and payload texts.
template <class Key>
std::string forge(std::string_view header, std::string_view payload, const Key& key) {
  return sign_input(b64(header) + "." + b64(payload), key);
}
std::string forge(std::string_view header, std::string_view payload) {
  return forge(header, payload, hs_key());
}
std::string with_header(std::string_view header) { return forge(header, good_claims()); }
std::string with_claims(std::string_view payload) { return forge(good_header(), payload); }

std::string replace_at(std::string s, std::size_t at, char c) {
  s.at(at) = c;
  return s;
}

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  out.reserve(piece.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

// =================================================================================================
// The table
// =================================================================================================

enum class Verifier { hs256, rs256, es256, rs256_ring };

struct Case {
  const char* name{};
  std::function<std::string()> token{};
  std::optional<errc> expected{};  // nullopt: the token must be accepted
  Verifier verifier{Verifier::hs256};
  std::size_t max_token_bytes{8192};
  std::size_t max_header_bytes{1024};
};

std::error_code verify(const Case& c) {
  const std::string token = c.token();
  const tegata::Validator v = validator(c.max_token_bytes, c.max_header_bytes);
  switch (c.verifier) {
    case Verifier::hs256: return tegata::verify_jwt(token, hs_key(), v, kNow).error();
    case Verifier::rs256: return tegata::verify_jwt(token, rs_key(), v, kNow).error();
    case Verifier::es256: return tegata::verify_jwt(token, es_key(), v, kNow).error();
    case Verifier::rs256_ring: {
      const tegata::KeyRing ring(rs_key());
      return tegata::verify_jwt(token, ring, v, kNow).error();
    }
  }
  return errc::invalid_argument;
}

constexpr std::optional<errc> accepted = std::nullopt;
constexpr std::size_t kMiB = 1024 * 1024;

std::vector<Case> token_cases() {
  const std::string good = forge(good_header(), good_claims());
  const std::size_t dot1 = good.find('.');
  const std::size_t dot2 = good.rfind('.');
  const std::string header_b64 = good.substr(0, dot1);
  const std::string payload_b64 = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string signature_b64 = good.substr(dot2 + 1);
  const std::string deep(1'000'000, '[');
  const std::string kid_10k(10'000, 'k');

  return {
      {"the baseline token is accepted", [=] { return good; }, accepted},

      // --- alg none, in every spelling; alg of the wrong type or for another key ---------------
      {"alg none, unsigned",
       [] { return b64(R"({"alg":"none"})") + "." + b64(good_claims()) + "."; }, errc::malformed},
      {"alg none, with a signature", [] { return with_header(R"({"alg":"none"})"); },
       errc::unsupported_algorithm},
      {"alg None", [] { return with_header(R"({"alg":"None"})"); }, errc::unsupported_algorithm},
      {"alg NONE", [] { return with_header(R"({"alg":"NONE"})"); }, errc::unsupported_algorithm},
      {"alg nOnE", [] { return with_header(R"({"alg":"nOnE"})"); }, errc::unsupported_algorithm},
      {"alg none, JSON-escaped", [] { return with_header(R"({"alg":"n\u006fne"})"); },
       errc::unsupported_algorithm},
      {"alg none with a trailing NUL escape", [] { return with_header(R"({"alg":"none\u0000"})"); },
       errc::unsupported_algorithm},
      {"alg none with a trailing space", [] { return with_header(R"({"alg":"none "})"); },
       errc::unsupported_algorithm},
      {"alg empty", [] { return with_header(R"({"alg":""})"); }, errc::malformed},
      {"alg missing", [] { return with_header(object({kKid})); }, errc::malformed},
      {"alg null", [] { return with_header(R"({"alg":null})"); }, errc::malformed},
      {"alg as an array", [] { return with_header(R"({"alg":["HS256"]})"); }, errc::malformed},
      {"alg in lower case", [] { return with_header(R"({"alg":"hs256"})"); },
       errc::unsupported_algorithm},
      {"alg HS512 for an HS256 key", [] { return with_header(R"({"alg":"HS512"})"); },
       errc::unsupported_algorithm},
      {"alg RS256 for an HS256 key", [] { return with_header(R"({"alg":"RS256"})"); },
       errc::unsupported_algorithm},

      // --- HS256 signed with a public key as the HMAC secret (RFC 8725 §2.1) ---------------------
      {"HS256 keyed with the RSA public key PEM, to an RS256 key",
       [] {
         return forge(R"({"alg":"HS256"})", good_claims(), hmac_with_secret(rsa_public_pem()));
       },
       errc::unsupported_algorithm, Verifier::rs256},
      {"HS256 keyed with the RSA public key DER, to an RS256 key",
       [] {
         return forge(R"({"alg":"HS256"})", good_claims(),
                      hmac_with_secret(public_der(rs_key().native_handle())));
       },
       errc::unsupported_algorithm, Verifier::rs256},
      {"alg RS256 over an HMAC keyed with the RSA public key PEM",
       [] {
         return forge(R"({"alg":"RS256"})", good_claims(), hmac_with_secret(rsa_public_pem()));
       },
       errc::bad_signature, Verifier::rs256},
      {"HS256 keyed with the RSA public key PEM, kid of the RSA key in a KeyRing",
       [] {
         return forge(R"({"alg":"HS256","kid":"rsa-1"})", good_claims(),
                      hmac_with_secret(rsa_public_pem()));
       },
       errc::unsupported_algorithm, Verifier::rs256_ring},
      {"HS256 keyed with the EC public key PEM, to an ES256 key",
       [] { return forge(R"({"alg":"HS256"})", good_claims(), hmac_with_secret(ec_public_pem())); },
       errc::unsupported_algorithm, Verifier::es256},
      {"alg ES256 over an HMAC keyed with the EC public key PEM",
       [] { return forge(R"({"alg":"ES256"})", good_claims(), hmac_with_secret(ec_public_pem())); },
       errc::bad_signature, Verifier::es256},

      // --- kid: never a path, URL or query; only compared ---------------------------------------
      {"kid like a path",
       [] {
         return with_header(object({kAlg, R"("kid":"../../../../etc/passwd")"}));
       },
       errc::unknown_key},
      {"kid like a URL",
       [] {
         return with_header(object({kAlg, R"("kid":"https://evil.example/keys.json")"}));
       },
       errc::unknown_key},
      {"kid like SQL",
       [] {
         return with_header(object({kAlg, R"("kid":"' OR '1'='1' --")"}));
       },
       errc::unknown_key},
      {"kid of 10 kB, default limits",
       [=] {
         return with_header(object({kAlg, R"("kid":")" + kid_10k + '"'}));
       },
       errc::too_large},
      {"kid of 10 kB, 64 kB token limit, default header limit",
       [=] {
         return with_header(object({kAlg, R"("kid":")" + kid_10k + '"'}));
       },
       errc::too_large, Verifier::hs256, 65536},
      {"kid of 10 kB, 64 kB token and header limits",
       [=] {
         return with_header(object({kAlg, R"("kid":")" + kid_10k + '"'}));
       },
       errc::unknown_key, Verifier::hs256, 65536, 65536},
      {"kid as a number",
       [] {
         return with_header(object({kAlg, R"("kid":1)"}));
       },
       errc::malformed},
      {"kid empty",
       [] {
         return with_header(object({kAlg, R"("kid":"")"}));
       },
       errc::unknown_key},
      {"kid with a NUL escape",
       [] {
         return with_header(object({kAlg, R"("kid":"k1\u0000")"}));
       },
       errc::unknown_key},
      {"kid in another case",
       [] {
         return with_header(object({kAlg, R"("kid":"K1")"}));
       },
       errc::unknown_key},

      // --- jku, x5u, jwk, x5c: ignored, never fetched or trusted ---------------------------------
      {"jku header, our signature",
       [] {
         return with_header(object({kAlg, kKid, R"("jku":"https://evil.example/jwks")"}));
       },
       accepted},
      {"x5u header, our signature",
       [] {
         return with_header(object({kAlg, kKid, R"("x5u":"https://evil.example/cert.pem")"}));
       },
       accepted},
      {"jwk header carrying the attacker's secret, signed with it",
       [] {
         const std::string jwk =
             R"("jwk":{"kty":"oct","k":")" + b64(std::string(attacker_key().secret())) + R"("})";
         return forge(object({kAlg, kKid, jwk}), good_claims(), attacker_key());
       },
       errc::bad_signature},
      {"jku header, signed by the attacker",
       [] {
         return forge(object({kAlg, kKid, R"("jku":"https://evil.example/jwks")"}), good_claims(),
                      attacker_key());
       },
       errc::bad_signature},
      {"x5c header, signed by the attacker",
       [] {
         return forge(object({kAlg, kKid, R"("x5c":["MIIB"])"}), good_claims(), attacker_key());
       },
       errc::bad_signature},

      // --- crit ---------------------------------------------------------------------------------
      {"crit naming an unknown parameter",
       [] {
         return with_header(object({kAlg, R"("crit":["exp"])", R"("exp":1)"}));
       },
       errc::unsupported_critical},
      {"crit empty",
       [] {
         return with_header(object({kAlg, R"("crit":[])"}));
       },
       errc::malformed},
      {"crit as a string",
       [] {
         return with_header(object({kAlg, R"("crit":"b64")"}));
       },
       errc::malformed},
      {"crit b64 (RFC 7797)",
       [] {
         return with_header(object({kAlg, R"("b64":false)", R"("crit":["b64"])"}));
       },
       errc::unsupported_critical},
      {"crit with a number",
       [] {
         return with_header(object({kAlg, R"("crit":[1])"}));
       },
       errc::malformed},
      {"crit naming jku",
       [] {
         return with_header(object({kAlg, R"("jku":"https://x")", R"("crit":["jku"])"}));
       },
       errc::unsupported_critical},

      // --- duplicate member names ---------------------------------------------------------------
      {"duplicate alg: HS256 then none",
       [] {
         return with_header(object({kAlg, R"("alg":"none")"}));
       },
       errc::duplicate_member},
      {"duplicate alg, same value",
       [] {
         return with_header(object({kAlg, kAlg}));
       },
       errc::duplicate_member},
      {"duplicate kid",
       [] {
         return with_header(object({kAlg, kKid, R"("kid":"k2")"}));
       },
       errc::duplicate_member},
      {"duplicate sub", [] { return with_claims(claims_with(R"("sub":"admin")")); },
       errc::duplicate_member},
      {"duplicate exp",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("exp":9999999999)"}));
       },
       errc::duplicate_member},
      {"duplicate exp, one of them escaped",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("\u0065xp":9999999999)"}));
       },
       errc::duplicate_member},
      {"duplicate member in a nested object",
       [] { return with_claims(claims_with(R"("x":{"a":1,"a":2})")); }, errc::duplicate_member},

      // --- JSON that only a lax parser would read -----------------------------------------------
      {"header with a block comment",
       [] { return with_header(R"({"alg":"HS256" /* hi */,"kid":"k1"})"); }, errc::bad_json},
      {"claims with a line comment",
       [] {
         return with_claims(object({kIss, kAud, kExp}) + "// trailing\n");
       },
       errc::bad_json},
      {"claims with a trailing comma",
       [] {
         return with_claims(R"({"iss":"https://issuer.example","aud":"api","exp":1700003600,})");
       },
       errc::bad_json},
      {"header with a trailing comma", [] { return with_header(R"({"alg":"HS256","kid":"k1",})"); },
       errc::bad_json},
      {"array with a trailing comma", [] { return with_claims(claims_with(R"("x":[1,2,])")); },
       errc::bad_json},
      {"NaN", [] { return with_claims(claims_with(R"("exp":NaN)")); }, errc::bad_json},
      {"Infinity", [] { return with_claims(claims_with(R"("exp":Infinity)")); }, errc::bad_json},
      {"a number overflowing double (1e400)",
       [] { return with_claims(claims_with(R"("exp":1e400)")); }, errc::bad_json},
      {"single quotes", [] { return with_claims(R"({'iss':'https://issuer.example'})"); },
       errc::bad_json},
      {"an unquoted member name", [] { return with_claims(R"({iss:"https://issuer.example"})"); },
       errc::bad_json},
      {"10^6-deep nesting, default limits", [=] { return with_claims(R"({"x":)" + deep + "}"); },
       errc::too_large},
      {"10^6-deep nesting under a 4 MB limit", [=] { return with_claims(R"({"x":)" + deep + "}"); },
       errc::too_deep, Verifier::hs256, 4 * kMiB},
      {"17-deep nesting in the header",
       [] {
         return with_header(R"({"alg":"HS256","x":)" + std::string(16, '[') + std::string(16, ']') +
                            "}");
       },
       errc::too_deep},
      {"invalid UTF-8 in a claim", [] { return with_claims(claims_with("\"x\":\"\xC3\x28\"")); },
       errc::bad_json},
      {"invalid UTF-8 in the header",
       [] { return with_header("{\"alg\":\"HS256\",\"x\":\"\xFF\"}"); }, errc::bad_json},
      {"overlong UTF-8 for '/'", [] { return with_claims(claims_with("\"x\":\"\xC0\xAF\"")); },
       errc::bad_json},
      {"a lone surrogate escape", [] { return with_claims(claims_with(R"("x":"\ud800")")); },
       errc::bad_json},
      {"a UTF-8 encoded surrogate",
       [] { return with_claims(claims_with("\"x\":\"\xED\xA0\x80\"")); }, errc::bad_json},
      {"a raw NUL inside a string",
       [] { return with_claims(claims_with(std::string("\"x\":\"a") + '\0' + "b\"")); },
       errc::bad_json},
      {"a NUL after the object", [] { return with_claims(good_claims() + std::string(1, '\0')); },
       errc::bad_json},
      {"a byte order mark", [] { return with_claims("\xEF\xBB\xBF" + good_claims()); },
       errc::bad_json},
      {"claims as an array", [] { return with_claims("[" + good_claims() + "]"); }, errc::bad_json},
      {"claims as a string", [] { return with_claims(R"("alice")"); }, errc::bad_json},
      {"garbage after the claims", [] { return with_claims(good_claims() + "x"); }, errc::bad_json},
      {"two claims objects", [] { return with_claims(good_claims() + good_claims()); },
       errc::bad_json},
      {"header as an array", [] { return with_header(R"(["alg","HS256"])"); }, errc::bad_json},

      // --- base64url: one spelling only (each signed over the bytes as sent) ---------------------
      {"padding on the header",
       [=] { return sign_input(header_b64 + "=." + payload_b64, hs_key()); }, errc::bad_encoding},
      {"padding on the signature", [=] { return good + "="; }, errc::bad_encoding},
      {"'+' in the payload",
       [=] { return sign_input(header_b64 + "." + replace_at(payload_b64, 4, '+'), hs_key()); },
       errc::bad_encoding},
      {"'/' in the signature", [=] { return replace_at(good, dot2 + 3, '/'); }, errc::bad_encoding},
      {"a space in the payload",
       [=] { return sign_input(header_b64 + "." + replace_at(payload_b64, 8, ' '), hs_key()); },
       errc::bad_encoding},
      {"a line break in the payload",
       [=] {
         return sign_input(
             header_b64 + "." + payload_b64.substr(0, 8) + "\n" + payload_b64.substr(8), hs_key());
       },
       errc::bad_encoding},
      {"CRLF after the token", [=] { return good + "\r\n"; }, errc::bad_encoding},
      {"non-zero unused bits in the last signature character",
       // 32 bytes encode as 43 characters; the last carries 2 unused bits ('A' -> 'B' sets one).
       [=] { return good.substr(0, good.size() - 1) + (good.back() == 'B' ? 'C' : 'B'); },
       errc::bad_encoding},
      {"a header segment whose length is 1 mod 4",
       [=] {
         const std::string padded = header_b64 + std::string((5 - header_b64.size() % 4) % 4, 'A');
         return sign_input(padded + "." + payload_b64, hs_key());
       },
       errc::bad_encoding},

      // --- segments -----------------------------------------------------------------------------
      {"four segments", [=] { return good + ".e30"; }, errc::malformed},
      {"five segments (a JWE)", [=] { return good + ".e30.e30"; }, errc::malformed},
      {"two segments", [=] { return header_b64 + "." + payload_b64; }, errc::malformed},
      {"one segment", [=] { return header_b64; }, errc::malformed},
      {"empty header segment", [=] { return "." + payload_b64 + "." + signature_b64; },
       errc::malformed},
      {"empty signature segment", [=] { return header_b64 + "." + payload_b64 + "."; },
       errc::malformed},
      {"empty payload segment, signed", [=] { return sign_input(header_b64 + ".", hs_key()); },
       errc::bad_json},
      {"the empty string", [] { return std::string(); }, errc::malformed},
      {"only dots", [] { return std::string(".."); }, errc::malformed},
      {"a 10 MB token", [=] { return good + std::string(10 * kMiB, 'A'); }, errc::too_large},

      // --- signature bytes ----------------------------------------------------------------------
      {"signed with another secret under our kid",
       [] { return forge(good_header(), good_claims(), attacker_key()); }, errc::bad_signature},
      {"signature truncated to 31 bytes",
       [=] {
         return header_b64 + "." + payload_b64 + "." +
                b64(tegata::base64url_decode(signature_b64)->substr(0, 31));
       },
       errc::bad_signature},
      {"signature extended to 33 bytes",
       [=] {
         return header_b64 + "." + payload_b64 + "." +
                b64(*tegata::base64url_decode(signature_b64) + "x");
       },
       errc::bad_signature},

      // --- exp, nbf, iat ------------------------------------------------------------------------
      {"exp as a string", [] { return with_claims(claims_with(R"("exp":"1700003600")")); },
       errc::invalid_claim},
      {"nbf as a string",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("nbf":"0")"}));
       },
       errc::invalid_claim},
      {"iat as a string",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("iat":"0")"}));
       },
       errc::invalid_claim},
      {"exp negative", [] { return with_claims(claims_with(R"("exp":-1)")); }, errc::invalid_claim},
      {"nbf negative",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("nbf":-1)"}));
       },
       errc::invalid_claim},
      {"iat negative",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("iat":-1)"}));
       },
       errc::invalid_claim},
      // RFC 7519 §2 allows fractional NumericDates; tegata truncates them to whole seconds.
      {"exp fractional, in the future",
       [] { return with_claims(claims_with(R"("exp":1700003600.75)")); }, accepted},
      {"exp fractional, truncated to now",
       [] { return with_claims(claims_with(R"("exp":1700000000.9)")); }, errc::expired},
      {"iat fractional",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("iat":1699999999.5)"}));
       },
       accepted},
      {"exp 2^63", [] { return with_claims(claims_with(R"("exp":9223372036854775808)")); },
       errc::invalid_claim},
      {"exp 2^63 - 1", [] { return with_claims(claims_with(R"("exp":9223372036854775807)")); },
       errc::invalid_claim},
      {"exp 2^64", [] { return with_claims(claims_with(R"("exp":18446744073709551616)")); },
       errc::invalid_claim},
      {"exp -2^63", [] { return with_claims(claims_with(R"("exp":-9223372036854775808)")); },
       errc::invalid_claim},
      {"exp 1e300", [] { return with_claims(claims_with(R"("exp":1e300)")); }, errc::invalid_claim},
      {"exp one second past 9999-12-31",
       [] { return with_claims(claims_with(R"("exp":253402300800)")); }, errc::invalid_claim},
      {"exp true", [] { return with_claims(claims_with(R"("exp":true)")); }, errc::invalid_claim},
      {"exp null", [] { return with_claims(claims_with(R"("exp":null)")); }, errc::invalid_claim},
      {"exp as an array", [] { return with_claims(claims_with(R"("exp":[1700003600])")); },
       errc::invalid_claim},
      {"exp missing",
       [] {
         return with_claims(object({kIss, kAud, kSub}));
       },
       errc::missing_claim},
      {"exp equal to now", [] { return with_claims(claims_with(R"("exp":1700000000)")); },
       errc::expired},
      {"nbf in the future",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("nbf":1700000001)"}));
       },
       errc::not_yet_valid},
      {"iat in the future",
       [] {
         return with_claims(object({kIss, kAud, kExp, R"("iat":1700000001)"}));
       },
       errc::issued_in_future},

      // --- aud, iss, typ ------------------------------------------------------------------------
      {"aud as an object",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":{"api":true})"}));
       },
       errc::invalid_claim},
      {"aud as a number",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":1)"}));
       },
       errc::invalid_claim},
      {"aud array with a number",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":["api",1])"}));
       },
       errc::invalid_claim},
      {"aud empty array",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":[])"}));
       },
       errc::wrong_audience},
      {"aud of another service",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":["web"])"}));
       },
       errc::wrong_audience},
      {"aud in another case",
       [] {
         return with_claims(object({kIss, kExp, R"("aud":"API")"}));
       },
       errc::wrong_audience},
      {"aud missing",
       [] {
         return with_claims(object({kIss, kExp}));
       },
       errc::missing_claim},
      {"iss as a number",
       [] {
         return with_claims(object({kAud, kExp, R"("iss":1)"}));
       },
       errc::invalid_claim},
      {"iss of another issuer",
       [] {
         return with_claims(object({kAud, kExp, R"("iss":"https://evil.example")"}));
       },
       errc::wrong_issuer},
      {"iss missing",
       [] {
         return with_claims(object({kAud, kExp}));
       },
       errc::missing_claim},
      {"typ of an access token where a plain JWT is expected",
       [] {
         return with_header(object({kAlg, kKid, R"("typ":"at+jwt")"}));
       },
       errc::wrong_type},
      {"typ as a number",
       [] {
         return with_header(object({kAlg, kKid, R"("typ":1)"}));
       },
       errc::malformed},
  };
}

}  // namespace

TEST_CASE("adversarial corpus: hostile tokens get their exact errc", "[adversarial]") {
  const std::vector<Case> cases = token_cases();
  CHECK(cases.size() >= 60);
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    const std::error_code answer = verify(c);
    if (c.expected) {
      CHECK(answer == *c.expected);
    } else {
      CHECK_FALSE(answer);
    }
  }
}

// =================================================================================================
// Session tokens: the wrong kind, replays of rotated and revoked tokens.
// =================================================================================================

namespace {

using Manager =
    tegata::SessionManager<tegata::HmacKey, tegata::ManualClock, tegata::MemoryRevocationStore>;

struct Session {
  tegata::ManualClock clock{kNow};
  tegata::MemoryRevocationStore store{};
  Manager manager;

  explicit Session(std::chrono::seconds grace = 0s)
      : manager(hs_key(),
                tegata::SessionOptions{.issuer = "https://issuer.example",
                                       .audience = "api",
                                       .access_ttl = 300s,
                                       .refresh_ttl = 86'400s,
                                       .absolute_ttl = 7 * 86'400s,
                                       .reuse_grace = grace},
                clock, store) {}
};

// Re-encodes a token's header with another typ and keeps the old signature, as an attacker
// without the key would have to.
std::string retyped(const std::string& token, std::string_view typ) {
  const std::size_t dot = token.find('.');
  json header = json::parse(tegata::base64url_decode(token.substr(0, dot)).value());
  header["typ"] = typ;
  return b64(header.dump()) + token.substr(dot);
}

struct SessionCase {
  const char* name{};
  std::function<std::error_code()> run{};  // sets up a session and answers the hostile step
  errc expected{};
};

std::vector<SessionCase> session_cases() {
  return {
      {"refresh token presented as an access token",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         return s.manager.validate(pair.refresh_token).error();
       },
       errc::wrong_type},
      {"access token presented as a refresh token",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         return s.manager.refresh(pair.access_token).error();
       },
       errc::wrong_type},
      {"refresh token re-typed at+jwt without the key",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         return s.manager.validate(retyped(pair.refresh_token, "at+jwt")).error();
       },
       errc::bad_signature},
      {"access token re-typed rt+jwt without the key",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         return s.manager.refresh(retyped(pair.access_token, "rt+jwt")).error();
       },
       errc::bad_signature},
      {"replay of a rotated refresh token",
       [] {
         Session s;
         const auto first = s.manager.issue("alice").value();
         (void)s.manager.refresh(first.refresh_token).value();
         return s.manager.refresh(first.refresh_token).error();
       },
       errc::refresh_reused},
      {"the newest refresh token after a replay revoked its family",
       [] {
         Session s;
         const auto first = s.manager.issue("alice").value();
         const auto second = s.manager.refresh(first.refresh_token).value();
         (void)s.manager.refresh(first.refresh_token);
         return s.manager.refresh(second.refresh_token).error();
       },
       errc::session_revoked},
      {"the newest access token after a replay revoked its family",
       [] {
         Session s;
         const auto first = s.manager.issue("alice").value();
         const auto second = s.manager.refresh(first.refresh_token).value();
         (void)s.manager.refresh(first.refresh_token);
         return s.manager.validate(second.access_token).error();
       },
       errc::session_revoked},
      {"replay of a rotated refresh token after the grace window",
       [] {
         Session s(10s);
         const auto first = s.manager.issue("alice").value();
         (void)s.manager.refresh(first.refresh_token).value();
         s.clock.advance(11s);
         return s.manager.refresh(first.refresh_token).error();
       },
       errc::refresh_reused},
      {"replay within the grace window of a token that is no longer the latest",
       [] {
         Session s(10s);
         const auto first = s.manager.issue("alice").value();
         const auto second = s.manager.refresh(first.refresh_token).value();
         (void)s.manager.refresh(second.refresh_token).value();
         return s.manager.refresh(first.refresh_token).error();
       },
       errc::refresh_reused},
      {"replay of a refresh token after logout",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         s.manager.revoke(pair.access_token).value();
         return s.manager.refresh(pair.refresh_token).error();
       },
       errc::session_revoked},
      {"an access token after logout",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         s.manager.revoke(pair.refresh_token).value();
         return s.manager.validate(pair.access_token).error();
       },
       errc::session_revoked},
      {"an access token after log-out-everywhere",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         s.manager.revoke_all("alice").value();
         return s.manager.validate(pair.access_token).error();
       },
       errc::version_mismatch},
      {"a refresh token after log-out-everywhere",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         s.manager.revoke_all("alice").value();
         return s.manager.refresh(pair.refresh_token).error();
       },
       errc::version_mismatch},
      {"a refresh token past the session's absolute lifetime",
       [] {
         Session s;
         auto pair = s.manager.issue("alice").value();
         for (int day = 0; day < 7; ++day) {
           s.clock.advance(86'000s);
           pair = s.manager.refresh(pair.refresh_token).value();
         }
         s.clock.advance(86'000s);
         return s.manager.refresh(pair.refresh_token).error();
       },
       errc::session_expired},
      {"a refresh token past its idle lifetime",
       [] {
         Session s;
         const auto pair = s.manager.issue("alice").value();
         s.clock.advance(86'400s);
         return s.manager.refresh(pair.refresh_token).error();
       },
       errc::expired},
      {"an access token of another deployment with the same kid",
       [] {
         Session s;
         const tegata::HmacKey other(Algorithm::HS256, "another deployment's secret, 32+ bytes",
                                     "k1");
         Manager foreign(
             other, tegata::SessionOptions{.issuer = "https://issuer.example", .audience = "api"},
             s.clock);
         const auto pair = foreign.issue("alice").value();
         return s.manager.validate(pair.access_token).error();
       },
       errc::bad_signature},
  };
}

}  // namespace

TEST_CASE("adversarial corpus: session tokens of the wrong kind, replayed or revoked",
          "[adversarial]") {
  for (const SessionCase& c : session_cases()) {
    INFO("case: " << c.name);
    CHECK(c.run() == c.expected);
  }
}

namespace {

// The same ES256 token with its signature (r, s) replaced by (r, n - s), which verifies just as
// well: ECDSA signatures are malleable, so the bytes of a token do not identify it.
std::string malleated(const std::string& token) {
  using bn_ptr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
  const std::size_t dot = token.rfind('.');
  std::string signature = tegata::base64url_decode(token.substr(dot + 1)).value();
  REQUIRE(signature.size() == 64);
  BIGNUM* order_raw = nullptr;  // the order n of P-256
  REQUIRE(BN_hex2bn(&order_raw,
                    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") != 0);
  const bn_ptr order(order_raw, &BN_free);
  const bn_ptr s(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr),
      &BN_free);
  const bn_ptr flipped(BN_new(), &BN_free);
  REQUIRE((s && flipped && BN_sub(flipped.get(), order.get(), s.get()) == 1));
  REQUIRE(BN_bn2binpad(flipped.get(), reinterpret_cast<unsigned char*>(signature.data()) + 32,
                       32) == 32);
  return token.substr(0, dot + 1) + b64(signature);
}

}  // namespace

TEST_CASE("adversarial corpus: a malleated ES256 refresh token is the same, already used token",
          "[adversarial]") {
  tegata::ManualClock clock(kNow);
  // No grace window: within one, a replay gets a pair on the same chain, which is no evidence.
  tegata::SessionManager manager(es_key(),
                                 tegata::SessionOptions{.issuer = "https://issuer.example",
                                                        .audience = "api",
                                                        .reuse_grace = std::chrono::seconds{0}},
                                 clock);
  const auto first = manager.issue("alice").value();
  const std::string twin = malleated(first.refresh_token);
  REQUIRE(twin != first.refresh_token);

  // Session state is keyed on the token's jti and sid, never on its bytes: once the original has
  // been used, its twin is a replay (or, should tegata ever require low-s signatures, refused).
  (void)manager.refresh(first.refresh_token).value();
  const auto replay = manager.refresh(twin);
  REQUIRE_FALSE(replay);
  CHECK((replay.error() == errc::refresh_reused || replay.error() == errc::bad_signature));
}

// =================================================================================================
// Credential headers
// =================================================================================================

TEST_CASE("adversarial corpus: hostile Authorization and Cookie header values", "[adversarial]") {
  namespace http = tegata::http;
  struct HeaderCase {
    const char* name{};
    std::function<tegata::Result<std::string_view>()> read{};
    errc expected{};
  };
  static const std::string long_header = repeat("a=b; ", 100'000);
  static const http::CookieWriter cookies{};
  const std::vector<HeaderCase> cases = {
      {"Bearer without credentials", [] { return http::bearer_token("Bearer"); },
       errc::invalid_argument},
      {"Bearer with two spaces", [] { return http::bearer_token("Bearer  abc"); },
       errc::invalid_argument},
      {"Bearer with trailing whitespace", [] { return http::bearer_token("Bearer abc "); },
       errc::invalid_argument},
      {"Bearer with a tab instead of a space", [] { return http::bearer_token("Bearer\tabc"); },
       errc::invalid_argument},
      {"Bearer with two tokens", [] { return http::bearer_token("Bearer abc, Bearer def"); },
       errc::invalid_argument},
      {"Bearer with '=' inside", [] { return http::bearer_token("Bearer a=b"); },
       errc::invalid_argument},
      {"Bearer with a header injection",
       [] { return http::bearer_token("Bearer abc\r\nX-Admin: 1"); }, errc::invalid_argument},
      {"Bearer with a NUL", [] { return http::bearer_token(std::string_view("Bearer ab\0c", 11)); },
       errc::invalid_argument},
      {"another scheme", [] { return http::bearer_token("Basic YWxpY2U6cGFzcw=="); },
       errc::not_found},
      {"the same cookie twice",
       [] { return cookies.read_access("__Host-access_token=a; __Host-access_token=b"); },
       errc::invalid_argument},
      {"a quoted cookie value", [] { return cookies.read_access("__Host-access_token=\"abc\""); },
       errc::invalid_argument},
      {"a cookie value with a space inside",
       [] { return cookies.read_access("__Host-access_token=a b"); }, errc::invalid_argument},
      {"the cookie under an unprefixed name",
       [] { return cookies.read_access("access_token=abc"); }, errc::not_found},
      {"the cookie prefix in another case",
       [] { return cookies.read_access("__host-access_token=abc"); }, errc::not_found},
      {"a comma is not a cookie separator",
       [] { return cookies.read_access("theme=dark, __Host-access_token=abc"); }, errc::not_found},
      {"an empty cookie value", [] { return cookies.read_access("__Host-access_token="); },
       errc::not_found},
      {"100,000 unrelated cookies", [] { return cookies.read_access(long_header); },
       errc::not_found},
  };
  for (const HeaderCase& c : cases) {
    INFO("case: " << c.name);
    CHECK(c.read().error() == c.expected);
  }
}

// =================================================================================================
// Linear work (see the allocation counter at the top of this file)
// =================================================================================================

namespace {

// The work of run(make(n)) for n = base, 2 base, 4 base, 8 base.
std::vector<Work> work_at_sizes(std::size_t base,
                                const std::function<std::string(std::size_t)>& make,
                                const std::function<void(std::string_view)>& run) {
  std::vector<Work> out;
  for (std::size_t factor = 1; factor <= 8; factor *= 2) {
    const std::string input = make(base * factor);
    const CountAllocations counter;
    run(input);
    out.push_back(counter.work());
  }
  return out;
}

// Eight times the input may cost at most ten times the work (linear plus slack for the
// allocator's growth steps); a quadratic step would cost 64 times.
void check_proportionate(const std::vector<Work>& work) {
  REQUIRE(work.size() == 4);
  INFO("allocations: " << work[0].allocations << ", " << work[1].allocations << ", "
                       << work[2].allocations << ", " << work[3].allocations);
  INFO("bytes: " << work[0].bytes << ", " << work[1].bytes << ", " << work[2].bytes << ", "
                 << work[3].bytes);
  CHECK(work[3].allocations <= 10 * work[0].allocations + 16);
  CHECK(work[3].bytes <= 10 * work[0].bytes + 4096);
}

void check_allocation_free(const std::vector<Work>& work) {
  for (const Work& w : work) CHECK(w.allocations == 0);
}

}  // namespace

TEST_CASE("adversarial corpus: work grows in proportion to hostile input", "[adversarial]") {
  const tegata::Validator roomy = unbounded_validator(64 * kMiB);
  const auto verify_roomy = [&](std::string_view token) {
    (void)tegata::verify_jwt(token, hs_key(), roomy, kNow);
  };

  // The counter sees allocations at all (otherwise every check below would pass vacuously).
  {
    REQUIRE(hook_installed);
    volatile std::size_t size = 1000;  // not a constant: the allocation cannot be optimised away
    Work work;
    {
      const CountAllocations counter;
      const std::string encoded = tegata::base64url_encode(std::string(size, 'x'));
      work = counter.work();
      CHECK(encoded.size() == 1334);
    }
    CHECK(work.allocations >= 2);
    CHECK(work.bytes >= 2000);
  }

  SECTION("deep nesting in the header") {
    check_proportionate(work_at_sizes(
        20'000,
        [](std::size_t n) { return with_header(R"({"alg":"HS256","x":)" + std::string(n, '[')); },
        verify_roomy));
  }
  SECTION("deep nesting in the signed claims") {
    check_proportionate(work_at_sizes(
        20'000, [](std::size_t n) { return with_claims(R"({"x":)" + std::string(n, '{')); },
        verify_roomy));
  }
  SECTION("many dots") {
    check_proportionate(work_at_sizes(
        20'000, [](std::size_t n) { return repeat("eyJ.", n); }, verify_roomy));
  }
  SECTION("a long base64url header") {
    check_proportionate(work_at_sizes(
        40'000, [](std::size_t n) { return std::string(n, 'A') + ".e30.AAAA"; }, verify_roomy));
  }
  SECTION("many claims") {
    check_proportionate(work_at_sizes(
        2'000,
        [](std::size_t n) {
          std::string claims = object({kIss, kAud, kExp});
          claims.pop_back();
          for (std::size_t i = 0; i < n; ++i)
            claims += ",\"c" + std::to_string(i) + "\":" + std::to_string(i);
          return with_claims(claims + "}");
        },
        verify_roomy));
  }
  SECTION("many keys in a JWK Set") {
    check_proportionate(work_at_sizes(
        50,
        [](std::size_t n) {
          json keys = json::array();
          for (std::size_t i = 0; i < n; ++i) {
            keys.push_back({{"kty", "oct"},
                            {"alg", "HS256"},
                            {"kid", "k" + std::to_string(i)},
                            {"k", b64(std::string(32, static_cast<char>('a' + i % 26)))}});
          }
          return json{{"keys", keys}}.dump();
        },
        [](std::string_view text) { (void)tegata::keys::parse_jwks(text, {.max_keys = 1000}); }));
  }
  SECTION("too large: refused before any allocation") {
    const tegata::Validator standard = validator();
    check_allocation_free(work_at_sizes(
        10 * kMiB / 8, [](std::size_t n) { return std::string(n, 'A'); },
        [&](std::string_view token) {
          (void)tegata::verify_jwt(token, hs_key(), standard, kNow);
        }));
  }
  SECTION("many cookie pairs: one pass, no allocation") {
    const tegata::http::CookieWriter cookies{};
    check_allocation_free(work_at_sizes(
        10'000, [](std::size_t n) { return repeat("a=b; ", n) + "__Host-access_token=x"; },
        [&](std::string_view header) { (void)cookies.read_access(header); }));
  }
  SECTION("a long Authorization header: no allocation") {
    check_allocation_free(work_at_sizes(
        100'000, [](std::size_t n) { return "Bearer " + std::string(n, 'A'); },
        [](std::string_view header) { (void)tegata::http::bearer_token(header); }));
  }
}

TEST_CASE("adversarial corpus: the claim count is checked before the DOM is built",
          "[adversarial][limits]") {
  // 100,000 claims, signed: the flat reader defers (it holds 32 members), so the strict reader
  // reads them. The token size limit is raised so that only max_claims can stop it.
  std::string claims = object({kIss, kAud, kExp});
  claims.pop_back();
  for (std::size_t i = 0; i < 100'000; ++i) {
    claims += ",\"c" + std::to_string(i) + "\":" + std::to_string(i);
  }
  const std::string token = with_claims(claims + "}");
  REQUIRE(token.size() > kMiB);

  tegata::ValidatorOptions bounded_options;
  bounded_options.issuer = "https://issuer.example";
  bounded_options.audience = "api";
  bounded_options.limits.max_token_bytes = 4 * kMiB;
  REQUIRE(bounded_options.limits.max_claims == 64);
  tegata::ValidatorOptions full_options = bounded_options;
  full_options.limits.max_claims = 1'000'000;
  const tegata::Validator bounded(bounded_options);
  const tegata::Validator full(full_options);

  Work bounded_work;
  Work full_work;
  {
    const CountAllocations counter;
    CHECK(tegata::verify_jwt(token, hs_key(), bounded, kNow).error() == errc::too_large);
    bounded_work = counter.work();
  }
  {
    const CountAllocations counter;
    CHECK(tegata::verify_jwt(token, hs_key(), full, kNow).has_value());
    full_work = counter.work();
  }
  INFO("allocations: bounded " << bounded_work.allocations << ", full " << full_work.allocations);
  // The full DOM costs at least one allocation per claim; refusing at the 65th claim costs a few
  // per claim read, plus the decoded payload and the verification.
  CHECK(full_work.allocations >= 100'000);
  CHECK(bounded_work.allocations <= 64 * 4 + 100);
}

TEST_CASE("adversarial corpus: a syntactically broken object is refused without allocating",
          "[adversarial][fast_path]") {
  // Text that is certainly not JSON is decided by the flat reader (detail/fast_json.hpp,
  // syntax_error), so it never reaches nlohmann's parser, which builds an exception object with
  // a message for every error even when it does not throw. A broken header is refused before
  // the signature is checked: nothing is allocated. A broken claims object is read after it, so
  // the only allocations are the MAC's (OpenSSL's, which the counter sees only under a
  // sanitizer): exactly those of a token refused for its signature.
  tegata::ManualClock clock(kNow);
  const tegata::SessionManager manager(
      hs_key(), tegata::SessionOptions{.issuer = "https://issuer.example", .audience = "api"},
      clock);
  const tegata::Validator jwt_validator = validator();
  const std::string claims = good_claims();
  const std::string trailing_comma = claims.substr(0, claims.size() - 1) + ",}";
  const std::string truncated = claims.substr(0, claims.size() / 2);

  // Each token is refused twice: first to set up what a thread keeps (its MAC context, its
  // header cache), then counted.
  struct Refusal {
    const char* name{};
    std::function<std::error_code()> run{};
  };
  const auto by_verify_jwt = [&](std::string token) {
    return [&jwt_validator, token = std::move(token)] {
      return tegata::verify_jwt(token, hs_key(), jwt_validator, kNow).error();
    };
  };
  const auto by_validate = [&](std::string token) {
    return [&manager, token = std::move(token)] { return manager.validate(token).error(); };
  };
  const std::string jwt_header = good_header();
  const std::string session_header = object({kAlg, kKid, R"("typ":"at+jwt")"});
  const auto work_of = [](const Refusal& r) {
    INFO("case: " << r.name);
    CHECK(r.run() == errc::bad_json);
    std::error_code refused;
    Work work;
    {
      const CountAllocations counter;
      refused = r.run();
      work = counter.work();
    }
    CHECK(refused == errc::bad_json);
    return work;
  };

  // The header benchmarks/ measures (tegata_validate_malformed_object), and others.
  for (const std::string_view header :
       {R"({"alg":"HS256","kid":)", R"({"alg":"HS256","kid":"k1",})", R"({"alg":"HS256")",
        R"({"alg":"HS256" "kid":"k1"})", R"({"alg":"HS256","kid":"k1"}})"}) {
    for (const Refusal& r : {Refusal{"header, verify_jwt", by_verify_jwt(forge(header, claims))},
                             Refusal{"header, validate", by_validate(forge(header, claims))}}) {
      INFO("header: " << header);
      CHECK(work_of(r).allocations == 0);
    }
  }

  const Refusal bad_signature{"bad signature",
                              by_verify_jwt(forge(jwt_header, claims, attacker_key()))};
  REQUIRE(bad_signature.run() == errc::bad_signature);
  (void)bad_signature.run();
  Work signature_work;
  {
    const CountAllocations counter;
    (void)bad_signature.run();
    signature_work = counter.work();
  }
  for (const Refusal& r :
       {Refusal{"trailing comma, verify_jwt", by_verify_jwt(forge(jwt_header, trailing_comma))},
        Refusal{"trailing comma, validate", by_validate(forge(session_header, trailing_comma))},
        Refusal{"truncated, verify_jwt", by_verify_jwt(forge(jwt_header, truncated))},
        Refusal{"truncated, validate", by_validate(forge(session_header, truncated))}}) {
    const Work work = work_of(r);
    INFO("case: " << r.name << ", allocations " << work.allocations << ", a bad signature's "
                  << signature_work.allocations);
    CHECK(work.allocations == signature_work.allocations);
#ifndef TEGATA_TEST_ALLOCATION_HOOK
    CHECK(work.allocations == 0);  // operator new only: OpenSSL's own mallocs are not counted
#endif
  }
}
