// SPDX-License-Identifier: MIT
// Scene files in (JSON for small jobs, HDF5 for batches, interface.md) and results out (JSON,
// HDF5, a terminal table). Readers check every field before use and throw InputError naming the
// file, the scene and the field.
#pragma once

#include <cstdint>
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
// Writes text to a file atomically. Throws RuntimeFailure.
void write_text_atomic(const std::string& path, const std::string& text);

}  // namespace gasm
