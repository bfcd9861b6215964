// SPDX-License-Identifier: MIT
// Shared by the libFuzzer targets: a per-process scratch file the readers are pointed at (the
// weight and scene readers take paths), and the rule every target enforces: a reader may refuse
// its input only with the gasm error of its kind (exit 3 or 4 in the program); any other
// exception would reach the user as "runtime failure" (exit 1) and is reported as a bug.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "host/errors.hpp"

namespace gasm::fuzz {

// A file in $TMPDIR (or /tmp) holding `data`; the same path for the whole run of one process.
inline const std::string& scratch_file(const uint8_t* data, size_t size, const char* suffix) {
    static const std::string path = [&] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir && *dir ? dir : "/tmp") + "/gasm_fuzz_" +
               std::to_string(::getpid()) + suffix;
    }();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path;
}

// Runs `read`; an Error with exit code `allowed` is a proper refusal, anything else aborts.
template <typename Fn>
void expect_only(ExitCode allowed, Fn&& read) {
    try {
        read();
    } catch (const Error& e) {
        if (e.code() == allowed) return;
        std::fprintf(stderr, "gasm error of the wrong kind (exit %d): %s\n",
                     static_cast<int>(e.code()), e.what());
        std::abort();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "exception that is not a gasm error: %s\n", e.what());
        std::abort();
    }
}

}  // namespace gasm::fuzz
