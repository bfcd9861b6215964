// SPDX-License-Identifier: MIT
// libFuzzer target: the HDF5 batch reader (read_scenes_h5) on a file holding the fuzz input, at
// feature size 4. Seeds: tests/fuzz/corpus/scene_h5 (small h5py-written batches).
#include <cstddef>
#include <cstdint>

#include "io/scenes.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = gasm::fuzz::scratch_file(data, size, ".h5");
    gasm::fuzz::expect_only(gasm::ExitCode::input, [&] {
        gasm::SceneBatch batch = gasm::read_scenes_h5(path, 4);
        batch.validate(path);
    });
    return 0;
}
