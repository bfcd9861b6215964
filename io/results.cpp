// SPDX-License-Identifier: MIT
// Results out: the JSON document, the terminal table and the HDF5 output file.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "host/build_info.hpp"
#include "host/errors.hpp"
#include "io/h5util.hpp"
#include "io/scenes.hpp"

namespace gasm {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string temp_beside(const std::string& path) {
    static std::atomic<int> counter{0};
    fs::path p(path);
    std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    return folder + "/." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
}

// Syncs the finished temporary file and renames it over `path`; a file that may not be on disk
// whole (fsync failed: a full disk on NFS, a quota) never replaces anything.
void commit(const std::string& tmp, const std::string& path) {
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

}  // namespace

json results_to_json(const SceneBatch& batch, const BatchResult& r, const RunFacts& facts) {
    json scenes = json::array();
    const int64_t D = r.output_dim, K = r.max_iterations;
    for (int64_t s = 0; s < r.num_scenes(); ++s) {
        json ents = json::array();
        for (int64_t t = r.offsets[s]; t < r.offsets[s + 1]; ++t) {
            json pos = json::array();
            for (int64_t k = 0; k < D; ++k) pos.push_back(r.positions[t * D + k]);
            json e = {{"name", batch.names[t]}};
            if (!batch.types[t].empty()) e["type"] = batch.types[t];
            e["position"] = pos;
            ents.push_back(std::move(e));
        }
        json curv = json::array();
        for (int64_t k = 0; k < r.iterations[s]; ++k) curv.push_back(r.curvature[s * K + k]);
        json scene = {{"entities", ents},
                      {"curvature_evolution", curv},
                      {"iterations", r.iterations[s]},
                      {"converged", r.converged[s] != 0}};
        if (!batch.labels[s].empty()) scene["text"] = batch.labels[s];
        if (!batch.distance.empty() || !batch.angle.empty()) {
            json cons = {{"distance", json::array()}, {"angle", json::array()}};
            for (int64_t c = batch.dist_offsets[s]; c < batch.dist_offsets[s + 1]; ++c) {
                const auto& d = batch.distance[c];
                cons["distance"].push_back({d.i, d.j, d.target});
            }
            for (int64_t c = batch.angle_offsets[s]; c < batch.angle_offsets[s + 1]; ++c) {
                const auto& a = batch.angle[c];
                cons["angle"].push_back({a.i, a.j, a.k, a.theta});
            }
            scene["constraints"] = cons;
        }
        scenes.push_back(std::move(scene));
    }
    return {{"scenes", scenes},
            {"device", facts.device},
            {"weights", {{"path", facts.weights_path}, {"content_sha256", facts.weights_digest}}},
            {"timings",
             {{"total_seconds", facts.seconds_total}, {"model_seconds", facts.seconds_model}}},
            {"gasm_gpu_version", build::kVersion}};
}

namespace {
// What a terminal shows: control characters (escape sequences from a name or a text could
// move the cursor, retitle the window or clear the screen) become '?'; UTF-8 passes.
std::string printable(const std::string& s) {
    std::string out = s;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}
}  // namespace

std::string results_to_table(const SceneBatch& batch, const BatchResult& r) {
    std::ostringstream out;
    const int64_t D = r.output_dim, K = r.max_iterations;
    char line[512];
    for (int64_t s = 0; s < r.num_scenes(); ++s) {
        if (s) out << "\n";
        out << "scene " << s;
        if (!batch.labels[s].empty()) out << ": " << printable(batch.labels[s]);
        out << "\n";
        std::snprintf(line, sizeof line, "  %-20s %-12s %10s %10s %10s\n", "entity", "type", "x",
                      "y", "z");
        out << line;
        for (int64_t t = r.offsets[s]; t < r.offsets[s + 1]; ++t) {
            const std::string& type = batch.types[t].empty() ? "-" : batch.types[t];
            std::snprintf(line, sizeof line, "  %-20s %-12s", printable(batch.names[t]).c_str(),
                          printable(type).c_str());
            out << line;
            for (int64_t k = 0; k < D; ++k) {
                std::snprintf(line, sizeof line, " %10.4f", r.positions[t * D + k]);
                out << line;
            }
            out << "\n";
        }
        out << "  curvature per iteration:";
        for (int64_t k = 0; k < r.iterations[s]; ++k) {
            std::snprintf(line, sizeof line, " %.5f", r.curvature[s * K + k]);
            out << line;
        }
        out << "\n  iterations: " << r.iterations[s]
            << (r.converged[s] ? " (converged)" : " (not converged)") << "\n";
    }
    return out.str();
}

namespace {

// A (n) dataset of variable-length UTF-8 strings.
void write_strings(hid_t file, const char* name, const std::vector<std::string>& values) {
    h5::Id type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    const hsize_t n = ptrs.size();
    h5::Id space(H5Screate_simple(1, &n, nullptr));
    h5::Id ds(
        H5Dcreate2(file, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!ds.valid() ||
        (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0))
        throw std::runtime_error(std::string("cannot write dataset ") + name);
}

}  // namespace

void write_results_h5(const std::string& path, const SceneBatch& batch, const BatchResult& r,
                      const RunFacts& facts) {
    const std::string tmp = temp_beside(path);
    try {
        // Built in memory and written in one go: a full disk is a plain write error.
        h5::Id file = h5::create_in_memory(tmp);
        if (!file.valid()) throw std::runtime_error("HDF5 cannot create the file in memory");
        const hsize_t T = static_cast<hsize_t>(r.offsets.back());
        const hsize_t S = static_cast<hsize_t>(r.num_scenes());
        const hsize_t D = static_cast<hsize_t>(r.output_dim);
        const hsize_t K = static_cast<hsize_t>(r.max_iterations);
        hid_t f = file.get();
        h5::write_dataset(f, "/positions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {T, D},
                          r.positions.data(), false);
        h5::write_dataset(f, "/offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, {S + 1}, r.offsets.data(),
                          false);
        h5::write_dataset(f, "/iterations", H5T_STD_I32LE, H5T_NATIVE_INT32, {S},
                          r.iterations.data(), false);
        h5::write_dataset(f, "/converged", H5T_STD_U8LE, H5T_NATIVE_UINT8, {S}, r.converged.data(),
                          false);
        h5::write_dataset(f, "/curvature", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {S, K},
                          r.curvature.data(), false);
        write_strings(f, "names", batch.names);
        write_strings(f, "types", batch.types);
        h5::write_string_attr(f, "weights_sha256", facts.weights_digest);
        h5::write_string_attr(f, "weights_path", facts.weights_path);
        h5::write_string_attr(f, "device", facts.device);
        h5::write_string_attr(f, "gasm_gpu_version", build::kVersion);
        if (std::string why = h5::write_image(f, tmp); !why.empty()) throw std::runtime_error(why);
    } catch (const std::exception& e) {
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": " + e.what());
    }
    commit(tmp, path);
}

void write_text_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = temp_beside(path);
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw RuntimeFailure("cannot write " + path + ": " + std::strerror(errno));
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        ::unlink(tmp.c_str());
        throw RuntimeFailure("cannot write " + path + ": write failed");
    }
    commit(tmp, path);
}

}  // namespace gasm
