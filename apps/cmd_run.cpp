// SPDX-License-Identifier: MIT
// `gasm_gpu run`: the main job. Reads scenes (a sentence, a text file, a JSON or HDF5 scene
// file, or the built-in example), runs the weight lifecycle and the model, and writes the
// results to stdout or --output. Nothing is written when anything fails. An HDF5 batch into an
// HDF5 file is streamed instead, chunk by chunk, and shared over the ranks under mpirun
// (run_stream.hpp).
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>

#include "apps/app.hpp"
#include "apps/progress.hpp"
#include "apps/run_engine.hpp"
#include "apps/run_stream.hpp"
#include "host/errors.hpp"
#include "host/text/text_frontend.hpp"
#include "io/scenes.hpp"

namespace gasm::app {

namespace {

struct RunArgs {
    CommonOptions common;
    std::string input, output, text_file;
    bool output_given = false;        // --output was given, even empty
    std::optional<std::string> text;  // given, even empty, means: this sentence
    std::string format = "json";
    int max_entities = 15;
};

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_h5(const std::string& path) {
    return ends_with(path, ".h5") || ends_with(path, ".hdf5") || ends_with(path, ".hdf");
}

void check_args(const RunArgs& a) {
    int sources = !a.input.empty() + a.text.has_value() + !a.text_file.empty();
    if (sources > 1) throw UsageError("give only one of --input, --text and --text-file");
    if (!a.input.empty() && !is_h5(a.input) && !ends_with(a.input, ".json"))
        throw UsageError("--input must name a .json or .h5 file, got " + a.input);
    if (a.output_given && a.output.empty())
        throw UsageError("--output is empty; name a .json or .h5 file, or leave it out for stdout");
    if (!a.output.empty() && !is_h5(a.output) && !ends_with(a.output, ".json"))
        throw UsageError("--output must name a .json or .h5 file, got " + a.output);
    if (!a.output.empty() && a.format == "table")
        throw UsageError("--format table prints to the terminal; leave out --output");
    // The results never overwrite what the run reads, nor anything but a file.
    if (!a.output.empty()) {
        check_result_path("--output", a.output, weights_request(a.common).path);
        for (const std::string& in : {a.input, a.text_file})
            if (!in.empty() && same_file(a.output, in))
                throw UsageError("--output " + a.output + " is the input file; choose another");
    }
    std::error_code ec;
    if (!a.text_file.empty() && !std::filesystem::is_regular_file(a.text_file, ec))
        throw InputError(a.text_file + ": " +
                         (std::filesystem::exists(a.text_file, ec) ? "not a regular file"
                                                                   : "no such text file"));
    if (!a.input.empty() && !std::filesystem::exists(a.input, ec))
        throw InputError(a.input + ": no such input file");
    if (!a.input.empty() && !std::filesystem::is_regular_file(a.input, ec))
        throw InputError(a.input + ": not a regular file");
}

SceneBatch read_input(const RunArgs& a, int64_t feature_dim, uint64_t seed) {
    text::TextOptions topt;
    topt.feature_dim = feature_dim;
    topt.seed = seed;
    topt.max_entities = a.max_entities;
    SceneBatch batch;
    batch.feature_dim = feature_dim;
    if (!a.input.empty()) {
        return is_h5(a.input) ? read_scenes_h5(a.input, feature_dim)
                              : read_scenes_json(a.input, feature_dim);
    }
    if (!a.text_file.empty()) {
        auto scenes = text::scenes_from_text_file(a.text_file, topt);
        for (size_t i = 0; i < scenes.size(); ++i)
            batch.append(scenes[i], a.text_file + ", scene " + std::to_string(i));
        return batch;
    }
    const std::string sentence = a.text ? *a.text : kExampleSentence;
    if (!a.text) spdlog::info("No input given: running the built-in example sentence");
    batch.append(text::scene_from_text(sentence, topt, a.text ? "--text" : "example"), "--text");
    return batch;
}

void run(RunArgs& a) {
    const int world = launched_world_size();
#ifdef GASM_WITH_MPI
    if (world > 1) {
        check_args(a);
        if (!is_h5(a.input) || !is_h5(a.output))
            throw UsageError("under mpirun, run takes --input FILE.h5 and --output FILE.h5");
        run_streamed_mpi(a.common, a.input, a.output);
        return;
    }
#endif
    start_logging(a.common);
#ifndef GASM_WITH_MPI
    if (world > 1)
        spdlog::warn(
            "Started by an MPI launcher as one of {} processes, but this build has no "
            "MPI (GASM_MPI=OFF): each process runs the whole job",
            world);
#endif
    check_args(a);
    // An HDF5 batch into an HDF5 file is streamed chunk by chunk (bounded memory); the other
    // outputs need the whole batch (README).
    if (!a.input.empty() && is_h5(a.input) && !a.output.empty() && is_h5(a.output)) {
        run_streamed(a.common, a.input, a.output);
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    // When weights are about to be generated, the input is read and checked first, so a bad
    // input stops the run before the lifecycle writes anything; otherwise after the load.
    // Text features use the run's seed so a sentence gives the same scene everywhere.
    const uint64_t seed = a.common.seed.value_or(42);
    const std::optional<int64_t> width = expected_feature_dim(weights_request(a.common));
    SceneBatch batch;
    if (width) batch = read_input(a, *width, seed);
    Engine engine = start_engine(a.common);
    const int64_t F = engine.backend->config().feature_dim;
    if (!width) batch = read_input(a, F, seed);
    if (F != batch.feature_dim)
        throw WeightsError("weight file " + engine.weights.path + " changed while starting: " +
                           "its feature size is not the one the input was read with");
    spdlog::info("Running {} scene(s), {} entities", batch.num_scenes(), batch.total_entities());
    const auto t1 = std::chrono::steady_clock::now();
    // Progress only for batches long enough to be cut into chunks.
    const bool long_batch = chunk_scenes(batch, kRowsPerChunk).size() > 2;
    Progress progress(batch.num_scenes(), a.common.quiet);
    BatchResult result = run_batch(engine, batch, [&](int64_t done) {
        if (long_batch) progress.update(done);
    });
    if (long_batch) progress.finish(batch.total_entities());
    const auto t2 = std::chrono::steady_clock::now();
    RunFacts facts;
    facts.device = engine.backend->device_name();
    facts.weights_path = engine.weights.path;
    facts.weights_digest = engine.weights.digest;
    facts.seconds_model = std::chrono::duration<double>(t2 - t1).count();
    facts.seconds_total = std::chrono::duration<double>(t2 - t0).count();
    if (a.format == "table") {
        std::cout << results_to_table(batch, result);
    } else if (a.output.empty()) {
        std::cout << results_to_json(batch, result, facts).dump(2) << "\n";
    } else if (is_h5(a.output)) {
        write_results_h5(a.output, batch, result, facts);
    } else {
        write_text_atomic(a.output, results_to_json(batch, result, facts).dump(2) + "\n");
    }
    std::cout.flush();
    if (!a.output.empty()) spdlog::info("Wrote results to {}", a.output);
    spdlog::info("Done in {:.3f} s (model {:.3f} s)", facts.seconds_total, facts.seconds_model);
}

}  // namespace

void add_run(CLI::App& app) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* cmd = app.add_subcommand("run", "Place the entities of scenes in 3-D");
    add_common(*cmd, args->common, /*with_model=*/true, /*with_device=*/true);
    cmd->add_option("--input", args->input, "Scene file (.json or .h5)");
    cmd->add_option("--text", args->text, "A sentence to turn into a scene");
    cmd->add_option("--text-file", args->text_file, "A text file, one scene per non-empty line");
    cmd->add_option("--max-entities", args->max_entities, "Entities per sentence (default 15)")
        ->check(CLI::Range(1, 1000));
    CLI::Option* output = cmd->add_option("--output", args->output,
                                          "Result file (.json or .h5; default JSON on stdout)");
    cmd->add_option("--format", args->format, "json or table")
        ->check(CLI::IsMember({"json", "table"}));
    cmd->callback([args, output] {
        args->output_given = output->count() > 0;
        run(*args);
    });
}

}  // namespace gasm::app
