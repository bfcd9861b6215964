// SPDX-License-Identifier: MIT
// Large scenes (N = 2048) on both backends: the dense attention's tiling over many source tiles,
// the O(N) curvature, the wavefront collision pass over two million pairs, and the sparse path
// with many incoming edges per target, each next to small scenes in the same batch.
#include <gtest/gtest.h>

#include "tests/gpu/gpu_support.hpp"

namespace gasm {
namespace {

using gpu_testing::SceneRecipe;

constexpr int64_t kLarge = 2048;

TEST(CudaLarge, CompleteGraphWithRelationsAndConstraints) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(
        {{.n = kLarge, .relation_dim = 1, .constraints = true, .collision = 1.0},
         {.n = 5},
         {.n = 1}},
        cfg.feature_dim, 21);
    gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), batch, CurvatureKind::gaussian,
                                   "N = 2048 complete graph");
}

TEST(CudaLarge, CustomEdgesWithDuplicates) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(
        {{.n = kLarge, .edges = 8 * kLarge, .self_loops = true}, {.n = 40, .constraints = true}},
        cfg.feature_dim, 22);
    gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), batch, CurvatureKind::gaussian,
                                   "N = 2048 custom edges");
}

}  // namespace
}  // namespace gasm
