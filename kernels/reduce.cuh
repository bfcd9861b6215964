// SPDX-License-Identifier: MIT
// Warp and block reductions shared by the kernels (LayerNorm statistics, per-scene curvature
// means, sums of positions). Blocks using block_sum must have a multiple of 32 threads and pass
// a __shared__ scratch of 32 floats; every thread of the block receives the result.
#pragma once

namespace gasm::cuda::detail {

constexpr unsigned kFullMask = 0xffffffffu;

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

__device__ inline float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

// Sum of v over the block. The leading barrier lets callers reuse scratch back to back.
__device__ inline float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(t);
}

}  // namespace gasm::cuda::detail
