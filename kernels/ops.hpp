// SPDX-License-Identifier: MIT
// Entry points of the CUDA backend's ops, one family per .cu file (pose, attention, layernorm,
// elementwise, curvature, constraints) plus the cuBLAS projections (gemm.cpp). Each entry point
// checks its arguments, picks the launch shape and checks the launch; the kernels themselves
// stay private to their files. Matrices are row-major; `(rows, cols)` beside a pointer is its
// shape, `ld` a row stride in elements. Entity indices are global rows of the batch unless a
// comment says local (within a scene).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "host/config.hpp"
#include "host/devices.hpp"
#include "host/se3.hpp"

namespace gasm::cuda::ops {

// Where the scenes of a batch live among the T rows; shared by every per-scene op.
struct SceneLayout {
    int num_scenes = 0;             // S
    int total = 0;                  // T
    const int* offsets = nullptr;   // (S+1) scene s owns rows offsets[s] .. offsets[s+1]-1
    const int* scene_of = nullptr;  // (T) scene of each row
    int max_scene_size = 0;         // max N_s
};

// The per-scene state of the refinement loop (model.md, "Refinement"), all on the device.
struct LoopState {
    uint8_t* active = nullptr;     // (S) 1 while the scene still iterates
    uint8_t* converged = nullptr;  // (S)
    int* iterations = nullptr;     // (S) iterations run so far
    float* curvature = nullptr;    // (S, K) mean curvature of each iteration run
    int* active_count = nullptr;   // (K) scenes still active after iteration k (pre-zeroed)
    int max_iterations = 0;        // K
    float target = 0.0f;           // target_curvature
};

// ---- gemm.cpp -----------------------------------------------------------------------------

// fp32: CUBLAS_DEFAULT_MATH (no TF32); tf32: CUBLAS_TF32_TENSOR_OP_MATH.
void set_math_mode(cublasHandle_t handle, Precision precision);

// y = x w^T without bias: x (rows, in) stride ldx, w (out, in) as PyTorch stores it, y (rows,
// out) stride ldy. One SGEMM; nothing is launched when rows == 0.
void linear(cublasHandle_t handle, int rows, int out, int in, const float* x, int ldx,
            const float* w, float* y, int ldy);

// ---- pose.cu ------------------------------------------------------------------------------

// Pose of each entity (model.md, attention steps 1-2): P = proj[:, col..col+2] + bias[col..],
// Qr = proj[:, col+3..col+6] + bias[col+3..], q = Qr / max(|Qr|, 1e-12), then P' = Rot P + t,
// q' = q (x) r. proj (rows, ldp); bias (col + 7); pos and quat (rows): P' as (x, y, z, 0) and
// q' as (w, x, y, z).
void pose(const float* proj, int ldp, int col, const float* bias, const se3::Transform& tf,
          int rows, float4* pos, float4* quat, cudaStream_t stream);

// ---- attention.cu -------------------------------------------------------------------------

struct AttentionInputs {
    const float* proj = nullptr;  // (T, ldp): Q at column 0, K at H, V at 2H, before bias
    int ldp = 0;
    const float* qkv_bias = nullptr;    // (3H) q, k, v biases
    const float4* pos = nullptr;        // (T) P'
    const float4* quat = nullptr;       // (T) q'
    float distance_scale = 1.0f;        // lambda
    int hidden = 0;                     // H
    int heads = 0;                      // h
    const float* rel_norms = nullptr;   // relation norms of all scenes' N_s x N_s blocks
    const int64_t* rel_base = nullptr;  // (S) scene s's block start, -1 without relations
    SceneLayout scenes;
    const uint8_t* active = nullptr;  // (S) scenes already stopped are skipped
};

// Targets (and sources) per tile of attention_dense for head size d; throws RuntimeFailure when
// even a tile of one does not fit in shared memory. The batch plan cuts scenes into such tiles.
int attention_tile_size(int head_dim);

// Complete-graph scenes (all s != t; N = 1: 0 -> 0): fused scores, online softmax and weighted
// sum over source tiles, O(N) memory. tiles (num_tiles, 2): scene, first local target of a
// tile of targets. out (T, H): rows of these scenes only.
void attention_dense(const AttentionInputs& in, const int* tiles, int num_tiles, float* out,
                     cudaStream_t stream);

// Scenes with their own edge list: one warp per (target, head) over the target's incoming
// edges, duplicates included; no incoming edge gives 0. targets (n): global rows to compute;
// in_ptr (T+1) and in_src (E): CSR by target of the global source of each incoming edge.
void attention_sparse(const AttentionInputs& in, const int* targets, int n, const int* in_ptr,
                      const int* in_src, float* out, cudaStream_t stream);

// ---- layernorm.cu -------------------------------------------------------------------------

enum class Residual {
    inside,   // out = LayerNorm(y + bias + residual)  (the attention layer, step 8)
    outside,  // out = residual + LayerNorm(y + bias)  (the feature evolution block)
};

// Row-wise over cols with eps 1e-5 and the biased variance. y, residual, out (rows, cols); out
// may alias residual. Rows whose scene is not active are left untouched.
void add_layernorm(const float* y, const float* bias, const float* residual, const float* gamma,
                   const float* beta, float* out, int rows, int cols, Residual where,
                   const int* scene_of, const uint8_t* active, cudaStream_t stream);

// ---- elementwise.cu -----------------------------------------------------------------------

enum class Activation { identity, relu };

// y = act(y + bias) in place; y (rows, cols) stride ld, bias (cols).
void bias_act(float* y, int rows, int cols, int ld, const float* bias, Activation act,
              cudaStream_t stream);

// x += scale * (y + bias) on the rows of active scenes; x, y (rows, cols), bias (cols).
void feedback(float* x, const float* y, const float* bias, float scale, int rows, int cols,
              const int* scene_of, const uint8_t* active, cudaStream_t stream);

// ---- constraints.cu -----------------------------------------------------------------------

struct ConstraintInputs {
    const int* dist_ptr = nullptr;       // (S+1) scene s owns distance rows dist_ptr[s] ..
    const int* dist_pairs = nullptr;     // (C, 2) local i, j
    const float* dist_target = nullptr;  // (C)
    const int* angle_ptr = nullptr;      // (S+1)
    const int* angle_triples = nullptr;  // (A, 3) local i, j, k
    const float* angle_theta = nullptr;  // (A) radians
    const float* collision = nullptr;    // (S) min distance, NaN where the scene has none
};

// model.md "Constraints" on G (T, D) in place, for the active scenes among scene_list (n).
void apply_constraints(float* G, int D, const SceneLayout& scenes, const ConstraintInputs& in,
                       const int* scene_list, int n, const uint8_t* active, cudaStream_t stream);

// ---- curvature.cu -------------------------------------------------------------------------

struct CurvatureGraph {
    const int* custom = nullptr;   // (S) 1 where the scene has its own edge list
    const int* out_ptr = nullptr;  // (T+1) unique (s, t) pairs by source s
    const int* out_idx = nullptr;  // global t of each
    const int* sym_ptr = nullptr;  // (T+1) both ends of every unique pair: (a, b) lists b at a
    const int* sym_idx = nullptr;  // and a at b (a self-loop lists a twice at a)
};

// Curvature of G (T, D) per entity, its mean c per active scene, recorded as iteration
// `iteration`; stops the scenes with |c - target| < 1e-4 and counts the rest in active_count.
void curvature_step(const float* G, int D, const SceneLayout& scenes, const CurvatureGraph& graph,
                    CurvatureKind kind, int iteration, const LoopState& state, cudaStream_t stream);

}  // namespace gasm::cuda::ops
