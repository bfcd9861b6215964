// SPDX-License-Identifier: MIT
// The host halves of the CUDA backend, which run on every machine: the batch plan the kernels
// read (attention CSR by target with duplicates, deduplicated curvature pairs, tiles,
// constraints, relation blocks, and its refusals), and the collision wavefront's claim that
// running pairs by step 2i + j gives the sequential row-major result to the bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "host/errors.hpp"
#include "kernels/batch_plan.hpp"
#include "kernels/collision_wavefront.hpp"

namespace gasm {
namespace {

namespace wf = cuda::wavefront;

TEST(CollisionWavefront, EveryPairOnceAndNoSharedIndexWithinAStep) {
    for (int n : {2, 3, 4, 5, 7, 16, 33, 64, 101}) {
        std::set<std::pair<int, int>> seen;
        for (int step = 1; step <= wf::last_step(n); ++step) {
            std::set<int> used;
            for (int i = wf::first_row(step, n); i <= wf::last_row(step); ++i) {
                const int j = step - 2 * i;
                ASSERT_TRUE(i >= 0 && i < j && j < n) << "n " << n << " step " << step;
                EXPECT_TRUE(used.insert(i).second && used.insert(j).second)
                    << "n " << n << " step " << step << " reuses an index";
                EXPECT_TRUE(seen.insert({i, j}).second) << "pair twice";
            }
        }
        EXPECT_EQ(seen.size(), static_cast<size_t>(n * (n - 1) / 2)) << "n " << n;
    }
    EXPECT_EQ(wf::last_step(1), 0);
}

TEST(CollisionWavefront, SameBitsAsTheSequentialPass) {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    for (int D : {2, 3}) {
        for (int n : {2, 3, 9, 40, 150}) {
            std::vector<float> seq(static_cast<size_t>(n * D));
            for (float& v : seq) v = normal(rng);
            std::vector<float> wave = seq;
            const float m = 1.0f;  // most pairs of this cloud are closer than m
            for (int i = 0; i < n; ++i)
                for (int j = i + 1; j < n; ++j) wf::collision_step(seq.data(), D, i, j, m);
            for (int step = 1; step <= wf::last_step(n); ++step)  // pairs of a step reversed
                for (int i = wf::last_row(step); i >= wf::first_row(step, n); --i)
                    wf::collision_step(wave.data(), D, i, step - 2 * i, m);
            EXPECT_EQ(std::memcmp(seq.data(), wave.data(), seq.size() * sizeof(float)), 0)
                << "n " << n << " D " << D;
        }
    }
}

Scene scene_of(int64_t n, int64_t F) {
    Scene s;
    for (int64_t i = 0; i < n; ++i) s.names.push_back("e" + std::to_string(i));
    s.features.assign(static_cast<size_t>(n * F), 0.5f);
    return s;
}

// Scenes: 0 one entity; 1 33 entities with relations; 2 custom edges with a duplicate, a
// self-loop and a target without incoming edges; 3 constraints of every kind.
SceneBatch example_batch(int64_t F) {
    SceneBatch b;
    b.feature_dim = F;
    b.append(scene_of(1, F), "s0");
    Scene s1 = scene_of(33, F);
    s1.relation_dim = 2;
    s1.relations.assign(33 * 33 * 2, 0.25f);
    b.append(s1, "s1");
    Scene s2 = scene_of(4, F);
    s2.custom_edges = true;
    s2.edges = {{0, 1}, {2, 1}, {0, 1}, {3, 3}, {1, 0}};
    b.append(s2, "s2");
    Scene s3 = scene_of(3, F);
    s3.distance = {{0, 1, 0.5}};
    s3.angle = {{0, 1, 2, 1.0}};
    s3.collision = 0.8;
    b.append(s3, "s3");
    return b;
}

TEST(BatchPlan, TablesOfAMixedBatch) {
    ModelConfig cfg;
    cfg.feature_dim = 4;
    const cuda::BatchPlan p = cuda::make_batch_plan(example_batch(4), cfg, 32);
    EXPECT_EQ(p.num_scenes, 4);
    EXPECT_EQ(p.total, 41);
    EXPECT_EQ(p.max_scene_size, 33);
    EXPECT_EQ(p.tiles, (std::vector<int32_t>{0, 0, 1, 0, 1, 32, 3, 0}));
    EXPECT_EQ(p.custom, (std::vector<int32_t>{0, 0, 1, 0}));
    EXPECT_EQ(p.rel_base, (std::vector<int64_t>{-1, 0, -1, -1}));
    EXPECT_EQ(p.sparse_targets, (std::vector<int32_t>{34, 35, 36, 37}));
    // Incoming edges by target, duplicates kept, in input order.
    auto incoming = [&](int t) {
        return std::vector<int32_t>(p.in_src.begin() + p.in_ptr[t],
                                    p.in_src.begin() + p.in_ptr[t + 1]);
    };
    EXPECT_EQ(incoming(34), (std::vector<int32_t>{35}));
    EXPECT_EQ(incoming(35), (std::vector<int32_t>{34, 36, 34}));
    EXPECT_TRUE(incoming(36).empty());
    EXPECT_EQ(incoming(37), (std::vector<int32_t>{37}));
    EXPECT_EQ(p.in_ptr[34], 0);  // complete-graph rows have no list
    // Unique pairs by source, and both directions (deg = 2, 3, 1, 2 as model.md's A + A^T).
    auto list = [](const std::vector<int32_t>& ptr, const std::vector<int32_t>& idx, int a) {
        std::multiset<int32_t> m(idx.begin() + ptr[a], idx.begin() + ptr[a + 1]);
        return m;
    };
    EXPECT_EQ(list(p.out_ptr, p.out_idx, 34), (std::multiset<int32_t>{35}));
    EXPECT_EQ(list(p.out_ptr, p.out_idx, 35), (std::multiset<int32_t>{34}));
    EXPECT_EQ(list(p.out_ptr, p.out_idx, 36), (std::multiset<int32_t>{35}));
    EXPECT_EQ(list(p.out_ptr, p.out_idx, 37), (std::multiset<int32_t>{37}));
    EXPECT_EQ(list(p.sym_ptr, p.sym_idx, 34), (std::multiset<int32_t>{35, 35}));
    EXPECT_EQ(list(p.sym_ptr, p.sym_idx, 35), (std::multiset<int32_t>{34, 34, 36}));
    EXPECT_EQ(list(p.sym_ptr, p.sym_idx, 36), (std::multiset<int32_t>{35}));
    EXPECT_EQ(list(p.sym_ptr, p.sym_idx, 37), (std::multiset<int32_t>{37, 37}));
    // Constraints.
    EXPECT_EQ(p.constrained, (std::vector<int32_t>{3}));
    EXPECT_EQ(p.dist_ptr, (std::vector<int32_t>{0, 0, 0, 0, 1}));
    EXPECT_EQ(p.dist_pairs, (std::vector<int32_t>{0, 1}));
    EXPECT_EQ(p.angle_triples, (std::vector<int32_t>{0, 1, 2}));
    EXPECT_FLOAT_EQ(p.dist_target[0], 0.5f);
    EXPECT_FLOAT_EQ(p.angle_theta[0], 1.0f);
    EXPECT_FLOAT_EQ(p.collision[3], 0.8f);
    EXPECT_TRUE(std::isnan(p.collision[0]));
}

TEST(BatchPlan, TilesFollowTheTileSize) {
    ModelConfig cfg;
    cfg.feature_dim = 4;
    const cuda::BatchPlan p = cuda::make_batch_plan(example_batch(4), cfg, 8);
    EXPECT_EQ(p.num_tiles(), 1 + 5 + 1);  // 1, ceil(33 / 8), and the 3-entity scene
}

TEST(BatchPlan, RefusesWhatTheKernelsCouldNotReadSafely) {
    ModelConfig cfg;
    cfg.feature_dim = 4;
    EXPECT_THROW(cuda::make_batch_plan(example_batch(5), cfg, 32), InputError);  // width
    SceneBatch bad_edge = example_batch(4);
    bad_edge.edges[1] = {2, 4};
    EXPECT_THROW(cuda::make_batch_plan(bad_edge, cfg, 32), InputError);
    SceneBatch bad_dist = example_batch(4);
    bad_dist.distance[0].j = 3;
    EXPECT_THROW(cuda::make_batch_plan(bad_dist, cfg, 32), InputError);
    SceneBatch bad_rel = example_batch(4);
    bad_rel.rel_norms.pop_back();
    EXPECT_THROW(cuda::make_batch_plan(bad_rel, cfg, 32), InputError);
    SceneBatch bad_features = example_batch(4);
    bad_features.features.pop_back();
    EXPECT_THROW(cuda::make_batch_plan(bad_features, cfg, 32), InputError);
}

}  // namespace
}  // namespace gasm
