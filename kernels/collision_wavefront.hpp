// SPDX-License-Identifier: MIT
// The collision pass of model.md (pairs i < j in row-major order, each with the positions the
// pairs before it left) as a wavefront: pair (i, j) runs at step 2i + j. Every pair that touches
// i or j before it in row-major order has a smaller step, every one after it a larger step, and
// two pairs of the same step share no index, so running the steps in turn, and the pairs of a
// step in any order or in parallel, gives exactly the sequential result. Host and device code
// share these functions; tests/gpu/test_plan.cpp checks the claim on the host.
#pragma once

#include <cmath>

#include "host/hd.hpp"

namespace gasm::cuda::wavefront {

// Steps run from 1 to last_step(n) inclusive; none for n < 2.
GASM_HD inline int last_step(int n) {
    return n >= 2 ? 3 * n - 5 : 0;
}

// The pairs of `step` are (i, step - 2i) for first_row(step, n) <= i <= last_row(step).
GASM_HD inline int first_row(int step, int n) {
    return step - n + 1 > 0 ? (step - n + 2) / 2 : 0;  // j = step - 2i <= n - 1
}
GASM_HD inline int last_row(int step) {
    return (step - 1) / 3;
}  // j > i

// One pair of the pass on g (n, D): if 1e-6 < |G_i - G_j| < m, push both apart by
// delta = (v / rho) (m - rho) 0.5 eta, with v = G_i - G_j and eta = 0.01.
GASM_HD inline void collision_step(float* g, int D, int i, int j, float min_dist) {
    float* gi = g + static_cast<long long>(i) * D;
    float* gj = g + static_cast<long long>(j) * D;
    float rho2 = 0.0f;
    for (int c = 0; c < D; ++c) {
        const float v = gi[c] - gj[c];
        rho2 += v * v;
    }
    const float rho = sqrtf(rho2);
    if (!(rho > 1e-6f && rho < min_dist)) return;
    const float f = min_dist - rho;
    for (int c = 0; c < D; ++c) {
        const float delta = ((gi[c] - gj[c]) / rho) * f * 0.5f * 0.01f;
        gi[c] += delta;
        gj[c] -= delta;
    }
}

}  // namespace gasm::cuda::wavefront
