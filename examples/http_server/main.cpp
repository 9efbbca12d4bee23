// examples/http_server/main.cpp - a small but complete login server on cpp-httplib and tegata.
//
//   POST /login                   {"username": ..., "password": ..., "remember": bool}
//                                 -> the session cookies (without "remember": true, they end
//                                 with the browser, and the session within a day)
//   GET  /api/me                  the claims of the access token
//   GET  /api/sessions            the user's live sessions (device, login, last use), this one
//                                 marked
//   POST /api/sessions/{id}/revoke  signs that session out (another device of the same user)
//   POST /refresh                 rotates the pair (the refresh cookie is sent to this path only)
//   POST /logout                  ends this session (with the access or the refresh cookie)
//   POST /logout-all              ends every session of this user
//   GET  /.well-known/jwks.json   the public keys that verify the tokens
//   GET  /                        a page that drives all of the above with fetch()
//
// Tokens travel only in cookies written by tegata::http::CookieWriter: HttpOnly, SameSite=Strict
// and, by default, Secure with the __Host- name prefix. Browsers accept those only
// over HTTPS, so run the server behind a TLS-terminating proxy; --insecure-http drops Secure and
// the prefixes for a try-out over plain http://127.0.0.1. The server listens on 127.0.0.1 only.
//
// Token mode (DPoP, RFC 9449), for native and single-page apps that hold a key of their own: a
// request that carries a DPoP header (a proof signed by the client's key), or an Authorization
// header of the DPoP scheme, never touches the cookies. POST /login then answers
//   {"access_token", "refresh_token", "token_type": "DPoP", "expires_in"}
// with both tokens bound to the key of the login's proof (cnf.jkt); the API takes
// `Authorization: DPoP <access token>`, POST /refresh and POST /logout take
// {"refresh_token": ...} (logout also the Authorization header), each with a fresh proof by that
// key. A stolen token is useless without the key. Refusals are 401 with a WWW-Authenticate: DPoP
// challenge (and a DPoP-Nonce header with --dpop-nonce). See token_request() for the URI a proof
// must name, and from_our_pages() for why CSRF checks leave these requests alone.
//
// Every failure answers with a JSON body {"error": name, "message": text}, the message saying
// what was wrong: the status of the error's class (401 mostly) and the tegata::errc name (expired,
// refresh_reused, session_revoked, ...) or invalid_credentials for a wrong password; 400 for a
// malformed request (malformed_body, malformed_request). No handler lets an exception escape;
// beyond that, cpp-httplib answers 404 for an unknown path and 413 for a body over 16 KiB.
//
// A POST needs no body: outside token mode, POST /refresh, /logout and /logout-all read cookies
// only, and `curl -X POST` sends neither Content-Length nor a body, which RFC 9112 §6.3 defines
// as an empty body. See frame_request() for how that is made to work with cpp-httplib.
//
// Threads. cpp-httplib runs handlers on a pool of threads, and they all share one SessionManager
// without a lock. That is safe: the manager's own members are fixed at construction and its calls
// only read them; what changes lives in the KeyRing (snapshots swapped atomically), the store
// (each of them locks inside) and the clock, each safe across threads.
//
// State. --store chooses where sessions live (store_choice.hpp): in memory (the default: a
// restart ends every session and forgets every logout), in a SQLite file (survives restarts
// and crashes; servers on one host may share it) or in Redis (servers on several hosts). With
// --key, a restart on the same file keeps both the key and the sessions.
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tegata/tegata.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "assets.hpp"
#include "passwords.hpp"
#include "store_choice.hpp"

namespace {

using namespace std::chrono_literals;
using httplib::Request;
using httplib::Response;
using std::chrono::seconds;

#ifdef TEGATA_EXAMPLE_TEST_CLOCK
// Only in the build the end-to-end tests use (tegata_http_server_test_clock): a clock that
// POST /test/clock moves forward, so expiry is tested without waiting. Never in the real server.
using ServerClock = tegata::ManualClock;
ServerClock make_clock() {
  return ServerClock{std::chrono::floor<seconds>(std::chrono::system_clock::now())};
}
#else
using ServerClock = tegata::SystemClock;
ServerClock make_clock() { return {}; }
#endif

using Sessions = tegata::SessionManager<tegata::KeyRing, ServerClock, demo::ChosenStore>;

constexpr std::string_view kIssuer = "urn:tegata:example:http_server";
constexpr std::string_view kAudience = "urn:tegata:example:api";
constexpr std::size_t kMaxBodyBytes = 16 * 1024;
constexpr std::string_view kProofRequired =
    "token mode: every request needs a DPoP header with a proof made for it";

constexpr std::string_view kUsage = R"(usage: tegata_http_server [options]
       tegata_http_server --hash-password NAME < password
  --port N           port on 127.0.0.1 (default 8080; 0 picks a free one)
  --access-ttl S     access token lifetime in seconds (default 900)
  --refresh-ttl S    refresh token idle lifetime in seconds (default 1209600)
  --users FILE       users file (see passwords.hpp); default: alice / wonderland
  --key FILE         PEM private key, EC P-256 (ES256) or Ed25519 (EdDSA), made once with
                     `tegata keygen --alg ES256 --out FILE`; give every server the same one.
                     Default: a fresh ES256 key for this process only (a warning says so):
                     every restart logs everybody out
  --verify-key FILE  PEM key (private or public) whose tokens are accepted too, but which
                     never signs; may be repeated. For key rotation across servers
  --store S          where sessions live: memory (default; a restart ends them all),
                     sqlite:PATH (a file: survives restarts, shared by servers on one host)
                     or redis:HOST:PORT (shared by servers on several hosts)
  --insecure-http    cookies without Secure and without the __Host- prefix, for
                     plain http://127.0.0.1 only
  --tls-cert FILE    serve HTTPS with this PEM certificate (chain) and --tls-key FILE, its
  --tls-key FILE     private key; without them, plain HTTP (behind a TLS-terminating proxy)
  --public-origin U  the origin clients reach this server at, e.g. https://app.example.com
                     (behind a proxy). Browsers' state-changing requests from any other origin
                     are refused (403 cross_site_request); default: http(s)://127.0.0.1:PORT.
                     In token mode, DPoP proofs must name this origin plus the path (htu);
                     without it, https://HOST (http://HOST with --insecure-http and no
                     --tls-cert), HOST being the request's Host header. Set it in production: a
                     Host header is whatever the client (or the proxy) says
  --dpop-nonce       token mode: every DPoP proof must carry a nonce this server issued
                     recently (RFC 9449 §8), sent in a DPoP-Nonce header (a 401 use_dpop_nonce
                     asks the client to retry with it). The nonces' secret is random for this
                     process: after a restart a client gets one more 401 and retries, and
                     several servers do not accept each other's nonces
  --hash-password N  print a users file line for user N with the password read from stdin
)";

struct Config {
  int port = 8080;
  seconds access_ttl{15min};
  seconds refresh_ttl{14 * 24h};
  bool insecure_http = false;
  std::string users_file;
  std::string key_file;
  std::vector<std::string> verify_key_files;
  std::string store = "memory";
  std::string tls_cert;
  std::string tls_key;
  std::string public_origin;
  bool dpop_nonce = false;
  std::string hash_password_for;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::cerr << "tegata_http_server: " << why << "\n\n" << kUsage;
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
    } else if (arg == "--access-ttl") {
      config.access_ttl = seconds{parse_integer(arg, value(), 1, 24 * 3600)};
    } else if (arg == "--refresh-ttl") {
      config.refresh_ttl = seconds{parse_integer(arg, value(), 1, 365 * 24 * 3600)};
    } else if (arg == "--users") {
      config.users_file = value();
    } else if (arg == "--key") {
      config.key_file = value();
    } else if (arg == "--verify-key") {
      config.verify_key_files.emplace_back(value());
    } else if (arg == "--store") {
      config.store = value();
    } else if (arg == "--insecure-http") {
      config.insecure_http = true;
    } else if (arg == "--tls-cert") {
      config.tls_cert = value();
    } else if (arg == "--tls-key") {
      config.tls_key = value();
    } else if (arg == "--public-origin") {
      config.public_origin = value();
    } else if (arg == "--dpop-nonce") {
      config.dpop_nonce = true;
    } else if (arg == "--hash-password") {
      config.hash_password_for = value();
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      usage_error("unknown option " + std::string(arg));
    }
  }
  if (config.access_ttl > config.refresh_ttl) {
    usage_error("--access-ttl must not exceed --refresh-ttl");
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    usage_error("--tls-cert and --tls-key go together");
  }
  return config;
}

// --hash-password: one line from stdin in, one users file line out.
int hash_password(const std::string& name) {
  if (!demo::valid_username(name)) usage_error("a username is 1 to 64 of A-Z a-z 0-9 . _ @ -");
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty() || password.size() > demo::kMaxPasswordBytes) {
    OPENSSL_cleanse(password.data(), password.size());
    usage_error("the password on stdin must be 1 to 1024 bytes");
  }
  const demo::PasswordEntry entry = demo::make_entry(password);
  OPENSSL_cleanse(password.data(), password.size());
  std::cout << demo::format_entry(name, entry) << '\n';
  return 0;
}

demo::UserTable load_users(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read the users file " + path);
  return demo::UserTable::load(in);
}

// A key from a PEM file: EC P-256 (ES256) or Ed25519 (EdDSA), private for --key, private or
// public for --verify-key. Its kid is its RFC 7638 thumbprint, so it is the same for the same key
// across restarts and on every server, and verifiers can cache the JWKS by kid.
//
// A missing file is an error, not a cue to make a key: a typo in the path, or a volume that is
// not mounted, must not silently start a server whose tokens no other server accepts. The
// message says how to make one.
tegata::AnyKey load_key(const std::string& flag, const std::string& path, bool must_sign) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    throw std::invalid_argument(
        flag + ": the key file " + path + " does not exist. Make it once, keep it secret, and " +
        "give every server the same file:\n  tegata keygen --alg ES256 --out " + path +
        "\n  (or: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path +
        ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(flag + ": cannot read the key file " + path);
  // One byte more than parse_pem accepts, so that a larger file is refused as too_large.
  std::string pem(tegata::keys::kMaxKeyFileBytes + 1, '\0');
  in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
  pem.resize(static_cast<std::size_t>(in.gcount()));
  auto parsed = tegata::keys::parse_pem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!parsed) {
    throw std::invalid_argument(flag + ": " + path +
                                " holds no unencrypted PEM key: " + parsed.error().message());
  }
  std::optional<tegata::AnyKey> key;
  if (EVP_PKEY_is_a(parsed->get(), "EC")) {
    key.emplace(tegata::EcdsaKey(tegata::Algorithm::ES256, std::move(*parsed)));
  } else if (EVP_PKEY_is_a(parsed->get(), "ED25519")) {
    key.emplace(tegata::EddsaKey(std::move(*parsed)));
  } else {
    throw std::invalid_argument(flag + ": " + path + " must hold an EC P-256 or an Ed25519 key");
  }
  if (must_sign && !key->can_sign()) {
    throw std::invalid_argument(flag + ": " + path + " holds a public key, not a private one");
  }
  if (key->can_sign() && !ec &&
      (status.permissions() & (fs::perms::group_read | fs::perms::others_read)) !=
          fs::perms::none) {
    std::cerr << "tegata_http_server: warning: the private key file " << path
              << " is readable by other users; chmod 600 it\n";
  }
  auto with_kid = tegata::keys::with_thumbprint_kid(*key);
  if (!with_kid) throw std::runtime_error("cannot compute the key's thumbprint");
  return *with_kid;
}

// The keys: --key signs, each --verify-key is accepted but never signs (how keys are rotated
// across several servers: docs/guide.md). Without --key, a fresh key, and a warning.
tegata::KeyRing load_keys(const Config& config) {
  std::optional<tegata::KeyRing> ring;
  if (config.key_file.empty()) {
    std::cerr << "tegata_http_server: warning: no --key, so tokens are signed with a key made for "
                 "this process only:\n  every restart logs everybody out, and no other server "
                 "accepts these tokens.\n  Make a key once with `tegata keygen --alg ES256 --out "
                 "key.pem` and start every server with --key key.pem.\n";
    auto fresh = tegata::keys::with_thumbprint_kid(tegata::EcdsaKey(
        tegata::Algorithm::ES256, tegata::keys::generate(tegata::Algorithm::ES256)));
    if (!fresh) throw std::runtime_error("cannot compute the key's thumbprint");
    ring.emplace(*fresh);
  } else {
    ring.emplace(load_key("--key", config.key_file, true));
  }
  // KeyRing::add refuses (std::invalid_argument) a key whose kid is already in the ring: the same
  // key given twice.
  for (const std::string& path : config.verify_key_files) {
    ring->add(load_key("--verify-key", path, false));
  }
  return *ring;
}

// How token mode checks DPoP proofs: the library's defaults (ES256, EdDSA/Ed25519, RS256, PS256;
// iat within 60 s), and with --dpop-nonce a nonce from this process's own random secret (nothing
// to configure, at the price of one more 401 per client after a restart; servers that must
// accept each other's nonces would share a secret instead).
tegata::dpop::ProofOptions proof_options(const Config& config) {
  tegata::dpop::ProofOptions options;
  if (config.dpop_nonce) {
    std::string secret = tegata::keys::generate_secret(tegata::Algorithm::HS256);
    options.nonces.emplace(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
  }
  return options;
}

// --- HTTP helpers ---------------------------------------------------------------------------

void send_json(Response& res, int status, const nlohmann::json& body,
               const char* cache_control = "no-store") {
  res.status = status;
  res.set_header("Cache-Control", cache_control);
  // replace: a body is always valid UTF-8 JSON, whatever a claim held.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(Response& res, int status, std::string_view name, std::string_view message) {
  send_json(res, status, {{"error", name}, {"message", message}});
}

// A tegata failure: its class gives the status (401 log in again, 400 a malformed request such as
// a cookie sent twice, 503 the store did not answer, 500 a fault here), its name the error.
void send_error(Response& res, std::error_code ec) {
  send_error(res, tegata::http_status(tegata::classify(ec)), tegata::to_string(ec), ec.message());
}

// A request may carry its cookies in several Cookie header fields (HTTP/2 proxies split them);
// cookie_value() reads one "a=b; c=d" list, so join them the way RFC 9113 §8.2.3 says.
std::string cookie_header(const Request& req) {
  std::string joined;
  const std::size_t count = req.get_header_value_count("Cookie");
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) joined += "; ";
    joined += req.get_header_value("Cookie", i);
  }
  return joined;
}

bool is_json_request(const Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  type.erase(type.find_last_not_of(" \t") + 1);
  return type == "application/json";
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

// RFC 9110 §8.6: Content-Length = 1*DIGIT. (cpp-httplib reads it with strtoull, which would take
// "12abc" as 12 and "abc" as 0, and then read the rest of the body as the next request.)
bool is_decimal(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// The values of every header field called name, in order: views into req, which outlives them.
std::vector<std::string_view> header_values(const Request& req, const char* name) {
  std::vector<std::string_view> values;
  const auto [first, last] = req.headers.equal_range(name);
  for (auto it = first; it != last; ++it) values.emplace_back(it->second);
  return values;
}

// Whether an Authorization value names the DPoP scheme, well-formed or not (case-insensitive,
// RFC 9110 §11.1): such a request is in token mode even when the rest of the value is broken,
// so that it gets the token-mode answer (400 or 401 with a DPoP challenge), never the cookies'.
bool is_dpop_authorization(std::string_view value) {
  return equals_ignoring_case(value.substr(0, value.find(' ')), "DPoP");
}

// Token mode: the request carries a DPoP header or an Authorization: DPoP header. Such a request
// is answered from what it carries itself, its Cookie header never read (see from_our_pages()).
bool token_mode(const Request& req) {
  if (req.has_header("DPoP")) return true;
  const std::vector<std::string_view> authorization = header_values(req, "Authorization");
  return std::any_of(authorization.begin(), authorization.end(), is_dpop_authorization);
}

// RFC 9110 §7.2 Host = uri-host [":" port], here a DNS name or IPv4 address (letters, digits,
// '-', '.') or a bracketed IPv6 literal: anything else cannot be the authority of a URI a proof
// names, and is refused rather than pasted into one.
bool is_host_header(std::string_view host) {
  std::string_view name = host;
  const std::size_t bracket = host.rfind(']');
  const std::size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const std::string_view port = host.substr(colon + 1);
    if (port.size() > 5 || !is_decimal(port)) return false;
    name = host.substr(0, colon);
  }
  if (name.empty()) return false;
  if (name.front() == '[') {
    return name.size() > 2 && name.back() == ']' &&
           std::all_of(name.begin() + 1, name.end() - 1,
                       [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  }
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

// Whether a token's payload says it is bound to a DPoP key (cnf.jkt): nullopt when the payload
// cannot be read at all (refresh() or revoke() then say why: malformed). Read WITHOUT verifying
// the signature, so the answer is only ever a reason to refuse: a token that claims a binding
// still passes every check refresh() and revoke() make, the proof checked against the key the
// signed token names.
std::optional<bool> names_dpop_key(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto text = tegata::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!text) return std::nullopt;
  const auto payload = nlohmann::json::parse(*text, nullptr, false);
  if (!payload.is_object()) return std::nullopt;
  const auto cnf = payload.find("cnf");
  if (cnf == payload.end() || !cnf->is_object()) return false;
  const auto jkt = cnf->find("jkt");
  return jkt != cnf->end() && jkt->is_string();
}

// A handler that cannot throw: whatever escapes (only an OpenSSL or memory failure can) becomes
// 503, never a 500 and never a crash.
template <class Handler>
httplib::Server::Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (...) {
      res.headers.erase("Set-Cookie");
      send_error(res, 503, "unavailable", "the server could not complete the request");
    }
  };
}

// --- The application --------------------------------------------------------------------------

class App {
 public:
  // proof_origin: the origin DPoP proofs must name (--public-origin); empty: proof_scheme plus
  // each request's Host header.
  App(Sessions& sessions, const tegata::http::CookieWriter& cookies,
      const tegata::http::CsrfGuard& csrf, const demo::UserTable& users,
      const tegata::KeyRing& ring, std::string proof_origin, std::string_view proof_scheme)
      : sessions_(sessions),
        cookies_(cookies),
        csrf_(csrf),
        users_(users),
        ring_(ring),
        proof_origin_(std::move(proof_origin)),
        proof_scheme_(proof_scheme) {}

  void routes(httplib::Server& server) {
    server.Get("/", bind(&App::page));
    server.Get("/app.js", bind(&App::script));
    server.Get("/app.css", bind(&App::style));
    server.Get("/favicon.ico", [](const Request&, Response& res) { res.status = 204; });
    server.Get("/.well-known/jwks.json", bind(&App::jwks));
    post(server, "/login", &App::login);
    server.Get("/api/me", bind(&App::me));
    server.Get("/api/sessions", bind(&App::list_sessions));
    // A POST with the session id in its path: frame_request() finds it by its shape.
    revoke_session_route_ = bind(&App::revoke_session);
    server.Post(R"(/api/sessions/[A-Za-z0-9_-]{1,64}/revoke)", revoke_session_route_);
    post(server, "/refresh", &App::refresh);
    post(server, "/logout", &App::logout);
    post(server, "/logout-all", &App::logout_all);
#ifdef TEGATA_EXAMPLE_TEST_CLOCK
    post(server, "/test/clock", &App::test_clock);
#endif
    server.set_pre_routing_handler([this](const Request& req, Response& res) {
      if (!from_our_pages(req, res)) return httplib::Server::HandlerResponse::Handled;
      return frame_request(req, res);
    });
  }

 private:
  using Handler = void (App::*)(const Request&, Response&);

  httplib::Server::Handler bind(Handler handler) {
    return guarded(
        [this, handler](const Request& req, Response& res) { (this->*handler)(req, res); });
  }

  // Every POST route is also kept here, by its exact path, for frame_request(). (cpp-httplib takes
  // a path as a regular expression; none of ours has a character that is special in one.)
  void post(httplib::Server& server, const std::string& path, Handler handler) {
    auto bound = bind(handler);
    server.Post(path, bound);
    bodiless_posts_.emplace(path, std::move(bound));
  }

  // CSRF: a request that changes state must come from one of our own pages (or from no browser
  // at all, as curl's do). SameSite=Strict cookies already stay off cross-site requests; this is
  // the independent second check (tegata/csrf.hpp). Runs before any route, so no handler can
  // forget it. Browsers send one Origin header; two are refused rather than guessed between.
  //
  // Token-mode requests (a DPoP or an Authorization: DPoP header) skip it. CSRF is a page of
  // another site making the browser send a request that the browser's ambient credentials, the
  // cookies it adds by itself, then authorise. A token-mode request carries no such credential:
  // its handlers never read the Cookie header, and what authorises it is what the request
  // carries explicitly: a token in its Authorization header or body, and a proof that only the
  // holder of the token's private key can sign, for this method and URI, once. A page of another
  // site has neither the victim's tokens nor the victim's key, so the most it can do in token
  // mode is act with credentials of its own, which it could do from anywhere. (A token-mode
  // login sets no cookie either, so it cannot sign the browser into the attacker's account.)
  // The exemption is only safe because no token-mode path falls back to cookies: a request with
  // a DPoP header and the victim's cookies is refused, never served from the cookies. And it is
  // needed: a native app's web view may send an Origin of its own, which checking would lock
  // out. (Browsers also preflight a cross-origin request with a DPoP header, and this server
  // answers no CORS preflight, so such pages cannot call it at all; but that is not what keeps
  // it safe.)
  bool from_our_pages(const Request& req, Response& res) const {
    if (token_mode(req)) return true;
    const bool one_origin = req.get_header_value_count("Origin") <= 1;
    auto ok = one_origin ? csrf_.check(req.method, req.get_header_value("Origin"),
                                       req.get_header_value("Sec-Fetch-Site"))
                         : tegata::Result<void>{tegata::errc::cross_site_request};
    if (ok) return true;
    send_error(res, 403, tegata::to_string(tegata::errc::cross_site_request),
               "this request came from a page of another origin");
    return false;
  }

  // Runs before cpp-httplib reads a request's body (Server::set_pre_routing_handler): decides how
  // long the body is, as RFC 9112 §6.3 says, where cpp-httplib 0.11 does not.
  //  - Neither Content-Length nor Transfer-Encoding: the body is empty. cpp-httplib would instead
  //    read a POST's body until the connection closes, that is until its read timeout (5 s), and
  //    then answer 400 without a word: what `curl -X POST .../refresh` got. Such a POST is
  //    answered here, by the route's own handler, with an empty body.
  //  - Transfer-Encoding other than chunked: the length cannot be known (§6.3 item 4): 400, and
  //    the connection is closed. cpp-httplib would wait for the connection to close, as above.
  //  - Both headers, several Content-Length fields, or one that is not a decimal number: 400
  //    (§6.3 items 3 and 5); cpp-httplib would take "abc" as 0 and read the body that follows as
  //    the next request.
  // Everything else (a valid Content-Length, or chunked) is left to cpp-httplib.
  httplib::Server::HandlerResponse frame_request(const Request& req, Response& res) const {
    using Answer = httplib::Server::HandlerResponse;
    const auto refuse = [&res](std::string_view message) {
      res.set_header("Connection", "close");  // the rest of the stream cannot be framed
      send_error(res, 400, "malformed_request", message);
      return Answer::Handled;
    };
    const std::size_t lengths = req.get_header_value_count("Content-Length");
    const std::size_t encodings = req.get_header_value_count("Transfer-Encoding");
    if (encodings > 0) {
      if (encodings > 1 ||
          !equals_ignoring_case(req.get_header_value("Transfer-Encoding"), "chunked")) {
        return refuse(
            "Transfer-Encoding must be chunked, the only transfer coding this server reads");
      }
      if (lengths > 0) {
        return refuse("a request may not have both Content-Length and Transfer-Encoding");
      }
      return Answer::Unhandled;
    }
    if (lengths > 1) return refuse("a request may have one Content-Length field only");
    if (lengths == 1) {
      if (!is_decimal(req.get_header_value("Content-Length"))) {
        return refuse("Content-Length must be a decimal number of bytes");
      }
      return Answer::Unhandled;
    }
    if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH") {
      return Answer::Unhandled;  // cpp-httplib reads no body for these (nor for a bodiless DELETE)
    }
    if (req.method == "POST" && session_id_of_revoke(req.path)) {
      revoke_session_route_(req, res);  // req.body is empty, as the request's is
      return Answer::Handled;
    }
    const auto route =
        req.method == "POST" ? bodiless_posts_.find(req.path) : bodiless_posts_.end();
    if (route == bodiless_posts_.end()) {
      res.status = 404;  // the error handler writes the body
      return Answer::Handled;
    }
    route->second(req, res);  // req.body is empty, as the request's is
    return Answer::Handled;
  }

  // The extra claims of every access token: RFC 8176 says how the user authenticated.
  static nlohmann::json extra_claims() { return {{"amr", nlohmann::json::array({"pwd"})}}; }

  static std::int64_t epoch(std::chrono::sys_seconds t) { return t.time_since_epoch().count(); }

  void page(const Request&, Response& res) {
    res.set_header("Content-Security-Policy", std::string(demo::assets::kContentSecurityPolicy));
    res.set_content(std::string(demo::assets::kIndexHtml), "text/html; charset=utf-8");
  }

  void script(const Request&, Response& res) {
    res.set_content(std::string(demo::assets::kAppJs), "text/javascript; charset=utf-8");
  }

  void style(const Request&, Response& res) {
    res.set_content(std::string(demo::assets::kAppCss), "text/css; charset=utf-8");
  }

  void jwks(const Request&, Response& res) {
    auto jwks = ring_.public_jwks();
    if (!jwks) return send_error(res, jwks.error());
    send_json(res, 200, *jwks, "public, max-age=300");
  }

#ifdef TEGATA_EXAMPLE_TEST_CLOCK
  // Test build only: {"advance": seconds} moves the server's clock forward.
  void test_clock(const Request& req, Response& res) {
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    const auto advance = body.is_object() ? body.find("advance") : body.end();
    if (advance == body.end() || !advance->is_number_unsigned() ||
        advance->get<std::uint64_t>() > 10ULL * 366 * 24 * 3600) {
      return send_error(res, 400, "malformed_body", "expected {\"advance\": seconds}");
    }
    sessions_.clock().advance(seconds{advance->get<std::int64_t>()});
    send_json(res, 200, {{"now", sessions_.clock().now().time_since_epoch().count()}});
  }
#endif

  void login(const Request& req, Response& res) {
    if (!is_json_request(req)) {
      return send_error(res, 400, "malformed_body", "expected Content-Type: application/json");
    }
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    const auto username = body.is_object() ? body.find("username") : body.end();
    const auto password = body.is_object() ? body.find("password") : body.end();
    if (username == body.end() || password == body.end() || !username->is_string() ||
        !password->is_string()) {
      return send_error(res, 400, "malformed_body",
                        "expected {\"username\": string, \"password\": string}");
    }
    const std::string& name = username->get_ref<const std::string&>();
    std::string& secret = password->get_ref<std::string&>();
    if (name.size() > demo::kMaxUsernameBytes || secret.size() > demo::kMaxPasswordBytes) {
      OPENSSL_cleanse(secret.data(), secret.size());
      return send_error(res, 400, "malformed_body", "username or password too long");
    }
    // Credentials first: only a client that knows a password can make the store remember a
    // proof, so nobody can fill the replay cache (and lock everyone's DPoP requests out with
    // store_full) by posting proofs to /login. A client that still needs the server's nonce
    // sends its login twice; the password travels over TLS both times.
    // An invalid name cannot exist, but it still costs a PBKDF2 run: no timing difference.
    const bool ok = users_.verify(demo::valid_username(name) ? name : std::string_view{}, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!ok) {
      return send_error(res, 401, "invalid_credentials", "unknown user or wrong password");
    }
    // Token mode: the login's proof, verified and used up; its key binds the session.
    const bool tokens = token_mode(req);
    std::string jkt;
    if (tokens) {
      const auto dpop = token_request(req, res);
      if (!dpop) return;
      auto proof = sessions_.verify_proof(dpop->proof, req.method, dpop->uri);
      if (!proof) {
        return send_token_error(res, proof.error(), dpop->proof.empty() ? kProofRequired : "");
      }
      jkt = std::move(proof->jkt);
    }
    // "Remember me" unchecked: the cookies end with the browser, and the session within a day
    // whatever the browser does. The record keeps the choice, so every refresh honours it.
    const auto remember = body.find("remember");
    tegata::IssueOptions options;
    options.extra = extra_claims();
    options.persistent = remember != body.end() && remember->is_boolean() && remember->get<bool>();
    if (!options.persistent) options.absolute_ttl = std::chrono::hours{24};
    // What the user sees in the session list: the browser it logged in with.
    options.metadata = req.get_header_value("User-Agent").substr(0, 256);
    // Token mode: both tokens bound to the key that signed the login's proof (cnf.jkt).
    options.dpop_jkt = std::move(jkt);
    auto pair = sessions_.issue(name, options);
    if (!pair) return tokens ? send_token_error(res, pair.error()) : send_error(res, pair.error());
    if (tokens) return send_tokens(res, *pair);
    if (!set_session_cookies(res, *pair)) return;
    send_json(res, 200,
              {{"subject", name},
               {"session_id", pair->session_id},
               {"access_expires_at", epoch(pair->access_expires_at)},
               {"refresh_expires_at", epoch(pair->refresh_expires_at)}});
  }

  void me(const Request& req, Response& res) {
    auto claims = signed_in(req, res);
    if (!claims) return;
    send_json(res, 200,
              {{"subject", claims->subject},
               {"session_id", claims->session_id},
               {"token_id", claims->token_id},
               {"version", claims->version},
               {"issued_at", epoch(claims->issued_at)},
               {"expires_at", epoch(claims->expires_at)},
               {"auth_time", epoch(claims->auth_time)},
               {"claims", claims->extra}});
  }

  // The user's live sessions, most recently used first, the one making the request marked.
  void list_sessions(const Request& req, Response& res) {
    auto claims = signed_in(req, res);
    if (!claims) return;
    auto list = sessions_.sessions(claims->subject);
    if (!list) return send_error(res, list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const tegata::SessionInfo& s : *list) {
      out.push_back({{"session_id", s.session_id},
                     {"current", s.session_id == claims->session_id},
                     {"auth_time", epoch(s.auth_time)},
                     {"last_refresh", epoch(s.last_refresh)},
                     {"expires_at", epoch(s.expires_at)},
                     {"persistent", s.persistent},
                     {"device", s.metadata}});
    }
    send_json(res, 200, {{"sessions", out}});
  }

  // Signs one of the user's sessions out (a lost phone, from the laptop). Only the user's own:
  // another user's session id, or one that ended, is 404 either way, so a guess learns nothing.
  void revoke_session(const Request& req, Response& res) {
    const auto id = session_id_of_revoke(req.path);
    if (!id) {
      res.status = 404;
      return;
    }
    auto claims = signed_in(req, res);
    if (!claims) return;
    auto done = sessions_.revoke_session(claims->subject, *id);
    if (!done) {
      if (done.error() == tegata::errc::not_found) {
        return send_error(res, 404, "not_found", "no such session of yours");
      }
      return send_error(res, done.error());
    }
    // This very session: its cookies go (a token-mode client has none, and drops its tokens).
    if (*id == claims->session_id && !token_mode(req)) clear_session_cookies(res);
    send_json(res, 200, {{"revoked", std::string(*id)}});
  }

  // "/api/sessions/{id}/revoke" -> id.
  static std::optional<std::string_view> session_id_of_revoke(std::string_view path) {
    constexpr std::string_view prefix = "/api/sessions/";
    constexpr std::string_view suffix = "/revoke";
    if (!path.starts_with(prefix) || !path.ends_with(suffix)) return std::nullopt;
    const std::string_view id =
        path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (id.empty() || id.size() > 64) return std::nullopt;
    for (const char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return std::nullopt;
    }
    return id;
  }

  // The claims of the request's access token, or nullopt after answering why not. The token
  // comes from the access cookie, or in token mode from the Authorization header.
  std::optional<tegata::AccessClaims> signed_in(const Request& req, Response& res) {
    if (token_mode(req)) return signed_in_with_token(req, res);
    const std::string header = cookie_header(req);
    auto token = cookies_.read_access(header);
    if (!token) {
      send_error(res, token.error());
      return std::nullopt;
    }
    auto claims = sessions_.validate(*token);
    if (!claims) {
      send_error(res, claims.error());
      return std::nullopt;
    }
    return std::move(*claims);
  }

  void refresh(const Request& req, Response& res) {
    // A body naming a refresh token is token mode too, even without a proof: that client is
    // told it needs one (dpop_required), not that it has no refresh cookie.
    const auto in_body = refresh_token_in_body(req);
    if (token_mode(req) || (in_body && !in_body->empty())) return refresh_tokens(req, res, in_body);
    const std::string header = cookie_header(req);
    auto token = cookies_.read_refresh(header);
    if (!token) return send_error(res, token.error());
    auto pair = sessions_.refresh(*token, extra_claims());
    if (!pair) {
      // A verdict (used, revoked, expired, forged): this refresh token will never work again, so
      // both cookies go. A transient failure (the store did not answer, 503) keeps them: the
      // client retries once, later, and must not lose a session that is still fine. Clearing
      // them then would also undo the cookies a concurrent refresh of another tab has just set.
      if (tegata::classify(pair.error()) == tegata::ErrorClass::unauthenticated) {
        clear_session_cookies(res);
      }
      return send_error(res, pair.error());
    }
    if (!set_session_cookies(res, *pair)) return;
    send_json(res, 200,
              {{"session_id", pair->session_id},
               {"access_expires_at", epoch(pair->access_expires_at)},
               {"refresh_expires_at", epoch(pair->refresh_expires_at)}});
  }

  // Either cookie ends the session (SessionManager::revoke takes an access or a refresh token):
  // the access token when it is there and verifies, else the refresh token. The access token is
  // the short-lived one: it may have expired, or the browser may have dropped it at its Max-Age,
  // while the session lives on through its refresh token, and logging out must end it then too.
  void logout(const Request& req, Response& res) {
    const auto in_body = refresh_token_in_body(req);
    if (token_mode(req) || (in_body && !in_body->empty())) return logout_tokens(req, res, in_body);
    const std::string header = cookie_header(req);
    std::error_code failure;
    auto access = cookies_.read_access(header);
    if (access) {
      auto revoked = sessions_.revoke(*access);
      if (revoked) return logged_out(res);
      failure = revoked.error();
    } else {
      failure = access.error();
    }
    auto refresh = cookies_.read_refresh(header);
    if (refresh) {
      auto revoked = sessions_.revoke(*refresh);
      if (revoked) return logged_out(res);
      failure = revoked.error();  // the token that would have kept the session alive
    } else if (refresh.error() != tegata::errc::not_found) {
      failure = refresh.error();  // e.g. two refresh cookies
    }
    fail_signed_in_action(res, failure);
  }

  void logged_out(Response& res) {
    clear_session_cookies(res);
    send_json(res, 200, {{"logged_out", true}});
  }

  void logout_all(const Request& req, Response& res) {
    if (token_mode(req)) {
      auto claims = signed_in_with_token(req, res);
      if (!claims) return;
      auto done = sessions_.revoke_all(claims->subject);
      if (!done) return send_token_error(res, done.error());
      return send_json(res, 200, {{"logged_out_everywhere", true}});
    }
    const std::string header = cookie_header(req);
    auto token = cookies_.read_access(header);
    if (!token) return fail_signed_in_action(res, token.error());
    auto claims = sessions_.validate(*token);
    if (!claims) return fail_signed_in_action(res, claims.error());
    auto done = sessions_.revoke_all(claims->subject);
    if (!done) return send_error(res, done.error());
    clear_session_cookies(res);
    send_json(res, 200, {{"logged_out_everywhere", true}});
  }

  // A logout or log out everywhere that failed. With the token merely expired or gone, the
  // cookies stay: the client refreshes and tries again. Otherwise the session is unusable and the
  // cookies go.
  void fail_signed_in_action(Response& res, std::error_code ec) {
    if (ec != tegata::errc::expired && ec != tegata::errc::not_found) clear_session_cookies(res);
    send_error(res, ec);
  }

  // --- Token mode (DPoP) ------------------------------------------------------------------------

  // What every token-mode request needs: its one proof (empty when it has no DPoP header) and
  // the absolute URI the proof must name.
  struct TokenRequest {
    std::string_view proof;  // into the request
    std::string uri;
  };

  // The request's proof and URI, or nullopt after answering why not. Every token-mode answer
  // (success or not) carries the current nonce when --dpop-nonce requires them: a client that
  // keeps the latest one never meets a stale nonce (RFC 9449 §8.2 allows it in any response).
  std::optional<TokenRequest> token_request(const Request& req, Response& res) const {
    if (!sessions_.store().remembers_proofs()) {
      // The manager would refuse each call with not_supported (a proof that cannot be used up is
      // no proof); say why, here, rather than at startup: cookie sessions work with such a store.
      send_token_error(res, tegata::errc::not_supported,
                       "token mode (DPoP) needs a store that can remember used proofs, which "
                       "the chosen --store cannot");
      return std::nullopt;
    }
    if (auto nonce = sessions_.dpop_nonce()) res.set_header("DPoP-Nonce", *nonce);
    auto proof = tegata::http::dpop_proof(header_values(req, "DPoP"));
    if (!proof && proof.error() != tegata::errc::not_found) {
      // Two DPoP fields, or one that is not a compact JWS (RFC 9449 §4.3, checks 1 and 2): the
      // proof is invalid whichever was meant, and no field is guessed at.
      send_token_error(res, tegata::errc::dpop_invalid,
                       "a request carries exactly one DPoP header holding one proof");
      return std::nullopt;
    }
    TokenRequest out;
    if (proof) out.proof = *proof;
    // The URI the client sent this request to (RFC 9449 §4.3, check 9): the public origin, then
    // the request target as received: not req.path, which cpp-httplib has percent-decoded (the
    // proof verifier normalizes both URIs as RFC 3986 §6 says). The query does not count.
    std::string_view target = req.target;
    target = target.substr(0, target.find('?'));
    if (!target.starts_with('/')) {
      send_error(res, 400, "malformed_request", "the request target must be a path");
      return std::nullopt;
    }
    if (!proof_origin_.empty()) {
      out.uri = proof_origin_;
    } else {
      // The origin the client addressed, by its Host header: right for a try-out, and behind a
      // proxy only when it forwards the Host the client sent (--public-origin says it instead).
      const std::vector<std::string_view> hosts = header_values(req, "Host");
      if (hosts.size() != 1 || !is_host_header(hosts.front())) {
        send_error(res, 400, "malformed_request",
                   "a token-mode request needs one Host header, host[:port]");
        return std::nullopt;
      }
      out.uri.append(proof_scheme_).append("://").append(hosts.front());
    }
    out.uri.append(target);
    return out;
  }

  // A token-mode refusal: send_error's status and body, and for a 401 the challenge saying which
  // proofs this server takes and what was wrong (RFC 9449 §7.1; use_dpop_nonce with the nonce
  // that token_request() put in the DPoP-Nonce header).
  void send_token_error(Response& res, std::error_code ec, std::string_view message = {}) const {
    const int status = tegata::http_status(tegata::classify(ec));
    if (status == 401) {
      res.set_header("WWW-Authenticate",
                     tegata::http::dpop_challenge(ec, sessions_.options().dpop.algorithms));
    }
    const std::string text = message.empty() ? ec.message() : std::string(message);
    send_error(res, status, tegata::to_string(ec), text);
  }

  // A new pair, in the body: nothing of it in a cookie (RFC 6749 §5.1's shape; Cache-Control:
  // no-store, as every answer of send_json).
  void send_tokens(Response& res, const tegata::TokenPair& pair) {
    send_json(res, 200,
              {{"access_token", pair.access_token},
               {"refresh_token", pair.refresh_token},
               {"token_type", "DPoP"},
               {"expires_in", (pair.access_expires_at - sessions_.clock().now()).count()}});
  }

  // The access token of the request's Authorization: DPoP header: not_found without one (or
  // with another scheme), invalid_argument for two fields or a malformed one (400).
  static tegata::Result<std::string_view> dpop_access_token(const Request& req) {
    const std::vector<std::string_view> fields = header_values(req, "Authorization");
    if (fields.empty()) return tegata::errc::not_found;
    if (fields.size() > 1) return tegata::errc::invalid_argument;
    return tegata::http::dpop_token(fields.front());
  }

  // The "refresh_token" of a token-mode JSON body {"refresh_token": "..."}: empty when the body
  // is empty or has no such member; nullopt when there is a body but it is not such JSON.
  static std::optional<std::string> refresh_token_in_body(const Request& req) {
    if (req.body.empty()) return std::string{};
    if (!is_json_request(req)) return std::nullopt;
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return std::nullopt;
    const auto token = body.find("refresh_token");
    if (token == body.end()) return std::string{};
    if (!token->is_string() || token->get_ref<const std::string&>().empty()) return std::nullopt;
    return token->get<std::string>();
  }

  // A token that does not claim a DPoP binding is a cookie session's: token mode refuses it
  // before anything is used up, so that the two kinds of session stay apart (a cookie session's
  // token never turns into tokens in a body, and its proofs would bind nothing). Answers and
  // returns false then.
  bool claims_binding(std::string_view token, Response& res) const {
    if (names_dpop_key(token) != false) return true;  // bound, or unreadable: the library judges
    send_token_error(res, tegata::errc::missing_claim,
                     "this token is not bound to a DPoP key: token mode takes only the tokens of "
                     "a token-mode login");
    return false;
  }

  // Token mode's signed_in(): Authorization: DPoP <access token>, and a proof by its key.
  std::optional<tegata::AccessClaims> signed_in_with_token(const Request& req, Response& res) {
    const auto dpop = token_request(req, res);
    if (!dpop) return std::nullopt;
    auto token = dpop_access_token(req);
    if (!token) {
      send_token_error(res, token.error(),
                       token.error() == tegata::errc::not_found
                           ? "token mode: expected Authorization: DPoP <access token>"
                           : "expected one Authorization header: DPoP <access token>");
      return std::nullopt;
    }
    // The DPoP scheme always comes with a proof: none is refused before the token is read (an
    // unbound token would otherwise pass validate() without any).
    if (dpop->proof.empty()) {
      send_token_error(res, tegata::errc::dpop_required, kProofRequired);
      return std::nullopt;
    }
    auto claims = sessions_.validate(*token, dpop->proof, req.method, dpop->uri);
    if (!claims) {
      send_token_error(res, claims.error());
      return std::nullopt;
    }
    if (claims->jkt.empty()) {  // verified now: an unbound token, see claims_binding()
      claims_binding(*token, res);
      return std::nullopt;
    }
    return std::move(*claims);
  }

  // Token mode's refresh: {"refresh_token": ...} and a proof by its key; the new pair is bound
  // to the same key. A refusal uses nothing up: the owner's next refresh still works after a
  // thief's attempt with a proof of its own.
  void refresh_tokens(const Request& req, Response& res,
                      const std::optional<std::string>& in_body) {
    const auto dpop = token_request(req, res);
    if (!dpop) return;
    if (!in_body || in_body->empty()) {
      return send_error(res, 400, "malformed_body", "expected {\"refresh_token\": string}");
    }
    if (dpop->proof.empty()) {
      return send_token_error(res, tegata::errc::dpop_required, kProofRequired);
    }
    if (!claims_binding(*in_body, res)) return;
    auto pair =
        sessions_.refresh(*in_body, dpop->proof, req.method, dpop->uri,
                          [](std::string_view, std::string_view) { return extra_claims(); });
    if (!pair) return send_token_error(res, pair.error());
    send_tokens(res, *pair);
  }

  // Token mode's logout: the access token of Authorization: DPoP, or the refresh token of the
  // body, with a proof by their key (a thief holding a bound token cannot even log its owner out).
  // As with the cookies, the access token first and then the refresh token: the client may send
  // both, its access token having expired.
  void logout_tokens(const Request& req, Response& res, const std::optional<std::string>& in_body) {
    const auto dpop = token_request(req, res);
    if (!dpop) return;
    if (!in_body) {
      return send_error(res, 400, "malformed_body",
                        "expected no body or {\"refresh_token\": string}");
    }
    auto access = dpop_access_token(req);
    if (!access && access.error() != tegata::errc::not_found) {
      return send_token_error(res, access.error(),
                              "expected one Authorization header: DPoP <access token>");
    }
    if (!access && in_body->empty()) {
      return send_token_error(res, tegata::errc::not_found,
                              "token mode: expected Authorization: DPoP <access token> or "
                              "{\"refresh_token\": string}");
    }
    if (dpop->proof.empty()) {
      return send_token_error(res, tegata::errc::dpop_required, kProofRequired);
    }
    std::error_code failure;
    for (const std::string_view token :
         {access ? *access : std::string_view{}, std::string_view{*in_body}}) {
      if (token.empty()) continue;
      if (!claims_binding(token, res)) return;
      auto revoked = sessions_.revoke(token, dpop->proof, req.method, dpop->uri);
      if (revoked) return send_json(res, 200, {{"logged_out", true}});
      failure = revoked.error();
    }
    send_token_error(res, failure);
  }

  bool set_session_cookies(Response& res, const tegata::TokenPair& pair) {
    // Max-Age is the token's expiry minus now, so now comes from the manager's clock, which
    // stamped the tokens, never from a SystemClock{} of its own: in the test build the manager's
    // clock is a ManualClock that POST /test/clock moves forward, and the system time would make
    // Max-Age wrong by however far the two clocks are apart (or make write() answer `expired`).
    auto set = cookies_.write(pair, sessions_.clock().now());
    if (!set) {
      send_error(res, set.error());
      return false;
    }
    // Two header fields: Set-Cookie values are never folded into one line.
    res.set_header("Set-Cookie", set->access);
    res.set_header("Set-Cookie", set->refresh);
    return true;
  }

  void clear_session_cookies(Response& res) {
    res.set_header("Set-Cookie", cookies_.clear_access());
    res.set_header("Set-Cookie", cookies_.clear_refresh());
  }

  Sessions& sessions_;
  const tegata::http::CookieWriter& cookies_;
  const tegata::http::CsrfGuard& csrf_;
  const demo::UserTable& users_;
  const tegata::KeyRing& ring_;
  const std::string proof_origin_;
  const std::string_view proof_scheme_;
  std::map<std::string, httplib::Server::Handler, std::less<>> bodiless_posts_;
  httplib::Server::Handler revoke_session_route_;
};

// The error name and message of an answer that cpp-httplib itself decided, before or instead of
// a handler of ours.
std::pair<std::string_view, std::string> http_error(const Request& req, int status) {
  switch (status) {
    case 400:
      // cpp-httplib adds REMOTE_ADDR to the headers once it has read all of them.
      if (!req.has_header("REMOTE_ADDR")) {
        return {"malformed_request", "the request line or a header field is malformed"};
      }
      if (req.method == "CONNECT" || req.method == "TRACE" || req.method == "PRI") {
        // One of a fixed set of names, which parse_request_line checked: safe to repeat.
        return {"malformed_request", "the method " + req.method + " is not supported"};
      }
      return {"malformed_request",
              "the request body could not be read: shorter than its Content-Length, or not "
              "valid chunked coding"};
    case 404: return {"no_such_endpoint", "no endpoint for this method and path"};
    case 413:
      return {"payload_too_large",
              "the request body is over " + std::to_string(kMaxBodyBytes) + " bytes"};
    case 414: return {"uri_too_long", "the request target is too long"};
    case 415: return {"unsupported_media_type", "a compressed request body is not supported"};
    case 416: return {"range_not_satisfiable", "the Range header is malformed or out of range"};
    default:
      return {"http_error", "the request was refused with HTTP status " + std::to_string(status)};
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_args(argc, argv);
  if (!config.hash_password_for.empty()) return hash_password(config.hash_password_for);

  // SIGINT and SIGTERM are taken by one thread with sigwait() (not a signal handler, in which
  // stopping the server would not be async-signal-safe). Blocked here, before any thread starts,
  // so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    const demo::UserTable users =
        config.users_file.empty() ? demo::UserTable::demo() : load_users(config.users_file);
    const tegata::KeyRing ring = load_keys(config);
    Sessions sessions(ring,
                      {.issuer = std::string(kIssuer),
                       .audience = std::string(kAudience),
                       .access_ttl = config.access_ttl,
                       .refresh_ttl = config.refresh_ttl,
                       .absolute_ttl = std::max<seconds>(30 * 24h, config.refresh_ttl),
                       .dpop = proof_options(config)},
                      make_clock(), demo::ChosenStore(config.store));
    // Both cookies __Host- on Path=/: no sibling subdomain can plant either one. Only POST
    // /refresh reads the refresh cookie (docs/security.md on why it is not path-scoped).
    const tegata::http::CookieWriter cookies({.insecure_http_for_testing = config.insecure_http});

    // HTTPS itself with --tls-cert/--tls-key (cpp-httplib's OpenSSL server), else plain HTTP for
    // a TLS-terminating proxy in front (or --insecure-http on 127.0.0.1).
    const bool tls = !config.tls_cert.empty();
    std::unique_ptr<httplib::Server> listener;
    if (tls) {
      auto https = std::make_unique<httplib::SSLServer>(config.tls_cert.c_str(),
                                                        config.tls_key.c_str());
      if (!https->is_valid()) {
        throw std::invalid_argument("cannot load the TLS certificate " + config.tls_cert +
                                    " and its key " + config.tls_key);
      }
      listener = std::move(https);
    } else {
      listener = std::make_unique<httplib::Server>();
    }
    httplib::Server& server = *listener;
    server.set_payload_max_length(kMaxBodyBytes);
    server.set_read_timeout(5s);
    server.set_write_timeout(5s);
    // cpp-httplib leaves Nagle's algorithm on. It writes a response's headers and body with
    // separate send() calls, so the body waits for the ACK of the headers, which the client
    // delays by up to 40 ms: 38 requests/s per keep-alive connection, whatever the handler costs.
    server.set_tcp_nodelay(true);
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},
                                {"X-Frame-Options", "DENY"}});
    // Called for every status >= 400, ours included: only the empty bodies of cpp-httplib's own
    // answers (400, 404, 413, ...) are filled in, each with a message saying what was wrong.
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          const auto [name, message] = http_error(req, res.status);
          send_error(res, res.status, name, message);
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_logger([](const Request& req, const Response& res) {
      // Method, path and status only: never a header, which could hold a token.
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
    const int port = config.port == 0
                         ? server.bind_to_any_port("127.0.0.1")
                         : (server.bind_to_port("127.0.0.1", config.port) ? config.port : -1);
    if (port < 0) {
      std::cerr << "tegata_http_server: cannot listen on 127.0.0.1:" << config.port << '\n';
      return 1;
    }
    const std::string own_origin =
        std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
    // The origin the pages come from: this server's own address, or what --public-origin says
    // (a malformed one is refused here, at startup).
    const tegata::http::CsrfGuard csrf(
        {config.public_origin.empty() ? own_origin : config.public_origin});
    // Token mode: the URI each proof must name starts with --public-origin, else with the
    // scheme clients reach this server by (https behind a TLS-terminating proxy) and the
    // request's Host header.
    App app(sessions, cookies, csrf, users, ring, config.public_origin,
            tls || !config.insecure_http ? "https" : "http");
    app.routes(server);

    std::atomic<bool> finished{false};
    std::thread stopper([&] {
      int signal = 0;
      sigwait(&stop_signals, &signal);
      // A signal that arrives before listen_after_bind() has started must still stop it.
      while (!finished.load() && !server.is_running()) std::this_thread::sleep_for(10ms);
      server.stop();
    });

    std::cout << "tegata_http_server: listening on " << own_origin
              << (config.insecure_http ? " (insecure cookies for plain HTTP)" : "") << std::endl;
    const bool clean = server.listen_after_bind();
    finished.store(true);
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes sigwait() if no signal came
    stopper.join();
    std::cout << "tegata_http_server: stopped" << std::endl;
    return clean ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tegata_http_server: " << e.what() << '\n';
    return 1;
  }
}
