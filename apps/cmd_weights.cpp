// SPDX-License-Identifier: MIT
// `gasm_gpu weights status|generate|remove|verify|inspect|import|export`: managing the weight
// file by hand. Every subcommand takes --weights; generate, import and remove replace or delete
// the file only when that is what was asked, and atomically.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/app.hpp"
#include "host/errors.hpp"
#include "host/generate.hpp"
#include "io/npz.hpp"
#include "io/weights_h5.hpp"

namespace gasm::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct WeightsArgs {
    CommonOptions common;
    bool json_out = false;
    bool force = false;
    std::string file;  // import source / export target
    int64_t import_heads = 4;
};

std::string modified_utc(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return "";
    std::tm tm{};
    gmtime_r(&st.st_mtime, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void status(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    std::error_code ec;
    const bool present = fs::exists(path, ec);
    json j = {{"path", path}, {"exists", present}};
    if (present) {
        j["size_bytes"] = fs::file_size(path, ec);
        j["modified_utc"] = modified_utc(path);
        WeightsFileFacts f = read_weights_facts(path);
        auto put = [&](const char* k, const auto& v) { j[k] = v ? json(*v) : json(nullptr); };
        put("format", f.format);
        put("format_version", f.format_version);
        put("feature_dim", f.feature_dim);
        put("hidden_dim", f.hidden_dim);
        put("output_dim", f.output_dim);
        put("num_heads", f.num_heads);
        put("max_iterations", f.max_iterations);
        put("seed", f.seed);
        put("generator", f.generator);
        put("created_by", f.created_by);
        put("created_utc", f.created_utc);
        put("content_sha256", f.content_sha256);
        if (!f.error.empty()) j["error"] = f.error;
    }
    if (a.json_out) {
        std::cout << j.dump(2) << "\n";
        return;
    }
    std::cout << "path:            " << path << "\n";
    std::cout << "exists:          " << (present ? "yes" : "no") << "\n";
    if (!present) return;
    for (const char* k : {"size_bytes", "modified_utc", "feature_dim", "hidden_dim", "output_dim",
                          "num_heads", "max_iterations", "seed", "generator", "created_by",
                          "created_utc", "content_sha256", "error"}) {
        if (!j.contains(k) || j[k].is_null()) continue;
        std::string label = std::string(k) + ":";
        label.resize(17, ' ');
        std::cout << label << (j[k].is_string() ? j[k].get<std::string>() : j[k].dump()) << "\n";
    }
}

void generate(WeightsArgs& a) {
    start_logging(a.common);
    WeightsRequest req = weights_request(a.common);
    std::error_code ec;
    // In this command --force-regen says the same as --force: replace what is there.
    if (fs::exists(req.path, ec) && !a.force && !a.common.force_regen) {
        WeightsFileFacts f = read_weights_facts(req.path);
        ModelConfig want = req.config();
        const bool same = f.feature_dim == want.feature_dim && f.hidden_dim == want.hidden_dim &&
                          f.output_dim == want.output_dim && f.num_heads == want.num_heads &&
                          f.max_iterations == want.max_iterations &&
                          f.seed == req.seed_or_default();
        if (!same) {
            const std::string asked =
                want.describe() + ", seed " + std::to_string(req.seed_or_default());
            const bool facts =
                f.feature_dim && f.hidden_dim && f.output_dim && f.num_heads && f.max_iterations;
            const std::string held =
                facts ? "holds F=" + std::to_string(*f.feature_dim) +
                            " H=" + std::to_string(*f.hidden_dim) +
                            " D=" + std::to_string(*f.output_dim) +
                            " heads=" + std::to_string(*f.num_heads) +
                            " K=" + std::to_string(*f.max_iterations) + ", seed " +
                            (f.seed ? std::to_string(*f.seed) : std::string("none (imported)"))
                      : "is not a gasm weight file" + (f.error.empty() ? "" : " (" + f.error + ")");
            throw WeightsError("weight file " + req.path + " " + held +
                               "; this generate asks for " + asked +
                               ": add --force to replace it, or give the file's sizes and seed");
        }
    }
    WeightsLock lock(req.path, WeightsLock::Mode::exclusive);
    clean_stale_temporaries(req.path);
    spdlog::info("Set deterministic seed ({}) for weight generation", req.seed_or_default());
    Weights w = generate_weights(req.config(), req.seed_or_default());
    std::string why = save_weights_atomic(w, req.path);
    if (!why.empty()) throw RuntimeFailure("cannot save " + req.path + ": " + why);
    spdlog::info("Generated GASM weights ({}) and saved to {}", w.config.describe(), req.path);
    std::cout << "content_sha256 " << digest_of(w) << " " << req.path << "\n";
}

// The commands that only read need the file: a missing one is an error before any lock file
// is created beside it.
void require_existing(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw WeightsError("weight file " + path + " does not exist");
}

void remove(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    // Only a regular file (or a link, which alone is removed) that holds gasm weights is
    // removed; anything else (a device, a FIFO, a folder, another program's file) is refused,
    // the last unless --force says so.
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(path, ec);
    if (fs::exists(st) && !fs::is_regular_file(st) && !fs::is_symlink(st))
        throw UsageError(path + " is not a regular file; not removed");
    if (fs::is_regular_file(st) && !a.force) {
        const WeightsFileFacts f = read_weights_facts(path);
        if (f.format != std::optional<std::string>(kFormatName))
            throw UsageError(path + " is not a gasm weight file (" +
                             (f.error.empty() ? "no gasm-weights format attribute" : f.error) +
                             "); add --force to remove it anyway");
    }
    WeightsLock lock(path, WeightsLock::Mode::exclusive);
    if (!fs::exists(fs::symlink_status(path, ec))) {
        std::cout << "no weight file at " << path << "\n";
    } else {
        if (!fs::remove(path, ec))
            throw RuntimeFailure("cannot remove " + path + ": " + ec.message());
        std::cout << "removed " << path << "\n";
    }
    ::unlink((path + ".lock").c_str());
}

void verify(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    require_existing(path);
    WeightsLock lock(path, WeightsLock::Mode::shared);
    Weights w = read_weights_file(path, WeightsCheck::full);
    std::cout << "ok " << path << " (" << w.config.describe() << ", " << w.parameter_count()
              << " parameters, sha256 " << digest_of(w) << ")\n";
}

void inspect(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    require_existing(path);
    WeightsLock lock(path, WeightsLock::Mode::shared);
    Weights w = read_weights_file(path);
    json rows = json::array();
    if (!a.json_out)
        std::printf("%-42s %-14s %12s %12s %12s %12s\n", "tensor", "shape", "min", "max", "mean",
                    "std");
    for (size_t i = 0; i < w.specs.size(); ++i) {
        const auto& d = w.tensors[i].data;
        double mn = d[0], mx = d[0], sum = 0, sq = 0;
        for (float v : d) {
            mn = std::min<double>(mn, v);
            mx = std::max<double>(mx, v);
            sum += v;
        }
        const double mean = sum / static_cast<double>(d.size());
        for (float v : d) sq += (v - mean) * (v - mean);
        const double sd = std::sqrt(sq / static_cast<double>(d.size()));
        if (a.json_out) {
            rows.push_back({{"name", w.specs[i].key},
                            {"shape", w.specs[i].shape},
                            {"min", mn},
                            {"max", mx},
                            {"mean", mean},
                            {"std", sd}});
        } else {
            std::printf("%-42s %-14s %12.6f %12.6f %12.6f %12.6f\n", w.specs[i].key.c_str(),
                        w.specs[i].shape_text().c_str(), mn, mx, mean, sd);
        }
    }
    if (a.json_out) std::cout << rows.dump(2) << "\n";
}

void import_npz(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    if (a.file.empty()) throw UsageError("weights import needs --from FILE.npz");
    // The shapes are checked from the members' headers before any data is unpacked.
    const auto arrays = read_npz(a.file, [&](const ArrayShapes& shapes) {
        (void)config_from_shapes(shapes, a.import_heads, a.file);
    });
    Weights w = weights_from_arrays(arrays, a.import_heads, a.file);
    std::error_code ec;
    if (fs::exists(path, ec) && !a.force)
        throw WeightsError("weight file " + path + " exists; add --force to replace it");
    WeightsLock lock(path, WeightsLock::Mode::exclusive);
    std::string why = save_weights_atomic(w, path);
    if (!why.empty()) throw RuntimeFailure("cannot save " + path + ": " + why);
    spdlog::info("Imported {} ({}) into {}", a.file, w.config.describe(), path);
    std::cout << "content_sha256 " << digest_of(w) << " " << path << "\n";
}

void export_npz(WeightsArgs& a) {
    start_logging(a.common);
    const std::string path = resolve_weights_path(a.common.weights);
    if (a.file.empty()) throw UsageError("weights export needs --to FILE.npz");
    require_existing(path);
    check_result_path("--to", a.file, path);
    std::error_code ec;
    if (fs::exists(a.file, ec) && !a.force)
        throw UsageError(a.file + " exists; add --force to replace it");
    Weights w;
    {
        WeightsLock lock(path, WeightsLock::Mode::shared);
        w = read_weights_file(path);
    }
    write_npz(a.file, arrays_from_weights(w));
    spdlog::info("Exported {} to {}", path, a.file);
}

}  // namespace

void add_weights(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("weights", "Manage the weight file");
    cmd->require_subcommand(1);
    auto sub = [&](const char* name, const char* help, bool model, void (*fn)(WeightsArgs&)) {
        auto args = std::make_shared<WeightsArgs>();
        CLI::App* s = cmd->add_subcommand(name, help);
        add_common(*s, args->common, model, /*with_device=*/false);
        s->callback([args, fn] { fn(*args); });
        return std::make_pair(s, args);
    };
    {
        auto [s, a] = sub("status", "Path, size, configuration, seed and digest", false, status);
        s->add_flag("--json", a->json_out, "Print JSON");
    }
    {
        auto [s, a] =
            sub("generate", "Generate weights deterministically and save them", true, generate);
        s->add_flag("--force", a->force, "Replace a file of another configuration or seed");
    }
    {
        auto [s, a] = sub("remove", "Delete the weight file and its lock file", false, remove);
        s->add_flag("--force", a->force, "Remove a file that is not a gasm weight file too");
    }
    sub("verify", "Check the file fully, as a load does", false, verify);
    {
        auto [s, a] =
            sub("inspect", "Every tensor with shape, min, max, mean, std", false, inspect);
        s->add_flag("--json", a->json_out, "Print JSON");
    }
    {
        auto [s, a] =
            sub("import", "Import weights from a NumPy .npz (state-dict keys)", false, import_npz);
        s->add_option("--from", a->file, "Source .npz")->required();
        s->add_option("--num-heads", a->import_heads, "Attention heads (shapes do not tell)");
        s->add_flag("--force", a->force, "Replace an existing weight file");
    }
    {
        auto [s, a] = sub("export", "Export the weights to a NumPy .npz", false, export_npz);
        s->add_option("--to", a->file, "Target .npz")->required();
        s->add_flag("--force", a->force, "Replace an existing .npz");
    }
}

}  // namespace gasm::app
