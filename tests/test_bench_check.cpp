// SPDX-License-Identifier: MIT
// `gasm_gpu bench` and `gasm_gpu check` from the command line: what they print for a small
// model, and their flags read strictly (a size the machine cannot hold, NaN or a negative time
// or tolerance are usage errors, exit 2, before anything is allocated or run).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace gasm {
namespace {

using nlohmann::json;
using testing::run_gasm;
using testing::TempDir;
using testing::with;

class BenchCheck : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        weights_ = dir_->file("w.h5");
        auto gen =
            run_gasm(with({"weights", "generate", "--weights", weights_}, testing::kSmallModel));
        ASSERT_EQ(gen.exit_code, 0) << gen.err;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static TempDir* dir_;
    static std::string weights_;
};

TempDir* BenchCheck::dir_ = nullptr;
std::string BenchCheck::weights_;

TEST_F(BenchCheck, BenchPrintsOneRowPerCase) {
    auto r = run_gasm({"bench", "--weights", weights_, "--case", "3x4", "--case", "1x20", "--json",
                       "--repeat", "1", "--min-seconds", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json rows = json::parse(r.out);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    EXPECT_EQ(rows[0]["case"], "3x4");
    EXPECT_EQ(rows[0]["scenes"], 3);
    EXPECT_EQ(rows[1]["entities"], 20);
    for (const auto& row : rows) EXPECT_GT(row["scenes_per_second"].get<double>(), 0) << row;
    auto table = run_gasm(
        {"bench", "--weights", weights_, "--case", "2x3", "--repeat", "1", "--min-seconds", "0"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("| 2x3 "), std::string::npos) << table.out;
}

TEST_F(BenchCheck, BenchRefusesCasesItCannotHoldAndTimesThatAreNotTimes) {
    for (const std::string c : {"1x1048577", "1000000000000x10", "1x4611686018427387904",
                                "9223372036854775807x9223372036854775807", "0x10", "10x0", "-1x5",
                                "10", "10x10x10", "axb"}) {
        auto r = run_gasm({"bench", "--weights", weights_, "--case", c});
        EXPECT_EQ(r.exit_code, 2) << c << ": " << r.err;
        EXPECT_NE(r.err.find("--case"), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
    for (const std::string s : {"nan", "-1", "inf", "1e9"}) {
        auto r = run_gasm({"bench", "--weights", weights_, "--case", "1x2", "--min-seconds", s});
        EXPECT_EQ(r.exit_code, 2) << s << ": " << r.err;
    }
}

TEST_F(BenchCheck, CheckPassesSe3InvarianceAndReadsItsToleranceStrictly) {
    auto r = run_gasm({"check", "--weights", weights_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("PASS SE(3) invariance"), std::string::npos) << r.out;
    for (const std::string t : {"nan", "-1", "0", "inf"}) {
        auto bad = run_gasm({"check", "--weights", weights_, "--tolerance", t});
        EXPECT_EQ(bad.exit_code, 2) << t << ": " << bad.err;
        EXPECT_NE(bad.err.find("--tolerance"), std::string::npos) << bad.err;
    }
}

}  // namespace
}  // namespace gasm
