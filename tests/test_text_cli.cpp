// SPDX-License-Identifier: MIT
// The text path from the command line: two separate processes give the same scene and the same
// positions for the same sentence and seed, a text file gives one scene per line, and a text
// with no entity is an input error (exit 4) that says so.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace gasm {
namespace {

using testing::run_gasm;
using testing::TempDir;

const std::vector<std::string>& kSmall = testing::kSmallModel;
using testing::with;

TEST(TextCli, SameSentenceSameResultsInSeparateProcesses) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    const std::string text = "Der Roboter steht 2 m links von der Kiste, neben dem Regal.";
    auto a = run_gasm(with({"run", "--weights", w, "--text", text}, kSmall));
    auto b = run_gasm({"run", "--weights", w, "--text", text});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
    EXPECT_EQ(ja["scenes"], jb["scenes"]);
    const auto& ents = ja["scenes"][0]["entities"];
    ASSERT_GE(ents.size(), 3u);
    EXPECT_EQ(ents[0]["name"], "roboter");
    EXPECT_FALSE(ents[0]["type"].get<std::string>().empty());
    // The measurement became a distance constraint of 2 metres.
    const auto& dist = ja["scenes"][0]["constraints"]["distance"];
    ASSERT_EQ(dist.size(), 1u);
    EXPECT_DOUBLE_EQ(dist[0][2].get<double>(), 2.0);
    // Another seed gives other features, so other positions.
    auto c = run_gasm({"run", "--weights", dir.file("w7.h5"), "--text", text, "--seed", "7",
                       "--feature-dim", "48", "--hidden-dim", "24", "--max-iterations", "3"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_NE(nlohmann::json::parse(c.out)["scenes"], ja["scenes"]);
}

TEST(TextCli, TextFileGivesOneScenePerLine) {
    TempDir dir;
    const std::string f = dir.file("scenes.txt");
    std::ofstream(f) << "the lamp is on the desk\n\n   \nthe drone flies above the car\n";
    auto r = run_gasm(with({"run", "--weights", dir.file("w.h5"), "--text-file", f}, kSmall));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["scenes"].size(), 2u);
    EXPECT_EQ(j["scenes"][1]["entities"][0]["name"], "drone");
}

TEST(TextCli, NoEntityIsAnInputError) {
    TempDir dir;
    auto r = run_gasm(
        with({"run", "--weights", dir.file("w.h5"), "--text", "and then it was so"}, kSmall));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("no entity"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(TextCli, HdfOutputCarriesNamesAndTypes) {
    TempDir dir;
    const std::string out = dir.file("out.h5");
    auto r = run_gasm(with({"run", "--weights", dir.file("w.h5"), "--output", out, "--text",
                            "the drone hovers above the car"},
                           kSmall));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto names = testing::run_shell("h5dump -d /names " + out);
    EXPECT_NE(names.out.find("\"drone\""), std::string::npos) << names.out;
    auto types = testing::run_shell("h5dump -d /types " + out);
    EXPECT_NE(types.out.find("\"robotic\""), std::string::npos) << types.out;
}

TEST(TextCli, TableFormatShowsNamesTypesAndCurvature) {
    TempDir dir;
    auto r = run_gasm(with({"run", "--weights", dir.file("w.h5"), "--format", "table", "--text",
                            "the robot arm is next to the table"},
                           kSmall));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("robot arm"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("furniture"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("curvature per iteration"), std::string::npos) << r.out;
}

TEST(TextCli, TheTableShowsNoTerminalControlCharacters) {
    TempDir dir;
    auto r = run_gasm(with({"run", "--weights", dir.file("w.h5"), "--format", "table", "-q",
                            "--text", "the robot \x1b]0;title\x07 is on the table \x1b[2J"},
                           testing::kSmallModel));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("robot"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gasm
