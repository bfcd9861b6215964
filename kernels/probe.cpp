// SPDX-License-Identifier: MIT
// What the CUDA runtime can see: its own version, the driver's, and the usable devices, or one
// plain reason why there are none. The runtime answers every question with an error code when
// libcuda is missing or too old, so nothing here throws; the reason is what `gasm_gpu info`,
// --device auto and the GPU tests' skip messages show.
#include <exception>
#include <string>

#include "host/errors.hpp"
#include "kernels/cuda_api.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device_memory.hpp"

namespace gasm::cuda {
namespace {

// 12040 -> "12.4".
std::string version_text(int v) {
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void probe_into(DeviceReport& report) {
    if (cudaRuntimeGetVersion(&report.runtime_version) != cudaSuccess)
        report.runtime_version = CUDART_VERSION;
    if (cudaDriverGetVersion(&report.driver_version) != cudaSuccess || report.driver_version == 0) {
        report.driver_version = 0;
        report.reason = "no CUDA driver found";
        return;
    }
    if (report.driver_version < report.runtime_version) {
        report.reason = "CUDA driver (" + version_text(report.driver_version) +
                        ") is older than the runtime (" + version_text(report.runtime_version) +
                        ")";
        return;
    }
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        cudaGetLastError();
        report.reason = cudaGetErrorString(status);
        return;
    }
    if (count == 0) {
        report.reason = "no CUDA device found";
        return;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
            cudaGetLastError();
            continue;
        }
        report.devices.push_back(
            CudaDeviceInfo{i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
    }
    if (report.devices.empty()) report.reason = "no CUDA device could be queried";
}

}  // namespace

DeviceReport probe() {
    DeviceReport report;
    report.cuda_compiled = true;
    try {
        probe_into(report);
    } catch (const std::exception& e) {
        report.devices.clear();
        report.reason = std::string("CUDA probe failed: ") + e.what();
    } catch (...) {
        report.devices.clear();
        report.reason = "CUDA probe failed";
    }
    return report;
}

void require_device(int index) {
    const DeviceReport report = probe();
    if (report.devices.empty()) throw RuntimeFailure("CUDA is not usable: " + report.reason);
    for (const CudaDeviceInfo& d : report.devices)
        if (d.index == index) return;
    throw RuntimeFailure("no usable CUDA device " + std::to_string(index) + " (found " +
                         std::to_string(report.devices.size()) + ")");
}

}  // namespace gasm::cuda
