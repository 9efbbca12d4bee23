#!/usr/bin/env bash
# End-to-end test of examples/beast_server, driven with curl (ctest label e2e).
#
#   beast_e2e.sh --server BINARY                  beast.curl: the session flow
#   beast_e2e.sh --server BINARY --redis-stall    beast.redis_stall: Redis frozen with SIGSTOP
#
# beast.curl: login sets both cookies, /api/me, rotation by a POST without a body, a replayed
# refresh token revoking the session, logout by either cookie, the CSRF check, malformed and
# oversized requests, 50 concurrent /api/me and 8 concurrent logins, and the production cookies
# (__Host- names, Secure) of the server without --insecure-http.
# beast.redis_stall: the server on a Redis of its own (a unix socket in a temporary directory),
# then Redis stopped with SIGSTOP: requests that need the store queue on the server's thread
# pool and answer 503 store_unavailable after the store's timeouts, while the I/O thread keeps
# answering /healthz at once; after SIGCONT the server recovers by itself.
#
# Every server starts on a free port (--port 0, read from its first line of output) and is
# stopped with SIGTERM on exit, which must end it with status 0. Cookies are sent by hand
# (-H "Cookie: ..."), so the test decides which token each request carries, old ones included.
# What is missing (the example was not built, curl, redis-server, a build without --redis) makes
# the test SKIP (exit 77), or FAIL when TEGATA_REQUIRE_E2E is set in the environment.
set -euo pipefail

server=""
mode=flow
while (($#)); do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --redis-stall) mode=redis_stall; shift ;;
    *) echo "usage: $0 --server BINARY [--redis-stall]" >&2; exit 2 ;;
  esac
done

# shellcheck source=../support/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/e2e.sh"

[[ -n $server ]] || skip "examples/beast_server was not built: it needs Boost >= 1.74 (Debian: apt-get install libboost-dev) and TEGATA_BUILD_EXAMPLES=ON; reconfigure"
[[ -x $server ]] || { echo "FAIL: no server binary '$server' (build the target tegata_beast_server)"; exit 1; }
command -v curl >/dev/null 2>&1 || skip "curl is not installed (Debian: apt-get install curl)"

work=$(mktemp -d "${TMPDIR:-/tmp}/tegata-beast-e2e.XXXXXX")
pids=()
redis_pid=""
failures=0
checks=0
base=""
status=""
body=""

ok() { checks=$((checks + 1)); }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

cleanup() {
  local code=$?
  if [[ -n $redis_pid ]]; then
    kill -CONT "$redis_pid" 2>/dev/null || true
    kill -TERM "$redis_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do stop_server "$pid" || true; done
  if ((code != 0)); then
    for log in "$work"/*.out "$work"/*.log; do
      [[ -f $log ]] && { echo "--- ${log##*/}"; tail -n 40 "$log"; }
    done
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that a ctest timeout still stops the servers (through cleanup)

# request METHOD PATH [curl options...]: sets $status and $body, and keeps the response headers
# in $work/headers. A POST without -d sends no body and no Content-Length.
request() {
  local method=$1 path=$2
  shift 2
  status=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" "$@" \
    "$base$path" 2>>"$work/curl.log") || status=000
  body=$(cat "$work/body")
}

expect() {  # expect WHAT STATUS [ERROR_NAME]
  local what=$1 want=$2 error=${3:-}
  if [[ $status != "$want" ]]; then
    fail "$what: status $status, expected $want (body: $body)"
  elif [[ -n $error && $body != *"\"error\":\"$error\""* ]]; then
    fail "$what: body $body, expected error $error"
  else
    ok
  fi
}

# The value of the Set-Cookie named $1 in the last response (empty if none).
set_cookie() { tr -d '\r' <"$work/headers" | sed -n "s/^[Ss]et-[Cc]ookie: $1=\([^;]*\).*/\1/p" | tail -n 1; }
set_cookie_line() { tr -d '\r' <"$work/headers" | grep -i "^set-cookie: $1=" | tail -n 1 || true; }
set_cookie_count() { tr -d '\r' <"$work/headers" | grep -ci '^set-cookie:' || true; }

login_json='{"username":"alice","password":"wonderland"}'
login() {  # login [curl options...]: POST /login as alice
  request POST /login -H 'Content-Type: application/json' -d "$login_json" "$@"
}

# --- beast.redis_stall ----------------------------------------------------------------------

if [[ $mode == redis_stall ]]; then
  command -v redis-server >/dev/null 2>&1 ||
    skip "redis-server is not installed (Debian: apt-get install redis-server)"
  "$server" --help | grep -q -- '--redis' ||
    skip "tegata_beast_server was built without tegata::redis (Debian: apt-get install libhiredis-dev, then reconfigure)"

  socket="$work/redis.sock"
  redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --save '' --appendonly no \
    >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for ((i = 0; i < 200; i++)); do [[ -S $socket ]] && break; sleep 0.05; done
  [[ -S $socket ]] || { echo "FAIL: redis-server did not start"; exit 1; }

  start_server stall "$server" --insecure-http --redis "$socket" --pool-threads 2
  login
  expect "login with Redis" 200
  access=$(set_cookie access_token)
  refresh=$(set_cookie refresh_token)
  request GET /api/me -H "Cookie: access_token=$access"
  expect "/api/me with Redis" 200

  kill -STOP "$redis_pid"
  # Six requests that need the store, two pool threads: they wait in the pool's queue for 1.5 s
  # at least (each validate waits 0.5 to 1 s for the stopped Redis).
  for i in 1 2 3 4 5 6; do
    curl -sS -o "$work/stalled$i.body" -w '%{http_code} %{time_total}' \
      -H "Cookie: access_token=$access" "$base/api/me" >"$work/stalled$i.status" 2>&1 &
    echo $! >"$work/stalled$i.pid"
  done
  sleep 0.3
  healthz_time=$(curl -sS -o /dev/null -w '%{time_total}' "$base/healthz")
  jwks_status=$(curl -sS -o /dev/null -w '%{http_code}' "$base/.well-known/jwks.json")
  still_waiting=0
  for i in 1 2 3 4 5 6; do
    kill -0 "$(cat "$work/stalled$i.pid")" 2>/dev/null && still_waiting=$((still_waiting + 1))
  done
  if ((still_waiting == 0)); then
    fail "the stalled requests were already answered: this run proves nothing about the I/O thread"
  else
    ok
  fi
  if awk -v t="$healthz_time" 'BEGIN { exit !(t < 0.5) }'; then
    ok
  else
    fail "/healthz took ${healthz_time}s while Redis was stopped: the I/O thread waited"
  fi
  [[ $jwks_status == 200 ]] && ok || fail "the JWKS answered $jwks_status while Redis was stopped"

  for i in 1 2 3 4 5 6; do
    wait "$(cat "$work/stalled$i.pid")" || true
    read -r code seconds <"$work/stalled$i.status" || true
    if [[ $code != 503 ]] || ! grep -q '"error":"store_unavailable"' "$work/stalled$i.body"; then
      fail "stalled /api/me $i: $code $(cat "$work/stalled$i.body")"
    elif ! awk -v t="$seconds" 'BEGIN { exit !(t < 10) }'; then
      fail "stalled /api/me $i took ${seconds}s"
    else
      ok
    fi
  done

  # A refresh the store cannot answer is a 503 that keeps the cookies: the token is still good.
  request POST /refresh -H "Cookie: refresh_token=$refresh"
  expect "refresh while Redis is stopped" 503 store_unavailable
  [[ $(set_cookie_count) == 0 ]] && ok || fail "a 503 refresh cleared the cookies"
  grep -qi '^retry-after:' "$work/headers" && ok || fail "a 503 without Retry-After"

  kill -CONT "$redis_pid"
  for ((i = 0; i < 50; i++)); do
    request GET /api/me -H "Cookie: access_token=$access"
    [[ $status == 200 ]] && break
    sleep 0.1
  done
  expect "/api/me after Redis came back" 200
  request POST /refresh -H "Cookie: refresh_token=$refresh"
  expect "refresh after Redis came back" 200

  echo "beast.redis_stall: $checks checks, $failures failures (/healthz in ${healthz_time}s while" \
    "$still_waiting store calls waited)"
  ((failures == 0))
  exit
fi

# --- beast.curl -----------------------------------------------------------------------------

start_server dev "$server" --insecure-http

request GET /healthz
expect "/healthz" 200

# Login: wrong password, malformed bodies, then the real thing.
request POST /login -H 'Content-Type: application/json' -d '{"username":"alice","password":"x"}'
expect "wrong password" 401 invalid_credentials
request POST /login -H 'Content-Type: application/json' -d '{"username":"alice"'
expect "truncated JSON" 400 malformed_body
request POST /login -d "$login_json"
expect "login without Content-Type: application/json" 400 malformed_body
login
expect "login" 200
[[ $(set_cookie_count) == 2 ]] && ok || fail "login set $(set_cookie_count) cookies, expected 2"
for name in access_token refresh_token; do
  line=$(set_cookie_line "$name")
  if [[ -z $(set_cookie "$name") ]]; then
    fail "login did not set $name"
  elif [[ $line != *HttpOnly* || $line != *SameSite=Strict* || $line == *Secure* ]]; then
    fail "$name cookie attributes: $line"
  else
    ok
  fi
done
access=$(set_cookie access_token)
refresh0=$(set_cookie refresh_token)

request GET /api/me -H "Cookie: access_token=$access"
expect "/api/me" 200
[[ $body == *'"subject":"alice"'* ]] && ok || fail "/api/me body: $body"
request GET /api/me
expect "/api/me without a cookie" 401 not_found
request GET /api/me -H "Cookie: access_token=${access%?}x"
expect "/api/me with a tampered token" 401
request GET /api/me -H "Cookie: access_token=$refresh0"
expect "/api/me with the refresh token" 401 wrong_type

# Rotation, by POSTs without a body (no Content-Length, as curl -X POST sends them).
request POST /refresh -H "Cookie: refresh_token=$refresh0"
expect "bodiless refresh" 200
refresh1=$(set_cookie refresh_token)
access1=$(set_cookie access_token)
[[ -n $refresh1 && $refresh1 != "$refresh0" && -n $access1 && $access1 != "$access" ]] && ok ||
  fail "refresh did not rotate both cookies"
request POST /refresh -H "Cookie: refresh_token=$refresh1" -H 'Content-Length: 0'
expect "refresh with Content-Length: 0" 200
refresh2=$(set_cookie refresh_token)
access2=$(set_cookie access_token)
request GET /api/me -H "Cookie: access_token=$access2"
expect "/api/me after rotation" 200

# Replay of a used refresh token (the first one, two rotations old, which no grace window
# covers): theft, the whole session is revoked and the cookies are cleared.
request POST /refresh -H "Cookie: refresh_token=$refresh0"
expect "replayed refresh token" 401 refresh_reused
[[ $(set_cookie_line access_token) == *Max-Age=0* ]] && ok || fail "the replay did not clear the cookies"
request GET /api/me -H "Cookie: access_token=$access2"
expect "/api/me after the replay" 401 session_revoked
request POST /refresh -H "Cookie: refresh_token=$refresh2"
expect "the latest refresh token after the replay" 401 session_revoked
request POST /refresh
expect "refresh without a cookie" 401 not_found

# Logout with the access cookie (a bodiless POST), then with the refresh cookie alone.
login
access=$(set_cookie access_token)
refresh=$(set_cookie refresh_token)
request POST /logout -H "Cookie: access_token=$access; refresh_token=$refresh"
expect "logout" 200
[[ $(set_cookie_line access_token) == *Max-Age=0* && $(set_cookie_line refresh_token) == *Max-Age=0* ]] &&
  ok || fail "logout did not clear both cookies"
request GET /api/me -H "Cookie: access_token=$access"
expect "/api/me after logout" 401 session_revoked
request POST /refresh -H "Cookie: refresh_token=$refresh"
expect "refresh after logout" 401 session_revoked
login
access=$(set_cookie access_token)
refresh=$(set_cookie refresh_token)
request POST /logout -H "Cookie: refresh_token=$refresh"
expect "logout with the refresh cookie only" 200
request GET /api/me -H "Cookie: access_token=$access"
expect "/api/me after logout by refresh cookie" 401 session_revoked
request POST /logout
expect "logout without a cookie" 401 not_found

# CSRF: a state-changing request from another site's page is refused before anything happens.
login
access=$(set_cookie access_token)
request POST /logout -H "Cookie: access_token=$access" -H 'Origin: https://evil.example'
expect "logout from another origin" 403 cross_site_request
request POST /logout -H "Cookie: access_token=$access" -H 'Sec-Fetch-Site: cross-site'
expect "logout from a cross-site fetch" 403 cross_site_request
request GET /api/me -H "Cookie: access_token=$access"
expect "/api/me after refused cross-site logouts" 200
request POST /logout -H "Cookie: access_token=$access" -H "Origin: $base"
expect "logout from our own origin" 200

# Requests the server does not serve, each with a JSON error that says why.
request GET /nowhere
expect "unknown path" 404 no_such_endpoint
request GET /login
expect "wrong method" 405 method_not_allowed
head -c 20000 /dev/zero | tr '\0' a >"$work/big"
request POST /login -H 'Content-Type: application/json' --data-binary @"$work/big"
expect "oversized body" 413 payload_too_large
port=${base##*:}
if exec 5<>"/dev/tcp/127.0.0.1/$port"; then
  printf 'GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n' >&5
  raw=$(timeout 5 cat <&5 || true)
  exec 5<&-
  if [[ $raw == "HTTP/1.1 400"* && $raw == *'"error":"malformed_request","message":"bad field"'* ]]; then
    ok
  else
    fail "malformed header line: $raw"
  fi
fi

# The README's curl sequence as written (a cookie jar, bodiless POSTs), on this server's port.
jar="$work/jar"
readme_codes=""
readme_codes+=$(curl -sS -o /dev/null -w '%{http_code} ' -c "$jar" -b "$jar" \
  -H 'Content-Type: application/json' -d "$login_json" "$base/login")
readme_codes+=$(curl -sS -o /dev/null -w '%{http_code} ' -c "$jar" -b "$jar" "$base/api/me")
readme_codes+=$(curl -sS -o /dev/null -w '%{http_code} ' -c "$jar" -b "$jar" -X POST "$base/refresh")
readme_codes+=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -X POST "$base/logout")
[[ $readme_codes == "200 200 200 200" ]] && ok || fail "the README's curl sequence: $readme_codes"

# Keep-alive: several requests on one connection.
codes=$(curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
  "$base/healthz" "$base/healthz" "$base/healthz")
[[ $codes == "200:1 200:0 200:0 " ]] && ok || fail "keep-alive: $codes"

# Concurrency: 50 parallel /api/me and 8 parallel logins, all answered.
login
access=$(set_cookie access_token)
for i in $(seq 1 50); do
  curl -sS -o /dev/null -w '%{http_code}\n' -H "Cookie: access_token=$access" "$base/api/me" \
    >"$work/me$i.status" 2>&1 &
done
for i in $(seq 1 8); do
  curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' -d "$login_json" \
    "$base/login" >"$work/login$i.status" 2>&1 &
done
wait_fails=0
for job in $(jobs -p); do
  [[ " ${pids[*]} " == *" $job "* ]] && continue
  wait "$job" || wait_fails=$((wait_fails + 1))
done
bad=$(cat "$work"/me*.status "$work"/login*.status | grep -cv '^200$' || true)
((bad == 0 && wait_fails == 0)) && ok ||
  fail "concurrent requests: $bad of 58 did not answer 200 ($(sort "$work"/me*.status "$work"/login*.status | uniq -c | tr '\n' ' '))"

# The production build of the cookies: __Host- names, Secure, and only those names are read.
start_server production "$server"
login
expect "production login" 200
line=$(set_cookie_line __Host-access_token)
[[ $line == *"; Secure"* && $line == *HttpOnly* && $line == *"Path=/"* ]] && ok ||
  fail "production access cookie: $line"
[[ -n $(set_cookie __Host-refresh_token) ]] && ok || fail "no __Host-refresh_token cookie"
access=$(set_cookie __Host-access_token)
request GET /api/me -H "Cookie: __Host-access_token=$access"
expect "production /api/me" 200
request GET /api/me -H "Cookie: access_token=$access"
expect "production /api/me with the unprefixed name" 401 not_found

echo "beast.curl: $checks checks, $failures failures"
((failures == 0))
