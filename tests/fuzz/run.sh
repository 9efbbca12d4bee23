#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS - builds the libFuzzer targets (clang, ASan + UBSan) in build/fuzz and
# runs each one for SECONDS, two at a time (one per core), starting from the generated seed corpus
# and the committed regression inputs. Exits non-zero if any target fails; the failing input is
# then in build/fuzz/tests/fuzz/artifacts/<target>/ (see tests/fuzz/regressions/README.md).
#
# The same as `cmake --workflow --preset fuzz`, which runs 60 seconds per target.
set -euo pipefail

if [[ $# -ne 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 SECONDS   (fuzzing time per target, a positive integer)" >&2
  exit 2
fi
seconds=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

cmake --preset fuzz -DTEGATA_FUZZ_SECONDS="$seconds"
cmake --build --preset fuzz
started=$(mktemp)
trap 'rm -f "$started"' EXIT
if ! ctest --preset fuzz; then  # two at a time: the preset says so
  tests/fuzz/print_artifacts.sh "$started"
  exit 1
fi
