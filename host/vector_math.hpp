// SPDX-License-Identifier: MIT
// exp and acos for the inner loops of the tiled attention, written without branches or library
// calls so that the compiler turns a loop over them into vector instructions (libm's expf and
// acosf are scalar calls, and were a quarter of the time of a large scene).
//
// Accuracy, checked over their whole domains against double precision in
// tests/test_vector_math.cpp: exp_approx within 2.5e-7 relative for x in [-87, 88], acos_unit
// within 2.5e-7 absolute on [0, 1]; the correctly rounded float results are within 6e-8 and
// 9e-8, so these lose a bit or two, far below the 1e-4 the backends must agree within.
// Each is a fixed sequence of float operations: the same bytes for the same input whatever
// the vector width the compiler picks.
//
// The polynomial coefficients were fitted here (Chebyshev fits in double precision, rounded to
// float): e^r on [-ln2/2, ln2/2], and (asin(x) - x) / x^3 as a polynomial in x^2 on [0, 1/4].
#pragma once

#include <bit>
#include <cstdint>

namespace gasm::vmath {

// e^x. From -88 down (and -inf) it gives +0, and between about -87.3 and -88 a subnormal of
// reduced accuracy or 0 (the softmax adds such values to a sum of at least 1). Inputs above 88
// are treated as 88. NaN gives an unspecified value: callers pass finite or -inf scores.
inline float exp_approx(float x) {
    x = x < -88.0f ? -88.0f : x;
    x = x > 88.0f ? 88.0f : x;
    // x = n ln2 + r, |r| <= ln2 / 2: n by rounding to nearest with the 1.5 * 2^23 shift,
    // r in two steps (the high part of ln2 has few bits, so n * ln2_hi is exact).
    constexpr float kShift = 12582912.0f;
    const float n = (x * 1.44269504088896341f + kShift) - kShift;
    float r = x - n * 0.693145751953125f;
    r = r - n * 1.42860676533018700e-06f;
    float p = 1.39445951208472252e-03f;
    p = p * r + 8.37190821766853333e-03f;
    p = p * r + 4.16662804782390594e-02f;
    p = p * r + 1.66664555668830872e-01f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    // 2^n from its exponent bits; n = -127 (x near -88) gives the bits of +0.
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    return p * std::bit_cast<float>(bits);
}

// acos(c) for c in [0, 1] (the geodesic term takes the absolute value of a quaternion dot
// product clamped to 1). Below 1/2 it is pi/2 - asin(c); above, 2 asin(sqrt((1 - c) / 2)),
// which keeps its accuracy near c = 1 where acos has its steep end.
inline float acos_unit(float c) {
    const bool upper = c > 0.5f;
    const float x = upper ? __builtin_sqrtf((1.0f - c) * 0.5f) : c;
    const float z = x * x;
    float p = 3.81401591002941132e-02f;
    p = p * z + 2.64540016651153564e-02f;
    p = p * z + 4.50328364968299866e-02f;
    p = p * z + 7.49855786561965942e-02f;
    p = p * z + 1.66666790843009949e-01f;
    const float a = x + x * z * p;
    return upper ? 2.0f * a : 1.57079632679489662f - a;
}

}  // namespace gasm::vmath
