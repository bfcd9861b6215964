// SPDX-License-Identifier: MIT
// The entry points the host code calls into the CUDA backend. Only compiled in when the build
// has CUDA (GASM_WITH_CUDA); nothing here includes CUDA headers, so host code stays plain C++.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "host/devices.hpp"

namespace gasm::cuda {

// Runtime and driver versions and the usable devices, or the reason there are none (no driver,
// driver older than the runtime, no device). Never throws.
DeviceReport probe();

// The CUDA backend on device `index`; weights are copied once through pinned host memory.
std::unique_ptr<Backend> make_backend(const Weights& weights, int index,
                                      const BackendOptions& options);

// n raw 32-bit values of cuRAND's device Philox generator (curandCreateGenerator) at `offset`,
// copied back to the host: the RNG identity test compares them with the host generator.
std::vector<uint32_t> generate_bits(uint64_t seed, uint64_t offset, size_t n, int index);

// The whole weight set generated on the device (weights-format.md), copied back for checking.
Weights generate_weights(const ModelConfig& config, uint64_t seed, int index);

}  // namespace gasm::cuda
