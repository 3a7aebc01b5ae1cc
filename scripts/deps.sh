#!/usr/bin/env bash
# Installs, from Debian's packages, whatever the build, the server and the tests need and
# this machine lacks. Idempotent: a machine that has everything is left untouched, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev llvm
  libsrtp2-dev libopus-dev libvpx-dev libavcodec-dev libavformat-dev libswscale-dev
  libwebsockets-dev libssl-dev libjansson-dev libsqlite3-dev libsodium-dev
  libspeexdsp-dev libcmocka-dev ffmpeg sqlite3
  chromium firefox-esr curl iproute2 procps
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js: any node + npm on PATH will do (some images ship a vendor build that bundles npm
# and conflicts with Debian's separate npm package).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Browser-test tooling from npm, kept inside the project (tests/node_modules).
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/tests/package.json" ] && [ ! -d "$here/tests/node_modules/playwright-core" ]; then
  echo "deps: npm install in tests/" >&2
  (cd "$here/tests" && npm install --no-audit --no-fund --loglevel=error)
fi
exit 0
