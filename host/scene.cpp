// SPDX-License-Identifier: MIT
// Building batches from scenes, with every field checked before it is used.
#include "host/scene.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/errors.hpp"

namespace gasm {

namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& field,
                         const std::string& problem) {
    throw InputError(where + ", field '" + field + "': " + problem);
}

void check_finite(const std::vector<float>& v, const std::string& where, const char* field,
                  int64_t row_len) {
    for (size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) {
            std::string at = row_len > 0 ? "row " + std::to_string(i / row_len) + ", column " +
                                               std::to_string(i % row_len)
                                         : "element " + std::to_string(i);
            refuse(where, field, "non-finite value (" + std::to_string(v[i]) + ") at " + at);
        }
    }
}

void check_index(int64_t v, int64_t n, const std::string& where, const std::string& field) {
    if (v < 0 || v >= n)
        refuse(where, field,
               "index " + std::to_string(v) + " is outside [0, " + std::to_string(n) + ")");
}

void check_constraints(const Scene& s, const std::string& where) {
    const int64_t n = s.size();
    for (size_t c = 0; c < s.distance.size(); ++c) {
        const auto& d = s.distance[c];
        std::string field = "constraints.distance[" + std::to_string(c) + "]";
        check_index(d.i, n, where, field);
        check_index(d.j, n, where, field);
        if (d.i == d.j) refuse(where, field, "i and j are the same entity");
        if (!std::isfinite(d.target) || d.target < 0)
            refuse(where, field, "target distance must be finite and non-negative");
        if (d.target > kMaxInputMagnitude)
            refuse(where, field, "target distance is larger than the input limit of 1e30");
    }
    for (size_t c = 0; c < s.angle.size(); ++c) {
        const auto& a = s.angle[c];
        std::string field = "constraints.angle[" + std::to_string(c) + "]";
        check_index(a.i, n, where, field);
        check_index(a.j, n, where, field);
        check_index(a.k, n, where, field);
        if (a.i == a.j || a.k == a.j) refuse(where, field, "an arm ends at the vertex j");
        if (!std::isfinite(a.theta)) refuse(where, field, "angle must be finite");
        if (std::fabs(a.theta) > kMaxInputMagnitude)
            refuse(where, field, "angle is larger than the input limit of 1e30");
    }
    if (s.collision && (!std::isfinite(*s.collision) || *s.collision < 0))
        refuse(where, "constraints.collision", "minimum distance must be finite and >= 0");
    if (s.collision && *s.collision > kMaxInputMagnitude)
        refuse(where, "constraints.collision",
               "minimum distance is larger than the input limit of 1e30");
}

}  // namespace

void SceneBatch::append(const Scene& s, const std::string& where) {
    const int64_t n = s.size();
    const int64_t F = feature_dim;
    if (n == 0) refuse(where, "entities", "the scene has no entities");
    if (static_cast<int64_t>(s.features.size()) != n * F)
        refuse(where, "features",
               "expected " + std::to_string(n) + " x " + std::to_string(F) + " values, got " +
                   std::to_string(s.features.size()) +
                   (s.features.size() % n == 0
                        ? " (" + std::to_string(s.features.size() / n) + " per entity)"
                        : ""));
    check_finite(s.features, where, "features", F);
    if (!s.types.empty() && s.size() != static_cast<int64_t>(s.types.size()))
        refuse(where, "types", "expected one type per entity");
    // Names and types are C strings in the HDF5 output, which would cut them at a NUL.
    for (const auto* list : {&s.names, &s.types})
        for (size_t i = 0; i < list->size(); ++i)
            if ((*list)[i].find('\0') != std::string::npos)
                refuse(
                    where,
                    "entities[" + std::to_string(i) + "]." + (list == &s.names ? "name" : "type"),
                    "holds a NUL character (\\u0000), which the HDF5 output cannot store");
    std::vector<float> norms;
    if (!s.relations.empty()) {
        const int64_t r = s.relation_dim;
        if (r < 1 || static_cast<int64_t>(s.relations.size()) != n * n * r)
            refuse(where, "relations",
                   "expected " + std::to_string(n) + " x " + std::to_string(n) +
                       " x r values, got " + std::to_string(s.relations.size()));
        check_finite(s.relations, where, "relations", r);
        norms.resize(static_cast<size_t>(n * n));
        for (int64_t p = 0; p < n * n; ++p) {
            double sum = 0;
            for (int64_t c = 0; c < r; ++c) {
                double v = s.relations[p * r + c];
                sum += v * v;
            }
            norms[p] = static_cast<float>(std::sqrt(sum));
        }
    }
    for (size_t e = 0; e < s.edges.size(); ++e) {
        std::string field = "edges[" + std::to_string(e) + "]";
        check_index(s.edges[e][0], n, where, field);
        check_index(s.edges[e][1], n, where, field);
    }
    check_constraints(s, where);

    features.insert(features.end(), s.features.begin(), s.features.end());
    names.insert(names.end(), s.names.begin(), s.names.end());
    if (s.types.empty())
        types.insert(types.end(), static_cast<size_t>(n), std::string());
    else
        types.insert(types.end(), s.types.begin(), s.types.end());
    labels.push_back(s.label);
    offsets.push_back(offsets.back() + n);
    rel_norms.insert(rel_norms.end(), norms.begin(), norms.end());
    rel_offsets.push_back(static_cast<int64_t>(rel_norms.size()));
    custom_edges.push_back(s.custom_edges ? 1 : 0);
    if (s.custom_edges) edges.insert(edges.end(), s.edges.begin(), s.edges.end());
    edge_offsets.push_back(static_cast<int64_t>(edges.size()));
    distance.insert(distance.end(), s.distance.begin(), s.distance.end());
    dist_offsets.push_back(static_cast<int64_t>(distance.size()));
    angle.insert(angle.end(), s.angle.begin(), s.angle.end());
    angle_offsets.push_back(static_cast<int64_t>(angle.size()));
    collision.push_back(s.collision ? *s.collision : std::numeric_limits<double>::quiet_NaN());
}

void SceneBatch::validate(const std::string& file) const {
    const int64_t S = num_scenes();
    auto bad = [&](const std::string& what) { throw InputError(file + ": batch " + what); };
    if (S < 0 || offsets.empty() || offsets[0] != 0) bad("offsets must start at 0");
    for (int64_t s = 0; s < S; ++s)
        if (offsets[s + 1] <= offsets[s])
            bad("scene " + std::to_string(s) + " has no entities (offsets not increasing)");
    const auto T = static_cast<size_t>(offsets.back());
    if (features.size() != T * static_cast<size_t>(feature_dim)) bad("features size mismatch");
    auto check_csr = [&](const std::vector<int64_t>& o, size_t total, const char* name) {
        if (o.size() != static_cast<size_t>(S + 1) || o[0] != 0 ||
            static_cast<size_t>(o.back()) != total)
            bad(std::string(name) + " offsets mismatch");
        for (int64_t s = 0; s < S; ++s)
            if (o[s + 1] < o[s]) bad(std::string(name) + " offsets decrease");
    };
    check_csr(rel_offsets, rel_norms.size(), "relation");
    check_csr(edge_offsets, edges.size(), "edge");
    check_csr(dist_offsets, distance.size(), "distance");
    check_csr(angle_offsets, angle.size(), "angle");
    if (custom_edges.size() != static_cast<size_t>(S) || collision.size() != static_cast<size_t>(S))
        bad("per-scene arrays have the wrong length");
    for (int64_t s = 0; s < S; ++s) {
        const int64_t n = scene_size(s);
        const int64_t r = rel_offsets[s + 1] - rel_offsets[s];
        if (r != 0 && r != n * n) bad("relation block of scene " + std::to_string(s));
    }
}

SceneBatch SceneBatch::slice(int64_t first, int64_t last) const {
    SceneBatch out;
    out.feature_dim = feature_dim;
    const int64_t r0 = offsets[first], r1 = offsets[last];
    auto rebase = [&](const std::vector<int64_t>& o, std::vector<int64_t>& dst) {
        dst.clear();
        for (int64_t s = first; s <= last; ++s) dst.push_back(o[s] - o[first]);
    };
    rebase(offsets, out.offsets);
    out.features.assign(features.begin() + r0 * feature_dim, features.begin() + r1 * feature_dim);
    out.names.assign(names.begin() + r0, names.begin() + r1);
    out.types.assign(types.begin() + r0, types.begin() + r1);
    out.labels.assign(labels.begin() + first, labels.begin() + last);
    rebase(rel_offsets, out.rel_offsets);
    out.rel_norms.assign(rel_norms.begin() + rel_offsets[first],
                         rel_norms.begin() + rel_offsets[last]);
    out.custom_edges.assign(custom_edges.begin() + first, custom_edges.begin() + last);
    rebase(edge_offsets, out.edge_offsets);
    out.edges.assign(edges.begin() + edge_offsets[first], edges.begin() + edge_offsets[last]);
    rebase(dist_offsets, out.dist_offsets);
    out.distance.assign(distance.begin() + dist_offsets[first],
                        distance.begin() + dist_offsets[last]);
    rebase(angle_offsets, out.angle_offsets);
    out.angle.assign(angle.begin() + angle_offsets[first], angle.begin() + angle_offsets[last]);
    out.collision.assign(collision.begin() + first, collision.begin() + last);
    return out;
}

std::vector<int64_t> chunk_bounds(const std::vector<int64_t>& offsets, int64_t max_rows) {
    std::vector<int64_t> bounds{0};
    const auto S = static_cast<int64_t>(offsets.size()) - 1;
    for (int64_t s = 0; s < S; ++s) {
        const int64_t start = offsets[bounds.back()];
        if (s > bounds.back() && offsets[s + 1] - start > max_rows) bounds.push_back(s);
    }
    if (bounds.back() != S) bounds.push_back(S);
    return bounds;
}

std::vector<int64_t> chunk_scenes(const SceneBatch& batch, int64_t max_rows) {
    return chunk_bounds(batch.offsets, max_rows);
}

double scene_cost(int64_t n, int64_t F, int64_t H) {
    const auto N = static_cast<double>(n);
    return N * static_cast<double>(F) * static_cast<double>(H) + N * N * static_cast<double>(H);
}

std::vector<int64_t> split_chunks(const std::vector<int64_t>& bounds,
                                  const std::vector<int64_t>& offsets, int64_t F, int64_t H,
                                  int parts) {
    const auto C = static_cast<int64_t>(bounds.size()) - 1;
    std::vector<double> cost(static_cast<size_t>(std::max<int64_t>(C, 0)), 0.0);
    double total = 0;
    for (int64_t c = 0; c < C; ++c) {
        for (int64_t s = bounds[c]; s < bounds[c + 1]; ++s)
            cost[c] += scene_cost(offsets[s + 1] - offsets[s], F, H);
        total += cost[c];
    }
    // Chunk c belongs to the part whose share of the work holds the middle of c's work; the
    // part numbers never decrease along the chunks, so every part is one contiguous range.
    std::vector<int64_t> split(static_cast<size_t>(parts) + 1, C);
    split[0] = 0;
    double before = 0;
    int next = 1;  // the first part whose start is not yet known
    for (int64_t c = 0; c < C; ++c) {
        const double middle = before + cost[c] / 2;
        const int part =
            total > 0 ? std::min(parts - 1, static_cast<int>(middle * parts / total)) : 0;
        while (next <= part) split[next++] = c;
        before += cost[c];
    }
    return split;
}

void BatchResult::place(int64_t first, const BatchResult& part) {
    const int64_t D = output_dim, K = max_iterations;
    std::copy(part.positions.begin(), part.positions.end(), positions.begin() + offsets[first] * D);
    std::copy(part.curvature.begin(), part.curvature.end(), curvature.begin() + first * K);
    std::copy(part.iterations.begin(), part.iterations.end(), iterations.begin() + first);
    std::copy(part.converged.begin(), part.converged.end(), converged.begin() + first);
}

std::string BatchResult::first_non_finite(int64_t first_scene) const {
    const int64_t D = output_dim, K = max_iterations;
    for (int64_t s = 0; s < num_scenes(); ++s) {
        const std::string scene = "scene " + std::to_string(first_scene + s);
        for (int64_t t = offsets[s]; t < offsets[s + 1]; ++t)
            for (int64_t d = 0; d < D; ++d)
                if (!std::isfinite(positions[static_cast<size_t>(t * D + d)]))
                    return scene + ", entity " + std::to_string(t - offsets[s]) + ", position";
        for (int64_t k = 0; k < iterations[s]; ++k)
            if (!std::isfinite(curvature[static_cast<size_t>(s * K + k)]))
                return scene + ", curvature of iteration " + std::to_string(k + 1);
    }
    return "";
}

void BatchResult::reset(const std::vector<int64_t>& batch_offsets, int64_t D, int64_t K) {
    output_dim = D;
    max_iterations = K;
    offsets = batch_offsets;
    const auto S = static_cast<size_t>(offsets.size() - 1);
    positions.assign(static_cast<size_t>(offsets.back() * D), 0.0f);
    curvature.assign(S * static_cast<size_t>(K), std::numeric_limits<float>::quiet_NaN());
    iterations.assign(S, 0);
    converged.assign(S, 0);
}

}  // namespace gasm
