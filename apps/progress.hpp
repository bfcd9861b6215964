// SPDX-License-Identifier: MIT
// Progress of a long batch run on stderr: on a terminal a bar with rate and ETA, redrawn in
// place; in a batch log (stderr not a terminal) one plain line every few seconds; and a
// summary line at the end, which --quiet keeps while it silences the rest.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gasm::app {

class Progress {
  public:
    Progress(int64_t total_scenes, bool quiet);
    void update(int64_t done_scenes);
    // Prints the summary: scenes, entities, seconds, rate.
    void finish(int64_t entities);

  private:
    using Clock = std::chrono::steady_clock;
    double elapsed() const;
    void draw_bar(int64_t done);

    int64_t total_;
    bool quiet_, tty_;
    Clock::time_point start_, last_;
    bool drew_ = false;
};

}  // namespace gasm::app
