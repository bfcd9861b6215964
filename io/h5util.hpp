// SPDX-License-Identifier: MIT
// Thin RAII owners for HDF5 identifiers and the few typed reads and writes the engine needs.
// HDF5's own error printing is switched off; callers turn failures into messages that name the
// file and the dataset.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gasm::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Id {
  public:
    Id() = default;
    explicit Id(hid_t id) : id_(id) {}
    ~Id() { reset(); }
    Id(Id&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
    Id& operator=(Id&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = o.id_;
            o.id_ = H5I_INVALID_HID;
        }
        return *this;
    }
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset();

  private:
    hid_t id_ = H5I_INVALID_HID;
};

// Silences HDF5's automatic error stack printing for the whole process.
void silence_errors();

// While it lives, a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL) ends the process with `message` on
// stderr and `exit_code`, instead of a bare "Segmentation fault" (exit 139). HDF5 1.10 has
// memory errors on some damaged files (found by tests/fuzz; see docs/hardening.md); a reader
// holds a guard around its HDF5 calls so that such a file is still refused with the file's
// name and the exit code of its kind. Nesting is allowed; concurrent use is not (HDF5 itself
// is not thread-safe in this build). A no-op when built with GASM_NO_CRASH_GUARD (the fuzz
// targets, where the sanitizers must see the crash).
class CrashGuard {
  public:
    CrashGuard(const std::string& message, int exit_code);
    ~CrashGuard();
    CrashGuard(const CrashGuard&) = delete;
    CrashGuard& operator=(const CrashGuard&) = delete;
};

// Opens a file read-only; where the file system refuses HDF5's file locking, opens it again
// without locking (weights-format.md). Returns an invalid Id on failure.
Id open_read(const std::string& path);

// A new file built in memory (HDF5's core driver, nothing on disk) in the 1.8 format with no
// modification times; `name` only tells HDF5's open files apart. write_image then puts it on
// disk in one go. HDF5 itself never writes to the disk this way: a full disk or a quota is an
// ordinary write error there, instead of an HDF5 file that cannot be closed (HDF5 1.10 then
// crashes when the process exits).
Id create_in_memory(const std::string& name);
// Writes the image of the open in-memory `file` to `path`, a temporary file made by
// create_temp_beside (io/atomic_file.hpp; truncated, never followed if a link took its place),
// then fsyncs and closes it. Returns "" on success, else the reason (the partial file is left to
// the caller, who owns the name).
std::string write_image(hid_t file, const std::string& path);

// A new file on disk with the settings of create_in_memory, written through gasm's own file
// driver (io/h5_disk.cpp), which allocates as the core driver does, so the same calls give the
// same bytes as a file built in memory and written with write_image. A write that fails is
// remembered and never reported to HDF5, which therefore never takes its error paths on a full
// disk (HDF5 1.10.8 cannot close a file after a failed write and crashes at exit); close() then
// says what failed, and the caller throws the file away.
class DiskFile {
  public:
    explicit DiskFile(const std::string& path);  // throws std::runtime_error
    ~DiskFile();
    DiskFile(const DiskFile&) = delete;
    DiskFile& operator=(const DiskFile&) = delete;
    hid_t get() const { return file_.get(); }
    // Closes the file: "" when every byte reached it, else the first failure.
    std::string close();
    // The first failure so far ("" while there is none).
    const std::string& error() const;

    struct Status;

  private:
    std::unique_ptr<Status> status_;
    Id file_;
};

bool exists(hid_t loc, const std::string& path);  // link exists (each level checked)

// What the links of an absolute path "/a/b/c" are, found one level at a time without following
// any link that is not a hard link: a soft link or an external link (which would open another
// file, perhaps a FIFO that never answers) stops the walk and is reported with its target.
enum class LinkKind { missing, hard, soft, external, other };
struct LinkInfo {
    LinkKind kind = LinkKind::missing;
    std::string at;      // the path up to the level that is missing or not a hard link
    std::string target;  // soft: the path it names; external: "FILE:/PATH"
};
LinkInfo inspect_link(hid_t loc, const std::string& path);
// "soft link to /x", "external link to f.h5:/y", "user-defined link" (for messages).
std::string describe_link(const LinkInfo& info);
// The value of the link `name` in `loc` when it is a soft or an external link (else empty).
std::string link_target(hid_t loc, const char* name, LinkKind kind);
std::vector<hsize_t> dims(hid_t dataset);

// The Fletcher-32 value HDF5's Fletcher32 filter stores after a chunk's `bytes` bytes of data:
// 16-bit big-endian words summed in blocks of 360, each sum folded to 16 bits after a block
// (the same value, bit for bit, as HDF5 1.10 computes).
uint32_t fletcher32(const void* data, size_t bytes);

// Attributes on an object.
std::optional<std::string> read_string_attr(hid_t obj, const char* name);
std::optional<int64_t> read_int_attr(hid_t obj, const char* name);
std::optional<uint64_t> read_uint_attr(hid_t obj, const char* name);
void write_string_attr(hid_t obj, const char* name, const std::string& value);
void write_int64_attr(hid_t obj, const char* name, int64_t value);
void write_int32_attr(hid_t obj, const char* name, int32_t value);
void write_uint64_attr(hid_t obj, const char* name, uint64_t value);

// Creates intermediate groups for "/a/b/c" and returns the parent group of the last part.
Id ensure_parent(hid_t file, const std::string& path);

// Writes a dataset of native type `mem_type` stored as `file_type`, with dims; one chunk and
// Fletcher32 when chunked is true and the rank is at least 1.
void write_dataset(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type,
                   const std::vector<hsize_t>& dims, const void* data, bool chunked);

}  // namespace gasm::h5
