// SPDX-License-Identifier: MIT
// What `run`, `serve` and `bench` share: the weights lifecycle plus the backend on the chosen
// device, started once, then batches through it in bounded chunks.
#pragma once

#include <memory>
#include <string>

#include "apps/app.hpp"
#include "host/backend.hpp"
#include "io/weight_store.hpp"

namespace gasm::app {

struct Engine {
    LoadedWeights weights;
    std::unique_ptr<Backend> backend;
    RunOptions run_options;
};

// Chooses the device, runs the weight lifecycle and loads the weights onto the device.
Engine start_engine(const CommonOptions& o);
// The same on a device already chosen, with these backend options (an MPI rank's GPU and share
// of the cores).
Engine start_engine(const CommonOptions& o, const DeviceChoice& choice,
                    const BackendOptions& options);

// Entities per chunk: about 16k keeps the CPU workspaces near 250 MB at F = 768.
inline constexpr int64_t kRowsPerChunk = 16384;

// Throws RuntimeFailure when a result of `r` is NaN or infinite (scenes counted from
// first_scene): the arithmetic overflowed, which weights of absurd size cause, and such results
// are never written as if they were positions.
void check_results_finite(const Engine& engine, const BatchResult& r, int64_t first_scene);

// Runs a batch through the engine in chunks of whole scenes (bounded memory), calling
// progress(done_scenes) after each chunk. Checks every chunk's results with
// check_results_finite.
BatchResult run_batch(Engine& engine, const SceneBatch& batch,
                      const std::function<void(int64_t)>& progress = {});

// The built-in example sentence `run` uses without input.
inline constexpr const char* kExampleSentence =
    "The robot arm stands on the table, 30 cm left of the red box, and the camera is above "
    "the table.";

}  // namespace gasm::app
