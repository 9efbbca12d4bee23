#!/usr/bin/env bash
# tests/fuzz/print_artifacts.sh SINCE_FILE - after a failed fuzz run, prints every input the
# fuzz targets saved in build/fuzz/tests/fuzz/artifacts/ since SINCE_FILE was made: its path and
# its bytes in base64, for a CI machine whose files are gone once the job ends (`base64 -d > FILE`
# gives it back; inputs are at most 10000 bytes, -max_len). Used by tests/fuzz/run.sh and by
# .ci/run, which runs `cmake --workflow --preset fuzz`. Always exits 0.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 0
echo "a fuzz target failed; the input(s) it saved:" >&2
[[ -d build/fuzz/tests/fuzz/artifacts ]] || exit 0
find build/fuzz/tests/fuzz/artifacts -type f -newer "$1" -print0 |
  while IFS= read -r -d '' input; do
    echo "$input" >&2
    base64 -w 0 "$input" >&2
    echo >&2
  done
exit 0
