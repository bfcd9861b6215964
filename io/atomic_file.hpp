// SPDX-License-Identifier: MIT
// Output files appear whole or not at all: they are written as a temporary file beside the
// target (".NAME.tmp-PID-N", never taken for a result), synced, then renamed over it.
#pragma once

#include <string>

namespace gasm {

// Creates a new, empty temporary file beside `path`, in the same folder (so the rename stays on
// one file system), and returns its name. The file is created exclusively and never through a
// link: a name that is already taken (a leftover, another process's file, a link planted there)
// is skipped, never opened, truncated or later removed. Throws RuntimeFailure naming `path`
// when no file can be created there.
std::string create_temp_beside(const std::string& path);

// Opens the temporary file made by create_temp_beside for writing, truncated, without following
// a link put in its place meanwhile. Returns the descriptor, or -1 with errno set.
int open_temp_for_writing(const std::string& tmp);

// Removes a temporary file made by create_temp_beside that will not be used.
void remove_temp(const std::string& tmp);
// Says that a temporary file made by create_temp_beside has been renamed into place.
void temp_renamed(const std::string& tmp);

// Ends the process cleanly on the signals a user or a batch system sends (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT): every temporary file of create_temp_beside not yet renamed or removed is
// removed, then the signal takes its default course (the exit status says which). A signal
// ignored when the process starts (nohup's SIGHUP) stays ignored. SIGXFSZ is
// ignored, so that a file-size limit is a failed write with its message, handled as a full disk
// is. Called once at start-up; a command that waits for these signals itself (serve) blocks
// them, and these handlers then never run.
void remove_temporaries_on_signals();

// Syncs the finished temporary file and renames it over `path`. A file that may not be on disk
// whole (fsync failed: a full disk on NFS, a quota) never replaces anything, and nothing but a
// regular file (or a link to one) is ever replaced: the temporary file is removed and
// RuntimeFailure names `path` and the reason.
void commit_temp(const std::string& tmp, const std::string& path);

}  // namespace gasm
