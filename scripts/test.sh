#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite: builds gasm_gpu (scripts/setup.sh), runs every ctest test (unit, CLI,
# hardening, service API, reference, GPU where a device works), then the page of
# `gasm_gpu serve` in headless Chromium (scripts/test_page.sh, screenshot in the build folder).
# Arguments go to ctest. The sanitizer and fuzzing runs are separate: scripts/sanitize.sh,
# scripts/fuzz.sh (CI runs both after this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=${GASM_BUILD_DIR:-build}
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc)" "$@")
scripts/test_page.sh
