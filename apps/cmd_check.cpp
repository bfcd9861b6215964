// SPDX-License-Identifier: MIT
// `gasm_gpu check`: SE(3) invariance (the output must not depend on the learned global
// transform, model.md) and, where a CUDA device works, CPU-against-CUDA agreement, on seeded
// synthetic scenes. Exits 1 when a check fails.
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>

#include "apps/app.hpp"
#include "apps/run_engine.hpp"
#include "host/errors.hpp"
#include "host/synthetic.hpp"

namespace gasm::app {

namespace {

struct CheckArgs {
    CommonOptions common;
    int64_t scenes = 8;
    int64_t max_entities = 12;
    double tolerance = 1e-4;
};

struct Diff {
    double worst = 0;
    int64_t scene = -1;
    bool iterations_equal = true;
};

Diff compare(const BatchResult& a, const BatchResult& b) {
    Diff d;
    for (int64_t s = 0; s < a.num_scenes(); ++s) {
        if (a.iterations[s] != b.iterations[s]) d.iterations_equal = false;
        for (int64_t t = a.offsets[s] * a.output_dim; t < a.offsets[s + 1] * a.output_dim; ++t) {
            double e = std::fabs(static_cast<double>(a.positions[t]) - b.positions[t]);
            if (e > d.worst) {
                d.worst = e;
                d.scene = s;
            }
        }
        for (int64_t k = 0; k < a.iterations[s]; ++k) {
            const size_t i = static_cast<size_t>(s * a.max_iterations + k);
            double e = std::fabs(static_cast<double>(a.curvature[i]) - b.curvature[i]);
            if (e > d.worst) {
                d.worst = e;
                d.scene = s;
            }
        }
    }
    return d;
}

bool report(const char* name, const Diff& d, double tol) {
    const bool ok = d.worst <= tol && d.iterations_equal;
    std::cout << (ok ? "PASS " : "FAIL ") << name << ": worst difference " << d.worst;
    if (d.scene >= 0) std::cout << " (scene " << d.scene << ")";
    if (!d.iterations_equal) std::cout << ", iteration counts differ";
    std::cout << " (tolerance " << tol << ")\n";
    return ok;
}

void check(CheckArgs& a) {
    start_logging(a.common);
    if (!(a.tolerance > 0 && a.tolerance <= 1))  // NaN too
        throw UsageError("--tolerance must be above 0 and at most 1");
    Engine engine = start_engine(a.common);
    const ModelConfig& cfg = engine.backend->config();
    SyntheticSpec spec;
    spec.scenes = a.scenes;
    spec.min_entities = 1;
    spec.max_entities = a.max_entities;
    spec.feature_dim = cfg.feature_dim;
    spec.relation_dim = 8;
    spec.constraints = true;
    spec.seed = 7;
    const SceneBatch batch = synthetic_batch(spec);
    const BatchResult base = engine.backend->forward(batch, engine.run_options);

    // A rigid motion far from the identity: translation and a rotation of about 2 rad.
    auto moved_ptr = std::make_shared<Weights>(*engine.weights.weights);
    Weights& moved = *moved_ptr;
    float* se3 = moved.get("se3_attention.se3_params").data.data();
    const float delta[6] = {1.5f, -2.0f, 0.75f, 0.9f, -1.2f, 1.4f};
    for (int i = 0; i < 6; ++i) se3[i] += delta[i];
    moved.digest.clear();
    BackendOptions bo = backend_options(a.common);
    auto cpu_moved = make_backend(DeviceChoice{}, moved_ptr, bo);
    bool ok = report("SE(3) invariance (se3_params perturbed)",
                     compare(base, cpu_moved->forward(batch, engine.run_options)), a.tolerance);

    const DeviceReport devices = probe_devices();
    if (!devices.devices.empty()) {
        DeviceChoice gpu{true, 0, ""};
        auto cuda = make_backend(gpu, engine.weights.weights, bo);
        auto cpu = make_backend(DeviceChoice{}, engine.weights.weights, bo);
        ok = report("CPU against CUDA",
                    compare(cpu->forward(batch, engine.run_options),
                            cuda->forward(batch, engine.run_options)),
                    a.tolerance) &&
             ok;
    } else {
        std::cout << "SKIP CPU against CUDA: " << devices.reason << "\n";
    }
    if (!ok) throw RuntimeFailure("a check failed");
}

}  // namespace

void add_check(CLI::App& app) {
    auto a = std::make_shared<CheckArgs>();
    CLI::App* cmd = app.add_subcommand("check", "SE(3) invariance and CPU-vs-CUDA agreement");
    add_common(*cmd, a->common, /*with_model=*/true, /*with_device=*/true);
    cmd->add_option("--scenes", a->scenes, "Synthetic scenes (default 8)")
        ->check(CLI::Range(1, 10000));
    cmd->add_option("--max-entities", a->max_entities, "Largest scene (default 12)")
        ->check(CLI::Range(1, 4096));
    cmd->add_option("--tolerance", a->tolerance, "Largest accepted difference (default 1e-4)");
    cmd->callback([a] { check(*a); });
}

}  // namespace gasm::app
