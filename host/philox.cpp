// SPDX-License-Identifier: MIT
// Block-at-a-time evaluation of the cuRAND-layout Philox stream, and normals drawn from it.
#include "host/philox.hpp"

#include <cmath>
#include <numbers>

namespace gasm::philox {

void generate(uint64_t seed, uint64_t offset, uint32_t* out, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint64_t e = offset + i;
        uint64_t b = e / 4;
        Block c{{static_cast<uint32_t>(b / 65536), 0u, static_cast<uint32_t>(b % 65536), 0u}};
        Block r = philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
        for (uint64_t w = e % 4; w < 4 && i < n; ++w, ++i) out[i] = r.v[w];
    }
}

std::vector<float> normals(uint64_t seed, uint64_t offset, size_t n) {
    std::vector<uint32_t> bits(2 * ((n + 1) / 2));
    generate(seed, offset, bits.data(), bits.size());
    std::vector<float> out(n);
    for (size_t i = 0; i < n; i += 2) {
        // Uniforms in (0, 1]: never 0, so log is finite.
        double u1 = (static_cast<double>(bits[i]) + 1.0) / 4294967296.0;
        double u2 = (static_cast<double>(bits[i + 1]) + 0.5) / 4294967296.0;
        double r = std::sqrt(-2.0 * std::log(u1));
        double a = 2.0 * std::numbers::pi * u2;
        out[i] = static_cast<float>(r * std::cos(a));
        if (i + 1 < n) out[i + 1] = static_cast<float>(r * std::sin(a));
    }
    return out;
}

}  // namespace gasm::philox
