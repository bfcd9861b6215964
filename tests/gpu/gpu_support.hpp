// SPDX-License-Identifier: MIT
// Shared pieces of the GPU tests: the skip that names the probe's reason when there is no
// usable device, seeded random scenes with every feature the model has (relations, custom
// edges with duplicates and self-loops, constraints, N = 1), cached weights per configuration,
// and the CPU-versus-GPU comparison of whole batch results with a named tolerance.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>

#include "host/backend.hpp"
#include "host/generate.hpp"
#include "host/scene.hpp"
#include "kernels/cuda_api.hpp"
#include "tests/test_support.hpp"

// Skips the current test, with the probe's reason, on a machine without a usable CUDA device.
#define GASM_REQUIRE_CUDA_DEVICE()                                            \
    do {                                                                      \
        const ::gasm::DeviceReport gasm_report_ = ::gasm::cuda::probe();      \
        if (gasm_report_.devices.empty())                                     \
            GTEST_SKIP() << "no usable CUDA device: " << gasm_report_.reason; \
    } while (0)

namespace gasm::gpu_testing {

// model.md holds backends to 1e-4 absolute on S and every mean curvature. The small relative
// part only matters for large values: "ollivier_ricci" means reach 2 (N - 1), where one float32
// ulp is already near 1e-5 and N-term sums differ by their order of addition.
inline constexpr gasm::testing::Tolerance kBackendAgreement{1e-4, 1e-5};

inline ModelConfig default_config() {
    return ModelConfig{};
}

// Small, odd sizes: every dimension a non-multiple of the kernels' tile and warp widths.
inline ModelConfig odd_config() {
    ModelConfig c;
    c.feature_dim = 50;
    c.hidden_dim = 12;
    c.num_heads = 3;
    c.output_dim = 2;
    c.max_iterations = 4;
    return c;
}

// Host-generated weights, generated once per configuration and seed within a test binary.
inline const Weights& weights_for(const ModelConfig& cfg, uint64_t seed = kDefaultSeed) {
    static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, uint64_t>, Weights>
        cache;
    const auto key = std::make_tuple(cfg.feature_dim, cfg.hidden_dim, cfg.output_dim, cfg.num_heads,
                                     cfg.max_iterations, seed);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, generate_weights(cfg, seed)).first;
    return it->second;
}

struct SceneRecipe {
    int64_t n = 1;
    int64_t relation_dim = 0;  // 0: no relations
    int64_t edges = -1;        // -1: complete graph; else a custom list of this many edges
    bool self_loops = false;   // custom lists: add (0, 0) and a duplicate of the first edge
    bool constraints = false;  // distance, angle and collision (needs n >= 3)
    double collision = 1.0;
};

// A scene of n entities with N(0, 1) features, built from the recipe with `rng`.
inline Scene random_scene(std::mt19937_64& rng, const SceneRecipe& r, int64_t F) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int64_t> pick(0, r.n - 1);
    Scene s;
    for (int64_t i = 0; i < r.n; ++i) s.names.push_back("e" + std::to_string(i));
    s.features.resize(static_cast<size_t>(r.n * F));
    for (float& v : s.features) v = normal(rng);
    if (r.relation_dim > 0) {
        s.relation_dim = r.relation_dim;
        s.relations.resize(static_cast<size_t>(r.n * r.n * r.relation_dim));
        for (float& v : s.relations) v = unit(rng) < 0.4 ? static_cast<float>(unit(rng)) : 0.0f;
    }
    if (r.edges >= 0) {
        s.custom_edges = true;
        for (int64_t e = 0; e < r.edges; ++e) s.edges.push_back({pick(rng), pick(rng)});
        if (r.self_loops) {
            s.edges.push_back({0, 0});
            if (!s.edges.empty()) s.edges.push_back(s.edges.front());
        }
    }
    if (r.constraints && r.n >= 3) {
        s.distance.push_back({0, 1, 0.5 + unit(rng)});
        s.distance.push_back({r.n - 1, 1, 0.2 + unit(rng)});
        s.distance.push_back({0, 1, 0.5 + unit(rng)});  // the same pair again, in order
        s.angle.push_back({0, 1, 2, 0.3 + 2.0 * unit(rng)});
        s.angle.push_back({2, 0, r.n - 1, 0.3 + 2.0 * unit(rng)});
        s.collision = r.collision;
    }
    return s;
}

inline SceneBatch make_batch(const std::vector<SceneRecipe>& recipes, int64_t F, uint64_t seed) {
    std::mt19937_64 rng(seed);
    SceneBatch batch;
    batch.feature_dim = F;
    for (size_t i = 0; i < recipes.size(); ++i)
        batch.append(random_scene(rng, recipes[i], F), "test scene " + std::to_string(i));
    return batch;
}

// Whole results agree: the same iterations and convergence per scene, S and every mean
// curvature within the tolerance (NaN where both ran fewer iterations).
inline void expect_agree(const BatchResult& gpu, const BatchResult& cpu, const std::string& what,
                         gasm::testing::Tolerance tol = kBackendAgreement) {
    ASSERT_EQ(gpu.num_scenes(), cpu.num_scenes()) << what;
    EXPECT_EQ(gpu.offsets, cpu.offsets) << what;
    for (int64_t s = 0; s < cpu.num_scenes(); ++s) {
        EXPECT_EQ(gpu.iterations[s], cpu.iterations[s]) << what << ": iterations of scene " << s;
        EXPECT_EQ(gpu.converged[s], cpu.converged[s]) << what << ": converged of scene " << s;
    }
    EXPECT_TRUE(gasm::testing::all_close(gpu.positions, cpu.positions, tol))
        << what << ": positions (T, D) flattened, GPU vs CPU";
    EXPECT_TRUE(gasm::testing::all_close(gpu.curvature, cpu.curvature, tol))
        << what << ": curvature (S, K) flattened, GPU vs CPU";
}

// Runs both backends on the batch and compares them.
inline void check_against_cpu(const Weights& w, const SceneBatch& batch, CurvatureKind kind,
                              const std::string& what) {
    RunOptions options;
    options.curvature = kind;
    const auto cpu = make_cpu_backend(w, CpuOptions{});
    const auto gpu = cuda::make_backend(w, 0, BackendOptions{});
    const BatchResult want = cpu->forward(batch, options);
    const BatchResult got = gpu->forward(batch, options);
    expect_agree(got, want, what + " (" + curvature_name(kind) + ")");
}

}  // namespace gasm::gpu_testing
