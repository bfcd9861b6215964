// SPDX-License-Identifier: MIT
// The CPU backend: the whole forward pass of model.md over a batch. All entities of the scenes
// still refining are stacked into one matrix per step, so each projection is one BLAS call for
// the whole batch; attention, curvature and constraints then run per scene on the thread pool.
// Scenes that converge leave the stack (their rows are compacted out), so later iterations only
// pay for the scenes still running.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <thread>

#include "host/backend.hpp"
#include "host/errors.hpp"
#include "host/math_cpu.hpp"
#include "host/thread_pool.hpp"

namespace gasm {

namespace {

int resolve_threads(int requested) {
    if (requested > 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

// The parameters the forward pass reads, with q/k/v/pos/rot stacked into one projection.
struct CpuWeights {
    FloatBuffer proj_w;  // (3H + 7, F)
    FloatBuffer proj_b;  // (3H + 7)
    const float *out_w, *out_b, *ln_g, *ln_b;
    const float *f2g_w, *f2g_b, *g2f_w, *g2f_b;
    std::vector<const float*> w0, b0, w3, b3, lng, lnb;  // per iteration
    se3::Transform tf;
    float lambda, target;
};

CpuWeights pack(const Weights& w) {
    const ModelConfig& c = w.config;
    CpuWeights p;
    for (const char* name : {"q_proj", "k_proj", "v_proj", "pos_embedding", "rot_embedding"}) {
        std::string base = std::string("se3_attention.") + name;
        const auto& W = w.get(base + ".weight").data;
        const auto& B = w.get(base + ".bias").data;
        p.proj_w.insert(p.proj_w.end(), W.begin(), W.end());
        p.proj_b.insert(p.proj_b.end(), B.begin(), B.end());
    }
    p.out_w = w.data("se3_attention.out_proj.weight");
    p.out_b = w.data("se3_attention.out_proj.bias");
    p.ln_g = w.data("se3_attention.layer_norm.weight");
    p.ln_b = w.data("se3_attention.layer_norm.bias");
    p.f2g_w = w.data("feature_to_geom.weight");
    p.f2g_b = w.data("feature_to_geom.bias");
    p.g2f_w = w.data("geom_to_feature.weight");
    p.g2f_b = w.data("geom_to_feature.bias");
    for (int64_t k = 0; k < c.max_iterations; ++k) {
        std::string base = "feature_evolution." + std::to_string(k);
        p.w0.push_back(w.data(base + ".0.weight"));
        p.b0.push_back(w.data(base + ".0.bias"));
        p.w3.push_back(w.data(base + ".3.weight"));
        p.b3.push_back(w.data(base + ".3.bias"));
        p.lng.push_back(w.data(base + ".4.weight"));
        p.lnb.push_back(w.data(base + ".4.bias"));
    }
    p.tf = se3::make_transform(w.data("se3_attention.se3_params"));
    p.lambda = w.data("se3_attention.distance_scale")[0];
    p.target = w.data("target_curvature")[0];
    return p;
}

// Per-scene structures that do not change across iterations.
struct SceneGraph {
    cpu::IncomingEdges in;                       // attention: every listed edge, duplicates too
    cpu::Adjacency adj;                          // gaussian curvature
    std::vector<std::array<int64_t, 2>> unique;  // mean / ollivier_ricci: each edge once
};

class CpuBackend final : public Backend {
  public:
    CpuBackend(std::shared_ptr<const Weights> w, const CpuOptions& o)
        : weights_(std::move(w)), packed_(pack(*weights_)), pool_(resolve_threads(o.threads)) {}

    std::string device_name() const override { return "cpu"; }
    const ModelConfig& config() const override { return weights_->config; }
    BatchResult forward(const SceneBatch& batch, const RunOptions& options) override;

  private:
    // The rows of the scenes still refining, stacked; scene_rows[i] is the first row of the
    // i-th active scene within the stack.
    struct Active {
        std::vector<int64_t> scenes;
        std::vector<int64_t> first;  // size scenes + 1
    };

    // Runs fn(first_row, count) over blocks of kRowBlock rows of [0, rows) on the pool.
    static constexpr int64_t kRowBlock = 512;
    void for_row_blocks(int64_t rows, const std::function<void(int64_t, int64_t)>& fn);
    // Projections, poses and attention of the stacked rows: fills proj_, P_, q_ and O_.
    void attention(const SceneBatch& batch, const Active& act, const std::vector<SceneGraph>& g,
                   const float* X);
    // The rest of iteration k on rows [r0, r0 + n): attention output, evolution block, G.
    void refine_rows(int64_t k, int64_t r0, int64_t n, float* X);

    std::shared_ptr<const Weights> weights_;
    CpuWeights packed_;
    ThreadPool pool_;
    // Workspaces reused across calls, sized to the largest stack seen.
    FloatBuffer X_, proj_, O_, U_, Hh_, Z_, G_, Gc_;
    std::vector<se3::Vec3> P_;
    std::vector<se3::Quat> q_;
    std::vector<float> pose_;  // P_ and q_ as seven rows of `rows` floats, for the tiled path
};

void CpuBackend::for_row_blocks(int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
    // Blocks of a fixed number of rows, whatever the number of threads: a row's products then
    // come from the same BLAS call shapes on every machine and with every --threads, so the
    // results are the same bytes. 512 rows: large enough that OpenBLAS packs the weight matrix
    // rarely, small enough that two threads share a batch of a few thousand rows evenly.
    const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    pool_.parallel_for(blocks, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) {
            const int64_t r0 = i * kRowBlock;
            fn(r0, std::min(rows, r0 + kRowBlock) - r0);
        }
    });
}

void CpuBackend::attention(const SceneBatch& batch, const Active& act,
                           const std::vector<SceneGraph>& graphs, const float* X) {
    const ModelConfig& c = weights_->config;
    const int64_t F = c.feature_dim, H = c.hidden_dim, W = 3 * H + 7;
    const int64_t rows = act.first.back();
    proj_.resize(static_cast<size_t>(rows * W));
    P_.resize(static_cast<size_t>(rows));
    q_.resize(static_cast<size_t>(rows));
    pose_.resize(static_cast<size_t>(7 * rows));
    for_row_blocks(rows, [&](int64_t r0, int64_t n) {
        cpu::linear(X + r0 * F, n, F, packed_.proj_w.data(), packed_.proj_b.data(), W,
                    &proj_[r0 * W]);
        for (int64_t r = r0; r < r0 + n; ++r) {
            cpu::pose(&proj_[r * W + 3 * H], packed_.tf, &P_[r], &q_[r]);
            const float v[7] = {P_[r].x, P_[r].y, P_[r].z, q_[r].w, q_[r].x, q_[r].y, q_[r].z};
            for (int64_t k = 0; k < 7; ++k) pose_[k * rows + r] = v[k];
        }
    });

    // Work items: (active scene, block of targets), so one large scene spreads over threads.
    // Large complete-graph scenes take the tiled path (BLAS products per tile and head).
    constexpr int64_t kTargetsPerItem = 16;
    constexpr int64_t kTiledFrom = 256;
    auto tiled = [&](size_t i) {
        return !batch.custom_edges[act.scenes[i]] && act.first[i + 1] - act.first[i] >= kTiledFrom;
    };
    std::vector<std::pair<int64_t, int64_t>> items;
    for (size_t i = 0; i < act.scenes.size(); ++i) {
        const int64_t n = act.first[i + 1] - act.first[i];
        const int64_t step = tiled(i) ? cpu::kTargetTile : kTargetsPerItem;
        for (int64_t t = 0; t < n; t += step) items.emplace_back(i, t);
    }
    O_.resize(static_cast<size_t>(rows * H));
    pool_.parallel_for(static_cast<int64_t>(items.size()), [&](int64_t b, int64_t e, int) {
        std::vector<float> scratch;
        for (int64_t it = b; it < e; ++it) {
            const auto [i, t0] = items[it];
            const int64_t s = act.scenes[i], base = act.first[i];
            const int64_t n = act.first[i + 1] - base;
            cpu::AttentionScene sc;
            sc.n = n;
            sc.Q = &proj_[base * W];
            sc.K = sc.Q + H;
            sc.V = sc.Q + 2 * H;
            sc.ld = W;
            sc.P = &P_[base];
            sc.q = &q_[base];
            sc.pose = &pose_[base];
            sc.pose_ld = rows;
            sc.rel_norm = batch.has_relations(s) ? &batch.rel_norms[batch.rel_offsets[s]] : nullptr;
            sc.in = batch.custom_edges[s] ? &graphs[s].in : nullptr;
            if (tiled(i))
                cpu::attention_rows_tiled(sc, H, c.num_heads, packed_.lambda, t0,
                                          std::min(n, t0 + cpu::kTargetTile), &O_[base * H],
                                          scratch);
            else
                cpu::attention_rows(sc, H, c.num_heads, packed_.lambda, t0,
                                    std::min(n, t0 + kTargetsPerItem), &O_[base * H], scratch);
        }
    });
}

void CpuBackend::refine_rows(int64_t k, int64_t r0, int64_t n, float* X) {
    const ModelConfig& c = weights_->config;
    const int64_t F = c.feature_dim, H = c.hidden_dim, D = c.output_dim;
    float* x = X + r0 * F;
    float* u = &U_[r0 * F];
    float* hh = &Hh_[r0 * H];
    float* z = &Z_[r0 * F];
    // U = LayerNorm_attn(out_proj(O) + X)
    std::copy(x, x + n * F, u);
    cpu::linear(&O_[r0 * H], n, H, packed_.out_w, packed_.out_b, F, u, /*accumulate=*/true);
    cpu::layer_norm(u, n, F, packed_.ln_g, packed_.ln_b);
    // X += LayerNorm_k(W3 relu(W0 U + b0) + b3)
    cpu::linear(u, n, F, packed_.w0[k], packed_.b0[k], H, hh);
    for (int64_t i = 0; i < n * H; ++i) hh[i] = hh[i] > 0.0f ? hh[i] : 0.0f;
    cpu::linear(hh, n, H, packed_.w3[k], packed_.b3[k], F, z);
    cpu::layer_norm(z, n, F, packed_.lng[k], packed_.lnb[k]);
    for (int64_t i = 0; i < n * F; ++i) x[i] += z[i];
    // G = feature_to_geom(X)
    cpu::linear(x, n, F, packed_.f2g_w, packed_.f2g_b, D, &G_[r0 * D]);
}

BatchResult CpuBackend::forward(const SceneBatch& batch, const RunOptions& options) {
    const ModelConfig& c = weights_->config;
    const int64_t F = c.feature_dim, D = c.output_dim, K = c.max_iterations;
    if (batch.feature_dim != F)
        throw InputError("scenes have " + std::to_string(batch.feature_dim) +
                         " features per entity but the weights expect " + std::to_string(F));
    batch.validate("batch");
    const int64_t S = batch.num_scenes();
    BatchResult result;
    result.reset(batch.offsets, D, K);
    if (S == 0) return result;

    std::vector<SceneGraph> graphs(static_cast<size_t>(S));
    for (int64_t s = 0; s < S; ++s) {
        if (!batch.custom_edges[s]) continue;
        const auto* e = batch.edges.data() + batch.edge_offsets[s];
        const int64_t ne = batch.edge_offsets[s + 1] - batch.edge_offsets[s];
        graphs[s].in = cpu::incoming_edges(e, ne, batch.scene_size(s));
        graphs[s].adj = cpu::symmetric_adjacency(e, ne, batch.scene_size(s));
        graphs[s].unique.assign(e, e + ne);
        std::sort(graphs[s].unique.begin(), graphs[s].unique.end());
        graphs[s].unique.erase(std::unique(graphs[s].unique.begin(), graphs[s].unique.end()),
                               graphs[s].unique.end());
    }

    Active act;
    act.scenes.resize(static_cast<size_t>(S));
    std::iota(act.scenes.begin(), act.scenes.end(), 0);
    act.first = batch.offsets;
    // X lives in a workspace reused across calls: a fresh buffer of this size costs a page
    // fault per 4 KiB on every batch.
    FloatBuffer& X = X_;
    X.assign(batch.features.begin(), batch.features.end());

    for (int64_t k = 0; k < K && !act.scenes.empty(); ++k) {
        const int64_t rows = act.first.back();
        attention(batch, act, graphs, X.data());
        U_.resize(static_cast<size_t>(rows * F));
        Hh_.resize(static_cast<size_t>(rows * c.hidden_dim));
        Z_.resize(static_cast<size_t>(rows * F));
        G_.resize(static_cast<size_t>(rows * D));
        for_row_blocks(rows, [&](int64_t r0, int64_t n) { refine_rows(k, r0, n, X.data()); });
        Gc_ = G_;
        std::vector<uint8_t> done(act.scenes.size(), 0);
        pool_.parallel_for(static_cast<int64_t>(act.scenes.size()), [&](int64_t b, int64_t e, int) {
            std::vector<float> cv;
            for (int64_t i = b; i < e; ++i) {
                const int64_t s = act.scenes[i], base = act.first[i];
                const int64_t n = act.first[i + 1] - base;
                float* g = &Gc_[base * D];
                cpu::apply_constraints(g, n, D, batch.distance.data() + batch.dist_offsets[s],
                                       batch.dist_offsets[s + 1] - batch.dist_offsets[s],
                                       batch.angle.data() + batch.angle_offsets[s],
                                       batch.angle_offsets[s + 1] - batch.angle_offsets[s],
                                       batch.collision[s]);
                const bool custom = batch.custom_edges[s];
                const auto& unique = graphs[s].unique;
                const float mean =
                    cpu::curvature(options.curvature, g, n, D, custom ? &graphs[s].adj : nullptr,
                                   unique.data(), static_cast<int64_t>(unique.size()), cv);
                result.curvature[s * K + k] = mean;
                result.iterations[s] = static_cast<int32_t>(k + 1);
                if (std::fabs(mean - packed_.target) < constants::kConvergenceTol) {
                    result.converged[s] = 1;
                    done[i] = 1;
                    // S = feature_to_geom(X): the unconstrained G of this iteration.
                    std::copy(&G_[base * D], &G_[(base + n) * D],
                              &result.positions[batch.offsets[s] * D]);
                }
            }
        });
        // Feedback for the scenes still running: X += 0.1 * geom_to_feature(G constrained).
        for_row_blocks(rows, [&](int64_t r0, int64_t n) {
            float* z = &Z_[r0 * F];
            cpu::linear(&Gc_[r0 * D], n, D, packed_.g2f_w, packed_.g2f_b, F, z);
            float* x = &X[r0 * F];
            for (int64_t i = 0; i < n * F; ++i) x[i] += constants::kFeedbackScale * z[i];
        });
        // Compact: drop the rows of converged scenes from the stack.
        Active next;
        next.first.push_back(0);
        int64_t write = 0;
        for (size_t i = 0; i < act.scenes.size(); ++i) {
            if (done[i]) continue;
            const int64_t base = act.first[i], n = act.first[i + 1] - base;
            if (write != base) std::memmove(&X[write * F], &X[base * F], sizeof(float) * n * F);
            next.scenes.push_back(act.scenes[i]);
            write += n;
            next.first.push_back(write);
        }
        act = std::move(next);
    }
    // Scenes that ran all K iterations: S = feature_to_geom(X).
    const int64_t rows = act.first.back();
    G_.resize(static_cast<size_t>(rows * D));
    for_row_blocks(rows, [&](int64_t r0, int64_t n) {
        cpu::linear(&X[r0 * F], n, F, packed_.f2g_w, packed_.f2g_b, D, &G_[r0 * D]);
    });
    for (size_t i = 0; i < act.scenes.size(); ++i) {
        const int64_t s = act.scenes[i], base = act.first[i];
        std::copy(&G_[base * D], &G_[act.first[i + 1] * D],
                  &result.positions[batch.offsets[s] * D]);
    }
    return result;
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Weights& weights, const CpuOptions& options) {
    return std::make_unique<CpuBackend>(std::make_shared<const Weights>(weights), options);
}

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Weights> weights,
                                          const CpuOptions& options) {
    return std::make_unique<CpuBackend>(std::move(weights), options);
}

}  // namespace gasm
