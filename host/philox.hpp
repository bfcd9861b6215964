// SPDX-License-Identifier: MIT
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3") laid out as
// cuRAND's CURAND_RNG_PSEUDO_PHILOX4_32_10 generator lays out its stream with the default
// ordering, measured against libcurand: stream element e comes from block b = e / 4, whose
// counter is (b / 65536, 0, b % 65536, 0) under key (seed low, seed high), word e % 4. The
// engine generates weights with cuRAND itself; this is the fallback for builds without cuRAND
// and the independent check that both agree (tests/test_generate.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/hd.hpp"

namespace gasm::philox {

struct Block {
    uint32_t v[4];
};

GASM_HD inline Block philox4x32_10(Block c, uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c.v[0];
        uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c.v[2];
        Block n;
        n.v[0] = static_cast<uint32_t>(p1 >> 32) ^ c.v[1] ^ k0;
        n.v[1] = static_cast<uint32_t>(p1);
        n.v[2] = static_cast<uint32_t>(p0 >> 32) ^ c.v[3] ^ k1;
        n.v[3] = static_cast<uint32_t>(p0);
        c = n;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

// Stream element e of the generator seeded with `seed`, in cuRAND's default layout.
GASM_HD inline uint32_t stream_element(uint64_t seed, uint64_t e) {
    uint64_t b = e / 4;
    Block c{{static_cast<uint32_t>(b / 65536), 0u, static_cast<uint32_t>(b % 65536), 0u}};
    Block r = philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    return r.v[e % 4];
}

// n consecutive 32-bit values starting at stream element `offset`.
void generate(uint64_t seed, uint64_t offset, uint32_t* out, size_t n);

// n standard normal floats (Box-Muller on pairs of stream elements, computed in double and
// rounded once), starting at stream element `offset`; uses 2 elements per value pair.
std::vector<float> normals(uint64_t seed, uint64_t offset, size_t n);

}  // namespace gasm::philox
