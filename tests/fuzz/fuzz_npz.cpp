// SPDX-License-Identifier: MIT
// libFuzzer target: weight import from NumPy archives (read_npz checking the shapes with
// config_from_shapes before the data, then weights_from_arrays, as
// `gasm_gpu weights import` does) on a file holding the fuzz input. Seeds:
// tests/fuzz/corpus/npz (a tiny model saved by numpy.savez and numpy.savez_compressed).
#include <cstddef>
#include <cstdint>

#include "io/npz.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = gasm::fuzz::scratch_file(data, size, ".npz");
    gasm::fuzz::expect_only(gasm::ExitCode::weights, [&] {
        const auto arrays = gasm::read_npz(path, [&](const gasm::ArrayShapes& shapes) {
            (void)gasm::config_from_shapes(shapes, 2, path);
        });
        (void)gasm::weights_from_arrays(arrays, 2, path);
    });
    return 0;
}
