// SPDX-License-Identifier: MIT
// Uploads a batch plan: the int32 tables packed into one buffer and the float tables into
// another (two copies instead of twenty), the relation norms, the features, and the reset of
// the loop state.
#include "kernels/device_batch.hpp"

#include <algorithm>
#include <vector>

namespace gasm::cuda {
namespace {

// Host arrays laid end to end, each starting on a multiple of 4 elements.
template <class T>
class Packed {
  public:
    size_t add(const std::vector<T>& v) {
        const size_t at = data_.size();
        data_.insert(data_.end(), v.begin(), v.end());
        data_.resize((data_.size() + 3) / 4 * 4);
        return at;
    }
    const std::vector<T>& data() const { return data_; }

  private:
    std::vector<T> data_;
};

// Queues a copy of n values to dst, growing it first. A pageable source has been read by the
// time cudaMemcpyAsync returns, so the caller may free it then.
template <class T>
void upload(DeviceBuffer<T>& dst, const T* src, size_t n, cudaStream_t stream) {
    if (n == 0) return;
    dst.reserve(n);
    GASM_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src, n * sizeof(T), cudaMemcpyHostToDevice, stream));
}

}  // namespace

void DeviceBatch::reserve(const BatchPlan& plan, const BatchShape& shape, size_t rel_count) {
    const auto T = static_cast<size_t>(std::max(plan.total, 1));
    const auto S = static_cast<size_t>(std::max(plan.num_scenes, 1));
    const auto K = static_cast<size_t>(std::max(shape.max_iterations, 1));
    const auto F = static_cast<size_t>(shape.feature_dim);
    const auto H = static_cast<size_t>(shape.hidden_dim);
    x_.reserve(T * F);
    u_.reserve(T * F);
    y_.reserve(T * F);
    proj_.reserve(T * static_cast<size_t>(shape.proj_ld));
    attn_.reserve(T * H);
    hidden_.reserve(T * H);
    g_.reserve(T * static_cast<size_t>(shape.output_dim));
    pos_.reserve(T);
    quat_.reserve(T);
    flags_.reserve(2 * S);
    counters_.reserve(S + K);
    curvature_.reserve(S * K);
    rel_base_.reserve(S);
    rel_norms_.reserve(std::max<size_t>(rel_count, 1));
}

void DeviceBatch::load(const BatchPlan& plan, const SceneBatch& batch, const BatchShape& shape,
                       float target_curvature, cudaStream_t stream) {
    reserve(plan, shape, batch.rel_norms.size());
    Packed<int32_t> ints;
    const size_t offsets = ints.add(plan.offsets), scene_of = ints.add(plan.scene_of);
    const size_t custom = ints.add(plan.custom), tiles = ints.add(plan.tiles);
    const size_t sparse = ints.add(plan.sparse_targets);
    const size_t in_ptr = ints.add(plan.in_ptr), in_src = ints.add(plan.in_src);
    const size_t out_ptr = ints.add(plan.out_ptr), out_idx = ints.add(plan.out_idx);
    const size_t sym_ptr = ints.add(plan.sym_ptr), sym_idx = ints.add(plan.sym_idx);
    const size_t constrained = ints.add(plan.constrained);
    const size_t dist_ptr = ints.add(plan.dist_ptr), dist_pairs = ints.add(plan.dist_pairs);
    const size_t angle_ptr = ints.add(plan.angle_ptr);
    const size_t angle_triples = ints.add(plan.angle_triples);
    Packed<float> floats;
    const size_t dist_target = floats.add(plan.dist_target);
    const size_t angle_theta = floats.add(plan.angle_theta);
    const size_t collision = floats.add(plan.collision);

    upload(ints_, ints.data().data(), ints.data().size(), stream);
    upload(floats_, floats.data().data(), floats.data().size(), stream);
    upload(rel_base_, plan.rel_base.data(), plan.rel_base.size(), stream);
    upload(rel_norms_, batch.rel_norms.data(), batch.rel_norms.size(), stream);
    upload(x_, batch.features.data(), batch.features.size(), stream);

    const auto S = static_cast<size_t>(plan.num_scenes);
    const auto K = static_cast<size_t>(shape.max_iterations);
    if (S > 0) {
        GASM_CUDA_CHECK(cudaMemsetAsync(flags_.get(), 1, S, stream));
        GASM_CUDA_CHECK(cudaMemsetAsync(flags_.get() + S, 0, S, stream));
    }
    GASM_CUDA_CHECK(cudaMemsetAsync(counters_.get(), 0, (S + K) * sizeof(int32_t), stream));

    const int32_t* i = ints_.get();
    const float* f = floats_.get();
    layout_ = {plan.num_scenes, plan.total, i + offsets, i + scene_of, plan.max_scene_size};
    graph_ = {i + custom, i + out_ptr, i + out_idx, i + sym_ptr, i + sym_idx};
    constraints_ = {i + dist_ptr,      i + dist_pairs,  f + dist_target, i + angle_ptr,
                    i + angle_triples, f + angle_theta, f + collision};
    state_.active = flags_.get();
    state_.converged = flags_.get() + S;
    state_.iterations = counters_.get();
    state_.active_count = counters_.get() + S;
    state_.curvature = curvature_.get();
    state_.max_iterations = shape.max_iterations;
    state_.target = target_curvature;
    tiles_ = i + tiles;
    sparse_targets_ = i + sparse;
    in_ptr_ = i + in_ptr;
    in_src_ = i + in_src;
    constrained_ = i + constrained;
}

}  // namespace gasm::cuda
