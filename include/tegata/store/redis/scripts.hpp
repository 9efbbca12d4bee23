// tegata/store/redis/scripts.hpp - the Redis data model: key names and the Lua scripts that make
// every write one atomic round trip. Internal to the Redis store.
//
// Keys (P is Options::prefix):
//   P t:<jti>                 revoked token: string <until>
//   P f:{<sid>}               session family: one hash holding, while the session is live, its
//                             record (s subject, c current and p previous refresh token id,
//                             a auth_time, l last refresh, e expires_at, b absolute end,
//                             i refresh_ttl, x access_until, d the record's until, k persistent,
//                             m metadata, v version, j the DPoP key thumbprint, only for a bound
//                             session: a record without j, older ones included, is unbound) and,
//                             once it ended, only its marker (r revoked until); u is the key's
//                             own until
//   P s:{<subject>}           the subject's index: hash of s<sid> = recency and n, the counter
//                             recencies come from, and u, the index's until
//   P v:<subject>             subject version: hash v=<version> u=<until>
//   P p:<key>                 a used DPoP proof (use_proof): string <until>
// and the channel P events, on which every revocation and version bump is published.
//
// Times are seconds since the epoch, as the manager passes them; Redis's own clock is never read.
// A fact counts only while until > now (the caller's now), exactly as in MemoryRevocationStore;
// its key expires (PEXPIRE) until - now + margin after the write, as garbage collection. So no
// key outlives the tokens it concerns by more than the margin, versions included.
//
// Everything about one session is one key, so each write to it (create, the refresh
// compare-and-set, the theft verdict, ending) is one script on one Cluster slot. The subject's
// index is a second key (another slot): it only finds and orders a subject's sessions, and a
// family's record is authoritative, so an index entry whose record has gone (ended by theft,
// expired, erased by a version bump) is filtered out on read and dropped when a login finds
// the subject at its bound.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

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
  std::string index(std::string_view subject) const {
    std::string k = key("s:{", subject);
    k += '}';
    return k;
  }
  std::string version(std::string_view subject) const { return key("v:", subject); }
  std::string proof(std::string_view proof_key) const { return key("p:", proof_key); }
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
local function end_family(key, keep, now, margin, channel, sid)
  redis.call('DEL', key)
  if keep <= now then return 0 end
  redis.call('HSET', key, 'r', int(keep), 'u', int(keep))
  redis.call('PEXPIRE', key, ttl(keep, now, margin))
  redis.call('PUBLISH', channel, 'f ' .. int(keep) .. ' ' .. sid)
  return keep
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

// KEYS: family. ARGV: now, margin_ms, subject, then the record's fields c a l e b i x d k m v j.
// A live family (or a marker) with this id already: 0, nothing written. Otherwise 1. j (the DPoP
// key thumbprint) is written only when there is one: an unbound session costs nothing for it, and
// reads the same as a record written before the field existed.
inline const script& create_session_script() {
  static const script s = make_script(R"lua(
local now = tonumber(ARGV[1])
local u = tonumber(redis.call('HGET', KEYS[1], 'u'))
if u and u > now then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', ARGV[3], 'c', ARGV[4], 'a', ARGV[5], 'l', ARGV[6], 'e', ARGV[7],
           'b', ARGV[8], 'i', ARGV[9], 'x', ARGV[10], 'd', ARGV[11], 'k', ARGV[12], 'm', ARGV[13],
           'v', ARGV[14], 'u', ARGV[11])
if ARGV[15] ~= '' then redis.call('HSET', KEYS[1], 'j', ARGV[15]) end
redis.call('PEXPIRE', KEYS[1], ttl(tonumber(ARGV[11]), now, tonumber(ARGV[2])))
return 1
)lua");
  return s;
}

// KEYS: proof. ARGV: until, now, margin_ms. A DPoP proof's single use (RFC 9449 §11.1): 1
// when the key was not recorded (or only until a time <= now), and it now is, until `until`;
// 0 when it is recorded with until > now, and then nothing changes (a replay must not extend
// the record). The value is the until, compared with the caller's now like every other fact, so
// the answer never depends on Redis's clock nor on the expiry margin (SET NX alone would: it
// answers by whether the key still exists). One key: one Cluster slot.
inline const script& use_proof_script() {
  static const script s = make_script(R"lua(
local u, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = tonumber(redis.call('GET', KEYS[1]))
if old and old > now then return 0 end
redis.call('SET', KEYS[1], int(u), 'PX', ttl(u, now, tonumber(ARGV[3])))
return 1
)lua");
  return s;
}

// KEYS: index. ARGV: sid, until, now, margin_ms, max_sessions, add (1) or touch (0). Gives sid
// the next recency: adds it (add), or only if it is there (touch: a refresh, which must not
// bring back a session a logout removed). The index lives as long as its longest session.
// Returns the whole index (HGETALL) when it holds more than max_sessions sessions, else {}.
inline const script& index_session_script() {
  static const script s = make_script(R"lua(
local till, now, margin = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local field = 's' .. ARGV[1]
if ARGV[6] ~= '1' and redis.call('HEXISTS', KEYS[1], field) == 0 then return {} end
local q = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], field, q)
local u = tonumber(redis.call('HGET', KEYS[1], 'u'))
if not u or u < till then u = till end
redis.call('HSET', KEYS[1], 'u', int(u))
redis.call('PEXPIRE', KEYS[1], ttl(u, now, margin))
if redis.call('HLEN', KEYS[1]) - 2 > tonumber(ARGV[5]) then
  return redis.call('HGETALL', KEYS[1])
end
return {}
)lua");
  return s;
}

// KEYS: family. ARGV: subject, presented, next, now, grace, expires_at, access_until, until,
// margin_ms, channel, sid. The refresh compare-and-set (RotationVerdict):
// {0, next, expires_at} rotated, {1, current, expires_at} within grace, {2, kept until} theft
// (the family ended in this step), {3} no live record of this subject.
inline const script& rotate_session_script() {
  static const script s = make_script(R"lua(
local now, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'c', 'p', 'l', 'e', 'x', 'u')
local d = tonumber(f[2])
if f[1] ~= ARGV[1] or not d or d <= now then return {3} end
local x, u = tonumber(f[7]), tonumber(f[8])
local ax = tonumber(ARGV[7])
if ax > x then x = ax end
if f[3] == ARGV[2] then
  d = tonumber(ARGV[8])
  if x > d then d = x end
  if d > u then u = d end
  redis.call('HSET', KEYS[1], 'p', f[3], 'c', ARGV[3], 'l', ARGV[4], 'e', ARGV[6], 'x', int(x),
             'd', int(d), 'u', int(u))
  redis.call('PEXPIRE', KEYS[1], ttl(u, now, tonumber(ARGV[9])))
  return {0, ARGV[3], ARGV[6]}
end
if grace > 0 and f[4] and f[4] ~= '' and f[4] == ARGV[2] and now - tonumber(f[5]) <= grace then
  if x > d then d = x end
  if d > u then u = d end
  redis.call('HSET', KEYS[1], 'x', int(x), 'd', int(d), 'u', int(u))
  redis.call('PEXPIRE', KEYS[1], ttl(u, now, tonumber(ARGV[9])))
  return {1, f[3], f[6]}
end
local kept = end_family(KEYS[1], tonumber(f[7]), now, tonumber(ARGV[9]), ARGV[10], ARGV[11])
return {2, int(kept)}
)lua");
  return s;
}

// KEYS: family. ARGV: subject, until, now, margin_ms, channel, sid. Ends the subject's live
// session: {1, revoked until}. Without one: refuses the family until `until` (extending, never
// shortening; nothing when until <= now), unless it is another subject's live session, which
// it leaves alone: {0, revoked until, or 0}.
inline const script& end_session_script() {
  static const script s = make_script(R"lua(
local till, now, margin = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'x', 'r', 'u')
local d = tonumber(f[2])
if f[1] and d and d > now then
  if f[1] ~= ARGV[1] then return {0, 0} end
  local keep = tonumber(f[3])
  if till > keep then keep = till end
  return {1, int(end_family(KEYS[1], keep, now, margin, ARGV[5], ARGV[6]))}
end
local r, u = tonumber(f[4]), tonumber(f[5])
if u and u > now and r and r > till then till = r end
if till <= now then return {0, 0} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'r', int(till), 'u', int(till))
redis.call('PEXPIRE', KEYS[1], ttl(till, now, margin))
redis.call('PUBLISH', ARGV[5], 'f ' .. int(till) .. ' ' .. ARGV[6])
return {0, int(till)}
)lua");
  return s;
}

// KEYS: family. ARGV: subject, version, now. After a version bump: erases the subject's live
// record if its tokens carry an older version (they are void; no marker is needed). 1 if erased.
inline const script& erase_older_session_script() {
  static const script s = make_script(R"lua(
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'v')
local d = tonumber(f[2])
if f[1] ~= ARGV[1] or not d or d <= tonumber(ARGV[3]) then return 0 end
if tonumber(f[3]) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
)lua");
  return s;
}

// One script to run, with its keys and arguments (copies: they are often temporaries).
struct script_call {
  struct text {
    std::string value;
    text(std::string_view v) : value(v) {}        // NOLINT(google-explicit-constructor)
    text(const char* v) : value(v) {}             // NOLINT(google-explicit-constructor)
    text(std::string v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  };
  const script* s;
  std::vector<text> keys;
  std::vector<text> args;
};

inline command script_command(std::string_view verb, std::string_view what,
                              const script_call& call) {
  command cmd{verb, what, std::to_string(call.keys.size())};
  for (const auto& k : call.keys) cmd.add(k.value);
  for (const auto& a : call.args) cmd.add(a.value);
  return cmd;
}

// Runs the scripts, then the plain commands `more`, in one pipelined round trip; a script the
// server does not know yet (NOSCRIPT: it did not run) is sent again with its body, after the
// others. replies receives the scripts' replies, then those of `more`. False on an I/O error.
inline bool eval_all(redisContext* c, std::span<const script_call> calls,
                     std::span<reply_ptr> replies, std::span<const command> more = {}) {
  std::vector<command> commands;
  commands.reserve(calls.size() + more.size());
  for (const auto& call : calls) commands.push_back(script_command("EVALSHA", call.s->sha1, call));
  commands.insert(commands.end(), more.begin(), more.end());
  if (!exchange(c, commands, replies)) return false;
  std::vector<command> again;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (!is_error(replies[i].get(), "NOSCRIPT")) continue;
    again.push_back(script_command("EVAL", calls[i].s->body, calls[i]));
    which.push_back(i);
  }
  if (again.empty()) return true;
  std::vector<reply_ptr> retried(again.size());
  if (!exchange(c, again, retried)) return false;
  for (std::size_t i = 0; i < which.size(); ++i) replies[which[i]] = std::move(retried[i]);
  return true;
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
