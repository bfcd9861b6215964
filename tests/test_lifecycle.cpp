// SPDX-License-Identifier: MIT
// The weight lifecycle from the command line, as a user meets it: first start generates, later
// starts load without rewriting, --force-regen and GASM_FORCE_REGEN regenerate, status, remove,
// custom dimensions, files that cannot be saved, and byte-identical files across processes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "host/generate.hpp"
#include "io/weight_store.hpp"
#include "tests/test_support.hpp"

namespace gasm {
namespace {

using testing::run_gasm;
using testing::sha256_file;
using testing::TempDir;

const std::vector<std::string>& kSmall = testing::kSmallModel;
using testing::with;

// A JSON scene file of n entities with F features each.
std::string write_scene(const TempDir& dir, int n, int F, const std::string& name = "s.json") {
    nlohmann::json ents = nlohmann::json::array();
    for (int i = 0; i < n; ++i) {
        std::vector<float> f(F);
        for (int c = 0; c < F; ++c) f[c] = std::sin(0.37f * (i * F + c));
        ents.push_back({{"name", "e" + std::to_string(i)}, {"features", f}});
    }
    const std::string path = dir.file(name);
    std::ofstream(path) << nlohmann::json{{"scenes", {{{"entities", ents}}}}}.dump();
    return path;
}

ino_t inode(const std::string& p) {
    struct stat st {};
    stat(p.c_str(), &st);
    return st.st_ino;
}

TEST(Lifecycle, FirstStartGeneratesThenLoadsWithoutRewriting) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 4, 48);
    auto first = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("First-time startup: generating initial GASM weights"),
              std::string::npos)
        << first.err;
    EXPECT_NE(first.err.find("Set deterministic seed (42) for weight generation"),
              std::string::npos);
    EXPECT_NE(first.err.find("Generated initial GASM weights and saved to " + w),
              std::string::npos);
    EXPECT_EQ(first.out.find("First-time"), std::string::npos) << "logs must not go to stdout";
    ASSERT_TRUE(std::filesystem::exists(w));
    const std::string digest = sha256_file(w);
    const ino_t ino = inode(w);

    // No configuration flags: the file's configuration is adopted.
    auto second = run_gasm({"run", "--weights", w, "--input", scene});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.err.find("Loaded GASM weights from " + w + " onto cpu"), std::string::npos)
        << second.err;
    EXPECT_EQ(second.err.find("Generated"), std::string::npos);
    EXPECT_EQ(sha256_file(w), digest);
    EXPECT_EQ(inode(w), ino);
    // The same results both times, and the digest in the output is the file's.
    auto j1 = nlohmann::json::parse(first.out), j2 = nlohmann::json::parse(second.out);
    EXPECT_EQ(j1["scenes"], j2["scenes"]);
    EXPECT_EQ(j1["weights"]["content_sha256"], j2["weights"]["content_sha256"]);
    EXPECT_EQ(j1["device"], "cpu");
    EXPECT_EQ(j1["scenes"][0]["entities"].size(), 4u);
}

TEST(Lifecycle, ForceRegenByFlagAndEnvironment) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 3, 48);
    ASSERT_EQ(run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall)).exit_code, 0);
    const ino_t ino = inode(w);
    auto flag = run_gasm(with({"run", "--weights", w, "--input", scene, "--force-regen"}, kSmall));
    ASSERT_EQ(flag.exit_code, 0) << flag.err;
    EXPECT_NE(flag.err.find("Force regeneration requested"), std::string::npos);
    EXPECT_NE(flag.err.find("Force regenerating weights (replacing " + w + ")"), std::string::npos);
    EXPECT_NE(inode(w), ino) << "the file must be replaced by a new one";

    for (const char* on : {"true", "1", "YES", "On"}) {
        const ino_t before = inode(w);
        auto r = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall),
                          {std::string("GASM_FORCE_REGEN=") + on});
        ASSERT_EQ(r.exit_code, 0) << on << r.err;
        EXPECT_NE(r.err.find("Force regeneration requested"), std::string::npos) << on;
        EXPECT_NE(inode(w), before) << on;
    }
    for (const char* off : {"false", "0", "no", "off", ""}) {
        const ino_t before = inode(w);
        auto r = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall),
                          {std::string("GASM_FORCE_REGEN=") + off});
        ASSERT_EQ(r.exit_code, 0) << off << r.err;
        EXPECT_EQ(r.err.find("Force regeneration"), std::string::npos) << off;
        EXPECT_EQ(inode(w), before) << off;
    }
    const std::string digest = sha256_file(w);
    auto bad = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall),
                        {"GASM_FORCE_REGEN=maybe"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find("GASM_FORCE_REGEN"), std::string::npos);
    EXPECT_EQ(sha256_file(w), digest);
}

TEST(Lifecycle, StatusAndRemove) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    auto missing = run_gasm({"weights", "status", "--json", "--weights", w});
    ASSERT_EQ(missing.exit_code, 0) << missing.err;
    EXPECT_EQ(nlohmann::json::parse(missing.out)["exists"], false);

    ASSERT_EQ(
        run_gasm(with({"weights", "generate", "--weights", w, "--seed", "7"}, kSmall)).exit_code,
        0);
    auto st = run_gasm({"weights", "status", "--json", "--weights", w});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto j = nlohmann::json::parse(st.out);
    EXPECT_EQ(j["path"], w);
    EXPECT_EQ(j["exists"], true);
    EXPECT_GT(j["size_bytes"].get<int64_t>(), 0);
    EXPECT_FALSE(j["modified_utc"].get<std::string>().empty());
    EXPECT_EQ(j["feature_dim"], 48);
    EXPECT_EQ(j["hidden_dim"], 24);
    EXPECT_EQ(j["output_dim"], 3);
    EXPECT_EQ(j["num_heads"], 4);
    EXPECT_EQ(j["max_iterations"], 3);
    EXPECT_EQ(j["seed"], 7);
    EXPECT_EQ(j["content_sha256"].get<std::string>().size(), 64u);

    auto rm = run_gasm({"weights", "remove", "--weights", w});
    EXPECT_EQ(rm.exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists(w));
    EXPECT_FALSE(std::filesystem::exists(w + ".lock"));
    auto rm2 = run_gasm({"weights", "remove", "--weights", w});
    EXPECT_EQ(rm2.exit_code, 0);
    EXPECT_NE(rm2.out.find("no weight file"), std::string::npos);
}

TEST(Lifecycle, WeightsPathFromEnvironment) {
    TempDir dir;
    const std::string w = dir.file("env.h5");
    auto r = run_gasm(with({"weights", "generate"}, kSmall), {"GASM_WEIGHTS=" + w});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(w));
    // The flag wins over the environment.
    const std::string w2 = dir.file("flag.h5");
    ASSERT_EQ(
        run_gasm(with({"weights", "generate", "--weights", w2}, kSmall), {"GASM_WEIGHTS=" + w})
            .exit_code,
        0);
    EXPECT_TRUE(std::filesystem::exists(w2));
}

TEST(Lifecycle, OtherConfigurationIsRefusedAndFileKept) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 3, 48);
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string digest = sha256_file(w);
    auto r = run_gasm({"run", "--weights", w, "--input", scene, "--feature-dim", "64"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("feature_dim 48 (asked for 64)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--force-regen"), std::string::npos);
    auto s = run_gasm({"run", "--weights", w, "--input", scene, "--seed", "9"});
    EXPECT_EQ(s.exit_code, 3) << s.err;
    auto g = run_gasm({"weights", "generate", "--weights", w, "--hidden-dim", "32"});
    EXPECT_EQ(g.exit_code, 3) << "generate over another configuration needs --force";
    EXPECT_NE(g.err.find("holds F=48 H=24 D=3 heads=4 K=3, seed 42; this generate asks for "
                         "F=768 H=32 D=3 heads=4 K=6, seed 42"),
              std::string::npos)
        << g.err;
    EXPECT_EQ(sha256_file(w), digest);
    auto forced = run_gasm({"weights", "generate", "--weights", w, "--feature-dim", "48",
                            "--hidden-dim", "32", "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(sha256_file(w), digest);
}

TEST(Lifecycle, UnsaveablePathWarnsAndGivesIdenticalResults) {
    TempDir dir;
    const std::string scene = write_scene(dir, 5, 48);
    const std::string blocker = dir.file("plain_file");
    std::ofstream(blocker) << "not a folder";
    const std::string w = blocker + "/w.h5";  // a path under a regular file: never writable
    auto r = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("GASM weights not persisted to " + w), std::string::npos) << r.err;
    const std::string good = dir.file("w.h5");
    auto saved = run_gasm(with({"run", "--weights", good, "--input", scene}, kSmall));
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    auto a = nlohmann::json::parse(r.out), b = nlohmann::json::parse(saved.out);
    EXPECT_EQ(a["scenes"], b["scenes"]);
    EXPECT_EQ(a["weights"]["content_sha256"], b["weights"]["content_sha256"]);
}

TEST(Lifecycle, SeparateProcessesWriteByteIdenticalFiles) {
    TempDir dir;
    const std::string a = dir.file("a.h5"), b = dir.file("b.h5");
    // SOURCE_DATE_EPOCH pins created_utc, the only field that records when.
    ASSERT_EQ(run_gasm({"weights", "generate", "--weights", a}, {"SOURCE_DATE_EPOCH=1700000000"})
                  .exit_code,
              0);
    ASSERT_EQ(run_gasm({"weights", "generate", "--weights", b}, {"SOURCE_DATE_EPOCH=1700000000"})
                  .exit_code,
              0);
    EXPECT_EQ(sha256_file(a), sha256_file(b));
    auto st = run_gasm({"weights", "status", "--json", "--weights", a});
    EXPECT_EQ(nlohmann::json::parse(st.out)["content_sha256"],
              "1a075c7974eb6db0d1b3651564134c41b171ac10db0a7852b25241127e6365d6");
    EXPECT_EQ(nlohmann::json::parse(st.out)["created_utc"], "2023-11-14T22:13:20Z");
}

TEST(Lifecycle, VerifyAndInspect) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    auto v = run_gasm({"weights", "verify", "--weights", w});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    auto i = run_gasm({"weights", "inspect", "--json", "--weights", w});
    ASSERT_EQ(i.exit_code, 0) << i.err;
    auto rows = nlohmann::json::parse(i.out);
    EXPECT_EQ(rows.size(), 21u + 6u * 3u);
    EXPECT_EQ(rows[0]["name"], "target_curvature");
    auto missing = run_gasm({"weights", "verify", "--weights", dir.file("none.h5")});
    EXPECT_EQ(missing.exit_code, 3);
}

TEST(Lifecycle, ReadOnlyCommandsOnAMissingFileCreateNothing) {
    TempDir dir;
    const std::string none = dir.file("none.h5");
    for (const char* cmd : {"verify", "inspect", "export"}) {
        std::vector<std::string> args = {"weights", cmd, "--weights", none};
        if (std::string(cmd) == "export") args = with(args, {"--to", dir.file("x.npz")});
        auto r = run_gasm(args);
        EXPECT_EQ(r.exit_code, 3) << cmd;
        EXPECT_NE(r.err.find("weight file " + none + " does not exist"), std::string::npos)
            << cmd << ": " << r.err;
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a lock file or an export was left";
}

TEST(Lifecycle, ExportNeverOverwritesUnasked) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), npz = dir.file("w.npz");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    std::ofstream(npz) << "the user's own file";
    auto r = run_gasm({"weights", "export", "--weights", w, "--to", npz});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("add --force"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_file(npz), "the user's own file");
    const std::string before = sha256_file(w);
    auto self = run_gasm({"weights", "export", "--weights", w, "--to", w, "--force"});
    EXPECT_EQ(self.exit_code, 2);
    EXPECT_EQ(sha256_file(w), before);
    EXPECT_EQ(run_gasm({"weights", "export", "--weights", w, "--to", npz, "--force"}).exit_code, 0);
    EXPECT_NE(testing::read_file(npz), "the user's own file");
    // Not even with --force: the lock file (replacing it would split the lock), a FIFO, a
    // folder (as root, --to /dev/null once replaced the device node with a file).
    const std::string fifo = dir.file("fifo.npz"), folder = dir.file("folder.npz");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    std::filesystem::create_directory(folder);
    ASSERT_EQ(run_gasm({"weights", "status", "--weights", w}).exit_code, 0);
    for (const std::string& to : {w + ".lock", fifo, folder}) {
        auto refused = run_gasm({"weights", "export", "--weights", w, "--to", to, "--force"});
        EXPECT_EQ(refused.exit_code, 2) << to << ": " << refused.err;
    }
    EXPECT_TRUE(std::filesystem::is_fifo(fifo));
    EXPECT_TRUE(std::filesystem::is_directory(folder));
}

TEST(Lifecycle, RemoveTouchesOnlyWeightFiles) {
    TempDir dir;
    const std::string fifo = dir.file("fifo.h5"), notes = dir.file("notes.h5");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::ofstream(notes) << "a colleague's notes";
    auto f = run_gasm({"weights", "remove", "--weights", fifo});
    EXPECT_EQ(f.exit_code, 2) << f.err;
    EXPECT_NE(f.err.find("not a regular file"), std::string::npos) << f.err;
    EXPECT_TRUE(std::filesystem::exists(fifo));
    auto n = run_gasm({"weights", "remove", "--weights", notes});
    EXPECT_EQ(n.exit_code, 2) << n.err;
    EXPECT_NE(n.err.find("not a gasm weight file"), std::string::npos) << n.err;
    EXPECT_EQ(testing::read_file(notes), "a colleague's notes");
    EXPECT_EQ(run_gasm({"weights", "remove", "--weights", notes, "--force"}).exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists(notes));
}

TEST(Lifecycle, OutputNeverOverwritesTheWeightsOrTheInput) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    const std::vector<std::string> text = {"--text", "the robot is on the table"};
    // Not even on a first start, where the weights are about to be written.
    for (const std::string& out : {w, dir.path() + "/./w.h5"}) {
        auto r = run_gasm(with(with({"run", "--weights", w, "--output", out}, kSmall), text));
        EXPECT_EQ(r.exit_code, 2) << out << ": " << r.err;
        EXPECT_NE(r.err.find("is the weight file"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(w));
    ASSERT_EQ(run_gasm(with(with({"run", "--weights", w}, kSmall), text)).exit_code, 0);
    const std::string before = sha256_file(w);
    const std::string link = dir.file("link.h5");
    std::filesystem::create_symlink(w, link);
    auto r = run_gasm(with({"run", "--weights", w, "--output", link}, text));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(sha256_file(w), before);
    const std::string in = write_scene(dir, 3, 48);
    const std::string in_before = sha256_file(in);
    auto same = run_gasm({"run", "--weights", w, "--input", in, "--output", in});
    EXPECT_EQ(same.exit_code, 2) << same.err;
    EXPECT_EQ(sha256_file(in), in_before);
    // Only a file is ever replaced by the results: a FIFO, a folder or a link to a FIFO are
    // refused (the rename would have put a file in their place), and an empty name is no file.
    const std::string fifo = dir.file("fifo.json"), folder = dir.file("folder.h5"),
                      fifo_link = dir.file("fifo_link.json");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    std::filesystem::create_directory(folder);
    std::filesystem::create_symlink(fifo, fifo_link);
    for (const std::string& out : {fifo, folder, fifo_link}) {
        auto r = run_gasm(with({"run", "--weights", w, "--output", out}, text));
        EXPECT_EQ(r.exit_code, 2) << out << ": " << r.err;
        EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    }
    EXPECT_TRUE(std::filesystem::is_fifo(fifo));
    EXPECT_TRUE(std::filesystem::is_directory(folder));
    auto empty = run_gasm(with({"run", "--weights", w, "--output", ""}, text));
    EXPECT_EQ(empty.exit_code, 2) << empty.err;
    EXPECT_EQ(empty.out, "");
}

TEST(Lifecycle, LinksAreFollowedAndDanglingOnesRefused) {
    TempDir dir;
    const std::string dangling = dir.file("dangling.h5");
    std::filesystem::create_symlink(dir.file("unmounted/w.h5"), dangling);
    auto g = run_gasm(with({"weights", "generate", "--weights", dangling}, kSmall));
    EXPECT_EQ(g.exit_code, 3) << g.err;
    EXPECT_NE(g.err.find("symbolic link to something that does not exist"), std::string::npos);
    EXPECT_TRUE(std::filesystem::is_symlink(dangling));
    // A link to a weight file: a regeneration replaces the file it names, the link stays.
    const std::string w = dir.file("w.h5"), link = dir.file("link.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    std::filesystem::create_symlink(w, link);
    const std::string before = sha256_file(w);
    auto r = run_gasm({"run", "--weights", link, "--force-regen", "--seed", "7", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    EXPECT_NE(sha256_file(w), before) << "the file the link names was not regenerated";
}

// Weights of absurd size (finite, so the file is valid) overflow float32 in the model. The
// results must not be written as positions (JSON would show null, HDF5 NaN): exit 1, naming
// the scene and the weight file, and nothing on stdout or in --output.
TEST(Lifecycle, ResultsThatOverflowAreAnErrorNotNullPositions) {
    TempDir dir;
    ModelConfig c;
    c.feature_dim = 48;
    c.hidden_dim = 24;
    c.max_iterations = 3;
    Weights huge = generate_weights(c, 42);
    for (Tensor& t : huge.tensors)
        for (float& v : t.data) v = v < 0 ? -1e20f : 1e20f;
    huge.digest.clear();
    const std::string w = dir.file("huge.h5");
    ASSERT_EQ(save_weights_atomic(huge, w), "");
    ASSERT_EQ(run_gasm({"weights", "verify", "--weights", w}).exit_code, 0);
    const std::vector<std::string> text = {"--text", "the lamp is on the desk"};
    const std::string json_out = dir.file("out.json"), h5_out = dir.file("out.h5");
    for (const auto& args : {with({"run", "--weights", w}, text),
                             with({"run", "--weights", w, "--output", json_out}, text),
                             with({"run", "--weights", w, "--output", h5_out}, text)}) {
        auto r = run_gasm(args);
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_NE(r.err.find("scene 0, entity 0, position: not finite"), std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find(w), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
    EXPECT_FALSE(std::filesystem::exists(json_out));
    EXPECT_FALSE(std::filesystem::exists(h5_out));
}

TEST(Lifecycle, AFailedWriteToStdoutIsAFailure) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    for (const char* cmd :
         {"run --text 'the robot is on the table'", "weights status --json", "weights inspect"}) {
        auto r = testing::run_shell(std::string(GASM_EXE) + " " + cmd + " -q --weights " + w +
                                    " >/dev/full");
        EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.err;
        EXPECT_NE(r.err.find("cannot write the results to standard output"), std::string::npos)
            << cmd << ": " << r.err;
    }
}

TEST(Lifecycle, ATextFileThatIsAFolderIsAnInputError) {
    TempDir dir;
    auto r =
        run_gasm(with({"run", "--weights", dir.file("w.h5"), "--text-file", dir.path()}, kSmall));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(dir.path() + ": not a regular file"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("w.h5")));
}

TEST(Lifecycle, UnknownCommandIsNamed) {
    auto r = run_gasm({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("run, weights"), std::string::npos) << r.err;
}

TEST(Lifecycle, InputErrorWritesNothing) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 3, 40);  // wrong width
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string out = dir.file("out.json");
    auto r = run_gasm({"run", "--weights", w, "--input", scene, "--output", out});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(scene + ", scene 0, field 'entities[0].features'"), std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_EQ(r.out, "");
}

TEST(Lifecycle, FlippedBitsAreRefusedOrHarmlessAndTheFileIsKept) {
    // A bit flipped anywhere must never give other weights silently: the load fails with exit 3
    // and the file stays as it was, or (a flip in unused bytes) the run uses the same weights.
    TempDir dir;
    const std::string clean = dir.file("clean.h5"), scene = write_scene(dir, 3, 48);
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", clean}, kSmall)).exit_code, 0);
    const std::string bytes = testing::read_file(clean);
    const std::string want = nlohmann::json::parse(
        run_gasm({"run", "--weights", clean, "--input", scene}).out)["weights"]["content_sha256"];
    int refused = 0, positions = 0;
    for (size_t at = 0; at < bytes.size(); at += bytes.size() / 24 + 1, ++positions) {
        const std::string w = dir.file("flip.h5");
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x04);
        std::ofstream(w, std::ios::binary) << damaged;
        auto r = run_gasm({"run", "--weights", w, "--input", scene});
        EXPECT_TRUE(r.exit_code == 3 || r.exit_code == 0) << "byte " << at << ": " << r.err;
        if (r.exit_code == 3) {
            ++refused;
            EXPECT_NE(r.err.find(w), std::string::npos) << r.err;
        } else if (r.exit_code == 0) {
            EXPECT_EQ(nlohmann::json::parse(r.out)["weights"]["content_sha256"], want) << at;
        }
        EXPECT_EQ(testing::read_file(w), damaged) << "the file must be left as it was";
    }
    // About half the file is HDF5 free space and padding, where a flip changes nothing.
    EXPECT_GT(refused, positions / 3) << refused << " of " << positions << " flips refused";
}

TEST(Lifecycle, BadInputOnFirstStartWritesNoWeights) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 3, 40);
    auto r = run_gasm(with({"run", "--weights", w, "--input", scene}, kSmall));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_FALSE(std::filesystem::exists(w)) << "a refused input must not create weights";
    auto t = run_gasm(with({"run", "--weights", w, "--text", ""}, kSmall));
    EXPECT_EQ(t.exit_code, 4) << "an empty --text is no sentence: " << t.err;
    EXPECT_FALSE(std::filesystem::exists(w));
    auto d = run_gasm(with({"run", "--weights", w, "--input", dir.path() + "/"}, kSmall));
    EXPECT_NE(d.exit_code, 0);
    std::filesystem::create_directory(dir.file("folder.json"));
    auto f = run_gasm(with({"run", "--weights", w, "--input", dir.file("folder.json")}, kSmall));
    EXPECT_EQ(f.exit_code, 4) << f.err;
    EXPECT_NE(f.err.find("not a regular file"), std::string::npos) << f.err;
}

TEST(Lifecycle, RegenerationKeepsTheFilesConfigurationAndSeed) {
    TempDir dir;
    const std::string w = dir.file("w.h5"), scene = write_scene(dir, 3, 48);
    ASSERT_EQ(
        run_gasm(with({"weights", "generate", "--weights", w, "--seed", "7"}, kSmall)).exit_code,
        0);
    const std::string before = nlohmann::json::parse(
        run_gasm({"weights", "status", "--json", "--weights", w}).out)["content_sha256"];
    auto r = run_gasm({"run", "--weights", w, "--input", scene, "--force-regen"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto st = nlohmann::json::parse(run_gasm({"weights", "status", "--json", "--weights", w}).out);
    EXPECT_EQ(st["feature_dim"], 48);
    EXPECT_EQ(st["seed"], 7);
    EXPECT_EQ(st["content_sha256"], before) << "same configuration and seed, same weights";
}

TEST(Lifecycle, SeedsAreParsedStrictly) {
    TempDir dir;
    for (const char* bad : {"-1", "99999999999999999999", "12abc", ""}) {
        auto r = run_gasm({"weights", "generate", "--weights", dir.file("w.h5"), "--seed", bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("w.h5")));
}

}  // namespace
}  // namespace gasm
