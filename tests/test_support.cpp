// SPDX-License-Identifier: MIT
// Test helpers.
#include "tests/test_support.hpp"

#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace gasm::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
    std::random_device rd;
    fs::path base = fs::temp_directory_path() / "gasm_tests";
    fs::create_directories(base);
    for (;;) {
        fs::path p = base / ("t" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
        if (fs::create_directory(p)) {
            path_ = p.string();
            break;
        }
    }
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {
std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}
}  // namespace

CommandResult run_shell(const std::string& command) {
    TempDir tmp;
    const std::string out = tmp.file("out"), err = tmp.file("err");
    const std::string full =
        "(" + command + ") >" + quote(out) + " 2>" + quote(err) + " </dev/null";
    int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

CommandResult run_gasm(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::string cmd = "env -u GASM_FORCE_REGEN -u GASM_WEIGHTS -u GASM_DEVICE";
    for (const auto& e : env) cmd += " " + quote(e);
    cmd += " " + quote(GASM_EXE);
    for (const auto& a : args) cmd += " " + quote(a);
    return run_shell(cmd);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string sha256_file(const std::string& path) {
    const std::string data = read_file(path);
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

::testing::AssertionResult all_close(const std::vector<float>& a, const std::vector<float>& b,
                                     Tolerance tol) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
    double worst = 0;
    size_t worst_at = 0, first_bad = a.size(), bad = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
        const double err = both_nan ? 0.0 : std::fabs(static_cast<double>(a[i]) - b[i]);
        const bool ok = both_nan || err <= tol.abs + tol.rel * std::fabs(b[i]);
        if (!ok || std::isnan(err)) {
            if (first_bad == a.size()) first_bad = i;
            ++bad;
        }
        if (err > worst || std::isnan(err)) {
            worst = std::isnan(err) ? INFINITY : err;
            worst_at = i;
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess() << "worst error " << worst;
    return ::testing::AssertionFailure()
           << bad << " of " << a.size() << " values differ; worst error " << worst << " at "
           << worst_at << " (" << a[worst_at] << " vs " << b[worst_at] << "), first at "
           << first_bad << " (" << a[first_bad] << " vs " << b[first_bad] << "); tolerance abs "
           << tol.abs << " rel " << tol.rel;
}

}  // namespace gasm::testing
