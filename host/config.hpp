// SPDX-License-Identifier: MIT
// The model configuration (model.md, "Notation") and the per-run options every backend takes.
#pragma once

#include <cstdint>
#include <string>

namespace gasm {

struct ModelConfig {
    int64_t feature_dim = 768;   // F
    int64_t hidden_dim = 256;    // H
    int64_t output_dim = 3;      // D
    int64_t num_heads = 4;       // h, divides H
    int64_t max_iterations = 6;  // K

    int64_t head_dim() const { return hidden_dim / num_heads; }
    bool operator==(const ModelConfig&) const = default;
    // Throws UsageError when the numbers cannot form a model (H % h, zero sizes, absurd sizes).
    void validate() const;
    std::string describe() const;  // "F=768 H=256 D=3 heads=4 K=6"
};

enum class CurvatureKind { gaussian, mean, ollivier_ricci };

CurvatureKind parse_curvature(const std::string& name);  // throws UsageError
const char* curvature_name(CurvatureKind kind);

struct RunOptions {
    CurvatureKind curvature = CurvatureKind::gaussian;
};

// Constants of the forward pass, named once so every backend uses the same numbers.
namespace constants {
// The widest feature vector a configuration may declare (ModelConfig::validate).
inline constexpr int64_t kMaxFeatureDim = int64_t{1} << 16;

inline constexpr float kLayerNormEps = 1e-5f;
inline constexpr float kQuatNormEps = 1e-12f;
inline constexpr float kRotationEps = 1e-6f;
inline constexpr float kSoftmaxEps = 1e-16f;
inline constexpr float kRelationScale = 0.1f;
inline constexpr float kFeedbackScale = 0.1f;
inline constexpr float kConvergenceTol = 1e-4f;
inline constexpr float kDegreeEps = 1e-6f;
inline constexpr float kConstraintRate = 0.01f;
inline constexpr float kConstraintMinLen = 1e-6f;
inline constexpr float kGeodesicRotWeight = 0.5f;
inline constexpr double kDefaultCollision = 1.0;
}  // namespace constants

}  // namespace gasm
