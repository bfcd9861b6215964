// SPDX-License-Identifier: MIT
// Strict reading of the environment variables the program honours. A variable that is set to a
// value the program cannot read is a usage error (exit 2), never silently ignored.
#pragma once

#include <optional>
#include <string>

namespace gasm::env {

// The value of a variable, or nothing where it is unset.
std::optional<std::string> get(const char* name);

// true, 1, yes, on (any case) -> true; false, 0, no, off, empty -> false; unset -> nullopt.
// Anything else throws UsageError naming the variable and the value.
std::optional<bool> get_bool(const char* name);

// Parses a boolean word as above; `what` names the source in the error.
bool parse_bool(const std::string& value, const std::string& what);

}  // namespace gasm::env
