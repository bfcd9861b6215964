// SPDX-License-Identifier: MIT
// The CUDA backend: model.md's refinement loop over a whole batch at once. Every projection is
// one SGEMM over all T entities of the batch; attention, LayerNorm, constraints and curvature
// are the fused kernels of this folder. Scenes stop independently: the curvature kernel clears
// a scene's active flag on convergence and every later update of that scene is masked on the
// device. The host reads back one integer per iteration (how many scenes are still active),
// one iteration behind the device, so the stream never waits for it; once it reads zero the
// loop ends, leaving at most one fully masked iteration queued.
#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/errors.hpp"
#include "kernels/batch_plan.hpp"
#include "kernels/cuda_api.hpp"
#include "kernels/device_batch.hpp"
#include "kernels/device_memory.hpp"
#include "kernels/device_weights.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda {
namespace {

int usable_device(int index) {
    require_device(index);
    return index;
}

const ModelConfig& valid_config(const ModelConfig& config) {
    config.validate();
    return config;
}

class CudaBackend final : public Backend {
  public:
    CudaBackend(const Weights& weights, int index, const BackendOptions& options);
    ~CudaBackend() override { cudaSetDevice(index_); }
    std::string device_name() const override { return "cuda:" + std::to_string(index_); }
    BatchResult forward(const SceneBatch& batch, const RunOptions& options) override;
    const ModelConfig& config() const override { return config_; }

  private:
    void iteration(int k, const BatchPlan& plan, CurvatureKind kind);
    void attention(const BatchPlan& plan);
    void final_positions(const BatchPlan& plan);
    void download(const BatchPlan& plan, BatchResult& result);
    BatchShape shape() const;

    std::optional<DeviceGuard> setup_guard_;  // holds the device while the members are built
    ModelConfig config_;
    int index_ = 0;
    Stream stream_;
    CublasHandle blas_;
    DeviceWeights weights_;
    DeviceBatch batch_;
    std::vector<Event> done_;       // K: iteration k's active count has arrived
    PinnedBuffer<int32_t> counts_;  // K: active scenes after iteration k
    int tile_ = 1;
    std::mutex mutex_;  // one forward at a time: the batch buffers are shared
};

CudaBackend::CudaBackend(const Weights& weights, int index, const BackendOptions& options)
    : setup_guard_(std::in_place, usable_device(index)),
      config_(valid_config(weights.config)),
      index_(index),
      weights_(upload_weights(weights, stream_.get())),
      counts_(static_cast<size_t>(std::max<int64_t>(weights.config.max_iterations, 1))) {
    GASM_CUDA_CHECK(cublas().set_stream(blas_.get(), stream_.get()));
    ops::set_math_mode(blas_.get(), options.precision);
    for (int64_t k = 0; k < config_.max_iterations; ++k) done_.emplace_back();
    tile_ = ops::attention_tile_size(static_cast<int>(config_.head_dim()));
    setup_guard_.reset();
}

BatchShape CudaBackend::shape() const {
    return {static_cast<int>(config_.feature_dim), static_cast<int>(config_.hidden_dim),
            static_cast<int>(config_.output_dim), weights_.proj_ld,
            static_cast<int>(config_.max_iterations)};
}

BatchResult CudaBackend::forward(const SceneBatch& batch, const RunOptions& options) {
    std::lock_guard lock(mutex_);
    const BatchPlan plan = make_batch_plan(batch, config_, tile_);
    BatchResult result;
    result.reset(batch.offsets, config_.output_dim, config_.max_iterations);
    if (plan.total == 0) return result;

    DeviceGuard guard(index_);
    batch_.load(plan, batch, shape(), weights_.target_curvature, stream_.get());
    const int K = static_cast<int>(config_.max_iterations);
    for (int k = 0; k < K; ++k) {
        iteration(k, plan, options.curvature);
        GASM_CUDA_CHECK(cudaMemcpyAsync(counts_.get() + k, batch_.state().active_count + k,
                                        sizeof(int32_t), cudaMemcpyDeviceToHost, stream_.get()));
        done_[k].record(stream_.get());
        if (k >= 1) {
            done_[k - 1].synchronize();
            if (counts_.get()[k - 1] == 0) break;  // iteration k was queued fully masked
        }
    }
    final_positions(plan);
    download(plan, result);
    return result;
}

// One refinement iteration for every active scene (model.md, "Refinement").
void CudaBackend::iteration(int k, const BatchPlan& plan, CurvatureKind kind) {
    const cudaStream_t s = stream_.get();
    const cublasHandle_t h = blas_.get();
    const int T = plan.total, F = static_cast<int>(config_.feature_dim);
    const int H = static_cast<int>(config_.hidden_dim), D = static_cast<int>(config_.output_dim);
    const DeviceWeights& w = weights_;
    const DeviceWeights::Evolution& evo = w.evolution[k];
    const DeviceBatch& b = batch_;
    const int* scene_of = b.layout().scene_of;
    const uint8_t* active = b.state().active;

    // U = A(X)
    ops::linear(h, T, w.proj_rows, F, b.x(), F, w.proj_w, b.proj(), w.proj_ld);
    ops::pose(b.proj(), w.proj_ld, 3 * H, w.proj_b, w.transform, T, b.pos(), b.quat(), s);
    attention(plan);
    ops::linear(h, T, F, H, b.attn(), H, w.out_w, b.y(), F);
    ops::add_layernorm(b.y(), w.out_b, b.x(), w.ln_gamma, w.ln_beta, b.u(), T, F,
                       ops::Residual::inside, scene_of, active, s);
    // X = X + LayerNorm_k(W3 relu(W0 U + b0) + b3)
    ops::linear(h, T, H, F, b.u(), F, evo.w0, b.hidden(), H);
    ops::bias_act(b.hidden(), T, H, H, evo.b0, ops::Activation::relu, s);
    ops::linear(h, T, F, H, b.hidden(), H, evo.w3, b.y(), F);
    ops::add_layernorm(b.y(), evo.b3, b.x(), evo.gamma, evo.beta, b.x(), T, F,
                       ops::Residual::outside, scene_of, active, s);
    // G = feature_to_geom(X), constraints, curvature and the stop decision
    ops::linear(h, T, D, F, b.x(), F, w.f2g_w, b.g(), D);
    ops::bias_act(b.g(), T, D, D, w.f2g_b, ops::Activation::identity, s);
    ops::apply_constraints(b.g(), D, b.layout(), b.constraints(), b.constrained(),
                           static_cast<int>(plan.constrained.size()), active, s);
    ops::curvature_step(b.g(), D, b.layout(), b.graph(), kind, k, b.state(), s);
    // X = X + 0.1 geom_to_feature(G) for the scenes that go on
    ops::linear(h, T, F, D, b.g(), D, w.g2f_w, b.y(), F);
    ops::feedback(b.x(), b.y(), w.g2f_b, 0.1f, T, F, scene_of, active, s);
}

void CudaBackend::attention(const BatchPlan& plan) {
    const DeviceBatch& b = batch_;
    ops::AttentionInputs in;
    in.proj = b.proj();
    in.ldp = weights_.proj_ld;
    in.qkv_bias = weights_.proj_b;
    in.pos = b.pos();
    in.quat = b.quat();
    in.distance_scale = weights_.distance_scale;
    in.hidden = static_cast<int>(config_.hidden_dim);
    in.heads = static_cast<int>(config_.num_heads);
    in.rel_norms = b.rel_norms();
    in.rel_base = b.rel_base();
    in.scenes = b.layout();
    in.active = b.state().active;
    ops::attention_dense(in, b.tiles(), plan.num_tiles(), b.attn(), stream_.get());
    ops::attention_sparse(in, b.sparse_targets(), static_cast<int>(plan.sparse_targets.size()),
                          b.in_ptr(), b.in_src(), b.attn(), stream_.get());
}

// S = feature_to_geom(X) for every scene, into g.
void CudaBackend::final_positions(const BatchPlan& plan) {
    const int F = static_cast<int>(config_.feature_dim), D = static_cast<int>(config_.output_dim);
    ops::linear(blas_.get(), plan.total, D, F, batch_.x(), F, weights_.f2g_w, batch_.g(), D);
    ops::bias_act(batch_.g(), plan.total, D, D, weights_.f2g_b, ops::Activation::identity,
                  stream_.get());
}

void CudaBackend::download(const BatchPlan& plan, BatchResult& result) {
    const cudaStream_t s = stream_.get();
    const auto S = static_cast<size_t>(plan.num_scenes);
    const auto K = static_cast<size_t>(config_.max_iterations);
    const ops::LoopState& st = batch_.state();
    std::vector<float> curvature(S * K);
    GASM_CUDA_CHECK(cudaMemcpyAsync(result.positions.data(), batch_.g(),
                                    result.positions.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                    s));
    if (S * K > 0)
        GASM_CUDA_CHECK(cudaMemcpyAsync(curvature.data(), st.curvature, S * K * sizeof(float),
                                        cudaMemcpyDeviceToHost, s));
    GASM_CUDA_CHECK(cudaMemcpyAsync(result.iterations.data(), st.iterations, S * sizeof(int32_t),
                                    cudaMemcpyDeviceToHost, s));
    GASM_CUDA_CHECK(
        cudaMemcpyAsync(result.converged.data(), st.converged, S, cudaMemcpyDeviceToHost, s));
    stream_.synchronize();
    // Only the iterations a scene ran hold values; the rest stay NaN as reset() left them.
    for (size_t sc = 0; sc < S; ++sc)
        for (size_t k = 0; k < static_cast<size_t>(result.iterations[sc]) && k < K; ++k)
            result.curvature[sc * K + k] = curvature[sc * K + k];
}

}  // namespace

std::unique_ptr<Backend> make_backend(const Weights& weights, int index,
                                      const BackendOptions& options) {
    return std::make_unique<CudaBackend>(weights, index, options);
}

}  // namespace gasm::cuda
