// SPDX-License-Identifier: MIT
// The CPU backend's worker pool.
#include "host/thread_pool.hpp"

#include <algorithm>
#include <atomic>

namespace gasm {

namespace {
// Ranges are claimed from a shared counter, a grain at a time, so a thread that the machine
// slows down (another process, a stolen virtual CPU) takes less of the work instead of holding
// up the others. About eight grains per thread keep the claims rare.
void run_share(const std::function<void(int64_t, int64_t, int)>& fn, int64_t n, int part, int parts,
               std::atomic<int64_t>& next) {
    const int64_t grain = std::max<int64_t>(1, n / (int64_t{8} * parts));
    for (;;) {
        const int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
        if (begin >= n) return;
        fn(begin, std::min(n, begin + grain), part);
    }
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
    threads = std::max(1, threads);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int id) {
    uint64_t seen = 0;
    for (;;) {
        std::unique_lock lock(mutex_);
        start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        auto* job = job_;
        int64_t n = job_n_;
        lock.unlock();
        try {
            run_share(*job, n, id, size(), next_);
        } catch (...) {
            std::lock_guard g(mutex_);
            if (!error_) error_ = std::current_exception();
        }
        lock.lock();
        if (--pending_ == 0) done_cv_.notify_one();
    }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return;
    if (workers_.empty() || n == 1) {
        fn(0, n, 0);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        job_n_ = n;
        next_.store(0, std::memory_order_relaxed);
        pending_ = static_cast<int>(workers_.size());
        error_ = nullptr;
        ++generation_;
    }
    start_cv_.notify_all();
    std::exception_ptr mine;
    try {
        run_share(fn, n, 0, size(), next_);
    } catch (...) {
        mine = std::current_exception();
    }
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
}

}  // namespace gasm
