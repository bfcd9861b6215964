// SPDX-License-Identifier: MIT
// Deterministic weight generation (weights-format.md): cuRAND's Philox4x32-10 host generator,
// one draw per uniform parameter at a running offset, mapped to float32 exactly.
#pragma once

#include <cstdint>

#include "host/hd.hpp"
#include "host/params.hpp"

namespace gasm {

inline constexpr uint64_t kDefaultSeed = 42;

// The weights of this configuration for this seed; bit-identical on every machine.
Weights generate_weights(const ModelConfig& config, uint64_t seed);

// The mapping of one raw 32-bit value to a weight in [-bound, bound].
GASM_HD inline float uniform_weight(uint32_t bits, float bound) {
    float u = (static_cast<float>(bits >> 8) + 0.5f) * 0x1p-24f;
    return bound * (2.0f * u - 1.0f);
}

// Raw values from the generator in use (cuRAND's host generator when compiled in, else the
// built-in Philox), so tests can compare the two.
void generate_bits(uint64_t seed, uint64_t offset, uint32_t* out, size_t n);
bool using_curand();

}  // namespace gasm
