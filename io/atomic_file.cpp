// SPDX-License-Identifier: MIT
// Temporary files beside their target and the rename that puts them in place.
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "host/errors.hpp"

namespace gasm {

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
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
    ::close(fd);
    // The commands refuse such a path before they start; this holds against one put there since.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": it is not a regular file");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
}

}  // namespace gasm
