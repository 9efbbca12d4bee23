// tegata/detail/member_names.hpp - the vocabulary of member names that tegata's checks read from
// token headers and claims, and the one function that tells a name from that vocabulary.
//
// Both JSON readers (detail/fast_json.hpp, detail/json.hpp) and every check (jws.hpp's header,
// claims.hpp, the session claims) name members by member_name, so that a name is compared once,
// where it is read, and never again as a string.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tegata::detail {

// The member names tegata reads from headers and claims; `other` for every other name.
enum class member_name : std::uint8_t {
  other,
  alg,
  kid,
  typ,
  crit,
  iss,
  sub,
  aud,
  exp,
  nbf,
  iat,
  jti,
  sid,
  ver,
  auth_time,
  cnf,  // RFC 7800 confirmation: a DPoP-bound session's {"jkt": thumbprint}
};
inline constexpr std::size_t kMemberNameCount = 16;

constexpr std::string_view name_of(member_name name) noexcept {
  switch (name) {
    case member_name::alg: return "alg";
    case member_name::kid: return "kid";
    case member_name::typ: return "typ";
    case member_name::crit: return "crit";
    case member_name::iss: return "iss";
    case member_name::sub: return "sub";
    case member_name::aud: return "aud";
    case member_name::exp: return "exp";
    case member_name::nbf: return "nbf";
    case member_name::iat: return "iat";
    case member_name::jti: return "jti";
    case member_name::sid: return "sid";
    case member_name::ver: return "ver";
    case member_name::auth_time: return "auth_time";
    case member_name::cnf: return "cnf";
    case member_name::other: break;
  }
  return {};
}

namespace name_hash {

// The bytes of a three-byte name as one integer, first byte lowest.
constexpr std::uint32_t pack3(std::string_view s) noexcept {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16;
}

// The three-byte names, found with one multiplication and one comparison: a perfect hash into
// 32 slots, its multiplier searched at compile time. (A chain of comparisons, or a switch,
// costs a branch misprediction on most names.)
inline constexpr member_name kThreeByteNames[] = {
    member_name::alg, member_name::kid, member_name::typ, member_name::iss,
    member_name::sub, member_name::aud, member_name::exp, member_name::nbf,
    member_name::iat, member_name::jti, member_name::sid, member_name::ver, member_name::cnf};

constexpr std::uint32_t slot_of(std::uint32_t packed, std::uint32_t multiplier) noexcept {
  return (packed * multiplier) >> 27;  // the top 5 bits of a 32-bit product: 0..31
}

constexpr std::uint32_t find_multiplier() noexcept {
  for (std::uint32_t m = 0x9E3779B1u;; m += 2) {
    bool used[32] = {};
    bool collision = false;
    for (const member_name n : kThreeByteNames) {
      const std::uint32_t slot = slot_of(pack3(name_of(n)), m);
      collision = collision || used[slot];
      used[slot] = true;
    }
    if (!collision) return m;
  }
}

inline constexpr std::uint32_t kNameMultiplier = find_multiplier();

struct name_slot {
  std::uint32_t packed = 0;  // 0 for an empty slot: no name of three bytes packs to 0 here
  member_name name = member_name::other;
};

inline constexpr std::array<name_slot, 32> kNameSlots = [] {
  std::array<name_slot, 32> slots{};
  for (const member_name n : kThreeByteNames) {
    const std::uint32_t packed = pack3(name_of(n));
    slots[slot_of(packed, kNameMultiplier)] = {packed, n};
  }
  return slots;
}();

}  // namespace name_hash

constexpr member_name classify_member(std::string_view name) noexcept {
  switch (name.size()) {
    case 3: {
      const std::uint32_t packed = name_hash::pack3(name);
      const name_hash::name_slot& slot =
          name_hash::kNameSlots[name_hash::slot_of(packed, name_hash::kNameMultiplier)];
      // "\0\0\0" packs to 0 like an empty slot, and is no known name either way.
      return slot.packed == packed && packed != 0 ? slot.name : member_name::other;
    }
    case 4: return name == "crit" ? member_name::crit : member_name::other;
    case 9: return name == "auth_time" ? member_name::auth_time : member_name::other;
    default: return member_name::other;
  }
}

}  // namespace tegata::detail
