// SPDX-License-Identifier: MIT
// Which device runs: the probe of the CUDA runtime (or the reason there is none), the choice
// that --device / GASM_DEVICE ask for, and the factory that builds the backend for it. A build
// without CUDA answers every probe with "CUDA not compiled in" and runs on the CPU.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/backend.hpp"

namespace gasm {

struct CudaDeviceInfo {
    int index = 0;
    std::string name;
    int cc_major = 0, cc_minor = 0;
    size_t memory_bytes = 0;
};

struct DeviceReport {
    bool cuda_compiled = false;
    int runtime_version = 0;  // cudaRuntimeGetVersion, e.g. 13000
    int driver_version = 0;   // cudaDriverGetVersion, 0 when no driver
    std::vector<CudaDeviceInfo> devices;
    std::string reason;  // why no device is usable, when devices is empty
};

DeviceReport probe_devices();

enum class Precision { fp32, tf32 };

struct BackendOptions {
    int threads = 0;  // CPU threads, 0 = all cores
    Precision precision = Precision::fp32;
};

struct DeviceChoice {
    bool cuda = false;
    int index = 0;
    std::string why;  // for the log: "auto: no CUDA driver found, using the CPU"
};

// Parses "auto", "cpu", "cuda", "cuda:N" and decides. An explicit cuda request without a usable
// device throws RuntimeFailure with one clear line; a bad word throws UsageError.
DeviceChoice choose_device(const std::string& request);

// The CPU backend shares the weights; the CUDA backend copies them to the device.
std::unique_ptr<Backend> make_backend(const DeviceChoice& choice,
                                      std::shared_ptr<const Weights> weights,
                                      const BackendOptions& options);

Precision parse_precision(const std::string& name);  // throws UsageError

}  // namespace gasm
