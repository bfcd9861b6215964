// SPDX-License-Identifier: MIT
// gasm's own HDF5 file driver for the files it writes to disk while a run goes on (the streamed
// results file). HDF5 1.10.8 cannot close a file after one of its writes failed and then crashes
// when the process exits (docs/hardening.md), so this driver never reports a failed write to
// HDF5: it keeps the first failure (errno and where) for DiskFile::close to report, and HDF5
// carries on as if the bytes had landed. The caller then throws the file away.
//
// The driver allocates exactly as HDF5's core driver does (the same feature flags and free-list
// map), so the same calls give the same bytes as a file built in memory by create_in_memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "io/h5util.hpp"

namespace gasm::h5 {

// The first I/O failure of one file (shared by the driver and the DiskFile that owns it).
struct DiskFile::Status {
    std::string error;
    std::string open_error;  // the last open that failed (HDF5 tries several)
    void fail(const char* what, haddr_t addr, int err) {
        if (error.empty())
            error =
                std::string(what) + " at byte " + std::to_string(addr) + ": " + std::strerror(err);
    }
};

namespace {

// What the file access property list carries to the driver's open.
struct DriverInfo {
    DiskFile::Status* status;
};

struct DiskFd {
    H5FD_t pub;  // first: HDF5 fills in the public fields
    int fd = -1;
    haddr_t eoa = 0, eof = 0;
    dev_t device = 0;
    ino_t inode = 0;
    DiskFile::Status* status = nullptr;
};

DiskFd* of(H5FD_t* f) {
    return reinterpret_cast<DiskFd*>(f);
}
const DiskFd* of(const H5FD_t* f) {
    return reinterpret_cast<const DiskFd*>(f);
}

constexpr haddr_t kMaxAddr = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

void* info_copy(const void* info) {
    void* p = std::malloc(sizeof(DriverInfo));
    if (p) std::memcpy(p, info, sizeof(DriverInfo));
    return p;
}

herr_t info_free(void* info) {
    std::free(info);
    return 0;
}

void* info_get(H5FD_t* f) {
    DriverInfo info{of(f)->status};
    return info_copy(&info);
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
    if (!name || !*name || maxaddr == 0 || maxaddr > kMaxAddr) return nullptr;
    const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
    if (!info || !info->status) return nullptr;
    int oflags = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
    if (flags & H5F_ACC_TRUNC) oflags |= O_TRUNC;
    if (flags & H5F_ACC_CREAT) oflags |= O_CREAT;
    if (flags & H5F_ACC_EXCL) oflags |= O_EXCL;
    // Never through a link: the name is a temporary file gasm created (create_temp_beside).
    const int fd = ::open(name, oflags | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        info->status->open_error = std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        info->status->open_error = std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    auto* f = new (std::nothrow) DiskFd();
    if (!f) {
        ::close(fd);
        return nullptr;
    }
    f->fd = fd;
    f->eof = static_cast<haddr_t>(st.st_size);
    f->device = st.st_dev;
    f->inode = st.st_ino;
    f->status = info->status;
    return &f->pub;
}

herr_t close_file(H5FD_t* file) {
    DiskFd* f = of(file);
    if (::close(f->fd) != 0) f->status->fail("close", f->eof, errno);
    delete f;
    return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
    const DiskFd* x = of(a);
    const DiskFd* y = of(b);
    if (x->device != y->device) return x->device < y->device ? -1 : 1;
    if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
    return 0;
}

herr_t query(const H5FD_t*, unsigned long* flags) {
    // The allocation-relevant features of the core driver (create_in_memory), no more.
    if (flags)
        *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
                 H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

haddr_t get_eoa(const H5FD_t* f, H5FD_mem_t) {
    return of(f)->eoa;
}

herr_t set_eoa(H5FD_t* f, H5FD_mem_t, haddr_t addr) {
    of(f)->eoa = addr;
    return 0;
}

haddr_t get_eof(const H5FD_t* f, H5FD_mem_t) {
    return of(f)->eof;
}

herr_t get_handle(H5FD_t* f, hid_t, void** handle) {
    if (!handle) return -1;
    *handle = &of(f)->fd;
    return 0;
}

herr_t read_at(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* buffer) {
    DiskFd* f = of(file);
    auto* out = static_cast<unsigned char*>(buffer);
    while (size > 0) {
        const ssize_t n = ::pread(f->fd, out, size, static_cast<off_t>(addr));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            f->status->fail("read", addr, errno);
            return -1;
        }
        if (n == 0) break;  // beyond the end: HDF5 expects zeros there
        out += n;
        addr += static_cast<haddr_t>(n);
        size -= static_cast<size_t>(n);
    }
    std::memset(out, 0, size);
    return 0;
}

herr_t write_at(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void* buffer) {
    DiskFd* f = of(file);
    f->eof = std::max(f->eof, addr + size);
    if (!f->status->error.empty()) return 0;  // the file is lost already: write nothing more
    const auto* in = static_cast<const unsigned char*>(buffer);
    while (size > 0) {
        const ssize_t n = ::pwrite(f->fd, in, size, static_cast<off_t>(addr));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            f->status->fail("write", addr, n < 0 ? errno : EIO);
            return 0;  // remembered, not reported: see the top of this file
        }
        in += n;
        addr += static_cast<haddr_t>(n);
        size -= static_cast<size_t>(n);
    }
    return 0;
}

herr_t truncate_file(H5FD_t* file, hid_t, hbool_t) {
    DiskFd* f = of(file);
    if (f->eoa == f->eof) return 0;
    if (f->status->error.empty() && ::ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0)
        f->status->fail("truncate", f->eoa, errno);
    f->eof = f->eoa;
    return 0;
}

H5FD_class_t make_class() {
    H5FD_class_t c{};
#if H5_VERSION_GE(1, 13, 2)
    c.version = H5FD_CLASS_VERSION;
    c.value = 511;  // HDF5 leaves 256 to 511 to drivers it does not register itself
#endif
    c.name = "gasm_disk";
    c.maxaddr = kMaxAddr;
    c.fc_degree = H5F_CLOSE_WEAK;
    c.fapl_size = sizeof(DriverInfo);
    c.fapl_get = info_get;
    c.fapl_copy = info_copy;
    c.fapl_free = info_free;
    c.open = open_file;
    c.close = close_file;
    c.cmp = compare;
    c.query = query;
    c.get_eoa = get_eoa;
    c.set_eoa = set_eoa;
    c.get_eof = get_eof;
    c.get_handle = get_handle;
    c.read = read_at;
    c.write = write_at;
    c.truncate = truncate_file;
    const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;  // as the core driver's
    std::copy(std::begin(map), std::end(map), std::begin(c.fl_map));
    return c;
}

hid_t driver_id() {
    static const H5FD_class_t cls = make_class();
    static hid_t id = H5I_INVALID_HID;
    if (id < 0 || H5Iis_valid(id) <= 0) id = H5FDregister(&cls);
    return id;
}

}  // namespace

DiskFile::DiskFile(const std::string& path) : status_(std::make_unique<Status>()) {
    silence_errors();
    const hid_t driver = driver_id();
    if (driver < 0) throw std::runtime_error("HDF5 refused gasm's file driver");
    // The settings of create_in_memory: the 1.8 format, no modification times.
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
    const DriverInfo info{status_.get()};
    if (H5Pset_driver(fapl.get(), driver, &info) < 0)
        throw std::runtime_error("HDF5 refused gasm's file driver");
    Id fcpl(H5Pcreate(H5P_FILE_CREATE));
    H5Pset_obj_track_times(fcpl.get(), false);
    file_ = Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
    if (!file_.valid())
        throw std::runtime_error(status_->open_error.empty()
                                     ? "HDF5 cannot create the file"
                                     : "cannot create the file: " + status_->open_error);
}

DiskFile::~DiskFile() {
    file_.reset();
}

const std::string& DiskFile::error() const {
    return status_->error;
}

std::string DiskFile::close() {
    if (file_.valid()) {
        const hid_t id = file_.get();
        const bool closed = H5Fclose(id) >= 0;
        file_ = Id();  // closed (or beyond saving): never closed twice
        if (!closed && status_->error.empty()) return "HDF5 could not close the file";
    }
    return status_->error;
}

}  // namespace gasm::h5
