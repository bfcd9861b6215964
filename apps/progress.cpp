// SPDX-License-Identifier: MIT
// Batch progress on stderr.
#include "apps/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace gasm::app {

Progress::Progress(int64_t total_scenes, bool quiet)
    : total_(total_scenes),
      quiet_(quiet),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_(start_) {}

double Progress::elapsed() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::draw_bar(int64_t done) {
    constexpr int kWidth = 30;
    const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1;
    const double t = elapsed(), rate = t > 0 ? static_cast<double>(done) / t : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    char bar[kWidth + 1];
    const int filled = static_cast<int>(frac * kWidth);
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
    bar[kWidth] = '\0';
    std::fprintf(stderr, "\r[%s] %3.0f%% %lld/%lld scenes, %.0f scenes/s, ETA %.0f s ", bar,
                 frac * 100, static_cast<long long>(done), static_cast<long long>(total_), rate,
                 eta);
    std::fflush(stderr);
    drew_ = true;
}

void Progress::update(int64_t done) {
    if (quiet_) return;
    const auto now = Clock::now();
    if (tty_) {
        if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
        last_ = now;
        draw_bar(done);
        return;
    }
    if (now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    const double t = elapsed();
    std::fprintf(stderr, "progress: %lld/%lld scenes, %.0f scenes/s, %.0f s elapsed\n",
                 static_cast<long long>(done), static_cast<long long>(total_),
                 t > 0 ? static_cast<double>(done) / t : 0.0, t);
}

void Progress::finish(int64_t entities) {
    if (drew_) std::fprintf(stderr, "\n");
    const double t = elapsed();
    std::fprintf(stderr, "summary: %lld scenes, %lld entities in %.2f s (%.1f scenes/s)\n",
                 static_cast<long long>(total_), static_cast<long long>(entities), t,
                 t > 0 ? static_cast<double>(total_) / t : 0.0);
}

}  // namespace gasm::app
