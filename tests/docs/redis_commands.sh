#!/usr/bin/env bash
# docs.redis_commands (labels docs;e2e): docs/redis.md's commands for the Redis tests and
# benchmark, run as printed in a fresh copy of the checkout.
#
#   redis_commands.sh --source CHECKOUT --work SCRATCH --redis 0|1 --bench 0|1 --block FILE
#
# The block assumes what README.md's test workflow leaves behind, a built build/dev. Its
# cheapest honest equivalent comes first, in the copy (copy_checkout, tests/support/e2e.sh):
# `cmake --preset dev`, then a -j2 build of the two targets the block runs, tegata_redis_tests
# (with its peer) and tegata_redis_bench. Then every line of the block runs, in order, with
# bash -euo pipefail in the copy, exactly as printed: a daemonized redis-server on port 6399, the
# copy's own ctest -L redis against it (its own build tree, so it touches nothing of this
# build's ctest run), and the benchmark, which must report no error. The Redis the block starts
# is always shut down at the end (SHUTDOWN NOSAVE on port 6399).
# Port 6399 is the block's own: the test fails at once, saying so, when something already
# listens there. Without tegata::redis (no hiredis), Google Benchmark, redis-server or
# redis-cli, the test SKIPs (exit 77) with a message, or FAILs when TEGATA_REQUIRE_REDIS or
# TEGATA_REQUIRE_E2E is set (as CI does).
# Not labelled redis on purpose: the block runs `ctest -L redis` in the copy, which would run this
# test again there.
set -euo pipefail

source_dir=""
work=""
have_redis=0
have_bench=0
block_file=""
while (($#)); do
  case "$1" in
    --source) source_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --redis) have_redis=$2; shift 2 ;;
    --bench) have_bench=$2; shift 2 ;;
    --block) block_file=$2; shift 2 ;;
    *) echo "usage: $0 --source DIR --work DIR --redis 0|1 --bench 0|1 --block FILE" >&2; exit 2 ;;
  esac
done
[[ -f $block_file ]] || { echo "FAIL: no block file '$block_file'"; exit 2; }

# shellcheck source=../support/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/e2e.sh"
# TEGATA_REQUIRE_REDIS, as the Redis tests read it, also turns a skip into a failure.
if [[ "${TEGATA_REQUIRE_REDIS:-}" =~ ^(1|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$ ]]; then
  export TEGATA_REQUIRE_E2E=ON
fi
((have_redis)) || skip "tegata::redis was not built: hiredis was not found at configure time (Debian: apt-get install libhiredis-dev)"
((have_bench)) || skip "tegata_redis_bench was not built: Google Benchmark was not found at configure time (Debian: apt-get install libbenchmark-dev)"
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (Debian: apt-get install redis-server)"
done

port=6399
if redis-cli -p "$port" ping >/dev/null 2>&1 || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "FAIL: something already listens on 127.0.0.1:$port, the port docs/redis.md's block uses"
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
started=0
cleanup() {
  local code=$?
  if ((started)); then
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

copy_checkout "$source_dir"
cd "$checkout"

echo "== in a copy of the checkout: $checkout"
echo "-- what the block assumes: a configured and built build/dev (the two targets it runs)"
for command in "cmake --preset dev" \
  "cmake --build --preset dev --target tegata_redis_tests tegata_redis_bench"; do
  echo "\$ $command"
  if ! $command >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    echo "FAIL: '$command' failed"
    exit 1
  fi
done

echo "-- docs/redis.md's block"
lines=()
while IFS= read -r line || [[ -n $line ]]; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  lines+=("$line")
done <"$block_file"
[[ ${lines[0]:-} == redis-server*"--port $port"* ]] ||
  { echo "FAIL: the block does not start with a redis-server on port $port: ${lines[0]:-}"; exit 1; }
for line in "${lines[@]}"; do
  echo "\$ $line"
  [[ $line == redis-server* ]] && started=1
  if ! bash -euo pipefail -c "$line" >"$work/step.log" 2>&1; then
    tail -n 80 "$work/step.log"
    echo "FAIL: '$line' failed"
    exit 1
  fi
  case "$line" in
    redis-server*)
      for ((i = 0; i < 100; i++)); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
      done
      redis-cli -p "$port" ping 2>/dev/null | grep -q PONG ||
        { echo "FAIL: no Redis answers on port $port"; exit 1; }
      echo "   Redis answers on port $port"
      ;;
    *ctest*)
      { grep -E 'tests passed|tests failed|No tests|Skipped|Not Run' "$work/step.log" || true; } |
        sed 's/^/   /'
      # ctest exits 0 when no test ran: the block must have run the Redis tests, none skipped.
      grep -Eq '^100% tests passed, 0 tests failed out of [1-9]' "$work/step.log" ||
        { echo "FAIL: ctest -L redis ran no test"; exit 1; }
      if grep -q 'Skipped' "$work/step.log"; then
        echo "FAIL: a Redis test skipped although TEGATA_TEST_REDIS was set"
        exit 1
      fi
      ;;
    *tegata_redis_bench*)
      { grep -E '^(BM_|Run on)' "$work/step.log" || true; } | sed 's/^/   /'
      if grep -q 'ERROR OCCURRED' "$work/step.log"; then
        echo "FAIL: a benchmark reported an error"
        exit 1
      fi
      grep -q '^BM_validate_redis' "$work/step.log" ||
        { echo "FAIL: the benchmark ran no Redis benchmark"; exit 1; }
      ;;
  esac
done

echo
echo "PASSED: docs/redis.md's ${#lines[@]} commands ran as printed"
