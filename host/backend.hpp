// SPDX-License-Identifier: MIT
// The one interface both backends implement. A backend owns its copy of the weights (on the
// host for the CPU, on the device for CUDA) and runs the whole forward pass of model.md on a
// batch of scenes. The CPU backend is the reference the CUDA backend is tested against.
#pragma once

#include <memory>
#include <string>

#include "host/config.hpp"
#include "host/params.hpp"
#include "host/scene.hpp"

namespace gasm {

class Backend {
  public:
    virtual ~Backend() = default;
    // "cpu" or "cuda:0"; reported in outputs and logs.
    virtual std::string device_name() const = 0;
    // Runs the model on every scene of the batch. The batch must have been validated against
    // this backend's configuration (feature width); throws InputError otherwise.
    virtual BatchResult forward(const SceneBatch& batch, const RunOptions& options) = 0;
    virtual const ModelConfig& config() const = 0;
};

struct CpuOptions {
    int threads = 0;  // 0: all cores
};

std::unique_ptr<Backend> make_cpu_backend(const Weights& weights, const CpuOptions& options);
// The same without a copy of the weights: the backend shares them.
std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Weights> weights,
                                          const CpuOptions& options);

}  // namespace gasm
