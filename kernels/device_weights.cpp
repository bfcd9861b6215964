// SPDX-License-Identifier: MIT
// Packs the weights into the device layout of device_weights.hpp through one pinned buffer and
// one cudaMemcpyAsync.
#include "kernels/device_weights.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <string>

#include "host/errors.hpp"

namespace gasm::cuda {
namespace {

constexpr size_t kAlign = 64;  // floats: 256 bytes

// Where each packed piece goes: (source values, destination offset in floats).
struct Piece {
    const float* data;
    size_t count;
    size_t at;
};

class Packer {
  public:
    explicit Packer(const Weights& w) : w_(w) {}

    // Places tensors `keys` one after another (stacked rows) and returns the block's offset.
    size_t place(std::initializer_list<std::string> keys) {
        const size_t start = size_;
        for (const std::string& key : keys) {
            const Tensor& t = tensor(key);
            pieces_.push_back({t.data.data(), t.data.size(), size_});
            size_ += t.data.size();
        }
        size_ = (size_ + kAlign - 1) / kAlign * kAlign;
        return start;
    }
    float scalar(const std::string& key) const { return tensor(key).data.at(0); }
    const Tensor& tensor(const std::string& key) const {
        for (size_t i = 0; i < w_.specs.size() && i < w_.tensors.size(); ++i) {
            if (w_.specs[i].key != key) continue;
            const Tensor& t = w_.tensors[i];
            const auto want = static_cast<size_t>(w_.specs[i].numel());
            if (t.data.size() != want)
                throw WeightsError("weights: " + key + " holds " + std::to_string(t.data.size()) +
                                   " values, expected " + std::to_string(want));
            return t;
        }
        throw WeightsError("weights: no parameter named " + key);
    }
    size_t size() const { return size_; }
    const std::vector<Piece>& pieces() const { return pieces_; }

  private:
    const Weights& w_;
    std::vector<Piece> pieces_;
    size_t size_ = 0;
};

}  // namespace

DeviceWeights upload_weights(const Weights& weights, cudaStream_t stream) {
    const ModelConfig& cfg = weights.config;
    if (weights.specs.size() != canonical_params(cfg).size())
        throw WeightsError("weights: " + std::to_string(weights.specs.size()) +
                           " parameters, expected " + std::to_string(canonical_params(cfg).size()) +
                           " for " + cfg.describe());
    Packer pack(weights);
    const std::string a = "se3_attention.";
    const size_t proj_w = pack.place({a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight",
                                      a + "pos_embedding.weight", a + "rot_embedding.weight"});
    const size_t proj_b = pack.place({a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias",
                                      a + "pos_embedding.bias", a + "rot_embedding.bias"});
    const size_t out_w = pack.place({a + "out_proj.weight"});
    const size_t out_b = pack.place({a + "out_proj.bias"});
    const size_t ln_g = pack.place({a + "layer_norm.weight"});
    const size_t ln_b = pack.place({a + "layer_norm.bias"});
    const size_t f2g_w = pack.place({"feature_to_geom.weight"});
    const size_t f2g_b = pack.place({"feature_to_geom.bias"});
    const size_t g2f_w = pack.place({"geom_to_feature.weight"});
    const size_t g2f_b = pack.place({"geom_to_feature.bias"});
    std::vector<std::array<size_t, 6>> evo;
    for (int64_t k = 0; k < cfg.max_iterations; ++k) {
        const std::string e = "feature_evolution." + std::to_string(k) + ".";
        evo.push_back({pack.place({e + "0.weight"}), pack.place({e + "0.bias"}),
                       pack.place({e + "3.weight"}), pack.place({e + "3.bias"}),
                       pack.place({e + "4.weight"}), pack.place({e + "4.bias"})});
    }

    DeviceWeights dw;
    dw.target_curvature = pack.scalar("target_curvature");
    dw.distance_scale = pack.scalar(a + "distance_scale");
    dw.transform = se3::make_transform(pack.tensor(a + "se3_params").data.data());
    dw.proj_rows = static_cast<int>(3 * cfg.hidden_dim + 7);
    dw.proj_ld = (dw.proj_rows + 3) / 4 * 4;

    PinnedBuffer<float> staging(pack.size());
    std::fill(staging.get(), staging.get() + pack.size(), 0.0f);
    for (const Piece& piece : pack.pieces())
        std::memcpy(staging.get() + piece.at, piece.data, piece.count * sizeof(float));
    dw.storage = DeviceBuffer<float>(pack.size());
    GASM_CUDA_CHECK(cudaMemcpyAsync(dw.storage.get(), staging.get(), pack.size() * sizeof(float),
                                    cudaMemcpyHostToDevice, stream));
    GASM_CUDA_CHECK(cudaStreamSynchronize(stream));  // before the staging buffer goes

    const float* base = dw.storage.get();
    dw.proj_w = base + proj_w;
    dw.proj_b = base + proj_b;
    dw.out_w = base + out_w;
    dw.out_b = base + out_b;
    dw.ln_gamma = base + ln_g;
    dw.ln_beta = base + ln_b;
    dw.f2g_w = base + f2g_w;
    dw.f2g_b = base + f2g_b;
    dw.g2f_w = base + g2f_w;
    dw.g2f_b = base + g2f_b;
    for (const auto& o : evo)
        dw.evolution.push_back(
            {base + o[0], base + o[1], base + o[2], base + o[3], base + o[4], base + o[5]});
    return dw;
}

}  // namespace gasm::cuda
