// SPDX-License-Identifier: MIT
// The CUDA probe and the refusal paths: these run on every machine. Without a device the probe
// must still answer (never throw) with a reason, and every entry point that needs a device must
// refuse with RuntimeFailure carrying that reason; with one, the probe must describe it.
#include <gtest/gtest.h>

#include "host/errors.hpp"
#include "host/params.hpp"
#include "kernels/cublas_library.hpp"
#include "kernels/cuda_api.hpp"

namespace gasm {
namespace {

TEST(CudaProbe, AnswersWithoutThrowing) {
    DeviceReport report;
    ASSERT_NO_THROW(report = cuda::probe());
    EXPECT_TRUE(report.cuda_compiled);
    EXPECT_GT(report.runtime_version, 0);
    if (report.devices.empty()) {
        EXPECT_FALSE(report.reason.empty()) << "no device and no reason";
    } else {
        for (const CudaDeviceInfo& d : report.devices) {
            EXPECT_FALSE(d.name.empty()) << "device " << d.index;
            EXPECT_GT(d.memory_bytes, 0u) << "device " << d.index;
            EXPECT_GE(d.cc_major, 8) << "device " << d.index << " is older than the build's sm_80";
        }
        EXPECT_GE(report.driver_version, report.runtime_version);
    }
}

// cuBLAS is loaded when the backend first needs it, not linked; the library and every function
// the backend calls must be found (a wrong symbol name would only fail on a GPU machine). The
// library loads without a driver, so this runs everywhere.
TEST(CudaProbe, CublasIsLoadedWithEveryFunctionTheBackendCalls) {
    const cuda::CublasLibrary* lib = nullptr;
    ASSERT_NO_THROW(lib = &cuda::cublas());
    EXPECT_NE(lib->create, nullptr);
    EXPECT_NE(lib->destroy, nullptr);
    EXPECT_NE(lib->set_stream, nullptr);
    EXPECT_NE(lib->set_math_mode, nullptr);
    EXPECT_NE(lib->sgemm, nullptr);
    ASSERT_NE(lib->status_string, nullptr);
    EXPECT_STRNE(lib->status_string(CUBLAS_STATUS_NOT_INITIALIZED), "");
}

TEST(CudaProbe, EntryPointsRefuseWithoutDevice) {
    const DeviceReport report = cuda::probe();
    if (!report.devices.empty()) GTEST_SKIP() << "a CUDA device is present";
    const Weights w = make_empty_weights(ModelConfig{});
    try {
        cuda::make_backend(w, 0, BackendOptions{});
        FAIL() << "make_backend succeeded without a device";
    } catch (const RuntimeFailure& e) {
        EXPECT_NE(std::string(e.what()).find(report.reason), std::string::npos) << e.what();
    }
    EXPECT_THROW(cuda::generate_bits(42, 0, 16, 0), RuntimeFailure);
    EXPECT_THROW(cuda::generate_weights(ModelConfig{}, 42, 0), RuntimeFailure);
}

TEST(CudaProbe, RefusesAnIndexPastTheLastDevice) {
    const DeviceReport report = cuda::probe();
    if (report.devices.empty()) GTEST_SKIP() << "no usable CUDA device: " << report.reason;
    const int past = report.devices.back().index + 1;
    const Weights w = make_empty_weights(ModelConfig{});
    EXPECT_THROW(cuda::make_backend(w, past, BackendOptions{}), RuntimeFailure);
    EXPECT_THROW(cuda::generate_bits(42, 0, 16, past), RuntimeFailure);
}

}  // namespace
}  // namespace gasm
