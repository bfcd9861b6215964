// SPDX-License-Identifier: MIT
// libFuzzer target: weight import from NumPy archives (read_npz, then weights_from_arrays, as
// `gasm_gpu weights import` does) on a file holding the fuzz input. Seeds:
// tests/fuzz/corpus/npz (a tiny model saved by numpy.savez and numpy.savez_compressed).
#include <cstddef>
#include <cstdint>

#include "io/npz.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = gasm::fuzz::scratch_file(data, size, ".npz");
    gasm::fuzz::expect_only(gasm::ExitCode::weights, [&] {
        (void)gasm::weights_from_arrays(gasm::read_npz(path), 2, path);
    });
    return 0;
}
