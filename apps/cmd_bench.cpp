// SPDX-License-Identifier: MIT
// `gasm_gpu bench`: throughput and latency of the forward pass on synthetic scenes, per case
// (scenes x entities), as a table to paste into an issue or as JSON. The weights come through
// the usual lifecycle, so the numbers are for the weights a run would use.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "apps/app.hpp"
#include "apps/run_engine.hpp"
#include "host/blas.hpp"
#include "host/errors.hpp"
#include "host/large_alloc.hpp"
#include "host/synthetic.hpp"
#include "io/scenes.hpp"

namespace gasm::app {

namespace {

struct BenchArgs {
    CommonOptions common;
    std::vector<std::string> cases{"1x10", "1000x10", "1x1000"};
    bool sgemm = false;
    int repeat = 5;
    double min_seconds = 1.0;
    bool json_out = false;
};

struct Case {
    int64_t scenes, entities;
};

// At most a scene of the input limit, and 2^21 entities in all (6 GiB of features at the
// default F = 768): a larger case is a typing slip, not a benchmark this machine can hold.
constexpr int64_t kMaxCaseEntities = int64_t{1} << 21;

Case parse_case(const std::string& text) {
    Case c{};
    char x = 0;
    std::istringstream in(text);
    if (!(in >> c.scenes >> x >> c.entities) || x != 'x' || c.scenes < 1 || c.entities < 1 ||
        !in.eof())
        throw UsageError("--case must look like SCENESxENTITIES (e.g. 1000x10), got " + text);
    const InputLimits limits;
    if (c.entities > limits.max_entities_per_scene || c.scenes > kMaxCaseEntities / c.entities)
        throw UsageError("--case " + text + " is too large: at most " +
                         std::to_string(limits.max_entities_per_scene) + " entities a scene and " +
                         std::to_string(kMaxCaseEntities) + " in all");
    return c;
}

// Floating-point work of one scene of n entities through K iterations (the matrix products and
// the attention's two products per head; elementwise work left out).
double model_flops(const ModelConfig& c, int64_t n) {
    const double F = c.feature_dim, H = c.hidden_dim, D = c.output_dim;
    const double per_row = 2 * F * (3 * H + 7) + 2 * H * F + 2 * F * H + 2 * H * F + 4 * F * D;
    const double edges = n > 1 ? static_cast<double>(n) * (n - 1) : 1.0;
    return static_cast<double>(c.max_iterations) * (per_row * n + 4 * edges * H);
}

// The machine's SGEMM rate with the backend's threads, each running single-threaded products
// of the shape the model's largest projection has (1024 x 775 x 768).
double measured_sgemm_gflops(int threads) {
    const int64_t m = 1024, n = 775, k = 768;
    std::vector<FloatBuffer> a(threads, FloatBuffer(m * k, 0.5f)), c(threads, FloatBuffer(m * n));
    const FloatBuffer b(n * k, 0.25f);
    auto work = [&](int t, int reps) {
        for (int r = 0; r < reps; ++r)
            blas::sgemm_nt(m, n, k, 1.0f, a[t].data(), k, b.data(), k, 0.0f, c[t].data(), n);
    };
    work(0, 1);
    const int reps = 20;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t, reps);
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 2.0 * m * n * k * reps * threads / s / 1e9;
}

struct Timing {
    double median_s = 0, best_s = 0;
    int runs = 0;
};

Timing time_case(Engine& engine, const SceneBatch& batch, int repeat, double min_seconds) {
    std::vector<double> times;
    run_batch(engine, batch);  // warm-up: page in weights, size the workspaces
    const auto start = std::chrono::steady_clock::now();
    while (static_cast<int>(times.size()) < repeat ||
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               min_seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        run_batch(engine, batch);
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (times.size() >= 1000) break;
    }
    std::sort(times.begin(), times.end());
    return {times[times.size() / 2], times.front(), static_cast<int>(times.size())};
}

void bench(BenchArgs& a) {
    start_logging(a.common);
    std::vector<Case> cases;
    for (const auto& text : a.cases) cases.push_back(parse_case(text));
    if (!(a.min_seconds >= 0 && a.min_seconds <= 3600))  // NaN too
        throw UsageError("--min-seconds must be from 0 to 3600");
    Engine engine = start_engine(a.common);
    const ModelConfig& cfg = engine.backend->config();
    nlohmann::json rows = nlohmann::json::array();
    if (!a.json_out) {
        std::printf("device: %s, model %s, curvature %s\n", engine.backend->device_name().c_str(),
                    cfg.describe().c_str(), a.common.curvature.c_str());
        std::printf("| %-12s | %8s | %12s | %12s | %14s | %9s | %5s |\n", "case", "entities",
                    "median ms", "best ms", "scenes/s", "GFLOP/s", "runs");
        std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", "--------------", "----------", "--------------",
                    "--------------", "----------------", "-----------", "-------");
    }
    for (size_t ci = 0; ci < cases.size(); ++ci) {
        const Case c = cases[ci];
        const std::string& text = a.cases[ci];
        SyntheticSpec spec;
        spec.scenes = c.scenes;
        spec.min_entities = spec.max_entities = c.entities;
        spec.feature_dim = cfg.feature_dim;
        const SceneBatch batch = synthetic_batch(spec);
        const Timing t = time_case(engine, batch, a.repeat, a.min_seconds);
        const double rate = static_cast<double>(c.scenes) / t.median_s;
        const double gflops = model_flops(cfg, c.entities) * rate / 1e9;
        rows.push_back({{"case", text},
                        {"scenes", c.scenes},
                        {"entities", c.entities},
                        {"median_ms", t.median_s * 1e3},
                        {"best_ms", t.best_s * 1e3},
                        {"scenes_per_second", rate},
                        {"runs", t.runs},
                        {"model_gflops", gflops},
                        {"device", engine.backend->device_name()}});
        if (!a.json_out) {
            std::printf("| %-12s | %8lld | %12.3f | %12.3f | %14.1f | %9.1f | %5d |\n",
                        text.c_str(), static_cast<long long>(c.entities), t.median_s * 1e3,
                        t.best_s * 1e3, rate, gflops, t.runs);
            std::fflush(stdout);
        }
    }
    if (a.sgemm && engine.backend->device_name() == "cpu") {
        const int threads = a.common.threads > 0
                                ? a.common.threads
                                : static_cast<int>(std::thread::hardware_concurrency());
        const double peak = measured_sgemm_gflops(threads);
        if (a.json_out) {
            rows.push_back({{"case", "sgemm"}, {"threads", threads}, {"gflops", peak}});
        } else {
            std::printf("SGEMM 1024x775x768 on %d thread(s): %.1f GFLOP/s\n", threads, peak);
        }
    }
    if (a.json_out) std::cout << rows.dump(2) << "\n";
}

}  // namespace

void add_bench(CLI::App& app) {
    auto a = std::make_shared<BenchArgs>();
    CLI::App* cmd = app.add_subcommand("bench", "Throughput and latency on synthetic scenes");
    add_common(*cmd, a->common, /*with_model=*/true, /*with_device=*/true);
    cmd->add_option("--case", a->cases,
                    "SCENESxENTITIES, repeatable (default 1x10 1000x10 1x1000)");
    cmd->add_option("--repeat", a->repeat, "Timed runs per case, at least (default 5)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--min-seconds", a->min_seconds, "Time per case, at least (default 1)");
    cmd->add_flag("--json", a->json_out, "Print JSON");
    cmd->add_flag("--sgemm", a->sgemm, "Also measure the machine's SGEMM rate (CPU)");
    cmd->callback([a] { bench(*a); });
}

}  // namespace gasm::app
