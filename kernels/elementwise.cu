// SPDX-License-Identifier: MIT
// Element-wise epilogues of the GEMMs: bias plus optional ReLU in place (the evolution block's
// hidden layer, feature_to_geom), and the geometry feedback X += 0.1 (geom_to_feature(G)),
// which only touches rows of scenes still iterating. Grid-stride loops over rows x cols.
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda::ops {
namespace {

constexpr int kEwThreads = 256;
constexpr int kEwMaxBlocks = 4096;

// y (rows, ld) in place; bias (cols).
__global__ void bias_act_kernel(float* __restrict__ y, int rows, int cols, int ld,
                                const float* __restrict__ bias, bool relu) {
    const size_t total = static_cast<size_t>(rows) * cols;
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<size_t>(gridDim.x) * blockDim.x) {
        const size_t r = i / cols, c = i % cols;
        float* p = y + r * ld + c;
        const float v = *p + bias[c];
        *p = relu ? fmaxf(v, 0.0f) : v;
    }
}

// x, y (rows, cols); bias (cols); scene_of (rows); active (S).
__global__ void feedback_kernel(float* __restrict__ x, const float* __restrict__ y,
                                const float* __restrict__ bias, float scale, int rows, int cols,
                                const int* __restrict__ scene_of,
                                const uint8_t* __restrict__ active) {
    const size_t total = static_cast<size_t>(rows) * cols;
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<size_t>(gridDim.x) * blockDim.x) {
        const size_t r = i / cols, c = i % cols;
        if (!active[scene_of[r]]) continue;
        x[i] += scale * (y[i] + bias[c]);
    }
}

unsigned blocks_for(size_t total) {
    const size_t b = (total + kEwThreads - 1) / kEwThreads;
    return static_cast<unsigned>(b < kEwMaxBlocks ? b : kEwMaxBlocks);
}

void launch_bias_act(float* y, int rows, int cols, int ld, const float* bias, bool relu,
                     cudaStream_t stream) {
    const unsigned blocks = blocks_for(static_cast<size_t>(rows) * cols);
    bias_act_kernel<<<blocks, kEwThreads, 0, stream>>>(y, rows, cols, ld, bias, relu);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

void launch_feedback(float* x, const float* y, const float* bias, float scale, int rows, int cols,
                     const int* scene_of, const uint8_t* active, cudaStream_t stream) {
    const unsigned blocks = blocks_for(static_cast<size_t>(rows) * cols);
    feedback_kernel<<<blocks, kEwThreads, 0, stream>>>(x, y, bias, scale, rows, cols, scene_of,
                                                       active);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

}  // namespace

void bias_act(float* y, int rows, int cols, int ld, const float* bias, Activation act,
              cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    launch_bias_act(y, rows, cols, ld, bias, /*relu=*/act == Activation::relu, stream);
}

void feedback(float* x, const float* y, const float* bias, float scale, int rows, int cols,
              const int* scene_of, const uint8_t* active, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return;
    launch_feedback(x, y, bias, scale, rows, cols, scene_of, active, stream);
}

}  // namespace gasm::cuda::ops
