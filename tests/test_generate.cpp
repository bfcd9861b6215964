// SPDX-License-Identifier: MIT
// Deterministic weight generation: the built-in Philox equals cuRAND's host generator, the
// uniform mapping, the canonical parameter table, and the golden digest for seed 42 at the
// default configuration (also computed independently by tests/reference/gasm_ref.py).
#include <gtest/gtest.h>

#include <cmath>

#include "host/generate.hpp"
#include "host/philox.hpp"

namespace gasm {
namespace {

TEST(Philox, KnownValuesOfCurandStream) {
    // Measured from libcurand's host generator, seed 42.
    uint32_t v[8];
    philox::generate(42, 0, v, 8);
    const uint32_t want[8] = {0x9ceaf053, 0x77f5493b, 0x12bf50ad, 0x5742b3d7,
                              0x02933769, 0x2051e913, 0x3b68b038, 0xb62c409c};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(v[i], want[i]) << "element " << i;
    EXPECT_EQ(philox::stream_element(42, 262144), 0xfcdb2127u);
}

TEST(Philox, BuiltInMatchesGeneratorInUse) {
    // With cuRAND compiled in this compares the two generators; offsets and sizes straddle the
    // block and the 65536-block boundaries.
    const std::pair<uint64_t, size_t> cases[] = {
        {0, 1}, {1, 7}, {3, 9}, {262140, 17}, {262143, 5}, {1000003, 4097}, {5, 200000}};
    for (uint64_t seed : {uint64_t{42}, uint64_t{7}, uint64_t{0xdeadbeefcafef00d}}) {
        for (auto [offset, n] : cases) {
            std::vector<uint32_t> a(n), b(n);
            philox::generate(seed, offset, a.data(), n);
            generate_bits(seed, offset, b.data(), n);
            ASSERT_EQ(a, b) << "seed " << seed << " offset " << offset << " n " << n;
        }
    }
}

TEST(Generate, UniformMappingIsExactFloat32) {
    const float bound = 1.0f / sqrtf(768.0f);
    EXPECT_EQ(uniform_weight(0u, bound), bound * (2.0f * (0.5f * 0x1p-24f) - 1.0f));
    EXPECT_LT(uniform_weight(0u, bound), -bound * 0.99999f);
    EXPECT_GT(uniform_weight(0xffffffffu, bound), bound * 0.99999f);
    EXPECT_LE(uniform_weight(0xffffffffu, bound), bound);
    EXPECT_EQ(uniform_weight(0x80000000u, 1.0f), (0x800000 + 0.5f) * 0x1p-24f * 2.0f - 1.0f);
}

TEST(Generate, CanonicalTableAndConstants) {
    ModelConfig c;
    Weights w = generate_weights(c, 42);
    ASSERT_EQ(w.specs.size(), 21u + 6u * 6u);
    EXPECT_EQ(w.specs[0].key, "target_curvature");
    EXPECT_EQ(w.specs[3].key, "se3_attention.q_proj.weight");
    EXPECT_EQ(w.specs.back().key, "feature_evolution.5.4.bias");
    EXPECT_FLOAT_EQ(w.get("target_curvature").data[0], 0.1f);
    EXPECT_FLOAT_EQ(w.get("se3_attention.distance_scale").data[0], 1.0f);
    for (float v : w.get("se3_attention.se3_params").data) EXPECT_EQ(v, 0.0f);
    for (float v : w.get("feature_evolution.2.4.weight").data) EXPECT_EQ(v, 1.0f);
    const float bound = 1.0f / sqrtf(256.0f);
    for (float v : w.get("se3_attention.out_proj.weight").data) {
        EXPECT_LE(std::fabs(v), bound);
    }
}

TEST(Generate, GoldenDigestSeed42Default) {
    Weights w = generate_weights(ModelConfig{}, 42);
    EXPECT_EQ(content_sha256(w),
              "1a075c7974eb6db0d1b3651564134c41b171ac10db0a7852b25241127e6365d6");
}

TEST(Generate, GoldenDigestSmallConfig) {
    ModelConfig c{48, 24, 3, 4, 4};
    EXPECT_EQ(content_sha256(generate_weights(c, 42)),
              "13719a83e754f28511cddf41d38653390e057f2d55438c25aefdda19af32d724");
}

TEST(Generate, SeedChangesEverything) {
    ModelConfig c{48, 24, 3, 4, 2};
    Weights a = generate_weights(c, 1), b = generate_weights(c, 2);
    EXPECT_NE(content_sha256(a), content_sha256(b));
    EXPECT_NE(a.get("feature_to_geom.weight").data, b.get("feature_to_geom.weight").data);
}

}  // namespace
}  // namespace gasm
