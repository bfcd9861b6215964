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

// A value taken from a file (a name, a key, an attribute) as it may appear in a message:
// printable ASCII with every other byte, NUL included, shown as '?', cut at 80 characters, so
// that a crafted file can neither cut a message short nor send escapes to a terminal.
inline std::string shown_in_message(const std::string& value) {
    std::string out;
    for (char ch : value.substr(0, 80)) out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    return value.size() > 80 ? out + "..." : out;
}

}  // namespace gasm
