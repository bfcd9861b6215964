// SPDX-License-Identifier: MIT
// The weight file (weights-format.md): writing one, reading one with every check a load makes,
// and reading only its facts for `weights status`.
#pragma once

#include <optional>
#include <string>

#include "host/params.hpp"

namespace gasm {

inline constexpr const char* kFormatName = "gasm-weights";
inline constexpr int kFormatVersion = 1;

// Writes `w` to `path`, an empty temporary file made by create_temp_beside (io/atomic_file.hpp):
// built in memory, then written and fsynced in one go. Throws std::runtime_error with the step that
// failed (and UsageError for a bad SOURCE_DATE_EPOCH); the caller owns atomicity (weight_store.cpp
// writes a temporary file).
void write_weights_file(const Weights& w, const std::string& path);

// Reads and checks everything: format, version, configuration attributes, every dataset with
// its exact shape and type, no extra datasets, finite values, Fletcher32 on every chunk, and
// the digest. Throws WeightsError naming the file and the dataset.
//
// The default (as at every startup) reads each chunk as stored and checks the SHA-256 digest
// over all of them, which catches every change a Fletcher32 checksum would; only when the
// digest fails does it take HDF5's filtered read, to name the damaged dataset. `full` (weights
// verify) always takes the filtered read as well, so each chunk's Fletcher32 is checked too.
enum class WeightsCheck { digest, full };
Weights read_weights_file(const std::string& path, WeightsCheck check = WeightsCheck::digest);

// The root attributes alone (no dataset is read); fields are empty where absent or unreadable.
struct WeightsFileFacts {
    std::optional<std::string> format, generator, created_by, created_utc, content_sha256;
    std::optional<int64_t> format_version;
    std::optional<int64_t> feature_dim, hidden_dim, output_dim, num_heads, max_iterations;
    std::optional<uint64_t> seed;
    std::string error;  // why the file could not be opened as HDF5, if it could not
};
WeightsFileFacts read_weights_facts(const std::string& path);

// UTC now as ISO 8601, or SOURCE_DATE_EPOCH when set (reproducible files).
std::string creation_time_utc();

}  // namespace gasm
