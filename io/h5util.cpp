// SPDX-License-Identifier: MIT
// HDF5 helpers.
#include "io/h5util.hpp"

#include <stdexcept>

namespace gasm::h5 {

void Id::reset() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
        case H5I_FILE: H5Fclose(id_); break;
        case H5I_GROUP: H5Gclose(id_); break;
        case H5I_DATASET: H5Dclose(id_); break;
        case H5I_DATASPACE: H5Sclose(id_); break;
        case H5I_DATATYPE: H5Tclose(id_); break;
        case H5I_ATTR: H5Aclose(id_); break;
        case H5I_GENPROP_LST: H5Pclose(id_); break;
        default: break;
    }
    id_ = H5I_INVALID_HID;
}

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Id open_read(const std::string& path) {
    silence_errors();
    Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file.valid()) return file;
    // A file system without locks makes HDF5's own locking fail: open without it.
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_file_locking(fapl.get(), false, true);
    return Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
}

Id create_truncate(const std::string& path) {
    silence_errors();
    // The 1.8 file format checksums the superblock and every object header, so a flipped bit
    // in metadata is refused on open; files stay readable by HDF5 1.8 and later (h5py, h5dump).
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
    // No modification times in the root group's header: same content, same bytes.
    Id fcpl(H5Pcreate(H5P_FILE_CREATE));
    H5Pset_obj_track_times(fcpl.get(), false);
    Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
    if (file.valid()) return file;
    H5Pset_file_locking(fapl.get(), false, true);
    return Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
}

bool exists(hid_t loc, const std::string& path) {
    size_t pos = 0;
    while (true) {
        size_t next = path.find('/', pos + 1);
        std::string prefix = path.substr(0, next);
        if (!prefix.empty() && prefix != "/" && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0)
            return false;
        if (next == std::string::npos) return true;
        pos = next;
    }
}

std::vector<hsize_t> dims(hid_t dataset) {
    Id space(H5Dget_space(dataset));
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) return {};
    std::vector<hsize_t> d(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    return d;
}

namespace {
Id open_attr(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0) return Id();
    return Id(H5Aopen(obj, name, H5P_DEFAULT));
}

bool is_scalar_or_single(hid_t attr) {
    Id space(H5Aget_space(attr));
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    return n == 1;
}
}  // namespace

std::optional<std::string> read_string_attr(hid_t obj, const char* name) {
    Id attr = open_attr(obj, name);
    if (!attr.valid() || !is_scalar_or_single(attr.get())) return std::nullopt;
    Id type(H5Aget_type(attr.get()));
    if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
    if (H5Tis_variable_str(type.get()) > 0) {
        Id mem(H5Tcopy(H5T_C_S1));
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        char* value = nullptr;
        if (H5Aread(attr.get(), mem.get(), &value) < 0 || !value) return std::nullopt;
        std::string out(value);
        Id space(H5Aget_space(attr.get()));
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, &value);
        return out;
    }
    size_t size = H5Tget_size(type.get());
    if (size == 0 || size > (1u << 20)) return std::nullopt;
    std::string buf(size, '\0');
    Id mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), size);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));  // HDF5 converts no character sets
    if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) return std::nullopt;
    buf.resize(buf.find('\0') == std::string::npos ? buf.size() : buf.find('\0'));
    return buf;
}

std::optional<int64_t> read_int_attr(hid_t obj, const char* name) {
    Id attr = open_attr(obj, name);
    if (!attr.valid() || !is_scalar_or_single(attr.get())) return std::nullopt;
    Id type(H5Aget_type(attr.get()));
    if (H5Tget_class(type.get()) != H5T_INTEGER) return std::nullopt;
    int64_t v = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) return std::nullopt;
    return v;
}

std::optional<uint64_t> read_uint_attr(hid_t obj, const char* name) {
    Id attr = open_attr(obj, name);
    if (!attr.valid() || !is_scalar_or_single(attr.get())) return std::nullopt;
    Id type(H5Aget_type(attr.get()));
    if (H5Tget_class(type.get()) != H5T_INTEGER) return std::nullopt;
    uint64_t v = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_UINT64, &v) < 0) return std::nullopt;
    return v;
}

namespace {
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type,
                       const void* v) {
    Id space(H5Screate(H5S_SCALAR));
    Id attr(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!attr.valid() || H5Awrite(attr.get(), mem_type, v) < 0)
        throw std::runtime_error(std::string("cannot write attribute ") + name);
}
}  // namespace

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
    Id type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), value.empty() ? 1 : value.size());
    H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::string padded = value;
    padded.push_back('\0');
    write_scalar_attr(obj, name, type.get(), type.get(), padded.data());
}

void write_int64_attr(hid_t obj, const char* name, int64_t value) {
    write_scalar_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_int32_attr(hid_t obj, const char* name, int32_t value) {
    write_scalar_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

void write_uint64_attr(hid_t obj, const char* name, uint64_t value) {
    write_scalar_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

Id ensure_parent(hid_t file, const std::string& path) {
    Id group(H5Gopen2(file, "/", H5P_DEFAULT));
    size_t pos = 1;
    while (true) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) return group;
        std::string name = path.substr(pos, next - pos);
        Id child;
        if (H5Lexists(group.get(), name.c_str(), H5P_DEFAULT) > 0)
            child = Id(H5Gopen2(group.get(), name.c_str(), H5P_DEFAULT));
        else {
            Id gcpl(H5Pcreate(H5P_GROUP_CREATE));
            H5Pset_obj_track_times(gcpl.get(), false);
            child = Id(H5Gcreate2(group.get(), name.c_str(), H5P_DEFAULT, gcpl.get(),
                                  H5P_DEFAULT));
        }
        if (!child.valid()) throw std::runtime_error("cannot create group for " + path);
        group = std::move(child);
        pos = next + 1;
    }
}

void write_dataset(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type,
                   const std::vector<hsize_t>& d, const void* data, bool chunked) {
    Id parent = ensure_parent(file, path);
    std::string leaf = path.substr(path.rfind('/') + 1);
    Id space(d.empty() ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    // No modification times in object headers: the same content gives the same bytes.
    H5Pset_obj_track_times(dcpl.get(), false);
    bool nonempty = !d.empty();
    for (hsize_t v : d) nonempty = nonempty && v > 0;
    if (chunked && nonempty) {
        H5Pset_chunk(dcpl.get(), static_cast<int>(d.size()), d.data());
        H5Pset_fletcher32(dcpl.get());
    }
    Id ds(H5Dcreate2(parent.get(), leaf.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                     H5P_DEFAULT));
    if (!ds.valid()) throw std::runtime_error("cannot create dataset " + path);
    if (H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        throw std::runtime_error("cannot write dataset " + path);
}

}  // namespace gasm::h5
