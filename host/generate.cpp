// SPDX-License-Identifier: MIT
// Weight generation on the host. cuRAND's host API generator needs no GPU, so every machine
// draws the same bits as a GPU would; builds without cuRAND use the built-in Philox, which the
// tests prove equal to cuRAND's stream.
#include "host/generate.hpp"

#include <cmath>
#include <memory>
#include <string>

#include "host/errors.hpp"
#include "host/philox.hpp"

#ifdef GASM_HAVE_CURAND
#include <curand.h>
#endif

namespace gasm {

#ifdef GASM_HAVE_CURAND
namespace {

void check_curand(curandStatus_t status, const char* what) {
    if (status != CURAND_STATUS_SUCCESS)
        throw RuntimeFailure(std::string("cuRAND host generator: ") + what + " failed (status " +
                             std::to_string(static_cast<int>(status)) + ")");
}

struct HostGenerator {
    curandGenerator_t gen = nullptr;
    explicit HostGenerator(uint64_t seed) {
        check_curand(curandCreateGeneratorHost(&gen, CURAND_RNG_PSEUDO_PHILOX4_32_10),
                     "curandCreateGeneratorHost");
        check_curand(curandSetPseudoRandomGeneratorSeed(gen, seed), "setting the seed");
        check_curand(curandSetGeneratorOrdering(gen, CURAND_ORDERING_PSEUDO_DEFAULT),
                     "setting the ordering");
    }
    ~HostGenerator() { curandDestroyGenerator(gen); }
    HostGenerator(const HostGenerator&) = delete;
    HostGenerator& operator=(const HostGenerator&) = delete;

    void draw(uint64_t offset, uint32_t* out, size_t n) {
        check_curand(curandSetGeneratorOffset(gen, offset), "setting the offset");
        check_curand(curandGenerate(gen, out, n), "curandGenerate");
    }
};

}  // namespace

bool using_curand() {
    return true;
}

void generate_bits(uint64_t seed, uint64_t offset, uint32_t* out, size_t n) {
    if (n == 0) return;
    HostGenerator gen(seed);
    gen.draw(offset, out, n);
}

#else

bool using_curand() {
    return false;
}

void generate_bits(uint64_t seed, uint64_t offset, uint32_t* out, size_t n) {
    philox::generate(seed, offset, out, n);
}

#endif

Weights generate_weights(const ModelConfig& config, uint64_t seed) {
    config.validate();
    Weights w = make_empty_weights(config);
    w.seed = seed;
    w.generator = "curand-philox4x32-10";
#ifdef GASM_HAVE_CURAND
    HostGenerator gen(seed);
#endif
    uint64_t offset = 0;
    std::vector<uint32_t> bits;
    for (size_t p = 0; p < w.specs.size(); ++p) {
        const ParamSpec& spec = w.specs[p];
        if (spec.init != InitKind::uniform) continue;
        const size_t n = static_cast<size_t>(spec.numel());
        bits.resize(n);
#ifdef GASM_HAVE_CURAND
        gen.draw(offset, bits.data(), n);
#else
        philox::generate(seed, offset, bits.data(), n);
#endif
        const float bound = 1.0f / sqrtf(static_cast<float>(spec.fan_in));
        float* out = w.tensors[p].data.data();
        for (size_t i = 0; i < n; ++i) out[i] = uniform_weight(bits[i], bound);
        offset += (n + 3) / 4 * 4;
    }
    digest_of(w);
    return w;
}

}  // namespace gasm
