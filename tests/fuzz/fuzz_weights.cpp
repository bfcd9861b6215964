// SPDX-License-Identifier: MIT
// libFuzzer target: the weight loader (read_weights_file, both the start-up check and the full
// check of `weights verify`) and read_weights_facts (`weights status`) on a file holding the
// fuzz input. Seeds: tests/fuzz/corpus/weights (tiny engine- and h5py-written weight files).
#include <cstddef>
#include <cstdint>

#include "io/weights_h5.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = gasm::fuzz::scratch_file(data, size, ".h5");
    (void)gasm::read_weights_facts(path);
    gasm::fuzz::expect_only(gasm::ExitCode::weights, [&] { (void)gasm::read_weights_file(path); });
    gasm::fuzz::expect_only(gasm::ExitCode::weights,
                            [&] { (void)gasm::read_weights_file(path, gasm::WeightsCheck::full); });
    return 0;
}
