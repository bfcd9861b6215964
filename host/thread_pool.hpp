// SPDX-License-Identifier: MIT
// A fixed pool of worker threads for the CPU backend's loops over entities and scenes. One
// parallel_for at a time; the calling thread takes a share of the work too.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gasm {

class ThreadPool {
  public:
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }
    // Calls fn(begin, end, worker) on disjoint ranges covering [0, n), each thread claiming
    // ranges until none is left (so fn may run several times on one thread); returns when all
    // are done. worker is in [0, size()). The first exception thrown by fn is rethrown here.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

  private:
    void worker_loop(int id);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable start_cv_, done_cv_;
    const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
    int64_t job_n_ = 0;
    std::atomic<int64_t> next_{0};  // the first index not yet claimed
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
};

}  // namespace gasm
