// examples/http_server/passwords.hpp - the example server's users: salted PBKDF2-HMAC-SHA256.
//
// A password is never stored. Each user has a random 16-byte salt and the 32-byte PBKDF2-HMAC-
// SHA256 of the password under that salt, with an iteration count stored beside it so that it can
// be raised later without invalidating existing entries. A login recomputes the hash and compares
// it in constant time (CRYPTO_memcmp). An unknown user costs the same PBKDF2 run as a known one,
// so response times do not reveal which usernames exist.
//
// Users file (--users FILE): one user per line, '#' starts a comment line, blank lines are skipped:
//   <username>:pbkdf2-sha256:<iterations>:<salt, base64url>:<hash, base64url>
// `tegata_http_server --hash-password NAME` reads a password on stdin and prints such a line.
#pragma once

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/base64url.hpp"

namespace demo {

// OWASP's recommendation for PBKDF2-HMAC-SHA256 (2023). Entries in a users file may use more;
// fewer than kMinIterations are refused when the file is loaded.
inline constexpr std::uint64_t kDefaultIterations = 600'000;
inline constexpr std::uint64_t kMinIterations = 100'000;
inline constexpr std::uint64_t kMaxIterations = 100'000'000;
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kHashBytes = 32;
// Longer input is refused before any hashing: a login must not buy unbounded CPU time.
inline constexpr std::size_t kMaxUsernameBytes = 64;
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Letters, digits and ._@- only: the name becomes the tokens' `sub` and appears in logs.
inline bool valid_username(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxUsernameBytes) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// PBKDF2-HMAC-SHA256 through OpenSSL 3's EVP_KDF. Throws std::runtime_error if OpenSSL fails
// (a broken installation, not a bad password).
inline std::string pbkdf2_sha256(std::string_view password, std::string_view salt,
                                 std::uint64_t iterations) {
  struct KdfFree {
    void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
  };
  struct CtxFree {
    void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
  };
  const std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "PBKDF2", nullptr));
  const std::unique_ptr<EVP_KDF_CTX, CtxFree> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!ctx) throw std::runtime_error("OpenSSL has no PBKDF2");

  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these buffers.
  static char empty[1] = {0};
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD, password.empty() ? empty : const_cast<char*>(password.data()),
          password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iterations),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  std::string out(kHashBytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) !=
      1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}

struct PasswordEntry {
  std::uint64_t iterations = kDefaultIterations;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes
};

// A fresh entry for password with a random salt.
inline PasswordEntry make_entry(std::string_view password,
                                std::uint64_t iterations = kDefaultIterations) {
  PasswordEntry entry;
  entry.iterations = iterations;
  entry.salt.assign(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(entry.salt.data()),
                 static_cast<int>(entry.salt.size())) != 1) {
    throw std::runtime_error("no random bytes for a salt");
  }
  entry.hash = pbkdf2_sha256(password, entry.salt, iterations);
  return entry;
}

// The users file line for name and entry.
inline std::string format_entry(std::string_view name, const PasswordEntry& entry) {
  return std::string(name) + ":pbkdf2-sha256:" + std::to_string(entry.iterations) + ":" +
         tegata::base64url_encode(entry.salt) + ":" + tegata::base64url_encode(entry.hash);
}

class UserTable {
 public:
  // A table with the single demo user alice / wonderland.
  static UserTable demo() {
    UserTable table;
    table.users_.emplace("alice", make_entry("wonderland"));
    return table;
  }

  // Reads a users file (format at the top of this file). Throws std::invalid_argument naming the
  // line of the first malformed entry; never echoes the line itself, which holds a hash.
  static UserTable load(std::istream& in) {
    UserTable table;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      auto parsed = parse_line(line);
      if (!parsed) {
        throw std::invalid_argument("users file line " + std::to_string(number) +
                                    " is not name:pbkdf2-sha256:iterations:salt:hash");
      }
      if (!table.users_.emplace(std::move(parsed->first), std::move(parsed->second)).second) {
        throw std::invalid_argument("users file line " + std::to_string(number) +
                                    " repeats a username");
      }
    }
    if (table.users_.empty()) throw std::invalid_argument("the users file holds no user");
    return table;
  }

  // True when name exists and password is its password. Takes one PBKDF2 run whether or not
  // the user exists. Thread-safe: the table is never modified after construction.
  bool verify(std::string_view name, std::string_view password) const {
    const auto it = users_.find(name);
    const PasswordEntry& entry = it != users_.end() ? it->second : decoy_;
    std::string computed = pbkdf2_sha256(password, entry.salt, entry.iterations);
    const bool same = computed.size() == entry.hash.size() &&
                      CRYPTO_memcmp(computed.data(), entry.hash.data(), computed.size()) == 0;
    OPENSSL_cleanse(computed.data(), computed.size());
    return same && it != users_.end();
  }

  std::size_t size() const noexcept { return users_.size(); }

 private:
  UserTable() : decoy_(make_entry("decoy: never matches, only costs the same time")) {}

  static std::optional<std::pair<std::string, PasswordEntry>> parse_line(std::string_view line) {
    std::string_view fields[5];
    for (std::size_t i = 0; i < 5; ++i) {
      const std::size_t colon = line.find(':');
      if ((colon == std::string_view::npos) != (i == 4)) return std::nullopt;
      fields[i] = line.substr(0, colon);
      if (colon != std::string_view::npos) line.remove_prefix(colon + 1);
    }
    if (!valid_username(fields[0]) || fields[1] != "pbkdf2-sha256") return std::nullopt;
    PasswordEntry entry;
    const auto [end, ec] =
        std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), entry.iterations);
    if (ec != std::errc{} || end != fields[2].data() + fields[2].size() ||
        entry.iterations < kMinIterations || entry.iterations > kMaxIterations) {
      return std::nullopt;
    }
    auto salt = tegata::base64url_decode(fields[3]);
    auto hash = tegata::base64url_decode(fields[4]);
    if (!salt || !hash || salt->size() < kSaltBytes || hash->size() != kHashBytes) {
      return std::nullopt;
    }
    entry.salt = std::move(*salt);
    entry.hash = std::move(*hash);
    return std::pair{std::string(fields[0]), std::move(entry)};
  }

  std::map<std::string, PasswordEntry, std::less<>> users_;
  PasswordEntry decoy_;
};

}  // namespace demo
