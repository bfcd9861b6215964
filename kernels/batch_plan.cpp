// SPDX-License-Identifier: MIT
// Builds the CUDA backend's per-batch tables from a SceneBatch (see batch_plan.hpp). The checks
// here are the structural ones the device relies on for memory safety; value checks (finite
// numbers, constraint targets) belong to SceneBatch::validate, which callers run first.
#include "kernels/batch_plan.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "host/errors.hpp"

namespace gasm::cuda {
namespace {

constexpr int64_t kMaxIndex = std::numeric_limits<int32_t>::max() / 2;

void require(bool ok, const std::string& what) {
    if (!ok) throw InputError("CUDA backend: " + what);
}

std::string scene_text(int64_t s) {
    return "scene " + std::to_string(s);
}

// An S+1 offset array over `size` items, or the default {0} over none (the batch has none).
bool optional_offsets(const std::vector<int64_t>& off, int64_t S, size_t size, const char* name) {
    if (off.size() == 1 && off[0] == 0 && size == 0) return false;
    require(static_cast<int64_t>(off.size()) == S + 1,
            std::string(name) + " has " + std::to_string(off.size()) + " entries, expected " +
                std::to_string(S + 1));
    require(off[0] == 0 && off[S] == static_cast<int64_t>(size),
            std::string(name) + " does not span its array");
    for (int64_t s = 0; s < S; ++s)
        require(off[s] <= off[s + 1], std::string(name) + " decreases at " + scene_text(s));
    return true;
}

// Exclusive prefix sum of counts stored at ptr[i + 1].
void prefix_sum(std::vector<int32_t>& ptr) {
    for (size_t i = 1; i < ptr.size(); ++i) ptr[i] += ptr[i - 1];
}

void plan_scenes(const SceneBatch& b, const ModelConfig& cfg, BatchPlan& p) {
    require(!b.offsets.empty() && b.offsets[0] == 0, "batch offsets must start at 0");
    const int64_t S = b.num_scenes();
    const int64_t T = b.total_entities();
    require(T <= kMaxIndex, "batch of " + std::to_string(T) + " entities is too large");
    require(b.feature_dim == cfg.feature_dim,
            "batch feature width " + std::to_string(b.feature_dim) + " differs from the model's " +
                std::to_string(cfg.feature_dim));
    require(b.features.size() == static_cast<size_t>(T * cfg.feature_dim),
            "features hold " + std::to_string(b.features.size()) +
                " values, expected T x F = " + std::to_string(T * cfg.feature_dim));
    p.num_scenes = static_cast<int>(S);
    p.total = static_cast<int>(T);
    p.offsets.resize(S + 1);
    p.scene_of.resize(T);
    for (int64_t s = 0; s < S; ++s) {
        const int64_t n = b.scene_size(s);
        require(n >= 1, scene_text(s) + " has no entities");
        p.max_scene_size = std::max(p.max_scene_size, static_cast<int>(n));
        for (int64_t i = b.offsets[s]; i < b.offsets[s + 1]; ++i)
            p.scene_of[i] = static_cast<int32_t>(s);
    }
    for (int64_t s = 0; s <= S; ++s) p.offsets[s] = static_cast<int32_t>(b.offsets[s]);
}

void plan_relations(const SceneBatch& b, BatchPlan& p) {
    const int64_t S = p.num_scenes;
    p.rel_base.assign(S, -1);
    if (!optional_offsets(b.rel_offsets, S, b.rel_norms.size(), "rel_offsets")) return;
    for (int64_t s = 0; s < S; ++s) {
        const int64_t n = b.scene_size(s), len = b.rel_offsets[s + 1] - b.rel_offsets[s];
        require(len == 0 || len == n * n, scene_text(s) + " has " + std::to_string(len) +
                                              " relation norms, expected " + std::to_string(n * n));
        if (len) p.rel_base[s] = b.rel_offsets[s];
    }
}

// Attention CSR by target (duplicates, input order) and the unique pairs for curvature.
void plan_edges(const SceneBatch& b, BatchPlan& p) {
    const int64_t S = p.num_scenes;
    p.custom.assign(S, 0);
    p.in_ptr.assign(p.total + 1, 0);
    p.out_ptr.assign(p.total + 1, 0);
    p.sym_ptr.assign(p.total + 1, 0);
    const bool flags = !b.custom_edges.empty();
    require(!flags || static_cast<int64_t>(b.custom_edges.size()) == S,
            "custom_edges has " + std::to_string(b.custom_edges.size()) + " flags, expected " +
                std::to_string(S));
    const bool lists = optional_offsets(b.edge_offsets, S, b.edges.size(), "edge_offsets");
    require(b.edges.size() < static_cast<size_t>(kMaxIndex), "too many edges");
    std::vector<std::array<int32_t, 2>> unique;  // global (source, target)
    for (int64_t s = 0; s < S; ++s) {
        if (!flags || !b.custom_edges[s]) continue;
        p.custom[s] = 1;
        p.any_custom = true;
        const int32_t base = p.offsets[s], n = p.offsets[s + 1] - base;
        std::vector<std::array<int32_t, 2>> pairs;
        const int64_t lo = lists ? b.edge_offsets[s] : 0, hi = lists ? b.edge_offsets[s + 1] : 0;
        for (int64_t e = lo; e < hi; ++e) {
            const auto [src, tgt] = b.edges[e];
            require(src >= 0 && src < n && tgt >= 0 && tgt < n,
                    scene_text(s) + ", edge " + std::to_string(e - lo) + ": (" +
                        std::to_string(src) + ", " + std::to_string(tgt) + ") is outside [0, " +
                        std::to_string(n) + ")");
            pairs.push_back({base + static_cast<int32_t>(src), base + static_cast<int32_t>(tgt)});
        }
        for (const auto& [src, tgt] : pairs) ++p.in_ptr[tgt + 1];
        for (int32_t i = base; i < base + n; ++i) p.sparse_targets.push_back(i);
        std::sort(pairs.begin(), pairs.end());
        pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
        unique.insert(unique.end(), pairs.begin(), pairs.end());
    }
    prefix_sum(p.in_ptr);
    p.in_src.resize(p.in_ptr.back());
    std::vector<int32_t> cursor(p.in_ptr.begin(), p.in_ptr.end() - 1);
    for (int64_t s = 0; s < S && lists; ++s) {
        if (!p.custom[s]) continue;
        for (int64_t e = b.edge_offsets[s]; e < b.edge_offsets[s + 1]; ++e) {
            const int32_t src = p.offsets[s] + static_cast<int32_t>(b.edges[e][0]);
            const int32_t tgt = p.offsets[s] + static_cast<int32_t>(b.edges[e][1]);
            p.in_src[cursor[tgt]++] = src;
        }
    }
    for (const auto& [a, c] : unique) {
        ++p.out_ptr[a + 1];
        ++p.sym_ptr[a + 1];
        ++p.sym_ptr[c + 1];
    }
    prefix_sum(p.out_ptr);
    prefix_sum(p.sym_ptr);
    p.out_idx.resize(p.out_ptr.back());
    p.sym_idx.resize(p.sym_ptr.back());
    std::vector<int32_t> out_at(p.out_ptr.begin(), p.out_ptr.end() - 1);
    std::vector<int32_t> sym_at(p.sym_ptr.begin(), p.sym_ptr.end() - 1);
    for (const auto& [a, c] : unique) {
        p.out_idx[out_at[a]++] = c;
        p.sym_idx[sym_at[a]++] = c;
        p.sym_idx[sym_at[c]++] = a;
    }
}

void plan_tiles(BatchPlan& p, int tile) {
    for (int s = 0; s < p.num_scenes; ++s) {
        if (p.custom[s]) continue;
        const int n = p.offsets[s + 1] - p.offsets[s];
        for (int t0 = 0; t0 < n; t0 += tile) {
            p.tiles.push_back(s);
            p.tiles.push_back(t0);
        }
    }
}

bool in_scene(int64_t i, int64_t n) {
    return i >= 0 && i < n;
}

void plan_constraints(const SceneBatch& b, BatchPlan& p) {
    const int64_t S = p.num_scenes;
    p.dist_ptr.assign(S + 1, 0);
    p.angle_ptr.assign(S + 1, 0);
    p.collision.assign(S, std::numeric_limits<float>::quiet_NaN());
    const bool dist = optional_offsets(b.dist_offsets, S, b.distance.size(), "dist_offsets");
    const bool angle = optional_offsets(b.angle_offsets, S, b.angle.size(), "angle_offsets");
    require(b.collision.empty() || static_cast<int64_t>(b.collision.size()) == S,
            "collision has " + std::to_string(b.collision.size()) + " entries, expected " +
                std::to_string(S));
    for (int64_t s = 0; s < S; ++s) {
        const int64_t n = b.scene_size(s);
        const int64_t d_lo = dist ? b.dist_offsets[s] : 0, d_hi = dist ? b.dist_offsets[s + 1] : 0;
        for (int64_t c = d_lo; c < d_hi; ++c) {
            const DistanceConstraint& dc = b.distance[c];
            require(in_scene(dc.i, n) && in_scene(dc.j, n) && dc.i != dc.j,
                    scene_text(s) + ", distance constraint " + std::to_string(c - d_lo) +
                        ": bad indices (" + std::to_string(dc.i) + ", " + std::to_string(dc.j) +
                        ")");
            p.dist_pairs.push_back(static_cast<int32_t>(dc.i));
            p.dist_pairs.push_back(static_cast<int32_t>(dc.j));
            p.dist_target.push_back(static_cast<float>(dc.target));
        }
        const int64_t a_lo = angle ? b.angle_offsets[s] : 0;
        const int64_t a_hi = angle ? b.angle_offsets[s + 1] : 0;
        for (int64_t c = a_lo; c < a_hi; ++c) {
            const AngleConstraint& ac = b.angle[c];
            require(in_scene(ac.i, n) && in_scene(ac.j, n) && in_scene(ac.k, n),
                    scene_text(s) + ", angle constraint " + std::to_string(c - a_lo) +
                        ": index outside [0, " + std::to_string(n) + ")");
            p.angle_triples.push_back(static_cast<int32_t>(ac.i));
            p.angle_triples.push_back(static_cast<int32_t>(ac.j));
            p.angle_triples.push_back(static_cast<int32_t>(ac.k));
            p.angle_theta.push_back(static_cast<float>(ac.theta));
        }
        p.dist_ptr[s + 1] = static_cast<int32_t>(p.dist_target.size());
        p.angle_ptr[s + 1] = static_cast<int32_t>(p.angle_theta.size());
        const bool collide = !b.collision.empty() && !std::isnan(b.collision[s]);
        if (collide) p.collision[s] = static_cast<float>(b.collision[s]);
        if (d_hi > d_lo || a_hi > a_lo || collide) p.constrained.push_back(static_cast<int32_t>(s));
    }
}

}  // namespace

BatchPlan make_batch_plan(const SceneBatch& batch, const ModelConfig& config, int tile) {
    BatchPlan plan;
    plan_scenes(batch, config, plan);
    plan_relations(batch, plan);
    plan_edges(batch, plan);
    plan_tiles(plan, tile);
    plan_constraints(batch, plan);
    return plan;
}

}  // namespace gasm::cuda
