#!/usr/bin/env bash
# Load benchmark of examples/http_server with wrk, on loopback, bounded in time.
#
#   http_load.sh --server BINARY [--duration S] [--connections N] [--threads N] [--smoke]
#
# Starts BINARY (--insecure-http, a free port), logs in as the demo user, then runs wrk for S
# seconds (default 30) against each of
#   GET /.well-known/jwks.json   the server's cheapest JSON answer, no token: the reference
#   GET /api/me                  with a valid access cookie: cookie parsing, an ES256 signature
#                                check, the store lookups, the claims as JSON
# and reports requests/s of each, their ratio (goal: /api/me at least 40 % of the JWKS), the
# errors (answers that are not 2xx; wrk's connect, read, write and timeout errors), and the
# server's resident memory before and after the /api/me run (its growth).
#
# It fails when there is an error of any kind, or when the memory grew by more than 16 MiB (an
# unbounded growth under a steady load), or in a full run when the ratio misses the goal. It never
# fails on speed in --smoke mode (S = 3 unless given): CI runs that, to check that the benchmark
# still works and the server still answers every request, on a machine whose speed means nothing.
# Figures and the command that made them: benchmarks/README.md.
#
# A missing wrk or curl makes it SKIP (exit 77), or FAIL when TEGATA_REQUIRE_E2E is set.
set -euo pipefail

server=""
duration=""
connections=8  # the size of cpp-httplib's thread pool: one handler thread per keep-alive connection
threads=2
smoke=0
while (($#)); do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    *)
      echo "usage: $0 --server BINARY [--duration S] [--connections N] [--threads N] [--smoke]" >&2
      exit 2
      ;;
  esac
done
if [[ -z $duration ]]; then
  if ((smoke)); then duration=3; else duration=30; fi
fi

# shellcheck source=../tests/support/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/support/e2e.sh"
command -v wrk >/dev/null 2>&1 || skip "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed (Debian: apt-get install curl)"
[[ -x $server ]] || { echo "FAIL: no server binary '$server'"; exit 1; }
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "FAIL: --duration wants whole seconds"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tegata-http-load.XXXXXX")
pid=""
cleanup() {
  local code=$?
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if ((code != 0)) && [[ -f $work/server.out ]]; then
    echo "--- server output"
    cat "$work/server.out"
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The server's stderr (one line per request) goes to /dev/null, not to a file that would grow by
# megabytes; its stdout (the port) is kept in $work/server.out.
pids=()
E2E_SERVER_LOG=/dev/null start_server server "$server" --insecure-http --access-ttl 3600

curl -sS --max-time 30 -o /dev/null -D "$work/login.headers" -H 'Content-Type: application/json' \
  -d '{"username":"alice","password":"wonderland"}' "$base/login"
access=$(sed -n 's/^[Ss]et-[Cc]ookie: access_token=\([^;]*\);.*/\1/p' "$work/login.headers")
[[ -n $access ]] || { echo "FAIL: the login set no access cookie"; exit 1; }
cookie="access_token=$access"
status=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/api/me")
[[ $status == 200 ]] || { echo "FAIL: GET /api/me with the new cookie answered $status"; exit 1; }

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }

# wrk counts answers with a status of 400 or more as errors, not 1xx and 3xx; this script counts
# every answer outside 200..299 in each wrk thread and adds them up at the end.
cat >"$work/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then not_2xx = not_2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("not_2xx") end
  local e = summary.errors
  io.write(string.format("tegata: requests %d not_2xx %d connect %d read %d write %d timeout %d\n",
                         summary.requests, n, e.connect, e.read, e.write, e.timeout))
end
LUA

failures=0
declare -A rate
# run NAME PATH [HEADER]: wrk against PATH for $duration seconds; sets rate[NAME].
run() {
  local name=$1 path=$2
  local args=(-t "$threads" -c "$connections" -d "${duration}s" --latency -s "$work/count.lua")
  [[ -n ${3:-} ]] && args+=(-H "$3")
  wrk "${args[@]}" "$base$path" >"$work/$name.wrk" 2>&1 || {
    cat "$work/$name.wrk"
    echo "FAIL: wrk failed on $path"
    exit 1
  }
  local counts requests not_2xx socket
  counts=$(grep '^tegata: ' "$work/$name.wrk") || { cat "$work/$name.wrk"; echo "FAIL: no counts"; exit 1; }
  read -r requests not_2xx socket < <(awk '{ print $3, $5, $7 + $9 + $11 + $13 }' <<<"$counts")
  rate[$name]=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$name.wrk")
  local latency
  latency=$(awk '/^    Latency/ { print "mean " $2 ", stdev " $3 ", max " $4 }' "$work/$name.wrk")
  local p99
  p99=$(awk '$1 == "99%" { print $2 }' "$work/$name.wrk")
  printf '%-26s %10s requests/s  %8d requests  latency %s, p99 %s\n' "GET $path" "${rate[$name]}" \
    "$requests" "$latency" "$p99"
  printf '%-26s %10s  not 2xx: %d, socket errors: %d (%s)\n' "" "" "$not_2xx" "$socket" \
    "${counts#tegata: requests * not_2xx * }"
  if ((requests == 0)); then echo "FAIL: no request completed on $path"; failures=$((failures + 1)); fi
  if ((not_2xx + socket > 0)); then
    echo "FAIL: $((not_2xx + socket)) errors on $path"
    failures=$((failures + 1))
  fi
}

echo "tegata_http_server load: wrk -t $threads -c $connections -d ${duration}s, keep-alive, $base"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
run jwks /.well-known/jwks.json
rss_before=$(rss_kib)
run me /api/me "Cookie: $cookie"
rss_after=$(rss_kib)

ratio=$(awk -v me="${rate[me]}" -v jwks="${rate[jwks]}" 'BEGIN { printf "%.1f", 100 * me / jwks }')
growth=$((rss_after - rss_before))
echo "GET /api/me / GET /.well-known/jwks.json: ${ratio} % (goal: at least 40 %)"
echo "server RSS: ${rss_before} KiB before the /api/me run, ${rss_after} KiB after (${growth} KiB)"
if ((growth > 16 * 1024)); then
  echo "FAIL: the server's memory grew by ${growth} KiB under a steady load"
  failures=$((failures + 1))
fi
if ((!smoke)) && awk -v r="$ratio" 'BEGIN { exit !(r < 40) }'; then
  echo "FAIL: GET /api/me reached ${ratio} % of the JWKS requests/s, under the 40 % goal"
  failures=$((failures + 1))
fi
if ((failures > 0)); then exit 1; fi
if ((smoke)); then echo "PASSED (smoke run: no errors; the figures are not checked)"; fi
