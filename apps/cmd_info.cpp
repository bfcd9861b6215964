// SPDX-License-Identifier: MIT
// `gasm_gpu info`: the build's facts (version, compiler, CUDA compiled in, BLAS) and the
// devices found, with the reason when there are none.
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#ifdef GASM_WITH_MPI
#include <mpi.h>
#endif

#include "apps/app.hpp"
#include "host/blas.hpp"
#include "host/build_info.hpp"
#include "host/generate.hpp"

namespace gasm::app {

namespace {

// The MPI library this build runs `run` under mpirun with, or why none.
std::string mpi_text() {
#ifdef GASM_WITH_MPI
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    MPI_Get_library_version(version, &length);  // allowed before MPI_Init
    std::string text(version, static_cast<size_t>(length));
    return "compiled in (" + text.substr(0, text.find_first_of(",\n")) + ")";
#else
    return "not compiled in (GASM_MPI=OFF or no MPI found)";
#endif
}

std::string version_text(int v) {
    if (v <= 0) return "none";
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void info(const CommonOptions& o, bool as_json) {
    start_logging(o);
    const DeviceReport r = probe_devices();
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : r.devices)
        devices.push_back(
            {{"index", d.index},
             {"name", d.name},
             {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)},
             {"memory_bytes", d.memory_bytes}});
    nlohmann::json j = {
        {"version", build::kVersion},
        {"build_type", build::kBuildType},
        {"compiler", build::kCompiler},
        {"cuda_compiled", r.cuda_compiled},
        {"cuda_architectures", r.cuda_compiled ? build::kCudaArchitectures : ""},
        {"cuda_runtime", version_text(r.runtime_version)},
        {"cuda_driver", version_text(r.driver_version)},
        {"cuda_devices", devices},
        {"cuda_reason", r.devices.empty() ? r.reason : ""},
        {"weight_generator", using_curand() ? "cuRAND host API (Philox4x32-10)"
                                            : "built-in Philox4x32-10 (cuRAND layout)"},
        {"blas", blas::describe()},
        {"mpi", mpi_text()},
        {"cpu_threads", std::thread::hardware_concurrency()}};
    if (as_json) {
        std::cout << j.dump(2) << "\n";
        return;
    }
    std::cout << "gasm_gpu " << build::kVersion << " (" << build::kBuildType << ", "
              << build::kCompiler << ")\n";
    std::cout << "CUDA compiled in: " << (r.cuda_compiled ? "yes" : "no");
    if (r.cuda_compiled) std::cout << " (architectures " << build::kCudaArchitectures << ")";
    std::cout << "\nCUDA runtime: " << version_text(r.runtime_version)
              << ", driver: " << version_text(r.driver_version) << "\n";
    if (r.devices.empty()) std::cout << "CUDA devices: none (" << r.reason << ")\n";
    for (const auto& d : r.devices)
        std::cout << "CUDA device " << d.index << ": " << d.name << ", compute " << d.cc_major
                  << "." << d.cc_minor << ", " << d.memory_bytes / (1 << 20) << " MiB\n";
    std::cout << "Weight generator: " << j["weight_generator"].get<std::string>() << "\n";
    std::cout << "BLAS: " << j["blas"].get<std::string>() << "\n";
    std::cout << "MPI: " << j["mpi"].get<std::string>() << "\n";
    std::cout << "CPU threads: " << std::thread::hardware_concurrency() << "\n";
}

}  // namespace

void add_info(CLI::App& app) {
    auto o = std::make_shared<CommonOptions>();
    auto as_json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("info", "Build facts and the devices found");
    add_common(*cmd, *o, /*with_model=*/false, /*with_device=*/false);
    cmd->add_flag("--json", *as_json, "Print JSON");
    cmd->callback([o, as_json] { info(*o, *as_json); });
}

}  // namespace gasm::app
