// SPDX-License-Identifier: MIT
// An allocator for the engine's large float arrays (weights, workspaces). Blocks of 1 MiB and
// more are aligned to 2 MiB and marked for transparent huge pages, so a fresh process maps its
// 12 MiB of default weights with a handful of page faults instead of thousands: on machines
// where a fault is expensive that is most of the time a start-up spends touching memory.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace gasm {

template <typename T>
struct LargeAllocator {
    using value_type = T;
    static constexpr size_t kHuge = size_t{2} << 20;
    static constexpr size_t kThreshold = size_t{1} << 20;

    LargeAllocator() = default;
    template <typename U>
    LargeAllocator(const LargeAllocator<U>&) noexcept {}

    T* allocate(size_t n) {
        if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_alloc();
        const size_t bytes = n * sizeof(T);
        if (bytes < kThreshold) {
            void* p = std::malloc(bytes ? bytes : 1);
            if (!p) throw std::bad_alloc();
            return static_cast<T*>(p);
        }
        const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
        void* p = std::aligned_alloc(kHuge, rounded);
        if (!p) throw std::bad_alloc();
        ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
        return static_cast<T*>(p);
    }
    void deallocate(T* p, size_t) noexcept { std::free(p); }

    template <typename U>
    bool operator==(const LargeAllocator<U>&) const noexcept {
        return true;
    }
};

using FloatBuffer = std::vector<float, LargeAllocator<float>>;

}  // namespace gasm
