// SPDX-License-Identifier: MIT
// Logging to stderr through spdlog: text lines by default, one JSON object a line with
// --log-format json. Quiet shows warnings and errors only; verbose adds debug lines.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace gasm {

enum class LogLevel { quiet, normal, verbose };
enum class LogFormat { text, json };

void setup_logging(LogLevel level, LogFormat format);
LogFormat parse_log_format(const std::string& name);  // throws UsageError

}  // namespace gasm
