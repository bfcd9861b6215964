// SPDX-License-Identifier: MIT
// The dense projections of the model as cuBLAS SGEMMs over all entities of a batch at once.
// Row-major y (rows, out) = x (rows, in) w^T is, seen column-major, y^T = w x^T, i.e. one SGEMM
// with w transposed (w is (out, in) row-major, so its column-major view is (in, out)). The math
// mode is explicit: fp32 runs never use TF32 tensor cores unless the user asks for tf32.
#include <string>

#include "host/errors.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"

namespace gasm::cuda::ops {

void set_math_mode(cublasHandle_t handle, Precision precision) {
    const cublasMath_t mode =
        precision == Precision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
    GASM_CUDA_CHECK(cublas().set_math_mode(handle, mode));
}

void linear(cublasHandle_t handle, int rows, int out, int in, const float* x, int ldx,
            const float* w, float* y, int ldy) {
    if (rows <= 0 || out <= 0) return;
    if (in <= 0 || ldx < in || ldy < out)
        throw RuntimeFailure("linear: bad shape rows=" + std::to_string(rows) +
                             " out=" + std::to_string(out) + " in=" + std::to_string(in) +
                             " ldx=" + std::to_string(ldx) + " ldy=" + std::to_string(ldy));
    const float one = 1.0f, zero = 0.0f;
    GASM_CUDA_CHECK(cublas().sgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, out, rows, in, &one, w, in, x,
                                   ldx, &zero, y, ldy));
}

}  // namespace gasm::cuda::ops
