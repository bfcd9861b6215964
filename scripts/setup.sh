#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages gasm_gpu needs (only those missing, quietly), then configures and
# builds into build/. Leaves the executable at build/gasm_gpu. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config zlib1g-dev libhdf5-dev hdf5-tools libcli11-dev
  nlohmann-json3-dev libspdlog-dev libopenblas-pthread-dev libssl-dev libgtest-dev libbenchmark-dev
  python3-numpy python3-h5py python3-torch libcpp-httplib-dev openmpi-bin libopenmpi-dev)
source scripts/install_packages.sh
install_packages setup "${packages[@]}"

# The CUDA toolkit's usual home, so CMake finds nvcc even where PATH does not name it.
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

# GASM_BUILD_DIR (default build) and GASM_CMAKE_ARGS (extra CMake flags, applied whenever they
# are given). Build output goes to stderr, so a script's stdout holds only its results.
build_dir=${GASM_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ] || [ -n "${GASM_CMAKE_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${GASM_CMAKE_ARGS:-} >/dev/null
fi
# The progress lines are dropped; a failed build fails the script, whatever was built before.
set +e
cmake --build "$build_dir" -j "$(nproc)" | grep -v -E '^\[[0-9]+/[0-9]+\] |^ninja: no work to do' >&2
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "setup: the build in $build_dir failed (exit $status); the compiler's messages are above" >&2
  exit 1
fi
test -x "$build_dir/gasm_gpu"
