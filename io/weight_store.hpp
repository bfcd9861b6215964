// SPDX-License-Identifier: MIT
// The weight lifecycle at startup (weights-format.md): resolve the path, print the banner, then
// load, generate or regenerate, with an advisory lock on PATH.lock and atomic replacement, so
// that many processes starting at once end with one complete file and the same weights.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "host/params.hpp"

namespace gasm {

// What the user asked for; each unset field adopts the file's value.
struct WeightsRequest {
    std::string path;
    std::optional<int64_t> feature_dim, hidden_dim, output_dim, num_heads, max_iterations;
    std::optional<uint64_t> seed;
    bool force_regen = false;

    // The configuration to generate: requested fields over the defaults.
    ModelConfig config() const;
    uint64_t seed_or_default() const;
};

struct LoadedWeights {
    std::shared_ptr<Weights> weights;
    std::string path;
    std::string digest;
    bool persisted = true;   // false: generated but not saved (warned)
    bool generated = false;  // false: loaded from the file
};

// --weights, else GASM_WEIGHTS, else gasm_weights.h5 in the working directory.
std::string resolve_weights_path(const std::optional<std::string>& flag);

// Runs the lifecycle and returns the weights to run with. Throws WeightsError for a file that
// cannot be used or a path whose state cannot be told (nothing is changed on disk then), and
// UsageError for a bad SOURCE_DATE_EPOCH.
LoadedWeights ensure_weights(const WeightsRequest& request);

// Loads the complete weight file at `path` under a shared lock, with every check of a load, and
// never generates or replaces anything: for the other ranks of an MPI job once rank 0 has run
// the lifecycle. Throws WeightsError naming the file.
LoadedWeights load_weights_file(const std::string& path);

// Saves atomically: a temporary file beside the target, read back, synced, renamed over it.
// Returns an empty string on success, else the reason it could not be saved (the target is
// untouched; a target that is not a regular file or a link is never replaced). Throws
// UsageError for a bad SOURCE_DATE_EPOCH.
std::string save_weights_atomic(const Weights& w, const std::string& path);

// Checks a loaded file against the request; throws WeightsError naming what differs.
void check_matches_request(const Weights& w, const WeightsRequest& request);

// An advisory lock on PATH.lock; falls back to no lock (and says so in the log) where the file
// system or the folder refuses locks. Logs once when it has to wait for another process.
class WeightsLock {
  public:
    enum class Mode { shared, exclusive };
    WeightsLock(const std::string& weights_path, Mode mode);
    ~WeightsLock();
    WeightsLock(const WeightsLock&) = delete;
    WeightsLock& operator=(const WeightsLock&) = delete;
    bool held() const { return fd_ >= 0; }

  private:
    std::string lock_path_;
    int fd_ = -1;
};

// Removes temporary files (.NAME.tmp-PID-N) a killed writer left beside `path`. A file is stale
// when this process holds a WeightsLock on `path` (so no lock-respecting writer is at work) and
// its PID no longer runs here, or when it is more than an hour old. Never touches other names,
// links, folders, this process's own files, or a fresh file while no lock is held.
void clean_stale_temporaries(const std::string& path);

}  // namespace gasm
