#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tests the page of `gasm_gpu serve` in headless Chromium: installs what it needs when missing
# (Debian's chromium, nodejs and npm; web/'s npm packages from package-lock.json, with no browser
# download), checks that the committed bundle matches web/src, starts the service on a free
# loopback port with a small model, runs web/tests/page_test.mjs against it and stops it with
# SIGTERM. Usage: scripts/test_page.sh [SCREENSHOT.png] (default: $GASM_BUILD_DIR/page.png).
# Needs the build from scripts/setup.sh (GASM_BUILD_DIR, default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${GASM_BUILD_DIR:-build}
screenshot=$(realpath -m "${1:-$build_dir/page.png}")
exe=$build_dir/gasm_gpu
if [ ! -x "$exe" ]; then
  echo "test_page: $exe is missing; run scripts/setup.sh first" >&2
  exit 1
fi

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
source scripts/install_packages.sh
install_packages test_page "${need[@]}"
if [ ! -d web/node_modules/playwright-core ] || [ ! -x web/node_modules/.bin/esbuild ]; then
  (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
scripts/web_build.sh --check

scratch=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server"; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
"$exe" serve --port 0 --port-file "$scratch/port" --weights "$scratch/w.h5" --device cpu \
  --feature-dim 48 --hidden-dim 24 --max-iterations 6 2>"$scratch/serve.log" &
server=$!
for _ in $(seq 600); do  # up to 60 s for the weights and the warm-up
  [ -s "$scratch/port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$scratch/port" ]; then
  echo "test_page: the service did not start; its log:" >&2
  cat "$scratch/serve.log" >&2
  exit 1
fi
url="http://127.0.0.1:$(cat "$scratch/port")/"
mkdir -p "$(dirname "$screenshot")"
status=0
(cd web && timeout 120 node tests/page_test.mjs "$url" "$screenshot") || status=$?
kill -TERM "$server"
server_status=0
wait "$server" || server_status=$?
server=
if [ $server_status -ne 0 ]; then
  echo "test_page: the service exited $server_status after SIGTERM; its log:" >&2
  cat "$scratch/serve.log" >&2
  status=1
fi
exit $status
