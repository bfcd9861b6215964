// SPDX-License-Identifier: MIT
// Environment variables, parsed strictly.
#include "host/env.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "host/errors.hpp"

namespace gasm::env {

std::optional<std::string> get(const char* name) {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
}

bool parse_bool(const std::string& value, const std::string& what) {
    std::string v = value;
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
    throw UsageError(what + " must be one of true, 1, yes, on, false, 0, no, off or empty; got '" +
                     value + "'");
}

std::optional<bool> get_bool(const char* name) {
    auto v = get(name);
    if (!v) return std::nullopt;
    return parse_bool(*v, name);
}

}  // namespace gasm::env
