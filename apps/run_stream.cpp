// SPDX-License-Identifier: MIT
// The streamed run of one process, and what it shares with the MPI run.
#include "apps/run_stream.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include "apps/progress.hpp"
#include "host/errors.hpp"

namespace gasm::app {

namespace stream {

void check_chunks(const SceneH5Stream& in, const std::vector<int64_t>& bounds, int64_t first_chunk,
                  int64_t last_chunk) {
    for (int64_t c = first_chunk; c < last_chunk; ++c) (void)in.read(bounds[c], bounds[c + 1]);
}

RunFacts facts_of(const Engine& engine) {
    RunFacts facts;
    facts.device = engine.backend->device_name();
    facts.weights_path = engine.weights.path;
    facts.weights_digest = engine.weights.digest;
    return facts;
}

std::unique_ptr<ResultsH5Writer> open_output(const std::string& output, const SceneH5Stream& in,
                                             const Engine& engine) {
    const ModelConfig& c = engine.backend->config();
    // HDF5 batches carry no entity types: every type is "".
    return std::make_unique<ResultsH5Writer>(
        output, in.offsets(), c.output_dim, c.max_iterations, facts_of(engine),
        [&in](int64_t first, int64_t last) { return in.entity_names(first, last); },
        [](int64_t first, int64_t last) {
            return std::vector<std::string>(static_cast<size_t>(last - first));
        });
}

BatchResult run_chunk(Engine& engine, const SceneH5Stream& in, const std::vector<int64_t>& bounds,
                      int64_t c) {
    const SceneBatch part = in.read(bounds[c], bounds[c + 1]);
    BatchResult r = engine.backend->forward(part, engine.run_options);
    check_results_finite(engine, r, bounds[c]);
    return r;
}

}  // namespace stream

void run_streamed(const CommonOptions& o, const std::string& input, const std::string& output) {
    const auto t0 = std::chrono::steady_clock::now();
    // As `run` does with a whole batch: when weights are about to be generated, the whole input
    // is checked first (one pass, chunk by chunk), so a bad input never writes weights.
    const std::optional<int64_t> width = expected_feature_dim(weights_request(o));
    std::optional<SceneH5Stream> in;
    if (width) {
        in.emplace(input, *width);
        const auto bounds = chunk_bounds(in->offsets(), kRowsPerChunk);
        stream::check_chunks(*in, bounds, 0, static_cast<int64_t>(bounds.size()) - 1);
    }
    Engine engine = start_engine(o);
    const ModelConfig& c = engine.backend->config();
    if (width && c.feature_dim != *width)
        throw WeightsError("weight file " + engine.weights.path + " changed while starting: " +
                           "its feature size is not the one the input was read with");
    if (!in) in.emplace(input, c.feature_dim);
    spdlog::info("Running {} scene(s), {} entities", in->num_scenes(), in->total_entities());
    const auto t1 = std::chrono::steady_clock::now();
    const std::vector<int64_t> bounds = chunk_bounds(in->offsets(), kRowsPerChunk);
    const auto chunks = static_cast<int64_t>(bounds.size()) - 1;
    const std::unique_ptr<ResultsH5Writer> out = stream::open_output(output, *in, engine);
    // Progress only for batches long enough to be cut into chunks, as `run` shows it.
    const bool long_batch = chunks > 1;
    Progress progress(in->num_scenes(), o.quiet);
    for (int64_t k = 0; k < chunks; ++k) {
        out->put(bounds[k], stream::run_chunk(engine, *in, bounds, k));
        if (long_batch) progress.update(bounds[k + 1]);
    }
    if (long_batch) progress.finish(in->total_entities());
    out->commit();
    const auto t2 = std::chrono::steady_clock::now();
    spdlog::info("Wrote results to {}", output);
    spdlog::info("Done in {:.3f} s (model {:.3f} s)",
                 std::chrono::duration<double>(t2 - t0).count(),
                 std::chrono::duration<double>(t2 - t1).count());
}

int launched_world_size() {
    // Open MPI's mpirun, MPICH's Hydra (and srun with PMI), PMIx launchers, MVAPICH.
    for (const char* name :
         {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"}) {
        const char* v = std::getenv(name);
        if (!v || !*v) continue;
        char* end = nullptr;
        const long n = std::strtol(v, &end, 10);
        if (*end == '\0' && n >= 1 && n <= (1 << 24)) return static_cast<int>(n);
    }
    return 1;
}

}  // namespace gasm::app
