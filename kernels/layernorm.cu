// SPDX-License-Identifier: MIT
// The two residual LayerNorms of an iteration, fused with the bias of the GEMM before them:
// the attention layer's LayerNorm(out_proj(O) + X) (step 8) and the feature evolution block's
// X + LayerNorm_k(W3 relu(...) + b3). One block per row; the row is staged in shared memory
// when it fits, and mean and biased variance come from two block reductions (eps 1e-5), as
// model.md defines LayerNorm. Rows of scenes that stopped iterating are skipped, which is what
// freezes X there.
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"
#include "kernels/reduce.cuh"

namespace gasm::cuda::ops {
namespace {

constexpr int kLnThreads = 256;
constexpr int kLnMaxStaged = 8192;  // 32 KiB of shared memory per block

// y, residual, out (rows, cols); bias, gamma, beta (cols); scene_of (rows); active (S). The row
// is staged in shared memory when it fits (staged_cols >= cols), else re-read from global.
__global__ void __launch_bounds__(kLnThreads)
    add_layernorm_kernel(const float* __restrict__ y, const float* __restrict__ bias,
                         const float* residual, const float* __restrict__ gamma,
                         const float* __restrict__ beta, float* out, int cols, bool inside,
                         const int* __restrict__ scene_of, const uint8_t* __restrict__ active,
                         int staged_cols) {
    const int row = blockIdx.x;
    if (active && !active[scene_of[row]]) return;  // uniform per block
    extern __shared__ float v[];                   // (staged_cols)
    __shared__ float scratch[32];
    const bool staged = staged_cols >= cols;
    const size_t at = static_cast<size_t>(row) * cols;
    auto value = [&](int c) {
        float x = y[at + c] + bias[c];
        if (inside) x += residual[at + c];
        return x;
    };
    float sum = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float x = value(c);
        if (staged) v[c] = x;
        sum += x;
    }
    const float mean = detail::block_sum(sum, scratch) / static_cast<float>(cols);
    float sq = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float dev = (staged ? v[c] : value(c)) - mean;
        sq += dev * dev;
    }
    const float var = detail::block_sum(sq, scratch) / static_cast<float>(cols);
    const float den = sqrtf(var + 1e-5f);
    // Each thread reads the residual element it then writes, so out may alias residual.
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float z = ((staged ? v[c] : value(c)) - mean) / den * gamma[c] + beta[c];
        out[at + c] = inside ? z : residual[at + c] + z;
    }
}

void launch_add_layernorm(const float* y, const float* bias, const float* residual,
                          const float* gamma, const float* beta, float* out, int rows, int cols,
                          bool inside, const int* scene_of, const uint8_t* active,
                          cudaStream_t stream) {
    const int staged_cols = cols <= kLnMaxStaged ? cols : 0;
    const size_t smem = sizeof(float) * static_cast<size_t>(staged_cols);
    add_layernorm_kernel<<<rows, kLnThreads, smem, stream>>>(
        y, bias, residual, gamma, beta, out, cols, inside, scene_of, active, staged_cols);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

}  // namespace

void add_layernorm(const float* y, const float* bias, const float* residual, const float* gamma,
                   const float* beta, float* out, int rows, int cols, Residual where,
                   const int* scene_of, const uint8_t* active, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    launch_add_layernorm(y, bias, residual, gamma, beta, out, rows, cols,
                         /*inside=*/where == Residual::inside, scene_of, active, stream);
}

}  // namespace gasm::cuda::ops
