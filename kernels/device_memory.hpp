// SPDX-License-Identifier: MIT
// RAII owners for what the CUDA backend holds: device and pinned host buffers, a stream, an
// event, a cuBLAS handle, a cuRAND generator, and a guard that selects a device for a scope and
// restores the previous one. Each is move-only; constructors throw RuntimeFailure through
// GASM_CUDA_CHECK, destructors never throw (a failed free during unwinding is ignored, since the
// context is then already broken and the first error is the one worth reporting).
#pragma once

#include <cstddef>
#include <utility>

#include "kernels/cuda_check.hpp"

namespace gasm::cuda {

// Throws RuntimeFailure when device `index` cannot be used: the probe's reason when CUDA has no
// usable device at all, or the number of devices when the index is out of range.
void require_device(int index);

// Sets the current device for the lifetime of the guard, then restores the previous one.
class DeviceGuard {
  public:
    explicit DeviceGuard(int index) {
        GASM_CUDA_CHECK(cudaGetDevice(&previous_));
        GASM_CUDA_CHECK(cudaSetDevice(index));
    }
    ~DeviceGuard() { cudaSetDevice(previous_); }
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;

  private:
    int previous_ = 0;
};

// n elements of T in device memory; uninitialised.
template <class T>
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t n) { allocate(n); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            release();
            ptr_ = std::exchange(o.ptr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // Makes room for at least n elements; the old contents are lost when it grows.
    void reserve(size_t n) {
        if (n > size_) {
            release();
            allocate(n);
        }
    }
    T* get() const { return ptr_; }
    size_t size() const { return size_; }

  private:
    void allocate(size_t n) {
        if (n == 0) return;
        void* p = nullptr;
        GASM_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
        ptr_ = static_cast<T*>(p);
        size_ = n;
    }
    void release() noexcept {
        if (ptr_) cudaFree(ptr_);
        ptr_ = nullptr;
        size_ = 0;
    }
    T* ptr_ = nullptr;
    size_t size_ = 0;
};

// n elements of T in page-locked host memory, so copies to the device run asynchronously.
template <class T>
class PinnedBuffer {
  public:
    PinnedBuffer() = default;
    explicit PinnedBuffer(size_t n) {
        if (n == 0) return;
        void* p = nullptr;
        GASM_CUDA_CHECK(cudaMallocHost(&p, n * sizeof(T)));
        ptr_ = static_cast<T*>(p);
        size_ = n;
    }
    ~PinnedBuffer() {
        if (ptr_) cudaFreeHost(ptr_);
    }
    PinnedBuffer(PinnedBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
        if (this != &o) {
            if (ptr_) cudaFreeHost(ptr_);
            ptr_ = std::exchange(o.ptr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;

    T* get() const { return ptr_; }
    size_t size() const { return size_; }

  private:
    T* ptr_ = nullptr;
    size_t size_ = 0;
};

// A non-blocking stream: it does not synchronise with the legacy default stream.
class Stream {
  public:
    Stream() { GASM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
    ~Stream() {
        if (stream_) cudaStreamDestroy(stream_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    cudaStream_t get() const { return stream_; }
    void synchronize() const { GASM_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  private:
    cudaStream_t stream_ = nullptr;
};

// An event without timing, used to wait for one point of a stream from the host.
class Event {
  public:
    Event() { GASM_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
    ~Event() {
        if (event_) cudaEventDestroy(event_);
    }
    Event(Event&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
    Event& operator=(Event&&) = delete;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    void record(cudaStream_t stream) { GASM_CUDA_CHECK(cudaEventRecord(event_, stream)); }
    void synchronize() const { GASM_CUDA_CHECK(cudaEventSynchronize(event_)); }

  private:
    cudaEvent_t event_ = nullptr;
};

class CublasHandle {
  public:
    CublasHandle() { GASM_CUDA_CHECK(cublas().create(&handle_)); }
    ~CublasHandle() {
        if (handle_) cublas().destroy(handle_);
    }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
    cublasHandle_t get() const { return handle_; }

  private:
    cublasHandle_t handle_ = nullptr;
};

// A cuRAND generator that produces into device memory (curandCreateGenerator).
class CurandGenerator {
  public:
    explicit CurandGenerator(curandRngType_t type) {
        GASM_CUDA_CHECK(curandCreateGenerator(&gen_, type));
    }
    ~CurandGenerator() {
        if (gen_) curandDestroyGenerator(gen_);
    }
    CurandGenerator(const CurandGenerator&) = delete;
    CurandGenerator& operator=(const CurandGenerator&) = delete;
    curandGenerator_t get() const { return gen_; }

  private:
    curandGenerator_t gen_ = nullptr;
};

}  // namespace gasm::cuda
