// SPDX-License-Identifier: MIT
// Seeded synthetic scenes for `check`, `bench` and the tests: features drawn N(0, 1), and on
// request relations, custom edges and constraints, the same for a seed on every machine.
#pragma once

#include <cstdint>

#include "host/scene.hpp"

namespace gasm {

struct SyntheticSpec {
    int64_t scenes = 1;
    int64_t min_entities = 10, max_entities = 10;
    int64_t feature_dim = 768;
    int64_t relation_dim = 0;   // 0: no relations
    bool custom_edges = false;  // random edge lists with duplicates
    bool constraints = false;   // distance, angle and collision constraints
    uint64_t seed = 1;
};

SceneBatch synthetic_batch(const SyntheticSpec& spec);

}  // namespace gasm
