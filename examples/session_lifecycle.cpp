// A session's whole life, on a manual clock: login, API calls, expiry, refresh with rotation, a
// stolen refresh token replayed (and the alarm the events policy raises), the list of a user's
// sessions with one signed out from another device, logout everywhere, and the cookies a server
// would send. It exits with 1 if anything turns out other than printed.
//
// Run it with:  cmake --workflow --preset demo
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <tegata/tegata.hpp>

using namespace std::chrono_literals;

namespace {

tegata::ManualClock clock_at_login{std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 9h};

void say(std::string_view what) {
  const auto t = clock_at_login.now();
  const auto time = std::chrono::hh_mm_ss(t - std::chrono::floor<std::chrono::days>(t));
  std::printf("[%02d:%02d] %.*s\n", static_cast<int>(time.hours().count()),
              static_cast<int>(time.minutes().count()), static_cast<int>(what.size()), what.data());
}

template <class T>
std::string outcome(const tegata::Result<T>& r) {
  return r ? std::string("ok")
           : "refused: " + std::string(tegata::to_string(r.error())) + " (" + r.error().message() +
                 ")";
}

std::string shorten(std::string_view token) { return std::string(token.substr(0, 16)) + "..."; }

// The fourth policy: what the manager reports once the store has recorded a change. Here, an
// audit line per event and an alarm for a stolen refresh token; in production, a log, a metric,
// an e-mail to the user ("was this you?").
struct AuditLog {
  int alarms = 0;
  void on_event(const tegata::SessionEvent& event) noexcept {
    static constexpr const char* names[] = {
        "login", "refresh", "reuse_detected", "logout", "logout_all", "session_revoked", "evicted"};
    const auto kind = static_cast<std::size_t>(event.kind);
    std::printf("        event: %s, subject %.*s, session %.*s\n", names[kind],
                static_cast<int>(event.subject.size()), event.subject.data(),
                static_cast<int>(event.session_id.size()), event.session_id.data());
    if (event.kind == tegata::SessionEventKind::reuse_detected) {
      ++alarms;
      std::printf("        ALERT: a used refresh token of %.*s came back; the session is ended\n",
                  static_cast<int>(event.subject.size()), event.subject.data());
    }
  }
};

}  // namespace

int main() {
  // In production: a key from your secret store, SystemClock, and a store shared by your servers.
  const tegata::HmacKey key(tegata::Algorithm::HS256, "a demo secret of at least 32 bytes!",
                            "2026-11");
  tegata::SessionOptions options;
  options.issuer = "https://auth.example.com";
  options.audience = "https://api.example.com";
  options.access_ttl = 15min;
  options.refresh_ttl = 14 * 24h;
  tegata::MemoryRevocationStore store;
  tegata::SessionManager sessions(key, options, clock_at_login, store, AuditLog{});
  const tegata::http::CookieWriter cookies;

  say("alice logs in");
  auto login = sessions.issue("alice", {{"role", "editor"}});
  if (!login) return 1;
  std::printf("        access  %s expires in 15 min\n", shorten(login->access_token).c_str());
  std::printf("        refresh %s expires in 14 days, session %s\n",
              shorten(login->refresh_token).c_str(), login->session_id.c_str());
  // write() makes each cookie's Max-Age the token's expiry minus now, so now must come from the
  // clock that stamped the tokens: sessions.clock(), never a clock of its own. Under a
  // ManualClock (this demo, tests) SystemClock{}.now() can be past the tokens' expiry, and
  // write() refuses them as expired, or long before it, and the cookies outlive the tokens.
  auto set = cookies.write(*login, sessions.clock().now());
  if (!set) return 1;
  std::printf("        Set-Cookie: %s\n",
              set->access.substr(0, set->access.find('=') + 1).append("...").c_str());
  std::printf("        Set-Cookie: %s\n",
              set->refresh.substr(0, set->refresh.find('=') + 1).append("...").c_str());
  std::printf("        (attributes) %s\n", set->access.substr(set->access.find(';') + 2).c_str());
  std::printf("        (attributes) %s\n", set->refresh.substr(set->refresh.find(';') + 2).c_str());

  clock_at_login.advance(1min);
  auto me = sessions.validate(login->access_token);
  say("GET /api/me with the access token: " + outcome(me) +
      (me ? ", subject " + me->subject + ", role " + me->extra.value("role", std::string("?"))
          : ""));

  clock_at_login.advance(15min);
  say("16 minutes after login, GET /api/me: " + outcome(sessions.validate(login->access_token)));

  auto rotated = sessions.refresh(login->refresh_token, {{"role", "editor"}});
  say("POST /auth/refresh with the refresh token: " + outcome(rotated));
  if (!rotated) return 1;
  std::printf("        new access  %s, new refresh %s, same session %s\n",
              shorten(rotated->access_token).c_str(), shorten(rotated->refresh_token).c_str(),
              rotated->session_id.c_str());
  say("GET /api/me with the new access token: " +
      outcome(sessions.validate(rotated->access_token)));

  clock_at_login.advance(2min);
  say("an attacker replays the old, already used refresh token: " +
      outcome(sessions.refresh(login->refresh_token)));
  say("alice's current access token now: " + outcome(sessions.validate(rotated->access_token)));
  say("alice's current refresh token now: " + outcome(sessions.refresh(rotated->refresh_token)));

  if (sessions.events().alarms != 1) return 1;

  clock_at_login.advance(1min);
  tegata::IssueOptions on_laptop;
  on_laptop.metadata = "Firefox on the laptop";
  tegata::IssueOptions on_phone;
  on_phone.metadata = "Safari on the phone";
  auto laptop = sessions.issue("alice", on_laptop);
  auto phone = sessions.issue("alice", on_phone);
  auto tablet = sessions.issue("alice");
  if (!laptop || !phone || !tablet) return 1;
  say("alice logs in again, on her laptop, her phone and her tablet: three new sessions");
  say("laptop GET /api/me: " + outcome(sessions.validate(laptop->access_token)));

  clock_at_login.advance(2min);
  if (!sessions.refresh(laptop->refresh_token)) return 1;
  auto list = sessions.sessions("alice");
  if (!list || list->size() != 3) return 1;
  say("alice opens \"Your sessions\" on her laptop (most recently used first):");
  for (const tegata::SessionInfo& s : *list) {
    std::printf("        %-22s session %s%s\n",
                s.metadata.empty() ? "(no device given)" : s.metadata.c_str(), s.session_id.c_str(),
                s.session_id == laptop->session_id ? "  <- this one" : "");
  }
  say("she lost her phone, and signs it out from the laptop: " +
      outcome(sessions.revoke_session("alice", phone->session_id)));
  say("phone GET /api/me: " + outcome(sessions.validate(phone->access_token)));
  say("phone POST /auth/refresh: " + outcome(sessions.refresh(phone->refresh_token)));
  say("someone else guesses the session id of the tablet: " +
      outcome(sessions.revoke_session("mallory", tablet->session_id)));
  if (sessions.validate(phone->access_token) || !sessions.validate(tablet->access_token)) return 1;

  clock_at_login.advance(5min);
  say("alice changes her password: log out everywhere -> " + outcome(sessions.revoke_all("alice")));
  say("laptop GET /api/me: " + outcome(sessions.validate(laptop->access_token)));
  say("tablet POST /auth/refresh: " + outcome(sessions.refresh(tablet->refresh_token)));

  auto fresh = sessions.issue("alice");
  if (!fresh) return 1;
  say("alice logs in with the new password: " + outcome(sessions.validate(fresh->access_token)));
  say("POST /auth/logout -> " + outcome(sessions.revoke(fresh->access_token)));
  say("GET /api/me after logout: " + outcome(sessions.validate(fresh->access_token)));
  const auto cleared = cookies.clear();
  std::printf("        Set-Cookie: %s\n", cleared.access.c_str());
  std::printf("        Set-Cookie: %s\n", cleared.refresh.c_str());

  clock_at_login.advance(31 * 24h);
  sessions.store().prune(sessions.clock().now());
  say("a month later every token has expired; entries left in the store: " +
      std::to_string(store.size()));
  return 0;
}
