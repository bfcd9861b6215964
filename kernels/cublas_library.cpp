// SPDX-License-Identifier: MIT
// The loader of kernels/cublas_library.hpp.
#include "kernels/cublas_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "host/errors.hpp"

namespace gasm::cuda {

namespace {

template <typename Fn>
void resolve(void* handle, const char* symbol, Fn& fn, std::string& error) {
    fn = reinterpret_cast<Fn>(::dlsym(handle, symbol));
    if (!fn && error.empty()) error = std::string("cuBLAS has no ") + symbol;
}

}  // namespace

const CublasLibrary& cublas() {
    static CublasLibrary lib;
    static std::string error;
    static std::once_flag once;
    std::call_once(once, [] {
        void* h = ::dlopen(GASM_CUBLAS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!h) h = ::dlopen(GASM_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = ::dlerror();
            error = std::string("cannot load cuBLAS (") + GASM_CUBLAS_SONAME +
                    "): " + (why ? why : "unknown error");
            return;
        }
        // cublas_v2.h maps the names without a suffix to these.
        resolve(h, "cublasCreate_v2", lib.create, error);
        resolve(h, "cublasDestroy_v2", lib.destroy, error);
        resolve(h, "cublasSetStream_v2", lib.set_stream, error);
        resolve(h, "cublasSetMathMode", lib.set_math_mode, error);
        resolve(h, "cublasSgemm_v2", lib.sgemm, error);
        resolve(h, "cublasGetStatusString", lib.status_string, error);
    });
    if (!error.empty()) throw RuntimeFailure(error);
    return lib;
}

}  // namespace gasm::cuda
