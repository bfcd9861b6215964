// SPDX-License-Identifier: MIT
// The operations of the forward pass (model.md) on the CPU, one function per op, written as
// plain loops over named arrays so they read as the specification. The backend
// (cpu_backend.cpp) calls them over all entities of a batch; the matrix products go to BLAS.
#pragma once

#include <cstdint>
#include <vector>

#include "host/config.hpp"
#include "host/scene.hpp"
#include "host/se3.hpp"

namespace gasm::cpu {

// Y (rows, out) = X (rows, in) * W^T (W stored (out, in)) + b (out); beta=1 adds to Y instead.
void linear(const float* X, int64_t rows, int64_t in, const float* W, const float* b, int64_t out,
            float* Y, bool accumulate = false);

// In place over each row of Y (rows, cols): (y - mean) / sqrt(var + 1e-5) * gamma + beta.
void layer_norm(float* Y, int64_t rows, int64_t cols, const float* gamma, const float* beta);

// Pose of one entity from its projection row: P (3) and the normalised quaternion (4), then the
// global transform. proj_pose points at the 7 columns [pos(3), rot(4)] of the row.
void pose(const float* proj_pose, const se3::Transform& tf, se3::Vec3* P, se3::Quat* q);

// Incoming edges of each target of a scene with its own edge list (duplicates kept).
struct IncomingEdges {
    std::vector<int64_t> offsets;  // N+1
    std::vector<int64_t> sources;  // E
};
IncomingEdges incoming_edges(const std::array<int64_t, 2>* edges, int64_t num_edges, int64_t n);

// Symmetric adjacency A + A^T of the distinct pairs of an edge list, as CSR (for curvature).
struct Adjacency {
    std::vector<int64_t> offsets;  // N+1
    std::vector<int64_t> cols;
    std::vector<float> weights;
};
Adjacency symmetric_adjacency(const std::array<int64_t, 2>* edges, int64_t num_edges, int64_t n);

// What the attention of one scene needs; all pointers are to the scene's own rows.
struct AttentionScene {
    int64_t n = 0;
    const float* Q = nullptr;           // (n, ld) head m in columns m*d .. m*d+d-1
    const float* K = nullptr;           // (n, ld)
    const float* V = nullptr;           // (n, ld)
    int64_t ld = 0;                     // row stride of Q, K, V
    const se3::Vec3* P = nullptr;       // (n) transformed positions
    const se3::Quat* q = nullptr;       // (n) transformed quaternions
    // The same poses as seven rows px, py, pz, qw, qx, qy, qz of pose_ld floats each (the
    // scene's entities from column 0), for the vectorised loops of the tiled path.
    const float* pose = nullptr;
    int64_t pose_ld = 0;
    const float* rel_norm = nullptr;    // (n, n) ||R[s,t]|| row = source, or null
    const IncomingEdges* in = nullptr;  // null: the complete graph
};

// O rows t in [t_begin, t_end) of the scene (n, H) (row stride H): softmax-weighted sums of
// V over the incoming edges of t, per head. scratch holds at least 2 * n floats (or 2 * in-degree).
void attention_rows(const AttentionScene& sc, int64_t H, int64_t heads, float lambda,
                    int64_t t_begin, int64_t t_end, float* O, std::vector<float>& scratch);

// The same for a complete-graph scene, computed in tiles of sources with an online softmax
// and BLAS products per head: for large scenes. Rows [t_begin, t_end) at most kTargetTile.
// Needs sc.pose. Its exp and acos are those of host/vector_math.hpp.
inline constexpr int64_t kTargetTile = 64;
inline constexpr int64_t kSourceTile = 256;
void attention_rows_tiled(const AttentionScene& sc, int64_t H, int64_t heads, float lambda,
                          int64_t t_begin, int64_t t_end, float* O, std::vector<float>& scratch);

// Per-entity curvature c (n) of G (n, D) and its mean; adj null means the complete graph.
float curvature(CurvatureKind kind, const float* G, int64_t n, int64_t D, const Adjacency* adj,
                const std::array<int64_t, 2>* edges, int64_t num_edges, std::vector<float>& c);

// The constraints of one scene applied to G (n, D) in place, in the order model.md fixes.
void apply_constraints(float* G, int64_t n, int64_t D, const DistanceConstraint* dist,
                       int64_t num_dist, const AngleConstraint* angle, int64_t num_angle,
                       double collision /* NaN: none */);

}  // namespace gasm::cpu
