#!/usr/bin/env bash
# docs.server_blocks (labels docs;e2e): the blocks that build and run the example servers, run
# as a user copies them, in a fresh copy of the checkout.
#
#   server_blocks.sh --source CHECKOUT --work SCRATCH --http 0|1 --beast 0|1 --block NAME=FILE...
#
# CHECKOUT is copied to SCRATCH/tegata as a commit of it would hold it, with SCRATCH/shared
# pointing at CHECKOUT's ../shared when there is one, so that the dev preset's ../shared/vectors
# is found as in the checkout (copy_checkout, tests/support/e2e.sh). Every block runs in the
# copy, in this order (NAME: where the block is):
#   run_server          README.md "Run the first with": its commands, then the server; the page
#                       answers and the user its comment names logs in with the password it gives
#   http_server_build   examples/http_server/README.md "Build and run", then the server
#   http_server_curl    ... its curl commands against that server: four answers, none an error,
#                       the last one the logout
#   beast_server_build  examples/beast_server/README.md "Build and run", then the server
#   beast_server_curl   ... its curl commands against that server, checked the same way
# A build block is its lines in order, each run with bash -euo pipefail in the copy; its last
# command line starts the server and is started in the background, then stopped with SIGTERM
# (which must end it with status 0). What differs from a user's terminal, and why:
#   - `--port 8080` becomes a free port (--port 0, the port read from the server's first line),
#     so that nothing else on the machine collides with the test, and the curl commands'
#     http://127.0.0.1:8080 becomes that server's origin. The test fails if a block does not
#     use 8080, so the substitution cannot silently do nothing;
#   - `sudo apt-get install PACKAGE...` runs as `apt-get install --simulate PACKAGE...`, which
#     needs no root and installs nothing but fails for a package Debian does not have: a test
#     must not install system packages (CI's tools/install-deps.sh installed them). Where there
#     is no apt-get (not Debian), the line is skipped, saying so;
#   - each curl command's answer is followed by a newline, so that the answers can be told apart.
# A server whose example this build could not build (--http 0: no cpp-httplib; --beast 0: no
# Boost) skips its blocks with a message: the test then SKIPs (exit 77) after running the others,
# or FAILs when TEGATA_REQUIRE_E2E is set (as CI does). So does a missing curl.
set -euo pipefail

source_dir=""
work=""
have_http=0
have_beast=0
declare -A block
while (($#)); do
  case "$1" in
    --source) source_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --http) have_http=$2; shift 2 ;;
    --beast) have_beast=$2; shift 2 ;;
    --block) block[${2%%=*}]=${2#*=}; shift 2 ;;
    *) echo "usage: $0 --source DIR --work DIR --http 0|1 --beast 0|1 --block NAME=FILE..." >&2
       exit 2 ;;
  esac
done
for name in run_server http_server_build http_server_curl beast_server_build beast_server_curl; do
  [[ -f ${block[$name]:-} ]] || { echo "FAIL: no block file for $name"; exit 2; }
done

# shellcheck source=../support/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/e2e.sh"
command -v curl >/dev/null 2>&1 || skip "curl is not installed (Debian: apt-get install curl)"

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
pids=()
failures=0
skipped=()
base=""

cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do stop_server "$pid" || true; done
  if ((code != 0 && code != 77)); then
    for log in "$work"/*.out "$work"/*.log; do
      [[ -f $log ]] && { echo "--- ${log##*/}"; tail -n 40 "$log"; }
    done
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that a ctest timeout still stops the servers (through cleanup)

fail() {
  echo "FAIL: $1"
  failures=$((failures + 1))
}
# stop WHY: a failure after which the story cannot go on.
stop() {
  echo "FAIL: $1"
  exit 1
}

# --- A copy of the checkout ---------------------------------------------------------------------
copy_checkout "$source_dir"
cd "$checkout"

# What the block's `sudo` does here (see the top of this file).
cat >"$work/prelude.sh" <<'EOF'
sudo() {
  if (($# < 3)) || [[ $1 != apt-get || $2 != install ]]; then
    echo "the block runs 'sudo $*': this test knows only 'sudo apt-get install PACKAGE...'" >&2
    return 1
  fi
  shift 2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "(no apt-get here, this is not Debian: 'apt-get install $*' is not checked)"
    return 0
  fi
  echo "(as apt-get install --simulate $*)"
  apt-get install --simulate "$@"
}
EOF

# run_build_block NAME: runs the block's commands, then starts its server; sets $base and $pid.
run_build_block() {
  local name=$1 file=${block[$1]}
  local lines=() line
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line == *\\ ]] && stop "$name: a continued line, which this test does not split: $line"
    lines+=("$line")
  done <"$file"
  ((${#lines[@]} >= 2)) || stop "$name: expected commands, then the server: $(cat "$file")"
  local server_line=${lines[-1]}
  unset 'lines[-1]'
  echo "-- $name"
  for line in "${lines[@]}"; do
    echo "\$ $line"
    if ! bash -euo pipefail -c "source '$work/prelude.sh'"$'\n'"$line" >"$work/$name.step" 2>&1; then
      tail -n 60 "$work/$name.step"
      stop "$name: '$line' failed"
    fi
    # What the simulated install said (short); the build's output only on failure.
    [[ $line == sudo* ]] && sed 's/^/   /' "$work/$name.step"
    cat "$work/$name.step" >>"$work/$name.log"
  done
  # The server: plain words only, so that splitting it here is what the shell does.
  [[ $server_line =~ ^[A-Za-z0-9_./=\ -]+$ ]] || stop "$name: the server line has shell syntax: $server_line"
  local words=() args=() i
  read -ra words <<<"$server_line"
  [[ ${words[0]} == build/dev/examples/* ]] ||
    stop "$name: the last command does not start an example server: $server_line"
  local ports=0
  for ((i = 1; i < ${#words[@]}; i++)); do
    if [[ ${words[i]} == --port && ${words[i + 1]:-} == 8080 ]]; then
      ports=$((ports + 1))
      i=$((i + 1))
    else
      args+=("${words[i]}")
    fi
  done
  ((ports == 1)) || stop "$name: the server line does not say --port 8080 once: $server_line"
  echo "\$ $server_line   (on a free port instead of 8080)"
  [[ -x ${words[0]} ]] || stop "$name: the block built no ${words[0]}"
  start_server "$name" "${words[0]}" "${args[@]}"
  echo "   listening on $base"
}

# run_curl_block NAME: the block's commands against $base, in a directory of their own (the
# cookie jar); four answers, none an error, the last one the logout.
run_curl_block() {
  local name=$1 text
  text=$(cat "${block[$1]}")
  [[ $text == *http://127.0.0.1:8080/* ]] || stop "$name: the commands do not use http://127.0.0.1:8080"
  echo "-- $name"
  printf '%s\n' "$text"
  mkdir "$work/$name"
  local answers
  if ! answers=$(cd "$work/$name" &&
    bash -euo pipefail -c 'curl() { command curl "$@" && echo; }'$'\n'"${text//http:\/\/127.0.0.1:8080/$base}" \
      2>"$work/$name.log"); then
    fail "$name: a command failed: $(cat "$work/$name.log")"
    return
  fi
  printf '%s\n' "$answers" | sed 's/^/   /'
  local answer=()
  mapfile -t answer <<<"$answers"
  local commands
  commands=$(grep -c '^curl ' "${block[$1]}")
  ((${#answer[@]} == commands)) || fail "$name: $commands commands, ${#answer[@]} answers"
  [[ $answers != *'"error"'* ]] || fail "$name: an answer is an error"
  [[ ${answer[0]:-} == *'"subject":"alice"'* ]] || fail "$name: the login does not answer alice"
  [[ ${answer[-1]:-} == '{"logged_out":true}' ]] || fail "$name: the last answer is not the logout"
}

# story NAME HAVE WHY: whether this build could build the story's server; if not, skip it.
story() {
  if (($2)); then return 0; fi
  required && stop "$1: $3 (TEGATA_REQUIRE_E2E is set)"
  echo "SKIP: $1: $3"
  skipped+=("$1")
  return 1
}

echo "== in a copy of the checkout: $checkout"
httplib_missing="cpp-httplib was not found at configure time (Debian: apt-get install libcpp-httplib-dev)"
if story "README.md's server" "$have_http" "$httplib_missing"; then
  run_build_block run_server
  # "# then open http://127.0.0.1:8080/ and log in as alice / wonderland"
  said='open http://127\.0\.0\.1:8080/ and log in as ([a-z]+) / ([a-z]+)'
  [[ $(cat "${block[run_server]}") =~ $said ]] ||
    stop "run_server: the comment no longer says where to log in, and as whom"
  user=${BASH_REMATCH[1]}
  password=${BASH_REMATCH[2]}
  page=$(curl -sS --max-time 30 "$base/")
  [[ $page == *'<form id="login">'* ]] || fail "run_server: $base/ does not serve the login page"
  status=$(curl -sS -o "$work/login.body" -D "$work/login.headers" -w '%{http_code}' --max-time 30 \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$password\"}" "$base/login")
  [[ $status == 200 ]] || fail "run_server: logging in as $user / $password answered $status: $(cat "$work/login.body")"
  grep -qi '^set-cookie: access_token=' "$work/login.headers" ||
    fail "run_server: the login set no access cookie"
  echo "   GET / serves the page; $user / $password logs in"
  stop_server "$pid"
fi

if story "examples/http_server/README.md" "$have_http" "$httplib_missing"; then
  run_build_block http_server_build
  run_curl_block http_server_curl
  stop_server "$pid"
fi

if story "examples/beast_server/README.md" "$have_beast" \
  "Boost >= 1.74 was not found at configure time (Debian: apt-get install libboost-dev)"; then
  run_build_block beast_server_build
  run_curl_block beast_server_curl
  stop_server "$pid"
fi

echo
if ((failures > 0)); then
  echo "FAILED: $failures check(s)"
  exit 1
fi
if ((${#skipped[@]} > 0)); then
  echo "SKIP: not run: ${skipped[*]}"
  exit 77
fi
echo "PASSED: every block ran as printed"
