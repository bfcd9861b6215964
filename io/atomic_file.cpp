// SPDX-License-Identifier: MIT
// Temporary files beside their target and the rename that puts them in place.
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "host/errors.hpp"

namespace gasm {

std::string temp_path_beside(const std::string& path) {
    static std::atomic<int> counter{0};
    std::filesystem::path p(path);
    std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    return folder + "/." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
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
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
}

}  // namespace gasm
