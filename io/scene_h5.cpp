// SPDX-License-Identifier: MIT
// The HDF5 batch format of interface.md (/scenes/offsets, features, names, relations,
// edge_offsets + edges, constraints/{distance, collision, angle}), read a range of whole scenes
// at a time so that a file of any size runs in bounded memory.
//
// Opening the file makes every check that needs the whole file, reading only the small arrays:
// shapes and types, declared sizes against the bytes the file really stores (before anything is
// allocated, so a hostile header cannot make it allocate), the offsets (start at 0, never
// decrease, end where the data ends, no empty or oversized scene), every name (valid UTF-8, a
// piece at a time) and every row of the constraint tables. Reading a range then checks the
// values it reads (finite, within the input limit, indices inside their scene), naming scenes
// by their index in the whole file, with the messages the whole-file reader always gave. Links
// and storage that lead to other files are refused, never followed.
//
// Constraint rows may come in any order of scenes, so opening sorts their row numbers by scene
// (12 bytes a row, at most 2^24 rows a table); a range then reads its rows as one block where
// they are consecutive (the usual case: tables written scene by scene) and one by one otherwise.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <numeric>

#include "host/errors.hpp"
#include "host/text/utf8.hpp"
#include "io/h5util.hpp"
#include "io/scenes.hpp"

namespace gasm {

namespace {

// Rows of a constraint table, or names, checked per read while the file is opened.
constexpr hsize_t kTableSlab = 65536;

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

    // Refuses a member of `group` that is not in `known`: a misspelt dataset (features for
    // featurs, say) would otherwise be ignored and the scenes run without it. A group that is
    // not there is for the caller's other checks; something else in its place (a dataset, a
    // link to nothing) is refused, or its tables would be skipped without a word.
    void refuse_unknown_members(const std::string& group,
                                std::initializer_list<const char*> known) const {
        if (H5Lexists(file, group.c_str(), H5P_DEFAULT) <= 0) return;
        (void)has(group);  // refuses a link into another file
        H5O_info_t object{};
        if (H5Oexists_by_name(file, group.c_str(), H5P_DEFAULT) <= 0 ||
            H5Oget_info_by_name2(file, group.c_str(), &object, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
            object.type != H5O_TYPE_GROUP)
            refuse(group, "expected a group (of " + list_of(known) + ")");
        h5::Id g(H5Gopen2(file, group.c_str(), H5P_DEFAULT));
        if (!g.valid()) refuse(group, "cannot open the group");
        H5G_info_t info{};
        if (H5Gget_info(g.get(), &info) < 0) refuse(group, "cannot list its members");
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            char name[256] = {};
            const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                                   name, sizeof name, H5P_DEFAULT);
            if (len < 0) refuse(group, "cannot list its members");
            const std::string member(name, std::min<size_t>(static_cast<size_t>(len), 255));
            bool ok = static_cast<size_t>(len) < sizeof name;
            if (ok) {
                ok = false;
                for (const char* k : known) ok = ok || member == k;
            }
            if (!ok)
                refuse(group + "/" + shown_in_message(member),
                       "is not part of the scene format (a misspelling?); " + group +
                           " holds only " + list_of(known));
        }
    }

    static std::string list_of(std::initializer_list<const char*> names) {
        std::string list;
        for (const char* k : names) list += (list.empty() ? "" : ", ") + std::string(k);
        return list;
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
        // A dataset created but never (or only partly) written reads as fill values, zeros
        // by default: refused whatever its size.
        if (count > 0) check_written(ds, name);
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

    // For a chunked dataset every chunk must be stored (HDF5 allocates a chunk when it is
    // first written); HDF5's own space status cannot tell, as it compares bytes and so calls
    // every compressed dataset partly allocated. Other layouts are allocated whole or not.
    void check_written(const h5::Id& ds, const std::string& name) const {
        h5::Id dcpl(H5Dget_create_plist(ds.get()));
        h5::Id space(H5Dget_space(ds.get()));
        const int rank = H5Sget_simple_extent_ndims(space.get());
        bool whole = true, none = false;
        if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED && rank > 0 && rank <= 8) {
            hsize_t dims[8] = {}, chunk[8] = {};
            H5Sget_simple_extent_dims(space.get(), dims, nullptr);
            if (H5Pget_chunk(dcpl.get(), rank, chunk) != rank)
                refuse(name, "cannot read its chunk layout");
            double expected = 1;
            for (int i = 0; i < rank; ++i)
                expected *=
                    chunk[i] > 0 ? static_cast<double>((dims[i] + chunk[i] - 1) / chunk[i]) : 0.0;
            hsize_t stored = 0;
            if (H5Dget_num_chunks(ds.get(), space.get(), &stored) < 0)
                refuse(name, "cannot count its stored chunks (damaged file)");
            whole = static_cast<double>(stored) >= expected;
            none = stored == 0;
        } else {
            H5D_space_status_t status{};
            if (H5Dget_space_status(ds.get(), &status) < 0)
                refuse(name, "cannot read its storage status (damaged file)");
            whole = status == H5D_SPACE_STATUS_ALLOCATED;
            none = status == H5D_SPACE_STATUS_NOT_ALLOCATED;
        }
        if (none) refuse(name, "was created but never written (it would read as fill values)");
        if (!whole) refuse(name, "was only partly written (the rest would read as fill values)");
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

    // Rows [first, first + rows) of a (R, cols) dataset (cols = 1 for a 1-D one), whose
    // declared size has been checked against its storage.
    template <typename T>
    std::vector<T> read_rows(const h5::Id& ds, const std::string& name, hid_t mem_type,
                             hsize_t first, hsize_t rows, hsize_t cols, int rank) const {
        std::vector<T> out(static_cast<size_t>(rows * cols));
        if (rows == 0) return out;
        h5::Id file_space(H5Dget_space(ds.get()));
        const hsize_t start[2] = {first, 0};
        const hsize_t count[2] = {rows, cols};
        h5::Id mem_space(H5Screate_simple(rank, count, nullptr));
        const hid_t fs = file_space.get();
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
            H5Dread(ds.get(), mem_type, mem_space.get(), fs, H5P_DEFAULT, out.data()) < 0)
            refuse(name, "cannot read the data (truncated or damaged file)");
        return out;
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
};

// Refuses a finite value above kMaxInputMagnitude in a (rows, width) float block of scenes
// first, first + 1, ..., where local scene s owns rows row_offsets[s] .. row_offsets[s+1]-1
// (non-finite values are left to SceneBatch::append, which names them).
void check_magnitude(const Reader& r, const std::vector<float>& v, int64_t width,
                     const std::vector<int64_t>& row_offsets, int64_t first,
                     const std::string& name) {
    for (size_t i = 0; i < v.size(); ++i) {
        if (!(std::fabs(v[i]) > kMaxInputMagnitudeF) || !std::isfinite(v[i])) continue;
        const auto row = static_cast<int64_t>(i) / width;
        const auto s =
            std::upper_bound(row_offsets.begin(), row_offsets.end(), row) - row_offsets.begin() - 1;
        r.refuse_scene(first + s, name,
                       "value at row " + std::to_string(row - row_offsets[s]) + ", column " +
                           std::to_string(static_cast<int64_t>(i) % width) +
                           " is larger than the input limit of 1e30");
    }
}

int64_t scene_of(const Reader& r, const std::string& name, double v, int64_t S, hsize_t row) {
    if (v != std::floor(v))  // NaN too
        r.refuse(name, "row " + std::to_string(row) + ", column 0: scene " + std::to_string(v) +
                           " is not an integer");
    if (v < 0 || v >= static_cast<double>(S))
        r.refuse(name, "row " + std::to_string(row) + " names scene " + std::to_string(v) +
                           ", outside [0, " + std::to_string(S) + ")");
    return static_cast<int64_t>(v);
}

// An entity index from a float64 column; indices out of the scene are refused later, where the
// scene's size is known (SceneBatch::append).
int64_t index_at(const Reader& r, const std::string& name, const double* row_values, hsize_t row,
                 hsize_t col) {
    const double v = row_values[col];
    if (v != std::floor(v) || std::fabs(v) > 9e15)
        r.refuse(name, "row " + std::to_string(row) + ", column " + std::to_string(col) +
                           ": entity index " + std::to_string(v) + " is not an integer");
    return static_cast<int64_t>(v);
}

// One constraint table, (C, cols) float64, column 0 the scene: its rows sorted by scene.
struct Table {
    std::string name;
    hsize_t cols = 0;
    h5::Id ds;
    std::vector<int64_t> scene;  // scene of the k-th row in scene order
    std::vector<uint32_t> row;   // the row number of the k-th row in scene order

    bool present() const { return ds.valid(); }

    // The header checks, then every value (finite, within the limit), then each row's scene
    // and entity indices, in row order as the whole table was checked before streaming.
    void open(const Reader& r, const std::string& table_name, hsize_t columns, int64_t S) {
        name = table_name;
        cols = columns;
        ds = r.open(name);
        r.expect_class(ds, name, H5T_FLOAT, "floating-point values");
        auto d = r.shape(ds, name, 2);
        if (d[1] != cols) r.refuse(name, "expected " + std::to_string(cols) + " columns");
        if (d[0] > (1u << 24)) r.refuse(name, "more than 2^24 rows");
        const hsize_t rows = d[0];
        r.check_stored(ds, name, rows * cols);
        for (hsize_t first = 0; first < rows; first += kTableSlab) {
            const hsize_t n = std::min(kTableSlab, rows - first);
            auto v = r.read_rows<double>(ds, name, H5T_NATIVE_DOUBLE, first, n, cols, 2);
            for (size_t i = 0; i < v.size(); ++i) {
                const hsize_t at = first + i / cols;
                if (!std::isfinite(v[i]))
                    r.refuse(name, "non-finite value at row " + std::to_string(at));
                if (std::fabs(v[i]) > kMaxInputMagnitude)
                    r.refuse(name, "value at row " + std::to_string(at) + ", column " +
                                       std::to_string(i % cols) +
                                       " is larger than the input limit of 1e30");
            }
        }
        std::vector<int64_t> scene_of_row(static_cast<size_t>(rows));
        for (hsize_t first = 0; first < rows; first += kTableSlab) {
            const hsize_t n = std::min(kTableSlab, rows - first);
            auto v = r.read_rows<double>(ds, name, H5T_NATIVE_DOUBLE, first, n, cols, 2);
            for (hsize_t i = 0; i < n; ++i) {
                const double* values = v.data() + i * cols;
                scene_of_row[first + i] = scene_of(r, name, values[0], S, first + i);
                for (hsize_t c = 1; c + 1 < cols; ++c) index_at(r, name, values, first + i, c);
            }
        }
        row.resize(static_cast<size_t>(rows));
        std::iota(row.begin(), row.end(), 0u);
        std::stable_sort(row.begin(), row.end(),
                         [&](uint32_t a, uint32_t b) { return scene_of_row[a] < scene_of_row[b]; });
        scene.resize(row.size());
        for (size_t k = 0; k < row.size(); ++k) scene[k] = scene_of_row[row[k]];
    }

    // The first scene (in row order) that has more than one row, or -1.
    int64_t first_repeated_scene() const {
        int64_t found = -1;
        uint32_t at = std::numeric_limits<uint32_t>::max();
        for (size_t k = 1; k < row.size(); ++k)
            if (scene[k] == scene[k - 1] && row[k] < at) {
                // row[k] is the second row of this scene in row order, since rows are sorted
                // within a scene
                if (k < 2 || scene[k - 2] != scene[k]) {
                    at = row[k];
                    found = scene[k];
                }
            }
        return found;
    }

    // Rows of scenes [first, last), grouped by scene, each scene's rows in row order: k-th row
    // values at out[k * cols ...]; scene_starts[s - first] is the first k of scene s.
    std::vector<double> rows_of(const Reader& r, int64_t first, int64_t last,
                                std::vector<size_t>& scene_starts) const {
        const auto lo = static_cast<size_t>(std::lower_bound(scene.begin(), scene.end(), first) -
                                            scene.begin());
        const auto hi =
            static_cast<size_t>(std::lower_bound(scene.begin(), scene.end(), last) - scene.begin());
        scene_starts.assign(static_cast<size_t>(last - first) + 1, hi);
        for (size_t k = hi; k-- > lo;) scene_starts[static_cast<size_t>(scene[k] - first)] = k;
        for (size_t s = scene_starts.size() - 1; s-- > 0;)
            scene_starts[s] = std::min(scene_starts[s], scene_starts[s + 1]);
        for (size_t& k : scene_starts) k -= lo;
        const size_t n = hi - lo;
        if (n == 0) return {};
        bool consecutive = true;
        for (size_t k = lo + 1; k < hi && consecutive; ++k) consecutive = row[k] == row[k - 1] + 1;
        if (consecutive)
            return r.read_rows<double>(ds, name, H5T_NATIVE_DOUBLE, row[lo], n, cols, 2);
        // Scattered rows: one point per value, in the order wanted (HDF5 keeps a point list's
        // order in the memory buffer).
        std::vector<hsize_t> points;
        points.reserve(n * cols * 2);
        for (size_t k = lo; k < hi; ++k)
            for (hsize_t c = 0; c < cols; ++c) {
                points.push_back(row[k]);
                points.push_back(c);
            }
        std::vector<double> out(n * cols);
        h5::Id file_space(H5Dget_space(ds.get()));
        const hsize_t count = n * cols;
        h5::Id mem_space(H5Screate_simple(1, &count, nullptr));
        if (H5Sselect_elements(file_space.get(), H5S_SELECT_SET, count, points.data()) < 0 ||
            H5Dread(ds.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), H5P_DEFAULT,
                    out.data()) < 0)
            r.refuse(name, "cannot read the data (truncated or damaged file)");
        return out;
    }
};

}  // namespace

struct SceneH5Stream::State {
    std::string path;
    std::string identity;
    int64_t F = 0;
    InputLimits limits;
    h5::Id file;
    Reader r{};
    h5::Id features;
    std::vector<int64_t> offsets;  // S+1
    // Names: none (entity_I), variable-length, or fixed-length of `name_len` bytes.
    h5::Id names;
    bool names_variable = false;
    size_t name_len = 0;
    // Relations: each scene's first row (S+1) when the file has them.
    h5::Id relations;
    int64_t rdim = 0;
    std::vector<int64_t> rel_rows;
    // Custom edges.
    h5::Id edges;
    std::vector<int64_t> edge_offsets;
    Table distance, angle, collision;

    [[nodiscard]] h5::CrashGuard guard() const {
        return h5::CrashGuard(path + ": HDF5 crashed while reading it; the file is damaged",
                              static_cast<int>(ExitCode::input));
    }
    int64_t S() const { return static_cast<int64_t>(offsets.size()) - 1; }
    int64_t scene_of_entity(int64_t t) const {
        return std::upper_bound(offsets.begin(), offsets.end(), t) - offsets.begin() - 1;
    }

    void open_features_and_offsets();
    void open_names();
    void open_relations();
    void open_edges();
    void open_constraints();
    std::vector<std::string> read_names(int64_t t0, int64_t t1) const;
};

void SceneH5Stream::State::open_features_and_offsets() {
    if (!r.has("/scenes/offsets") || !r.has("/scenes/features"))
        throw InputError(path + ": expected /scenes/offsets and /scenes/features");
    features = r.open("/scenes/features");
    r.expect_class(features, "/scenes/features", H5T_FLOAT, "floating-point values");
    auto fd = r.shape(features, "/scenes/features", 2);
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
    offsets = r.read_offsets("/scenes/offsets", od[0], T, "/scenes/features");
    for (int64_t s = 0; s < S(); ++s) {
        if (offsets[s + 1] == offsets[s])
            r.refuse_scene(s, "/scenes/offsets", "the scene has no entities");
        if (offsets[s + 1] - offsets[s] > limits.max_entities_per_scene)
            r.refuse_scene(
                s, "/scenes/offsets",
                "over the limit of " + std::to_string(limits.max_entities_per_scene) + " entities");
    }
    r.check_stored(features, "/scenes/features", static_cast<hsize_t>(T * F));
}

void SceneH5Stream::State::open_names() {
    if (!r.has("/scenes/names")) return;
    const std::string name = "/scenes/names";
    const auto T = static_cast<hsize_t>(offsets.back());
    names = r.open(name);
    r.expect_class(names, name, H5T_STRING, "strings");
    auto d = r.shape(names, name, 1);
    if (d[0] != T) r.refuse(name, "expected " + std::to_string(T) + " names");
    r.check_stored(names, name, T);
    h5::Id ftype(H5Dget_type(names.get()));
    names_variable = H5Tis_variable_str(ftype.get()) > 0;
    if (!names_variable) {
        name_len = H5Tget_size(ftype.get());
        if (name_len == 0 || name_len > 4096) r.refuse(name, "names longer than 4096 bytes");
        if (T * name_len > (hsize_t{1} << 30)) r.refuse(name, "more than 1 GiB of names");
    }
    // Every name is checked now, a piece at a time, as the whole-file reader did before it
    // looked at relations, edges or constraints (a damaged string heap is found here).
    for (hsize_t t = 0; t < T; t += kTableSlab) (void)read_names(t, std::min(T, t + kTableSlab));
}

void SceneH5Stream::State::open_relations() {
    if (!r.has("/scenes/relations")) return;
    relations = r.open("/scenes/relations");
    r.expect_class(relations, "/scenes/relations", H5T_FLOAT, "floating-point values");
    auto d = r.shape(relations, "/scenes/relations", 2);
    rel_rows.assign(1, 0);  // each scene's first row of relations
    for (int64_t s = 0; s < S(); ++s) {
        const int64_t n = offsets[s + 1] - offsets[s];
        rel_rows.push_back(rel_rows.back() + n * n);
    }
    const int64_t want = rel_rows.back();
    if (static_cast<int64_t>(d[0]) != want)
        r.refuse("/scenes/relations", "expected " + std::to_string(want) +
                                          " rows (the sum of N_s^2), got " + std::to_string(d[0]));
    rdim = static_cast<int64_t>(d[1]);
    if (rdim < 1) r.refuse("/scenes/relations", "needs at least one column");
    if (want > limits.max_total_values / rdim) r.refuse("/scenes/relations", "too large to load");
    r.check_stored(relations, "/scenes/relations", static_cast<hsize_t>(want * rdim));
}

void SceneH5Stream::State::open_edges() {
    if (!r.has("/scenes/edge_offsets") && !r.has("/scenes/edges")) return;
    if (!r.has("/scenes/edge_offsets") || !r.has("/scenes/edges"))
        r.refuse("/scenes/edges", "edges and edge_offsets must come together");
    edges = r.open("/scenes/edges");
    r.expect_class(edges, "/scenes/edges", H5T_INTEGER, "integers");
    auto d = r.shape(edges, "/scenes/edges", 2);
    if (d[1] != 2) r.refuse("/scenes/edges", "expected 2 columns (source, target)");
    if (d[0] > static_cast<hsize_t>(limits.max_total_values / 2))
        r.refuse("/scenes/edges", "too many edges");
    edge_offsets = r.read_offsets("/scenes/edge_offsets", static_cast<hsize_t>(S() + 1),
                                  static_cast<int64_t>(d[0]), "/scenes/edges");
    r.check_stored(edges, "/scenes/edges", d[0] * 2);
}

void SceneH5Stream::State::open_constraints() {
    const std::string base = "/scenes/constraints/";
    if (r.has(base + "distance")) distance.open(r, base + "distance", 4, S());
    if (r.has(base + "angle")) angle.open(r, base + "angle", 5, S());
    if (r.has(base + "collision")) {
        collision.open(r, base + "collision", 2, S());
        if (const int64_t s = collision.first_repeated_scene(); s >= 0)
            r.refuse_scene(s, base + "collision", "more than one collision row");
    }
}

// Names of entities [t0, t1) as UTF-8 text (the JSON output must be able to carry them).
std::vector<std::string> SceneH5Stream::State::read_names(int64_t t0, int64_t t1) const {
    const std::string name = "/scenes/names";
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(t1 - t0));
    if (!names.valid()) {
        for (int64_t t = t0, s = scene_of_entity(t0); t < t1; ++t) {
            while (t >= offsets[s + 1]) ++s;
            out.push_back("entity_" + std::to_string(t - offsets[s]));
        }
        return out;
    }
    const auto first = static_cast<hsize_t>(t0);
    const auto n = static_cast<hsize_t>(t1 - t0);
    if (n == 0) return out;
    h5::Id ftype(H5Dget_type(names.get()));
    h5::Id file_space(H5Dget_space(names.get()));
    h5::Id mem_space(H5Screate_simple(1, &n, nullptr));
    if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &n, nullptr) < 0)
        r.refuse(name, "cannot read the names");
    h5::Id mem(H5Tcopy(H5T_C_S1));
    H5Tset_cset(mem.get(), H5Tget_cset(ftype.get()));
    if (names_variable) {
        H5Tset_size(mem.get(), H5T_VARIABLE);
        std::vector<char*> raw(n, nullptr);
        if (H5Dread(names.get(), mem.get(), mem_space.get(), file_space.get(), H5P_DEFAULT,
                    raw.data()) < 0)
            r.refuse(name, "cannot read the names");
        for (char* p : raw) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mem.get(), mem_space.get(), H5P_DEFAULT, raw.data());
    } else {
        // Room for a terminator: a null-padded name that fills its field (numpy's 'S' arrays)
        // keeps its last character.
        const size_t slot = name_len + 1;
        H5Tset_size(mem.get(), slot);
        std::vector<char> buf(n * slot);
        if (H5Dread(names.get(), mem.get(), mem_space.get(), file_space.get(), H5P_DEFAULT,
                    buf.data()) < 0)
            r.refuse(name, "cannot read the names");
        for (hsize_t i = 0; i < n; ++i) {
            std::string v(buf.data() + i * slot, slot);
            out.push_back(v.substr(0, v.find('\0')));
        }
    }
    for (size_t i = 0; i < out.size(); ++i) {
        if (text::utf8::first_invalid(out[i]) == text::utf8::npos) continue;
        const int64_t t = t0 + static_cast<int64_t>(i);
        const int64_t s = scene_of_entity(t);
        r.refuse_scene(s, name,
                       "name of entity " + std::to_string(t - offsets[s]) + " is not valid UTF-8");
    }
    return out;
}

SceneH5Stream::SceneH5Stream(const std::string& path, int64_t F, const InputLimits& limits)
    : s_(std::make_unique<State>()) {
    h5::silence_errors();
    State& st = *s_;
    st.path = path;
    st.F = F;
    st.limits = limits;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
        throw InputError(path + ": not a regular file");
    const h5::CrashGuard guard = st.guard();
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw InputError(path + ": not an HDF5 file (or unreadable)");
    st.file = h5::open_read(path);
    if (!st.file.valid()) throw InputError(path + ": HDF5 cannot open the file");
    void* handle = nullptr;
    struct stat opened {};
    if (H5Fget_vfd_handle(st.file.get(), H5P_DEFAULT, &handle) < 0 || !handle ||
        ::fstat(*static_cast<int*>(handle), &opened) != 0)
        opened = info;  // a driver without a descriptor: the file as stat saw it
    st.identity = std::to_string(opened.st_ino) + ":" + std::to_string(opened.st_size) + ":" +
                  std::to_string(opened.st_mtim.tv_sec) + "." +
                  std::to_string(opened.st_mtim.tv_nsec);
    st.r = Reader{path, st.file.get()};
    st.r.refuse_unknown_members("/scenes", {"offsets", "features", "names", "relations",
                                            "edge_offsets", "edges", "constraints"});
    st.r.refuse_unknown_members("/scenes/constraints", {"distance", "collision", "angle"});
    st.open_features_and_offsets();
    st.open_names();
    st.open_relations();
    st.open_edges();
    st.open_constraints();
}

SceneH5Stream::~SceneH5Stream() = default;
SceneH5Stream::SceneH5Stream(SceneH5Stream&&) noexcept = default;
SceneH5Stream& SceneH5Stream::operator=(SceneH5Stream&&) noexcept = default;

const std::string& SceneH5Stream::path() const {
    return s_->path;
}

const std::string& SceneH5Stream::identity() const {
    return s_->identity;
}

const std::vector<int64_t>& SceneH5Stream::offsets() const {
    return s_->offsets;
}

std::vector<std::string> SceneH5Stream::entity_names(int64_t first, int64_t last) const {
    const h5::CrashGuard guard = s_->guard();
    return s_->read_names(first, last);
}

SceneBatch SceneH5Stream::read(int64_t first, int64_t last) const {
    const State& st = *s_;
    const Reader& r = st.r;
    const int64_t F = st.F;
    const h5::CrashGuard guard = st.guard();
    const int64_t t0 = st.offsets[first], t1 = st.offsets[last];
    std::vector<int64_t> local(st.offsets.begin() + first, st.offsets.begin() + last + 1);
    for (int64_t& o : local) o -= t0;

    auto features = r.read_rows<float>(st.features, "/scenes/features", H5T_NATIVE_FLOAT,
                                       static_cast<hsize_t>(t0), static_cast<hsize_t>(t1 - t0),
                                       static_cast<hsize_t>(F), 2);
    check_magnitude(r, features, F, local, first, "/scenes/features");
    const std::vector<std::string> names = st.read_names(t0, t1);

    std::vector<float> relations;
    int64_t rel0 = 0;
    if (st.relations.valid()) {
        rel0 = st.rel_rows[first];
        std::vector<int64_t> rel_local(st.rel_rows.begin() + first, st.rel_rows.begin() + last + 1);
        for (int64_t& o : rel_local) o -= rel0;
        relations = r.read_rows<float>(
            st.relations, "/scenes/relations", H5T_NATIVE_FLOAT, static_cast<hsize_t>(rel0),
            static_cast<hsize_t>(rel_local.back()), static_cast<hsize_t>(st.rdim), 2);
        check_magnitude(r, relations, st.rdim, rel_local, first, "/scenes/relations");
    }

    std::vector<int64_t> edges;
    int64_t edge0 = 0;
    if (st.edges.valid()) {
        edge0 = st.edge_offsets[first];
        edges = r.read_rows<int64_t>(st.edges, "/scenes/edges", H5T_NATIVE_INT64,
                                     static_cast<hsize_t>(edge0),
                                     static_cast<hsize_t>(st.edge_offsets[last] - edge0), 2, 2);
    }

    std::vector<size_t> dist_at, angle_at, coll_at;
    std::vector<double> dist, angl, coll;
    if (st.distance.present()) dist = st.distance.rows_of(r, first, last, dist_at);
    if (st.angle.present()) angl = st.angle.rows_of(r, first, last, angle_at);
    if (st.collision.present()) coll = st.collision.rows_of(r, first, last, coll_at);

    SceneBatch batch;
    batch.feature_dim = F;
    for (int64_t s = first; s < last; ++s) {
        const auto ls = static_cast<size_t>(s - first);
        Scene sc;
        const int64_t b = local[ls], n = local[ls + 1] - b;
        sc.features.assign(features.begin() + b * F, features.begin() + (b + n) * F);
        sc.names.assign(names.begin() + b, names.begin() + b + n);
        if (st.rdim > 0) {
            const int64_t rb = st.rel_rows[s] - rel0;
            sc.relation_dim = st.rdim;
            sc.relations.assign(relations.begin() + rb * st.rdim,
                                relations.begin() + (rb + n * n) * st.rdim);
        }
        if (st.edges.valid()) {
            sc.custom_edges = true;
            for (int64_t e = st.edge_offsets[s] - edge0; e < st.edge_offsets[s + 1] - edge0; ++e)
                sc.edges.push_back({edges[e * 2], edges[e * 2 + 1]});
        }
        for (size_t k = st.distance.present() ? dist_at[ls] : 0;
             st.distance.present() && k < dist_at[ls + 1]; ++k) {
            const double* v = dist.data() + k * 4;
            sc.distance.push_back({static_cast<int64_t>(v[1]), static_cast<int64_t>(v[2]), v[3]});
        }
        for (size_t k = st.angle.present() ? angle_at[ls] : 0;
             st.angle.present() && k < angle_at[ls + 1]; ++k) {
            const double* v = angl.data() + k * 5;
            sc.angle.push_back({static_cast<int64_t>(v[1]), static_cast<int64_t>(v[2]),
                                static_cast<int64_t>(v[3]), v[4]});
        }
        if (st.collision.present() && coll_at[ls] < coll_at[ls + 1])
            sc.collision = coll[coll_at[ls] * 2 + 1];
        batch.append(sc, st.path + ", scene " + std::to_string(s));
    }
    return batch;
}

SceneBatch read_scenes_h5(const std::string& path, int64_t F, const InputLimits& limits) {
    const SceneH5Stream stream(path, F, limits);
    return stream.read(0, static_cast<int64_t>(stream.offsets().size()) - 1);
}

}  // namespace gasm
