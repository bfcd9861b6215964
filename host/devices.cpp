// SPDX-License-Identifier: MIT
// Device choice. "auto" takes the first CUDA device that works and otherwise the CPU, and says
// why; "cuda" or "cuda:N" without a usable device is a runtime error, never a quiet fallback.
#include "host/devices.hpp"

#include <charconv>

#include "host/errors.hpp"

#ifdef GASM_WITH_CUDA
#include "kernels/cuda_api.hpp"
#endif

namespace gasm {

DeviceReport probe_devices() {
#ifdef GASM_WITH_CUDA
    return cuda::probe();
#else
    DeviceReport r;
    r.reason = "CUDA support is not compiled into this build";
    return r;
#endif
}

Precision parse_precision(const std::string& name) {
    if (name == "fp32" || name == "float32") return Precision::fp32;
    if (name == "tf32") return Precision::tf32;
    throw UsageError("unknown precision '" + name + "' (fp32, tf32)");
}

DeviceChoice choose_device(const std::string& request) {
    DeviceChoice choice;
    if (request == "cpu") {
        choice.why = "the CPU was requested";
        return choice;
    }
    int index = 0;
    const bool is_auto = request == "auto";
    if (!is_auto) {
        if (request.rfind("cuda", 0) != 0) {
            throw UsageError("unknown device '" + request + "' (auto, cpu, cuda, cuda:N)");
        }
        if (request.size() > 4) {
            const char* b = request.data() + 5;
            const char* e = request.data() + request.size();
            auto [p, ec] = std::from_chars(b, e, index);
            if (request[4] != ':' || ec != std::errc() || p != e || index < 0)
                throw UsageError("unknown device '" + request + "' (auto, cpu, cuda, cuda:N)");
        }
    }
    DeviceReport report = probe_devices();
    if (report.devices.empty()) {
        if (!is_auto)
            throw RuntimeFailure("device " + request + " is not usable: " + report.reason);
        choice.why = "auto: " + report.reason + "; running on the CPU";
        return choice;
    }
    if (index >= static_cast<int>(report.devices.size()))
        throw RuntimeFailure("device " + request + " does not exist: " +
                             std::to_string(report.devices.size()) + " CUDA device(s) found");
    choice.cuda = true;
    choice.index = index;
    choice.why = (is_auto ? "auto: " : "") + std::string("using CUDA device ") +
                 std::to_string(index) + " (" + report.devices[index].name + ")";
    return choice;
}

std::unique_ptr<Backend> make_backend(const DeviceChoice& choice,
                                      std::shared_ptr<const Weights> weights,
                                      const BackendOptions& options) {
    if (!choice.cuda) return make_cpu_backend(std::move(weights), CpuOptions{options.threads});
#ifdef GASM_WITH_CUDA
    return cuda::make_backend(*weights, choice.index, options);
#else
    throw RuntimeFailure("CUDA support is not compiled into this build");
#endif
}

}  // namespace gasm
