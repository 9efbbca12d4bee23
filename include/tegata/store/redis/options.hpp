// tegata/store/redis/options.hpp - how tegata::redis::RevocationStore reaches Redis.
//
// Every option has a safe default except the address. Misconfiguration (an impossible port, an
// empty pool, a prefix that would split one session family over two Cluster slots, TLS in a build
// without hiredis_ssl) throws std::invalid_argument when the store is constructed. Connecting is
// lazy: a store can be built while Redis is still starting, and a wrong password shows up as
// errc::store_unavailable on the first call (RevocationStore::ping() checks it up front).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace tegata::redis {

// TLS towards Redis (needs a build where CMake found hiredis_ssl; see docs/redis.md). The server
// certificate is always verified: against ca_file/ca_path, or the system's default CA store when
// both are empty, and its name against server_name. There is no option to turn that off.
struct TlsOptions {
  bool enabled{false};
  std::string ca_file{};      // PEM bundle of the CAs that may sign the server's certificate
  std::string ca_path{};      // or a directory of hashed CA certificates (c_rehash)
  std::string cert_file{};    // client certificate for mutual TLS; needs key_file
  std::string key_file{};     // its private key (PEM)
  std::string server_name{};  // SNI and the name the certificate must carry; empty: host
};

// The optional in-process cache for the validate path (docs/redis.md, "Local cache"). Writes are
// published on a Redis channel; a background thread applies them to an in-process copy, so
// status() needs no round trip while the copy is provably fresh.
struct CacheOptions {
  bool enabled{false};
  // The staleness bound: status() answers from the cache only while the cache has applied every
  // write that completed on Redis more than max_staleness ago (checked with heartbeats through
  // the same channel); otherwise it asks Redis. Also the longest a revocation made on another
  // server can go unnoticed here.
  std::chrono::milliseconds max_staleness{1000};
  // Facts the cache may hold (revoked jtis, revoked families, versions). When full it stops
  // answering (status() asks Redis) and reloads once the expired facts are gone.
  std::size_t max_entries{1'000'000};
};

struct Options {
  // A host name is resolved on every new connection (getaddrinfo, which connect_timeout does not
  // bound); an address avoids that.
  std::string host{"127.0.0.1"};
  int port{6379};
  std::string unix_socket{};  // a path: used instead of host and port

  // Redis Sentinel: "host:port" of each Sentinel, and the name they monitor the primary under.
  // When sentinels is not empty, host and port are not used: every new connection asks the
  // Sentinels (in turn, until one answers) where the primary is, and keeps it only if the server
  // says it is the primary (ROLE). A connection that fails, or finds its server demoted (a
  // READONLY error after a failover), is replaced by one to the primary the Sentinels name then.
  // The Sentinels are reached without TLS and without AUTH (Sentinel's own requirepass is not
  // supported); the primary with the options above.
  std::vector<std::string> sentinels{};
  std::string master_name{};

  // Acknowledged writes. Replication is asynchronous: a write the primary confirmed can be lost
  // when it fails and a replica that had not received it yet is promoted (a logout undone, a used
  // refresh token current again). With acknowledged_replicas > 0, every security-relevant write
  // (a login's record, the refresh compare-and-set, a logout, log out everywhere, a revoked jti)
  // is followed by WAIT: it succeeds only once that many replicas have it, within
  // acknowledge_timeout; otherwise the call answers store_unavailable, and the manager fails
  // closed. Such a write may still have happened on the primary: a client retries (a refresh
  // with the same token: within reuse_grace it then gets a pair on the same chain). Set it to at
  // least 1 in any deployment with replicas (docs/redis.md, "Acknowledged writes"); 0 (the
  // default, right for a single node) does not wait.
  int acknowledged_replicas{0};
  std::chrono::milliseconds acknowledge_timeout{500};

  // Eviction. A Redis whose maxmemory-policy is not noeviction may evict tegata's keys when it
  // reaches maxmemory (every policy but noeviction can evict keys with a TTL, and every tegata key
  // has one): a logout or a used refresh token forgotten, so the store would fail open. Every new
  // connection reads the policy (INFO memory) and refuses such a server: calls answer
  // store_unavailable, and ping() not_supported. Set this only for a Redis that can never evict
  // (no maxmemory at all), and say why.
  bool allow_eviction{false};

  // AUTH: password alone (requirepass), or an ACL user with its password (Redis 6+).
  std::string username{};
  std::string password{};
  TlsOptions tls{};

  // Every key and the event channel start with this. Several applications (or test runs) can
  // share one Redis with different prefixes. For Redis Cluster it may carry a hash tag, e.g.
  // "{tegata}:", which puts every key in one slot.
  std::string prefix{"tegata:"};
  // Shown by CLIENT LIST (CLIENT SETNAME); empty: not set.
  std::string client_name{};

  // Connections shared by every copy of the store. A call waits up to command_timeout for a free
  // one, then fails with errc::store_unavailable.
  std::size_t pool_size{4};
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{500};
  // After a failed connection attempt, calls fail at once for this long before the next attempt,
  // so an unreachable Redis costs each request nothing but the error.
  std::chrono::milliseconds reconnect_delay{100};
  // Keys live this much longer than the `until` of the fact they hold, measured from the `now`
  // of the call that wrote them. It absorbs clock differences between servers; answers always
  // compare `until` with the caller's `now`, so the margin never extends a revocation.
  std::chrono::seconds expiry_margin{60};

  CacheOptions local_cache{};
};

}  // namespace tegata::redis
