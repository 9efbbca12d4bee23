#!/usr/bin/env bash
# End-to-end test of examples/http_server, driven with curl (ctest: e2e.curl, label e2e).
#
#   curl_e2e.sh --server TEST_CLOCK_BINARY --production-server BINARY
#
# The session flow runs against tegata_http_server_test_clock, whose POST /test/clock moves the
# server's clock forward: expiry is tested without sleeping. The production binary is then checked
# for what differs: no test endpoint, secure cookie names and attributes, --users, --key; and it
# runs the curl commands of examples/http_server/README.md exactly as written there.
# Every server starts on a free loopback port (--port 0, the port read from its first line of
# output) and is always stopped on exit. Cookies are sent by hand (-H "Cookie: ..."), so the test
# decides exactly which token each request carries, old ones included.
# A missing curl makes the test SKIP (exit 77), or FAIL when TEGATA_REQUIRE_E2E is set.
set -euo pipefail

server=""
production=""
while (($#)); do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --production-server) production=$2; shift 2 ;;
    *) echo "usage: $0 --server TEST_CLOCK_BINARY --production-server BINARY" >&2; exit 2 ;;
  esac
done

# shellcheck source=../support/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/e2e.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed (Debian: apt-get install curl)"
for binary in "$server" "$production"; do
  [[ -x $binary ]] || { echo "FAIL: no server binary '$binary'"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tegata-e2e-curl.XXXXXX")
pids=()
failures=0
checks=0
base=""
status=""
body=""

cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do stop_server "$pid" || true; done
  if ((code != 0)); then
    for log in "$work"/*.out "$work"/*.log; do
      [[ -f $log ]] && { echo "--- ${log##*/}"; cat "$log"; }
    done
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that a ctest timeout still stops the servers (through cleanup)

fail() {
  echo "FAIL: $1"
  echo "      status $status, body: ${body:0:300}"
  failures=$((failures + 1))
}

# request METHOD PATH [COOKIE] [BODY [CONTENT_TYPE]]: sets $status and $body, headers in a file.
request() {
  local method=$1 path=$2 cookie=${3:-}
  local args=(-sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" --max-time 30)
  [[ -n $cookie ]] && args+=(-H "Cookie: $cookie")
  if (($# >= 4)); then
    args+=(-H "Content-Type: ${5:-application/json}" --data-binary "$4")
  elif [[ $method == POST ]]; then
    args+=(-H "Content-Length: 0")  # as browsers send a POST without a body
  fi
  status=$(curl "${args[@]}" "$base$path")
  body=$(cat "$work/body")
  checks=$((checks + 1))
  if ((status >= 500)); then fail "$method $path answered $status: never a 5xx"; fi
}

# expect STATUS ERROR WHAT: the last response had this status and, unless ERROR is empty, the
# JSON error name ERROR.
expect() {
  checks=$((checks + 1))
  if [[ $status != "$1" ]]; then
    fail "$3: expected status $1"
  elif [[ -n $2 && $body != *"\"error\":\"$2\""* ]]; then
    fail "$3: expected error $2"
  fi
}

# check WHAT COMMAND...: the command succeeds.
check() {
  local what=$1
  shift
  checks=$((checks + 1))
  "$@" || fail "$what"
}
contains() { [[ $1 == *"$2"* ]]; }
not_in_file() { ! grep -q "$1" "$2"; }
lacks() { [[ $1 != *"$2"* ]]; }
nonempty() { [[ -n $1 ]]; }
# The Set-Cookie line for cookie NAME in the last response, and its value.
set_cookie_line() { grep -i "^set-cookie: $1=" "$work/headers" | tr -d '\r' | tail -n 1 || true; }
set_cookie() { set_cookie_line "$1" | sed -n "s/^[^:]*: $1=\([^;]*\);.*/\1/p"; }
no_set_cookie() { ! grep -qi '^set-cookie:' "$work/headers"; }
header_has() { grep -qi "^$1" "$work/headers"; }

# "remember": true by default, so that the cookies carry Max-Age; json_login USER PASSWORD false
# logs in for this browser session only.
json_login() { printf '{"username":"%s","password":"%s","remember":%s}' "$1" "$2" "${3:-true}"; }
advance() {
  request POST /test/clock "" "{\"advance\":$1}"
  expect 200 "" "the test clock advances"
}
# login USER PASSWORD [ACCESS_NAME REFRESH_NAME]: sets $access and $refresh.
# jwt_kid TOKEN: the "kid" member of a compact JWS's header, as "kid":"..."
jwt_kid() {
  local header=${1%%.*}
  header=$(tr '_-' '/+' <<<"$header")
  while ((${#header} % 4)); do header+='='; done
  base64 -d <<<"$header" 2>/dev/null | grep -o '"kid":"[^"]*"'
}

login() {
  request POST /login "" "$(json_login "$1" "$2")"
  expect 200 "" "$1 logs in"
  access=$(set_cookie "${3:-access_token}")
  refresh=$(set_cookie "${4:-refresh_token}")
  check "login sets the access cookie" nonempty "$access"
  check "login sets the refresh cookie" nonempty "$refresh"
}

# =============================================================================================
echo "== test-clock server, --insecure-http, access 60 s, refresh 600 s"
start_server clock "$server" --insecure-http --access-ttl 60 --refresh-ttl 600

echo "-- the page, its script, the keys"
request GET /
expect 200 "" "GET / serves the page"
check "the page forbids inline script" header_has "content-security-policy: default-src 'none'; script-src 'self'"
check "the page has the login form" contains "$body" '<form id="login">'
request GET /app.js
expect 200 "" "GET /app.js"
check "the script sends cookies same-origin only" contains "$body" "credentials: 'same-origin'"
request GET /.well-known/jwks.json
expect 200 "" "GET /.well-known/jwks.json"
check "the JWKS holds the ES256 key" contains "$body" '"alg":"ES256"'
check "the JWKS holds no private part" lacks "$body" '"d":'

echo "-- malformed requests: 400; wrong credentials: 401"
request POST /login "" '{"username":"alice"'
expect 400 malformed_body "truncated JSON"
request POST /login "" '["alice","wonderland"]'
expect 400 malformed_body "a JSON array"
request POST /login "" '{"username":"alice","password":7}'
expect 400 malformed_body "a number as password"
request POST /login "" '{"username":"alice"}'
expect 400 malformed_body "no password"
request POST /login "" "$(json_login alice wonderland)" text/plain
expect 400 malformed_body "a JSON body sent as text/plain"
request POST /login "" "$(json_login alice "$(printf 'x%.0s' {1..1100})")"
expect 400 malformed_body "a 1100-byte password"
request POST /login "" "$(head -c 20000 /dev/zero | tr '\0' 'a')"
expect 413 payload_too_large "a 20 KB body"
request POST /login "" "$(json_login alice wrong)"
expect 401 invalid_credentials "a wrong password"
request POST /login "" "$(json_login mallory wonderland)"
expect 401 invalid_credentials "an unknown user"
request POST /login "" "$(json_login 'a b' wonderland)"
expect 401 invalid_credentials "a username that cannot exist"
request GET /nowhere
expect 404 no_such_endpoint "an unknown path"
# raw_request EXPECTED_STATUS WHAT CURL_ARGS...: a request whose headers the test writes itself.
raw_request() {
  local expected=$1 what=$2
  shift 2
  status=$(curl -sS -o "$work/body" -w '%{http_code}' --max-time 30 "$@")
  body=$(cat "$work/body")
  expect "$expected" "" "$what"
}
# Each 400 says what was wrong (a non-empty message), and none waits for a read timeout.
raw_request 400 "Transfer-Encoding other than chunked" -X POST -H 'Transfer-Encoding: x' "$base/logout"
check "... is refused with a message" contains "$body" '"message":"Transfer-Encoding must be chunked'
raw_request 400 "a Content-Length that is not a number" -X POST -H 'Content-Length: abc' "$base/logout"
check "... is refused with a message" contains "$body" '"message":"Content-Length must be a decimal'
raw_request 400 "two Content-Length fields" -X POST -H 'Content-Length: 0' -H 'Content-Length: 0' \
  "$base/logout"
check "... is refused with a message" contains "$body" '"message":"a request may have one Content-Length'
raw_request 400 "Content-Length and Transfer-Encoding together" -X POST \
  -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' "$base/logout"
check "... is refused with a message" contains "$body" '"message":"a request may not have both'
raw_request 400 "a chunked body that is not JSON" -X POST -H 'Transfer-Encoding: chunked' \
  -H 'Content-Type: application/json' --data-binary 'zz' "$base/login"
check "... reaches the handler, which says what was wrong" contains "$body" '"message":"expected {'
# What curl cannot send: bytes written to the socket by bash itself.
wire_request() {
  local port=${base##*:}
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$1" >&3
  body=$(timeout 30 cat <&3 | tr -d '\r')
  exec 3<&-
  status=$(head -n 1 <<<"$body" | cut -d ' ' -f 2)
  body=$(tail -n 1 <<<"$body")
  checks=$((checks + 1))
}
wire_request 'NOT HTTP\r\nConnection: close\r\n\r\n'
expect 400 malformed_request "a request line that is not HTTP"
check "... says what was wrong" contains "$body" '"message":"the request line or a header field is malformed"'
wire_request 'POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'
expect 400 malformed_request "a body that is not valid chunked coding"
check "... says what was wrong" contains "$body" '"message":"the request body could not be read'

echo "-- a POST without a body: neither Content-Length nor Transfer-Encoding (curl -X POST)"
# RFC 9112 §6.3: such a request has an empty body. cpp-httplib alone waited for the connection to
# close (its 5 s read timeout) and then answered 400 with an empty message.
raw_request 401 "POST /refresh without a body or a cookie" -X POST "$base/refresh"
check "... reaches the handler: no cookie" contains "$body" '"error":"not_found"'
raw_request 401 "POST /logout without a body or a cookie" -X POST "$base/logout"
check "... reaches the handler: no cookie" contains "$body" '"error":"not_found"'
raw_request 404 "POST to an unknown path without a body" -X POST "$base/nowhere"
check "... names the error" contains "$body" '"error":"no_such_endpoint"'
raw_request 404 "PUT without a body" -X PUT "$base/login"

echo "-- CSRF: a state-changing request from another origin: 403 before any route runs"
# post_from ORIGIN_HEADERS...: POST /logout-all with the given headers (no cookie).
post_from() {
  status=$(curl -sS -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Length: 0' "$@" \
    --max-time 30 "$base/logout-all")
  body=$(cat "$work/body")
}
post_from -H "Origin: https://evil.example"
expect 403 cross_site_request "Origin of another site"
post_from -H "Origin: null"
expect 403 cross_site_request "Origin: null (a sandboxed frame, a file: page)"
post_from -H "Origin: ${base/127.0.0.1/localhost}"
expect 403 cross_site_request "localhost is another origin than 127.0.0.1"
post_from -H "Sec-Fetch-Site: cross-site"
expect 403 cross_site_request "Sec-Fetch-Site: cross-site without Origin"
post_from -H "Origin: $base" -H "Origin: https://evil.example"
expect 403 cross_site_request "two Origin headers"
post_from -H "Origin: $base"
expect 401 not_found "the server's own origin passes the check (and then needs a session)"
post_from -H "Sec-Fetch-Site: same-origin"
expect 401 not_found "Sec-Fetch-Site: same-origin passes"

echo "-- login"
login alice wonderland
check "the body carries no token" lacks "$body" "$access"
check "the body names the user" contains "$body" '"subject":"alice"'
line=$(set_cookie_line access_token)
check "access cookie: Path=/, Max-Age, HttpOnly, SameSite=Strict, no Secure (insecure mode)" \
  contains "$line" "; Path=/; Max-Age=60; HttpOnly; SameSite=Strict"
line=$(set_cookie_line refresh_token)
check "refresh cookie: Path=/ (a __Host- cookie in production), read by /refresh only" \
  contains "$line" "; Path=/; Max-Age=600; HttpOnly; SameSite=Strict"

echo "-- GET /api/me"
request GET /api/me "theme=dark; access_token=$access"
expect 200 "" "the access token works"
check "me names alice" contains "$body" '"subject":"alice"'
check "me carries the extra claims" contains "$body" '"amr":["pwd"]'
request GET /api/me
expect 401 not_found "no cookie"
request GET /api/me "access_token=not-a-token"
expect 401 malformed "a cookie that is not a JWS"
# One character well inside the signature (the last one also carries padding bits, and changing
# those makes the segment non-canonical: bad_encoding, not bad_signature).
at=$((${#access} - 10))
if [[ ${access:at:1} == A ]]; then swap=B; else swap=A; fi
request GET /api/me "access_token=${access:0:at}$swap${access:at+1}"
expect 401 bad_signature "a tampered signature"
request GET /api/me "access_token=$refresh"
expect 401 wrong_type "the refresh token in the access cookie"
request GET /api/me "access_token=$access; access_token=$access"
expect 400 invalid_argument "two access cookies"

echo "-- expiry handled by refresh"
advance 61
request GET /api/me "access_token=$access"
expect 401 expired "the access token after 61 s"
request POST /refresh "refresh_token=$access"
expect 401 wrong_type "the access token in the refresh cookie"
request POST /refresh "refresh_token=$refresh"
expect 200 "" "the refresh token rotates"
old_refresh=$refresh
access=$(set_cookie access_token)
refresh=$(set_cookie refresh_token)
check "refresh sets a new refresh token" nonempty "$refresh"
check "the new refresh token differs" test "$refresh" != "$old_refresh"
request GET /api/me "access_token=$access"
expect 200 "" "the new access token works"

echo "-- theft: replaying the used refresh token revokes the session"
# Beyond reuse_grace (10 s): within it, the replay would get a pair on the same chain.
advance 11
request POST /refresh "refresh_token=$old_refresh"
expect 401 refresh_reused "the used refresh token again"
check "a failed refresh clears the refresh cookie" \
  contains "$(set_cookie_line refresh_token)" "refresh_token=; Path=/; Max-Age=0"
request POST /refresh "refresh_token=$refresh"
expect 401 session_revoked "the newest refresh token of the stolen session"
request GET /api/me "access_token=$access"
expect 401 session_revoked "the newest access token of the stolen session"

echo "-- remember me: a login without it gets session cookies, and every rotation keeps them so"
request POST /login "" "$(json_login alice wonderland false)"
expect 200 "" "a login without remember me"
for name in access_token refresh_token; do
  check "without remember me: the $name cookie has no Max-Age" lacks "$(set_cookie_line $name)" "Max-Age"
done
refresh=$(set_cookie refresh_token)
advance 61
request POST /refresh "refresh_token=$refresh"
expect 200 "" "the browser-session login refreshes"
for name in access_token refresh_token; do
  check "after a refresh: the $name cookie still has no Max-Age" lacks "$(set_cookie_line $name)" "Max-Age"
done

echo "-- logout"
request POST /logout
expect 401 not_found "logout without a cookie"
check "a logout that can be retried keeps the cookies" no_set_cookie
login alice wonderland
request POST /logout "access_token=$access"
expect 200 "" "logout"
check "logout clears the access cookie" \
  contains "$(set_cookie_line access_token)" "access_token=; Path=/; Max-Age=0; HttpOnly"
check "logout clears the refresh cookie" \
  contains "$(set_cookie_line refresh_token)" "refresh_token=; Path=/; Max-Age=0; HttpOnly"
request GET /api/me "access_token=$access"
expect 401 session_revoked "the access token after logout"
request POST /refresh "refresh_token=$refresh"
expect 401 session_revoked "the refresh token after logout"
echo "-- logout with either cookie"
login alice wonderland
request POST /logout "refresh_token=$refresh"
expect 200 "" "logout with the refresh cookie only"
check "... clears the access cookie" contains "$(set_cookie_line access_token)" "access_token=; Path=/; Max-Age=0"
check "... clears the refresh cookie" contains "$(set_cookie_line refresh_token)" "refresh_token=; Path=/; Max-Age=0"
request POST /refresh "refresh_token=$refresh"
expect 401 session_revoked "the refresh token after a logout with the refresh cookie only"
request GET /api/me "access_token=$access"
expect 401 session_revoked "the access token after a logout with the refresh cookie only"
login alice wonderland
advance 61
request POST /logout "access_token=$access; refresh_token=$refresh"
expect 200 "" "logout with an expired access token and the refresh cookie"
request POST /refresh "refresh_token=$refresh"
expect 401 session_revoked "... ended the session: a later refresh fails"
login alice wonderland
request POST /logout "access_token=not-a-token; refresh_token=$refresh"
expect 200 "" "logout with a broken access cookie and the refresh cookie"
request POST /refresh "refresh_token=$refresh"
expect 401 session_revoked "... ended the session"
login alice wonderland
request POST /logout "refresh_token=$refresh; refresh_token=$refresh"
expect 400 invalid_argument "logout with two refresh cookies and no access cookie"
request POST /refresh "refresh_token=$refresh"
expect 200 "" "... ended nothing"
request POST /logout "refresh_token=not-a-token"
expect 401 malformed "logout with a refresh cookie that is not a token"
check "... clears the cookies, which can never work" contains "$(set_cookie_line refresh_token)" "Max-Age=0"

echo "-- log out everywhere"
login alice wonderland
first_access=$access
login alice wonderland
second_access=$access
second_refresh=$refresh
request POST /logout-all "access_token=$first_access"
expect 200 "" "logout-all from the first session"
request GET /api/me "access_token=$second_access"
expect 401 version_mismatch "the other session's access token"
request POST /refresh "refresh_token=$second_refresh"
expect 401 version_mismatch "the other session's refresh token"
request POST /logout-all "access_token=$first_access"
expect 401 version_mismatch "logout-all again with the same token"
login alice wonderland
request GET /api/me "access_token=$access"
expect 200 "" "a new login works after logout-all"

stop_server "$pid"

# =============================================================================================
echo "== production server, default (secure) cookies"
start_server production "$production"
request POST /test/clock "" '{"advance":61}'
expect 404 no_such_endpoint "the production binary has no test clock"
login alice wonderland __Host-access_token __Host-refresh_token
check "access cookie: __Host- prefix, Secure" contains "$(set_cookie_line __Host-access_token)" \
  "; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict"
check "refresh cookie: __Host- prefix, so no sibling subdomain can plant it, Secure" \
  contains "$(set_cookie_line __Host-refresh_token)" \
  "; Path=/; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict"
request GET /api/me "__Host-access_token=$access"
expect 200 "" "the prefixed cookie works"
request GET /api/me "access_token=$access"
expect 401 not_found "a cookie under the bare name (as another host could plant it) is not read"
request POST /refresh "__Host-refresh_token=$refresh"
expect 200 "" "refresh with the prefixed cookie"
ephemeral_access=$access  # signed by a key that only this process had
stop_server "$pid"
check "without --key, a warning: the key is for this process only" \
  grep -q "warning: no --key, so tokens are signed with a key made for this process only" \
  "$work/production.log"
check "... and how to make one" grep -q "tegata keygen --alg ES256 --out key.pem" \
  "$work/production.log"

echo "== the curl sequence of examples/http_server/README.md, as written"
# Taken from the README at run time, so that the test runs what users copy: the ```sh block whose
# first line starts with "curl -c jar". Only the address changes (the server is on a free port),
# and curl is wrapped to end each answer with a newline, one line per command.
readme="$(dirname "${BASH_SOURCE[0]}")/../../examples/http_server/README.md"
block=$(awk '/^```sh$/ { inside = 1; text = ""; next }
             /^```$/ { if (inside && text ~ /^curl -c jar/) { printf "%s", text; exit } inside = 0; next }
             inside { text = text $0 "\n" }' "$readme")
check "the README has the curl block" contains "$block" "curl -c jar -b jar -X POST http://127.0.0.1:8080/refresh"
start_server readme "$production" --insecure-http
mkdir "$work/readme"
answers=$(cd "$work/readme" &&
  bash -euo pipefail -c 'curl() { command curl "$@" && echo; }'$'\n'"${block//http:\/\/127.0.0.1:8080/$base}" 2>"$work/readme.stderr") ||
  fail "the README's curl commands failed: $(cat "$work/readme.stderr")"
mapfile -t answer <<<"$answers"
body=$answers
check "README: four commands, four answers" test "${#answer[@]}" -eq 4
check "README: login" contains "${answer[0]:-}" '"subject":"alice"}'
check "README: GET /api/me" contains "${answer[1]:-}" '"claims":{"amr":["pwd"]}'
check "README: POST /refresh without a body rotates the pair" contains "${answer[2]:-}" '"refresh_expires_at":'
check "README: POST /logout without a body ends the session" test "${answer[3]:-}" == '{"logged_out":true}'
check "README: no answer is an error" lacks "$answers" '"error"'
# Whatever is left in the jar no longer works. (curl 7.88 keeps one of two cookies that one
# response clears with Max-Age=0, so the jar may still hold the revoked access token.)
raw_request 401 "README: the jar after the logout" -b "$work/readme/jar" "$base/api/me"
stop_server "$pid"

echo "== --users FILE and --hash-password"
printf 'correct horse battery\n' | "$production" --hash-password bob >"$work/users"
check "--hash-password prints one users file line" \
  grep -Eq '^bob:pbkdf2-sha256:600000:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$' "$work/users"
printf '# users of the e2e test\n\n' | cat - "$work/users" >"$work/users.txt"
start_server users "$production" --insecure-http --users "$work/users.txt"
request POST /login "" "$(json_login alice wonderland)"
expect 401 invalid_credentials "the demo user is gone with --users"
login bob "correct horse battery"
stop_server "$pid"
printf 'bob:pbkdf2-sha256:1000:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n' \
  >"$work/weak.txt"
if timeout 20 "$production" --port 0 --users "$work/weak.txt" >"$work/weak.out" 2>&1; then
  fail "a users file with 1000 iterations is refused"
else
  check "the refusal names the line" grep -q 'line 1' "$work/weak.out"
fi

if command -v openssl >/dev/null 2>&1; then
  echo "== --key FILE and --store sqlite:PATH: a restart keeps the key and the sessions"
  for type in EC ED25519; do
    if [[ $type == EC ]]; then
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null
      alg=ES256
    else
      openssl genpkey -algorithm ED25519 -out "$work/key.pem" 2>/dev/null
      alg=EdDSA
    fi
    chmod 600 "$work/key.pem"
    jwks=()
    for run in 1 2; do
      start_server "key-$type-$run" "$production" --insecure-http --key "$work/key.pem" \
        --store "sqlite:$work/sessions-$type.db"
      check "$type key, run $run: no warning" not_in_file "warning" "$work/key-$type-$run.log"
      request GET /.well-known/jwks.json
      jwks+=("$body")
      if ((run == 1)); then
        login alice wonderland
        out_access=$access
        request POST /logout "access_token=$out_access"
        expect 200 "" "$alg: a session logged out before the restart"
        login alice wonderland
        before_access=$access
        before_refresh=$refresh
      else
        request GET /api/me "access_token=$before_access"
        expect 200 "" "$alg: an access token issued before the restart verifies after it"
        request POST /refresh "refresh_token=$before_refresh"
        expect 200 "" "$alg: a refresh token issued before the restart rotates after it"
        request GET /api/me "access_token=$(set_cookie access_token)"
        expect 200 "" "$alg: the pair issued after the restart works"
        request GET /api/me "access_token=$out_access"
        expect 401 session_revoked "$alg: a logout before the restart still holds after it"
        request GET /api/me "access_token=$ephemeral_access"
        expect 401 unknown_key "$alg: a token of a server with another key is refused"
      fi
      stop_server "$pid"
    done
    check "$type key: the JWKS names $alg" contains "${jwks[0]}" "\"alg\":\"$alg\""
    check "$type key: the JWKS is the same after a restart" test "${jwks[0]}" == "${jwks[1]}"
  done

  echo "== key rotation across two servers (docs/guide.md): add, wait for all, promote, retire"
  for name in old new; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$name.pem" 2>/dev/null
  done
  openssl pkey -in "$work/new.pem" -pubout -out "$work/new.pub.pem" 2>/dev/null
  # start_on NAME ARGS...: a server whose address and process are kept under NAME; on NAME: the
  # requests that follow go to it; restart_on NAME ARGS...: stopped and started with ARGS.
  declare -A bases server_pids
  starts=0
  start_on() {
    local name=$1
    shift
    starts=$((starts + 1))
    start_server "rotation-$starts-$name" "$production" --insecure-http "$@"
    bases[$name]=$base
    server_pids[$name]=$pid
  }
  on() { base=${bases[$1]}; }
  restart_on() {
    local name=$1
    stop_server "${server_pids[$name]}"
    start_on "$@"
  }
  # Both servers share their sessions through one SQLite file, as servers on one host may.
  store=(--store "sqlite:$work/rotation.db")
  start_on a --key "$work/old.pem" "${store[@]}"
  start_on b --key "$work/old.pem" "${store[@]}"
  on a && login alice wonderland
  old_access=$access
  old_refresh=$refresh
  login alice wonderland
  on b && request POST /logout "access_token=$access"
  expect 200 "" "a session of server a logged out on server b"
  sleep 1.2  # docs/sqlite.md: another process's logout is seen within the cache's 1 s
  on a && request GET /api/me "access_token=$access"
  expect 401 session_revoked "... is logged out on server a too: one file, one session state"
  # 1. The new key, verify-only, on every server (a public key is enough for that).
  restart_on a --key "$work/old.pem" --verify-key "$work/new.pub.pem" "${store[@]}"
  restart_on b --key "$work/old.pem" --verify-key "$work/new.pem" "${store[@]}"
  on a && request GET /.well-known/jwks.json
  check "step 1: the JWKS publishes both keys" test "$(grep -o '"kid"' <<<"$body" | wc -l)" -eq 2
  # 2. Every server has it: 3. promote it on each in turn.
  restart_on b --key "$work/new.pem" --verify-key "$work/old.pem" "${store[@]}"
  on b && login alice wonderland
  new_access=$access
  on a && request GET /api/me "access_token=$new_access"
  expect 200 "" "step 3, half done: a token of the new key works on a server that has not promoted it"
  request GET /api/me "access_token=$old_access"
  expect 200 "" "... and the old key's tokens work everywhere"
  on b && request GET /api/me "access_token=$old_access"
  expect 200 "" "... on the promoted server too"
  restart_on a --key "$work/new.pem" --verify-key "$work/old.pem" "${store[@]}"
  request POST /refresh "refresh_token=$old_refresh"
  expect 200 "" "step 3 done: a refresh token of the old key rotates to the new key"
  rotated_access=$(set_cookie access_token)
  check "... and the new pair is signed with the new key" \
    test "$(jwt_kid "$rotated_access")" == "$(jwt_kid "$new_access")"
  # 4. After the longest token lifetime, retire the old key everywhere.
  restart_on a --key "$work/new.pem" "${store[@]}"
  request GET /api/me "access_token=$old_access"
  expect 401 unknown_key "step 4: the retired key's tokens are refused"
  request GET /api/me "access_token=$rotated_access"
  expect 200 "" "... the tokens of the new key are not"
  request GET /api/me "access_token=$new_access"
  expect 200 "" "... wherever they were issued"
  stop_server "${server_pids[a]}"
  stop_server "${server_pids[b]}"
  # Without step 2: a server that does not know the new key yet logs its users out.
  start_on c --key "$work/old.pem"
  request GET /api/me "access_token=$new_access"
  expect 401 unknown_key "skipping step 2: a server without the new key refuses its tokens"
  stop_server "$pid"
  if timeout 20 "$production" --port 0 --key "$work/new.pub.pem" >"$work/public.out" 2>&1; then
    fail "a public key is refused as --key"
  else
    check "a public key as --key: the refusal says so" grep -q "holds a public key" "$work/public.out"
  fi
  chmod 644 "$work/key.pem"
  start_server key-readable "$production" --insecure-http --key "$work/key.pem"
  stop_server "$pid"
  check "a key file that others can read: a warning" grep -q "readable by other users" \
    "$work/key-readable.log"
  if timeout 20 "$production" --port 0 --key "$work/no-such-key.pem" >"$work/nokey.out" 2>&1; then
    fail "a --key file that does not exist is refused"
  else
    check "a missing key file: the refusal says how to make one" \
      grep -q "tegata keygen --alg ES256 --out $work/no-such-key.pem" "$work/nokey.out"
    check "... and no key file was made" test ! -e "$work/no-such-key.pem"
  fi
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/p384.pem" 2>/dev/null
  if timeout 20 "$production" --port 0 --key "$work/p384.pem" >"$work/p384.out" 2>&1; then
    fail "a P-384 key is refused for ES256"
  fi
else
  echo "(openssl not installed: the --key checks are skipped)"
fi

echo
if ((failures > 0)); then
  echo "FAILED: $failures of $checks checks"
  exit 1
fi
echo "PASSED: $checks checks"
