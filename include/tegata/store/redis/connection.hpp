// tegata/store/redis/connection.hpp - hiredis connections: connect (TLS, AUTH), send a batch of
// commands in one write and read their replies, and a small pool. Internal to the Redis store.
//
// A connection that saw an I/O error or a timeout is never reused: hiredis leaves it in an
// unknown state, so it is closed and the next use opens a fresh one.
#pragma once

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tegata/detail/openssl.hpp"
#include "tegata/store/redis/options.hpp"

#if TEGATA_REDIS_TLS
#include <arpa/inet.h>
#include <hiredis/hiredis_ssl.h>
#include <openssl/ssl.h>
#endif

namespace tegata::redis::detail {

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// One command's arguments. Binary-safe: ids go to Redis as the exact bytes they are.
class command {
 public:
  command() = default;
  command(std::initializer_list<std::string_view> args) {
    for (auto a : args) add(a);
  }
  command& add(std::string_view arg) {
    args_.emplace_back(arg);
    return *this;
  }
  const std::vector<std::string>& args() const noexcept { return args_; }

 private:
  std::vector<std::string> args_;
};

inline bool is_error(const redisReply* r, std::string_view prefix = {}) noexcept {
  return r != nullptr && r->type == REDIS_REPLY_ERROR &&
         std::string_view(r->str, r->len).substr(0, prefix.size()) == prefix;
}

inline std::string_view text(const redisReply* r) noexcept {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
  return {r->str, r->len};
}

// hiredis writes with write(2), which raises SIGPIPE when Redis has closed the connection; a
// library must not kill its host for that. For the duration of one exchange the calling thread
// blocks SIGPIPE, and a SIGPIPE raised meanwhile is consumed (libpq does the same).
class sigpipe_guard {
 public:
  sigpipe_guard() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~sigpipe_guard() {
    if (!blocked_) return;
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

// Appends the commands to the context's output buffer, sends them in one write and reads one
// reply per command into `replies`. False on an I/O error or timeout (the context is then
// unusable), and on READONLY: the server was demoted to a replica by a failover, and only a new
// connection (resolving the address again) can reach the new primary. Other error replies from
// Redis count as replies.
inline bool exchange(redisContext* c, std::span<const command> commands,
                     std::span<reply_ptr> replies) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const command& cmd : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& a : cmd.args()) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK) {
      return false;
    }
  }
  const sigpipe_guard guard;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) return false;
    replies[i].reset(static_cast<redisReply*>(reply));
  }
  for (const reply_ptr& r : replies.first(commands.size())) {
    if (is_error(r.get(), "READONLY")) return false;
  }
  return true;
}

inline reply_ptr run(redisContext* c, const command& cmd) {
  reply_ptr reply;
  if (!exchange(c, std::span(&cmd, 1), std::span(&reply, 1))) return nullptr;
  return reply;
}

// An idle connection that turned readable has been closed by Redis (EOF or reset), e.g. by a
// restart: better found now than by sending a command that then fails. Bytes that are merely
// pending (a TLS 1.3 session ticket) leave it usable.
inline bool idle_connection_alive(const redisContext* c) noexcept {
  pollfd p{c->fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, 0);
  if (ready == 0) return true;
  if (ready < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
  char byte = 0;
  const auto n = ::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

inline timeval to_timeval(std::chrono::milliseconds ms) noexcept {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

#if TEGATA_REDIS_TLS
struct ssl_ctx_deleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct ssl_deleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_deleter>;
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;
#endif

// "host:port" (the host may be a bracketed IPv6 literal), or nullopt.
struct host_port {
  std::string host;
  int port = 0;
};
inline std::optional<host_port> parse_host_port(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  int port = 0;
  const std::string_view digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (host.empty() || port < 1 || port > 65535) return std::nullopt;
  return host_port{std::string(host), port};
}

// The value of one "field:value" line of an INFO reply; empty when absent.
inline std::string_view info_field(std::string_view info, std::string_view field) {
  std::size_t at = 0;
  while (at < info.size()) {
    std::size_t end = info.find('\n', at);
    if (end == std::string_view::npos) end = info.size();
    std::string_view line = info.substr(at, end - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > field.size() && line.starts_with(field) && line[field.size()] == ':') {
      return line.substr(field.size() + 1);
    }
    at = end + 1;
  }
  return {};
}

// Everything needed to open a connection, shared (read-only) by the pool and the cache thread.
class endpoint {
 public:
  explicit endpoint(const Options& o)
      : host_(o.host),
        port_(o.port),
        unix_socket_(o.unix_socket),
        username_(o.username),
        password_(o.password),
        client_name_(o.client_name),
        master_name_(o.master_name),
        allow_eviction_(o.allow_eviction),
        connect_timeout_(o.connect_timeout),
        command_timeout_(o.command_timeout) {
    for (const std::string& s : o.sentinels) {
      auto address = parse_host_port(s);
      if (!address)
        throw std::invalid_argument("tegata: redis sentinel '" + s + "' is not host:port");
      sentinels_.push_back(std::move(*address));
    }
    if (!sentinels_.empty() && master_name_.empty()) {
      throw std::invalid_argument("tegata: redis sentinels need a master_name");
    }
    if (sentinels_.empty() && !master_name_.empty()) {
      throw std::invalid_argument("tegata: redis master_name needs sentinels");
    }
    if (!sentinels_.empty() && (!o.unix_socket.empty() || o.tls.enabled)) {
      throw std::invalid_argument(
          "tegata: redis sentinels are reached over plain TCP: not with unix_socket or TLS");
    }
    if (!o.tls.enabled) return;
#if TEGATA_REDIS_TLS
    if (!o.unix_socket.empty()) {
      throw std::invalid_argument("tegata: redis TLS applies to TCP, not to unix_socket");
    }
    tls_ = make_tls_context(o.tls);
    server_name_ = o.tls.server_name.empty() ? o.host : o.tls.server_name;
#else
    throw std::invalid_argument(
        "tegata: redis TLS requested, but this build has no hiredis_ssl (hiredis >= 1.0 built "
        "with TLS); see docs/redis.md");
#endif
  }

  // A connected, authenticated context to the primary, with the command timeout applied; null on
  // any failure, and for a server whose eviction policy is refused (see refused_eviction()).
  context_ptr connect() const {
    if (sentinels_.empty()) {
      context_ptr c = unix_socket_.empty() ? open(host_, port_) : open_unix();
      return c && accepted(c.get()) ? std::move(c) : nullptr;
    }
    // Each Sentinel in turn, starting with the one that answered last.
    const std::size_t first = preferred_sentinel_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < sentinels_.size(); ++i) {
      const std::size_t which = (first + i) % sentinels_.size();
      const auto primary = ask_sentinel(sentinels_[which]);
      if (!primary) continue;
      context_ptr c = open(primary->host, primary->port);
      if (c && is_primary(c.get()) && accepted(c.get())) {
        preferred_sentinel_.store(which, std::memory_order_relaxed);
        return c;
      }
    }
    return nullptr;
  }

  // Whether the last server reached was refused for its maxmemory-policy (Options::allow_eviction).
  bool refused_eviction() const noexcept {
    return refused_eviction_.load(std::memory_order_relaxed);
  }

  std::chrono::milliseconds command_timeout() const noexcept { return command_timeout_; }

  // With Sentinels: which primary connections are current. Each +switch-master the Sentinels
  // announce (sentinel_watch.hpp) moves it on, and a pooled connection opened under an earlier
  // generation is reopened (asking the Sentinels again) before its next use, so that writes stop
  // going to a primary the others no longer follow even while it still accepts them.
  std::uint64_t primary_generation() const noexcept {
    return primary_generation_.load(std::memory_order_acquire);
  }
  void primary_switched() const noexcept {
    primary_generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  const std::vector<host_port>& sentinels() const noexcept { return sentinels_; }
  const std::string& master_name() const noexcept { return master_name_; }

  // A plain connection to a Sentinel (no AUTH, no TLS), with the command timeout; null on failure.
  context_ptr open_sentinel(const host_port& at) const {
    context_ptr s(redisConnectWithTimeout(at.host.c_str(), at.port, to_timeval(connect_timeout_)));
    if (!s || s->err != 0 || redisSetTimeout(s.get(), to_timeval(command_timeout_)) != REDIS_OK) {
      return nullptr;
    }
    return s;
  }

 private:
  // Where the Sentinel at `at` says the primary is; nullopt when it cannot be asked or does not
  // know (it answers a null for a name it does not monitor).
  std::optional<host_port> ask_sentinel(const host_port& at) const {
    const context_ptr s = open_sentinel(at);
    if (!s) return std::nullopt;
    const reply_ptr r = run(s.get(), {"SENTINEL", "get-master-addr-by-name", master_name_});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return std::nullopt;
    const std::string_view host = text(r->element[0]);
    const std::string_view port = text(r->element[1]);
    return parse_host_port(std::string(host) + ":" + std::string(port));
  }

  // ROLE's first element is "master" on a primary, "slave" on a replica: a Sentinel's answer may
  // be stale during a failover, and a replica would answer every write with READONLY.
  static bool is_primary(redisContext* c) {
    const reply_ptr r = run(c, {"ROLE"});
    return r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 && text(r->element[0]) == "master";
  }

  // Whether this server may hold tegata's keys: its maxmemory-policy is noeviction, or the
  // application accepted eviction.
  bool accepted(redisContext* c) const {
    if (allow_eviction_) return true;
    const reply_ptr r = run(c, {"INFO", "memory"});
    // An error reply (NOAUTH, an ACL user without INFO) is a failed connection, not a verdict.
    if (!r || r->type != REDIS_REPLY_STRING) return false;
    const bool keeps_keys = info_field(text(r.get()), "maxmemory_policy") == "noeviction";
    refused_eviction_.store(!keeps_keys, std::memory_order_relaxed);
    return keeps_keys;
  }

  context_ptr open_unix() const {
    return finish(context_ptr(
        redisConnectUnixWithTimeout(unix_socket_.c_str(), to_timeval(connect_timeout_))));
  }
  context_ptr open(const std::string& host, int port) const {
    return finish(
        context_ptr(redisConnectWithTimeout(host.c_str(), port, to_timeval(connect_timeout_))));
  }

  // The command timeout, keep-alive, TLS, AUTH and the client name on a new connection.
  context_ptr finish(context_ptr c) const {
    if (!c || c->err != 0) return nullptr;
    if (redisSetTimeout(c.get(), to_timeval(command_timeout_)) != REDIS_OK) return nullptr;
    if (unix_socket_.empty()) redisEnableKeepAlive(c.get());
#if TEGATA_REDIS_TLS
    if (tls_ && !start_tls(c.get())) return nullptr;
#endif
    if (!password_.view().empty() && !authenticate(c.get())) return nullptr;
    if (!client_name_.empty()) {
      const reply_ptr r = run(c.get(), {"CLIENT", "SETNAME", client_name_});
      if (!r || r->type == REDIS_REPLY_ERROR) return nullptr;
    }
    return c;
  }

  // The password goes straight from its wiped buffer to hiredis; no std::string copy of it.
  bool authenticate(redisContext* c) const {
    std::vector<const char*> argv{"AUTH"};
    std::vector<std::size_t> lengths{4};
    if (!username_.empty()) {
      argv.push_back(username_.data());
      lengths.push_back(username_.size());
    }
    argv.push_back(password_.view().data());
    lengths.push_back(password_.view().size());
    const sigpipe_guard guard;
    reply_ptr r(static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    return r && r->type == REDIS_REPLY_STATUS;
  }

#if TEGATA_REDIS_TLS
  static std::shared_ptr<SSL_CTX> make_tls_context(const TlsOptions& t) {
    auto refuse = [](const char* why) {
      throw std::invalid_argument(std::string("tegata: redis TLS: ") + why);
    };
    if (t.cert_file.empty() != t.key_file.empty()) {
      refuse("cert_file and key_file go together");
    }
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) refuse("cannot create an OpenSSL context");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const bool loaded = t.ca_file.empty() && t.ca_path.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                            : SSL_CTX_load_verify_locations(
                                  ctx.get(), t.ca_file.empty() ? nullptr : t.ca_file.c_str(),
                                  t.ca_path.empty() ? nullptr : t.ca_path.c_str()) == 1;
    if (!loaded) refuse("cannot load the CA certificates");
    if (!t.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(ctx.get()) != 1) {
        refuse("cannot load the client certificate and key");
      }
    }
    return std::shared_ptr<SSL_CTX>(ctx.release(), ssl_ctx_deleter{});
  }

  // Handshake on the connected socket; the certificate must carry server_name_.
  bool start_tls(redisContext* c) const {
    ssl_ptr ssl(SSL_new(tls_.get()));
    if (!ssl) return false;
    // SNI carries host names only (RFC 6066), never an address literal.
    unsigned char address[sizeof(in6_addr)];
    const bool literal = inet_pton(AF_INET, server_name_.c_str(), address) == 1 ||
                         inet_pton(AF_INET6, server_name_.c_str(), address) == 1;
    if (!literal && SSL_set_tlsext_host_name(ssl.get(), server_name_.c_str()) != 1) return false;
    if (SSL_set1_host(ssl.get(), server_name_.c_str()) != 1) return false;
    const sigpipe_guard guard;
    if (redisInitiateSSL(c, ssl.get()) != REDIS_OK) return false;  // on failure ssl stays ours
    (void)ssl.release();                                           // on success hiredis owns it
    return true;
  }

  std::shared_ptr<SSL_CTX> tls_;
  std::string server_name_;
#endif

  std::string host_;
  int port_;
  std::string unix_socket_;
  std::string username_;
  tegata::detail::secret_bytes password_;
  std::string client_name_;
  std::vector<host_port> sentinels_;
  std::string master_name_;
  bool allow_eviction_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds command_timeout_;
  mutable std::atomic<std::size_t> preferred_sentinel_{0};
  mutable std::atomic<std::uint64_t> primary_generation_{0};
  mutable std::atomic<bool> refused_eviction_{false};
};

// A fixed number of connection slots, each opened on first use and reopened after a failure.
class pool {
 public:
  pool(std::shared_ptr<const endpoint> ep, std::size_t size, std::chrono::milliseconds retry_after)
      : endpoint_(std::move(ep)), slots_(size), generations_(size, 0), retry_after_(retry_after) {
    free_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) free_.push_back(i);
  }

  // Exclusive use of one slot while it lives.
  class lease {
   public:
    lease(lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), slot_(other.slot_) {}
    lease& operator=(lease&&) = delete;
    ~lease() {
      if (pool_ != nullptr) pool_->release(slot_);
    }

    // The slot's connection, opened now if it had none or Redis has closed it; null when Redis
    // cannot be reached.
    redisContext* get() { return pool_->open(slot_, opened_); }
    // Whether get() had to open the connection (one taken from the pool may have died since).
    bool opened() const noexcept { return opened_; }
    // Closes the connection after a failure; the slot reconnects on its next use.
    void discard() noexcept { pool_->slots_[slot_].reset(); }

   private:
    friend class pool;
    lease(pool* p, std::size_t slot) noexcept : pool_(p), slot_(slot) {}
    pool* pool_;
    std::size_t slot_;
    bool opened_ = false;
  };

  // Waits up to the command timeout for a free slot.
  std::optional<lease> acquire() {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, endpoint_->command_timeout(), [&] { return !free_.empty(); })) {
      return std::nullopt;
    }
    const std::size_t slot = free_.back();
    free_.pop_back();
    return lease(this, slot);
  }

 private:
  void release(std::size_t slot) noexcept {
    {
      const std::lock_guard lock(mutex_);
      free_.push_back(slot);  // capacity reserved up front: cannot throw
    }
    available_.notify_one();
  }

  redisContext* open(std::size_t slot, bool& opened) {
    context_ptr& c = slots_[slot];
    opened = false;
    const std::uint64_t generation = endpoint_->primary_generation();
    if (c && generations_[slot] == generation && idle_connection_alive(c.get())) return c.get();
    c.reset();
    opened = true;
    generations_[slot] = generation;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (now < retry_at_.load(std::memory_order_relaxed)) return nullptr;
    c = endpoint_->connect();
    if (!c) {
      const auto delay =
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(retry_after_);
      retry_at_.store(std::chrono::steady_clock::now().time_since_epoch().count() + delay.count(),
                      std::memory_order_relaxed);
    }
    return c.get();
  }

  std::shared_ptr<const endpoint> endpoint_;
  std::vector<context_ptr> slots_;  // slot i is touched only by the holder of its lease
  std::vector<std::uint64_t> generations_;  // the primary generation each slot was opened under
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::size_t> free_;
  std::chrono::milliseconds retry_after_;
  std::atomic<std::chrono::steady_clock::rep> retry_at_{0};
};

}  // namespace tegata::redis::detail
