// SPDX-License-Identifier: MIT
// Discrete curvature of the geometry G and the per-iteration convergence decision (model.md,
// "Refinement" and "Curvature of G"), fused as one segmented reduction: one block per scene
// computes every entity's curvature c_a, reduces them to the scene's mean c, records it as this
// iteration's value, and stops the scene when |c - target_curvature| < 1e-4. Scenes that go on
// are counted in active_count[iteration], the one number the host reads back per iteration.
//
// Complete graph (N >= 2), in O(N) per scene from the scene's sum of positions:
//   gaussian: (L G)_a = G_a - 2 s^2 sum_{b != a} G_b with s^2 = 1 / (2 (N - 1) + 1e-6);
//   mean:     mean_a = sum_{b != a} G_b / (N - 1);
// and ollivier_ricci: c_a = 2 sum_{b != a} 1 / (1 + |G_a - G_b|), O(N^2) per scene. N = 1 has
// the single edge 0 -> 0: c_0 = |G_0| (1 - 2 / (2 + 1e-6)), 0 and 2 for the three kinds.
// Custom edges use the deduplicated pairs the host prepared: by source for "mean", and both
// directions of every pair for "gaussian" (deg_a is that list's length) and "ollivier_ricci".
#include <cmath>

#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"
#include "kernels/reduce.cuh"

namespace gasm::cuda::ops {
namespace {

constexpr int kCurvThreads = 256;
constexpr float kDegreeEps = 1e-6f;
constexpr float kTolerance = 1e-4f;

// |G_a - G_b| over D columns; G (T, D).
__device__ inline float distance(const float* G, int D, int a, int b) {
    float sq = 0.0f;
    for (int c = 0; c < D; ++c) {
        const float v = G[static_cast<size_t>(a) * D + c] - G[static_cast<size_t>(b) * D + c];
        sq += v * v;
    }
    return sqrtf(sq);
}

__device__ inline float degree_scale(const int* sym_ptr, int a) {
    const int deg = sym_ptr[a + 1] - sym_ptr[a];
    return deg > 0 ? 1.0f / sqrtf(static_cast<float>(deg) + kDegreeEps) : 0.0f;
}

// Curvature of entity a (global) of a complete-graph scene of n >= 2 entities; total (D) is the
// scene's sum of positions.
__device__ float complete_curvature(const float* G, int D, int base, int n, int a,
                                    const float* total, CurvatureKind kind) {
    const float* ga = G + static_cast<size_t>(a) * D;
    if (kind == CurvatureKind::ollivier_ricci) {
        float c = 0.0f;
        for (int b = base; b < base + n; ++b)
            if (b != a) c += 2.0f * (1.0f / (1.0f + distance(G, D, a, b)));
        return c;
    }
    const float s2 = 1.0f / (2.0f * static_cast<float>(n - 1) + kDegreeEps);
    float sq = 0.0f;
    for (int c = 0; c < D; ++c) {
        const float others = total[c] - ga[c];
        const float v = kind == CurvatureKind::gaussian
                            ? ga[c] - 2.0f * s2 * others
                            : ga[c] - others / static_cast<float>(n - 1);
        sq += v * v;
    }
    return sqrtf(sq);
}

// The one-entity scene, edge 0 -> 0.
__device__ float single_curvature(const float* G, int D, int a, CurvatureKind kind) {
    if (kind == CurvatureKind::ollivier_ricci) return 2.0f;
    if (kind == CurvatureKind::mean) return 0.0f;
    float sq = 0.0f;
    for (int c = 0; c < D; ++c)
        sq += G[static_cast<size_t>(a) * D + c] * G[static_cast<size_t>(a) * D + c];
    return sqrtf(sq) * (1.0f - 2.0f / (2.0f + kDegreeEps));
}

// Curvature of entity a (global) of a scene with its own edges.
__device__ float custom_curvature(const float* G, int D, int a, const CurvatureGraph& graph,
                                  CurvatureKind kind) {
    const float* ga = G + static_cast<size_t>(a) * D;
    if (kind == CurvatureKind::ollivier_ricci) {
        float c = 0.0f;
        for (int e = graph.sym_ptr[a]; e < graph.sym_ptr[a + 1]; ++e)
            c += 1.0f / (1.0f + distance(G, D, a, graph.sym_idx[e]));
        return c;
    }
    float sq = 0.0f;
    if (kind == CurvatureKind::mean) {
        const int lo = graph.out_ptr[a], hi = graph.out_ptr[a + 1];
        const float count = static_cast<float>(hi - lo > 1 ? hi - lo : 1);
        for (int c = 0; c < D; ++c) {
            float acc = 0.0f;
            for (int e = lo; e < hi; ++e) acc += G[static_cast<size_t>(graph.out_idx[e]) * D + c];
            const float v = ga[c] - acc / count;
            sq += v * v;
        }
        return sqrtf(sq);
    }
    const float sa = degree_scale(graph.sym_ptr, a);
    for (int c = 0; c < D; ++c) {
        float acc = 0.0f;
        for (int e = graph.sym_ptr[a]; e < graph.sym_ptr[a + 1]; ++e) {
            const int b = graph.sym_idx[e];
            acc += degree_scale(graph.sym_ptr, b) * G[static_cast<size_t>(b) * D + c];
        }
        const float v = ga[c] - sa * acc;
        sq += v * v;
    }
    return sqrtf(sq);
}

// One block per scene; G (T, D). Dynamic shared memory: the scene's sum of positions (D).
__global__ void __launch_bounds__(kCurvThreads)
    curvature_kernel(const float* __restrict__ G, int D, SceneLayout scenes, CurvatureGraph graph,
                     CurvatureKind kind, int iteration, LoopState state) {
    const int scene = blockIdx.x;
    if (!state.active[scene]) return;  // uniform per block
    extern __shared__ float total[];   // (D)
    __shared__ float scratch[32];
    const int base = scenes.offsets[scene];
    const int n = scenes.offsets[scene + 1] - base;
    const bool custom = graph.custom[scene] != 0;
    const bool need_total = !custom && n >= 2 && kind != CurvatureKind::ollivier_ricci;
    if (need_total) {
        for (int c = 0; c < D; ++c) {
            float part = 0.0f;
            for (int a = threadIdx.x; a < n; a += blockDim.x)
                part += G[static_cast<size_t>(base + a) * D + c];
            const float sum = detail::block_sum(part, scratch);
            if (threadIdx.x == 0) total[c] = sum;
        }
        __syncthreads();
    }
    float part = 0.0f;
    for (int a = base + threadIdx.x; a < base + n; a += blockDim.x) {
        if (custom)
            part += custom_curvature(G, D, a, graph, kind);
        else if (n == 1)
            part += single_curvature(G, D, a, kind);
        else
            part += complete_curvature(G, D, base, n, a, total, kind);
    }
    const float sum = detail::block_sum(part, scratch);
    if (threadIdx.x != 0) return;
    const float mean = sum / static_cast<float>(n);
    state.curvature[static_cast<size_t>(scene) * state.max_iterations + iteration] = mean;
    state.iterations[scene] = iteration + 1;
    if (fabsf(mean - state.target) < kTolerance) {
        state.converged[scene] = 1;
        state.active[scene] = 0;
    } else {
        atomicAdd(state.active_count + iteration, 1);
    }
}

void launch_curvature(const float* G, int D, const SceneLayout& scenes, const CurvatureGraph& graph,
                      CurvatureKind kind, int iteration, const LoopState& state,
                      cudaStream_t stream) {
    const size_t smem = sizeof(float) * static_cast<size_t>(D);
    curvature_kernel<<<scenes.num_scenes, kCurvThreads, smem, stream>>>(G, D, scenes, graph, kind,
                                                                        iteration, state);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

}  // namespace

void curvature_step(const float* G, int D, const SceneLayout& scenes, const CurvatureGraph& graph,
                    CurvatureKind kind, int iteration, const LoopState& state,
                    cudaStream_t stream) {
    if (scenes.num_scenes <= 0) return;
    launch_curvature(G, D, scenes, graph, kind, iteration, state, stream);
}

}  // namespace gasm::cuda::ops
