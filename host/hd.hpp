// SPDX-License-Identifier: MIT
// GASM_HD marks small functions that compile for the host and for CUDA kernels alike.
#pragma once

#if defined(__CUDACC__)
#define GASM_HD __host__ __device__
#else
#define GASM_HD
#endif
