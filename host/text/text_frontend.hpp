// SPDX-License-Identifier: MIT
// The text front end (interface.md, "The text front end"): a deterministic, rule-based reader
// that turns one English or German sentence (or a few) into one GASM scene: entities with
// types and features, the relation tensor, and distance and angle constraints. The rules and
// the word tables behind them are written down in host/text/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/scene.hpp"

namespace gasm::text {

struct TextOptions {
    int64_t feature_dim = 768;
    uint64_t seed = 42;
    int max_entities = 15;
    size_t max_bytes = 1 << 20;  // longer texts are refused with the limit named
};

// One scene from one text; `where` names the text in errors ("--text", "sentences.txt, line
// 3"). Throws gasm::InputError when the text has no entity, is longer than max_bytes or is
// not valid UTF-8, and gasm::UsageError when the options are impossible (feature_dim or
// max_entities below 1).
gasm::Scene scene_from_text(std::string_view text, const TextOptions& options,
                            const std::string& where);

// One scene per non-empty line of a file (a UTF-8 byte-order mark and CR line ends are
// accepted); errors name `path` and the line number. Throws gasm::InputError when the file
// cannot be read, has no non-empty line, or a line fails as in scene_from_text.
std::vector<gasm::Scene> scenes_from_text_file(const std::string& path, const TextOptions& options);

}  // namespace gasm::text
