// SPDX-License-Identifier: MIT
// libFuzzer target: the JSON scene reader (read_scenes_json, which also builds the batch with
// every check of SceneBatch::append) on a file holding the fuzz input, at feature size 4.
// Seeds: tests/fuzz/corpus/scene_json.
#include <cstddef>
#include <cstdint>

#include "io/scenes.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = gasm::fuzz::scratch_file(data, size, ".json");
    gasm::fuzz::expect_only(gasm::ExitCode::input, [&] {
        gasm::SceneBatch batch = gasm::read_scenes_json(path, 4);
        batch.validate(path);
    });
    return 0;
}
