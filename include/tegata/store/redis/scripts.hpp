// tegata/store/redis/scripts.hpp - the Redis data model: key names and the Lua scripts that make
// every write one atomic round trip. Internal to the Redis store.
//
// Keys (P is Options::prefix):
//   P t:<jti>                 revoked token: string <until>
//   P f:{<sid>}               session family: hash r=<revoked until> l=<last consumed jti>
//                             u=<until> (the latest until of anything about the family)
//   P u:<len(sid)>:{<sid>}<jti>  consumed refresh token: hash u=<until> f=<first use>
//   P v:<subject>             subject version: hash v=<version> u=<until>
// and the channel P events, on which every revocation and version bump is published.
//
// Times are seconds since the epoch, as the manager passes them; Redis's own clock is never read.
// A fact counts only while until > now (the caller's now), exactly as in MemoryRevocationStore;
// its key expires (PEXPIRE) until - now + margin after the write, as garbage collection. So no
// key outlives the tokens it concerns by more than the margin, versions included.
//
// A family key and its consumed refresh keys share the hash tag {<sid>}: consume_refresh touches
// only keys of one Cluster slot. The length of sid in the consumed-refresh key keeps (sid, jti)
// pairs apart even when ids contain '}'.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tegata/store/redis/connection.hpp"

namespace tegata::redis::detail {

class keyspace {
 public:
  explicit keyspace(std::string prefix) : prefix_(std::move(prefix)), channel_(prefix_ + "events") {
    // Redis hashes the text between the first '{' and the next '}' when there is any; a prefix
    // with a '{' but no complete, non-empty tag would give a family and its refresh tokens
    // different slots.
    const auto open = prefix_.find('{');
    if (open != std::string::npos) {
      const auto close = prefix_.find('}', open + 1);
      if (close == std::string::npos || close == open + 1) {
        throw std::invalid_argument(
            "tegata: redis prefix has a '{' without a non-empty hash tag '{...}' after it");
      }
    }
  }

  std::string token(std::string_view jti) const { return key("t:", jti); }
  std::string family(std::string_view sid) const {
    std::string k = key("f:{", sid);
    k += '}';
    return k;
  }
  std::string use(std::string_view sid, std::string_view jti) const {
    std::string k = key("u:", std::to_string(sid.size()));
    k.append(":{").append(sid).append("}").append(jti);
    return k;
  }
  std::string version(std::string_view subject) const { return key("v:", subject); }
  const std::string& channel() const noexcept { return channel_; }
  const std::string& prefix() const noexcept { return prefix_; }

  // SCAN MATCH pattern of the keys the local cache loads (t, f and v keys).
  std::string cached_facts_pattern() const {
    std::string pattern;
    for (char c : prefix_) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
      pattern += c;
    }
    return pattern + "[tfv]:*";
  }

  // The kind ('t', 'f' or 'v') and id of a key named by this keyspace.
  struct fact_key {
    char kind;
    std::string_view id;
  };
  std::optional<fact_key> parse(std::string_view key) const noexcept {
    if (key.substr(0, prefix_.size()) != prefix_) return std::nullopt;
    key.remove_prefix(prefix_.size());
    if (key.size() < 2 || key[1] != ':') return std::nullopt;
    const char kind = key[0];
    key.remove_prefix(2);
    if (kind == 'f') {
      if (key.size() < 2 || key.front() != '{' || key.back() != '}') return std::nullopt;
      key = key.substr(1, key.size() - 2);
    }
    return fact_key{kind, key};
  }

 private:
  std::string key(std::string_view kind, std::string_view id) const {
    std::string k;
    k.reserve(prefix_.size() + kind.size() + id.size() + 1);
    k.append(prefix_).append(kind).append(id);
    return k;
  }

  std::string prefix_;
  std::string channel_;
};

// Times go to Lua, whose numbers are doubles: kept within +-2^40 seconds (35,000 years), where
// every integer is exact and the millisecond TTLs computed from them too.
inline std::int64_t clamped(std::chrono::sys_seconds t) noexcept {
  constexpr std::int64_t limit = std::int64_t{1} << 40;
  return std::clamp<std::int64_t>(t.time_since_epoch().count(), -limit, limit);
}

inline std::string time_arg(std::chrono::sys_seconds t) { return std::to_string(clamped(t)); }

template <class T>
std::optional<T> parse_integer(std::string_view text) noexcept {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A Lua script and its SHA-1, the name EVALSHA runs it by.
struct script {
  std::string body;
  std::string sha1;
};

inline script make_script(std::string_view body) {
  // Helpers shared by every script. int() writes integers without exponent; ttl() is the key
  // lifetime in milliseconds, at most 100 years.
  constexpr std::string_view preamble = R"lua(
local function int(x) return string.format('%.0f', x) end
local function ttl(u, now, margin)
  local ms = (u - now) * 1000 + margin
  if ms > 3153600000000 then ms = 3153600000000 end
  return int(ms)
end
)lua";
  script s{std::string(preamble).append(body), {}};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // Without a digest EVALSHA answers NOSCRIPT and EVAL runs the body: slower, still correct.
  if (EVP_Digest(s.body.data(), s.body.size(), digest.data(), &length, EVP_sha1(), nullptr) == 1) {
    constexpr char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < length; ++i) {
      s.sha1 += hex[digest[i] >> 4];
      s.sha1 += hex[digest[i] & 0xf];
    }
  }
  return s;
}

// KEYS: token. ARGV: until, now, margin_ms, channel, jti. Extends, never shortens.
// Returns the until now in force.
inline const script& revoke_token_script() {
  static const script s = make_script(R"lua(
local u, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = tonumber(redis.call('GET', KEYS[1]))
if old and old > u then u = old end
redis.call('SET', KEYS[1], int(u), 'PX', ttl(u, now, tonumber(ARGV[3])))
redis.call('PUBLISH', ARGV[4], 't ' .. int(u) .. ' ' .. ARGV[5])
return int(u)
)lua");
  return s;
}

// KEYS: family. ARGV: until, now, margin_ms, channel, sid. A family whose until has passed is
// forgotten first, as if pruned. Returns the revoked-until now in force.
inline const script& revoke_family_script() {
  static const script s = make_script(R"lua(
local u, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local fam = redis.call('HMGET', KEYS[1], 'u', 'r')
local fu, r = tonumber(fam[1]), u
if fu and fu > now then
  local old = tonumber(fam[2])
  if old and old > r then r = old end
  if fu > u then u = fu end
else
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'u', int(u), 'r', int(r))
redis.call('PEXPIRE', KEYS[1], ttl(u, now, tonumber(ARGV[3])))
redis.call('PUBLISH', ARGV[4], 'f ' .. int(r) .. ' ' .. ARGV[5])
return int(r)
)lua");
  return s;
}

// KEYS: version. ARGV: until, now, margin_ms, channel, subject. The new version is
// max(previous + 1, now), kept until max(until, version + 1) and never shorter than before, as in
// MemoryRevocationStore. Returns {version, until}.
inline const script& bump_version_script() {
  static const script s = make_script(R"lua(
local u, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[1], 'v', 'u')
local prev, cu = 0, tonumber(cur[2])
if cu and cu > now then prev = tonumber(cur[1]) else cu = nil end
local v = prev + 1
if now > v then v = now end
if v + 1 > u then u = v + 1 end
if cu and cu > u then u = cu end
redis.call('HSET', KEYS[1], 'v', int(v), 'u', int(u))
redis.call('PEXPIRE', KEYS[1], ttl(u, now, tonumber(ARGV[3])))
redis.call('PUBLISH', ARGV[4], 'v ' .. int(v) .. ' ' .. int(u) .. ' ' .. ARGV[5])
return {int(v), int(u)}
)lua");
  return s;
}

// KEYS: family, consumed refresh token. ARGV: until, now, margin_ms, jti, grace.
// Returns 0 first use, 1 within grace, 2 reused (the order of RefreshUse).
inline const script& consume_refresh_script() {
  static const script s = make_script(R"lua(
local u, now, jti, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[4], tonumber(ARGV[5])
local margin = tonumber(ARGV[3])
local fam = redis.call('HMGET', KEYS[1], 'u', 'l')
local fu = tonumber(fam[1])
if not (fu and fu > now) then fu = nil end
local used = redis.call('HMGET', KEYS[2], 'u', 'f')
local uu = tonumber(used[1])
if uu and uu > now then
  if grace > 0 and fu and fam[2] == jti and now - tonumber(used[2]) <= grace then return 1 end
  return 2
end
redis.call('HSET', KEYS[2], 'u', int(u), 'f', int(now))
redis.call('PEXPIRE', KEYS[2], ttl(u, now, margin))
if fu then
  if fu > u then u = fu end
else
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'u', int(u), 'l', jti)
redis.call('PEXPIRE', KEYS[1], ttl(u, now, margin))
return 0
)lua");
  return s;
}

// Runs a script by its SHA-1, and by its body when the server does not know it yet (NOSCRIPT:
// first use, after SCRIPT FLUSH, a restart or a failover). The reply, or null on an I/O error.
inline reply_ptr eval(redisContext* c, const script& s,
                      std::initializer_list<std::string_view> keys,
                      std::initializer_list<std::string_view> args) {
  const std::string key_count = std::to_string(keys.size());
  command cmd{"EVALSHA", s.sha1, key_count};
  for (auto k : keys) cmd.add(k);
  for (auto a : args) cmd.add(a);
  reply_ptr reply = run(c, cmd);
  if (!is_error(reply.get(), "NOSCRIPT")) return reply;
  command body{"EVAL", s.body, key_count};
  for (auto k : keys) body.add(k);
  for (auto a : args) body.add(a);
  return run(c, body);
}

}  // namespace tegata::redis::detail
