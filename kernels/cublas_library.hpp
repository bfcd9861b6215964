// SPDX-License-Identifier: MIT
// cuBLAS, loaded when the CUDA backend first needs it instead of when the program starts:
// linking it made every start pay for libcublasLt (about 60 ms and 200 MB of relocated pages),
// a run on the CPU and `gasm_gpu --version` included. The backend calls the few functions it
// uses through this table, as host/blas.cpp does for OpenBLAS.
#pragma once

#include <cublas_v2.h>

namespace gasm::cuda {

struct CublasLibrary {
    decltype(&cublasCreate_v2) create = nullptr;
    decltype(&cublasDestroy_v2) destroy = nullptr;
    decltype(&cublasSetStream_v2) set_stream = nullptr;
    decltype(&cublasSetMathMode) set_math_mode = nullptr;
    decltype(&cublasSgemm_v2) sgemm = nullptr;
    decltype(&cublasGetStatusString) status_string = nullptr;
};

// Loads cuBLAS once (the build's library, else its soname on the library path) and resolves
// every function; throws RuntimeFailure naming the library and what is missing.
const CublasLibrary& cublas();

}  // namespace gasm::cuda
