// SPDX-License-Identifier: MIT
// CPU versus CUDA agreement on seeded random batches (model.md, "Numbers to hold to"): mixed
// batches with odd scene sizes and N = 1, relations, custom edges with duplicates, self-loops,
// targets without incoming edges and empty edge lists, every constraint kind, all three
// curvature measures, an odd model configuration, per-scene early stopping, repeated calls on
// one backend, and the SE(3) invariance of the CUDA path itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "host/errors.hpp"
#include "host/synthetic.hpp"
#include "tests/gpu/gpu_support.hpp"

namespace gasm {
namespace {

using gpu_testing::SceneRecipe;

// Sizes around the attention tile (32) and warp widths, N = 1 and N = 2 included.
std::vector<SceneRecipe> mixed_recipes() {
    std::vector<SceneRecipe> r;
    r.push_back({.n = 1});
    r.push_back({.n = 2});
    r.push_back({.n = 7, .relation_dim = 3});
    r.push_back({.n = 33, .constraints = true});
    r.push_back({.n = 17, .relation_dim = 5, .constraints = true, .collision = 0.7});
    r.push_back({.n = 9, .edges = 20, .self_loops = true});  // duplicates, a self-loop
    r.push_back({.n = 5, .edges = 0});                       // custom, no edge at all
    r.push_back({.n = 12, .relation_dim = 2, .edges = 6, .constraints = true});  // lonely targets
    r.push_back({.n = 64, .relation_dim = 4});
    r.push_back({.n = 1, .edges = 0});
    r.push_back({.n = 3, .constraints = true, .collision = 5.0});  // collision pushes every pair
    r.push_back({.n = 31, .edges = 200, .self_loops = true, .constraints = true});
    return r;
}

TEST(CudaAgreement, MixedBatchGaussian) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 1);
    gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), batch, CurvatureKind::gaussian,
                                   "mixed batch");
}

TEST(CudaAgreement, MixedBatchMeanCurvature) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 2);
    gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), batch, CurvatureKind::mean,
                                   "mixed batch");
}

TEST(CudaAgreement, MixedBatchOllivierRicci) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 3);
    gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), batch,
                                   CurvatureKind::ollivier_ricci, "mixed batch");
}

TEST(CudaAgreement, OddConfigurationAllCurvatures) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::odd_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 4);
    for (CurvatureKind kind :
         {CurvatureKind::gaussian, CurvatureKind::mean, CurvatureKind::ollivier_ricci})
        gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg, 11), batch, kind,
                                       "odd configuration " + cfg.describe());
}

TEST(CudaAgreement, SyntheticBatches) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    for (uint64_t seed : {5ull, 6ull, 7ull}) {
        SyntheticSpec spec;
        spec.scenes = 10;
        spec.min_entities = 1;
        spec.max_entities = 48;
        spec.feature_dim = cfg.feature_dim;
        spec.relation_dim = seed == 6 ? 0 : 8;
        spec.custom_edges = seed == 7;
        spec.constraints = seed != 5;
        spec.seed = seed;
        gpu_testing::check_against_cpu(gpu_testing::weights_for(cfg), synthetic_batch(spec),
                                       CurvatureKind::gaussian,
                                       "synthetic batch, seed " + std::to_string(seed));
    }
}

// Sets target_curvature to the CPU's mean curvature of scene 3 at iteration 1, so that scene
// stops after two iterations while the others go on: the GPU must stop it on the device, keep
// its X frozen, and still finish the rest.
TEST(CudaAgreement, PerSceneEarlyStopping) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 8);
    Weights w = gpu_testing::weights_for(cfg);
    const RunOptions options;
    const BatchResult first = make_cpu_backend(w, CpuOptions{})->forward(batch, options);
    ASSERT_GE(first.iterations[3], 2);
    w.get("target_curvature").data[0] = first.curvature[3 * cfg.max_iterations + 1];

    const BatchResult cpu = make_cpu_backend(w, CpuOptions{})->forward(batch, options);
    ASSERT_EQ(cpu.converged[3], 1) << "the test's setup did not make scene 3 converge";
    ASSERT_EQ(cpu.iterations[3], 2);
    const BatchResult gpu = cuda::make_backend(w, 0, BackendOptions{})->forward(batch, options);
    gpu_testing::expect_agree(gpu, cpu, "early stopping of scene 3");
}

// Every scene stops at its first iteration: the loop must end early on the host as well.
TEST(CudaAgreement, WholeBatchStopsAtOnce) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch({{.n = 6}}, cfg.feature_dim, 9);
    Weights w = gpu_testing::weights_for(cfg);
    const BatchResult first = make_cpu_backend(w, CpuOptions{})->forward(batch, RunOptions{});
    w.get("target_curvature").data[0] = first.curvature[0];
    const BatchResult cpu = make_cpu_backend(w, CpuOptions{})->forward(batch, RunOptions{});
    ASSERT_EQ(cpu.iterations[0], 1);
    const BatchResult gpu =
        cuda::make_backend(w, 0, BackendOptions{})->forward(batch, RunOptions{});
    gpu_testing::expect_agree(gpu, cpu, "single scene converging at iteration 0");
}

// One backend, batches of different sizes in turn: buffers grow and are reused, and the same
// batch gives bit-identical results every time.
TEST(CudaAgreement, RepeatedCallsAreDeterministic) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const auto gpu = cuda::make_backend(gpu_testing::weights_for(cfg), 0, BackendOptions{});
    EXPECT_EQ(gpu->device_name(), "cuda:0");
    const SceneBatch small = gpu_testing::make_batch({{.n = 4}, {.n = 1}}, cfg.feature_dim, 10);
    const SceneBatch large = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 11);
    const BatchResult a = gpu->forward(large, RunOptions{});
    const BatchResult b = gpu->forward(small, RunOptions{});
    const BatchResult c = gpu->forward(large, RunOptions{});
    const BatchResult d = gpu->forward(small, RunOptions{});
    ASSERT_EQ(a.positions.size(), c.positions.size());
    EXPECT_EQ(std::memcmp(a.positions.data(), c.positions.data(), a.positions.size() * 4), 0);
    EXPECT_EQ(std::memcmp(b.positions.data(), d.positions.data(), b.positions.size() * 4), 0);
    EXPECT_EQ(a.iterations, c.iterations);
    const BatchResult cpu =
        make_cpu_backend(gpu_testing::weights_for(cfg), CpuOptions{})->forward(small, RunOptions{});
    gpu_testing::expect_agree(b, cpu, "small batch after a large one");
}

// model.md: a global rigid motion leaves every distance and |q't . q's| unchanged, so the
// output must not depend on se3_params beyond float rounding.
TEST(CudaAgreement, Se3ParamsDoNotChangeTheOutput) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 12);
    Weights moved = gpu_testing::weights_for(cfg);
    const FloatBuffer params = {0.3f, -1.2f, 2.0f, 0.4f, -0.7f, 1.1f};
    moved.get("se3_attention.se3_params").data = params;
    moved.digest.clear();
    const BatchResult base =
        cuda::make_backend(gpu_testing::weights_for(cfg), 0, BackendOptions{})->forward(batch, {});
    const BatchResult rigid = cuda::make_backend(moved, 0, BackendOptions{})->forward(batch, {});
    gpu_testing::expect_agree(rigid, base, "se3_params perturbed vs zero");
}

// TF32 is opt-in and approximate; it must run and give finite positions.
TEST(CudaAgreement, Tf32ModeRuns) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch(mixed_recipes(), cfg.feature_dim, 13);
    BackendOptions options;
    options.precision = Precision::tf32;
    const BatchResult r =
        cuda::make_backend(gpu_testing::weights_for(cfg), 0, options)->forward(batch, {});
    ASSERT_EQ(r.positions.size(), static_cast<size_t>(batch.total_entities() * cfg.output_dim));
    for (size_t i = 0; i < r.positions.size(); ++i)
        ASSERT_TRUE(std::isfinite(r.positions[i])) << "position " << i;
}

TEST(CudaAgreement, EmptyBatch) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    SceneBatch batch;
    batch.feature_dim = cfg.feature_dim;
    const BatchResult r =
        cuda::make_backend(gpu_testing::weights_for(cfg), 0, BackendOptions{})->forward(batch, {});
    EXPECT_EQ(r.num_scenes(), 0);
    EXPECT_TRUE(r.positions.empty());
}

TEST(CudaAgreement, RefusesAFeatureWidthUnlikeTheWeights) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::default_config();
    const SceneBatch batch = gpu_testing::make_batch({{.n = 3}}, 10, 14);
    const auto gpu = cuda::make_backend(gpu_testing::weights_for(cfg), 0, BackendOptions{});
    EXPECT_THROW(gpu->forward(batch, RunOptions{}), InputError);
}

}  // namespace
}  // namespace gasm
