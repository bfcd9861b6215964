// SPDX-License-Identifier: MIT
// Deterministic weight generation on the device (weights-format.md) with cuRAND's device Philox
// generator: seed S, default ordering, and for each uniform parameter in canonical order the
// offset o, n = numel raw 32-bit draws, then o += n rounded up to 4. The map from a draw b to a
// weight, u = ((b >> 8) + 0.5f) 2^-24 and w = bound (2u - 1), is written with explicitly
// rounded intrinsics so the compiler cannot contract it into FMAs: every step is exact or
// rounded once in IEEE float32, which is what makes the device weights bit-identical to the
// host generator's. bound = 1.0f / sqrtf(fan_in) is computed once on the host.
#include <algorithm>
#include <cmath>
#include <string>

#include "host/errors.hpp"
#include "host/params.hpp"
#include "kernels/cuda_api.hpp"
#include "kernels/device_memory.hpp"

namespace gasm::cuda {
namespace {

constexpr int kMapThreads = 256;
constexpr int kMapMaxBlocks = 4096;

// bits (n) -> w (n).
__global__ void uniform_map_kernel(const uint32_t* __restrict__ bits, size_t n, float bound,
                                   float* __restrict__ w) {
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<size_t>(gridDim.x) * blockDim.x) {
        const float hi = __uint2float_rn(bits[i] >> 8);  // < 2^24: exact
        const float u = __fmul_rn(__fadd_rn(hi, 0.5f), 0x1p-24f);
        w[i] = __fmul_rn(bound, __fsub_rn(__fmul_rn(2.0f, u), 1.0f));
    }
}

void launch_uniform_map(const uint32_t* bits, size_t n, float bound, float* w,
                        cudaStream_t stream) {
    const size_t want = (n + kMapThreads - 1) / kMapThreads;
    const auto blocks = static_cast<unsigned>(std::min<size_t>(want, kMapMaxBlocks));
    uniform_map_kernel<<<blocks, kMapThreads, 0, stream>>>(bits, n, bound, w);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

// Entry point of the map: U(-bound, bound) weights from raw draws, on `stream`.
void uniform_map(const uint32_t* bits, size_t n, float bound, float* w, cudaStream_t stream) {
    if (n == 0) return;
    launch_uniform_map(bits, n, bound, w, stream);
}

// The generator of weights-format.md: Philox4x32-10, seed, default ordering, on `stream`.
void configure(const CurandGenerator& gen, uint64_t seed, cudaStream_t stream) {
    GASM_CUDA_CHECK(curandSetStream(gen.get(), stream));
    GASM_CUDA_CHECK(curandSetPseudoRandomGeneratorSeed(gen.get(), seed));
    GASM_CUDA_CHECK(curandSetGeneratorOrdering(gen.get(), CURAND_ORDERING_PSEUDO_DEFAULT));
}

}  // namespace

std::vector<uint32_t> generate_bits(uint64_t seed, uint64_t offset, size_t n, int index) {
    std::vector<uint32_t> out(n);
    require_device(index);
    if (n == 0) return out;
    DeviceGuard guard(index);
    Stream stream;
    CurandGenerator gen(CURAND_RNG_PSEUDO_PHILOX4_32_10);
    configure(gen, seed, stream.get());
    GASM_CUDA_CHECK(curandSetGeneratorOffset(gen.get(), offset));
    DeviceBuffer<uint32_t> bits(n);
    GASM_CUDA_CHECK(curandGenerate(gen.get(), bits.get(), n));
    GASM_CUDA_CHECK(cudaMemcpyAsync(out.data(), bits.get(), n * sizeof(uint32_t),
                                    cudaMemcpyDeviceToHost, stream.get()));
    stream.synchronize();
    return out;
}

Weights generate_weights(const ModelConfig& config, uint64_t seed, int index) {
    Weights w = make_empty_weights(config);
    w.seed = seed;
    w.generator = "curand-philox4x32-10";
    require_device(index);

    // Device layout: the uniform parameters one after another.
    std::vector<size_t> at(w.specs.size(), 0);
    size_t total = 0, largest = 0;
    for (size_t i = 0; i < w.specs.size(); ++i) {
        if (w.specs[i].init != InitKind::uniform) continue;
        const auto n = static_cast<size_t>(w.specs[i].numel());
        at[i] = total;
        total += n;
        largest = std::max(largest, n);
    }
    if (total == 0) return w;

    DeviceGuard guard(index);
    Stream stream;
    CurandGenerator gen(CURAND_RNG_PSEUDO_PHILOX4_32_10);
    configure(gen, seed, stream.get());
    DeviceBuffer<float> values(total);
    DeviceBuffer<uint32_t> bits(largest);
    unsigned long long offset = 0;
    for (size_t i = 0; i < w.specs.size(); ++i) {
        const ParamSpec& spec = w.specs[i];
        if (spec.init != InitKind::uniform) continue;
        const auto n = static_cast<size_t>(spec.numel());
        const float bound = 1.0f / std::sqrt(static_cast<float>(spec.fan_in));
        GASM_CUDA_CHECK(curandSetGeneratorOffset(gen.get(), offset));
        GASM_CUDA_CHECK(curandGenerate(gen.get(), bits.get(), n));
        uniform_map(bits.get(), n, bound, values.get() + at[i], stream.get());
        offset += (n + 3) / 4 * 4;
    }
    PinnedBuffer<float> host(total);
    GASM_CUDA_CHECK(cudaMemcpyAsync(host.get(), values.get(), total * sizeof(float),
                                    cudaMemcpyDeviceToHost, stream.get()));
    stream.synchronize();
    for (size_t i = 0; i < w.specs.size(); ++i) {
        if (w.specs[i].init != InitKind::uniform) continue;
        auto& data = w.tensors[i].data;
        std::copy(host.get() + at[i], host.get() + at[i] + data.size(), data.begin());
    }
    return w;
}

}  // namespace gasm::cuda
