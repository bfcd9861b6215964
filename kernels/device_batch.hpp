// SPDX-License-Identifier: MIT
// One batch on the device: its plan tables (batch_plan.hpp), the activations of an iteration
// and the per-scene loop state, plus the typed views the ops take. The buffers only grow, so a
// backend that runs many batches of similar size allocates once. All copies are asynchronous on
// the backend's stream; load() returns as soon as they are queued.
#pragma once

#include <cstdint>

#include "host/scene.hpp"
#include "kernels/batch_plan.hpp"
#include "kernels/device_memory.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda {

struct BatchShape {
    int feature_dim = 0;     // F
    int hidden_dim = 0;      // H
    int output_dim = 0;      // D
    int proj_ld = 0;         // row stride of the stacked projection output
    int max_iterations = 0;  // K
};

class DeviceBatch {
  public:
    // Uploads the plan, the features (into x) and the relation norms, and resets the loop state:
    // every scene active, nothing converged, no iteration run.
    void load(const BatchPlan& plan, const SceneBatch& batch, const BatchShape& shape,
              float target_curvature, cudaStream_t stream);

    // Activations, row-major over the T rows of the batch.
    float* x() const { return x_.get(); }            // (T, F) features, updated in place
    float* u() const { return u_.get(); }            // (T, F) attention layer output
    float* y() const { return y_.get(); }            // (T, F) GEMM output before its epilogue
    float* proj() const { return proj_.get(); }      // (T, proj_ld) stacked q, k, v, pos, rot
    float* attn() const { return attn_.get(); }      // (T, H) attention output O
    float* hidden() const { return hidden_.get(); }  // (T, H) evolution hidden layer
    float* g() const { return g_.get(); }            // (T, D) geometry
    float4* pos() const { return pos_.get(); }       // (T) P'
    float4* quat() const { return quat_.get(); }     // (T) q'

    const ops::SceneLayout& layout() const { return layout_; }
    const ops::CurvatureGraph& graph() const { return graph_; }
    const ops::ConstraintInputs& constraints() const { return constraints_; }
    const ops::LoopState& state() const { return state_; }
    const float* rel_norms() const { return rel_norms_.get(); }
    const int64_t* rel_base() const { return rel_base_.get(); }
    const int* tiles() const { return tiles_; }                    // (num_tiles, 2)
    const int* sparse_targets() const { return sparse_targets_; }  // (n)
    const int* in_ptr() const { return in_ptr_; }                  // (T+1)
    const int* in_src() const { return in_src_; }                  // (E)
    const int* constrained() const { return constrained_; }        // (n)

  private:
    void reserve(const BatchPlan& plan, const BatchShape& shape, size_t rel_count);

    DeviceBuffer<int32_t> ints_;
    DeviceBuffer<float> floats_;
    DeviceBuffer<int64_t> rel_base_;
    DeviceBuffer<float> rel_norms_;
    DeviceBuffer<float> x_, u_, y_, proj_, attn_, hidden_, g_;
    DeviceBuffer<float4> pos_, quat_;
    DeviceBuffer<uint8_t> flags_;     // active (S), converged (S)
    DeviceBuffer<int32_t> counters_;  // iterations (S), active_count (K)
    DeviceBuffer<float> curvature_;   // (S, K)

    ops::SceneLayout layout_;
    ops::CurvatureGraph graph_;
    ops::ConstraintInputs constraints_;
    ops::LoopState state_;
    const int* tiles_ = nullptr;
    const int* sparse_targets_ = nullptr;
    const int* in_ptr_ = nullptr;
    const int* in_src_ = nullptr;
    const int* constrained_ = nullptr;
};

}  // namespace gasm::cuda
