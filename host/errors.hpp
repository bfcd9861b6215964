// SPDX-License-Identifier: MIT
// Error types of the engine. Library code throws; only apps/ turns an exception into an exit
// code (interface.md: 1 runtime, 2 usage, 3 weight file, 4 input). Messages name the file, the
// scene and the field wherever those are known, so one line tells the user what to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace gasm {

enum class ExitCode : int { ok = 0, runtime = 1, usage = 2, weights = 3, input = 4 };

class Error : public std::runtime_error {
  public:
    Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
    ExitCode code() const { return code_; }

  private:
    ExitCode code_;
};

// A command line or environment variable the program cannot accept.
class UsageError : public Error {
  public:
    explicit UsageError(const std::string& what) : Error(ExitCode::usage, what) {}
};

// A weight file that is missing pieces, damaged, foreign or of another configuration.
class WeightsError : public Error {
  public:
    explicit WeightsError(const std::string& what) : Error(ExitCode::weights, what) {}
};

// A scene file or text the engine refuses: bad shapes, indices, values, or unreadable.
class InputError : public Error {
  public:
    explicit InputError(const std::string& what) : Error(ExitCode::input, what) {}
};

// Anything else that stops a run (out of memory, a device failure, an I/O error on output).
class RuntimeFailure : public Error {
  public:
    explicit RuntimeFailure(const std::string& what) : Error(ExitCode::runtime, what) {}
};

}  // namespace gasm
