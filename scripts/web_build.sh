#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the page of `gasm_gpu serve`: installs web/'s npm packages from package-lock.json when
# they are missing, bundles web/src with esbuild into web/dist (app.js, app.css, index.html), and
# writes web/dist's files into apps/serve_assets.cpp, which the C++ build compiles in. Commit
# web/dist and apps/serve_assets.cpp with any change to web/src: the C++ build needs no Node.js.
# With --check it builds into a temporary folder and fails when the committed files differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web=$root/web
check=0
[ "${1:-}" = "--check" ] && check=1

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web_build: needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -x "$web/node_modules/.bin/esbuild" ]; then
  # The browser for the page test is Debian's chromium; never download one.
  (cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

bundle() {  # $1: output folder, $2: generated C++ file
  rm -rf "$1"
  mkdir -p "$1"
  (cd "$web" && node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife \
    --target=es2020 --legal-comments=eof --log-level=warning --outfile="$1/app.js")
  cp "$web/src/index.html" "$web/src/favicon.svg" "$1/"
  node "$web/tools/embed_assets.mjs" "$1" "$2"
}

if [ $check -eq 0 ]; then
  bundle "$web/dist" "$root/apps/serve_assets.cpp"
  echo "web_build: wrote web/dist ($(du -sh "$web/dist" | cut -f1)) and apps/serve_assets.cpp" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bundle "$tmp/dist" "$tmp/serve_assets.cpp"
if ! diff -rq "$tmp/dist" "$web/dist" >/dev/null ||
   ! cmp -s "$tmp/serve_assets.cpp" "$root/apps/serve_assets.cpp"; then
  echo "web_build: web/dist or apps/serve_assets.cpp is out of date with web/src;" \
    "run scripts/web_build.sh and commit the result" >&2
  exit 1
fi
echo "web_build: web/dist and apps/serve_assets.cpp match web/src" >&2
