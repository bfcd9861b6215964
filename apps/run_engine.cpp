// SPDX-License-Identifier: MIT
// Engine start-up shared by the commands that run the model.
#include "apps/run_engine.hpp"

#include <spdlog/spdlog.h>

#include "host/errors.hpp"

namespace gasm::app {

Engine start_engine(const CommonOptions& o) {
    return start_engine(o, choose_device(device_request(o)), backend_options(o));
}

Engine start_engine(const CommonOptions& o, const DeviceChoice& choice,
                    const BackendOptions& options) {
    spdlog::info("Device: {}", choice.why);
    if (!choice.cuda && options.precision == Precision::tf32)
        spdlog::info("--precision tf32 applies to the CUDA backend; the CPU computes in fp32");
    Engine e;
    e.run_options.curvature = parse_curvature(o.curvature);
    e.weights = ensure_weights(weights_request(o));
    e.backend = make_backend(choice, e.weights.weights, options);
    if (e.weights.generated)
        spdlog::info("GASM weights generated in memory are on {} ({}, sha256 {})",
                     e.backend->device_name(), e.weights.weights->config.describe(),
                     e.weights.digest.substr(0, 12));
    else
        spdlog::info("Loaded GASM weights from {} onto {} ({}, sha256 {})", e.weights.path,
                     e.backend->device_name(), e.weights.weights->config.describe(),
                     e.weights.digest.substr(0, 12));
    return e;
}

void check_results_finite(const Engine& engine, const BatchResult& r, int64_t first_scene) {
    const std::string where = r.first_non_finite(first_scene);
    if (where.empty()) return;
    throw RuntimeFailure(where +
                         ": not finite (a float32 overflow in the model), which "
                         "weights of absurd size cause; check " +
                         engine.weights.path +
                         " with 'gasm_gpu weights inspect'. Nothing was written");
}

BatchResult run_batch(Engine& engine, const SceneBatch& batch,
                      const std::function<void(int64_t)>& progress) {
    const ModelConfig& c = engine.backend->config();
    BatchResult all;
    all.reset(batch.offsets, c.output_dim, c.max_iterations);
    const std::vector<int64_t> bounds = chunk_scenes(batch, kRowsPerChunk);
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
        if (bounds.size() == 2) {
            all = engine.backend->forward(batch, engine.run_options);
            check_results_finite(engine, all, 0);
        } else {
            SceneBatch part = batch.slice(bounds[i], bounds[i + 1]);
            const BatchResult r = engine.backend->forward(part, engine.run_options);
            check_results_finite(engine, r, bounds[i]);
            all.place(bounds[i], r);
        }
        if (progress) progress(bounds[i + 1]);
    }
    return all;
}

}  // namespace gasm::app
