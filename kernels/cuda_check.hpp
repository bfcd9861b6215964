// SPDX-License-Identifier: MIT
// The one check macro of the CUDA backend. GASM_CUDA_CHECK(expr) accepts a CUDA runtime, cuBLAS
// or cuRAND status and throws gasm::RuntimeFailure naming the library's error text, the
// expression, the file and the line. GASM_CUDA_CHECK_LAUNCH(stream) follows every kernel launch:
// it picks up launch errors at once, and with GASM_CUDA_SYNC_DEBUG it also synchronises the
// stream so an asynchronous fault is reported at the launch that caused it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <curand.h>

#include "kernels/cublas_library.hpp"

namespace gasm::cuda {

// Throws RuntimeFailure("CUDA error: <text> in <expr> at <file>:<line>").
[[noreturn]] void throw_cuda_failure(const char* library, const char* text, const char* expr,
                                     const char* file, int line);

const char* curand_status_text(curandStatus_t status);

inline void check_status(cudaError_t status, const char* expr, const char* file, int line) {
    if (status != cudaSuccess) {
        cudaGetLastError();  // clear a non-sticky error so later calls are not blamed for it
        throw_cuda_failure("CUDA", cudaGetErrorString(status), expr, file, line);
    }
}

inline void check_status(cublasStatus_t status, const char* expr, const char* file, int line) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw_cuda_failure("cuBLAS", cublas().status_string(status), expr, file, line);
}

inline void check_status(curandStatus_t status, const char* expr, const char* file, int line) {
    if (status != CURAND_STATUS_SUCCESS)
        throw_cuda_failure("cuRAND", curand_status_text(status), expr, file, line);
}

// After a launch: the launch error, and in debug builds the stream's completion.
inline void check_launch(cudaStream_t stream, const char* file, int line) {
    check_status(cudaGetLastError(), "kernel launch", file, line);
#if defined(GASM_CUDA_SYNC_DEBUG)
    check_status(cudaStreamSynchronize(stream), "cudaStreamSynchronize after launch", file, line);
#else
    (void)stream;
#endif
}

}  // namespace gasm::cuda

#define GASM_CUDA_CHECK(expr) ::gasm::cuda::check_status((expr), #expr, __FILE__, __LINE__)
#define GASM_CUDA_CHECK_LAUNCH(stream) ::gasm::cuda::check_launch((stream), __FILE__, __LINE__)
