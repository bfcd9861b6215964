// SPDX-License-Identifier: MIT
// The startup lifecycle of the weight file and its atomic, locked replacement.
//
// Locking protocol: readers hold a shared flock on PATH.lock while they read; a process that
// must generate upgrades to an exclusive lock, then looks again (another process may have
// written the file meanwhile) before it generates. Writers write PATH's folder/.NAME.tmp-PID-N,
// fsync it, rename it over PATH and fsync the folder, so a reader sees the old complete file or
// the new complete file. Where locks are refused, the renames alone keep files whole, and
// identical content makes racing writers harmless.
//
// Temporary files a killed writer left behind are removed by the next process that holds a
// lock on PATH.lock (no lock-respecting writer can be writing then) when their PID no longer
// runs on this machine, and by any process once they are older than an hour (the one test
// that still holds on a file system without locks, or for a writer on another machine).
#include "io/weight_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "host/env.hpp"
#include "host/errors.hpp"
#include "host/generate.hpp"
#include "io/atomic_file.hpp"
#include "io/weights_h5.hpp"

namespace gasm {

namespace fs = std::filesystem;

namespace {

std::string human_size(uintmax_t bytes) {
    char buf[64];
    if (bytes >= (1u << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    else if (bytes >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    else
        std::snprintf(buf, sizeof buf, "%ju bytes", bytes);
    return buf;
}

std::string folder_of(const std::string& path) {
    fs::path p(path);
    return p.has_parent_path() ? p.parent_path().string() : ".";
}

// Flushes a file or a folder to stable storage. Returns "" when done (or when the file system
// cannot sync at all: EINVAL, ENOTSUP), else the reason.
std::string sync_path(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return std::string("cannot open ") + path + " to sync it: " + std::strerror(errno);
    int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
        return std::string("fsync failed: ") + std::strerror(err);
    return "";
}

// Whether `path` names something; throws WeightsError where that cannot be told (a folder that
// refuses the look, a link to something that is gone), so that an unreadable file is never
// taken for an absent one and silently replaced by generated weights.
bool present(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    const int err = errno;
    if (err == ENOENT && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        throw WeightsError("weight file " + path +
                           " is a symbolic link to something that does not exist; fix or remove "
                           "the link (it is not replaced)");
    if (err == ENOENT || err == ENOTDIR) return false;
    throw WeightsError("weight file " + path + ": cannot tell whether it exists (" +
                       std::strerror(err) + ")");
}

// Lock files this process holds a lock on (count of WeightsLock objects per lock path).
std::mutex g_held_mu;
std::map<std::string, int> g_held;

bool this_process_holds_lock(const std::string& lock_path) {
    std::lock_guard guard(g_held_mu);
    auto it = g_held.find(lock_path);
    return it != g_held.end() && it->second > 0;
}

// The writer's PID from a temporary file's name tail "PID-N", or 0 where the name is not one
// this program writes (such files are never touched).
pid_t temp_owner(const std::string& tail) {
    const size_t dash = tail.find('-');
    if (dash == 0 || dash == std::string::npos || dash > 10 || dash + 1 == tail.size()) return 0;
    if (tail.find_first_not_of("0123456789") != dash ||
        tail.find_first_not_of("0123456789", dash + 1) != std::string::npos)
        return 0;
    const long long pid = std::stoll(tail.substr(0, dash));
    return pid > 0 && pid <= INT_MAX ? static_cast<pid_t>(pid) : 0;
}

constexpr std::time_t kStaleAfterSeconds = 3600;

void log_banner(const WeightsRequest& req) {
    std::error_code ec;
    const bool present = fs::exists(req.path, ec);
    std::string size = present ? human_size(fs::file_size(req.path, ec)) : "-";
    spdlog::info("Weights: {} (exists: {}, size: {}, force regeneration: {})", req.path,
                 present ? "yes" : "no", ec ? "?" : size, req.force_regen ? "on" : "off");
}

LoadedWeights generate_and_save(const WeightsRequest& req, bool replacing) {
    const uint64_t seed = req.seed_or_default();
    spdlog::info("Set deterministic seed ({}) for weight generation", seed);
    LoadedWeights out;
    out.weights = std::make_shared<Weights>(generate_weights(req.config(), seed));
    out.path = req.path;
    out.digest = digest_of(*out.weights);
    out.generated = true;
    if (replacing) spdlog::info("Force regenerating weights (replacing {})", req.path);
    std::string why = save_weights_atomic(*out.weights, req.path);
    if (why.empty()) {
        spdlog::info("Generated initial GASM weights and saved to {}", req.path);
    } else {
        out.persisted = false;
        spdlog::warn("GASM weights not persisted to {}: {}", req.path, why);
    }
    return out;
}

LoadedWeights load(const WeightsRequest& req) {
    LoadedWeights out;
    out.weights = std::make_shared<Weights>(read_weights_file(req.path));
    check_matches_request(*out.weights, req);
    out.path = req.path;
    out.digest = digest_of(*out.weights);
    return out;
}

}  // namespace

ModelConfig WeightsRequest::config() const {
    ModelConfig c;
    if (feature_dim) c.feature_dim = *feature_dim;
    if (hidden_dim) c.hidden_dim = *hidden_dim;
    if (output_dim) c.output_dim = *output_dim;
    if (num_heads) c.num_heads = *num_heads;
    if (max_iterations) c.max_iterations = *max_iterations;
    return c;
}

uint64_t WeightsRequest::seed_or_default() const {
    return seed.value_or(kDefaultSeed);
}

std::string resolve_weights_path(const std::optional<std::string>& flag) {
    // A name ending in '/' can only be a folder: never taken for a weight file to create.
    auto checked = [](const std::string& path, const char* where) {
        if (path.empty()) throw UsageError(std::string(where) + " must not be empty");
        if (path.back() == '/')
            throw UsageError(std::string(where) + " names a folder ('" + shown_in_message(path) +
                             "'); give the weight file's name");
        return path;
    };
    if (flag) return checked(*flag, "--weights");
    if (auto v = env::get("GASM_WEIGHTS")) return checked(*v, "GASM_WEIGHTS");
    return "gasm_weights.h5";
}

void check_matches_request(const Weights& w, const WeightsRequest& r) {
    const ModelConfig& c = w.config;
    std::string diff;
    auto cmp = [&](const std::optional<int64_t>& want, int64_t have, const char* name) {
        if (want && *want != have)
            diff += std::string(diff.empty() ? "" : ", ") + name + " " + std::to_string(have) +
                    " (asked for " + std::to_string(*want) + ")";
    };
    cmp(r.feature_dim, c.feature_dim, "feature_dim");
    cmp(r.hidden_dim, c.hidden_dim, "hidden_dim");
    cmp(r.output_dim, c.output_dim, "output_dim");
    cmp(r.num_heads, c.num_heads, "num_heads");
    cmp(r.max_iterations, c.max_iterations, "max_iterations");
    if (r.seed && w.seed != r.seed)
        diff += std::string(diff.empty() ? "" : ", ") + "seed " +
                (w.seed ? std::to_string(*w.seed) : std::string("none (imported)")) +
                " (asked for " + std::to_string(*r.seed) + ")";
    if (!diff.empty())
        throw WeightsError("weight file " + r.path + " has " + diff +
                           "; use --force-regen to replace it, or another --weights path");
}

namespace {

// GASM_LOCK_TIMEOUT: how long to wait for PATH.lock before giving up; unset, empty or 0: as
// long as it takes (a first start of many jobs at once waits for one generation).
std::optional<double> lock_timeout_seconds() {
    const auto v = env::get("GASM_LOCK_TIMEOUT");
    if (!v || v->empty()) return std::nullopt;
    // Whole or decimal seconds, written plainly: no sign, exponent, hex, inf or nan.
    const bool plain = std::all_of(v->begin(), v->end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                       std::count(v->begin(), v->end(), '.') <= 1 && *v != ".";
    const double seconds = plain ? std::strtod(v->c_str(), nullptr) : -1.0;
    if (!plain || seconds > 1e6)
        throw UsageError(
            "GASM_LOCK_TIMEOUT must be seconds from 0 to 1000000 (0: wait as long "
            "as it takes), got '" +
            v->substr(0, 40) + "'");
    if (seconds == 0) return std::nullopt;
    return seconds;
}

}  // namespace

WeightsLock::WeightsLock(const std::string& weights_path, Mode mode)
    : lock_path_(weights_path + ".lock") {
    const std::optional<double> timeout = lock_timeout_seconds();
    // Something at the path that is not a file (a folder, a FIFO, a device such as /dev/null)
    // is never read or replaced, so it needs no lock, and no PATH.lock is left beside it.
    struct stat st {};
    if (::stat(weights_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return;
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    // flock needs no write access: an existing lock file in a read-only place still serves.
    if (fd_ < 0) fd_ = ::open(lock_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        spdlog::debug("No lock file {} ({}); relying on atomic renames", lock_path_,
                      std::strerror(errno));
        return;
    }
    const int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
    // Polled rather than blocking, so that a long wait is reported and can end: a process that
    // holds the lock and never lets go (stopped with SIGSTOP, say, or hung on a dead file
    // server) would otherwise hold every later start with it, silently.
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    auto next_report = start + std::chrono::seconds(30);
    auto pause = std::chrono::milliseconds(1);
    bool told = false;
    while (::flock(fd_, op | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) {
            spdlog::info("The file system refuses locks on {} ({}); relying on atomic renames",
                         lock_path_, std::strerror(errno));
            ::close(fd_);
            fd_ = -1;
            return;
        }
        const auto now = Clock::now();
        const double waited = std::chrono::duration<double>(now - start).count();
        if (!told) {
            spdlog::info("Waiting for {} (another process is writing or reading the weights)",
                         lock_path_);
            told = true;
        } else if (now >= next_report) {
            spdlog::warn(
                "Still waiting for {} after {:.0f} s: the process holding it may be "
                "stopped or stuck on its file system{}",
                lock_path_, waited,
                timeout ? "" : " (GASM_LOCK_TIMEOUT=SECONDS gives up after that long)");
            next_report = now + std::chrono::seconds(30);
        }
        if (timeout && waited >= *timeout) {
            ::close(fd_);
            fd_ = -1;
            throw RuntimeFailure("gave up waiting for " + lock_path_ + " after " +
                                 fmt::format("{:g}", *timeout) +
                                 " s (GASM_LOCK_TIMEOUT): another process holds it");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    std::lock_guard guard(g_held_mu);
    ++g_held[lock_path_];
}

WeightsLock::~WeightsLock() {
    if (fd_ < 0) return;
    {
        std::lock_guard guard(g_held_mu);
        if (--g_held[lock_path_] <= 0) g_held.erase(lock_path_);
    }
    ::close(fd_);  // closing releases the flock
}

void clean_stale_temporaries(const std::string& path) {
    const std::string folder = folder_of(path);
    const std::string prefix = "." + fs::path(path).filename().string() + ".tmp-";
    const bool locked = this_process_holds_lock(path + ".lock");
    DIR* dir = ::opendir(folder.c_str());
    if (!dir) return;
    const std::time_t now = std::time(nullptr);
    while (dirent* ent = ::readdir(dir)) {
        const std::string name = ent->d_name;
        if (name.rfind(prefix, 0) != 0) continue;
        const pid_t pid = temp_owner(name.substr(prefix.size()));
        if (pid == 0 || pid == ::getpid()) continue;
        struct stat st {};
        if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        const bool old = now - st.st_mtime > kStaleAfterSeconds;
        const bool writer_gone = ::kill(pid, 0) != 0 && errno == ESRCH;
        const std::string victim = folder + "/" + name;
        if (!(old || (locked && writer_gone))) {
            if (writer_gone)
                spdlog::debug(
                    "Kept {}: its writer is gone, but without a lock it may belong to "
                    "another machine (removed once an hour old)",
                    victim);
            continue;
        }
        if (::unlinkat(::dirfd(dir), name.c_str(), 0) == 0)
            spdlog::info("Removed a temporary file left by an interrupted write: {}", victim);
    }
    ::closedir(dir);
}

std::string save_weights_atomic(const Weights& w, const std::string& requested) {
    // A link is followed: the file it names is replaced and the link stays a link. A link to
    // nothing is refused, as a load refuses it (an unmounted project folder, say).
    std::string path = requested;
    struct stat lst {};
    if (::lstat(requested.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
        std::error_code ec;
        const fs::path target = fs::canonical(requested, ec);
        if (ec)
            throw WeightsError("weight file " + requested +
                               " is a symbolic link to something that does not exist; fix or "
                               "remove the link (it is not replaced)");
        path = target.string();
    }
    const std::string folder = folder_of(path);
    // rename() would replace whatever is there: only a regular file is ever replaced.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? "the path is a directory"
                                   : "the path exists and is not a regular file";
    std::string tmp;
    try {
        tmp = create_temp_beside(path);
    } catch (const std::exception& e) {
        return e.what();
    }
    try {
        write_weights_file(w, tmp);
    } catch (const UsageError&) {
        remove_temp(tmp);
        throw;  // a bad SOURCE_DATE_EPOCH is the user's to fix, not a reason to go on unsaved
    } catch (const std::exception& e) {
        remove_temp(tmp);
        return e.what();
    }
    // Read the new file back before it replaces anything: a full disk can produce a file that
    // HDF5 closed without complaint but that does not hold the weights.
    try {
        // read_weights_file checks the data against the file's digest, written from w.
        Weights back = read_weights_file(tmp);
        if (back.digest != (w.digest.empty() ? content_sha256(w) : w.digest))
            throw WeightsError("digest differs");
    } catch (const std::exception& e) {
        remove_temp(tmp);
        return std::string("the written file did not read back: ") + e.what();
    }
    // Only a file known to be on disk may replace the old one (NFS reports a full disk or a
    // quota here, after every write succeeded).
    if (std::string why = sync_path(tmp, O_RDONLY); !why.empty()) {
        remove_temp(tmp);
        return why;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string reason = std::string("rename failed: ") + std::strerror(errno);
        remove_temp(tmp);
        return reason;
    }
    temp_renamed(tmp);
    if (std::string why = sync_path(folder, O_RDONLY | O_DIRECTORY); !why.empty())
        spdlog::debug("The folder of {} was not synced after the rename: {}", path, why);
    return "";
}

LoadedWeights load_weights_file(const std::string& path) {
    WeightsLock lock(path, WeightsLock::Mode::shared);
    LoadedWeights out;
    out.weights = std::make_shared<Weights>(read_weights_file(path));
    out.path = path;
    out.digest = digest_of(*out.weights);
    return out;
}

LoadedWeights ensure_weights(const WeightsRequest& req) {
    // SOURCE_DATE_EPOCH and GASM_LOCK_TIMEOUT are checked at every start, not only on the day
    // a file is written or a lock is waited for.
    (void)creation_time_utc();
    (void)lock_timeout_seconds();
    log_banner(req);
    if (req.force_regen) {
        spdlog::info("Force regeneration requested");
        WeightsLock lock(req.path, WeightsLock::Mode::exclusive);
        clean_stale_temporaries(req.path);
        return generate_and_save(req, present(req.path));
    }
    {
        WeightsLock lock(req.path, WeightsLock::Mode::shared);
        if (present(req.path)) {
            clean_stale_temporaries(req.path);
            return load(req);
        }
    }
    WeightsLock lock(req.path, WeightsLock::Mode::exclusive);
    clean_stale_temporaries(req.path);
    if (present(req.path)) return load(req);  // another process wrote it meanwhile
    spdlog::info("First-time startup: generating initial GASM weights");
    return generate_and_save(req, /*replacing=*/false);
}

}  // namespace gasm
