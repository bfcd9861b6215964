// SPDX-License-Identifier: MIT
// The geometric constraints of model.md on G, in its fixed order: distance constraints in input
// order, then angle constraints in input order, then the collision pass over i < j in row-major
// order, every step using the positions corrected by the steps before it. One block per scene;
// its positions are staged in shared memory when they fit, else corrected in place in global
// memory. Distance and angle steps run on thread 0, one after another.
//
// The collision pass is sequential by definition, but pair (i, j) touches only G_i and G_j, so
// it runs as the wavefront of collision_wavefront.hpp: about 3N barriers of one block instead
// of N(N - 1)/2 dependent steps on one thread, with exactly the sequential result.
//
// The angle step is one gradient step of L = (phi - theta)^2 / 2 on G_i and G_k, step 0.01,
// with a = G_i - G_j, b = G_k - G_j, c = cos phi = a.b / (|a||b|):
//   dphi/da = -(b / (|a||b|) - c a / |a|^2) / sin phi = -(b^ - c a^) / (|a| sin phi)
//   dphi/db = -(a^ - c b^) / (|b| sin phi)
//   G_i -= 0.01 (phi - theta) dphi/da,  G_k -= 0.01 (phi - theta) dphi/db,
// both gradients from the positions before either moves; G_j stays. Skipped when |a| or |b| is
// below 1e-6 or sin phi below 1e-6.
#include <cmath>

#include "kernels/collision_wavefront.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda::ops {
namespace {

constexpr int kConThreads = 256;
constexpr size_t kConSmem = 48 * 1024;
constexpr float kEta = 0.01f;
constexpr float kMinLen = 1e-6f;

// g (n, D) of one scene.
__device__ void distance_step(float* g, int D, int i, int j, float target) {
    float* gi = g + static_cast<size_t>(i) * D;
    float* gj = g + static_cast<size_t>(j) * D;
    float rho2 = 0.0f;
    for (int c = 0; c < D; ++c) {
        const float v = gi[c] - gj[c];
        rho2 += v * v;
    }
    const float rho = sqrtf(rho2);
    if (!(rho > kMinLen)) return;
    const float f = kEta * (rho - target);
    for (int c = 0; c < D; ++c) {
        const float delta = f * ((gi[c] - gj[c]) / rho) * 0.5f;
        gi[c] -= delta;
        gj[c] += delta;
    }
}

// g (n, D) of one scene; see the file comment for the formula.
__device__ void angle_step(float* g, int D, int i, int j, int k, float theta) {
    float* gi = g + static_cast<size_t>(i) * D;
    const float* gj = g + static_cast<size_t>(j) * D;
    float* gk = g + static_cast<size_t>(k) * D;
    float la2 = 0.0f, lb2 = 0.0f;
    for (int c = 0; c < D; ++c) {
        const float a = gi[c] - gj[c], b = gk[c] - gj[c];
        la2 += a * a;
        lb2 += b * b;
    }
    const float la = sqrtf(la2), lb = sqrtf(lb2);
    if (la < kMinLen || lb < kMinLen) return;
    float cosphi = 0.0f;
    for (int c = 0; c < D; ++c) cosphi += ((gi[c] - gj[c]) / la) * ((gk[c] - gj[c]) / lb);
    cosphi = fminf(fmaxf(cosphi, -1.0f), 1.0f);
    const float phi = acosf(cosphi);
    const float s = sinf(phi);
    if (s < kMinLen) return;
    const float err = phi - theta;
    // Dimension c of both gradients depends only on dimension c of a and b, so each dimension
    // is read and then moved before the next: both gradients see the old positions.
    for (int c = 0; c < D; ++c) {
        const float ah = (gi[c] - gj[c]) / la, bh = (gk[c] - gj[c]) / lb;
        const float grad_i = -err * (bh - cosphi * ah) / (la * s);
        const float grad_k = -err * (ah - cosphi * bh) / (lb * s);
        gi[c] -= kEta * grad_i;
        gk[c] -= kEta * grad_k;
    }
}

// The collision pass over all pairs i < j of an n-entity scene as a wavefront (file comment).
__device__ void collision_pass(float* g, int D, int n, float min_dist) {
    for (int step = 1; step <= wavefront::last_step(n); ++step) {
        for (int i = wavefront::first_row(step, n) + static_cast<int>(threadIdx.x);
             i <= wavefront::last_row(step); i += static_cast<int>(blockDim.x))
            wavefront::collision_step(g, D, i, step - 2 * i, min_dist);
        __syncthreads();
    }
}

// G (T, D); scene_list (gridDim.x); active (S). Shared memory: up to kConSmem of positions.
__global__ void __launch_bounds__(kConThreads)
    constraints_kernel(float* G, int D, SceneLayout scenes, ConstraintInputs in,
                       const int* __restrict__ scene_list, const uint8_t* __restrict__ active,
                       int smem_floats) {
    const int scene = scene_list[blockIdx.x];
    if (!active[scene]) return;  // uniform per block
    const int base = scenes.offsets[scene];
    const int n = scenes.offsets[scene + 1] - base;
    const int count = n * D;
    const bool staged = count <= smem_floats;
    extern __shared__ float staged_g[];
    float* global_g = G + static_cast<size_t>(base) * D;
    float* g = staged ? staged_g : global_g;
    if (staged) {
        for (int i = threadIdx.x; i < count; i += blockDim.x) staged_g[i] = global_g[i];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        for (int c = in.dist_ptr[scene]; c < in.dist_ptr[scene + 1]; ++c)
            distance_step(g, D, in.dist_pairs[2 * c], in.dist_pairs[2 * c + 1], in.dist_target[c]);
        for (int c = in.angle_ptr[scene]; c < in.angle_ptr[scene + 1]; ++c)
            angle_step(g, D, in.angle_triples[3 * c], in.angle_triples[3 * c + 1],
                       in.angle_triples[3 * c + 2], in.angle_theta[c]);
    }
    __syncthreads();
    const float min_dist = in.collision[scene];
    if (!isnan(min_dist)) collision_pass(g, D, n, min_dist);
    if (staged) {
        __syncthreads();
        for (int i = threadIdx.x; i < count; i += blockDim.x) global_g[i] = staged_g[i];
    }
}

void launch_constraints(float* G, int D, const SceneLayout& scenes, const ConstraintInputs& in,
                        const int* scene_list, int n, const uint8_t* active, cudaStream_t stream) {
    const size_t want = sizeof(float) * static_cast<size_t>(scenes.max_scene_size) * D;
    const size_t smem = want < kConSmem ? want : kConSmem;
    const int smem_floats = static_cast<int>(smem / sizeof(float));
    constraints_kernel<<<n, kConThreads, smem, stream>>>(G, D, scenes, in, scene_list, active,
                                                         smem_floats);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

}  // namespace

void apply_constraints(float* G, int D, const SceneLayout& scenes, const ConstraintInputs& in,
                       const int* scene_list, int n, const uint8_t* active, cudaStream_t stream) {
    if (n <= 0 || D <= 0) return;
    launch_constraints(G, D, scenes, in, scene_list, n, active, stream);
}

}  // namespace gasm::cuda::ops
