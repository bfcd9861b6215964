// SPDX-License-Identifier: MIT
// The branch-free exp and acos of the tiled attention against double precision, over their
// whole domains, and at the ends the attention relies on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "host/vector_math.hpp"

namespace gasm {
namespace {

TEST(VectorMath, ExpIsWithinItsStatedErrorOverItsRange) {
    // Four million points from -87 to 88, every ulp-scale position of the reduction included.
    constexpr int kPoints = 4'000'000;
    double worst = 0, at = 0;
    for (int i = 0; i <= kPoints; ++i) {
        const float x = static_cast<float>(-87.0 + 175.0 * i / kPoints);
        const double exact = std::exp(static_cast<double>(x));
        const double rel = std::fabs(vmath::exp_approx(x) - exact) / exact;
        if (rel > worst) worst = rel, at = x;
    }
    EXPECT_LT(worst, 2.5e-7) << "at x = " << at;
    // The points the softmax meets most: 0 and just below.
    EXPECT_EQ(vmath::exp_approx(0.0f), 1.0f);
    EXPECT_NEAR(vmath::exp_approx(-1e-7f), 1.0 - 1e-7, 1e-7);
}

TEST(VectorMath, ExpOfMinusInfinityAndFarBelowIsZero) {
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(vmath::exp_approx(-inf), 0.0f);
    EXPECT_EQ(vmath::exp_approx(-88.0f), 0.0f);
    EXPECT_EQ(vmath::exp_approx(-1e30f), 0.0f);
    EXPECT_FALSE(std::signbit(vmath::exp_approx(-inf)));
    // Between -87.3 and -88: tiny and never negative or NaN.
    for (float x = -87.3f; x > -88.0f; x -= 0.01f) {
        const float y = vmath::exp_approx(x);
        EXPECT_TRUE(y >= 0.0f && y < 2e-38f) << x;
    }
    // Above the range the input is taken as 88: finite.
    EXPECT_TRUE(std::isfinite(vmath::exp_approx(1e30f)));
}

TEST(VectorMath, AcosIsWithinItsStatedErrorOnTheUnitInterval) {
    constexpr int kPoints = 4'000'000;
    double worst = 0, at = 0;
    for (int i = 0; i <= kPoints; ++i) {
        const float c = static_cast<float>(static_cast<double>(i) / kPoints);
        const double err = std::fabs(vmath::acos_unit(c) - std::acos(static_cast<double>(c)));
        if (err > worst) worst = err, at = c;
    }
    EXPECT_LT(worst, 2.5e-7) << "at c = " << at;
    // The ends and the seam at 1/2, including the floats next to it.
    EXPECT_EQ(vmath::acos_unit(1.0f), 0.0f);
    EXPECT_NEAR(vmath::acos_unit(0.0f), M_PI / 2, 1e-7);
    for (float c : {std::nextafter(0.5f, 0.0f), 0.5f, std::nextafter(0.5f, 1.0f),
                    std::nextafter(1.0f, 0.0f)})
        EXPECT_NEAR(vmath::acos_unit(c), std::acos(static_cast<double>(c)), 2.5e-7) << c;
}

}  // namespace
}  // namespace gasm
