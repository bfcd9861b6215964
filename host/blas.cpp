// SPDX-License-Identifier: MIT
// Loading OpenBLAS at first use (see blas.hpp for why).
#include "host/blas.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "host/errors.hpp"

#ifndef GASM_OPENBLAS_LIBRARY
#define GASM_OPENBLAS_LIBRARY "libopenblas.so.0"
#endif

namespace gasm::blas {

namespace {

// CBLAS constants (cblas.h): row-major 101, no transpose 111, transpose 112.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);
using ConfigFn = char* (*)();

struct Library {
    SgemmFn sgemm = nullptr;
    ConfigFn config = nullptr;
    std::string error;
};

const Library& library() {
    static Library lib;
    static std::once_flag once;
    std::call_once(once, [] {
        ::setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/1);
        void* h = ::dlopen(GASM_OPENBLAS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!h) h = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = ::dlerror();
            lib.error = std::string("cannot load OpenBLAS (") + GASM_OPENBLAS_LIBRARY +
                        "): " + (why ? why : "unknown error");
            return;
        }
        lib.sgemm = reinterpret_cast<SgemmFn>(::dlsym(h, "cblas_sgemm"));
        lib.config = reinterpret_cast<ConfigFn>(::dlsym(h, "openblas_get_config"));
        if (!lib.sgemm) lib.error = "OpenBLAS has no cblas_sgemm";
    });
    if (!lib.error.empty()) throw RuntimeFailure(lib.error);
    return lib;
}

}  // namespace

void sgemm_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    library().sgemm(kRowMajor, kNoTrans, kTrans, static_cast<int>(m), static_cast<int>(n),
                    static_cast<int>(k), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
                    beta, C, static_cast<int>(ldc));
}

void sgemm_nn(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    library().sgemm(kRowMajor, kNoTrans, kNoTrans, static_cast<int>(m), static_cast<int>(n),
                    static_cast<int>(k), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb),
                    beta, C, static_cast<int>(ldc));
}

std::string describe() {
    const Library& lib = library();
    return lib.config ? std::string(lib.config()) : std::string("OpenBLAS");
}

}  // namespace gasm::blas
