// tegata::compiled holds a working SessionManager for each signer it names (the extern template
// declarations of tegata/session/manager.hpp): this program links only against it for them, so a
// missing instantiation fails the link, and each manager logs in, validates, refreshes, detects
// the reuse of a used refresh token, writes and reads its cookies and logs out.
#include <cstdio>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>

#if !defined(TEGATA_COMPILED_LIB)
#error "this test must see what programs linking tegata::compiled see"
#endif

namespace {

template <class SignerT>
bool session_round_trip(std::string_view name, SignerT signer) {
  tegata::SessionManager sessions(std::move(signer),
                                  {.issuer = "i", .audience = "a", .reuse_grace = {}});
  auto pair = sessions.issue("alice", {{"role", "editor"}});
  if (!pair) return false;
  auto claims = sessions.validate(pair->access_token);
  auto next = sessions.refresh(pair->refresh_token);
  // The same refresh token again (reuse_grace is 0 here): theft, the family ends.
  auto reused = sessions.refresh(pair->refresh_token);
  const bool ok = claims && claims->subject == "alice" &&
                  claims->extra.value("role", "") == "editor" && next && !reused &&
                  reused.error() == tegata::errc::refresh_reused &&
                  sessions.validate(next->access_token).error() == tegata::errc::session_revoked;
  // The cookies of the pair, and the access token read back from them.
  const tegata::http::CookieWriter cookies;
  auto set = next ? cookies.write(*next, sessions.clock().now())
                  : tegata::Result<tegata::http::SetCookies>(next.error());
  const std::string header = set ? set->access.substr(0, set->access.find(';')) : std::string();
  auto read = cookies.read_access(header);
  const bool cookies_ok = set && read && *read == next->access_token;
  auto other = sessions.issue("bob");
  const bool logout =
      other && !sessions.revoke(other->access_token).error() &&
      sessions.validate(other->access_token).error() == tegata::errc::session_revoked;
  if (!ok || !cookies_ok || !logout) std::printf("%.*s: failed\n", static_cast<int>(name.size()), name.data());
  return ok && cookies_ok && logout;
}

}  // namespace

int main() {
  const tegata::HmacKey hmac(tegata::Algorithm::HS256, std::string(32, 'k'), "h");
  const tegata::EcdsaKey ecdsa(tegata::Algorithm::ES256,
                               tegata::keys::generate(tegata::Algorithm::ES256), "e");
  const tegata::EddsaKey eddsa(tegata::keys::generate(tegata::Algorithm::EdDSA), "d");
  const tegata::RsaKey rsa(tegata::Algorithm::PS256,
                           tegata::keys::generate(tegata::Algorithm::PS256), "r");
  bool ok = session_round_trip("HmacKey", hmac);
  ok = session_round_trip("EcdsaKey", ecdsa) && ok;
  ok = session_round_trip("EddsaKey", eddsa) && ok;
  ok = session_round_trip("RsaKey", rsa) && ok;
  ok = session_round_trip("AnyKey", tegata::AnyKey(eddsa)) && ok;
  ok = session_round_trip("KeyRing",
                          tegata::KeyRing(tegata::AnyKey(ecdsa), {tegata::AnyKey(eddsa)})) &&
       ok;
  std::puts(ok ? "ok" : "failed");
  return ok ? 0 : 1;
}
