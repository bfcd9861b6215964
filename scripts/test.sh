#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds gasm_gpu (scripts/setup.sh) and runs the whole ctest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd "${GASM_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
