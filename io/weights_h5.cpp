// SPDX-License-Identifier: MIT
// Weight file reading and writing. A load trusts nothing in the file: each attribute and
// dataset is checked against the configuration before anything is allocated from it.
#include "io/weights_h5.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "host/build_info.hpp"
#include "host/env.hpp"
#include "host/errors.hpp"
#include "io/h5util.hpp"

namespace gasm {

namespace {

std::string dataset_path(const std::string& key) {
    std::string p = "/" + key;
    for (char& ch : p)
        if (ch == '.') ch = '/';
    return p;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw WeightsError("weight file " + path + ": " + what +
                       " (regenerate with --force-regen, or check --weights)");
}

// A first look at the bytes, so that an empty file, a git-LFS pointer or text gets a message
// that says what it is instead of HDF5's generic refusal.
// Returns the file's size.
int64_t check_signature(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) fail(path, std::string("cannot stat: ") + strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    if (st.st_size == 0) fail(path, "the file is empty (0 bytes)");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot be read: ") + strerror(errno));
    char head[64] = {};
    in.read(head, sizeof head);
    std::string start(head, static_cast<size_t>(in.gcount()));
    if (start.rfind("version https://git-lfs", 0) == 0)
        fail(path, "this is a git-LFS pointer, not the weights (run 'git lfs pull')");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        if (st.st_size < 512)
            fail(path, "not an HDF5 file (" + std::to_string(st.st_size) +
                           " bytes; truncated or another format)");
        fail(path, "not an HDF5 file (another format, or damaged)");
    }
    return static_cast<int64_t>(st.st_size);
}

int64_t config_attr(hid_t root, const std::string& path, const char* name) {
    auto v = h5::read_int_attr(root, name);
    if (!v) fail(path, std::string("root attribute '") + name + "' is missing or not an integer");
    return *v;
}

// One entry of the file's tree as collect_objects found it.
struct FileObject {
    enum Kind { dataset, other, link, unreadable, alias, too_deep } kind = other;
    std::string what;  // for a link: what it is and where it points; for an alias: its first name
};

// The walk of collect_objects: every object it has met (by address), and how many entries.
struct Walk {
    std::map<haddr_t, std::string> seen;
    size_t entries = 0;
};

// Every object below `loc`, reached through hard links only: a soft or external link is listed
// as such and never followed, so a crafted file cannot make the loader open another file. An
// object met a second time (a group linked into itself, a dataset under two names) is listed as
// an alias and not entered again, so the walk ends on any file, and a tree deeper or wider than
// a weight file's ever is stops with an entry that is refused.
void collect_objects(hid_t loc, const std::string& prefix, std::map<std::string, FileObject>& out,
                     int depth, Walk& walk) {
    constexpr int kMaxDepth = 16;          // a weight file's groups are 3 deep
    constexpr size_t kMaxEntries = 10000;  // a weight file has about 60 datasets and groups
    if (depth > kMaxDepth) {
        out[prefix] = {FileObject::too_deep, ""};
        return;
    }
    // The group's links in one pass (H5Lget_name_by_idx would rebuild the link table of a
    // large group for every name, and HDF5 1.10.8 frees a damaged one wrongly).
    struct Links {
        std::vector<std::pair<std::string, H5L_info_t>> list;
        size_t room;
    } links{{}, kMaxEntries - std::min(walk.entries, kMaxEntries)};
    auto gather = [](hid_t, const char* name, const H5L_info_t* info, void* data) -> herr_t {
        auto* l = static_cast<Links*>(data);
        if (l->list.size() >= l->room) return 1;  // stop: more than any weight file has
        l->list.emplace_back(name, *info);
        return 0;
    };
    hsize_t at = 0;
    const herr_t walked = H5Literate(loc, H5_INDEX_NAME, H5_ITER_NATIVE, &at, gather, &links);
    if (walked < 0) {
        out[prefix.empty() ? "/" : prefix] = {FileObject::unreadable, ""};
        return;
    }
    walk.entries += links.list.size();
    if (walked > 0) {
        out[prefix + "/..."] = {FileObject::too_deep, ""};
        return;
    }
    for (const auto& [link_name, linfo] : links.list) {
        const char* name = link_name.c_str();
        const std::string full = prefix + "/" + link_name;
        if (linfo.type != H5L_TYPE_HARD) {
            h5::LinkInfo li;
            li.kind = linfo.type == H5L_TYPE_SOFT       ? h5::LinkKind::soft
                      : linfo.type == H5L_TYPE_EXTERNAL ? h5::LinkKind::external
                                                        : h5::LinkKind::other;
            li.target = shown_in_message(h5::link_target(loc, name, li.kind));
            out[full] = {FileObject::link, h5::describe_link(li)};
            continue;
        }
        H5O_info_t oinfo{};
        if (H5Oget_info_by_name2(loc, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
            out[full] = {FileObject::unreadable, ""};
            continue;
        }
        if (auto [at, first] = walk.seen.try_emplace(oinfo.addr, full); !first) {
            out[full] = {FileObject::alias, at->second.empty() ? "/" : at->second};
            continue;
        }
        if (oinfo.type == H5O_TYPE_GROUP) {
            h5::Id g(H5Gopen2(loc, name, H5P_DEFAULT));
            if (g.valid())
                collect_objects(g.get(), full, out, depth + 1, walk);
            else
                out[full] = {FileObject::unreadable, ""};
        } else {
            out[full] = {oinfo.type == H5O_TYPE_DATASET ? FileObject::dataset : FileObject::other,
                         ""};
        }
    }
}

bool has_fletcher32(hid_t ds) {
    h5::Id dcpl(H5Dget_create_plist(ds));
    int nf = H5Pget_nfilters(dcpl.get());
    bool found = false;
    for (int f = 0; f < nf; ++f) {
        unsigned flags = 0, cd[8];
        size_t nelm = 8;
        H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(f), &flags, &nelm, cd, 0,
                                         nullptr, nullptr);
        if (id == H5Z_FILTER_FLETCHER32)
            found = true;
        else
            return false;  // any other filter (compression) would need the filtered read
    }
    return found && nf == 1;
}

// Opens the dataset of `spec` (found by collect_objects through hard links) and checks its
// type, shape, layout and stored size exactly, before anything is allocated for it.
h5::Id open_checked(hid_t file, const std::string& path, const ParamSpec& spec,
                    const std::map<std::string, FileObject>& objects) {
    const std::string ds_path = dataset_path(spec.key);
    auto it = objects.find(ds_path);
    if (it == objects.end()) fail(path, "dataset " + ds_path + " is missing");
    if (it->second.kind != FileObject::dataset) fail(path, ds_path + " is not a dataset");
    h5::Id ds(H5Dopen2(file, ds_path.c_str(), H5P_DEFAULT));
    if (!ds.valid()) fail(path, "dataset " + ds_path + " cannot be opened (damaged metadata)");
    h5::Id type(H5Dget_type(ds.get()));
    if (!type.valid() || H5Tequal(type.get(), H5T_IEEE_F32LE) <= 0)
        fail(path, "dataset " + ds_path + " is not IEEE float32 little-endian");
    h5::Id space(H5Dget_space(ds.get()));
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class != (spec.shape.empty() ? H5S_SCALAR : H5S_SIMPLE))
        fail(path, "dataset " + ds_path +
                       (spec.shape.empty() ? " is not a scalar" : " has no simple shape"));
    std::vector<hsize_t> d = h5::dims(ds.get());
    std::vector<int64_t> got(d.begin(), d.end());
    if (got != spec.shape) {
        ParamSpec shown_spec = spec;
        shown_spec.shape = got;
        fail(path, "dataset " + ds_path + " has shape " + shown_spec.shape_text() + ", expected " +
                       spec.shape_text());
    }
    h5::Id dcpl(H5Dget_create_plist(ds.get()));
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (H5Pget_external_count(dcpl.get()) != 0 || layout == H5D_VIRTUAL)
        fail(path, "dataset " + ds_path + " keeps its data in other files");
    if (!spec.shape.empty() && !has_fletcher32(ds.get()))
        fail(path, "dataset " + ds_path + " does not carry the Fletcher32 checksum alone");
    // A declared shape costs nothing in the file: the data must be stored, not fill values.
    const auto need = static_cast<hsize_t>(spec.numel()) * 4;
    const hsize_t stored = H5Dget_storage_size(ds.get());
    if (stored < need)
        fail(path, "dataset " + ds_path + " stores " + std::to_string(stored) + " of its " +
                       std::to_string(need) + " bytes (never written, or damaged)");
    // Every chunk must be in the file: one never written would read as fill values.
    if (!spec.shape.empty()) {
        std::vector<hsize_t> chunk(spec.shape.size(), 0);
        hsize_t expected = 1, stored_chunks = 0;
        if (layout != H5D_CHUNKED || H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()),
                                                  chunk.data()) != static_cast<int>(chunk.size()))
            fail(path, "dataset " + ds_path + " is not stored in chunks");
        for (size_t i = 0; i < chunk.size(); ++i)
            expected *= (d[i] + chunk[i] - 1) / std::max<hsize_t>(chunk[i], 1);
        if (H5Dget_num_chunks(ds.get(), space.get(), &stored_chunks) < 0 ||
            stored_chunks != expected)
            fail(path, "dataset " + ds_path + " stores " + std::to_string(stored_chunks) +
                           " of its " + std::to_string(expected) +
                           " chunks (never written, or damaged)");
    }
    return ds;
}

// The fast path: the one chunk read as stored (its data followed by the 4-byte Fletcher32
// value, kept in `checksum`), without HDF5's filter pass; read_all_raw checks the value.
bool read_raw(hid_t ds, const ParamSpec& spec, Tensor& t, uint32_t& checksum) {
    const size_t n = static_cast<size_t>(spec.numel());
    t.shape = spec.shape;
    if (spec.shape.empty()) {
        t.data.resize(n);
        return H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) >= 0;
    }
    // Only a dataset stored as one chunk of its own shape, as gasm writes them; other
    // chunkings take the filtered read.
    h5::Id dcpl(H5Dget_create_plist(ds));
    std::vector<hsize_t> chunk(spec.shape.size(), 0);
    if (H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) !=
            static_cast<int>(chunk.size()) ||
        !std::equal(chunk.begin(), chunk.end(), spec.shape.begin(),
                    [](hsize_t c, int64_t dim) { return c == static_cast<hsize_t>(dim); }))
        return false;
    const std::vector<hsize_t> origin(spec.shape.size(), 0);
    hsize_t stored = 0;
    if (H5Dget_chunk_storage_size(ds, origin.data(), &stored) < 0 || stored != n * 4 + 4)
        return false;
    // Read the chunk in place: n floats, then its 4-byte checksum in one float of slack.
    t.data.resize(n + 1);
    uint32_t mask = 0;
    const bool ok = H5Dread_chunk(ds, H5P_DEFAULT, origin.data(), &mask, t.data.data()) >= 0;
    unsigned char tail[4];
    std::memcpy(tail, &t.data[n], 4);
    checksum = uint32_t{tail[0]} | uint32_t{tail[1]} << 8 | uint32_t{tail[2]} << 16 |
               uint32_t{tail[3]} << 24;  // stored little-endian
    t.data.resize(n);
    return ok && mask == 0;
}

// The slow path: HDF5's own filtered read, which checks each chunk's Fletcher32.
void read_filtered(hid_t ds, const std::string& path, const ParamSpec& spec, Tensor& t) {
    t.shape = spec.shape;
    t.data.assign(static_cast<size_t>(spec.numel()), 0.0f);
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
        fail(path, "dataset " + dataset_path(spec.key) +
                       " cannot be read (checksum mismatch or damaged data)");
}

// Reads every tensor the fast way while a second thread checks each chunk's Fletcher32 value
// and hashes the tensors already read, so the checks cost little more than the reading. Leaves
// the digest in w.digest; false when a chunk could not be read as stored or its checksum
// differs (the caller then takes HDF5's filtered read, which names the dataset).
bool read_all_raw(const std::vector<h5::Id>& datasets, Weights& w) {
    std::mutex mu;
    std::condition_variable cv;
    size_t ready = 0;
    bool failed = false;
    bool checksums_ok = true;
    std::vector<uint32_t> checksums(w.specs.size(), 0);
    DigestStream digest;
    std::thread hasher([&] {
        for (size_t i = 0; i < w.specs.size(); ++i) {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return ready > i || failed; });
            if (failed) return;
            lock.unlock();
            const auto& data = w.tensors[i].data;
            if (!w.specs[i].shape.empty() &&
                h5::fletcher32(data.data(), data.size() * sizeof(float)) != checksums[i]) {
                checksums_ok = false;
                return;
            }
            digest.add(w.specs[i].key, data.data(), data.size());
        }
    });
    std::exception_ptr error;
    for (size_t i = 0; i < w.specs.size(); ++i) {
        bool ok = false;
        try {
            ok = read_raw(datasets[i].get(), w.specs[i], w.tensors[i], checksums[i]);
        } catch (...) {  // out of memory: stop the hasher before the error goes on
            error = std::current_exception();
        }
        {
            std::lock_guard lock(mu);
            if (ok)
                ++ready;
            else
                failed = true;
        }
        cv.notify_one();
        if (!ok) break;
    }
    hasher.join();
    if (error) std::rethrow_exception(error);
    if (failed || !checksums_ok) return false;
    w.digest = digest.hex();
    return true;
}

void check_finite(const std::string& path, const ParamSpec& spec, const Tensor& t) {
    for (size_t i = 0; i < t.data.size(); ++i)
        if (!std::isfinite(t.data[i]))
            fail(path, "dataset " + dataset_path(spec.key) + " holds a non-finite value at " +
                           "element " + std::to_string(i));
}

}  // namespace

std::string creation_time_utc() {
    std::time_t t = std::time(nullptr);
    // Empty is unset, as the reproducible-builds convention has it.
    if (auto epoch = env::get("SOURCE_DATE_EPOCH"); epoch && !epoch->empty()) {
        // Digits only (no sign, no spaces), and a date that ISO 8601 can write (year <= 9999).
        constexpr long long kLatest = 253402300799;  // 9999-12-31T23:59:59Z
        const bool digits = !epoch->empty() && epoch->size() <= 12 &&
                            epoch->find_first_not_of("0123456789") == std::string::npos;
        const long long v = digits ? std::stoll(*epoch) : -1;
        if (!digits || v > kLatest)
            throw UsageError("SOURCE_DATE_EPOCH must be whole seconds since 1970 (0 to " +
                             std::to_string(kLatest) + "), got '" + shown_in_message(*epoch) + "'");
        t = static_cast<std::time_t>(v);
    }
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) throw RuntimeFailure("the clock gives a time gmtime cannot convert");
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void write_weights_file(const Weights& w, const std::string& path) {
    const std::string created = creation_time_utc();  // a bad SOURCE_DATE_EPOCH stops here
    h5::Id file = h5::create_in_memory(path);
    if (!file.valid()) throw std::runtime_error("HDF5 cannot create the file in memory");
    hid_t root = file.get();
    h5::write_string_attr(root, "format", kFormatName);
    h5::write_int32_attr(root, "format_version", kFormatVersion);
    const ModelConfig& c = w.config;
    h5::write_int64_attr(root, "feature_dim", c.feature_dim);
    h5::write_int64_attr(root, "hidden_dim", c.hidden_dim);
    h5::write_int64_attr(root, "output_dim", c.output_dim);
    h5::write_int64_attr(root, "num_heads", c.num_heads);
    h5::write_int64_attr(root, "max_iterations", c.max_iterations);
    if (w.seed) h5::write_uint64_attr(root, "seed", *w.seed);
    h5::write_string_attr(root, "generator", w.generator);
    h5::write_string_attr(root, "created_by", std::string("gasm_gpu ") + build::kVersion);
    h5::write_string_attr(root, "created_utc", created);
    h5::write_string_attr(root, "content_sha256", w.digest.empty() ? content_sha256(w) : w.digest);
    for (size_t i = 0; i < w.specs.size(); ++i) {
        const ParamSpec& s = w.specs[i];
        std::vector<hsize_t> d(s.shape.begin(), s.shape.end());
        h5::write_dataset(root, dataset_path(s.key), H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d,
                          w.tensors[i].data.data(), /*chunked=*/!d.empty());
    }
    if (std::string why = h5::write_image(root, path); !why.empty()) throw std::runtime_error(why);
}

WeightsFileFacts read_weights_facts(const std::string& path) {
    WeightsFileFacts f;
    h5::silence_errors();
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {  // a FIFO would block HDF5
        f.error = "not a regular file";
        return f;
    }
    const h5::CrashGuard guard(
        "weight file " + path + ": HDF5 crashed while reading it; the file is damaged",
        static_cast<int>(ExitCode::weights));
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        f.error = "not an HDF5 file";
        return f;
    }
    h5::Id file = h5::open_read(path);
    if (!file.valid()) {
        f.error = "HDF5 cannot open the file";
        return f;
    }
    hid_t r = file.get();
    f.format = h5::read_string_attr(r, "format");
    f.format_version = h5::read_int_attr(r, "format_version");
    f.generator = h5::read_string_attr(r, "generator");
    f.created_by = h5::read_string_attr(r, "created_by");
    f.created_utc = h5::read_string_attr(r, "created_utc");
    f.content_sha256 = h5::read_string_attr(r, "content_sha256");
    f.feature_dim = h5::read_int_attr(r, "feature_dim");
    f.hidden_dim = h5::read_int_attr(r, "hidden_dim");
    f.output_dim = h5::read_int_attr(r, "output_dim");
    f.num_heads = h5::read_int_attr(r, "num_heads");
    f.max_iterations = h5::read_int_attr(r, "max_iterations");
    f.seed = h5::read_uint_attr(r, "seed");
    return f;
}

Weights read_weights_file(const std::string& path, WeightsCheck check) {
    h5::silence_errors();
    const h5::CrashGuard guard("weight file " + path +
                                   ": HDF5 crashed while reading it; the file is damaged "
                                   "(regenerate with --force-regen, or check --weights)",
                               static_cast<int>(ExitCode::weights));
    const int64_t file_size = check_signature(path);
    h5::Id file = h5::open_read(path);
    if (!file.valid()) fail(path, "HDF5 cannot open the file (truncated or damaged)");
    hid_t root = file.get();
    auto format = h5::read_string_attr(root, "format");
    if (!format) fail(path, "root attribute 'format' is missing (not a gasm weight file)");
    if (*format != kFormatName)
        fail(path, "format is '" + shown_in_message(*format) + "', expected '" + kFormatName + "'");
    int64_t version = config_attr(root, path, "format_version");
    if (version > kFormatVersion)
        fail(path, "format_version " + std::to_string(version) +
                       " is newer than this gasm_gpu reads (" + std::to_string(kFormatVersion) +
                       "); upgrade gasm_gpu");
    if (version != kFormatVersion)
        fail(path, "format_version " + std::to_string(version) + " is not supported");
    ModelConfig c;
    c.feature_dim = config_attr(root, path, "feature_dim");
    c.hidden_dim = config_attr(root, path, "hidden_dim");
    c.output_dim = config_attr(root, path, "output_dim");
    c.num_heads = config_attr(root, path, "num_heads");
    c.max_iterations = config_attr(root, path, "max_iterations");
    try {
        c.validate();
    } catch (const UsageError& e) {
        fail(path, std::string("declared configuration is impossible: ") + e.what());
    }
    Weights w;  // tensors are sized as they are read
    w.config = c;
    w.specs = canonical_params(c);
    // The data must be in the file: a configuration whose tensors need more bytes than the
    // file has is refused before a single tensor is allocated.
    int64_t need = 0;
    for (const auto& s : w.specs) need += s.numel() * 4;
    if (need > file_size)
        fail(path, "its configuration (" + c.describe() + ") needs " + std::to_string(need) +
                       " bytes of tensors but the file has " + std::to_string(file_size));
    w.tensors.resize(w.specs.size());
    w.seed = h5::read_uint_attr(root, "seed");
    w.generator = h5::read_string_attr(root, "generator").value_or("imported");
    std::map<std::string, FileObject> objects;
    Walk walk;
    H5O_info_t root_info{};
    if (H5Oget_info2(root, &root_info, H5O_INFO_BASIC) < 0)
        fail(path, "the metadata of the root group cannot be read (damaged file)");
    walk.seen.emplace(root_info.addr, "");
    collect_objects(root, "", objects, 0, walk);
    for (const auto& [name, obj] : objects)
        if (obj.kind == FileObject::link)
            fail(path, name + " is " + obj.what + "; a weight file holds every dataset itself");
        else if (obj.kind == FileObject::unreadable)
            fail(path, "the metadata of " + name + " cannot be read (damaged file)");
        else if (obj.kind == FileObject::alias)
            fail(path, name + " is a second name for " + obj.what +
                           "; a weight file links each object once");
        else if (obj.kind == FileObject::too_deep)
            fail(path, "the groups below " + name +
                           " go deeper or hold more objects than a weight file's");
    std::map<std::string, FileObject> extra = objects;
    for (const auto& s : w.specs) extra.erase(dataset_path(s.key));
    if (!extra.empty()) fail(path, "unexpected object " + extra.begin()->first + " in the file");
    std::vector<h5::Id> datasets;
    for (const auto& spec : w.specs) datasets.push_back(open_checked(root, path, spec, objects));
    auto digest = h5::read_string_attr(root, "content_sha256");
    if (!digest) fail(path, "root attribute 'content_sha256' is missing");
    const bool raw_ok = read_all_raw(datasets, w);
    std::string actual = raw_ok ? w.digest : std::string();
    if (actual != *digest || check == WeightsCheck::full) {
        // Something differs: HDF5's checked read tells which dataset is damaged.
        for (size_t i = 0; i < w.specs.size(); ++i)
            read_filtered(datasets[i].get(), path, w.specs[i], w.tensors[i]);
        actual = content_sha256(w);
        if (*digest != actual)
            fail(path, "content_sha256 mismatch: the file says " + shown_in_message(*digest) +
                           ", its data hash to " + actual);
    }
    for (size_t i = 0; i < w.specs.size(); ++i) check_finite(path, w.specs[i], w.tensors[i]);
    w.digest = actual;
    return w;
}

}  // namespace gasm
