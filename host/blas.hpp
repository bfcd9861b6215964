// SPDX-License-Identifier: MIT
// The one BLAS routine the CPU backend needs, from OpenBLAS's threaded build loaded at first
// use with OPENBLAS_NUM_THREADS=1. The backend splits each product by rows over its own pool,
// so every call must be single-threaded and safe to make from several threads at once: the
// threaded build is (its serial build is not), and loading it only after the variable is set
// keeps it from starting worker threads that would spin against the pool on the same cores.
#pragma once

#include <cstdint>
#include <string>

namespace gasm::blas {

// C (m, n) = alpha * A (m, k) * B^T (B stored (n, k)) + beta * C, all row-major.
void sgemm_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// C (m, n) = alpha * A (m, k) * B (k, n) + beta * C, all row-major.
void sgemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// OpenBLAS's description of itself ("OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen"), loading it if
// needed. Throws RuntimeFailure when the library cannot be loaded.
std::string describe();

}  // namespace gasm::blas
