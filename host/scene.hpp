// SPDX-License-Identifier: MIT
// Scenes in and results out. A batch stores S scenes CSR-style: scene s owns entity rows
// offsets[s] .. offsets[s+1]-1 of one (T, F) feature matrix, so every backend stacks all
// entities of a batch into its matrix products. A single scene is a batch of one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gasm {

// The largest magnitude any real-valued input may have (features, relations, distances,
// collision distance, angles): far beyond any physical quantity, and small enough that the
// model's float32 arithmetic stays finite (3e38 features already overflow a layer norm).
inline constexpr double kMaxInputMagnitude = 1e30;
// The same limit for float32 data (features and relations from an HDF5 batch): the float nearest
// 1e30, which is 1.0000000150e30, so a float32 file can hold the limit itself as JSON can.
inline constexpr float kMaxInputMagnitudeF = static_cast<float>(kMaxInputMagnitude);

struct DistanceConstraint {
    int64_t i = 0, j = 0;
    double target = 0;  // metres (the model's length unit)
};

struct AngleConstraint {
    int64_t i = 0, j = 0, k = 0;  // angle at j between i-j and k-j
    double theta = 0;             // radians
};

// One scene as a reader or the text front end builds it, before it joins a batch.
struct Scene {
    std::vector<std::string> names;  // N
    std::vector<std::string> types;  // N or empty ("unknown")
    std::vector<float> features;     // (N, F) row-major
    // Relations R[source, target, :] (N, N, r) row-major, or empty. Only each vector's L2 norm
    // enters the model, so the batch keeps norms alone.
    std::vector<float> relations;
    int64_t relation_dim = 0;
    bool custom_edges = false;                  // false: the complete directed graph
    std::vector<std::array<int64_t, 2>> edges;  // (source, target), local indices
    std::vector<DistanceConstraint> distance;
    std::vector<AngleConstraint> angle;
    std::optional<double> collision;  // min distance m
    std::string label;                // e.g. the sentence it came from

    int64_t size() const { return static_cast<int64_t>(names.size()); }
};

struct SceneBatch {
    int64_t feature_dim = 0;
    std::vector<int64_t> offsets{0};  // S+1
    std::vector<float> features;      // (T, F)
    std::vector<std::string> names;   // T
    std::vector<std::string> types;   // T ("" where unknown)
    std::vector<std::string> labels;  // S
    // Relation norms ||R[s,t,:]||: scene s owns rel_offsets[s] .. rel_offsets[s+1]-1, which is
    // either empty (no relations) or N_s * N_s values, row = source, column = target.
    std::vector<int64_t> rel_offsets{0};
    std::vector<float> rel_norms;
    // Custom edges: custom_edges[s] says whether scene s has its own list; its pairs are
    // edge_offsets[s] .. edge_offsets[s+1]-1 of edges (local source, target).
    std::vector<uint8_t> custom_edges;
    std::vector<int64_t> edge_offsets{0};
    std::vector<std::array<int64_t, 2>> edges;
    // Constraints, each list in input order; scene s owns [dist_offsets[s], dist_offsets[s+1]).
    std::vector<int64_t> dist_offsets{0};
    std::vector<DistanceConstraint> distance;
    std::vector<int64_t> angle_offsets{0};
    std::vector<AngleConstraint> angle;
    std::vector<double> collision;  // S; NaN where the scene has none

    int64_t num_scenes() const { return static_cast<int64_t>(offsets.size()) - 1; }
    int64_t total_entities() const { return offsets.back(); }
    int64_t scene_size(int64_t s) const { return offsets[s + 1] - offsets[s]; }
    bool has_relations(int64_t s) const { return rel_offsets[s + 1] > rel_offsets[s]; }

    // Appends one scene after checking it (shapes, indices, finite values); `where` names the
    // source in errors ("scenes.json, scene 3"). Throws InputError.
    void append(const Scene& scene, const std::string& where);
    // Checks the whole batch: offsets, blocks, indices, finite values. Throws InputError with
    // `file` and the scene index in the message.
    void validate(const std::string& file) const;
    // Scenes [first, last) as a batch of their own (local offsets start at 0 again).
    SceneBatch slice(int64_t first, int64_t last) const;
};

// Splits [0, S) into runs of whole scenes of at most `max_rows` entities each (a scene larger
// than that is a run of its own). Returns the run boundaries, first 0, last S. `offsets` (S+1)
// are a batch's entity offsets; chunks are cut from the first scene on, so a file streamed
// chunk by chunk, or shared out over MPI ranks, is cut exactly as it is when read whole.
std::vector<int64_t> chunk_bounds(const std::vector<int64_t>& offsets, int64_t max_rows);
std::vector<int64_t> chunk_scenes(const SceneBatch& batch, int64_t max_rows);

// The estimated work of a scene of n entities in a model of feature size F and hidden size H:
// its projections (n F H) and its attention over the complete graph (n^2 H).
double scene_cost(int64_t n, int64_t F, int64_t H);

// Shares the chunks [0, C) that `bounds` (from chunk_bounds over `offsets`) defines out to
// `parts` workers as contiguous ranges of about equal work (scene_cost), not of equal count:
// a chunk goes to the part its middle of the running work falls in. Returns parts + 1 chunk
// indices, first 0, last C; a part gets no chunk when there are fewer chunks than parts.
std::vector<int64_t> split_chunks(const std::vector<int64_t>& bounds,
                                  const std::vector<int64_t>& offsets, int64_t F, int64_t H,
                                  int parts);

// Outputs of a batch, in the layout of the HDF5 output file (interface.md).
struct BatchResult {
    int64_t output_dim = 3;
    int64_t max_iterations = 0;
    std::vector<int64_t> offsets;     // S+1, as the input batch
    std::vector<float> positions;     // (T, D)
    std::vector<float> curvature;     // (S, K), NaN after the last iteration run
    std::vector<int32_t> iterations;  // S
    std::vector<uint8_t> converged;   // S

    int64_t num_scenes() const { return static_cast<int64_t>(iterations.size()); }
    // Resizes every array for a batch of these offsets; curvature filled with NaN.
    void reset(const std::vector<int64_t>& batch_offsets, int64_t D, int64_t K);
    // Copies the results of a sub-batch into scenes [first, first + part.num_scenes()).
    void place(int64_t first, const BatchResult& part);
    // Where a position, or the curvature of an iteration that ran, is NaN or infinite: "scene
    // S, entity E, position" or "scene S, curvature of iteration K" (S counted from
    // first_scene); "" when every value is finite.
    std::string first_non_finite(int64_t first_scene = 0) const;
};

}  // namespace gasm
