// SPDX-License-Identifier: MIT
// Checks on the model configuration and the names of the curvature measures.
#include "host/config.hpp"

#include <sstream>

#include "host/errors.hpp"

namespace gasm {

void ModelConfig::validate() const {
    auto check = [](int64_t v, int64_t hi, const char* name) {
        if (v < 1 || v > hi)
            throw UsageError(std::string(name) + " must be between 1 and " + std::to_string(hi) +
                             ", got " + std::to_string(v));
    };
    check(feature_dim, constants::kMaxFeatureDim, "feature_dim");
    check(hidden_dim, 1 << 16, "hidden_dim");
    check(output_dim, 1 << 10, "output_dim");
    check(num_heads, 1 << 10, "num_heads");
    check(max_iterations, 1 << 10, "max_iterations");
    if (hidden_dim % num_heads != 0)
        throw UsageError("hidden_dim (" + std::to_string(hidden_dim) +
                         ") must be divisible by num_heads (" + std::to_string(num_heads) + ")");
}

std::string ModelConfig::describe() const {
    std::ostringstream out;
    out << "F=" << feature_dim << " H=" << hidden_dim << " D=" << output_dim
        << " heads=" << num_heads << " K=" << max_iterations;
    return out.str();
}

CurvatureKind parse_curvature(const std::string& name) {
    if (name == "gaussian") return CurvatureKind::gaussian;
    if (name == "mean") return CurvatureKind::mean;
    if (name == "ollivier_ricci") return CurvatureKind::ollivier_ricci;
    throw UsageError("unknown curvature '" + name + "' (gaussian, mean, ollivier_ricci)");
}

const char* curvature_name(CurvatureKind kind) {
    switch (kind) {
        case CurvatureKind::gaussian:
            return "gaussian";
        case CurvatureKind::mean:
            return "mean";
        case CurvatureKind::ollivier_ricci:
            return "ollivier_ricci";
    }
    return "gaussian";
}

}  // namespace gasm
