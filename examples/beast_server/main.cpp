// examples/beast_server/main.cpp - an asynchronous HTTP/1.1 login server on Boost.Beast and
// tegata whose I/O threads never wait for the revocation store.
//
//   POST /login                   {"username": ..., "password": ...}  -> both session cookies
//   GET  /api/me                  the claims of the access cookie
//   POST /refresh                 rotates the pair (read from the refresh cookie)
//   POST /logout                  ends this session (read from either cookie)
//   GET  /.well-known/jwks.json   the public keys that verify the access tokens
//   GET  /healthz                 answered on the I/O thread without touching tegata's store
//
// Threads. `--io-threads` threads (default 1) run the io_context: they accept, read, parse and
// write, and they run only work that cannot wait. Everything that may wait runs on an
// asio::thread_pool (`--pool-threads`, default 4), and its response is posted back to the
// connection's strand, which writes it:
//   - /login: the PBKDF2 check of the password costs a few hundred milliseconds of CPU by design;
//   - /refresh and /logout: they write to the store;
//   - /api/me when the store is Redis (`--redis`): validate() then makes a round trip that can
//     take up to about a second when Redis hangs (docs/redis.md, "What may block, and for how
//     long"). With the in-process MemoryRevocationStore, validate() does no I/O and costs a few
//     microseconds, so /api/me is answered inline on the I/O thread.
// The pool's queue is bounded (64 calls per pool thread): beyond that the server answers 503 at
// once instead of queueing work that would wait for a stalled store anyway.
//
// One SessionManager serves every thread without a lock: its own members are fixed at
// construction and its calls only read them; what changes lives in the KeyRing, the store and
// the clock, each safe to use from several threads (docs/api.md, "Threads").
//
// Completion handlers rather than C++20 coroutines: Boost 1.74 (Debian 12's libboost-dev) enables
// asio::awaitable for GCC only, and its awaitable.hpp uses std::exchange without including
// <utility>. Handlers build with both compilers and every Boost since 1.74. docs/guide.md shows
// the same offloading written with coroutines for a newer Boost.
//
// Cookies are written by tegata::http::CookieWriter with its defaults (__Host- names, Secure,
// HttpOnly, SameSite=Strict); --insecure-http drops Secure and the prefix for a try-out over
// plain http://127.0.0.1. State-changing requests pass tegata::http::CsrfGuard (Origin /
// Sec-Fetch-Site) against --origin, by default this server's own http://127.0.0.1:PORT and
// http://localhost:PORT. The server listens on 127.0.0.1 only.
//
// Every failure answers {"error": name, "message": text}: 400 for a request the server cannot
// read (the message says why), 401 and the tegata::errc name for a token or session that is not
// accepted, 403 cross_site_request, 404, 405, 413 and 431 for requests it does not serve, 503
// store_unavailable (with Retry-After) when the store cannot answer and the client should retry.
//
// DEMO ONLY: one built-in user, alice / wonderland. The password is a literal in this file; only
// its salted PBKDF2 hash is kept in memory and logins are compared in constant time, but a real
// server loads its users from a store of its own (examples/http_server shows a users file).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tegata/tegata.hpp>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if TEGATA_EXAMPLE_REDIS
#include <tegata/store/redis.hpp>
#endif

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using std::chrono::seconds;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::string_view kIssuer = "urn:tegata:example:beast_server";
constexpr std::string_view kAudience = "urn:tegata:example:api";
constexpr std::size_t kMaxBodyBytes = std::size_t{16} * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kQueuedPerPoolThread = 64;
constexpr auto kReadTimeout = 30s;  // a whole request, or the idle time of a kept-alive connection
constexpr auto kWriteTimeout = 30s;

constexpr std::string_view kUsage = R"(usage: tegata_beast_server [options]
  --port N            port on 127.0.0.1 (default 8080; 0 picks a free one)
  --io-threads N      threads running the I/O loop (default 1)
  --pool-threads N    threads for calls that may block (default 4)
  --key FILE          PEM private key, EC P-256 (ES256) or Ed25519 (EdDSA); default: a fresh
                      ES256 key, so every restart logs everybody out
  --origin URL        an origin allowed to send state-changing requests (repeatable); default:
                      http://127.0.0.1:PORT and http://localhost:PORT
  --insecure-http     cookies without Secure and without the __Host- prefix, for
                      plain http://127.0.0.1 only
  --redis ADDRESS     keep the session state in Redis: HOST:PORT, or the path of a unix socket
                      (only in a build with tegata::redis)
)";

struct Config {
  int port = 8080;
  std::size_t io_threads = 1;
  std::size_t pool_threads = 4;
  std::string key_file;
  std::vector<std::string> origins;
  bool insecure_http = false;
  std::string redis;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::cerr << "tegata_beast_server: " << why << "\n\n" << kUsage;
  std::exit(2);
}

std::int64_t parse_integer(std::string_view flag, std::string_view text, std::int64_t min,
                           std::int64_t max) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    usage_error(std::string(flag) + " wants an integer from " + std::to_string(min) + " to " +
                std::to_string(max));
  }
  return value;
}

Config parse_args(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--port") {
      config.port = static_cast<int>(parse_integer(arg, value(), 0, 65535));
    } else if (arg == "--io-threads") {
      config.io_threads = static_cast<std::size_t>(parse_integer(arg, value(), 1, 256));
    } else if (arg == "--pool-threads") {
      config.pool_threads = static_cast<std::size_t>(parse_integer(arg, value(), 1, 1024));
    } else if (arg == "--key") {
      config.key_file = value();
    } else if (arg == "--origin") {
      config.origins.emplace_back(value());
    } else if (arg == "--insecure-http") {
      config.insecure_http = true;
    } else if (arg == "--redis") {
#if TEGATA_EXAMPLE_REDIS
      config.redis = value();
#else
      usage_error("--redis needs a build with tegata::redis (hiredis was not found)");
#endif
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      usage_error("unknown option " + std::string(arg));
    }
  }
  return config;
}

// --- Keys and the demo user -----------------------------------------------------------------

// The signing key: from a PEM file, or fresh. Its kid is its RFC 7638 thumbprint, so the same key
// keeps the same kid across restarts and across the servers that share it.
tegata::AnyKey signing_key(const std::string& path) {
  std::optional<tegata::AnyKey> key;
  if (path.empty()) {
    key.emplace(tegata::EcdsaKey(tegata::Algorithm::ES256,
                                 tegata::keys::generate(tegata::Algorithm::ES256)));
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot read the key file " + path);
    // One byte more than parse_pem accepts, so that a larger file is refused as too_large.
    std::string pem(tegata::keys::kMaxKeyFileBytes + 1, '\0');
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(in.gcount()));
    auto parsed = tegata::keys::parse_pem(pem);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!parsed) {
      throw std::invalid_argument(path +
                                  " holds no unencrypted PEM key: " + parsed.error().message());
    }
    if (EVP_PKEY_is_a(parsed->get(), "EC")) {
      key.emplace(tegata::EcdsaKey(tegata::Algorithm::ES256, std::move(*parsed)));
    } else if (EVP_PKEY_is_a(parsed->get(), "ED25519")) {
      key.emplace(tegata::EddsaKey(std::move(*parsed)));
    } else {
      throw std::invalid_argument(path + " must hold an EC P-256 or an Ed25519 private key");
    }
    if (!key->can_sign()) throw std::invalid_argument(path + " holds a public key only");
  }
  auto with_kid = tegata::keys::with_thumbprint_kid(*key);
  if (!with_kid) throw std::runtime_error("cannot compute the key's thumbprint");
  return *with_kid;
}

// DEMO ONLY: the one user of this example. At startup the password is hashed with PBKDF2-HMAC-
// SHA256 (600,000 iterations, OWASP 2023) under a random salt and only the hash is kept. A login
// always runs one PBKDF2 (an unknown name costs the same as a wrong password) and compares the
// hashes with CRYPTO_memcmp.
class DemoUser {
 public:
  static constexpr std::string_view kName = "alice";
  static constexpr std::size_t kMaxPasswordBytes = 1024;

  DemoUser() {
    if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) {
      throw std::runtime_error("no random bytes for the salt");
    }
    std::string password = "wonderland";
    const bool ok = derive(password, hash_);
    OPENSSL_cleanse(password.data(), password.size());
    if (!ok) throw std::runtime_error("PBKDF2 failed");
  }

  // Slow on purpose: call it from the pool, never from an I/O thread.
  bool verify(std::string_view name, std::string_view password) const {
    Hash presented{};
    const bool derived = derive(password, presented);
    const bool same_hash = CRYPTO_memcmp(presented.data(), hash_.data(), hash_.size()) == 0;
    OPENSSL_cleanse(presented.data(), presented.size());
    return derived && same_hash && name == kName;
  }

 private:
  static constexpr int kIterations = 600'000;
  using Hash = std::array<unsigned char, 32>;

  bool derive(std::string_view password, Hash& out) const {
    return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt_.data(),
                             static_cast<int>(salt_.size()), kIterations, EVP_sha256(),
                             static_cast<int>(out.size()), out.data()) == 1;
  }

  std::array<unsigned char, 16> salt_{};
  Hash hash_{};
};

// --- HTTP helpers ---------------------------------------------------------------------------

// Boost 1.74's Beast takes its own string_view type (boost::string_view unless configured
// otherwise), which std::string_view does not convert to implicitly.
beast::string_view beast_view(std::string_view text) { return {text.data(), text.size()}; }

Response make_response(unsigned version, bool keep_alive, http::status status,
                       const nlohmann::json& body, std::string_view cache_control = "no-store") {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, beast_view(cache_control));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(keep_alive);
  // replace: the body is valid UTF-8 JSON whatever a claim held.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response json_response(const Request& req, http::status status, const nlohmann::json& body,
                       std::string_view cache_control = "no-store") {
  return make_response(req.version(), req.keep_alive(), status, body, cache_control);
}

Response error_response(const Request& req, http::status status, std::string_view name,
                        std::string_view message) {
  return json_response(req, status, {{"error", name}, {"message", message}});
}

bool store_unavailable(std::error_code ec) {
  return ec == tegata::errc::store_unavailable || ec == tegata::errc::store_full;
}

// A tegata failure answers with the status of its class: 401 (log in, or refresh, again), 400 (a
// malformed request, e.g. a cookie sent twice), 403 (a cross-site request), 503 (the store could
// not answer: the client retries later) or 500; the body names the errc.
Response error_response(const Request& req, std::error_code ec) {
  const auto status = static_cast<http::status>(tegata::http_status(tegata::classify(ec)));
  Response res = error_response(req, status, std::string(tegata::to_string(ec)), ec.message());
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, "1");
  return res;
}

// A request may carry its cookies in several Cookie fields (HTTP/2 proxies split them); join
// them as RFC 9113 §8.2.3 says, so that CookieWriter reads one list.
std::string cookie_header(const Request& req) {
  std::string joined;
  for (auto [it, end] = req.equal_range(http::field::cookie); it != end; ++it) {
    if (!joined.empty()) joined += "; ";
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

// The value of a header field, empty when absent (by its enum, or by name for the others).
template <class Name>
std::string_view header(const Request& req, Name name) {
  const auto it = req.find(name);
  if (it == req.end()) return {};
  return {it->value().data(), it->value().size()};
}

bool is_json(const Request& req) {
  std::string type(header(req, http::field::content_type));
  type = type.substr(0, type.find(';'));
  type.erase(type.find_last_not_of(" \t") + 1);
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == "application/json";
}

std::string_view path_of(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

std::int64_t epoch(std::chrono::sys_seconds t) { return t.time_since_epoch().count(); }

// --- The application: requests in, responses out; no sockets ---------------------------------

template <class Store>
class App {
 public:
  using Sessions = tegata::SessionManager<tegata::KeyRing, tegata::SystemClock, Store>;
  using Handler = Response (App::*)(Request&);

  // With the in-process store, validate() does no I/O: /api/me is answered on the I/O thread.
  // Any other store (Redis, a database) may wait on the network, so /api/me goes to the pool.
  static constexpr bool kValidateMayBlock = !std::is_same_v<Store, tegata::MemoryRevocationStore>;

  struct Route {
    http::verb method;
    std::string_view path;
    bool may_block;  // true: run on the pool, never on an I/O thread
    Handler handler;
  };

  App(Sessions& sessions, const tegata::http::CookieWriter& cookies,
      const tegata::http::CsrfGuard& csrf, const DemoUser& user, const tegata::KeyRing& ring)
      : sessions_(sessions), cookies_(cookies), csrf_(csrf), user_(user), ring_(ring) {}

  // The route for this method and path; null when there is none (answer with no_route()).
  const Route* find(const Request& req) const {
    const std::string_view path = path_of(req);
    for (const Route& route : routes_) {
      if (route.path == path && route.method == req.method()) return &route;
    }
    return nullptr;
  }

  Response no_route(const Request& req) const {
    const std::string_view path = path_of(req);
    for (const Route& route : routes_) {
      if (route.path == path) {
        Response res =
            error_response(req, http::status::method_not_allowed, "method_not_allowed",
                           "this path takes " + std::string(http::to_string(route.method)));
        res.set(http::field::allow, http::to_string(route.method));
        return res;
      }
    }
    return error_response(req, http::status::not_found, "no_such_endpoint",
                          "no endpoint at this path");
  }

  // Runs a route. Never throws: what escapes a handler (only an OpenSSL or memory failure can)
  // becomes a 503 without cookies.
  Response run(const Route& route, Request& req) noexcept {
    try {
      return (this->*route.handler)(req);
    } catch (...) {
      try {
        Response res = error_response(req, http::status::service_unavailable, "unavailable",
                                      "the server could not complete the request");
        res.set(http::field::retry_after, "1");
        return res;
      } catch (...) {
        return Response{http::status::service_unavailable, req.version()};
      }
    }
  }

 private:
  // The extra claims of every access token: RFC 8176 says how the user authenticated.
  static nlohmann::json extra_claims() { return {{"amr", nlohmann::json::array({"pwd"})}}; }

  Response healthz(Request& req) { return json_response(req, http::status::ok, {{"ok", true}}); }

  Response jwks(Request& req) {
    auto jwks = ring_.public_jwks();
    if (!jwks) return error_response(req, jwks.error());
    return json_response(req, http::status::ok, *jwks, "public, max-age=300");
  }

  std::optional<Response> cross_site(const Request& req) const {
    auto ok = csrf_.check(std::string_view(req.method_string().data(), req.method_string().size()),
                          header(req, http::field::origin), header(req, "Sec-Fetch-Site"));
    if (!ok) return error_response(req, ok.error());
    return std::nullopt;
  }

  Response login(Request& req) {
    if (auto refused = cross_site(req)) return std::move(*refused);
    if (!is_json(req)) {
      return error_response(req, http::status::bad_request, "malformed_body",
                            "expected Content-Type: application/json");
    }
    auto body = nlohmann::json::parse(req.body(), nullptr, false);
    OPENSSL_cleanse(req.body().data(), req.body().size());
    const auto username = body.is_object() ? body.find("username") : body.end();
    const auto password = body.is_object() ? body.find("password") : body.end();
    if (username == body.end() || password == body.end() || !username->is_string() ||
        !password->is_string()) {
      return error_response(req, http::status::bad_request, "malformed_body",
                            R"(expected {"username": string, "password": string})");
    }
    const auto name = username->get<std::string>();
    auto& secret = password->get_ref<std::string&>();
    if (name.size() > 64 || secret.size() > DemoUser::kMaxPasswordBytes) {
      OPENSSL_cleanse(secret.data(), secret.size());
      return error_response(req, http::status::bad_request, "malformed_body",
                            "username or password too long");
    }
    const bool ok = user_.verify(name, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!ok) {
      return error_response(req, http::status::unauthorized, "invalid_credentials",
                            "unknown user or wrong password");
    }
    auto pair = sessions_.issue(name, extra_claims());
    if (!pair) return error_response(req, pair.error());
    return with_cookies(req, *pair,
                        {{"subject", name},
                         {"session_id", pair->session_id},
                         {"access_expires_at", epoch(pair->access_expires_at)},
                         {"refresh_expires_at", epoch(pair->refresh_expires_at)}});
  }

  Response me(Request& req) {
    const std::string cookies = cookie_header(req);
    auto token = cookies_.read_access(cookies);
    if (!token) return error_response(req, token.error());
    auto claims = sessions_.validate(*token);
    if (!claims) return error_response(req, claims.error());
    return json_response(req, http::status::ok,
                         {{"subject", claims->subject},
                          {"session_id", claims->session_id},
                          {"token_id", claims->token_id},
                          {"issued_at", epoch(claims->issued_at)},
                          {"expires_at", epoch(claims->expires_at)},
                          {"auth_time", epoch(claims->auth_time)},
                          {"claims", claims->extra}});
  }

  // A POST without a body (curl -X POST, no Content-Length) is an empty body (RFC 9112 §6.3);
  // this endpoint reads only the refresh cookie.
  Response refresh(Request& req) {
    if (auto refused = cross_site(req)) return std::move(*refused);
    const std::string cookies = cookie_header(req);
    auto token = cookies_.read_refresh(cookies);
    if (!token) return error_response(req, token.error());
    auto pair = sessions_.refresh(*token, extra_claims());
    if (!pair) {
      Response res = error_response(req, pair.error());
      // This refresh token will never work again (used, revoked, expired): drop both cookies.
      // A store that could not answer says nothing about the token: keep them for a retry.
      if (!store_unavailable(pair.error())) clear_cookies(res);
      return res;
    }
    return with_cookies(req, *pair,
                        {{"session_id", pair->session_id},
                         {"access_expires_at", epoch(pair->access_expires_at)},
                         {"refresh_expires_at", epoch(pair->refresh_expires_at)}});
  }

  // Either cookie ends the session: the access cookie may have expired, and the browser then
  // dropped it, while the refresh token still keeps the session alive.
  Response logout(Request& req) {
    if (auto refused = cross_site(req)) return std::move(*refused);
    const std::string cookies = cookie_header(req);
    std::error_code why = tegata::errc::not_found;
    for (const bool access : {true, false}) {
      auto token = access ? cookies_.read_access(cookies) : cookies_.read_refresh(cookies);
      if (!token) continue;
      auto revoked = sessions_.revoke(*token);
      if (revoked) {
        Response res = json_response(req, http::status::ok, {{"logged_out", true}});
        clear_cookies(res);
        return res;
      }
      why = revoked.error();
      // The logout did not happen: say so, and keep the cookies for a retry.
      if (store_unavailable(why)) return error_response(req, why);
    }
    // No cookie, or neither token is valid: there is no session left to end.
    Response res = error_response(req, why);
    clear_cookies(res);
    return res;
  }

  // The manager's own clock decides each cookie's Max-Age, so it matches the token's exp.
  Response with_cookies(const Request& req, const tegata::TokenPair& pair,
                        const nlohmann::json& body) {
    auto set = cookies_.write(pair, sessions_.clock().now());
    if (!set) return error_response(req, set.error());
    Response res = json_response(req, http::status::ok, body);
    // Two header fields: Set-Cookie values are never folded into one line.
    res.insert(http::field::set_cookie, set->access);
    res.insert(http::field::set_cookie, set->refresh);
    return res;
  }

  void clear_cookies(Response& res) const {
    res.insert(http::field::set_cookie, cookies_.clear_access());
    res.insert(http::field::set_cookie, cookies_.clear_refresh());
  }

  const std::array<Route, 6> routes_{{
      {http::verb::get, "/healthz", false, &App::healthz},
      {http::verb::get, "/.well-known/jwks.json", false, &App::jwks},
      {http::verb::get, "/api/me", kValidateMayBlock, &App::me},
      {http::verb::post, "/login", true, &App::login},
      {http::verb::post, "/refresh", true, &App::refresh},
      {http::verb::post, "/logout", true, &App::logout},
  }};

  Sessions& sessions_;
  const tegata::http::CookieWriter& cookies_;
  const tegata::http::CsrfGuard& csrf_;
  const DemoUser& user_;
  const tegata::KeyRing& ring_;
};

// --- The pool for calls that may block ------------------------------------------------------

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads)
      : pool_(threads), limit_(threads * kQueuedPerPoolThread) {}

  // A place in the queue, held until the call has run (or was dropped at shutdown).
  class Ticket {
   public:
    explicit Ticket(std::atomic<std::size_t>& queued) noexcept : queued_(&queued) {}
    Ticket(Ticket&& other) noexcept : queued_(std::exchange(other.queued_, nullptr)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (queued_ != nullptr) queued_->fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    std::atomic<std::size_t>* queued_;
  };

  // Empty when the queue is full: answer 503 rather than wait behind a stalled store.
  std::optional<Ticket> admit() {
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= limit_) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Ticket(queued_);
  }

  net::thread_pool& executor() { return pool_; }

  // Drops what has not started and waits for what has.
  void stop() {
    pool_.stop();
    pool_.join();
  }

 private:
  net::thread_pool pool_;
  std::size_t limit_;
  std::atomic<std::size_t> queued_{0};
};

// --- One connection: read a request, answer it, repeat ----------------------------------------

// Lives as long as an operation of its own holds it (shared_from_this). Every member runs on the
// connection's strand (the executor of its stream), so no two of them run at once; a pool thread
// touches only its copy of the request and posts the response back to that strand.
template <class AppT>
class Connection : public std::enable_shared_from_this<Connection<AppT>> {
 public:
  Connection(tcp::socket&& socket, AppT& app, BlockingPool& pool)
      : stream_(std::move(socket)), app_(app), pool_(pool) {}

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Connection::read, this->shared_from_this()));
  }

 private:
  void read() {
    parser_.emplace();  // a parser reads one message
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream) return close();  // the client is done
    if (ec == http::error::body_limit) {
      return refuse(http::status::payload_too_large, "payload_too_large",
                    "the body exceeds 16 KiB");
    }
    if (ec == http::error::header_limit) {
      return refuse(http::status::request_header_fields_too_large, "headers_too_large",
                    "the header exceeds 16 KiB");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      return refuse(http::status::bad_request, "malformed_request", ec.message());
    }
    if (ec) return;  // timeout, reset, partial message: nothing to answer
    dispatch(parser_->release());
  }

  void dispatch(Request req) {
    method_ = std::string(req.method_string().data(), req.method_string().size());
    path_ = std::string(path_of(req));
    const auto* route = app_.find(req);
    if (route == nullptr) return send(app_.no_route(req));
    if (!route->may_block) return send(app_.run(*route, req));
    auto ticket = pool_.admit();
    if (!ticket) {
      Response busy = error_response(req, http::status::service_unavailable, "busy",
                                     "too many requests are waiting; retry");
      busy.set(http::field::retry_after, "1");
      return send(std::move(busy));
    }
    net::post(pool_.executor(), [self = this->shared_from_this(), route, req = std::move(req),
                                 ticket = std::move(*ticket)]() mutable {
      Response res = self->app_.run(*route, req);  // may block: this is a pool thread
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
    });
  }

  // A request the server cannot read: answer why, then close (the rest of the stream cannot be
  // parsed).
  void refuse(http::status status, std::string_view name, std::string_view message) {
    method_ = "-";
    path_ = "-";
    send(make_response(11, false, status, {{"error", name}, {"message", message}}));
  }

  void send(Response res) {
    // Method, path and status only: never a header, which could hold a token.
    (void)std::fprintf(stderr, "%s %s %u\n", method_.c_str(), path_.c_str(), res.result_int());
    response_.emplace(std::move(res));
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Connection::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    const bool keep_alive = response_ && response_->keep_alive();
    response_.reset();
    if (ec || !keep_alive) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;
  std::string method_;
  std::string path_;
  AppT& app_;
  BlockingPool& pool_;
};

// --- The listening socket -----------------------------------------------------------------------

template <class AppT>
class Listener : public std::enable_shared_from_this<Listener<AppT>> {
 public:
  // Binds and listens at once (throws beast::system_error), so that the port is known before
  // the application, whose CSRF check names it, exists.
  Listener(net::io_context& ioc, const tcp::endpoint& endpoint)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void start(AppT& app, BlockingPool& pool) {
    app_ = &app;
    pool_ = &pool;
    accept();
  }

  void stop() {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void accept() {
    // Each connection gets its own strand: its handlers never run concurrently, while other
    // connections proceed on the other I/O threads.
    acceptor_.async_accept(
        net::make_strand(ioc_),
        beast::bind_front_handler(&Listener::on_accept, this->shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) {
      // Responses go out as soon as they are written: without TCP_NODELAY, Nagle's algorithm
      // meets the client's delayed ACK and each answer waits ~40 ms.
      socket.set_option(tcp::no_delay(true), ec);
      if (!ec) std::make_shared<Connection<AppT>>(std::move(socket), *app_, *pool_)->start();
    }
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  AppT* app_ = nullptr;
  BlockingPool* pool_ = nullptr;
};

// --- main -----------------------------------------------------------------------------------

template <class Store>
int serve(const Config& config, Store store) {
  net::io_context ioc{static_cast<int>(config.io_threads)};
  const tegata::KeyRing ring(signing_key(config.key_file));
  typename App<Store>::Sessions sessions(
      ring, {.issuer = std::string(kIssuer), .audience = std::string(kAudience)},
      tegata::SystemClock{}, std::move(store));
  const tegata::http::CookieWriter cookies({.insecure_http_for_testing = config.insecure_http});
  const DemoUser user;

  const auto listener = std::make_shared<Listener<App<Store>>>(
      ioc,
      tcp::endpoint{net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(config.port)});
  const unsigned short port = listener->port();
  std::vector<std::string> origins = config.origins;
  if (origins.empty()) {
    origins = {"http://127.0.0.1:" + std::to_string(port),
               "http://localhost:" + std::to_string(port)};
  }
  const tegata::http::CsrfGuard csrf(origins);
  App<Store> app(sessions, cookies, csrf, user, ring);
  BlockingPool pool(config.pool_threads);
  listener->start(app, pool);

  // SIGINT and SIGTERM: stop accepting, stop the loop; then drop the calls still queued.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    listener->stop();
    ioc.stop();
  });

  std::cout << "tegata_beast_server: listening on http://127.0.0.1:" << port
            << (config.insecure_http ? " (insecure cookies for plain HTTP)" : "") << std::endl;
  std::vector<std::thread> io_threads;
  for (std::size_t i = 1; i < config.io_threads; ++i)
    io_threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : io_threads) t.join();
  pool.stop();
  std::cout << "tegata_beast_server: stopped" << std::endl;
  return 0;
}

#if TEGATA_EXAMPLE_REDIS
tegata::redis::Options redis_options(const std::string& address) {
  tegata::redis::Options options;
  options.prefix = "tegata-beast:";
  if (address.starts_with('/')) {
    options.unix_socket = address;
    return options;
  }
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) usage_error("--redis wants HOST:PORT or /path");
  options.host = address.substr(0, colon);
  options.port = static_cast<int>(
      parse_integer("--redis", std::string_view(address).substr(colon + 1), 1, 65535));
  return options;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_args(argc, argv);
  try {
#if TEGATA_EXAMPLE_REDIS
    if (!config.redis.empty()) {
      tegata::redis::RevocationStore store(redis_options(config.redis));
      // Checked once at startup, where a wrong address is easy to see; later the store fails
      // closed (503) while Redis is away and recovers by itself.
      if (auto pong = store.ping(); !pong) {
        std::cerr << "tegata_beast_server: warning: Redis at " << config.redis
                  << " does not answer: " << pong.error().message() << '\n';
      }
      return serve(config, store);  // a handle: copies share the connections
    }
#endif
    return serve(config, tegata::MemoryRevocationStore{});
  } catch (const std::exception& e) {
    std::cerr << "tegata_beast_server: " << e.what() << '\n';
    return 1;
  }
}
