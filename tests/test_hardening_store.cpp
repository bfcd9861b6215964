// SPDX-License-Identifier: MIT
// The weight store under stress (issue "Nothing lost, nothing let in"): many processes starting
// at once on one path, loaders racing a regenerator, writers killed at random moments, stale
// temporary files, file systems that refuse flock (an LD_PRELOAD shim built here makes flock
// fail for the engine and for HDF5 alike), and places where the weights cannot be saved (under
// a regular file, a file-size limit, a full tmpfs where mounting one is allowed). In every case
// the path ends holding nothing or one complete, valid file, and no process runs on weights
// other than the ones that file holds or would hold.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_support.hpp"

extern char** environ;

namespace gasm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::run_gasm;
using testing::run_shell;
using testing::sha256_file;
using testing::TempDir;

const std::vector<std::string> kSmall = {"--feature-dim",    "48", "--hidden-dim", "24",
                                         "--max-iterations", "2"};

using testing::with;

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Starts gasm_gpu ARGS without waiting, stdout and stderr to files. The environment is this
// process's without the GASM_* variables and HDF5_USE_FILE_LOCKING, with `extra` (NAME=VALUE)
// added or replacing what was there; ASAN_OPTIONS in `extra` is appended to the inherited one.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra,
            const std::string& out, const std::string& err) {
    auto name_of = [](const std::string& v) { return v.substr(0, v.find('=')); };
    std::vector<std::string> env, more = extra;
    for (char** e = environ; *e; ++e) {
        std::string v = *e;
        if (v.rfind("GASM_", 0) == 0 || v.rfind("HDF5_USE_FILE_LOCKING=", 0) == 0) continue;
        bool replaced = false;
        for (auto& x : more) {
            if (name_of(x) != name_of(v)) continue;
            if (name_of(v) == "ASAN_OPTIONS") x = v + ":" + x.substr(x.find('=') + 1);
            replaced = true;
        }
        if (!replaced) env.push_back(v);
    }
    env.insert(env.end(), more.begin(), more.end());
    std::vector<std::string> argv = {GASM_EXE};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> argp, envp;
    for (auto& a : argv) argp.push_back(a.data());
    for (auto& e : env) envp.push_back(e.data());
    argp.push_back(nullptr);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, GASM_EXE, &fa, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

// The exit status, or 128 + signal.
int wait_exit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Outcome {
    int exit_code = -1;
    std::string out, err;
};

Outcome run_spawned(const std::vector<std::string>& args, const std::vector<std::string>& extra,
                    const TempDir& scratch, const std::string& tag) {
    const std::string out = scratch.file(tag + ".out"), err = scratch.file(tag + ".err");
    Outcome o;
    o.exit_code = wait_exit(spawn(args, extra, out, err));
    o.out = read_file(out);
    o.err = read_file(err);
    return o;
}

// The weights digest a `run` printed, or "" when the output is not the JSON document.
std::string run_digest(const std::string& out) {
    try {
        return json::parse(out)["weights"]["content_sha256"].get<std::string>();
    } catch (const std::exception&) {
        return "";
    }
}

std::string file_digest(const std::string& weights) {
    auto st = run_gasm({"weights", "status", "--json", "--weights", weights});
    return json::parse(st.out).value("content_sha256", "");
}

// Everything in `folder` except `keep` and `keep`.lock.
std::set<std::string> others(const std::string& folder, const std::string& keep) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(folder)) {
        const std::string n = e.path().filename().string();
        if (n != keep && n != keep + ".lock") out.insert(n);
    }
    return out;
}

std::vector<std::string> temporaries(const std::string& folder, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(folder)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("." + name + ".tmp-", 0) == 0) out.push_back(n);
    }
    return out;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// An LD_PRELOAD library whose flock() always fails with FLOCK_SHIM_ERRNO (default ENOLCK) and
// appends a line to FLOCK_SHIM_LOG for each call, built once per test process.
std::string flock_shim() {
    static std::string path;
    static std::once_flag once;
    std::call_once(once, [] {
        static TempDir dir;
        const std::string src = dir.file("flock_shim.cpp");
        std::ofstream(src) << R"(
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
extern "C" int flock(int, int) {
    if (const char* log = std::getenv("FLOCK_SHIM_LOG")) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            (void)!write(fd, "flock\n", 6);
            close(fd);
        }
    }
    const char* e = std::getenv("FLOCK_SHIM_ERRNO");
    errno = e ? std::atoi(e) : ENOLCK;
    return -1;
}
)";
        for (const char* cxx : {"c++", "g++", "clang++"}) {
            const std::string so = dir.file(std::string("flock_shim_") + cxx + ".so");
            auto r = run_shell(std::string(cxx) + " -shared -fPIC -O1 -o " + quote(so) + " " +
                               quote(src));
            if (r.exit_code == 0) {
                path = so;
                return;
            }
        }
    });
    return path;
}

// Environment that makes every flock fail; ASan (sanitizer builds) accepts the preload.
std::vector<std::string> no_locks(const std::string& shim, int err = ENOLCK,
                                  const std::string& log = "") {
    std::vector<std::string> env = {"LD_PRELOAD=" + shim, "FLOCK_SHIM_ERRNO=" + std::to_string(err),
                                    "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"};
    if (!log.empty()) env.push_back("FLOCK_SHIM_LOG=" + log);
    return env;
}

#define REQUIRE_SHIM(shim)                                                \
    if ((shim).empty())                                                   \
    GTEST_SKIP() << "no C++ compiler to build the flock shim (c++, g++, " \
                    "clang++)"

// --- Many processes at once ---------------------------------------------------------------

void first_start_stampede(int processes, const std::vector<std::string>& env, bool locks) {
    TempDir dir, scratch;
    const std::string w = dir.file("w.h5");
    std::vector<pid_t> pids;
    for (int i = 0; i < processes; ++i)
        pids.push_back(spawn(with({"run", "--weights", w}, kSmall), env,
                             scratch.file(std::to_string(i) + ".out"),
                             scratch.file(std::to_string(i) + ".err")));
    std::set<std::string> digests;
    size_t generated = 0;
    for (int i = 0; i < processes; ++i) {
        ASSERT_GT(pids[i], 0);
        const int rc = wait_exit(pids[i]);
        const std::string err = read_file(scratch.file(std::to_string(i) + ".err"));
        EXPECT_EQ(rc, 0) << "process " << i << ": " << err;
        const std::string d = run_digest(read_file(scratch.file(std::to_string(i) + ".out")));
        EXPECT_EQ(d.size(), 64u) << "process " << i << " printed no digest";
        digests.insert(d);
        generated += count(err, "Generated initial GASM weights and saved to " + w);
        if (!locks) EXPECT_NE(err.find("relying on atomic renames"), std::string::npos) << err;
    }
    EXPECT_EQ(digests.size(), 1u) << "every process must run on the same weights";
    auto v = run_gasm({"weights", "verify", "--weights", w});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(file_digest(w), *digests.begin());
    EXPECT_EQ(others(dir.path(), "w.h5"), std::set<std::string>{}) << "temporary files left";
    if (locks) EXPECT_EQ(generated, 1u) << "with locks, one process generates and the rest load";
    if (!locks) EXPECT_GE(generated, 1u);
}

TEST(HardeningStore, TwentyProcessesOnAFreshPathEndWithOneFileAndOneDigest) {
    first_start_stampede(20, {}, /*locks=*/true);
}

TEST(HardeningStore, SixteenProcessesWithoutLocksEndWithOneFileAndOneDigest) {
    const std::string shim = flock_shim();
    REQUIRE_SHIM(shim);
    first_start_stampede(16, no_locks(shim), /*locks=*/false);
}

// A regenerator alternates seeds 1 and 2 with `weights generate --force` while loaders run in a
// loop; every load must succeed on one of the two complete files.
void loaders_race_regenerator(const std::vector<std::string>& env) {
    TempDir dir, scratch;
    const std::string w = dir.file("w.h5");
    std::string digest_of_seed[3];
    for (int seed : {1, 2}) {
        const std::string side = dir.file("seed" + std::to_string(seed) + ".h5");
        ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", side, "--seed",
                                 std::to_string(seed)},
                                kSmall))
                      .exit_code,
                  0);
        digest_of_seed[seed] = file_digest(side);
        fs::remove(side);
        fs::remove(side + ".lock");
    }
    ASSERT_NE(digest_of_seed[1], digest_of_seed[2]);
    ASSERT_EQ(
        run_gasm(with({"weights", "generate", "--weights", w, "--seed", "1"}, kSmall)).exit_code,
        0);
    constexpr int kRounds = 6, kLoaders = 3;
    std::atomic<bool> done{false};
    std::mutex mu;
    std::vector<Outcome> loads;
    std::vector<std::thread> loaders;
    for (int l = 0; l < kLoaders; ++l) {
        loaders.emplace_back([&, l] {
            for (int i = 0; !done; ++i) {
                Outcome o = run_spawned({"run", "--weights", w}, env, scratch,
                                        "load" + std::to_string(l) + "_" + std::to_string(i));
                std::lock_guard lock(mu);
                loads.push_back(std::move(o));
            }
        });
    }
    for (int r = 0; r < kRounds; ++r) {
        const std::string seed = r % 2 == 0 ? "2" : "1";
        Outcome g = run_spawned(
            with({"weights", "generate", "--weights", w, "--seed", seed, "--force"}, kSmall), env,
            scratch, "regen" + std::to_string(r));
        EXPECT_EQ(g.exit_code, 0) << g.err;
    }
    done = true;
    for (auto& t : loaders) t.join();
    size_t seen[3] = {0, 0, 0};
    for (const auto& o : loads) {
        EXPECT_EQ(o.exit_code, 0) << o.err;
        const std::string d = run_digest(o.out);
        const bool known = d == digest_of_seed[1] || d == digest_of_seed[2];
        EXPECT_TRUE(known) << "a loader ran on weights of neither file: '" << d << "'\n" << o.err;
        seen[d == digest_of_seed[1] ? 1 : d == digest_of_seed[2] ? 2 : 0]++;
    }
    EXPECT_GE(loads.size(), static_cast<size_t>(kLoaders));
    std::cout << "[ loads    ] " << loads.size() << " loads during " << kRounds
              << " regenerations: " << seen[1] << " of seed 1, " << seen[2] << " of seed 2\n";
    EXPECT_EQ(run_gasm({"weights", "verify", "--weights", w}).exit_code, 0);
    EXPECT_EQ(others(dir.path(), "w.h5"), std::set<std::string>{});
}

TEST(HardeningStore, LoadersRacingARegeneratorSeeTheOldOrTheNewFile) {
    loaders_race_regenerator({});
}

TEST(HardeningStore, LoadersRacingARegeneratorWithoutLocksSeeTheOldOrTheNewFile) {
    const std::string shim = flock_shim();
    REQUIRE_SHIM(shim);
    loaders_race_regenerator(no_locks(shim));
}

// --- Crashes ------------------------------------------------------------------------------

TEST(HardeningStore, WritersKilledAtRandomMomentsLeaveNothingOrACompleteFile) {
    TempDir dir, scratch;
    // Digests and bytes of the files a writer may leave: default seed, seed 1 and seed 2.
    const std::string master = dir.file("master.h5");
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", master}, kSmall)).exit_code, 0);
    const double save_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string d42 = file_digest(master);
    std::string d_seed[3];
    for (int s : {1, 2}) {
        const std::string side = dir.file("s" + std::to_string(s) + ".h5");
        ASSERT_EQ(
            run_gasm(with({"weights", "generate", "--weights", side, "--seed", std::to_string(s)},
                          kSmall))
                .exit_code,
            0);
        d_seed[s] = file_digest(side);
    }
    const std::string old_bytes = read_file(master);
    std::mt19937 rng(20240603);
    std::uniform_real_distribution<double> delay(0.0, 1.3 * save_seconds);
    constexpr int kKills = 16;
    int left_nothing = 0, left_old = 0, left_new = 0, left_temp = 0;
    for (int i = 0; i < kKills; ++i) {
        const int scenario = i % 3;  // 0: weights generate, 1: replace, 2: first-start run
        const std::string folder = dir.file("k" + std::to_string(i));
        fs::create_directory(folder);
        const std::string w = folder + "/w.h5";
        std::string expect_new = d42, expect_old;
        std::vector<std::string> args;
        if (scenario == 0) {
            args = with({"weights", "generate", "--weights", w}, kSmall);
        } else if (scenario == 1) {
            std::ofstream(w, std::ios::binary) << old_bytes;
            expect_old = d42;
            const int seed = 1 + i % 2;
            expect_new = d_seed[seed];
            args = with(
                {"weights", "generate", "--weights", w, "--force", "--seed", std::to_string(seed)},
                kSmall);
        } else {
            args = with({"run", "--weights", w}, kSmall);
        }
        // Even kills: a random moment of the whole run. Odd kills: while the temporary file is
        // being written (a random few milliseconds after it appears), the moment that matters.
        const bool in_write = i % 2 == 1;
        const double wait_s = in_write ? delay(rng) / save_seconds * 0.004 : delay(rng);
        SCOPED_TRACE("kill " + std::to_string(i) + " scenario " + std::to_string(scenario) +
                     (in_write ? " in the write, " : " ") + "after " + std::to_string(wait_s) +
                     " s");
        pid_t pid = spawn(args, {}, scratch.file("k.out"), scratch.file("k.err"));
        ASSERT_GT(pid, 0);
        bool reaped = false;
        if (in_write) {
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (temporaries(folder, "w.h5").empty() && !reaped &&
                   std::chrono::steady_clock::now() < give_up) {
                reaped = ::waitpid(pid, nullptr, WNOHANG) == pid;
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
        if (!reaped) {
            std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
            ::kill(pid, SIGKILL);
            wait_exit(pid);
        }

        const auto temps = temporaries(folder, "w.h5");
        left_temp += !temps.empty();
        if (fs::exists(w)) {
            auto v = run_gasm({"weights", "verify", "--weights", w});
            EXPECT_EQ(v.exit_code, 0) << "a killed writer left a damaged file: " << v.err;
            const std::string d = file_digest(w);
            EXPECT_TRUE(d == expect_new || d == expect_old) << d;
            (d == expect_old ? left_old : left_new)++;
        } else {
            EXPECT_NE(scenario, 1) << "the old file must never disappear";
            ++left_nothing;
        }
        // The next start runs on the complete file (or generates), never on a temporary one,
        // and removes what the killed writer left.
        const std::string before = fs::exists(w) ? sha256_file(w) : "";
        auto next = run_gasm(with({"run", "--weights", w}, kSmall));
        EXPECT_EQ(next.exit_code, 0) << next.err;
        const std::string d = run_digest(next.out);
        EXPECT_TRUE(d == expect_new || d == expect_old) << d;
        if (!before.empty()) EXPECT_EQ(sha256_file(w), before) << "a load must not rewrite";
        EXPECT_TRUE(temporaries(folder, "w.h5").empty()) << "left after the next start";
        EXPECT_EQ(others(folder, "w.h5"), std::set<std::string>{});
    }
    std::cout << "[ kills    ] " << kKills << " kills (save takes " << save_seconds
              << " s): " << left_nothing << " left nothing, " << left_old << " the old file, "
              << left_new << " the new file; " << left_temp << " left a temporary file\n";
}

// Makes a PID that is certainly not running: a child that has exited and been reaped.
pid_t dead_pid() {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, nullptr, 0);
    return pid;
}

void make_old(const std::string& path) {
    struct utimbuf t {};
    t.actime = t.modtime = std::time(nullptr) - 2 * 3600;
    utime(path.c_str(), &t);
}

TEST(HardeningStore, StaleTemporariesAreRemovedAndLiveOrForeignOnesKept) {
    TempDir dir, scratch;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string good = read_file(w);
    const std::string digest = file_digest(w);
    const std::string dead = std::to_string(dead_pid());
    const std::string live = std::to_string(::getpid());  // this test process runs on
    // A half-written file: what a killed writer leaves.
    const std::string partial = good.substr(0, good.size() / 2);
    auto put = [&](const std::string& name) {
        std::ofstream(dir.file(name), std::ios::binary) << partial;
        return dir.file(name);
    };
    const std::string stale = put(".w.h5.tmp-" + dead + "-0");
    const std::string live_fresh = put(".w.h5.tmp-" + live + "-0");
    const std::string live_old = put(".w.h5.tmp-" + live + "-1");
    make_old(live_old);
    const std::vector<std::string> kept = {put(".w.h5.tmp-foo"),
                                           put(".w.h5.tmp-" + dead),
                                           put(".w.h5.tmp-" + dead + "-0x"),
                                           put(".w.h5.tmp--1-0"),
                                           put(".w.h5.tmp-0-0"),
                                           put(".other.h5.tmp-" + dead + "-0"),
                                           put("w.h5.tmp-" + dead + "-0"),
                                           put(".w.h5.tmp-" + dead + "-1.keep")};
    fs::create_directory(dir.file(".w.h5.tmp-" + dead + "-2"));
    const std::string target = put("target_of_link");
    fs::create_symlink(target, dir.file(".w.h5.tmp-" + dead + "-3"));

    auto r = run_gasm({"run", "--weights", w});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run_digest(r.out), digest) << "a temporary file must never be taken for weights";
    EXPECT_EQ(read_file(w), good);
    EXPECT_FALSE(fs::exists(stale)) << "the killed writer's file must go";
    EXPECT_NE(r.err.find("Removed a temporary file left by an interrupted write: "),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(fs::exists(live_fresh)) << "a live process's fresh file must stay";
    EXPECT_FALSE(fs::exists(live_old)) << "an hour-old file goes whoever's PID it names";
    for (const auto& k : kept) EXPECT_TRUE(fs::exists(k)) << k << " is not a temporary of ours";
    EXPECT_TRUE(fs::is_directory(dir.file(".w.h5.tmp-" + dead + "-2")));
    EXPECT_TRUE(fs::is_symlink(dir.file(".w.h5.tmp-" + dead + "-3")));
    EXPECT_EQ(read_file(target), partial);

    // Without locks a fresh file of a dead PID may be another machine's live write: kept until
    // it is an hour old.
    const std::string shim = flock_shim();
    if (shim.empty()) return;
    const std::string fresh = put(".w.h5.tmp-" + dead + "-5");
    const std::string old = put(".w.h5.tmp-" + dead + "-6");
    make_old(old);
    Outcome n = run_spawned({"run", "--weights", w}, no_locks(shim), scratch, "nolock");
    ASSERT_EQ(n.exit_code, 0) << n.err;
    EXPECT_TRUE(fs::exists(fresh));
    EXPECT_FALSE(fs::exists(old));
    EXPECT_EQ(read_file(w), good);
}

// --- File systems without locks -------------------------------------------------------------

// Names a writer will pick for its temporary file, taken beforehand by links and a hard link
// (what another user of a shared folder could plant, the PID being easy to guess): the writer
// must pass over them, never writing through them or removing them. The shell's PID is the
// writer's, since gasm_gpu is exec'd in its place.
TEST(HardeningStore, NamesTakenAtTheTemporaryNameAreNeverWrittenThrough) {
    TempDir dir;
    const std::string w = dir.file("w.h5");
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string other = dir.file("other.txt");
    std::ofstream(other) << "precious\n";
    const std::string plant =
        "cd " + quote(dir.path()) +
        " && for n in 0 1 2 3 4 5 6 7; do "
        "ln -s other.txt .w.h5.tmp-$$-$n; ln -s w.h5 .out.json.tmp-$$-$n; done; "
        "ln other.txt .w.h5.tmp-$$-8; ln -s w.h5 .w.h5.tmp-$$-9; exec ";
    auto regen = run_shell(plant + quote(GASM_EXE) + " run --force-regen --seed 7 --output " +
                           "out.json --weights w.h5 --text 'the box is on the table' " +
                           "--feature-dim 48 --hidden-dim 24 --max-iterations 2");
    ASSERT_EQ(regen.exit_code, 0) << regen.err;
    EXPECT_EQ(read_file(other), "precious\n") << "written through a planted name";
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(w))) << "w.h5 must stay a file";
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir.file("out.json"))));
    auto verify = run_gasm({"weights", "verify", "--weights", w});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    auto status = run_gasm({"weights", "status", "--json", "--weights", w});
    EXPECT_EQ(json::parse(status.out)["seed"], 7) << "the regenerated weights are in w.h5";
    size_t planted = 0;
    for (const auto& e : fs::directory_iterator(dir.path()))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) {
            ++planted;
            EXPECT_TRUE(fs::is_symlink(e.symlink_status()) ||
                        e.path().filename().string().ends_with("-8"))
                << e.path() << " was not planted by the test";
        }
    EXPECT_EQ(planted, 18u) << "the planted names must all stay, and nothing else be left";
}

TEST(HardeningStore, FileSystemsRefusingFlockStillWork) {
    const std::string shim = flock_shim();
    REQUIRE_SHIM(shim);
    for (int err : {ENOLCK, ENOSYS, EOPNOTSUPP, EIO}) {
        SCOPED_TRACE("flock fails with errno " + std::to_string(err));
        TempDir dir, scratch;
        const std::string w = dir.file("w.h5"), log = scratch.file("flock.log");
        const auto env = no_locks(shim, err, log);
        Outcome first = run_spawned(with({"run", "--weights", w}, kSmall), env, scratch, "1");
        ASSERT_EQ(first.exit_code, 0) << first.err;
        EXPECT_NE(first.err.find("refuses locks on " + w + ".lock"), std::string::npos)
            << first.err;
        EXPECT_NE(first.err.find("relying on atomic renames"), std::string::npos);
        EXPECT_NE(first.err.find("Generated initial GASM weights and saved to " + w),
                  std::string::npos);
        // The engine asked twice (shared, then exclusive); every other call was HDF5's own
        // file locking (create, read back), which was refused too and opened without it.
        EXPECT_GT(count(read_file(log), "flock"), 2u) << "HDF5's locking was not exercised";
        Outcome again = run_spawned({"run", "--weights", w}, env, scratch, "2");
        ASSERT_EQ(again.exit_code, 0) << again.err;
        EXPECT_NE(again.err.find("Loaded GASM weights from " + w), std::string::npos);
        EXPECT_EQ(run_digest(again.out), run_digest(first.out));
        EXPECT_EQ(run_spawned({"weights", "verify", "--weights", w}, env, scratch, "3").exit_code,
                  0);
        Outcome regen = run_spawned({"run", "--weights", w, "--force-regen"}, env, scratch, "4");
        EXPECT_EQ(regen.exit_code, 0) << regen.err;
        EXPECT_EQ(others(dir.path(), "w.h5"), std::set<std::string>{});
        // HDF5_USE_FILE_LOCKING=FALSE also works (HDF5 then never calls flock).
        auto off = env;
        off.push_back("HDF5_USE_FILE_LOCKING=FALSE");
        EXPECT_EQ(run_spawned({"run", "--weights", w}, off, scratch, "5").exit_code, 0);
    }
}

// --- Places the weights cannot be saved --------------------------------------------------------

// Runs gasm_gpu under a file-size limit of `kib` KiB (SIGXFSZ ignored, so writes fail with
// EFBIG as on a full disk).
testing::CommandResult run_size_limited(const std::vector<std::string>& args, int kib) {
    std::string cmd = "trap '' XFSZ; ulimit -f " + std::to_string(kib) +
                      "; exec env -u GASM_FORCE_REGEN -u GASM_WEIGHTS -u GASM_DEVICE " +
                      quote(GASM_EXE);
    for (const auto& a : args) cmd += " " + quote(a);
    return run_shell(cmd);
}

void expect_unsaved_run(const testing::CommandResult& r, const std::string& w,
                        const std::string& reference_out) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("GASM weights not persisted to " + w + ": "), std::string::npos) << r.err;
    EXPECT_EQ(json::parse(r.out)["scenes"], json::parse(reference_out)["scenes"])
        << "an unsaved run must give the results a saved one gives";
    EXPECT_EQ(run_digest(r.out), run_digest(reference_out));
}

TEST(HardeningStore, UnsaveablePathsWarnAndGiveIdenticalResults) {
    TempDir dir;
    const std::string ref_w = dir.file("reference.h5");
    auto reference = run_gasm(with({"run", "--weights", ref_w}, kSmall));
    ASSERT_EQ(reference.exit_code, 0) << reference.err;
    auto reference5 =
        run_gasm(with({"run", "--weights", dir.file("ref5.h5"), "--seed", "5"}, kSmall));
    ASSERT_EQ(reference5.exit_code, 0);

    // Under a regular file: the folder can never exist.
    const std::string blocker = dir.file("plain");
    std::ofstream(blocker) << "x";
    expect_unsaved_run(run_gasm(with({"run", "--weights", blocker + "/w.h5"}, kSmall)),
                       blocker + "/w.h5", reference.out);

    // A file-size limit: the temporary file cannot be completed; nothing appears at the path.
    TempDir limited;
    const std::string w = limited.file("w.h5");
    expect_unsaved_run(run_size_limited(with({"run", "--weights", w}, kSmall), 16), w,
                       reference.out);
    EXPECT_FALSE(fs::exists(w));
    EXPECT_EQ(others(limited.path(), "w.h5"), std::set<std::string>{});

    // Replacing under the limit: the old file stays whole, byte for byte.
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string before = sha256_file(w);
    expect_unsaved_run(
        run_size_limited(with({"run", "--weights", w, "--force-regen", "--seed", "5"}, kSmall), 16),
        w, reference5.out);
    EXPECT_EQ(sha256_file(w), before);
    EXPECT_EQ(others(limited.path(), "w.h5"), std::set<std::string>{});
    auto gen = run_size_limited(
        with({"weights", "generate", "--weights", w, "--force", "--seed", "5"}, kSmall), 16);
    EXPECT_EQ(gen.exit_code, 1) << "weights generate exists to save: failing to is an error";
    EXPECT_NE(gen.err.find("cannot save " + w), std::string::npos) << gen.err;
    EXPECT_EQ(sha256_file(w), before);
}

// Mounts a tmpfs of `size` at a fresh folder where this process may (root with CAP_SYS_ADMIN).
class SmallTmpfs {
  public:
    explicit SmallTmpfs(const std::string& size) {
        auto r = run_shell("mount -t tmpfs -o size=" + size + " tmpfs " + quote(dir_.path()));
        mounted_ = r.exit_code == 0;
        why_ = r.err;
    }
    ~SmallTmpfs() {
        if (mounted_)
            run_shell("umount " + quote(dir_.path()) + " || umount -l " + quote(dir_.path()));
    }
    bool mounted() const { return mounted_; }
    const std::string& why() const { return why_; }
    std::string file(const std::string& n) const { return dir_.file(n); }
    const std::string& path() const { return dir_.path(); }

  private:
    TempDir dir_;
    bool mounted_ = false;
    std::string why_;
};

TEST(HardeningStore, FullDiskWarnsAndNeverTruncatesTheOldFile) {
    SmallTmpfs fs_small("192k");
    if (!fs_small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << fs_small.why();
    TempDir ref;
    auto reference = run_gasm(with({"run", "--weights", ref.file("r.h5")}, kSmall));
    auto reference5 =
        run_gasm(with({"run", "--weights", ref.file("r5.h5"), "--seed", "5"}, kSmall));
    const std::string w = fs_small.file("w.h5");
    // Fill the disk: the first start cannot save.
    run_shell("dd if=/dev/zero of=" + quote(fs_small.file("filler")) + " bs=4k 2>/dev/null");
    expect_unsaved_run(run_gasm(with({"run", "--weights", w}, kSmall)), w, reference.out);
    EXPECT_FALSE(fs::exists(w));
    fs::remove(fs_small.file("filler"));
    EXPECT_EQ(others(fs_small.path(), "w.h5"), std::set<std::string>{});
    // Room for one file but not two: replacing fails and keeps the old file whole.
    ASSERT_EQ(run_gasm(with({"weights", "generate", "--weights", w}, kSmall)).exit_code, 0);
    const std::string before = sha256_file(w);
    expect_unsaved_run(
        run_gasm(with({"run", "--weights", w, "--force-regen", "--seed", "5"}, kSmall)), w,
        reference5.out);
    EXPECT_EQ(sha256_file(w), before);
    EXPECT_EQ(run_gasm({"weights", "verify", "--weights", w}).exit_code, 0);
    EXPECT_EQ(others(fs_small.path(), "w.h5"), std::set<std::string>{});
}

TEST(HardeningStore, ThingsThatAreNotWeightFilesAreNeverReplaced) {
    TempDir dir;
    // A folder at the path: refused at load, kept at regeneration (with the warning).
    const std::string folder = dir.file("folder.h5");
    fs::create_directory(folder);
    auto load = run_gasm(with({"run", "--weights", folder}, kSmall));
    EXPECT_EQ(load.exit_code, 3) << load.err;
    auto regen = run_gasm(with({"run", "--weights", folder, "--force-regen"}, kSmall));
    EXPECT_EQ(regen.exit_code, 0) << regen.err;
    EXPECT_NE(regen.err.find("GASM weights not persisted to " + folder), std::string::npos);
    EXPECT_TRUE(fs::is_directory(folder));
    // A FIFO: never opened for reading (that would block), never replaced.
    const std::string fifo = dir.file("fifo.h5");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    auto fifo_load = run_shell("timeout 30 " + quote(GASM_EXE) + " run --weights " + quote(fifo));
    EXPECT_EQ(fifo_load.exit_code, 3) << fifo_load.err;
    auto fifo_status =
        run_shell("timeout 30 " + quote(GASM_EXE) + " weights status --weights " + quote(fifo));
    EXPECT_EQ(fifo_status.exit_code, 0) << fifo_status.err;
    auto fifo_regen = run_shell("timeout 30 " + quote(GASM_EXE) + " run --force-regen " +
                                "--feature-dim 48 --hidden-dim 24 --max-iterations 2 " +
                                "--weights " + quote(fifo));
    EXPECT_EQ(fifo_regen.exit_code, 0) << fifo_regen.err;
    EXPECT_TRUE(fs::is_fifo(fifo));
    // Neither is read or replaced, so neither gets a lock file beside it (before, a refused
    // `--weights /dev/null` left /dev/null.lock).
    EXPECT_FALSE(fs::exists(folder + ".lock"));
    EXPECT_FALSE(fs::exists(fifo + ".lock"));
    // A link to nothing (an unmounted project folder, say): an error, the link stays.
    const std::string link = dir.file("link.h5");
    fs::create_symlink(dir.file("missing/w.h5"), link);
    auto dangling = run_gasm(with({"run", "--weights", link}, kSmall));
    EXPECT_EQ(dangling.exit_code, 3) << dangling.err;
    EXPECT_NE(dangling.err.find(link), std::string::npos);
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_FALSE(fs::exists(dir.file("missing")));
}

}  // namespace
}  // namespace gasm
