// SPDX-License-Identifier: MIT
// The HDF5 batch format of interface.md (/scenes/offsets, features, names, relations,
// edge_offsets + edges, constraints/{distance, collision, angle}). Shapes and sizes are checked
// against each other, and against the bytes the file really stores, before any array is read,
// so a hostile header cannot make it allocate; links and storage that lead to other files are
// refused, never followed.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/errors.hpp"
#include "host/text/utf8.hpp"
#include "io/h5util.hpp"
#include "io/scenes.hpp"

namespace gasm {

namespace {

struct Reader {
    std::string path;
    hid_t file;

    [[noreturn]] void refuse(const std::string& field, const std::string& problem) const {
        throw InputError(path + ", field '" + field + "': " + problem);
    }
    [[noreturn]] void refuse_scene(int64_t s, const std::string& field,
                                   const std::string& problem) const {
        throw InputError(path + ", scene " + std::to_string(s) + ", field '" + field +
                         "': " + problem);
    }

    // Whether the dataset is there; a link into another file is refused, never followed.
    bool has(const std::string& name) const {
        h5::LinkInfo link = h5::inspect_link(file, name);
        if (link.kind == h5::LinkKind::external || link.kind == h5::LinkKind::other)
            refuse(link.at, "is " + h5::describe_link(link) +
                                "; links to other files are not "
                                "followed");
        return h5::exists(file, name);
    }

    h5::Id open(const std::string& name) const {
        h5::Id ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
        if (!ds.valid()) refuse(name, "cannot open the dataset");
        h5::Id dcpl(H5Dget_create_plist(ds.get()));
        if (H5Pget_external_count(dcpl.get()) != 0 || H5Pget_layout(dcpl.get()) == H5D_VIRTUAL)
            refuse(name, "keeps its data in other files (external or virtual storage)");
        return ds;
    }

    // Refuses a dataset whose declared size the file does not back with stored bytes (HDF5
    // returns fill values for data never written, so a tiny file could declare terabytes), before
    // anything is allocated for it. Compressed data may be up to 1100 times smaller.
    void check_stored(const h5::Id& ds, const std::string& name, hsize_t count) const {
        h5::Id type(H5Dget_type(ds.get()));
        const double declared = static_cast<double>(count) * H5Tget_size(type.get());
        if (declared <= double(1 << 20)) return;
        h5::Id dcpl(H5Dget_create_plist(ds.get()));
        const double ratio = H5Pget_nfilters(dcpl.get()) > 0 ? 1100.0 : 1.0;
        const auto stored = static_cast<double>(H5Dget_storage_size(ds.get()));
        if (stored * ratio < declared)
            refuse(name, "declares " + std::to_string(static_cast<int64_t>(declared)) +
                             " bytes but the file stores " +
                             std::to_string(static_cast<int64_t>(stored)) +
                             " (never written, truncated or damaged)");
    }

    std::vector<hsize_t> shape(const h5::Id& ds, const std::string& name, size_t rank) const {
        std::vector<hsize_t> d = h5::dims(ds.get());
        if (d.size() != rank)
            refuse(name, "expected " + std::to_string(rank) + " dimensions, got " +
                             std::to_string(d.size()));
        return d;
    }

    void expect_class(const h5::Id& ds, const std::string& name, H5T_class_t cls,
                      const char* what) const {
        h5::Id type(H5Dget_type(ds.get()));
        if (H5Tget_class(type.get()) != cls) refuse(name, std::string("expected ") + what);
    }

    template <typename T>
    std::vector<T> read_all(const h5::Id& ds, const std::string& name, hid_t mem_type,
                            size_t count) const {
        check_stored(ds, name, count);
        std::vector<T> out(count);
        if (count > 0 && H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
            refuse(name, "cannot read the data (truncated or damaged file)");
        return out;
    }

    std::vector<int64_t> read_offsets(const std::string& name, hsize_t expected_len, int64_t total,
                                      const std::string& total_name) const {
        h5::Id ds = open(name);
        expect_class(ds, name, H5T_INTEGER, "integers");
        auto d = shape(ds, name, 1);
        if (expected_len == 0) refuse(name, "needs at least 2 values (one scene)");
        if (d[0] != expected_len)
            refuse(name, "expected " + std::to_string(expected_len) + " values, got " +
                             std::to_string(d[0]));
        auto v = read_all<int64_t>(ds, name, H5T_NATIVE_INT64, d[0]);
        if (v.empty() || v[0] != 0) refuse(name, "must start at 0");
        for (size_t i = 1; i < v.size(); ++i)
            if (v[i] < v[i - 1])
                refuse(name, "decreases at position " + std::to_string(i) + " (" +
                                 std::to_string(v[i - 1]) + " then " + std::to_string(v[i]) + ")");
        if (total >= 0 && v.back() != total)
            refuse(name, "ends at " + std::to_string(v.back()) + " but " + total_name + " has " +
                             std::to_string(total) + " rows");
        return v;
    }

    // A (rows, cols) float64 table such as the constraints.
    std::vector<double> read_table(const std::string& name, hsize_t cols, hsize_t& rows) const {
        h5::Id ds = open(name);
        expect_class(ds, name, H5T_FLOAT, "floating-point values");
        auto d = shape(ds, name, 2);
        if (d[1] != cols) refuse(name, "expected " + std::to_string(cols) + " columns");
        if (d[0] > (1u << 24)) refuse(name, "more than 2^24 rows");
        rows = d[0];
        auto v = read_all<double>(ds, name, H5T_NATIVE_DOUBLE, d[0] * d[1]);
        for (size_t i = 0; i < v.size(); ++i) {
            if (!std::isfinite(v[i]))
                refuse(name, "non-finite value at row " + std::to_string(i / cols));
            if (std::fabs(v[i]) > kMaxInputMagnitude)
                refuse(name, "value at row " + std::to_string(i / cols) +
                                 " is larger than the input limit of 1e30");
        }
        return v;
    }
};

// Refuses a finite value above kMaxInputMagnitude in a (rows, width) float block whose scene s
// owns rows row_offsets[s] .. row_offsets[s+1]-1 (non-finite values are left to
// SceneBatch::append, which names them).
void check_magnitude(const Reader& r, const std::vector<float>& v, int64_t width,
                     const std::vector<int64_t>& row_offsets, const std::string& name) {
    for (size_t i = 0; i < v.size(); ++i) {
        if (!(std::fabs(v[i]) > kMaxInputMagnitude) || !std::isfinite(v[i])) continue;
        const auto row = static_cast<int64_t>(i) / width;
        const auto s =
            std::upper_bound(row_offsets.begin(), row_offsets.end(), row) - row_offsets.begin() - 1;
        r.refuse_scene(s, name,
                       "value at row " + std::to_string(row - row_offsets[s]) +
                           " is larger than the input limit of 1e30");
    }
}

int64_t scene_of(const Reader& r, const std::string& name, double v, int64_t S, hsize_t row) {
    if (v != std::floor(v) || v < 0 || v >= static_cast<double>(S))
        r.refuse(name, "row " + std::to_string(row) + " names scene " + std::to_string(v) +
                           ", outside [0, " + std::to_string(S) + ")");
    return static_cast<int64_t>(v);
}

// An entity index from a float64 column; indices out of the scene are refused later, where the
// scene's size is known (SceneBatch::append).
int64_t index_at(const Reader& r, const std::string& name, const std::vector<double>& t,
                 hsize_t row, hsize_t cols, hsize_t col) {
    const double v = t[row * cols + col];
    if (v != std::floor(v) || std::fabs(v) > 9e15)
        r.refuse(name, "row " + std::to_string(row) + ", column " + std::to_string(col) +
                           ": entity index " + std::to_string(v) + " is not an integer");
    return static_cast<int64_t>(v);
}

void read_constraints(const Reader& r, int64_t S, std::vector<Scene>& scenes) {
    const std::string base = "/scenes/constraints/";
    hsize_t rows = 0;
    if (r.has(base + "distance")) {
        const std::string name = base + "distance";
        auto t = r.read_table(name, 4, rows);
        for (hsize_t i = 0; i < rows; ++i) {
            int64_t s = scene_of(r, name, t[i * 4], S, i);
            scenes[s].distance.push_back(
                {index_at(r, name, t, i, 4, 1), index_at(r, name, t, i, 4, 2), t[i * 4 + 3]});
        }
    }
    if (r.has(base + "angle")) {
        const std::string name = base + "angle";
        auto t = r.read_table(name, 5, rows);
        for (hsize_t i = 0; i < rows; ++i) {
            int64_t s = scene_of(r, name, t[i * 5], S, i);
            scenes[s].angle.push_back({index_at(r, name, t, i, 5, 1), index_at(r, name, t, i, 5, 2),
                                       index_at(r, name, t, i, 5, 3), t[i * 5 + 4]});
        }
    }
    if (r.has(base + "collision")) {
        auto t = r.read_table(base + "collision", 2, rows);
        for (hsize_t i = 0; i < rows; ++i) {
            int64_t s = scene_of(r, base + "collision", t[i * 2], S, i);
            if (scenes[s].collision)
                r.refuse_scene(s, base + "collision", "more than one collision row");
            scenes[s].collision = t[i * 2 + 1];
        }
    }
}

// Names as UTF-8 text (the JSON output must be able to carry them); `offsets` tell which
// scene a bad one belongs to.
std::vector<std::string> read_names(const Reader& r, hsize_t T,
                                    const std::vector<int64_t>& offsets) {
    const std::string name = "/scenes/names";
    h5::Id ds = r.open(name);
    r.expect_class(ds, name, H5T_STRING, "strings");
    auto d = r.shape(ds, name, 1);
    if (d[0] != T) r.refuse(name, "expected " + std::to_string(T) + " names");
    r.check_stored(ds, name, T);
    h5::Id ftype(H5Dget_type(ds.get()));
    std::vector<std::string> out;
    out.reserve(T);
    if (H5Tis_variable_str(ftype.get()) > 0) {
        h5::Id mem(H5Tcopy(H5T_C_S1));
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(ftype.get()));
        std::vector<char*> raw(T, nullptr);
        if (T > 0 && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
            r.refuse(name, "cannot read the names");
        for (char* p : raw) out.emplace_back(p ? p : "");
        h5::Id space(H5Dget_space(ds.get()));
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
    } else {
        size_t len = H5Tget_size(ftype.get());
        if (len == 0 || len > 4096) r.refuse(name, "names longer than 4096 bytes");
        if (T * len > (hsize_t{1} << 30)) r.refuse(name, "more than 1 GiB of names");
        // Room for a terminator: a null-padded name that fills its field (numpy's 'S' arrays)
        // keeps its last character.
        const size_t slot = len + 1;
        h5::Id mem(H5Tcopy(H5T_C_S1));
        H5Tset_size(mem.get(), slot);
        H5Tset_cset(mem.get(), H5Tget_cset(ftype.get()));
        std::vector<char> buf(T * slot);
        if (T > 0 && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
            r.refuse(name, "cannot read the names");
        for (hsize_t i = 0; i < T; ++i) {
            std::string v(buf.data() + i * slot, slot);
            out.push_back(v.substr(0, v.find('\0')));
        }
    }
    for (size_t t = 0; t < out.size(); ++t) {
        if (text::utf8::first_invalid(out[t]) == text::utf8::npos) continue;
        const auto s = std::upper_bound(offsets.begin(), offsets.end(), static_cast<int64_t>(t)) -
                       offsets.begin() - 1;
        r.refuse_scene(s, name,
                       "name of entity " + std::to_string(t - offsets[s]) + " is not valid UTF-8");
    }
    return out;
}

}  // namespace

SceneBatch read_scenes_h5(const std::string& path, int64_t F, const InputLimits& limits) {
    h5::silence_errors();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw InputError(path + ": not a regular file");
    const h5::CrashGuard guard(path + ": HDF5 crashed while reading it; the file is damaged",
                               static_cast<int>(ExitCode::input));
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw InputError(path + ": not an HDF5 file (or unreadable)");
    h5::Id file = h5::open_read(path);
    if (!file.valid()) throw InputError(path + ": HDF5 cannot open the file");
    Reader r{path, file.get()};
    if (!r.has("/scenes/offsets") || !r.has("/scenes/features"))
        throw InputError(path + ": expected /scenes/offsets and /scenes/features");

    h5::Id feat = r.open("/scenes/features");
    r.expect_class(feat, "/scenes/features", H5T_FLOAT, "floating-point values");
    auto fd = r.shape(feat, "/scenes/features", 2);
    if (static_cast<int64_t>(fd[1]) != F)
        r.refuse("/scenes/features", "has " + std::to_string(fd[1]) +
                                         " features per entity but the weights expect " +
                                         std::to_string(F));
    if (fd[0] == 0) r.refuse("/scenes/features", "holds no entity");
    if (fd[0] > static_cast<hsize_t>(limits.max_total_values / std::max<int64_t>(F, 1)))
        r.refuse("/scenes/features", "too large to load (" + std::to_string(fd[0]) + " x " +
                                         std::to_string(F) + " values)");
    const auto T = static_cast<int64_t>(fd[0]);

    h5::Id off_ds = r.open("/scenes/offsets");
    auto od = r.shape(off_ds, "/scenes/offsets", 1);
    if (od[0] < 2) r.refuse("/scenes/offsets", "needs at least 2 values (one scene)");
    // Every scene holds an entity, so there are at most T scenes.
    if (od[0] - 1 > fd[0])
        r.refuse("/scenes/offsets", "declares " + std::to_string(od[0] - 1) + " scenes but " +
                                        "/scenes/features holds only " + std::to_string(T) +
                                        " entities");
    const auto S = static_cast<int64_t>(od[0]) - 1;
    auto offsets = r.read_offsets("/scenes/offsets", od[0], T, "/scenes/features");
    for (int64_t s = 0; s < S; ++s) {
        if (offsets[s + 1] == offsets[s])
            r.refuse_scene(s, "/scenes/offsets", "the scene has no entities");
        if (offsets[s + 1] - offsets[s] > limits.max_entities_per_scene)
            r.refuse_scene(
                s, "/scenes/offsets",
                "over the limit of " + std::to_string(limits.max_entities_per_scene) + " entities");
    }
    std::vector<float> features =
        r.read_all<float>(feat, "/scenes/features", H5T_NATIVE_FLOAT, static_cast<size_t>(T * F));
    check_magnitude(r, features, F, offsets, "/scenes/features");

    std::vector<std::string> names;
    if (r.has("/scenes/names")) names = read_names(r, static_cast<hsize_t>(T), offsets);

    std::vector<float> relations;
    int64_t rdim = 0;
    if (r.has("/scenes/relations")) {
        h5::Id ds = r.open("/scenes/relations");
        r.expect_class(ds, "/scenes/relations", H5T_FLOAT, "floating-point values");
        auto d = r.shape(ds, "/scenes/relations", 2);
        int64_t want = 0;
        for (int64_t s = 0; s < S; ++s) {
            const int64_t n = offsets[s + 1] - offsets[s];
            want += n * n;
        }
        if (static_cast<int64_t>(d[0]) != want)
            r.refuse("/scenes/relations", "expected " + std::to_string(want) +
                                              " rows (the sum of N_s^2), got " +
                                              std::to_string(d[0]));
        rdim = static_cast<int64_t>(d[1]);
        if (rdim < 1) r.refuse("/scenes/relations", "needs at least one column");
        if (want > limits.max_total_values / rdim)
            r.refuse("/scenes/relations", "too large to load");
        relations = r.read_all<float>(ds, "/scenes/relations", H5T_NATIVE_FLOAT,
                                      static_cast<size_t>(want * rdim));
        std::vector<int64_t> rel_rows{0};  // each scene's first row of relations
        for (int64_t s = 0; s < S; ++s) {
            const int64_t n = offsets[s + 1] - offsets[s];
            rel_rows.push_back(rel_rows.back() + n * n);
        }
        check_magnitude(r, relations, rdim, rel_rows, "/scenes/relations");
    }

    std::vector<int64_t> edge_off, edges;
    const bool has_edges = r.has("/scenes/edge_offsets") || r.has("/scenes/edges");
    if (has_edges) {
        if (!r.has("/scenes/edge_offsets") || !r.has("/scenes/edges"))
            r.refuse("/scenes/edges", "edges and edge_offsets must come together");
        h5::Id ds = r.open("/scenes/edges");
        r.expect_class(ds, "/scenes/edges", H5T_INTEGER, "integers");
        auto d = r.shape(ds, "/scenes/edges", 2);
        if (d[1] != 2) r.refuse("/scenes/edges", "expected 2 columns (source, target)");
        if (d[0] > static_cast<hsize_t>(limits.max_total_values / 2))
            r.refuse("/scenes/edges", "too many edges");
        edge_off = r.read_offsets("/scenes/edge_offsets", static_cast<hsize_t>(S + 1),
                                  static_cast<int64_t>(d[0]), "/scenes/edges");
        edges = r.read_all<int64_t>(ds, "/scenes/edges", H5T_NATIVE_INT64, d[0] * 2);
    }

    std::vector<Scene> scenes(static_cast<size_t>(S));
    read_constraints(r, S, scenes);
    SceneBatch batch;
    batch.feature_dim = F;
    int64_t rel_row = 0;
    for (int64_t s = 0; s < S; ++s) {
        Scene& sc = scenes[s];
        const int64_t b = offsets[s], n = offsets[s + 1] - b;
        sc.features.assign(features.begin() + b * F, features.begin() + (b + n) * F);
        for (int64_t i = 0; i < n; ++i)
            sc.names.push_back(names.empty() ? "entity_" + std::to_string(i) : names[b + i]);
        if (rdim > 0) {
            sc.relation_dim = rdim;
            sc.relations.assign(relations.begin() + rel_row * rdim,
                                relations.begin() + (rel_row + n * n) * rdim);
            rel_row += n * n;
        }
        if (has_edges) {
            sc.custom_edges = true;
            for (int64_t e = edge_off[s]; e < edge_off[s + 1]; ++e)
                sc.edges.push_back({edges[e * 2], edges[e * 2 + 1]});
        }
        batch.append(sc, path + ", scene " + std::to_string(s));
        sc = Scene();  // release the copy as soon as it has joined the batch
    }
    return batch;
}

}  // namespace gasm
