// tegata/dpop/nonce_inl.hpp - the definitions of tegata/dpop/nonce.hpp (tegata/detail/inline.hpp
// says why they are apart).
#pragma once

#include "tegata/dpop/nonce.hpp"

namespace tegata::dpop {

TEGATA_INLINE NonceIssuer::NonceIssuer(std::string_view secret, std::chrono::seconds lifetime)
    : secret_(secret), lifetime_(lifetime) {
  if (secret_.size() < 32) throw std::invalid_argument("tegata: a nonce secret needs 32 bytes");
  if (lifetime_ < std::chrono::seconds{10} || lifetime_ > std::chrono::hours{1}) {
    throw std::invalid_argument("tegata: the nonce lifetime must be 10 s..1 h");
  }
}

TEGATA_INLINE bool NonceIssuer::accepts(std::string_view nonce,
                                        std::chrono::sys_seconds now) const {
  const std::int64_t current = window(now);
  for (const std::int64_t w : {current, current - 1}) {
    const std::string expected = nonce_of(w);
    if (!expected.empty() && nonce.size() == expected.size() &&
        CRYPTO_memcmp(nonce.data(), expected.data(), expected.size()) == 0) {
      return true;
    }
  }
  return false;
}

TEGATA_INLINE std::string NonceIssuer::nonce_of(std::int64_t window) const {
  static constexpr std::string_view kLabel = "tegata dpop nonce v1";
  std::array<unsigned char, kLabel.size() + 8> input{};
  std::array<unsigned char, 8> number{};
  for (std::size_t i = 0; i < 8; ++i) {
    number[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(window) >> (56 - 8 * i));
  }
  std::copy(kLabel.begin(), kLabel.end(), input.begin());
  std::copy(number.begin(), number.end(), input.begin() + kLabel.size());
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_length = 0;
  const tegata::detail::openssl_error_scope errors;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret_.data(), secret_.size(),
                input.data(), input.size(), mac, sizeof mac, &mac_length) == nullptr ||
      mac_length < 16) {
    return {};
  }
  std::string raw(reinterpret_cast<const char*>(number.data()), number.size());
  raw.append(reinterpret_cast<const char*>(mac), 16);
  return base64url_encode(raw);
}

}  // namespace tegata::dpop
