// SPDX-License-Identifier: MIT
// libFuzzer target: the text front end (gasm::text::scene_from_text) on the fuzz input as one
// text. A text may be refused (InputError), but a scene it returns must pass every check a
// batch makes (SceneBatch::append): the front end must never build what the model refuses.
// Seeds: tests/fuzz/corpus/text (English and German sentences with measurements).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "host/text/text_frontend.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    gasm::text::TextOptions options;
    options.feature_dim = 6;
    options.seed = 42;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    gasm::Scene scene;
    bool made = false;
    gasm::fuzz::expect_only(gasm::ExitCode::input, [&] {
        scene = gasm::text::scene_from_text(text, options, "fuzz");
        made = true;
    });
    if (!made) return 0;
    gasm::SceneBatch batch;
    batch.feature_dim = options.feature_dim;
    try {
        batch.append(scene, "fuzz");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "the text front end built a scene the batch refuses: %s\n", e.what());
        std::abort();
    }
    return 0;
}
