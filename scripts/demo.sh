#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds gasm_gpu (scripts/setup.sh) and runs the main job on its built-in example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/gasm_gpu run --format table "$@"
