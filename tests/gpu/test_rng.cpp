// SPDX-License-Identifier: MIT
// RNG identity (weights-format.md): cuRAND's device Philox generator must give the same raw
// 32-bit stream as the host generator for any offset and length, and the weights generated on
// the device must be bit-identical to the host's, tensor by tensor and by digest.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/generate.hpp"
#include "host/params.hpp"
#include "host/philox.hpp"
#include "tests/gpu/gpu_support.hpp"

namespace gasm {
namespace {

// Index of the first difference, or -1.
int64_t first_difference(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        if (a[i] != b[i]) return static_cast<int64_t>(i);
    return a.size() == b.size() ? -1 : static_cast<int64_t>(std::min(a.size(), b.size()));
}

TEST(CudaRng, DeviceBitsMatchTheHostPhiloxStream) {
    GASM_REQUIRE_CUDA_DEVICE();
    // Offsets inside a block, on block and subsequence (65536 blocks) boundaries, and past 2^32.
    const std::vector<uint64_t> offsets = {
        0, 1, 3, 4, 5, 1000, 262143, 262144, 262146, 4 * 262144 + 2, (1ull << 32) + 7};
    const std::vector<size_t> sizes = {1, 3, 4, 5, 1000, 4 * 65537 + 3};
    for (uint64_t seed : {42ull, 0ull, 0x123456789abcdefull}) {
        for (uint64_t offset : offsets) {
            for (size_t n : sizes) {
                const std::vector<uint32_t> dev = cuda::generate_bits(seed, offset, n, 0);
                std::vector<uint32_t> host(n);
                philox::generate(seed, offset, host.data(), n);
                const int64_t at = first_difference(dev, host);
                EXPECT_EQ(at, -1) << "seed " << seed << " offset " << offset << " n " << n
                                  << ": first difference at " << at;
            }
        }
    }
}

TEST(CudaRng, DeviceBitsMatchTheHostGeneratorInUse) {
    GASM_REQUIRE_CUDA_DEVICE();
    for (uint64_t offset : {0ull, 12ull, 777ull}) {
        const size_t n = 10007;
        const std::vector<uint32_t> dev = cuda::generate_bits(42, offset, n, 0);
        std::vector<uint32_t> host(n);
        generate_bits(42, offset, host.data(), n);
        EXPECT_EQ(first_difference(dev, host), -1)
            << "offset " << offset
            << " (host generator: " << (using_curand() ? "cuRAND host" : "built-in Philox") << ")";
    }
}

void expect_identical_weights(const Weights& dev, const Weights& host) {
    ASSERT_EQ(dev.specs.size(), host.specs.size());
    for (size_t i = 0; i < host.specs.size(); ++i) {
        const auto& a = dev.tensors[i].data;
        const auto& b = host.tensors[i].data;
        ASSERT_EQ(a.size(), b.size()) << host.specs[i].key;
        for (size_t j = 0; j < b.size(); ++j) {
            if (std::memcmp(&a[j], &b[j], sizeof(float)) != 0) {
                ADD_FAILURE() << host.specs[i].key << ": first difference at " << j << " (" << a[j]
                              << " vs " << b[j] << ")";
                break;
            }
        }
    }
    EXPECT_EQ(content_sha256(dev), content_sha256(host));
    EXPECT_EQ(dev.seed, host.seed);
}

TEST(CudaRng, DeviceWeightsAreBitIdenticalToHostWeights) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg;
    expect_identical_weights(cuda::generate_weights(cfg, 42, 0), generate_weights(cfg, 42));
}

TEST(CudaRng, DeviceWeightsOfAnOddConfigurationAndSeed) {
    GASM_REQUIRE_CUDA_DEVICE();
    const ModelConfig cfg = gpu_testing::odd_config();
    expect_identical_weights(cuda::generate_weights(cfg, 7, 0), generate_weights(cfg, 7));
}

}  // namespace
}  // namespace gasm
