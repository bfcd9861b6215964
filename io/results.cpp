// SPDX-License-Identifier: MIT
// Results out: the JSON document, the terminal table and text files written atomically (the
// HDF5 output file is in results_h5.cpp).
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "host/build_info.hpp"
#include "host/errors.hpp"
#include "io/atomic_file.hpp"
#include "io/scenes.hpp"

namespace gasm {

using nlohmann::json;

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

void write_text_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = create_temp_beside(path);
    const int fd = open_temp_for_writing(tmp);
    FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "wb");
    if (!f) {
        const std::string why = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": " + why);
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        remove_temp(tmp);
        throw RuntimeFailure("cannot write " + path + ": write failed");
    }
    commit_temp(tmp, path);
}

}  // namespace gasm
