#!/usr/bin/env bash
# tegata's set-up on Debian 12 (bookworm), fresh or not: README.md's set-up command and the first
# step of .ci/run. Installs Debian's packages for the build and every test, enabling
# bookworm-backports (for Catch2 v3) when no APT source names it; uses sudo unless run as root.
# Node.js packages are per checkout, without root: npm ci --prefix tests/e2e (and tests/interop).
set -euo pipefail

# Elsewhere package names differ: README.md lists what tegata needs.
# shellcheck source=/dev/null
. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "tools/install-deps.sh: ${PRETTY_NAME:-this system} is not Debian 12, see README.md" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "tools/install-deps.sh: run it as root, or install sudo" >&2
    exit 1
  fi
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

# Catch2 v3 is only packaged in bookworm-backports, which a fresh Debian 12 does not enable.
if ! grep -qsr --include='*.list' --include='*.sources' --include=sources.list \
     '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
  $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  cmake make g++ clang libclang-rt-14-dev libssl-dev nlohmann-json3-dev \
  libbenchmark-dev python3 python3-jwt ca-certificates
# git: the FetchContent consumer test clones a copy of the checkout, as README's block does.
$SUDO apt-get install -y -q --no-install-recommends git
$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports catch2
# The HTTP server example and its end-to-end tests (curl, headless Chromium, wrk for its load
# benchmark), pkg-config and documentation tests.
$SUDO apt-get install -y -q --no-install-recommends \
  libcpp-httplib-dev pkg-config curl openssl chromium wrk doxygen
# The Boost.Beast server example (examples/beast_server) and its tests (tests/beast): Boost's
# headers (Beast and Asio are header-only).
$SUDO apt-get install -y -q --no-install-recommends libboost-dev
# The Redis-backed store: hiredis, and the redis-server (.ci/run starts one) and redis-sentinel
# processes its tests start.
$SUDO apt-get install -y -q --no-install-recommends libhiredis-dev redis-server redis-sentinel
# The SQLite-backed store (tegata::sqlite, docs/sqlite.md): SQLite 3's headers and library.
$SUDO apt-get install -y -q --no-install-recommends libsqlite3-dev
# Static analysis of the headers (.clang-tidy), the same LLVM 14 as clang++.
$SUDO apt-get install -y -q --no-install-recommends clang-tidy-14
# The benchmark's peers, measured on the same tokens as tegata: libjwt (found with pkg-config)
# and cpp-jwt (its CMake package, /usr/share/cmake/cpp-jwt).
$SUDO apt-get install -y -q --no-install-recommends libjwt-dev libcpp-jwt-dev

# Interop tests run the npm package jose. The machine image may already ship Node.js with npm
# (NodeSource); Debian's npm conflicts with that, so install Debian's only when none is there.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
