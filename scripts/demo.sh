#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds gasm_gpu (scripts/setup.sh) and runs the main job on its built-in example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Arguments replace the default table view: scripts/demo.sh --text "the cup is on the table".
if [ $# -eq 0 ]; then set -- --format table; fi
exec "${GASM_BUILD_DIR:-build}/gasm_gpu" run "$@"
