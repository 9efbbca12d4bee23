#!/usr/bin/env bash
# What including tegata costs a user's translation unit, in compiler CPU time (user seconds, so
# another load on the machine matters less than for wall time). Three sources, each compiled with
# the same flags as a user's -O2 build:
#   deps      nlohmann/json.hpp and openssl/evp.h, nothing used: the dependencies alone
#   include   tegata/tegata.hpp, nothing used
#   session   a SessionManager<HmacKey> that issues, validates and refreshes, and a CookieWriter
# and the include and session sources again as they compile in a program that links
# tegata::compiled (TEGATA_COMPILED_LIB: the headers' *_inl.hpp definitions and the manager's
# members are compiled once, in that library), and with tegata.hpp precompiled (GCC's .gch).
#
#   benchmarks/compile_time.sh [CXX] [RUNS]      (default: g++, 3 runs; the median is printed)
set -euo pipefail
cxx=${1:-g++}
runs=${2:-3}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -O2 -Winvalid-pch -I"$root/include" -I"$work")

cat >"$work/deps.cpp" <<'CPP'
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
int main() { return 0; }
CPP
cat >"$work/include.cpp" <<'CPP'
#include <tegata/tegata.hpp>
int main() { return 0; }
CPP
session_body='
int main() {
  tegata::HmacKey key(tegata::Algorithm::HS256, std::string(32, '"'"'s'"'"'), "k");
  tegata::SessionManager sessions(key, {.issuer = "i", .audience = "a"});
  const tegata::http::CookieWriter cookies;
  auto pair = sessions.issue("alice");
  if (!pair) return 1;
  auto set = cookies.write(*pair, sessions.clock().now());
  auto claims = sessions.validate(pair->access_token);
  auto next = sessions.refresh(pair->refresh_token);
  return set && claims && next ? 0 : 1;
}'
printf '#include <tegata/tegata.hpp>\n%s\n' "$session_body" >"$work/session.cpp"
printf '#include "pch.hpp"\n%s\n' "$session_body" >"$work/session_pch.cpp"
printf '#include <tegata/tegata.hpp>\n' >"$work/pch.hpp"

# median CPU seconds of compiling $1 (extra arguments: more compiler flags)
cpu() {
  local source=$1
  shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%U %S' "$cxx" "${flags[@]}" "$@" -c "$source" -o /dev/null 2>&1 >/dev/null |
      tail -n 1 | awk '{ printf "%.2f\n", $1 + $2 }'
  done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

deps=$(cpu "$work/deps.cpp")
include=$(cpu "$work/include.cpp")
include_compiled=$(cpu "$work/include.cpp" -DTEGATA_COMPILED_LIB)
session=$(cpu "$work/session.cpp")
session_compiled=$(cpu "$work/session.cpp" -DTEGATA_COMPILED_LIB)
pch_build=""
session_pch="(not measured: $cxx is not GCC)"
session_pch_compiled=""
if "$cxx" --version 2>/dev/null | head -n 1 | grep -q 'g++\|GCC'; then
  pch_build=$(/usr/bin/time -f '%U %S' "$cxx" "${flags[@]}" -x c++-header "$work/pch.hpp" \
    -o "$work/pch.hpp.gch" 2>&1 | tail -n 1 | awk '{ printf "%.2f\n", $1 + $2 }')
  session_pch=$(cpu "$work/session_pch.cpp")
  # A precompiled header is only used with the macros it was made with: one made with
  # TEGATA_COMPILED_LIB, in a directory searched first.
  mkdir "$work/compiled"
  "$cxx" "${flags[@]}" -DTEGATA_COMPILED_LIB -x c++-header "$work/pch.hpp" \
    -o "$work/compiled/pch.hpp.gch"
  cp "$work/session_pch.cpp" "$work/compiled/"
  session_pch_compiled=$(cpu "$work/compiled/session_pch.cpp" -DTEGATA_COMPILED_LIB)
fi
ratio() { awk -v a="$1" -v b="$deps" 'BEGIN { printf "%.1f", a / b }'; }
echo "compiler: $("$cxx" --version | head -n 1); median of $runs runs, CPU seconds"
printf '%-34s %6s s\n' "deps (nlohmann + OpenSSL headers)" "$deps"
printf '%-34s %6s s  %sx deps\n' "#include <tegata/tegata.hpp>" "$include" "$(ratio "$include")"
printf '%-34s %6s s  %sx deps\n' "the same, with tegata::compiled" "$include_compiled" \
  "$(ratio "$include_compiled")"
printf '%-34s %6s s  %sx deps\n' "session (manager + cookies)" "$session" "$(ratio "$session")"
printf '%-34s %6s s  %sx deps\n' "session, with tegata::compiled" "$session_compiled" \
  "$(ratio "$session_compiled")"
if [[ -n $pch_build ]]; then
  printf '%-34s %6s s  %sx deps (the .gch itself: %s s, once)\n' "session, tegata.hpp precompiled" \
    "$session_pch" "$(ratio "$session_pch")" "$pch_build"
  printf '%-34s %6s s  %sx deps\n' "session, compiled + precompiled" "$session_pch_compiled" \
    "$(ratio "$session_pch_compiled")"
fi
