// SPDX-License-Identifier: MIT
// Shared pieces of the subcommands: the options every command takes (weights path, model
// configuration, device, logging) and the helpers that turn them into library calls.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "host/config.hpp"
#include "host/devices.hpp"
#include "host/logging.hpp"
#include "io/weight_store.hpp"

namespace gasm::app {

struct CommonOptions {
    std::optional<std::string> weights;
    bool force_regen = false;
    std::optional<uint64_t> seed;  // parsed strictly: 0 .. 2^64-1, nothing else
    std::optional<int64_t> feature_dim, hidden_dim, output_dim, num_heads, max_iterations;
    std::string device = "";  // empty: GASM_DEVICE, else auto
    int threads = 0;
    std::string precision = "fp32";
    std::string curvature = "gaussian";
    bool quiet = false, verbose = false;
    std::string log_format = "text";
};

// Flags shared by the commands; `with_model` adds the configuration and device flags.
void add_common(CLI::App& cmd, CommonOptions& o, bool with_model, bool with_device);

// Logging from the flags (called first by every command). Rank `rank` > 0 of an MPI job logs
// warnings and errors only, each line starting "rank R: ".
void start_logging(const CommonOptions& o, int rank = 0);

// The weights request from the flags and GASM_FORCE_REGEN / GASM_WEIGHTS (flags win). A
// regeneration of an existing file keeps that file's configuration and seed unless the flags
// name others, so --force-regen replaces the weights with the same kind of weights.
WeightsRequest weights_request(const CommonOptions& o);

// The feature width of weights that the lifecycle is about to generate (a missing file, or a
// regeneration), so inputs can be checked before anything is written. Nothing when an existing
// file will be loaded: the input is then checked against the loaded weights.
std::optional<int64_t> expected_feature_dim(const WeightsRequest& r);

// The device: --device, else GASM_DEVICE, else auto.
std::string device_request(const CommonOptions& o);

BackendOptions backend_options(const CommonOptions& o);

// Whether two paths name one file: the same path once links and dots are resolved (the file
// need not exist yet), or the same inode (a hard link).
bool same_file(const std::string& a, const std::string& b);

// Refuses (UsageError naming `flag`) a result file that would overwrite the weight file or its
// lock file, or whose path holds something other than a regular file (a folder, a FIFO, a
// device such as /dev/null, a link to one), which the rename of a finished file would replace.
void check_result_path(const std::string& flag, const std::string& path,
                       const std::string& weights);

// Subcommand registration; each adds its options and its callback.
void add_run(CLI::App& app);
void add_weights(CLI::App& app);
void add_info(CLI::App& app);
void add_check(CLI::App& app);
void add_bench(CLI::App& app);
void add_serve(CLI::App& app);

}  // namespace gasm::app
