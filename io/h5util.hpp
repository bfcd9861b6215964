// SPDX-License-Identifier: MIT
// Thin RAII owners for HDF5 identifiers and the few typed reads and writes the engine needs.
// HDF5's own error printing is switched off; callers turn failures into messages that name the
// file and the dataset.
#pragma once

#include <hdf5.h>

#include <cstdint>
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

// Opens a file read-only; where the file system refuses HDF5's file locking, opens it again
// without locking (weights-format.md). Returns an invalid Id on failure.
Id open_read(const std::string& path);
Id create_truncate(const std::string& path);

bool exists(hid_t loc, const std::string& path);  // link exists (each level checked)
std::vector<hsize_t> dims(hid_t dataset);

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
