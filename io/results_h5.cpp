// SPDX-License-Identifier: MIT
// The HDF5 output file (interface.md, plus /names and /types), written two ways that give the
// same bytes for the same results:
//
// - write_results_h5: a whole batch, built in memory and written in one go;
// - ResultsH5Writer: a batch too large for memory. The file is laid out first on disk, through
//   gasm's own HDF5 driver, with every dataset, string and attribute in the order
//   write_results_h5 uses, and only a placeholder in the numeric datasets; HDF5 then closes it.
//   The results are written into those contiguous, unfiltered datasets as the chunks finish,
//   straight to the byte ranges HDF5 allocated for them (H5Dget_offset), and the file is
//   renamed into place at the end.
//
// The numbers do not decide where HDF5 puts anything; the strings do (they live in the global
// heap), so both writers write /names and /types in the same pieces (kStringPiece rows per
// H5Dwrite: within one write HDF5 places the strings of one conversion buffer back to front).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "host/build_info.hpp"
#include "host/errors.hpp"
#include "io/atomic_file.hpp"
#include "io/h5util.hpp"
#include "io/scenes.hpp"

namespace gasm {

namespace {

// Rows of /names and /types per H5Dwrite; one conversion buffer of HDF5's default 1 MiB.
constexpr int64_t kStringPiece = 65536;

// The numeric datasets are written as the bytes of native arrays.
static_assert(std::endian::native == std::endian::little,
              "the HDF5 output stores little-endian numbers; a big-endian build needs byte swaps "
              "in ResultsH5Writer::put");

using Strings = ResultsH5Writer::Strings;

// A (n) dataset of variable-length UTF-8 strings, filled from `values` kStringPiece at a time.
void write_strings(hid_t file, const char* name, int64_t n, const Strings& values) {
    h5::Id type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const auto count = static_cast<hsize_t>(n);
    h5::Id space(H5Screate_simple(1, &count, nullptr));
    // No modification times in the object header: the same results give the same bytes.
    h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(dcpl.get(), false);
    h5::Id ds(
        H5Dcreate2(file, name, type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!ds.valid()) throw std::runtime_error(std::string("cannot write dataset ") + name);
    for (int64_t first = 0; first < n; first += kStringPiece) {
        const int64_t last = std::min(n, first + kStringPiece);
        const std::vector<std::string> piece = values(first, last);
        std::vector<const char*> ptrs;
        ptrs.reserve(piece.size());
        for (const auto& v : piece) ptrs.push_back(v.c_str());
        const auto start = static_cast<hsize_t>(first);
        const auto rows = static_cast<hsize_t>(last - first);
        h5::Id file_space(H5Dget_space(ds.get()));
        h5::Id mem_space(H5Screate_simple(1, &rows, nullptr));
        const hid_t fs = file_space.get();
        if (ptrs.size() != rows ||
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, nullptr, &rows, nullptr) < 0 ||
            H5Dwrite(ds.get(), type.get(), mem_space.get(), fs, H5P_DEFAULT, ptrs.data()) < 0)
            throw std::runtime_error(std::string("cannot write dataset ") + name);
    }
}

// Writes element 0 of a new dataset: enough for HDF5 to allocate its storage where a full write
// would have put it. The rest is written later, past HDF5.
void write_placeholder(hid_t file, const char* name, hid_t file_type, hid_t mem_type,
                       const std::vector<hsize_t>& dims) {
    std::vector<hsize_t> first(dims.size(), 1);
    std::vector<char> zero(16, 0);
    h5::Id parent = h5::ensure_parent(file, name);
    const std::string path(name);
    const std::string leaf = path.substr(path.rfind('/') + 1);
    h5::Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(dcpl.get(), false);  // as h5::write_dataset
    h5::Id ds(H5Dcreate2(parent.get(), leaf.c_str(), file_type, space.get(), H5P_DEFAULT,
                         dcpl.get(), H5P_DEFAULT));
    if (!ds.valid()) throw std::runtime_error("cannot create dataset " + path);
    std::vector<hsize_t> start(dims.size(), 0);
    h5::Id file_space(H5Dget_space(ds.get()));
    h5::Id mem_space(H5Screate_simple(static_cast<int>(first.size()), first.data(), nullptr));
    const hid_t fs = file_space.get();
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start.data(), nullptr, first.data(), nullptr) < 0 ||
        H5Dwrite(ds.get(), mem_type, mem_space.get(), fs, H5P_DEFAULT, zero.data()) < 0)
        throw std::runtime_error("cannot write dataset " + path);
}

// The numbers of a whole batch, or none (placeholders, filled in later).
struct Numbers {
    const float* positions = nullptr;     // (T, D)
    const int32_t* iterations = nullptr;  // S
    const uint8_t* converged = nullptr;   // S
    const float* curvature = nullptr;     // (S, K)
};

// Every object of the results file, in the order of the format's first writer.
void lay_out(hid_t f, const std::vector<int64_t>& offsets, hsize_t D, hsize_t K,
             const Numbers& numbers, const Strings& names, const Strings& types,
             const RunFacts& facts) {
    const auto S = static_cast<hsize_t>(offsets.size() - 1);
    const auto T = static_cast<hsize_t>(offsets.back());
    auto put = [&](const char* name, hid_t file_type, hid_t mem_type,
                   const std::vector<hsize_t>& dims, const void* data) {
        if (data)
            h5::write_dataset(f, name, file_type, mem_type, dims, data, /*chunked=*/false);
        else
            write_placeholder(f, name, file_type, mem_type, dims);
    };
    put("/positions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {T, D}, numbers.positions);
    h5::write_dataset(f, "/offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, {S + 1}, offsets.data(),
                      /*chunked=*/false);
    put("/iterations", H5T_STD_I32LE, H5T_NATIVE_INT32, {S}, numbers.iterations);
    put("/converged", H5T_STD_U8LE, H5T_NATIVE_UINT8, {S}, numbers.converged);
    put("/curvature", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {S, K}, numbers.curvature);
    write_strings(f, "names", static_cast<int64_t>(T), names);
    write_strings(f, "types", static_cast<int64_t>(T), types);
    h5::write_string_attr(f, "weights_sha256", facts.weights_digest);
    h5::write_string_attr(f, "weights_path", facts.weights_path);
    h5::write_string_attr(f, "device", facts.device);
    h5::write_string_attr(f, "gasm_gpu_version", build::kVersion);
}

Strings strings_of(const std::vector<std::string>& all) {
    return [&all](int64_t first, int64_t last) {
        return std::vector<std::string>(all.begin() + first, all.begin() + last);
    };
}

haddr_t data_address(hid_t file, const char* name) {
    h5::Id ds(H5Dopen2(file, name, H5P_DEFAULT));
    const haddr_t at = ds.valid() ? H5Dget_offset(ds.get()) : HADDR_UNDEF;
    if (at == HADDR_UNDEF) throw std::runtime_error(std::string("no storage for ") + name);
    return at;
}

}  // namespace

void write_results_h5(const std::string& path, const SceneBatch& batch, const BatchResult& r,
                      const RunFacts& facts) {
    const std::string tmp = create_temp_beside(path);
    try {
        // Built in memory and written in one go: a full disk is a plain write error.
        h5::Id file = h5::create_in_memory(tmp);
        if (!file.valid()) throw std::runtime_error("HDF5 cannot create the file in memory");
        const Numbers numbers{r.positions.data(), r.iterations.data(), r.converged.data(),
                              r.curvature.data()};
        lay_out(file.get(), r.offsets, static_cast<hsize_t>(r.output_dim),
                static_cast<hsize_t>(r.max_iterations), numbers, strings_of(batch.names),
                strings_of(batch.types), facts);
        if (std::string why = h5::write_image(file.get(), tmp); !why.empty())
            throw std::runtime_error(why);
    } catch (const std::exception& e) {
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": " + e.what());
    }
    commit_temp(tmp, path);
}

ResultsH5Writer::ResultsH5Writer(const std::string& path, std::vector<int64_t> offsets,
                                 int64_t output_dim, int64_t max_iterations, const RunFacts& facts,
                                 const Strings& names, const Strings& types)
    : path_(path),
      tmp_(create_temp_beside(path)),
      offsets_(std::move(offsets)),
      D_(output_dim),
      K_(max_iterations) {
    std::unique_ptr<h5::DiskFile> file;
    try {
        file = std::make_unique<h5::DiskFile>(tmp_);
        const hid_t f = file->get();
        lay_out(f, offsets_, static_cast<hsize_t>(D_), static_cast<hsize_t>(K_), {}, names, types,
                facts);
        positions_at_ = data_address(f, "/positions");
        iterations_at_ = data_address(f, "/iterations");
        converged_at_ = data_address(f, "/converged");
        curvature_at_ = data_address(f, "/curvature");
        if (std::string why = file->close(); !why.empty()) throw std::runtime_error(why);
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error(std::strerror(errno));
    } catch (const Error&) {
        file.reset();
        discard();
        throw;  // an input error found while the names were read stays an input error
    } catch (const std::exception& e) {
        // After a failed write HDF5 reads back what never landed and fails in its own words;
        // the write that failed is the reason to give.
        const std::string why = file && !file->error().empty() ? file->error() : e.what();
        file.reset();
        discard();
        throw RuntimeFailure("cannot write " + path_ + ": " + why);
    }
}

ResultsH5Writer::~ResultsH5Writer() {
    discard();
}

void ResultsH5Writer::discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) remove_temp(tmp_);
    tmp_.clear();
}

void ResultsH5Writer::write_at(uint64_t at, const void* data, size_t bytes) {
    const auto* p = static_cast<const char*>(data);
    auto off = static_cast<off_t>(at);
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd_, p, bytes, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = n < 0 ? std::strerror(errno) : "no progress";
            discard();
            throw RuntimeFailure("cannot write " + path_ + ": " + why);
        }
        p += n;
        off += n;
        bytes -= static_cast<size_t>(n);
    }
}

void ResultsH5Writer::put(int64_t first, const BatchResult& part) {
    if (fd_ < 0) throw RuntimeFailure("cannot write " + path_ + ": the file was given up");
    const int64_t S = part.num_scenes();
    if (first < 0 || first + S > static_cast<int64_t>(offsets_.size()) - 1 ||
        offsets_[first + S] - offsets_[first] != part.offsets.back() || part.output_dim != D_ ||
        part.max_iterations != K_)
        throw RuntimeFailure("cannot write " + path_ + ": results of scenes " +
                             std::to_string(first) + " to " + std::to_string(first + S) +
                             " do not fit the batch");
    write_at(positions_at_ + static_cast<uint64_t>(offsets_[first] * D_) * sizeof(float),
             part.positions.data(), part.positions.size() * sizeof(float));
    write_at(iterations_at_ + static_cast<uint64_t>(first) * sizeof(int32_t),
             part.iterations.data(), part.iterations.size() * sizeof(int32_t));
    write_at(converged_at_ + static_cast<uint64_t>(first), part.converged.data(),
             part.converged.size());
    write_at(curvature_at_ + static_cast<uint64_t>(first * K_) * sizeof(float),
             part.curvature.data(), part.curvature.size() * sizeof(float));
    scenes_put_ += S;
}

void ResultsH5Writer::commit() {
    if (fd_ < 0) throw RuntimeFailure("cannot write " + path_ + ": the file was given up");
    const auto S = static_cast<int64_t>(offsets_.size()) - 1;
    if (scenes_put_ != S) {
        discard();
        throw RuntimeFailure("cannot write " + path_ + ": results of " +
                             std::to_string(scenes_put_) + " of " + std::to_string(S) +
                             " scenes arrived");
    }
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) {
        const std::string why = std::strerror(errno);
        discard();
        throw RuntimeFailure("cannot write " + path_ + ": " + why);
    }
    const std::string tmp = tmp_;
    tmp_.clear();  // commit_temp removes it itself on failure
    commit_temp(tmp, path_);
}

}  // namespace gasm
