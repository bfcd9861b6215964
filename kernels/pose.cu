// SPDX-License-Identifier: MIT
// The pose of every entity for the attention layer (model.md, steps 1-2): the position and
// rotation embeddings come out of the stacked projection GEMM without their bias; this kernel
// adds the bias, normalises the quaternion (a zero one stays zero) and applies the learned
// global SE(3) transform with the same gasm::se3 functions the CPU backend uses. The transform
// is built once on the host from se3_params and passed by value. One thread per entity.
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda::ops {
namespace {

constexpr int kPoseThreads = 128;

// proj (rows, ldp); bias (col + 7); pos, quat (rows).
__global__ void pose_kernel(const float* __restrict__ proj, int ldp, int col,
                            const float* __restrict__ bias, se3::Transform tf, int rows,
                            float4* __restrict__ pos, float4* __restrict__ quat) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= rows) return;
    const float* p = proj + static_cast<size_t>(t) * ldp + col;
    const float* b = bias + col;
    se3::Vec3 P{p[0] + b[0], p[1] + b[1], p[2] + b[2]};
    se3::Quat q{p[3] + b[3], p[4] + b[4], p[5] + b[5], p[6] + b[6]};
    q = se3::mul(se3::normalize(q), tf.r);
    P = se3::apply(tf, P);
    pos[t] = make_float4(P.x, P.y, P.z, 0.0f);
    quat[t] = make_float4(q.w, q.x, q.y, q.z);
}

void launch_pose(const float* proj, int ldp, int col, const float* bias, const se3::Transform& tf,
                 int rows, float4* pos, float4* quat, cudaStream_t stream) {
    const int blocks = (rows + kPoseThreads - 1) / kPoseThreads;
    pose_kernel<<<blocks, kPoseThreads, 0, stream>>>(proj, ldp, col, bias, tf, rows, pos, quat);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

}  // namespace

void pose(const float* proj, int ldp, int col, const float* bias, const se3::Transform& tf,
          int rows, float4* pos, float4* quat, cudaStream_t stream) {
    if (rows <= 0) return;
    launch_pose(proj, ldp, col, bias, tf, rows, pos, quat, stream);
}

}  // namespace gasm::cuda::ops
