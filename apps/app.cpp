// SPDX-License-Identifier: MIT
// Options shared by the subcommands.
#include "apps/app.hpp"

#include <charconv>
#include <filesystem>

#include "host/env.hpp"
#include "host/errors.hpp"
#include "io/weights_h5.hpp"

namespace gasm::app {

namespace {

uint64_t parse_seed(const std::string& text) {
    uint64_t v = 0;
    const char* b = text.data();
    const char* e = text.data() + text.size();
    auto [p, ec] = std::from_chars(b, e, v);
    if (text.empty() || ec != std::errc() || p != e)
        throw UsageError("--seed must be an integer from 0 to 18446744073709551615, got '" + text +
                         "'");
    return v;
}

// Fields the user did not give come from the file being regenerated, when it can be read.
void adopt_file_configuration(WeightsRequest& r) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(r.path, ec)) return;
    WeightsFileFacts f = read_weights_facts(r.path);
    if (!f.error.empty() || !f.feature_dim || !f.hidden_dim || !f.output_dim || !f.num_heads ||
        !f.max_iterations)
        return;  // a damaged or foreign file: regenerate from the flags and defaults
    if (!r.feature_dim) r.feature_dim = f.feature_dim;
    if (!r.hidden_dim) r.hidden_dim = f.hidden_dim;
    if (!r.output_dim) r.output_dim = f.output_dim;
    if (!r.num_heads) r.num_heads = f.num_heads;
    if (!r.max_iterations) r.max_iterations = f.max_iterations;
    if (!r.seed && f.seed) r.seed = f.seed;
}

}  // namespace

void add_common(CLI::App& cmd, CommonOptions& o, bool with_model, bool with_device) {
    cmd.add_option("--weights", o.weights,
                   "Weight file (default: $GASM_WEIGHTS, else gasm_weights.h5)");
    cmd.add_flag("-q,--quiet", o.quiet, "Only warnings and errors on stderr");
    cmd.add_flag("-v,--verbose", o.verbose, "Debug messages on stderr");
    cmd.add_option("--log-format", o.log_format, "Log format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    if (!with_model) return;
    cmd.add_flag("--force-regen", o.force_regen,
                 "Regenerate the weights and replace the file (also GASM_FORCE_REGEN=true)");
    cmd.add_option_function<std::string>(
        "--seed", [&o](const std::string& v) { o.seed = parse_seed(v); },
        "Seed of weight generation, 0 to 2^64-1 (default 42)");
    cmd.add_option("--feature-dim", o.feature_dim, "Feature size F (default 768)");
    cmd.add_option("--hidden-dim", o.hidden_dim, "Hidden size H (default 256)");
    cmd.add_option("--output-dim", o.output_dim, "Geometry size D (default 3)");
    cmd.add_option("--num-heads", o.num_heads, "Attention heads (default 4)");
    cmd.add_option("--max-iterations", o.max_iterations, "Refinement iterations K (default 6)");
    if (!with_device) return;
    cmd.add_option("--device", o.device, "auto, cpu, cuda or cuda:N (default $GASM_DEVICE, auto)");
    cmd.add_option("--threads", o.threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd.add_option("--precision", o.precision, "CUDA matrix precision: fp32 or tf32")
        ->check(CLI::IsMember({"fp32", "tf32"}));
    cmd.add_option("--curvature", o.curvature, "Curvature: gaussian, mean or ollivier_ricci")
        ->check(CLI::IsMember({"gaussian", "mean", "ollivier_ricci"}));
}

void start_logging(const CommonOptions& o, int rank) {
    if (o.quiet && o.verbose) throw UsageError("--quiet and --verbose exclude each other");
    setup_logging(o.quiet || rank > 0 ? LogLevel::quiet
                  : o.verbose         ? LogLevel::verbose
                                      : LogLevel::normal,
                  parse_log_format(o.log_format),
                  rank > 0 ? "rank " + std::to_string(rank) + ": " : "");
}

WeightsRequest weights_request(const CommonOptions& o) {
    WeightsRequest r;
    r.path = resolve_weights_path(o.weights);
    r.force_regen = o.force_regen;
    if (!o.force_regen) r.force_regen = env::get_bool("GASM_FORCE_REGEN").value_or(false);
    r.seed = o.seed;
    r.feature_dim = o.feature_dim;
    r.hidden_dim = o.hidden_dim;
    r.output_dim = o.output_dim;
    r.num_heads = o.num_heads;
    r.max_iterations = o.max_iterations;
    if (r.force_regen) adopt_file_configuration(r);
    r.config().validate();
    return r;
}

std::optional<int64_t> expected_feature_dim(const WeightsRequest& r) {
    // A file that is there will be loaded, not written: its own checks decide what it holds, so
    // the input is checked against it after the load. Only weights that are about to be made
    // have a width known beforehand, and a bad input must stop the run before they are written.
    std::error_code ec;
    if (!r.force_regen && std::filesystem::exists(r.path, ec)) return std::nullopt;
    return r.config().feature_dim;
}

std::string device_request(const CommonOptions& o) {
    if (!o.device.empty()) return o.device;
    if (auto v = env::get("GASM_DEVICE")) {
        if (v->empty()) throw UsageError("GASM_DEVICE is set but empty (auto, cpu, cuda, cuda:N)");
        return *v;
    }
    return "auto";
}

bool same_file(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    std::error_code ec1, ec2;
    const fs::path ca = fs::weakly_canonical(fs::absolute(a, ec1), ec1),
                   cb = fs::weakly_canonical(fs::absolute(b, ec2), ec2);
    if (!ec1 && !ec2 && ca == cb) return true;
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

void check_result_path(const std::string& flag, const std::string& path,
                       const std::string& weights) {
    if (same_file(path, weights))
        throw UsageError(flag + " " + path + " is the weight file " + weights +
                         "; choose another file");
    if (same_file(path, weights + ".lock"))
        throw UsageError(flag + " " + path + " is the lock file of " + weights +
                         "; choose another file");
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        throw UsageError(flag + " " + path + " exists and is not a regular file; name a file");
}

BackendOptions backend_options(const CommonOptions& o) {
    BackendOptions b;
    b.threads = o.threads;
    b.precision = parse_precision(o.precision);
    return b;
}

}  // namespace gasm::app
