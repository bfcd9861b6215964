// SPDX-License-Identifier: MIT
// Helpers shared by the tests: temporary folders, running the gasm_gpu executable, and
// comparison with named tolerances that report the worst error and where it was.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gasm::testing {

// A fresh folder under the build's temporary area, removed when the object goes.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;
    std::string out, err;
};

// Runs `gasm_gpu ARGS` (args are shell-quoted) with extra environment assignments.
CommandResult run_gasm(const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {});
// Runs a shell command line.
CommandResult run_shell(const std::string& command);

// Flags of the small model the command-line tests use (F = 48, H = 24, K = 3): fast to make.
inline const std::vector<std::string> kSmallModel = {"--feature-dim",    "48", "--hidden-dim", "24",
                                                     "--max-iterations", "3"};

// a followed by b.
inline std::vector<std::string> with(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::string read_file(const std::string& path);
std::string sha256_file(const std::string& path);

struct Tolerance {
    double abs = 1e-4;
    double rel = 0.0;
};

// Passes when |a - b| <= abs + rel * |b| everywhere; otherwise says the worst error and the
// first failing index.
::testing::AssertionResult all_close(const std::vector<float>& a, const std::vector<float>& b,
                                     Tolerance tol);

}  // namespace gasm::testing
