// docs/guide.md's DPoP server (<!-- snippet: dpop_server -->), run as printed inside a request
// handler with the names it leaves to the reader, and driven by a client that makes real
// proofs: login, a call, a refresh, and the refusals the guide promises (a replayed proof, no
// proof, a thief's proof, two DPoP headers), each with its status and challenge.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <tegata/tegata.hpp>
#include <vector>

#include "support/dpop_client.hpp"

namespace {

using Manager = tegata::SessionManager<tegata::HmacKey, tegata::ManualClock>;

struct Request {
  std::string method, path;
  std::vector<std::string_view> dpop_values;  // every DPoP header field's value
  std::string user, password, refresh_token, authorization;
};

struct Reply {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

Reply handle(Manager& sessions, const std::string& public_origin, const Request& request) {
  const auto check_password = [](std::string_view user, std::string_view password) {
    return user == "alice" && password == "correct horse";
  };
  const auto refuse = [](std::error_code ec) {
    return Reply{tegata::http_status(tegata::classify(ec)), {}, std::string(tegata::to_string(ec))};
  };
  const auto tokens = [](const tegata::TokenPair& pair) {
    return Reply{200, {}, pair.access_token + " " + pair.refresh_token};
  };
  const auto hello = [](std::string_view subject) {
    return Reply{200, {}, "hello " + std::string(subject)};
  };
#include "dpop_server.cpp"
}

int fail(const char* what, const Reply& reply) {
  std::printf("FAIL %s: %d %s\n", what, reply.status, reply.body.c_str());
  return 1;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  tegata::ManualClock clock{std::chrono::sys_seconds{1'800'000'000s}};
  Manager sessions(tegata::HmacKey(tegata::Algorithm::HS256, std::string(32, 's'), "k"),
                   {.issuer = "https://auth.example.com", .audience = "api"}, clock);
  const std::string origin = "https://app.example.com";
  tegata_test::DpopClient client;
  tegata_test::DpopClient thief(tegata::Algorithm::Ed25519);

  std::string proof = client.proof("POST", origin + "/login", clock.now());
  Reply r = handle(sessions, origin, {"POST", "/login", {proof}, "alice", "correct horse", "", ""});
  if (r.status != 200) return fail("login", r);
  const std::string access = r.body.substr(0, r.body.find(' '));
  const std::string refresh = r.body.substr(r.body.find(' ') + 1);

  const auto call = [&](const std::string& with_proof) {
    return handle(sessions, origin, {"GET", "/api/me", {with_proof}, "", "", "", "DPoP " + access});
  };
  proof = client.proof("GET", origin + "/api/me", clock.now(), access);
  if (r = call(proof); r.status != 200 || r.body != "hello alice") return fail("call", r);
  r = call(proof);
  if (r.status != 401 || r.body != "dpop_replayed" ||
      r.headers["WWW-Authenticate"].find("error=\"invalid_dpop_proof\"") == std::string::npos) {
    return fail("replay", r);
  }
  r = handle(sessions, origin, {"GET", "/api/me", {}, "", "", "", "DPoP " + access});
  if (r.status != 401 || r.body != "dpop_required") return fail("no proof", r);
  if (r = call(thief.proof("GET", origin + "/api/me", clock.now(), access));
      r.status != 401 || r.body != "dpop_mismatch") {
    return fail("thief", r);
  }
  const std::string second = client.proof("GET", origin + "/api/me", clock.now(), access);
  r = handle(sessions, origin,
             {"GET", "/api/me", {second, second}, "", "", "", "DPoP " + access});
  if (r.status != 400) return fail("two DPoP headers", r);

  clock.advance(16min);
  proof = client.proof("POST", origin + "/refresh", clock.now());
  r = handle(sessions, origin, {"POST", "/refresh", {proof}, "", "", refresh, ""});
  if (r.status != 200) return fail("refresh", r);
  std::puts("ok");
}
