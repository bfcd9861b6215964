// SPDX-License-Identifier: MIT
// Temporary files beside their target and the rename that puts them in place.
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "host/errors.hpp"

namespace gasm {

namespace {

// The temporary files of this process that a signal handler must remove: a fixed table, since
// the handler may neither allocate nor lock. A name is written before its slot is marked used.
struct TempSlot {
    std::atomic<bool> used{false};
    char path[PATH_MAX];
};
constexpr int kTempSlots = 64;
TempSlot g_temps[kTempSlots];
std::mutex g_temps_mu;  // between threads that create and retire names, never in the handler

void remember_temp(const std::string& tmp) {
    if (tmp.size() >= PATH_MAX) return;  // never the case for a name open() accepted
    std::lock_guard lock(g_temps_mu);
    for (TempSlot& slot : g_temps)
        if (!slot.used.load(std::memory_order_relaxed)) {
            std::memcpy(slot.path, tmp.c_str(), tmp.size() + 1);
            slot.used.store(true, std::memory_order_release);
            return;
        }
    // More than kTempSlots files at once (none of the commands writes more than two): this one
    // is left to the clean-up of stale files if a signal comes.
}

void forget_temp(const std::string& tmp) {
    std::lock_guard lock(g_temps_mu);
    for (TempSlot& slot : g_temps)
        if (slot.used.load(std::memory_order_relaxed) && tmp == slot.path) {
            slot.used.store(false, std::memory_order_release);
            return;
        }
}

extern "C" void remove_temporaries_and_stop(int sig) {
    const int saved = errno;
    for (TempSlot& slot : g_temps)
        if (slot.used.load(std::memory_order_acquire)) ::unlink(slot.path);
    errno = saved;
    // SA_RESETHAND has put the default action back; the signal is blocked until this returns.
    ::raise(sig);
}

}  // namespace

void remove_temporaries_on_signals() {
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        // A signal ignored from the start stays ignored: nohup's SIGHUP, a background job's
        // SIGINT and SIGQUIT.
        struct sigaction before {};
        if (::sigaction(sig, nullptr, &before) == 0 && before.sa_handler == SIG_IGN) continue;
        ::sigaction(sig, &action, nullptr);
    }
    std::signal(SIGXFSZ, SIG_IGN);
}

void remove_temp(const std::string& tmp) {
    ::unlink(tmp.c_str());
    forget_temp(tmp);
}

void temp_renamed(const std::string& tmp) {
    forget_temp(tmp);
}

std::string create_temp_beside(const std::string& path) {
    static std::atomic<int> counter{0};
    const std::filesystem::path p(path);
    const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    const std::string stem =
        folder + "/." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-";
    // O_EXCL: a name that exists in any form, a link included, is refused rather than opened.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        std::string tmp = stem + std::to_string(counter++);
        const int fd =
            ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            ::close(fd);
            remember_temp(tmp);
            return tmp;
        }
        if (errno != EEXIST)
            throw RuntimeFailure("cannot create a temporary file beside " + path + ": " +
                                 std::strerror(errno));
    }
    throw RuntimeFailure("cannot create a temporary file beside " + path +
                         ": 1000 names in a row are taken (" + stem + "N)");
}

int open_temp_for_writing(const std::string& tmp) {
    return ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
}

void commit_temp(const std::string& tmp, const std::string& path) {
    int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)) {
        std::string why = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
    ::close(fd);
    // The commands refuse such a path before they start; this holds against one put there since.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": it is not a regular file");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string why = std::strerror(errno);
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
    temp_renamed(tmp);
}

}  // namespace gasm
