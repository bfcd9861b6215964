// SPDX-License-Identifier: MIT
// Output files appear whole or not at all: they are written as a temporary file beside the
// target (".NAME.tmp-PID-N", never taken for a result), synced, then renamed over it.
#pragma once

#include <string>

namespace gasm {

// A fresh temporary name beside `path`, in the same folder (so the rename stays on one file
// system).
std::string temp_path_beside(const std::string& path);

// Syncs the finished temporary file and renames it over `path`. A file that may not be on disk
// whole (fsync failed: a full disk on NFS, a quota) never replaces anything: the temporary file
// is removed and RuntimeFailure names `path` and the reason.
void commit_temp(const std::string& tmp, const std::string& path);

}  // namespace gasm
