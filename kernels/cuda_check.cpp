// SPDX-License-Identifier: MIT
// The failure path of GASM_CUDA_CHECK: one message naming the library's error text, the call
// and where it was made, thrown as gasm::RuntimeFailure. cuRAND has no error-string function,
// so its status names are listed here.
#include "kernels/cuda_check.hpp"

#include <string>

#include "host/errors.hpp"

namespace gasm::cuda {

void throw_cuda_failure(const char* library, const char* text, const char* expr, const char* file,
                        int line) {
    throw RuntimeFailure(std::string(library) + " error: " + (text ? text : "unknown error") +
                         " (" + expr + " at " + file + ":" + std::to_string(line) + ")");
}

const char* curand_status_text(curandStatus_t status) {
    switch (status) {
        case CURAND_STATUS_SUCCESS:
            return "success";
        case CURAND_STATUS_VERSION_MISMATCH:
            return "header and library versions differ";
        case CURAND_STATUS_NOT_INITIALIZED:
            return "generator not initialised";
        case CURAND_STATUS_ALLOCATION_FAILED:
            return "memory allocation failed";
        case CURAND_STATUS_TYPE_ERROR:
            return "generator is of the wrong type";
        case CURAND_STATUS_OUT_OF_RANGE:
            return "argument out of range";
        case CURAND_STATUS_LENGTH_NOT_MULTIPLE:
            return "length not a multiple of the dimension";
        case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED:
            return "GPU lacks double precision";
        case CURAND_STATUS_LAUNCH_FAILURE:
            return "kernel launch failure";
        case CURAND_STATUS_PREEXISTING_FAILURE:
            return "an earlier kernel launch failed";
        case CURAND_STATUS_INITIALIZATION_FAILED:
            return "initialisation of CUDA failed";
        case CURAND_STATUS_ARCH_MISMATCH:
            return "architecture mismatch";
        case CURAND_STATUS_INTERNAL_ERROR:
            return "internal library error";
    }
    return "unknown cuRAND status";
}

}  // namespace gasm::cuda
