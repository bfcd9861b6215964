// SPDX-License-Identifier: MIT
// Logging to stderr through spdlog: text lines by default, one JSON object a line with
// --log-format json. Quiet shows warnings and errors only; verbose adds debug lines.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace gasm {

enum class LogLevel { quiet, normal, verbose };
enum class LogFormat { text, json };

// `prefix` starts every message (an MPI rank's "rank 2: ").
void setup_logging(LogLevel level, LogFormat format, const std::string& prefix = "");
LogFormat parse_log_format(const std::string& name);  // throws UsageError

}  // namespace gasm
