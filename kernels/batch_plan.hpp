// SPDX-License-Identifier: MIT
// The host-side plan of one batch for the CUDA backend: the per-scene and per-entity tables the
// kernels read, built once per forward call since a batch's graph is the same in every
// iteration. It holds the tiles of the dense attention, the incoming-edge CSR of custom edge
// lists (duplicates kept), the deduplicated pairs for curvature, and the constraints as flat
// arrays, all with 32-bit global entity indices. Building it checks the batch's structure
// (sizes, offsets, indices) so that no kernel can read outside its arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "host/config.hpp"
#include "host/scene.hpp"

namespace gasm::cuda {

struct BatchPlan {
    int num_scenes = 0;      // S
    int total = 0;           // T
    int max_scene_size = 0;  // max N_s
    bool any_custom = false;

    std::vector<int32_t> offsets;   // (S+1)
    std::vector<int32_t> scene_of;  // (T)
    std::vector<int32_t> custom;    // (S) 1 where the scene has its own edge list

    std::vector<int32_t> tiles;           // (num_tiles, 2) scene, first local target
    std::vector<int32_t> sparse_targets;  // global rows of custom-edge scenes
    std::vector<int32_t> in_ptr;          // (T+1) incoming edges by target
    std::vector<int32_t> in_src;          // global source of each, in input order
    std::vector<int32_t> out_ptr;         // (T+1) unique pairs by source
    std::vector<int32_t> out_idx;         // global target of each
    std::vector<int32_t> sym_ptr;         // (T+1) both directions of every unique pair
    std::vector<int32_t> sym_idx;

    std::vector<int64_t> rel_base;  // (S) start of the scene's relation-norm block, or -1

    std::vector<int32_t> constrained;    // scenes with any constraint
    std::vector<int32_t> dist_ptr;       // (S+1)
    std::vector<int32_t> dist_pairs;     // (C, 2) local
    std::vector<float> dist_target;      // (C)
    std::vector<int32_t> angle_ptr;      // (S+1)
    std::vector<int32_t> angle_triples;  // (A, 3) local
    std::vector<float> angle_theta;      // (A)
    std::vector<float> collision;        // (S) NaN where none

    int num_tiles() const { return static_cast<int>(tiles.size() / 2); }
};

// Builds the plan; `tile` is the dense attention's tile size. Throws InputError when the batch
// does not fit the configuration or its arrays disagree with each other.
BatchPlan make_batch_plan(const SceneBatch& batch, const ModelConfig& config, int tile);

}  // namespace gasm::cuda
