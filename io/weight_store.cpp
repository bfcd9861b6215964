// SPDX-License-Identifier: MIT
// The startup lifecycle of the weight file and its atomic, locked replacement.
//
// Locking protocol: readers hold a shared flock on PATH.lock while they read; a process that
// must generate upgrades to an exclusive lock, then looks again (another process may have
// written the file meanwhile) before it generates. Writers write PATH's folder/.NAME.tmp-PID-N,
// fsync it, rename it over PATH and fsync the folder, so a reader sees the old complete file or
// the new complete file. Where locks are refused, the renames alone keep files whole, and
// identical content makes racing writers harmless.
#include "io/weight_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "host/env.hpp"
#include "host/errors.hpp"
#include "host/generate.hpp"
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

void fsync_path(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

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

uint64_t WeightsRequest::seed_or_default() const { return seed.value_or(kDefaultSeed); }

std::string resolve_weights_path(const std::optional<std::string>& flag) {
    if (flag) {
        if (flag->empty()) throw UsageError("--weights must not be empty");
        return *flag;
    }
    if (auto v = env::get("GASM_WEIGHTS")) {
        if (v->empty()) throw UsageError("GASM_WEIGHTS is set but empty");
        return *v;
    }
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

WeightsLock::WeightsLock(const std::string& weights_path, Mode mode) {
    const std::string lock_path = weights_path + ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        spdlog::debug("No lock file {} ({}); relying on atomic renames", lock_path,
                      std::strerror(errno));
        return;
    }
    int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
    while (::flock(fd_, op) != 0) {
        if (errno == EINTR) continue;
        spdlog::info("The file system refuses locks on {} ({}); relying on atomic renames",
                     lock_path, std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        return;
    }
}

WeightsLock::~WeightsLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

void clean_stale_temporaries(const std::string& path) {
    const std::string folder = folder_of(path);
    const std::string prefix = "." + fs::path(path).filename().string() + ".tmp-";
    DIR* dir = ::opendir(folder.c_str());
    if (!dir) return;
    while (dirent* ent = ::readdir(dir)) {
        std::string name = ent->d_name;
        if (name.rfind(prefix, 0) != 0) continue;
        // Name: .NAME.tmp-PID-COUNTER; the file is stale when PID no longer runs.
        long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
            std::string victim = folder + "/" + name;
            if (::unlink(victim.c_str()) == 0)
                spdlog::info("Removed a temporary file left by an interrupted write: {}", victim);
        }
    }
    ::closedir(dir);
}

std::string save_weights_atomic(const Weights& w, const std::string& path) {
    static std::atomic<int> counter{0};
    const std::string folder = folder_of(path);
    const std::string tmp = folder + "/." + fs::path(path).filename().string() + ".tmp-" +
                            std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::error_code ec;
    if (fs::is_directory(path, ec)) return "the path is a directory";
    try {
        write_weights_file(w, tmp);
    } catch (const std::exception& e) {
        int err = errno;
        ::unlink(tmp.c_str());
        std::string reason = e.what();
        if (err != 0) reason += std::string(" (") + std::strerror(err) + ")";
        return reason;
    }
    // Read the new file back before it replaces anything: a full disk can produce a file that
    // HDF5 closed without complaint but that does not hold the weights.
    try {
        // read_weights_file checks the data against the file's digest, written from w.
        Weights back = read_weights_file(tmp);
        if (back.digest != (w.digest.empty() ? content_sha256(w) : w.digest))
            throw WeightsError("digest differs");
    } catch (const std::exception& e) {
        ::unlink(tmp.c_str());
        return std::string("the written file did not read back: ") + e.what();
    }
    fsync_path(tmp, O_RDONLY);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string reason = std::string("rename failed: ") + std::strerror(errno);
        ::unlink(tmp.c_str());
        return reason;
    }
    fsync_path(folder, O_RDONLY | O_DIRECTORY);
    return "";
}

LoadedWeights ensure_weights(const WeightsRequest& req) {
    log_banner(req);
    std::error_code ec;
    if (req.force_regen) {
        spdlog::info("Force regeneration requested");
        WeightsLock lock(req.path, WeightsLock::Mode::exclusive);
        clean_stale_temporaries(req.path);
        return generate_and_save(req, fs::exists(req.path, ec));
    }
    {
        WeightsLock lock(req.path, WeightsLock::Mode::shared);
        if (fs::exists(req.path, ec)) return load(req);
    }
    WeightsLock lock(req.path, WeightsLock::Mode::exclusive);
    if (fs::exists(req.path, ec)) return load(req);  // another process wrote it meanwhile
    clean_stale_temporaries(req.path);
    spdlog::info("First-time startup: generating initial GASM weights");
    return generate_and_save(req, /*replacing=*/false);
}

}  // namespace gasm
