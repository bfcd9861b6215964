// SPDX-License-Identifier: MIT
// Many scenes (issue 6, "stream" and "MPI"): an HDF5 batch is read a chunk of whole scenes at a
// time and its results written into the output file as they finish. The streamed reader must
// give exactly the batches the whole-file reader gives, the streamed output file must be byte
// for byte the one the whole-batch writer makes, an error in the last chunk must leave no output
// (exit 4), and under mpirun (where built with MPI) 2 and 3 ranks must write the very file one
// process writes, stop together on a bad input, and generate the weights once on a first start.
// The batch files are built by Debian's /usr/bin/python3 with h5py; those cases skip without it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "host/errors.hpp"
#include "io/scenes.hpp"
#include "tests/test_support.hpp"

namespace gasm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::kSmallModel;
using testing::read_file;
using testing::run_gasm;
using testing::run_shell;
using testing::TempDir;
using testing::with;

constexpr int kF = 48;

// The entity rows per chunk of apps/run_engine.hpp (kRowsPerChunk): the files below hold
// several chunks' worth.
constexpr int64_t kRowsPerChunk = 16384;

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The files: batch.h5 (names, relations, custom edges, constraints of all three kinds with
// rows out of scene order), plain.h5 (offsets and features only), bad_last.h5 (plain.h5 with a
// NaN in the last scene). argv: folder, scenes.
constexpr const char* kBuilder = R"PY(
import os, sys
import numpy as np
import h5py

out, S = sys.argv[1], int(sys.argv[2])
F = 48
rng = np.random.default_rng(11)
sizes = rng.integers(1, 13, S)
offsets = np.concatenate([[0], np.cumsum(sizes)]).astype("<i8")
T = int(offsets[-1])
features = rng.normal(0, 1, (T, F)).astype("<f4")

def plain(path, feats):
    with h5py.File(path, "w") as f:
        g = f.create_group("scenes")
        g["offsets"] = offsets
        g["features"] = feats

plain(os.path.join(out, "plain.h5"), features)
bad = features.copy()
bad[T - 1, 5] = np.nan
plain(os.path.join(out, "bad_last.h5"), bad)

with h5py.File(os.path.join(out, "batch.h5"), "w") as f:
    g = f.create_group("scenes")
    g["offsets"] = offsets
    g["features"] = features
    g["names"] = np.array(["n%d" % i for i in range(T)], dtype=h5py.string_dtype())
    g["relations"] = rng.uniform(0, 1, (int((sizes * sizes).sum()), 3)).astype("<f4")
    edge_offsets, edges = [0], []
    for n in sizes:
        for _ in range(int(rng.integers(0, 2 * n))):
            edges.append([int(rng.integers(0, n)), int(rng.integers(0, n))])
        edge_offsets.append(len(edges))
    g["edge_offsets"] = np.array(edge_offsets, "<i8")
    g["edges"] = np.array(edges, "<i8").reshape(-1, 2)
    distance = [[s, 0, 1, 1.5] for s in range(S) if sizes[s] >= 2 and s % 3 == 0]
    distance += [[s, 1, 0, 0.5] for s in range(S) if sizes[s] >= 2 and s % 4 == 0]
    rng.shuffle(distance)
    g["constraints/distance"] = np.array(distance, "<f8").reshape(-1, 4)
    angle = [[s, 0, 1, 2, 1.0] for s in range(S) if sizes[s] >= 3 and s % 5 == 0]
    g["constraints/angle"] = np.array(angle, "<f8").reshape(-1, 5)
    collision = [[s, 0.3] for s in range(S) if s % 7 == 0]
    g["constraints/collision"] = np.array(collision[::-1], "<f8").reshape(-1, 2)
)PY";

// The whole batch's results from the JSON output of `run` (float32 values round-trip through
// JSON exactly).
BatchResult results_from_json(const json& j, const std::vector<int64_t>& offsets, int64_t K) {
    BatchResult r;
    r.reset(offsets, 3, K);
    for (size_t s = 0; s < j["scenes"].size(); ++s) {
        const json& scene = j["scenes"][s];
        for (size_t e = 0; e < scene["entities"].size(); ++e)
            for (int d = 0; d < 3; ++d)
                r.positions[(offsets[s] + e) * 3 + d] =
                    scene["entities"][e]["position"][d].get<float>();
        r.iterations[s] = scene["iterations"].get<int32_t>();
        r.converged[s] = scene["converged"].get<bool>() ? 1 : 0;
        for (size_t k = 0; k < scene["curvature_evolution"].size(); ++k)
            r.curvature[s * K + k] = scene["curvature_evolution"][k].get<float>();
    }
    return r;
}

// Files other than `keep` in the folder (temporary files a run must not leave behind).
std::vector<std::string> leftovers(const std::string& folder,
                                   const std::vector<std::string>& keep) {
    std::vector<std::string> extra;
    for (const auto& e : fs::directory_iterator(folder)) {
        const std::string name = e.path().filename().string();
        if (std::find(keep.begin(), keep.end(), name) == keep.end()) extra.push_back(name);
    }
    return extra;
}

TEST(Chunks, CutFromTheFirstSceneAndSharedOutByWork) {
    // 10 small scenes, one huge one, 10 small ones; chunks of at most 100 rows.
    std::vector<int64_t> offsets{0};
    for (int s = 0; s < 21; ++s) offsets.push_back(offsets.back() + (s == 10 ? 500 : 20));
    const auto bounds = chunk_bounds(offsets, 100);
    const std::vector<int64_t> want{0, 5, 10, 11, 16, 21};
    EXPECT_EQ(bounds, want);
    // The huge chunk alone outweighs the rest: with two parts it gets a part of its own side.
    for (int parts : {1, 2, 3, 4, 8}) {
        SCOPED_TRACE(parts);
        const auto split = split_chunks(bounds, offsets, 48, 24, parts);
        ASSERT_EQ(split.size(), static_cast<size_t>(parts) + 1);
        EXPECT_EQ(split.front(), 0);
        EXPECT_EQ(split.back(), 5);
        EXPECT_TRUE(std::is_sorted(split.begin(), split.end()));
    }
    // Equal chunks are shared out evenly.
    std::vector<int64_t> even{0};
    for (int s = 0; s < 12; ++s) even.push_back(even.back() + 10);
    const auto eb = chunk_bounds(even, 10);
    EXPECT_EQ(split_chunks(eb, even, 48, 24, 3), (std::vector<int64_t>{0, 4, 8, 12}));
    EXPECT_EQ(split_chunks(eb, even, 48, 24, 4), (std::vector<int64_t>{0, 3, 6, 9, 12}));
    // By work, not by count: one scene of 40 entities weighs as much as many of 10.
    std::vector<int64_t> mixed{0, 40};
    for (int s = 0; s < 12; ++s) mixed.push_back(mixed.back() + 10);
    const auto mb = chunk_bounds(mixed, 10);
    const auto ms = split_chunks(mb, mixed, 4, 4, 2);
    EXPECT_LT(ms[1], 7) << "the first part, holding the large scene, must take fewer chunks";
    // More parts than chunks: the extra parts are empty.
    EXPECT_EQ(split_chunks(chunk_bounds({0, 5}, 10), {0, 5}, 48, 24, 3),
              (std::vector<int64_t>{0, 0, 1, 1}));
}

// The streamed writer against the whole-batch writer, in process, on made-up results of more
// entities than one piece of strings (65536), put in shuffled order.
TEST(StreamWriter, FileIsByteForByteTheWholeBatchWriters) {
    TempDir dir;
    std::mt19937 rng(5);
    for (int S : {1, 7, 3000, 30000}) {
        SCOPED_TRACE(S);
        std::vector<int64_t> offsets{0};
        for (int s = 0; s < S; ++s) offsets.push_back(offsets.back() + 1 + rng() % 10);
        const int64_t T = offsets.back(), K = 4;
        BatchResult r;
        r.reset(offsets, 3, K);
        for (float& p : r.positions) p = static_cast<float>(rng()) * 1e-9f - 2.0f;
        for (int s = 0; s < S; ++s) {
            r.iterations[s] = 1 + static_cast<int32_t>(rng() % K);
            r.converged[s] = rng() % 2;
            for (int k = 0; k < r.iterations[s]; ++k)
                r.curvature[s * K + k] = static_cast<float>(rng()) * 1e-9f;
        }
        SceneBatch batch;
        batch.offsets = offsets;
        batch.names.resize(static_cast<size_t>(T));
        batch.types.resize(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t) {
            batch.names[t] = "entity_" + std::to_string(rng() % 20) +
                             (rng() % 4 ? "" : std::string(rng() % 40, 'x'));
            if (rng() % 5 == 0) batch.types[t] = "furniture";
        }
        const RunFacts facts{"cpu", "w.h5", "0123abcd", 1.5, 0.5};
        const std::string whole = dir.file("whole.h5"), streamed = dir.file("streamed.h5");
        fs::remove(streamed);
        write_results_h5(whole, batch, r, facts);
        auto strings = [](const std::vector<std::string>& all) {
            return [&all](int64_t a, int64_t b) {
                return std::vector<std::string>(all.begin() + a, all.begin() + b);
            };
        };
        ResultsH5Writer writer(streamed, offsets, 3, K, facts, strings(batch.names),
                               strings(batch.types));
        const auto bounds = chunk_bounds(offsets, 1000);
        std::vector<size_t> order(bounds.size() - 1);
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t c : order) {
            BatchResult part;
            std::vector<int64_t> local;
            for (int64_t s = bounds[c]; s <= bounds[c + 1]; ++s)
                local.push_back(offsets[s] - offsets[bounds[c]]);
            part.reset(local, 3, K);
            std::copy(r.positions.begin() + offsets[bounds[c]] * 3,
                      r.positions.begin() + offsets[bounds[c + 1]] * 3, part.positions.begin());
            std::copy(r.curvature.begin() + bounds[c] * K, r.curvature.begin() + bounds[c + 1] * K,
                      part.curvature.begin());
            std::copy(r.iterations.begin() + bounds[c], r.iterations.begin() + bounds[c + 1],
                      part.iterations.begin());
            std::copy(r.converged.begin() + bounds[c], r.converged.begin() + bounds[c + 1],
                      part.converged.begin());
            writer.put(bounds[c], part);
        }
        EXPECT_FALSE(fs::exists(streamed)) << "the file appears only at commit";
        writer.commit();
        EXPECT_EQ(run_shell("cmp " + quote(whole) + " " + quote(streamed)).exit_code, 0)
            << "the streamed file differs from the whole-batch writer's (" << T << " entities)";
        EXPECT_EQ(leftovers(dir.path(), {"whole.h5", "streamed.h5"}), std::vector<std::string>{});
    }
}

TEST(StreamWriter, AWriterLeftUncommittedLeavesNothing) {
    TempDir dir;
    const std::vector<int64_t> offsets{0, 2, 5};
    const RunFacts facts{"cpu", "w.h5", "0123abcd", 0, 0};
    auto names = [](int64_t a, int64_t b) { return std::vector<std::string>(b - a, "x"); };
    {
        ResultsH5Writer writer(dir.file("out.h5"), offsets, 3, 2, facts, names, names);
        EXPECT_EQ(leftovers(dir.path(), {}).size(), 1u) << "its temporary file";
    }
    EXPECT_EQ(leftovers(dir.path(), {}), std::vector<std::string>{});
    // An error from the names (an input error) comes through as it is, and leaves nothing.
    auto bad = [](int64_t, int64_t) -> std::vector<std::string> {
        throw InputError("in.h5, scene 1, field '/scenes/names': bad");
    };
    EXPECT_THROW({ ResultsH5Writer w(dir.file("out.h5"), offsets, 3, 2, facts, bad, names); },
                 InputError);
    EXPECT_EQ(leftovers(dir.path(), {}), std::vector<std::string>{});
    // Not every scene's results: commit refuses and leaves nothing.
    ResultsH5Writer writer(dir.file("out.h5"), offsets, 3, 2, facts, names, names);
    EXPECT_THROW(writer.commit(), RuntimeFailure);
    EXPECT_EQ(leftovers(dir.path(), {}), std::vector<std::string>{});
}

class StreamRun : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        auto probe = run_shell("/usr/bin/python3 -c 'import h5py, numpy'");
        if (probe.exit_code != 0) {
            skip_ = "Debian's /usr/bin/python3 with h5py and numpy is needed: " + probe.err;
            return;
        }
        std::ofstream(dir_->file("build.py")) << kBuilder;
        auto built = run_shell("/usr/bin/python3 " + quote(dir_->file("build.py")) + " " +
                               quote(dir_->path()) + " 9000");
        ASSERT_EQ(built.exit_code, 0) << built.err;
        weights_ = dir_->file("w.h5");
        auto gen = run_gasm(with({"weights", "generate", "--weights", weights_}, kSmallModel));
        ASSERT_EQ(gen.exit_code, 0) << gen.err;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
    }
    static std::string file(const std::string& name) { return dir_->file(name); }

    static TempDir* dir_;
    static std::string skip_, weights_;
};

TempDir* StreamRun::dir_ = nullptr;
std::string StreamRun::skip_;
std::string StreamRun::weights_;

TEST_F(StreamRun, ChunksAreTheSlicesOfTheWholeFile) {
    for (const char* name : {"batch.h5", "plain.h5"}) {
        SCOPED_TRACE(name);
        const SceneBatch whole = read_scenes_h5(file(name), kF);
        const SceneH5Stream in(file(name), kF);
        ASSERT_EQ(in.offsets(), whole.offsets);
        ASSERT_GT(whole.total_entities(), 3 * kRowsPerChunk) << "the file must hold several chunks";
        std::vector<int64_t> bounds = chunk_bounds(in.offsets(), kRowsPerChunk);
        // and ranges that are no chunks at all
        for (int64_t s : {int64_t{1}, int64_t{2}, int64_t{777}, in.num_scenes() - 1})
            bounds.push_back(s);
        std::sort(bounds.begin(), bounds.end());
        bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
        for (size_t c = 0; c + 1 < bounds.size(); ++c) {
            SCOPED_TRACE(bounds[c]);
            const SceneBatch part = in.read(bounds[c], bounds[c + 1]);
            const SceneBatch want = whole.slice(bounds[c], bounds[c + 1]);
            EXPECT_EQ(part.offsets, want.offsets);
            EXPECT_EQ(part.features, want.features);
            EXPECT_EQ(part.names, want.names);
            EXPECT_EQ(part.types, want.types);
            EXPECT_EQ(part.rel_offsets, want.rel_offsets);
            EXPECT_EQ(part.rel_norms, want.rel_norms);
            EXPECT_EQ(part.custom_edges, want.custom_edges);
            EXPECT_EQ(part.edge_offsets, want.edge_offsets);
            EXPECT_EQ(part.edges, want.edges);
            EXPECT_EQ(part.dist_offsets, want.dist_offsets);
            ASSERT_EQ(part.distance.size(), want.distance.size());
            for (size_t k = 0; k < part.distance.size(); ++k) {
                EXPECT_EQ(part.distance[k].i, want.distance[k].i);
                EXPECT_EQ(part.distance[k].j, want.distance[k].j);
                EXPECT_EQ(part.distance[k].target, want.distance[k].target);
            }
            EXPECT_EQ(part.angle_offsets, want.angle_offsets);
            EXPECT_EQ(part.angle.size(), want.angle.size());
            ASSERT_EQ(part.collision.size(), want.collision.size());
            for (size_t s = 0; s < part.collision.size(); ++s)
                EXPECT_TRUE(part.collision[s] == want.collision[s] ||
                            (std::isnan(part.collision[s]) && std::isnan(want.collision[s])));
            EXPECT_EQ(in.entity_names(in.offsets()[bounds[c]], in.offsets()[bounds[c + 1]]),
                      want.names);
        }
        if (std::string(name) == "batch.h5") {
            EXPECT_FALSE(whole.distance.empty());
            EXPECT_FALSE(whole.angle.empty());
        }
    }
}

// The streamed run (HDF5 out) against the whole-batch run (JSON out) and its writer.
// Ranks under mpirun open the input by its name; they compare identities to know they opened
// one file, not the old one and a new one renamed over it meanwhile.
TEST_F(StreamRun, IdentityTellsWhichFileWasOpened) {
    const SceneH5Stream a(file("batch.h5"), kF), again(file("batch.h5"), kF);
    EXPECT_EQ(a.identity(), again.identity());
    // A copy with the same bytes and the same modification time is still another file.
    ASSERT_EQ(
        run_shell("cp -p " + quote(file("batch.h5")) + " " + quote(file("copy.h5"))).exit_code, 0);
    EXPECT_NE(SceneH5Stream(file("copy.h5"), kF).identity(), a.identity());
    // Renamed over the path: whoever opens it now opens the other file.
    ASSERT_EQ(run_shell("cp " + quote(file("batch.h5")) + " " + quote(file("moved.h5")) +
                        " && mv " + quote(file("copy.h5")) + " " + quote(file("moved.h5")))
                  .exit_code,
              0);
    const SceneH5Stream before(file("batch.h5"), kF), after(file("moved.h5"), kF);
    EXPECT_NE(before.identity(), after.identity());
    fs::remove(file("moved.h5"));
}

TEST_F(StreamRun, StreamedOutputIsTheWholeBatchRunsFileByteForByte) {
    for (const char* name : {"batch.h5", "plain.h5"}) {
        SCOPED_TRACE(name);
        const std::string h5 = file(std::string("streamed_") + name);
        const std::string js = file(std::string("whole_") + name + ".json");
        auto a = run_gasm({"run", "--weights", weights_, "--input", file(name), "--output", h5});
        ASSERT_EQ(a.exit_code, 0) << a.err;
        auto b = run_gasm({"run", "--weights", weights_, "--input", file(name), "--output", js});
        ASSERT_EQ(b.exit_code, 0) << b.err;
        const json j = json::parse(read_file(js));
        const SceneBatch batch = read_scenes_h5(file(name), kF);
        const BatchResult r = results_from_json(j, batch.offsets, 3);
        RunFacts facts;
        facts.device = j["device"];
        facts.weights_path = j["weights"]["path"];
        facts.weights_digest = j["weights"]["content_sha256"];
        const std::string whole = file(std::string("whole_") + name);
        write_results_h5(whole, batch, r, facts);
        EXPECT_EQ(run_shell("cmp " + quote(whole) + " " + quote(h5)).exit_code, 0)
            << "the streamed output differs from the whole-batch writer's";
    }
}

TEST_F(StreamRun, AnErrorInTheLastChunkWritesNoOutput) {
    const std::string in = file("bad_last.h5"), out = file("bad_out.h5");
    const auto before = leftovers(dir_->path(), {});
    const SceneH5Stream stream(file("plain.h5"), kF);
    const std::string scene = "scene " + std::to_string(stream.num_scenes() - 1);
    ASSERT_GT(chunk_bounds(stream.offsets(), kRowsPerChunk).size(), 3u);
    auto r = run_gasm({"run", "--weights", weights_, "--input", in, "--output", out});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(in + ", " + scene + ", field 'features': non-finite"), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(leftovers(dir_->path(), before), std::vector<std::string>{});
    // A first start checks the whole input before it writes weights.
    const std::string fresh = file("fresh_w.h5");
    r = run_gasm(with({"run", "--weights", fresh, "--input", in, "--output", out}, kSmallModel));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(scene), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(fresh)) << "a bad input must not write weights";
}

// SIGTERM or SIGHUP while the chunks run (a batch system's stop, a closed terminal): the process
// ends by that signal and its temporary output goes with it. A signal ignored from the start
// (nohup) stays ignored: the run goes on to its output.
TEST_F(StreamRun, AStopSignalRemovesTheTemporaryOutput) {
    const std::string out = file("stopped.h5");
    const auto before = leftovers(dir_->path(), {});
    // The signal comes as soon as the temporary file is there, before the first chunk ends.
    auto signalled = [&](const std::string& sig, const std::string& ignored) {
        return run_shell("cd " + quote(dir_->path()) + " || exit 1; (trap '' " + ignored +
                         "; exec " + quote(GASM_EXE) + " run -q --weights " + quote(weights_) +
                         " --input batch.h5 --output stopped.h5) & p=$!; for i in $(seq 4000); " +
                         "do ls -A | grep -q '^\\.stopped\\.h5\\.tmp-' && break; sleep 0.005; " +
                         "done; kill -" + sig + " $p; wait $p; echo $?");
    };
    for (const auto& [sig, status] : {std::pair{"TERM", 143}, std::pair{"HUP", 129}}) {
        SCOPED_TRACE(sig);
        auto r = signalled(sig, "USR2");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, std::to_string(status) + "\n") << "ended by the signal: " << r.err;
        EXPECT_FALSE(fs::exists(out));
        EXPECT_EQ(leftovers(dir_->path(), before), std::vector<std::string>{});
    }
    auto nohup = signalled("HUP", "HUP");
    EXPECT_EQ(nohup.out, "0\n") << nohup.err;
    EXPECT_TRUE(fs::exists(out));
    fs::remove(out);
}

// A disk that fills while the output is laid out: exit 1 with the reason, nothing left, and no
// crash in HDF5 (whose own file driver crashes at exit after a failed write).
TEST_F(StreamRun, AFullDiskLeavesNoOutputAndNoCrash) {
    const std::string out = file("full_disk.h5");
    const auto before = leftovers(dir_->path(), {});
    const std::string cmd = "trap '' XFSZ; ulimit -f 512; exec " + quote(GASM_EXE) +
                            " run -q --weights " + quote(weights_) + " --input " +
                            quote(file("batch.h5")) + " --output " + quote(out);
    auto r = run_shell(cmd);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot write " + out), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(leftovers(dir_->path(), before), std::vector<std::string>{});
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

#ifdef GASM_WITH_MPI
constexpr const char* kMpiexec = GASM_MPIEXEC;
#else
constexpr const char* kMpiexec = "";
#endif

class StreamMpi : public StreamRun {
  protected:
    void SetUp() override {
        StreamRun::SetUp();
        if (IsSkipped()) return;
#ifndef GASM_WITH_MPI
        GTEST_SKIP() << "this build has no MPI (GASM_MPI=OFF, or no MPI found)";
#endif
        if (run_shell(std::string("test -x ") + quote(kMpiexec)).exit_code != 0)
            GTEST_SKIP() << "no mpirun at '" << kMpiexec << "'";
    }
    // gasm_gpu under mpirun with `ranks` processes; a hang ends in exit 124 after 300 s. Under
    // AddressSanitizer the ranks do not check for leaks: Open MPI 4.1 leaks in MPI_Init and
    // MPI_Finalize, from components it unloads, whose stacks no suppression can name (the code
    // the ranks run is leak-checked by the single-process cases).
    static testing::CommandResult mpirun(int ranks, const std::vector<std::string>& args) {
        const std::string no_leak_check =
            kAddressSanitizer ? "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
                              : "";
        std::string cmd = "env -u GASM_FORCE_REGEN -u GASM_WEIGHTS -u GASM_DEVICE " +
                          no_leak_check + "timeout 300 " + quote(kMpiexec) +
                          " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) +
                          " " + quote(GASM_EXE);
        for (const auto& a : args) cmd += " " + quote(a);
        return run_shell(cmd);
    }
};

TEST_F(StreamMpi, TwoAndThreeRanksWriteTheSingleProcessFile) {
    const std::string single = file("mpi_single.h5");
    auto r =
        run_gasm({"run", "--weights", weights_, "--input", file("batch.h5"), "--output", single});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int ranks : {2, 3}) {
        SCOPED_TRACE(ranks);
        const std::string out = file("mpi_" + std::to_string(ranks) + ".h5");
        r = mpirun(ranks,
                   {"run", "--weights", weights_, "--input", file("batch.h5"), "--output", out});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.err.find("over " + std::to_string(ranks) + " ranks"), std::string::npos)
            << r.err;
        EXPECT_EQ(run_shell("cmp " + quote(single) + " " + quote(out)).exit_code, 0)
            << "the MPI output differs from the single-process output";
        EXPECT_EQ(r.err.find("[info] rank "), std::string::npos)
            << "only rank 0 logs at info level:\n"
            << r.err;
    }
}

TEST_F(StreamMpi, ABadInputStopsEveryRankWithExit4AndNoOutput) {
    const std::string in = file("bad_last.h5"), out = file("mpi_bad.h5");
    const auto before = leftovers(dir_->path(), {});
    for (int ranks : {2, 3}) {
        SCOPED_TRACE(ranks);
        auto r =
            mpirun(ranks, {"run", "-q", "--weights", weights_, "--input", in, "--output", out});
        EXPECT_EQ(r.exit_code, 4) << r.err;  // 124: the job hung
        EXPECT_NE(r.err.find(in + ", scene "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("non-finite"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(out));
        EXPECT_EQ(leftovers(dir_->path(), before), std::vector<std::string>{});
    }
    // A structural fault every rank finds: one message, exit 4.
    auto r =
        mpirun(2, {"run", "-q", "--weights", weights_, "--input", file("w.h5"), "--output", out});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(StreamMpi, AFirstStartGeneratesTheWeightsOnce) {
    const std::string w = file("mpi_fresh_w.h5"), out = file("mpi_fresh.h5");
    auto r = mpirun(3, with({"run", "--weights", w, "--input", file("plain.h5"), "--output", out},
                            kSmallModel));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t generated = 0;
    for (size_t at = 0;
         (at = r.err.find("Generated initial GASM weights", at)) != std::string::npos; ++at)
        ++generated;
    EXPECT_EQ(generated, 1u) << r.err;
    auto v = run_gasm({"weights", "verify", "--weights", w});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    for (const auto& e : fs::directory_iterator(dir_->path()))
        EXPECT_EQ(e.path().filename().string().find(".mpi_fresh_w.h5.tmp"), std::string::npos)
            << "a temporary weight file was left: " << e.path();
    // The same weights as a single process makes, so the same output.
    const std::string single = file("mpi_fresh_single.h5");
    r = run_gasm({"run", "--weights", w, "--input", file("plain.h5"), "--output", single});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run_shell("cmp " + quote(single) + " " + quote(out)).exit_code, 0);
}

TEST_F(StreamMpi, WeightsThatCannotBeSavedAreSentToTheOtherRanks) {
    const std::string blocker = file("not_a_folder");
    std::ofstream(blocker) << "x";
    const std::string w = blocker + "/w.h5", out = file("mpi_unsaved.h5");
    auto r = mpirun(2, with({"run", "--weights", w, "--input", file("plain.h5"), "--output", out},
                            kSmallModel));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("GASM weights not persisted"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sending them to the other 1 rank"), std::string::npos) << r.err;
    const std::string single = file("mpi_unsaved_single.h5");
    r = run_gasm(with({"run", "--weights", w, "--input", file("plain.h5"), "--output", single},
                      kSmallModel));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run_shell("cmp " + quote(single) + " " + quote(out)).exit_code, 0);
}

TEST_F(StreamMpi, OnlyHdf5InAndOutRunUnderMpirun) {
    auto r = mpirun(2, {"run", "--weights", weights_, "--input", file("plain.h5")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--output FILE.h5"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gasm
