// tegata/store/revocation_store.hpp - the RevocationStore policy: the only state tegata keeps.
//
// A store remembers, each only as long as it matters:
//  - one record per live session family (SessionRecord), created at login, updated in place by
//    every refresh and gone at the session's end: state grows with live sessions, never with
//    activity, so one account that refreshes a million times still holds one record;
//  - ended families (logout, theft, eviction), as long as an access token of theirs may still be
//    accepted (the record's access_until), since access tokens validate without the record;
//  - revoked token ids (jti), and the version of each subject that signed out everywhere.
// The SessionManager passes the current time into every call (a store never reads a clock) and
// says until when each fact matters, so a store can forget it afterwards. Every operation is
// atomic on its own; a remote store answers errc::store_unavailable when it cannot reach its
// backend, and the manager then fails closed. Each `until` already covers the validator's
// leeway: a fact is needed until the last second at which any token it concerns could still be
// accepted.
//
// A session is named by (subject, session id) in every call: both come from a verified token or
// from the application, and a store may keep everything about a subject together (the memory
// store does, so that a refresh, a theft verdict and the subject's index change under one lock).
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tegata/error.hpp"

namespace tegata {

// What the validate path needs to know about one access token, in one query.
struct TokenStatus {
  bool token_revoked = false;     // its jti was revoked
  bool family_revoked = false;    // its session family ended (logout, theft, eviction)
  std::uint64_t min_version = 0;  // the subject's current version; older tokens are void
};

// One live session family, as the store keeps it. The manager writes every field at login; a
// rotation changes refresh_id, last_refresh, expires_at, access_until and until.
struct SessionRecord {
  std::string session_id;                   // sid
  std::string refresh_id;                   // jti of the current refresh token: the next refresh
                                            // must present it (or, within the grace window, the
                                            // previous one, which the store keeps beside it)
  std::chrono::sys_seconds auth_time{};     // login
  std::chrono::sys_seconds last_refresh{};  // latest rotation (auth_time if none); also the first
                                            // use of the previous refresh token
  std::chrono::sys_seconds expires_at{};    // the current refresh token's exp: the idle end, or
                                            // the absolute end if that comes first
  std::chrono::sys_seconds absolute_end{};  // no token of the session lives past it
  std::chrono::seconds refresh_ttl{};       // this session's idle limit (IssueOptions may shorten
                                            // the manager's): every rotation honours it
  std::chrono::sys_seconds access_until{};  // the last second an access token of the session may
                                            // be accepted (its exp plus leeway): how long the
                                            // session must be remembered as ended once it ends
  std::chrono::sys_seconds until{};         // when the store forgets the record: expires_at plus
                                            // leeway, never before access_until
  bool persistent = true;                   // "remember me": cookies with Max-Age or without
  std::string metadata;                     // the application's, opaque; never in a token
  std::string jkt;                          // DPoP (RFC 9449): the thumbprint of the key the
                                            // session is bound to (both tokens carry it as
                                            // cnf.jkt); empty for a session bound to no key
  std::uint64_t version = 0;                // the subject's version its tokens were issued with:
                                            // a store that cannot end a subject's records in the
                                            // same step as bump_version ends those older than
                                            // the new version (a later login keeps its record)
};

// The refresh path's read, in one query: the presented refresh token's status and its session's
// live record (absent when the session ended or the store keeps no records).
struct SessionLookup {
  TokenStatus status;
  std::optional<SessionRecord> record;
};

// What a refresh proposes to the record, after it has minted the next pair.
struct RotationRequest {
  std::string_view presented;  // jti of the refresh token presented
  std::string_view next;       // jti of the refresh token just minted
  std::chrono::sys_seconds now;
  std::chrono::seconds grace;             // SessionOptions::reuse_grace
  std::chrono::sys_seconds expires_at;    // the new refresh token's exp
  std::chrono::sys_seconds access_until;  // the new access token's exp plus leeway
  std::chrono::sys_seconds until;         // the record's new until
};

enum class RotationVerdict {
  rotated,       // presented was current: current := next, previous := presented, last_refresh
                 // := now; the record now ends at request.expires_at (until at request.until)
  within_grace,  // presented was the previous token, within grace of last_refresh: nothing
                 // rotates; the caller hands out a pair on the same chain (Rotation::current)
  reused,        // anything else: theft. The family ended in the same atomic step
  ended,         // no live record: the session is over (revoked, evicted, expired) or unknown
};

struct Rotation {
  RotationVerdict verdict = RotationVerdict::ended;
  std::string current;                    // the record's current refresh token id afterwards
  std::chrono::sys_seconds expires_at{};  // the record's expires_at afterwards
};

// How a store answers every call. `time` stands for `now` or an `until`; see each line.
template <class S>
concept RevocationStore =
    requires(S& store, const S& const_store, std::string_view id, std::chrono::sys_seconds time,
             const SessionRecord& record, const RotationRequest& request, std::size_t count) {
      // The validate path: status of (jti, sid, subject) at now. Never touches the record.
      { const_store.status(id, id, id, time) } -> std::same_as<Result<TokenStatus>>;
      // find_session(jti, sid, subject, now): the refresh path's read (SessionLookup).
      { const_store.find_session(id, id, id, time) } -> std::same_as<Result<SessionLookup>>;
      // create_session(subject, record, max_sessions, now): stores a new session's record. If the
      // subject then has more than max_sessions live sessions, its least recently used ones end
      // (as by end_session) and their ids are returned.
      {
        store.create_session(id, record, count, time)
      } -> std::same_as<Result<std::vector<std::string>>>;
      // rotate_session(subject, sid, request): the one compare-and-set of a refresh (Rotation).
      { store.rotate_session(id, id, request) } -> std::same_as<Result<Rotation>>;
      // end_session(subject, sid, until, now): ends the session. Its live record is gone, and its
      // tokens are refused (family_revoked) until the later of `until` and the record's
      // access_until. true if a live record ended; false otherwise, and then the family is still
      // refused until `until` (nothing is stored when until <= now).
      { store.end_session(id, id, time, time) } -> std::same_as<Result<bool>>;
      // sessions(subject, now): the subject's live records, most recently used first.
      { const_store.sessions(id, time) } -> std::same_as<Result<std::vector<SessionRecord>>>;
      // revoke_token(jti, until, now): the jti is refused until `until` (the token's exp).
      { store.revoke_token(id, time, time) } -> std::same_as<Result<void>>;
      // bump_version(subject, until, now): makes every token issued so far for the subject void,
      // ends every live session of the subject (their records are gone) and returns the new
      // version. Versions are seconds since the epoch of the latest bump, strictly increasing,
      // so a store may forget a version at `until` (when every token it voided has expired) and
      // reading 0 afterwards is still correct.
      { store.bump_version(id, time, time) } -> std::same_as<Result<std::uint64_t>>;
    };

// DPoP proofs are single-use (RFC 9449 §11.1): a store that can remember which proofs were used
// has
//   Result<bool> use_proof(std::string_view key, std::chrono::sys_seconds until,
//                          std::chrono::sys_seconds now) const;
// which records key until `until` and answers true, or answers false, recording nothing, when key
// is recorded already (until > now): the proof was used before. Atomic: of two calls with one
// key, exactly one answers true. The manager passes a fixed-size key (22 base64url characters:
// 128 bits of SHA-256 over the proof key's thumbprint and the proof's jti, so that one client
// cannot use up another's jti) and until = the last second the proof's iat window accepts it:
// an entry is needed for at most twice that window. const like status():
// a validate with a proof records it. Without it (NullRevocationStore), the manager refuses
// every DPoP call with not_supported.
template <class S>
concept ProofReplayCache =
    requires(const S& store, std::string_view key, std::chrono::sys_seconds time) {
      { store.use_proof(key, time, time) } -> std::same_as<Result<bool>>;
    };

// What every store's create_session refuses (errc::invalid_argument): a record it would forget
// at once, one without a session id, or a bound of 0 sessions.
inline bool acceptable_new_session(const SessionRecord& record, std::size_t max_sessions,
                                   std::chrono::sys_seconds now) noexcept {
  return record.until > now && !record.session_id.empty() && max_sessions != 0;
}

// A store that keeps no records at all (NullRevocationStore) says so with
//   static constexpr bool keeps_records = false;
// The manager then rotates on every refresh with its own limits, and refuses what it could not
// honour (IssueOptions that shorten or end a session with the browser).
template <class S>
inline constexpr bool keeps_records = true;
template <class S>
  requires requires { S::keeps_records; }
inline constexpr bool keeps_records<S> = S::keeps_records;

}  // namespace tegata
