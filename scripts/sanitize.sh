#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds gasm_gpu and the test suite with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DGASM_SANITIZE=ON, CPU backend only, without MPI) in ${GASM_SANITIZE_DIR:-build-sanitize} and runs ctest
# there; every gasm_gpu the tests start runs sanitized too. A memory error, a leak or undefined
# behaviour fails the test it happens in. Tests labelled "reference" (the NumPy comparisons:
# minutes of arithmetic under ASan, and no I/O path the unit tests miss) are left out unless
# GASM_SANITIZE_ALL=1. Arguments go to ctest (e.g. -R Hardening). Run after scripts/setup.sh;
# installs the sanitizer runtimes quietly if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libasan8 libubsan1 cmake ninja-build g++)
source scripts/install_packages.sh
install_packages sanitize "${packages[@]}"

build=${GASM_SANITIZE_DIR:-build-sanitize}
# No MPI here: OpenMPI's own allocations at exit are reported as leaks by LeakSanitizer, which
# would fail every mpirun test for a library's reason (those tests run in scripts/test.sh).
# setup.sh configures the folder with these flags (they come after its own) and builds it.
GASM_BUILD_DIR="$build" \
  GASM_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGASM_SANITIZE=ON -DGASM_CUDA=OFF -DGASM_MPI=OFF" \
  scripts/setup.sh

# halt_on_error: UBSan stops at the first report instead of printing and going on. HDF5 1.10
# leaks on some damaged files inside the library itself (tests/fuzz/lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
exclude=(-LE reference)
[ "${GASM_SANITIZE_ALL:-0}" = 1 ] && exclude=()
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900 "${exclude[@]}" "$@"
