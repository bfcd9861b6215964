// SPDX-License-Identifier: MIT
// The small SE(3) pieces of the attention layer (model.md, steps 1, 2 and 4): quaternion
// normalisation, the Hamilton product, the Rodrigues rotation of the learned global transform
// and the geodesic distance between two poses. Header-only and free of the standard library's
// containers so the same code compiles for the host and for CUDA kernels.
#pragma once

#include <cmath>

#include "host/hd.hpp"

namespace gasm::se3 {

struct Quat {
    float w, x, y, z;
};

struct Vec3 {
    float x, y, z;
};

// The learned global transform: P' = rot * P + t, q' = q (x) r.
struct Transform {
    float rot[9];  // row-major 3x3
    Vec3 t;
    Quat r;
};

// q / max(|q|, 1e-12); a zero quaternion stays zero.
GASM_HD inline Quat normalize(Quat q) {
    float n = sqrtf(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
    float d = n > 1e-12f ? n : 1e-12f;
    return {q.w / d, q.x / d, q.y / d, q.z / d};
}

// Hamilton product a (x) b, a on the left.
GASM_HD inline Quat mul(Quat a, Quat b) {
    return {a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
            a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
            a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
            a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w};
}

GASM_HD inline float dot(Quat a, Quat b) {
    return a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
}

// Builds the transform from se3_params (6): t = p[0:3], rotation vector omega = p[3:6].
// Rot = I + sin(a) K + (1 - cos(a)) K^2 with K the cross matrix of u = omega / a.
GASM_HD inline Transform make_transform(const float* p) {
    Transform tf{};
    tf.t = {p[0], p[1], p[2]};
    float wx = p[3], wy = p[4], wz = p[5];
    float a = sqrtf(wx * wx + wy * wy + wz * wz);
    for (int i = 0; i < 9; ++i) tf.rot[i] = (i % 4 == 0) ? 1.0f : 0.0f;
    tf.r = {1.0f, 0.0f, 0.0f, 0.0f};
    if (a < 1e-6f) return tf;
    float u0 = wx / a, u1 = wy / a, u2 = wz / a;
    float k[9] = {0.0f, -u2, u1, u2, 0.0f, -u0, -u1, u0, 0.0f};
    float s = sinf(a), c1 = 1.0f - cosf(a);
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            float k2 = k[i * 3 + 0] * k[0 * 3 + j] + k[i * 3 + 1] * k[1 * 3 + j] +
                       k[i * 3 + 2] * k[2 * 3 + j];
            tf.rot[i * 3 + j] += s * k[i * 3 + j] + c1 * k2;
        }
    }
    float h = sinf(a / 2.0f);
    tf.r = {cosf(a / 2.0f), u0 * h, u1 * h, u2 * h};
    return tf;
}

GASM_HD inline Vec3 apply(const Transform& tf, Vec3 p) {
    const float* m = tf.rot;
    return {m[0] * p.x + m[1] * p.y + m[2] * p.z + tf.t.x,
            m[3] * p.x + m[4] * p.y + m[5] * p.z + tf.t.y,
            m[6] * p.x + m[7] * p.y + m[8] * p.z + tf.t.z};
}

// g(t, s) = |P'_t - P'_s| + 0.5 * acos(clamp(|q'_t . q'_s|, 0, 1)).
GASM_HD inline float geodesic(Vec3 pt, Quat qt, Vec3 ps, Quat qs) {
    float dx = pt.x - ps.x, dy = pt.y - ps.y, dz = pt.z - ps.z;
    float dist = sqrtf(dx * dx + dy * dy + dz * dz);
    float c = fabsf(dot(qt, qs));
    c = c > 1.0f ? 1.0f : c;
    return dist + 0.5f * acosf(c);
}

}  // namespace gasm::se3
