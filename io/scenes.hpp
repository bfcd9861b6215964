// SPDX-License-Identifier: MIT
// Scene files in (JSON for small jobs, HDF5 for batches, interface.md) and results out (JSON,
// HDF5, a terminal table). Readers check every field before use and throw InputError naming the
// file, the scene and the field.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/scene.hpp"

namespace gasm {

// Limits on what a reader accepts, checked before anything is allocated.
struct InputLimits {
    int64_t max_entities_per_scene = 1 << 20;
    int64_t max_total_values = int64_t{1} << 31;  // floats in features or relations
    int64_t max_file_bytes = int64_t{1} << 31;    // JSON input
};

SceneBatch read_scenes_json(const std::string& path, int64_t feature_dim,
                            const InputLimits& limits = {});
// Parses one scene object (the elements of "scenes"); `where` names it in errors.
Scene scene_from_json(const nlohmann::json& j, int64_t feature_dim, const std::string& where);

// An HDF5 batch read a range of whole scenes at a time, so a file of any size runs in memory
// bounded by the range. Opening it checks everything that needs the whole file (shapes, types,
// declared sizes against stored bytes, all offsets, every constraint row); read() checks the
// values it reads. Every message names the file, the scene (its index in the whole file) and
// the field, and is the one read_scenes_h5 gives for the same fault. Throws InputError.
class SceneH5Stream {
  public:
    SceneH5Stream(const std::string& path, int64_t feature_dim, const InputLimits& limits = {});
    ~SceneH5Stream();
    SceneH5Stream(SceneH5Stream&&) noexcept;
    SceneH5Stream& operator=(SceneH5Stream&&) noexcept;

    const std::string& path() const;
    // Which file was opened: its inode number, size and modification time, from the open file
    // (so processes that opened the path apart can tell whether they read the same file).
    const std::string& identity() const;
    const std::vector<int64_t>& offsets() const;  // S+1, of the whole file
    int64_t num_scenes() const { return static_cast<int64_t>(offsets().size()) - 1; }
    int64_t total_entities() const { return offsets().back(); }

    // Scenes [first, last) as a checked batch of their own (local offsets start at 0): the
    // batch the whole file's batch would give with slice(first, last).
    SceneBatch read(int64_t first, int64_t last) const;
    // The names of entities [first, last) of the whole file (entity_I where it has none).
    std::vector<std::string> entity_names(int64_t first, int64_t last) const;

  private:
    struct State;
    std::unique_ptr<State> s_;
};

// The whole batch at once (small jobs, JSON output): read(0, S) of a SceneH5Stream.
SceneBatch read_scenes_h5(const std::string& path, int64_t feature_dim,
                          const InputLimits& limits = {});

// Facts of the run that go beside the results.
struct RunFacts {
    std::string device;
    std::string weights_path;
    std::string weights_digest;
    double seconds_total = 0, seconds_model = 0;
};

nlohmann::json results_to_json(const SceneBatch& batch, const BatchResult& result,
                               const RunFacts& facts);
std::string results_to_table(const SceneBatch& batch, const BatchResult& result);

// Writes the HDF5 output atomically (temporary file, then rename). Throws RuntimeFailure.
// /names and /types (T, UTF-8 strings) are written beside the arrays of interface.md.
void write_results_h5(const std::string& path, const SceneBatch& batch, const BatchResult& result,
                      const RunFacts& facts);
// The HDF5 output of a batch too large to hold, written while it runs: the file gets the bytes
// write_results_h5 would give it for the same results. The constructor lays the whole file out
// in a temporary file beside `path` (names and types are asked for in pieces of entities
// [first, last), so they can come from the input as it is read); put() writes each chunk's
// results into it; commit() syncs it and renames it into place. A writer destroyed without a
// commit removes its temporary file, so a failed run leaves nothing. Throws RuntimeFailure for
// I/O errors, and lets the errors of `names` and `types` through.
class ResultsH5Writer {
  public:
    using Strings = std::function<std::vector<std::string>(int64_t first, int64_t last)>;
    ResultsH5Writer(const std::string& path, std::vector<int64_t> offsets, int64_t output_dim,
                    int64_t max_iterations, const RunFacts& facts, const Strings& names,
                    const Strings& types);
    ~ResultsH5Writer();
    ResultsH5Writer(const ResultsH5Writer&) = delete;
    ResultsH5Writer& operator=(const ResultsH5Writer&) = delete;

    // The results of scenes [first, first + part.num_scenes()), in any order of chunks.
    void put(int64_t first, const BatchResult& part);
    // Puts the file in place once every scene has its results.
    void commit();

  private:
    void write_at(uint64_t at, const void* data, size_t bytes);
    void discard();

    std::string path_, tmp_;
    std::vector<int64_t> offsets_;  // S+1, of the whole batch
    int64_t D_ = 0, K_ = 0;
    uint64_t positions_at_ = 0, iterations_at_ = 0, converged_at_ = 0, curvature_at_ = 0;
    int fd_ = -1;
    int64_t scenes_put_ = 0;
};

// Writes text to a file atomically. Throws RuntimeFailure.
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace gasm
