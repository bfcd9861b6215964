// SPDX-License-Identifier: MIT
// The CPU backend gives the same bytes whatever the number of threads: rows are split into
// blocks of a fixed size and every work item is computed the same way on any thread, so a batch
// run with --threads 1, 2 or 3 (or on a machine with more cores) has identical positions and
// curvature. The MPI split relies on this too.
#include <gtest/gtest.h>

#include <cstring>

#include "host/backend.hpp"
#include "host/generate.hpp"
#include "host/synthetic.hpp"

namespace gasm {
namespace {

ModelConfig small_config() {
    ModelConfig c;
    c.feature_dim = 48;
    c.hidden_dim = 24;
    c.max_iterations = 3;
    return c;
}

bool same_bytes(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_thread_count_invariant(const SceneBatch& batch, CurvatureKind kind) {
    auto weights = std::make_shared<const Weights>(generate_weights(small_config(), 42));
    RunOptions run;
    run.curvature = kind;
    BatchResult one = make_cpu_backend(weights, CpuOptions{1})->forward(batch, run);
    for (int threads : {2, 3, 5}) {
        BatchResult many = make_cpu_backend(weights, CpuOptions{threads})->forward(batch, run);
        EXPECT_TRUE(same_bytes(one.positions, many.positions)) << threads << " threads";
        // NaN marks iterations not run: compare bytes, not values.
        EXPECT_TRUE(same_bytes(one.curvature, many.curvature)) << threads << " threads";
        EXPECT_EQ(one.iterations, many.iterations) << threads << " threads";
        EXPECT_EQ(one.converged, many.converged) << threads << " threads";
    }
}

TEST(Determinism, ManySmallScenesAreTheSameBytesOnAnyNumberOfThreads) {
    SyntheticSpec spec;
    spec.scenes = 300;  // about 2,000 rows: several row blocks
    spec.min_entities = 1;
    spec.max_entities = 12;
    spec.feature_dim = 48;
    spec.relation_dim = 8;
    spec.constraints = true;
    spec.seed = 7;
    for (CurvatureKind kind :
         {CurvatureKind::gaussian, CurvatureKind::mean, CurvatureKind::ollivier_ricci})
        expect_thread_count_invariant(synthetic_batch(spec), kind);
}

TEST(Determinism, CustomEdgesAndALargeTiledSceneAreTheSameBytes) {
    SyntheticSpec edges;
    edges.scenes = 40;
    edges.min_entities = 2;
    edges.max_entities = 30;
    edges.feature_dim = 48;
    edges.custom_edges = true;
    edges.seed = 11;
    expect_thread_count_invariant(synthetic_batch(edges), CurvatureKind::gaussian);

    SyntheticSpec large;  // complete graph over 700 entities: the tiled attention
    large.scenes = 2;
    large.min_entities = 300;
    large.max_entities = 700;
    large.feature_dim = 48;
    large.seed = 12;
    expect_thread_count_invariant(synthetic_batch(large), CurvatureKind::gaussian);
}

}  // namespace
}  // namespace gasm
