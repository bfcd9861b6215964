// SPDX-License-Identifier: MIT
// Environment variables are read strictly (issue "Nothing lost, nothing let in"): every value a
// user may write for GASM_FORCE_REGEN, GASM_WEIGHTS, GASM_DEVICE, GASM_LOCK_TIMEOUT and
// SOURCE_DATE_EPOCH either
// works as documented or stops the program with exit 2 and the variable's name, before any
// weight file is created, replaced or rewritten.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace gasm {
namespace {

namespace fs = std::filesystem;
using testing::run_gasm;
using testing::sha256_file;
using testing::TempDir;

const std::vector<std::string> kSmall = {"--feature-dim",    "48", "--hidden-dim", "24",
                                         "--max-iterations", "2"};

using testing::with;

// Names in `dir` other than the weight file and lock files (temporary files would show here).
std::vector<std::string> strays(const TempDir& dir, const std::string& keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        const std::string name = e.path().filename().string();
        if (name != keep && e.path().extension() != ".lock") out.push_back(name);
    }
    return out;
}

TEST(HardeningEnv, ForceRegenAcceptsEveryDocumentedSpellingAndRefusesTheRest) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::vector<std::string> on = {"true", "1", "yes", "on", "TRUE", "Yes", "ON", "oN"};
    const std::vector<std::string> off = {"false", "0", "no", "off", "", "FALSE", "No", "OFF"};
    const std::vector<std::string> bad = {"maybe", "2", " true", "true ", "yes!", "enable",
                                          "-1",    "t", "y",     "0x1",   "on\n", "tru"};
    for (const auto& v : on) {
        auto r = run_gasm({"run", "--weights", w}, {"GASM_FORCE_REGEN=" + v});
        EXPECT_EQ(r.exit_code, 0) << "'" << v << "': " << r.err;
        EXPECT_NE(r.err.find("Force regeneration requested"), std::string::npos) << v;
    }
    for (const auto& v : off) {
        const std::string before = sha256_file(w);
        auto r = run_gasm({"run", "--weights", w}, {"GASM_FORCE_REGEN=" + v});
        EXPECT_EQ(r.exit_code, 0) << "'" << v << "': " << r.err;
        EXPECT_EQ(r.err.find("Force regeneration"), std::string::npos) << v;
        EXPECT_EQ(sha256_file(w), before) << v;
    }
    for (const auto& v : bad) {
        const std::string before = sha256_file(w);
        for (const auto& cmd : std::vector<std::vector<std::string>>{
                 {"run", "--weights", w}, with({"weights", "generate", "--weights", w}, kSmall)}) {
            auto r = run_gasm(cmd, {"GASM_FORCE_REGEN=" + v});
            EXPECT_EQ(r.exit_code, 2) << cmd[0] << " '" << v << "': " << r.err;
            EXPECT_NE(r.err.find("GASM_FORCE_REGEN"), std::string::npos) << r.err;
            EXPECT_EQ(r.out, "") << v;
        }
        EXPECT_EQ(sha256_file(w), before) << v;
    }
    EXPECT_TRUE(strays(dir, "w.h5").empty());
}

TEST(HardeningEnv, EmptyWeightsPathIsAUsageErrorAndTheFlagWins) {
    TempDir dir;
    for (const auto& cmd :
         std::vector<std::vector<std::string>>{{"run"},
                                               {"weights", "status"},
                                               {"weights", "verify"},
                                               {"weights", "remove"},
                                               with({"weights", "generate"}, kSmall)}) {
        auto r = run_gasm(cmd, {"GASM_WEIGHTS="});
        EXPECT_EQ(r.exit_code, 2) << cmd.back() << ": " << r.err;
        EXPECT_NE(r.err.find("GASM_WEIGHTS"), std::string::npos) << r.err;
    }
    auto flag = run_gasm({"run", "--weights", ""});
    EXPECT_EQ(flag.exit_code, 2) << flag.err;
    // A path ending in '/' names a folder: refused, never taken for an absent file to create.
    const std::string slash = dir.file("w.h5/");
    for (const auto& r : {run_gasm(with({"run", "--weights", slash}, kSmall)),
                          run_gasm(with({"run"}, kSmall), {"GASM_WEIGHTS=" + slash})}) {
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_NE(r.err.find("names a folder"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(fs::exists(dir.file("w.h5")));
    // A set variable is used; the flag wins over it.
    const std::string a = dir.file("a.h5"), b = dir.file("b.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate"}, kSmall), {"GASM_WEIGHTS=" + a}).exit_code, 0);
    EXPECT_TRUE(fs::exists(a));
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", b}, kSmall), {"GASM_WEIGHTS=" + a})
                  .exit_code,
              0);
    EXPECT_TRUE(fs::exists(b));
    EXPECT_TRUE(run_gasm({"run", "--weights", b}, {"GASM_WEIGHTS="}).exit_code == 0)
        << "an empty variable is not read where the flag gives the path";
}

TEST(HardeningEnv, BadDeviceIsAUsageErrorBeforeAnyWeightsAreMade) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    const std::vector<std::string> bad = {"gpu",     "",      "CPU",      "cuda:",  "cuda:-1",
                                          "cuda:x",  "cudax", " cpu",     "cpu ",   "cuda:1x",
                                          "cuda::0", "cuda0", "auto,cpu", "cuda:+1"};
    for (const auto& v : bad) {
        auto r = run_gasm(with({"run", "--weights", w}, kSmall), {"GASM_DEVICE=" + v});
        EXPECT_EQ(r.exit_code, 2) << "'" << v << "': " << r.err;
        // The message names the variable (empty value) or the value it holds.
        const std::string named = v.empty() ? "GASM_DEVICE" : "'" + v + "'";
        EXPECT_NE(r.err.find(named), std::string::npos) << "'" << v << "': " << r.err;
        EXPECT_FALSE(fs::exists(w)) << "'" << v << "' must not reach the weights";
    }
    for (const char* v : {"cpu", "auto"}) {
        auto r = run_gasm(with({"run", "--weights", w}, kSmall), {std::string("GASM_DEVICE=") + v});
        EXPECT_EQ(r.exit_code, 0) << v << ": " << r.err;
    }
    // The flag wins over the variable.
    auto r = run_gasm({"run", "--weights", w, "--device", "cpu"}, {"GASM_DEVICE=cuda:7"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(HardeningEnv, SourceDateEpochIsCheckedOnEveryStart) {
    TempDir dir;
    const std::vector<std::string> bad = {
        "abc",          "-1",   "+5", " 5", "5 ", "1.5", "1e9", "0x10", "99999999999999999999",
        "253402300800", "12abc"};
    const std::string existing = dir.file("existing.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", existing}, kSmall)).exit_code, 0);
    const std::string digest = sha256_file(existing);
    for (const auto& v : bad) {
        const std::string env = "SOURCE_DATE_EPOCH=" + v;
        const std::string fresh = dir.file("fresh.h5");
        auto gen = run_gasm(with({"weights", "generate", "--weights", fresh}, kSmall), {env});
        EXPECT_EQ(gen.exit_code, 2) << "generate '" << v << "': " << gen.err;
        auto first = run_gasm(with({"run", "--weights", fresh}, kSmall), {env});
        EXPECT_EQ(first.exit_code, 2) << "first start '" << v << "': " << first.err;
        EXPECT_NE(first.err.find("SOURCE_DATE_EPOCH"), std::string::npos) << first.err;
        EXPECT_FALSE(fs::exists(fresh)) << v;
        auto load = run_gasm({"run", "--weights", existing}, {env});
        EXPECT_EQ(load.exit_code, 2) << "load '" << v << "': " << load.err;
        auto regen = run_gasm({"run", "--weights", existing, "--force-regen"}, {env});
        EXPECT_EQ(regen.exit_code, 2) << "regenerate '" << v << "': " << regen.err;
        EXPECT_EQ(sha256_file(existing), digest) << v;
    }
    EXPECT_TRUE(strays(dir, "existing.h5").empty());
    for (const auto& [v, when] : std::vector<std::pair<std::string, std::string>>{
             {"0", "1970-01-01T00:00:00Z"},
             {"1700000000", "2023-11-14T22:13:20Z"},
             {"253402300799", "9999-12-31T23:59:59Z"}}) {
        const std::string w = dir.file("ok" + v + ".h5");
        auto r = run_gasm(with({"weights", "generate", "--weights", w}, kSmall),
                          {"SOURCE_DATE_EPOCH=" + v});
        ASSERT_EQ(r.exit_code, 0) << v << ": " << r.err;
        auto st = run_gasm({"weights", "status", "--json", "--weights", w});
        EXPECT_EQ(nlohmann::json::parse(st.out)["created_utc"], when);
    }
    // Empty is unset (the reproducible-builds convention): the clock's time, no error.
    const std::string w = dir.file("empty_epoch.h5");
    auto r =
        run_gasm(with({"weights", "generate", "--weights", w}, kSmall), {"SOURCE_DATE_EPOCH="});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto st = run_gasm({"weights", "status", "--json", "--weights", w});
    EXPECT_NE(nlohmann::json::parse(st.out)["created_utc"], "1970-01-01T00:00:00Z");
}

TEST(HardeningEnv, LockTimeoutIsStrictAndEndsTheWaitForAHeldLock) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string digest = sha256_file(w);
    for (const std::string v :
         {"abc", "-1", "+1", "1e3", "inf", "nan", " 5", "5s", "1000001", ".", "1..2", "0x10"}) {
        auto r = run_gasm({"run", "--weights", w}, {"GASM_LOCK_TIMEOUT=" + v});
        EXPECT_EQ(r.exit_code, 2) << "'" << v << "': " << r.err;
        EXPECT_NE(r.err.find("GASM_LOCK_TIMEOUT"), std::string::npos) << r.err;
    }
    for (const std::string v : {"", "0", "2.5", "1000000", "7."}) {
        auto r = run_gasm({"run", "--weights", w}, {"GASM_LOCK_TIMEOUT=" + v});
        EXPECT_EQ(r.exit_code, 0) << "'" << v << "': " << r.err;
    }
    // Another process holds the lock and never lets go (here: this test, as a stopped writer
    // would): the run waits, says so, gives up after the time set, and touches nothing.
    const int fd = ::open((w + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto held = run_gasm({"run", "--weights", w}, {"GASM_LOCK_TIMEOUT=0.5"});
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto regen = run_gasm({"run", "--weights", w, "--force-regen"}, {"GASM_LOCK_TIMEOUT=0.3"});
    ::close(fd);
    EXPECT_EQ(held.exit_code, 1) << held.err;
    EXPECT_NE(held.err.find("Waiting for " + w + ".lock"), std::string::npos) << held.err;
    EXPECT_NE(held.err.find("gave up waiting for " + w + ".lock after 0.5 s"), std::string::npos)
        << held.err;
    EXPECT_TRUE(held.out.empty()) << held.out;
    EXPECT_LT(took, 10.0);
    EXPECT_EQ(regen.exit_code, 1) << regen.err;
    EXPECT_EQ(sha256_file(w), digest);
    EXPECT_TRUE(strays(dir, "w.h5").empty());
    // Once it is free the same command runs.
    EXPECT_EQ(run_gasm({"run", "--weights", w}, {"GASM_LOCK_TIMEOUT=0.5"}).exit_code, 0);
}

}  // namespace
}  // namespace gasm
