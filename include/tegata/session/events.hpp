// tegata/session/events.hpp - the Events policy: what a SessionManager reports as it changes
// sessions, e.g. to write an audit line or to alert a user whose refresh token was stolen.
#pragma once

#include <chrono>
#include <concepts>
#include <string_view>

namespace tegata {

enum class SessionEventKind {
  login,            // issue: a session began
  refresh,          // refresh: a pair was handed out (a rotation, or a pair within reuse_grace)
  reuse_detected,   // refresh: a used refresh token came back: theft; the session has ended
  logout,           // revoke: the session of a token ended
  logout_all,       // revoke_all: every session of the subject ended (session_id is empty)
  session_revoked,  // revoke_session: a session ended by its id (e.g. from another device)
  evicted,          // issue: the subject had max_sessions_per_subject sessions, this one (the
                    // least recently used) ended
};

// Views valid during the call only: copy what you keep.
struct SessionEvent {
  SessionEventKind kind;
  std::string_view subject;
  std::string_view session_id;
  std::chrono::sys_seconds time;
};

// The policy: on_event is called once per event, after the store has recorded the change, from
// the thread that made it (so it may be called from several threads at once), and never for an
// operation that failed. It must not throw: the change it reports has already happened.
template <class E>
concept SessionEvents = requires(E& events, const SessionEvent& event) {
  { events.on_event(event) } noexcept;
};

// The default: reports nothing and, being empty and inline, costs nothing.
struct NoEvents {
  void on_event(const SessionEvent& /*event*/) noexcept {}
};

}  // namespace tegata
