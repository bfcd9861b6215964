// SPDX-License-Identifier: MIT
// Each piece of the model's math against values worked out by hand (or by a dense formula
// written here independently): quaternions, Rodrigues, geodesic distance, softmax, LayerNorm,
// curvature, constraints, and the N = 1 scene.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "host/math_cpu.hpp"
#include "host/se3.hpp"
#include "tests/test_support.hpp"

namespace gasm {
namespace {

constexpr float kPi = std::numbers::pi_v<float>;

TEST(Se3, HamiltonProductOfBasisQuaternions) {
    const se3::Quat i{0, 1, 0, 0}, j{0, 0, 1, 0}, k{0, 0, 0, 1};
    se3::Quat ij = se3::mul(i, j);  // i j = k
    EXPECT_FLOAT_EQ(ij.w, 0);
    EXPECT_FLOAT_EQ(ij.z, 1);
    se3::Quat ji = se3::mul(j, i);  // j i = -k
    EXPECT_FLOAT_EQ(ji.z, -1);
    se3::Quat kk = se3::mul(k, k);  // k^2 = -1
    EXPECT_FLOAT_EQ(kk.w, -1);
    // A general product, expanded by hand: (1,2,3,4)(5,6,7,8) = (-60, 12, 30, 24).
    se3::Quat p = se3::mul({1, 2, 3, 4}, {5, 6, 7, 8});
    EXPECT_FLOAT_EQ(p.w, -60);
    EXPECT_FLOAT_EQ(p.x, 12);
    EXPECT_FLOAT_EQ(p.y, 30);
    EXPECT_FLOAT_EQ(p.z, 24);
}

TEST(Se3, NormalizeKeepsZeroAtZero) {
    se3::Quat z = se3::normalize({0, 0, 0, 0});
    EXPECT_EQ(z.w, 0);
    EXPECT_EQ(z.x, 0);
    se3::Quat q = se3::normalize({0, 3, 0, 4});
    EXPECT_FLOAT_EQ(q.x, 0.6f);
    EXPECT_FLOAT_EQ(q.z, 0.8f);
}

TEST(Se3, RodriguesQuarterTurnAboutZ) {
    const float p[6] = {1, 2, 3, 0, 0, kPi / 2};
    se3::Transform tf = se3::make_transform(p);
    se3::Vec3 v = se3::apply(tf, {1, 0, 0});  // x axis -> y axis, then + t
    EXPECT_NEAR(v.x, 1.0f, 1e-6);
    EXPECT_NEAR(v.y, 3.0f, 1e-6);
    EXPECT_NEAR(v.z, 3.0f, 1e-6);
    EXPECT_NEAR(tf.r.w, std::cos(kPi / 4), 1e-7);
    EXPECT_NEAR(tf.r.z, std::sin(kPi / 4), 1e-7);
    EXPECT_NEAR(tf.r.x, 0.0f, 1e-7);
}

TEST(Se3, TinyRotationIsIdentity) {
    const float p[6] = {0, 0, 0, 1e-7f, 0, 0};
    se3::Transform tf = se3::make_transform(p);
    for (int i = 0; i < 9; ++i) EXPECT_EQ(tf.rot[i], i % 4 == 0 ? 1.0f : 0.0f);
    EXPECT_EQ(tf.r.w, 1.0f);
}

TEST(Se3, RotationMatrixIsOrthonormal) {
    const float p[6] = {0, 0, 0, 0.3f, -1.1f, 0.7f};
    se3::Transform tf = se3::make_transform(p);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            float d = 0;
            for (int k = 0; k < 3; ++k) d += tf.rot[a * 3 + k] * tf.rot[b * 3 + k];
            EXPECT_NEAR(d, a == b ? 1.0f : 0.0f, 1e-6);
        }
}

TEST(Se3, GeodesicTreatsQAndMinusQAlike) {
    const se3::Quat q = se3::normalize({1, 2, -1, 0.5f});
    const se3::Quat mq{-q.w, -q.x, -q.y, -q.z};
    const se3::Vec3 a{0, 0, 0}, b{3, 4, 0};
    EXPECT_NEAR(se3::geodesic(a, q, b, q), 5.0f, 1e-3);
    EXPECT_NEAR(se3::geodesic(a, q, b, mq), 5.0f, 1e-3);
    // Orthogonal quaternions: acos(0) = pi/2, halved.
    EXPECT_NEAR(se3::geodesic(a, {1, 0, 0, 0}, a, {0, 1, 0, 0}), kPi / 4, 1e-6);
    // A zero quaternion: |dot| = 0.
    EXPECT_NEAR(se3::geodesic(a, {0, 0, 0, 0}, b, q), 5.0f + kPi / 4, 1e-5);
}

TEST(Cpu, LayerNormByHand) {
    float y[4] = {1, 2, 3, 4};
    const float g[4] = {1, 1, 2, 1}, b[4] = {0, 0, 0, 1};
    cpu::layer_norm(y, 1, 4, g, b);
    // mean 2.5, biased var 1.25
    const double s = std::sqrt(1.25 + 1e-5);
    EXPECT_NEAR(y[0], -1.5 / s, 1e-6);
    EXPECT_NEAR(y[1], -0.5 / s, 1e-6);
    EXPECT_NEAR(y[2], 2 * 0.5 / s, 1e-6);
    EXPECT_NEAR(y[3], 1.5 / s + 1, 1e-6);
}

TEST(Cpu, SoftmaxOverOneEdgeGivesTheValue) {
    // Target 0 has one incoming edge from source 1: weight exp(0)/(1 + 1e-16) = 1, so O_0 = V_1.
    const int64_t H = 4, heads = 2;
    std::vector<float> QKV = {// Q(4) K(4) V(4) for entity 0 and 1, row stride 12
                              1, 2, 3, 4, 0, 0, 0, 0, 9,  9, 9,  9,  //
                              0, 0, 0, 0, 5, 6, 7, 8, -1, 2, -3, 4};
    std::vector<se3::Vec3> P = {{0, 0, 0}, {1, 1, 1}};
    std::vector<se3::Quat> q = {{1, 0, 0, 0}, {0, 1, 0, 0}};
    std::array<int64_t, 2> edge{1, 0};
    cpu::IncomingEdges in = cpu::incoming_edges(&edge, 1, 2);
    cpu::AttentionScene sc;
    sc.n = 2;
    sc.Q = QKV.data();
    sc.K = QKV.data() + 4;
    sc.V = QKV.data() + 8;
    sc.ld = 12;
    sc.P = P.data();
    sc.q = q.data();
    sc.in = &in;
    std::vector<float> O(2 * H, 7.0f), scratch;
    cpu::attention_rows(sc, H, heads, 1.0f, 0, 2, O.data(), scratch);
    EXPECT_FLOAT_EQ(O[0], -1);
    EXPECT_FLOAT_EQ(O[1], 2);
    EXPECT_FLOAT_EQ(O[2], -3);
    EXPECT_FLOAT_EQ(O[3], 4);
    // Target 1 has no incoming edge: O_1 = 0.
    for (int c = 0; c < 4; ++c) EXPECT_EQ(O[4 + c], 0.0f);
}

TEST(Cpu, SoftmaxWeightsOfTwoEdgesByHand) {
    // One head, d = 1: scores q*k - lambda*g. Sources 1 and 2 at distance 1 and 2 (same
    // orientation, so no rotation term); Q_0 = 0, so weights are softmax(-1, -2).
    std::vector<float> QKV = {0, 0, 0,   // entity 0: Q K V
                              0, 0, 10,  // entity 1
                              0, 0, 20};
    std::vector<se3::Vec3> P = {{0, 0, 0}, {1, 0, 0}, {0, 2, 0}};
    std::vector<se3::Quat> q(3, se3::Quat{1, 0, 0, 0});
    cpu::AttentionScene sc;
    sc.n = 3;
    sc.Q = QKV.data();
    sc.K = QKV.data() + 1;
    sc.V = QKV.data() + 2;
    sc.ld = 3;
    sc.P = P.data();
    sc.q = q.data();
    std::vector<float> O(3), scratch;
    cpu::attention_rows(sc, 1, 1, 1.0f, 0, 1, O.data(), scratch);
    const double w1 = std::exp(-1.0), w2 = std::exp(-2.0);
    EXPECT_NEAR(O[0], (10 * w1 + 20 * w2) / (w1 + w2), 1e-5);
}

TEST(Cpu, TiledAttentionMatchesPlainAttention) {
    // Odd sizes around the tile edges, with and without relations, one head and four.
    for (int64_t n : {1, 2, 63, 257, 600}) {
        for (int64_t heads : {1, 4}) {
            const int64_t H = 16, ld = 3 * H;
            std::vector<float> QKV(n * ld), rel(n * n);
            for (size_t i = 0; i < QKV.size(); ++i) QKV[i] = std::sin(0.37f * i) * 1.5f;
            for (size_t i = 0; i < rel.size(); ++i) rel[i] = std::fabs(std::cos(0.11f * i));
            std::vector<se3::Vec3> P(n);
            std::vector<se3::Quat> q(n);
            for (int64_t i = 0; i < n; ++i) {
                P[i] = {std::sin(1.0f * i), std::cos(0.5f * i), 0.1f * i};
                q[i] = se3::normalize({1.0f, std::sin(0.3f * i), 0.2f, std::cos(0.7f * i)});
            }
            cpu::AttentionScene sc;
            sc.n = n;
            sc.Q = QKV.data();
            sc.K = QKV.data() + H;
            sc.V = QKV.data() + 2 * H;
            sc.ld = ld;
            sc.P = P.data();
            sc.q = q.data();
            std::vector<float> pose(7 * n);
            for (int64_t i = 0; i < n; ++i) {
                const float v[7] = {P[i].x, P[i].y, P[i].z, q[i].w, q[i].x, q[i].y, q[i].z};
                for (int64_t k = 0; k < 7; ++k) pose[k * n + i] = v[k];
            }
            sc.pose = pose.data();
            sc.pose_ld = n;
            sc.rel_norm = heads == 4 ? rel.data() : nullptr;
            std::vector<float> plain(n * H), tiled(n * H, 99.0f), scratch;
            cpu::attention_rows(sc, H, heads, 0.8f, 0, n, plain.data(), scratch);
            for (int64_t t = 0; t < n; t += cpu::kTargetTile)
                cpu::attention_rows_tiled(sc, H, heads, 0.8f, t, std::min(n, t + cpu::kTargetTile),
                                          tiled.data(), scratch);
            EXPECT_TRUE(testing::all_close(tiled, plain, {1e-5, 1e-5})) << "n " << n;
        }
    }
}

// The dense normalised Laplacian of model.md, written out independently.
std::vector<double> dense_gaussian(const std::vector<float>& G, int64_t n, int64_t D,
                                   const std::vector<std::array<int64_t, 2>>& edges) {
    std::vector<double> A(n * n, 0.0);
    std::vector<std::vector<bool>> seen(n, std::vector<bool>(n, false));
    for (auto [a, b] : edges) {
        if (seen[a][b]) continue;
        seen[a][b] = true;
        A[a * n + b] += 1;
        A[b * n + a] += 1;
    }
    std::vector<double> s(n, 0.0), c(n, 0.0);
    for (int64_t a = 0; a < n; ++a) {
        double deg = 0;
        for (int64_t b = 0; b < n; ++b) deg += A[a * n + b];
        s[a] = deg > 0 ? 1.0 / std::sqrt(deg + 1e-6) : 0.0;
    }
    for (int64_t a = 0; a < n; ++a) {
        double sq = 0;
        for (int64_t k = 0; k < D; ++k) {
            double v = 0;
            for (int64_t b = 0; b < n; ++b) {
                double L = (a == b ? 1.0 : 0.0) - s[a] * A[a * n + b] * s[b];
                v += L * G[b * D + k];
            }
            sq += v * v;
        }
        c[a] = std::sqrt(sq);
    }
    return c;
}

TEST(Cpu, ClosedFormCurvatureMatchesDenseLaplacian) {
    for (int64_t n : {2, 3, 7, 16}) {
        const int64_t D = 3;
        std::vector<float> G(n * D);
        for (size_t i = 0; i < G.size(); ++i) G[i] = std::sin(0.7f * i) * 2.0f;
        std::vector<std::array<int64_t, 2>> all;
        for (int64_t s = 0; s < n; ++s)
            for (int64_t t = 0; t < n; ++t)
                if (s != t) all.push_back({s, t});
        std::vector<double> want = dense_gaussian(G, n, D, all);
        std::vector<float> c;
        float mean =
            cpu::curvature(CurvatureKind::gaussian, G.data(), n, D, nullptr, nullptr, 0, c);
        double want_mean = 0;
        for (int64_t a = 0; a < n; ++a) {
            EXPECT_NEAR(c[a], want[a], 1e-5) << "n " << n << " entity " << a;
            want_mean += want[a] / n;
        }
        EXPECT_NEAR(mean, want_mean, 1e-5);
        // The sparse path on the same complete edge list gives the same numbers.
        cpu::Adjacency adj = cpu::symmetric_adjacency(all.data(), all.size(), n);
        std::vector<float> c2;
        cpu::curvature(CurvatureKind::gaussian, G.data(), n, D, &adj, all.data(), all.size(), c2);
        for (int64_t a = 0; a < n; ++a) EXPECT_NEAR(c2[a], want[a], 1e-5);
    }
}

TEST(Cpu, SparseCurvatureWithDuplicatesAndIsolatedEntity) {
    const int64_t n = 4, D = 2;
    std::vector<float> G = {1, 0, 0, 2, -1, 1, 3, 3};
    std::vector<std::array<int64_t, 2>> edges = {{0, 1}, {0, 1}, {1, 0}, {2, 1}, {1, 1}};
    cpu::Adjacency adj = cpu::symmetric_adjacency(edges.data(), edges.size(), n);
    std::vector<double> want = dense_gaussian(G, n, D, edges);
    std::vector<float> c;
    cpu::curvature(CurvatureKind::gaussian, G.data(), n, D, &adj, edges.data(), edges.size(), c);
    for (int64_t a = 0; a < n; ++a) EXPECT_NEAR(c[a], want[a], 1e-6) << a;
    // Entity 3 has no edge: s = 0, L = I, c = |G_3|.
    EXPECT_NEAR(c[3], std::sqrt(18.0), 1e-6);
}

TEST(Cpu, SingleEntityCurvature) {
    std::vector<float> G = {3, 4, 0};
    std::vector<float> c;
    float m = cpu::curvature(CurvatureKind::gaussian, G.data(), 1, 3, nullptr, nullptr, 0, c);
    EXPECT_NEAR(m, 5.0 * (1.0 - 2.0 / (2.0 + 1e-6)), 1e-9);
    EXPECT_NEAR(cpu::curvature(CurvatureKind::mean, G.data(), 1, 3, nullptr, nullptr, 0, c), 0.0,
                0);
    EXPECT_NEAR(
        cpu::curvature(CurvatureKind::ollivier_ricci, G.data(), 1, 3, nullptr, nullptr, 0, c), 2.0,
        1e-6);
}

TEST(Cpu, MeanAndOllivierRicciByHand) {
    // Three collinear points 0, 1, 3 on x; complete graph.
    std::vector<float> G = {0, 0, 0, 1, 0, 0, 3, 0, 0};
    std::vector<float> c;
    float m = cpu::curvature(CurvatureKind::mean, G.data(), 3, 3, nullptr, nullptr, 0, c);
    // means of the others: 2, 1.5, 0.5 -> |0-2|, |1-1.5|, |3-0.5|
    EXPECT_NEAR(c[0], 2.0, 1e-6);
    EXPECT_NEAR(c[1], 0.5, 1e-6);
    EXPECT_NEAR(c[2], 2.5, 1e-6);
    EXPECT_NEAR(m, 5.0 / 3.0, 1e-6);
    cpu::curvature(CurvatureKind::ollivier_ricci, G.data(), 3, 3, nullptr, nullptr, 0, c);
    // Each ordered pair (u, v) adds w = 1 / (1 + |G_u - G_v|) to c_u and to c_v, and both
    // directions are edges: c_0 = 2 (1/2) + 2 (1/4), c_1 = 2 (1/2) + 2 (1/3).
    EXPECT_NEAR(c[0], 1.5, 1e-6);
    EXPECT_NEAR(c[1], 1.0 + 2.0 / 3.0, 1e-6);
    EXPECT_NEAR(c[2], 0.5 + 2.0 / 3.0, 1e-6);
}

TEST(Cpu, DistanceConstraintStep) {
    std::vector<float> G = {0, 0, 0, 2, 0, 0};
    DistanceConstraint d{0, 1, 1.0};
    cpu::apply_constraints(G.data(), 2, 3, &d, 1, nullptr, 0, NAN);
    // rho 2, delta = 0.01 * (2 - 1) * (-1, 0, 0) * 0.5 = (-0.005, 0, 0); G0 -= delta, G1 += delta
    EXPECT_FLOAT_EQ(G[0], 0.005f);
    EXPECT_FLOAT_EQ(G[3], 1.995f);
}

TEST(Cpu, CollisionConstraintStep) {
    std::vector<float> G = {0, 0, 0, 0.5f, 0, 0, 10, 0, 0};
    cpu::apply_constraints(G.data(), 3, 3, nullptr, 0, nullptr, 0, 1.0);
    // pair (0,1): v = (-0.5,0,0), rho 0.5, delta = (-1,0,0) * 0.5 * 0.5 * 0.01 = -0.0025
    EXPECT_FLOAT_EQ(G[0], -0.0025f);
    EXPECT_FLOAT_EQ(G[3], 0.5025f);
    EXPECT_FLOAT_EQ(G[6], 10.0f);  // far away: untouched
}

TEST(Cpu, AngleConstraintMovesTowardsTarget) {
    // Right angle at j = 1, target 60 degrees: the arms close by one small step.
    std::vector<float> G = {1, 0, 0, 0, 0, 0, 0, 1, 0};
    AngleConstraint a{0, 1, 2, kPi / 3};
    cpu::apply_constraints(G.data(), 3, 3, nullptr, 0, &a, 1, NAN);
    // phi = pi/2, cos = 0, sin = 1: G_i -= eta (phi - theta) * (-(b / (|a||b|))) = + step * b
    const float step = 0.01f * (kPi / 2 - kPi / 3);
    EXPECT_NEAR(G[0], 1.0f, 1e-7);
    EXPECT_NEAR(G[1], step, 1e-7);
    EXPECT_NEAR(G[6], step, 1e-7);
    EXPECT_NEAR(G[7], 1.0f, 1e-7);
    EXPECT_EQ(G[3], 0.0f);  // the vertex stays
    // The angle got smaller.
    const double phi =
        std::acos((G[0] * G[6] + G[1] * G[7]) / (std::hypot(G[0], G[1]) * std::hypot(G[6], G[7])));
    EXPECT_LT(phi, kPi / 2);
}

TEST(Cpu, AngleConstraintSkipsDegenerateArms) {
    std::vector<float> G = {0, 0, 0, 0, 0, 0, 1, 0, 0};
    std::vector<float> before = G;
    AngleConstraint a{0, 1, 2, 1.0};
    cpu::apply_constraints(G.data(), 3, 3, nullptr, 0, &a, 1, NAN);
    EXPECT_EQ(G, before);
    // Collinear arms: sin(phi) = 0, skipped too.
    G = {1, 0, 0, 0, 0, 0, 2, 0, 0};
    before = G;
    cpu::apply_constraints(G.data(), 3, 3, nullptr, 0, &a, 1, NAN);
    EXPECT_EQ(G, before);
}

}  // namespace
}  // namespace gasm
