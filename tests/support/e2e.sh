# tests/support/e2e.sh - what the end-to-end scripts share (tests/e2e/curl_e2e.sh,
# tests/beast/beast_e2e.sh, benchmarks/http_load.sh, tests/docs/*.sh): skipping when a tool is
# missing, starting and stopping the example servers on a free loopback port, and a copy of the
# checkout to run documented commands in. Sourced, never run.
#
# The sourcing script provides $work (a scratch directory), the array pids=() that start_server
# fills and its cleanup stops, and fail() (called when a server does not stop cleanly).

# Whether TEGATA_REQUIRE_E2E turns a missing tool into a failure (as in CI).
required() { [[ "${TEGATA_REQUIRE_E2E:-}" =~ ^(1|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$ ]]; }

# skip WHY: exit 77 (ctest's SKIP_RETURN_CODE), or fail when the test is required.
skip() {
  if required; then echo "FAIL: $1 (TEGATA_REQUIRE_E2E is set)"; exit 1; fi
  echo "SKIP: $1"
  exit 77
}

# start_server NAME BINARY ARGS...: starts BINARY --port 0 ARGS on a free port, its output in
# $work/NAME.out and its log in $work/NAME.log (or nowhere, with E2E_SERVER_LOG=/dev/null: a
# load run would make it grow by megabytes), and sets $base (its origin) and $pid.
start_server() {
  local name=$1 binary=$2
  shift 2
  # Emptied here, before the loop below reads it, not only by the background shell's redirection,
  # which may come later: the loop would read an earlier server's address from a reused name.
  : >"$work/$name.out"
  "$binary" --port 0 "$@" >"$work/$name.out" 2>"${E2E_SERVER_LOG:-$work/$name.log}" &
  pid=$!
  pids+=("$pid")
  for ((i = 0; i < 400; i++)); do
    base=$(sed -n 's|.*listening on \(https\{0,1\}://127\.0\.0\.1:[0-9]*\).*|\1|p' "$work/$name.out")
    [[ -n $base ]] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: $name exited before listening"; exit 1; }
    sleep 0.05
  done
  echo "FAIL: $name did not start within 20 s"
  exit 1
}

# stop_server PID: SIGTERM, then SIGKILL after 5 s; a server that does not exit 0 on SIGTERM is a
# failure (it must shut down cleanly).
stop_server() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  local code=0
  wait "$pid" 2>/dev/null || code=$?
  ((code == 0)) || fail "the server did not stop cleanly on SIGTERM (exit status $code)"
}

# copy_checkout SOURCE: copies the checkout SOURCE to $work/tegata as a commit of it would hold
# it (tests/support/copy_source.cmake: no build/, no node_modules/) and sets $checkout to it. When
# SOURCE has a ../shared (the test vectors), $work/shared points at it, so that the presets'
# ../shared/vectors is found in the copy as in the checkout.
copy_checkout() {
  local source=$1
  checkout="$work/tegata"
  if ! cmake -DSOURCE_DIR="$source" -DDEST="$checkout" \
      -P "$(dirname "${BASH_SOURCE[0]}")/copy_source.cmake" >"$work/copy.log" 2>&1; then
    echo "FAIL: copying $source failed: $(cat "$work/copy.log")"
    exit 1
  fi
  if [[ -d $source/../shared ]]; then
    ln -s "$(cd "$source/../shared" && pwd)" "$work/shared"
  fi
}
