// SPDX-License-Identifier: MIT
// HDF5 helpers.
#include "io/h5util.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <stdexcept>

#include "io/atomic_file.hpp"

namespace gasm::h5 {

void Id::reset() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
        case H5I_FILE:
            H5Fclose(id_);
            break;
        case H5I_GROUP:
            H5Gclose(id_);
            break;
        case H5I_DATASET:
            H5Dclose(id_);
            break;
        case H5I_DATASPACE:
            H5Sclose(id_);
            break;
        case H5I_DATATYPE:
            H5Tclose(id_);
            break;
        case H5I_ATTR:
            H5Aclose(id_);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(id_);
            break;
        default:
            break;
    }
    id_ = H5I_INVALID_HID;
}

void silence_errors() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {

constexpr int kGuardedSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
constexpr int kMaxGuardDepth = 8;

// The innermost guard's message and code, read by the handler (async-signal-safe: write and
// _exit only).
struct GuardFrame {
    char message[2048];
    size_t length;
    int exit_code;
};
GuardFrame g_frames[kMaxGuardDepth];
volatile sig_atomic_t g_depth = 0;
struct sigaction g_previous[std::size(kGuardedSignals)];
stack_t g_previous_stack;
alignas(16) char g_alt_stack[1 << 16];  // a crash from a blown stack still runs the handler

extern "C" void on_guarded_crash(int) {
    const int depth = g_depth;
    const int top = std::min(depth, kMaxGuardDepth) - 1;
    if (top >= 0) {
        const GuardFrame& f = g_frames[top];
        for (size_t done = 0; done < f.length;) {
            const ssize_t n = ::write(2, f.message + done, f.length - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        ::_exit(f.exit_code);
    }
    ::_exit(1);
}

}  // namespace

CrashGuard::CrashGuard(const std::string& message, int exit_code) {
#ifndef GASM_NO_CRASH_GUARD
    const int depth = g_depth;
    if (depth < kMaxGuardDepth) {
        GuardFrame& f = g_frames[depth];
        const std::string line = "gasm_gpu: error: " + message + "\n";
        f.length = std::min(line.size(), sizeof f.message);
        std::memcpy(f.message, line.data(), f.length);
        f.exit_code = exit_code;
    }
    if (depth == 0) {
        stack_t alt{};
        alt.ss_sp = g_alt_stack;
        alt.ss_size = sizeof g_alt_stack;
        ::sigaltstack(&alt, &g_previous_stack);
        struct sigaction act {};
        act.sa_handler = on_guarded_crash;
        act.sa_flags = SA_ONSTACK | SA_RESETHAND;
        sigemptyset(&act.sa_mask);
        for (size_t i = 0; i < std::size(kGuardedSignals); ++i)
            ::sigaction(kGuardedSignals[i], &act, &g_previous[i]);
    }
    g_depth = depth + 1;
#else
    (void)message;
    (void)exit_code;
#endif
}

CrashGuard::~CrashGuard() {
#ifndef GASM_NO_CRASH_GUARD
    if (g_depth == 0) return;
    g_depth = g_depth - 1;
    if (g_depth == 0) {
        for (size_t i = 0; i < std::size(kGuardedSignals); ++i)
            ::sigaction(kGuardedSignals[i], &g_previous[i], nullptr);
        ::sigaltstack(&g_previous_stack, nullptr);
    }
#endif
}

Id open_read(const std::string& path) {
    silence_errors();
    Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file.valid()) return file;
    // A file system without locks makes HDF5's own locking fail: open without it.
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_file_locking(fapl.get(), false, true);
    return Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
}

Id create_in_memory(const std::string& name) {
    silence_errors();
    // The 1.8 file format checksums the superblock and every object header, so a flipped bit
    // in metadata is refused on open; files stay readable by HDF5 1.8 and later (h5py, h5dump).
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
    H5Pset_fapl_core(fapl.get(), size_t{1} << 20, /*backing_store=*/false);
    // No modification times in the root group's header: same content, same bytes.
    Id fcpl(H5Pcreate(H5P_FILE_CREATE));
    H5Pset_obj_track_times(fcpl.get(), false);
    return Id(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
}

namespace {

// Bob Jenkins' lookup3 hash (hashlittle, byte by byte), the checksum HDF5 puts on its metadata.
uint32_t lookup3(const unsigned char* k, size_t length) {
    auto rot = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + static_cast<uint32_t>(length);
    auto word = [&](size_t at) {
        return uint32_t{k[at]} | uint32_t{k[at + 1]} << 8 | uint32_t{k[at + 2]} << 16 |
               uint32_t{k[at + 3]} << 24;
    };
    while (length > 12) {
        a += word(0);
        b += word(4);
        c += word(8);
        a -= c, a ^= rot(c, 4), c += b;
        b -= a, b ^= rot(a, 6), a += c;
        c -= b, c ^= rot(b, 8), b += a;
        a -= c, a ^= rot(c, 16), c += b;
        b -= a, b ^= rot(a, 19), a += c;
        c -= b, c ^= rot(b, 4), b += a;
        length -= 12;
        k += 12;
    }
    if (length == 0) return c;
    uint32_t tail[3] = {0, 0, 0};
    for (size_t i = 0; i < length; ++i) tail[i / 4] += uint32_t{k[i]} << (8 * (i % 4));
    a += tail[0];
    b += tail[1];
    c += tail[2];
    c ^= b, c -= rot(b, 14);
    a ^= c, a -= rot(c, 11);
    b ^= a, b -= rot(a, 25);
    c ^= b, c -= rot(b, 16);
    a ^= c, a -= rot(c, 4);
    b ^= a, b -= rot(a, 14);
    c ^= b, c -= rot(b, 24);
    return c;
}

}  // namespace

uint32_t fletcher32(const void* data, size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(data);
    auto fold = [](uint32_t x) { return (x & 0xffffu) + (x >> 16); };
    uint32_t low = 0, high = 0;
    size_t words = bytes / 2;
    while (words > 0) {
        // A block of n words adds their sum to `low` and, to `high`, n times the old `low` plus
        // each word times the number of additions it takes part in: HDF5's running sums in a
        // form without a chain from word to word (which vectorises). Both are exact modulo 2^32.
        const auto n = static_cast<uint32_t>(std::min<size_t>(words, 360));
        uint32_t sum = 0, weighted = 0;
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t w = uint32_t{b[2 * i]} << 8 | uint32_t{b[2 * i + 1]};
            sum += w;
            weighted += (n - i) * w;
        }
        high += n * low + weighted;
        low += sum;
        b += 2 * size_t{n};
        words -= n;
        low = fold(low);
        high = fold(high);
    }
    if (bytes % 2 != 0) {  // a last odd byte counts as the high half of a word
        low += uint32_t{*b} << 8;
        high += low;
        low = fold(low);
        high = fold(high);
    }
    low = fold(low);
    high = fold(high);
    return high << 16 | low;
}

namespace {

// Whether HDF5 opens this image (from memory, read-only): its superblock and root group.
bool image_opens(std::vector<char>& image) {
    static std::atomic<int> counter{0};
    Id fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_fapl_core(fapl.get(), size_t{1} << 20, /*backing_store=*/false);
    if (H5Pset_file_image(fapl.get(), image.data(), image.size()) < 0) return false;
    const std::string name = "gasm-image-check-" + std::to_string(counter++);
    Id file(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()));
    return file.valid();
}

// HDF5 1.10 clears the superblock's status flags in the image H5Fget_file_image returns but
// keeps the checksum it computed with them set, so the image of a version 2 or 3 superblock
// does not open. Clears the flags and puts the right checksum back; false if the image does
// not start with such a superblock.
bool repair_superblock(std::vector<char>& image) {
    static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    auto* b = reinterpret_cast<unsigned char*>(image.data());
    if (image.size() < 12 || std::memcmp(b, kSignature, 8) != 0 || (b[8] != 2 && b[8] != 3))
        return false;
    const size_t offsets = b[9], checksum_at = 12 + 4 * offsets;
    if ((offsets != 4 && offsets != 8) || image.size() < checksum_at + 4) return false;
    b[11] = 0;  // status flags: closed
    const uint32_t sum = lookup3(b, checksum_at);
    for (int i = 0; i < 4; ++i) b[checksum_at + i] = static_cast<unsigned char>(sum >> (8 * i));
    return true;
}

}  // namespace

std::string write_image(hid_t file, const std::string& path) {
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) return "HDF5 flush failed";
    const ssize_t size = H5Fget_file_image(file, nullptr, 0);
    if (size <= 0) return "HDF5 cannot give the file image";
    std::vector<char> image(static_cast<size_t>(size));
    if (H5Fget_file_image(file, image.data(), image.size()) != size)
        return "HDF5 cannot give the file image";
    if (!image_opens(image) && !(repair_superblock(image) && image_opens(image)))
        return "HDF5 gave a file image it cannot open again";
    const int fd = open_temp_for_writing(path);
    if (fd < 0) return std::string("cannot create the file: ") + std::strerror(errno);
    size_t done = 0;
    std::string why;
    while (done < image.size() && why.empty()) {
        const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
        if (n > 0)
            done += static_cast<size_t>(n);
        else if (n < 0 && errno != EINTR)
            why = std::string("write failed: ") + std::strerror(errno);
        else if (n == 0)
            why = "write failed: no progress";
    }
    // NFS and quotas report a full disk as late as here.
    if (why.empty() && ::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        why = std::string("fsync failed: ") + std::strerror(errno);
    if (::close(fd) != 0 && why.empty()) why = std::string("close failed: ") + std::strerror(errno);
    return why;
}

namespace {
bool link_info(hid_t loc, const std::string& name, H5L_info_t& info) {
    return H5Lget_info(loc, name.c_str(), &info, H5P_DEFAULT) >= 0;
}
}  // namespace

bool exists(hid_t loc, const std::string& path) {
    size_t pos = 0;
    while (true) {
        size_t next = path.find('/', pos + 1);
        std::string prefix = path.substr(0, next);
        if (!prefix.empty() && prefix != "/") {
            if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
            // Never walk through a link into another file; soft links stay inside this one.
            H5L_info_t info{};
            if (next != std::string::npos &&
                (!link_info(loc, prefix, info) ||
                 (info.type != H5L_TYPE_HARD && info.type != H5L_TYPE_SOFT)))
                return false;
        }
        if (next == std::string::npos) return true;
        pos = next;
    }
}

std::string link_target(hid_t loc, const char* name, LinkKind kind) {
    H5L_info_t info{};
    if (kind != LinkKind::soft && kind != LinkKind::external) return "";
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return "";
    const size_t size = info.u.val_size;
    if (size == 0 || size > (1u << 16)) return "";
    std::string buf(size, '\0');
    if (H5Lget_val(loc, name, buf.data(), size, H5P_DEFAULT) < 0) return "";
    if (kind == LinkKind::soft) return buf.substr(0, buf.find('\0'));
    const char* file = nullptr;
    const char* object = nullptr;
    unsigned flags = 0;
    if (H5Lunpack_elink_val(buf.data(), size, &flags, &file, &object) < 0 || !file || !object)
        return "";
    return std::string(file) + ":" + object;
}

LinkInfo inspect_link(hid_t loc, const std::string& path) {
    LinkInfo out;
    size_t pos = 1;
    while (pos <= path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        out.at = path.substr(0, next);
        // Every level above this one is a hard link, so this call opens nothing outside.
        H5L_info_t info{};
        if (H5Lexists(loc, out.at.c_str(), H5P_DEFAULT) <= 0 || !link_info(loc, out.at, info)) {
            out.kind = LinkKind::missing;
            return out;
        }
        if (info.type != H5L_TYPE_HARD) {
            out.kind = info.type == H5L_TYPE_SOFT       ? LinkKind::soft
                       : info.type == H5L_TYPE_EXTERNAL ? LinkKind::external
                                                        : LinkKind::other;
            out.target = link_target(loc, out.at.c_str(), out.kind);
            return out;
        }
        pos = next + 1;
    }
    out.kind = LinkKind::hard;
    return out;
}

std::string describe_link(const LinkInfo& info) {
    switch (info.kind) {
        case LinkKind::soft:
            return "a soft link to '" + info.target + "'";
        case LinkKind::external:
            return "an external link to '" + info.target + "'";
        case LinkKind::other:
            return "a user-defined link";
        case LinkKind::missing:
            return "missing";
        case LinkKind::hard:
            return "a hard link";
    }
    return "a link";
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
    // One byte more than the stored size: a null-padded string that fills its field (what
    // h5py writes for bytes) would otherwise lose its last character to the terminator.
    std::string buf(size + 1, '\0');
    Id mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), size + 1);
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
            child = Id(H5Gcreate2(group.get(), name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
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
