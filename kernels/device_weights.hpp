// SPDX-License-Identifier: MIT
// The model's parameters on the device, in the layout the CUDA backend computes with: one
// allocation, filled by one asynchronous copy from a pinned host buffer (weights-format.md,
// "Weights go to the device"). The q, k, v, position and rotation projections are stacked into
// one (3H + 7, F) matrix so a single GEMM projects every entity of a batch; every block starts
// on a 256-byte boundary. The scalars and the global SE(3) transform stay on the host, where
// they are passed to kernels by value.
#pragma once

#include <vector>

#include "host/params.hpp"
#include "host/se3.hpp"
#include "kernels/device_memory.hpp"

namespace gasm::cuda {

struct DeviceWeights {
    struct Evolution {
        const float* w0 = nullptr;     // (H, F) feature_evolution.k.0
        const float* b0 = nullptr;     // (H)
        const float* w3 = nullptr;     // (F, H) feature_evolution.k.3
        const float* b3 = nullptr;     // (F)
        const float* gamma = nullptr;  // (F) feature_evolution.k.4
        const float* beta = nullptr;   // (F)
    };

    DeviceBuffer<float> storage;
    int proj_rows = 0;                // 3H + 7: q, k, v (H each), position (3), rotation (4)
    int proj_ld = 0;                  // row stride of the projection output, proj_rows rounded to 4
    const float* proj_w = nullptr;    // (proj_rows, F)
    const float* proj_b = nullptr;    // (proj_rows)
    const float* out_w = nullptr;     // (F, H)
    const float* out_b = nullptr;     // (F)
    const float* ln_gamma = nullptr;  // (F) se3_attention.layer_norm
    const float* ln_beta = nullptr;   // (F)
    const float* f2g_w = nullptr;     // (D, F)
    const float* f2g_b = nullptr;     // (D)
    const float* g2f_w = nullptr;     // (F, D)
    const float* g2f_b = nullptr;     // (F)
    std::vector<Evolution> evolution;  // K
    float target_curvature = 0.0f;
    float distance_scale = 1.0f;
    se3::Transform transform{};
};

// Checks every tensor against the configuration (WeightsError naming the key otherwise) and
// copies the set to the current device on `stream`; returns once the copy is complete.
DeviceWeights upload_weights(const Weights& weights, cudaStream_t stream);

}  // namespace gasm::cuda
