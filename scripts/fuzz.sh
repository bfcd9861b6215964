#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets of tests/fuzz/ (weight loader, .npz import, JSON scene reader,
# HDF5 scene reader, text front end) with clang, AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs each one for a bounded time from its seed corpus in tests/fuzz/corpus/<target>/.
# Stops by itself; exits non-zero when any target finds, in this project's code, a crash, a
# leak, a hang (over 20 s on one input), an allocation over 1 GiB or an exception of the wrong
# kind. Findings whose report starts inside libhdf5 (HDF5 1.10's own memory errors on crafted
# files) are listed but fail the run only with GASM_FUZZ_STRICT=1. Installs clang and its fuzzer
# runtime quietly when missing (after scripts/setup.sh, which installs the project's libraries).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 30 s, all five targets)
#
# Build and work files go to ${GASM_FUZZ_DIR:-build-fuzz}; new corpus entries stay there, the
# seeds in the repository are never changed. Finding inputs: build-fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: seconds must be a whole number, got '$seconds'" >&2; exit 2; }
all_targets=(weights npz scene_json scene_h5 text)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

packages=(clang libclang-rt-14-dev libhdf5-dev libssl-dev nlohmann-json3-dev zlib1g-dev)
source scripts/install_packages.sh
install_packages fuzz "${packages[@]}"

cxx=${GASM_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}
work=${GASM_FUZZ_DIR:-build-fuzz}
mkdir -p "$work/obj" "$work/generated/host" "$work/artifacts" "$work/tmp"

# The one generated header the sources need.
version=$(sed -n 's/^project(gasm_gpu VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
sed -e "s/@PROJECT_VERSION@/${version:-0}/" -e 's/@CMAKE_BUILD_TYPE@/fuzz/' \
    -e "s/@CMAKE_CXX_COMPILER_ID@ @CMAKE_CXX_COMPILER_VERSION@/clang/" \
    -e 's/@CMAKE_CUDA_ARCHITECTURES@//' -e 's/@CMAKE_CUDA_COMPILER_VERSION@//' \
    host/build_info.hpp.in > "$work/generated/host/build_info.hpp.new"
cmp -s "$work/generated/host/build_info.hpp.new" "$work/generated/host/build_info.hpp" ||
  mv "$work/generated/host/build_info.hpp.new" "$work/generated/host/build_info.hpp"
rm -f "$work/generated/host/build_info.hpp.new"

# The project sources the readers need (a subset of gasm_core in CMakeLists.txt; no cuRAND:
# weight generation is not fuzzed). An archive, so each target links only what it uses.
sources=(host/config.cpp host/params.cpp host/env.cpp host/scene.cpp host/philox.cpp
  io/h5util.cpp io/weights_h5.cpp io/npz.cpp io/results.cpp io/atomic_file.cpp io/scene_json.cpp
  io/json_keys.cpp io/scene_h5.cpp host/text/*.cpp)
# GASM_NO_CRASH_GUARD: the sanitizers, not io/'s crash guard, must see a crash inside HDF5.
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -ffp-contract=off -DGASM_NO_CRASH_GUARD
  -fsanitize=address,undefined -fno-sanitize-recover=all
  -I. -I"$work/generated" -I/usr/include/hdf5/serial)
libs=(-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lcrypto -lz -ldl -lpthread)

objects=()
for src in "${sources[@]}"; do
  obj="$work/obj/$(echo "$src" | tr '/' '_').o"
  objects+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$work/generated/host/build_info.hpp" -nt "$obj" ] ||
     [ -n "$(find host io -name '*.hpp' -newer "$obj" -print -quit)" ]; then
    echo "fuzz: compiling $src" >&2
    "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
done
rm -f "$work/libgasm_fuzz.a"
ar rcs "$work/libgasm_fuzz.a" "${objects[@]}"

# Replays one finding and says whose it is: "hdf5" when the first frame of the report outside
# the sanitizers and libc is in libhdf5 (HDF5 1.10's own memory errors on crafted files, which
# io/'s crash guard turns into exit 3 or 4 in the program), else "project".
classify() {
  local exe=$1 input=$2 report
  report=$(TMPDIR="$work/tmp" ASAN_OPTIONS="detect_leaks=1" \
    LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp" UBSAN_OPTIONS="print_stacktrace=1" \
    timeout 120 "$exe" -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=1024 "$input" 2>&1 || true)
  local frame full
  # Frames without a source line inside the fuzz executable are the sanitizer and libFuzzer
  # runtimes (interceptors such as strdup, memcpy, malloc, free; the timeout handler); libc and
  # libstdc++ are skipped too. The sanitizers print the executable's absolute path.
  full=$(realpath "$exe")
  frame=$(printf '%s\n' "$report" | sed -n '/ERROR:/,$p' | grep -E '^ +#[0-9]+ 0x' |
    grep -vF -e "($exe+0x" -e "($full+0x" | grep -vE 'libc\.so|ld-linux|libstdc\+\+|libgcc_s' |
    head -1)
  if printf '%s' "$frame" | grep -q 'libhdf5'; then echo hdf5; else echo project; fi
  printf '%s\n' "$report" | grep -m1 -E 'ERROR:|SUMMARY:' >&2 || true
}

failed=()
hdf5_findings=0
for t in "${targets[@]}"; do
  src="tests/fuzz/fuzz_$t.cpp"
  [ -f "$src" ] || { echo "fuzz: no target '$t' (${all_targets[*]})" >&2; exit 2; }
  exe="$work/fuzz_$t"
  if [ ! -x "$exe" ] || [ "$src" -nt "$exe" ] || [ "$work/libgasm_fuzz.a" -nt "$exe" ] ||
     [ tests/fuzz/fuzz_support.hpp -nt "$exe" ]; then
    echo "fuzz: linking $exe" >&2
    "$cxx" "${flags[@]}" -fsanitize=fuzzer "$src" "$work/libgasm_fuzz.a" "${libs[@]}" -o "$exe"
  fi
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  rm -f "$work/artifacts/$t"/*
  echo "fuzz: $t for ${seconds} s" >&2
  # Fork mode keeps fuzzing after a finding, so one HDF5 bug does not end the run; every finding
  # is replayed and classified below. Leaks are checked, except HDF5's own on damaged metadata
  # (tests/fuzz/lsan.supp says why).
  TMPDIR="$work/tmp" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:allocator_may_return_null=0" \
    LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$exe" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=1024 \
      -artifact_prefix="$work/artifacts/$t/" "$work/corpus/$t" "tests/fuzz/corpus/$t" \
      > "$work/$t.log" 2>&1 || echo "fuzz: $t: libFuzzer exited with $? (log: $work/$t.log)" >&2
  grep -E '^#[0-9]+: cov' "$work/$t.log" | tail -1 >&2 || true
  project=0
  for a in "$work/artifacts/$t"/*; do
    [ -f "$a" ] || continue
    kind=$(classify "$exe" "$a")
    if [ "$kind" = hdf5 ]; then
      hdf5_findings=$((hdf5_findings + 1))
      echo "fuzz: $t: inside libhdf5 (not this project's code): $a" >&2
    else
      project=$((project + 1))
      echo "fuzz: $t: FINDING in this project's code: $a" >&2
    fi
  done
  [ "$project" -eq 0 ] || failed+=("$t")
  rm -f "$work"/tmp/gasm_fuzz_*
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (replay: $work/fuzz_TARGET INPUT)" >&2
  exit 1
fi
if [ "$hdf5_findings" -gt 0 ]; then
  echo "fuzz: $hdf5_findings finding(s) inside libhdf5 only (see docs/hardening.md)" >&2
  [ "${GASM_FUZZ_STRICT:-0}" = 1 ] && exit 1
fi
echo "fuzz: ${targets[*]}: no findings in this project's code in ${seconds} s each" >&2
