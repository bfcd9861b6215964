// SPDX-License-Identifier: MIT
// Damaged and foreign weight files (issue "Nothing lost, nothing let in"). From one clean file
// the engine wrote, a Python script (Debian's /usr/bin/python3 with h5py) builds every kind of
// wrong file a user may meet: truncated at many lengths, empty, text, a git-LFS pointer, bits
// flipped in data and in metadata, wrong shapes (broadcastable ones too), wrong types, missing
// and extra datasets, foreign format attributes and versions, absurd declared sizes, soft and
// external links, external storage, never-written data, NaN. Each must be refused with exit 3
// by `run` and `weights verify`, naming the file and (where it is about one) the dataset,
// printing nothing on stdout and leaving the file byte for byte as it was. A few legal variants
// (an h5py-written file, several chunks per dataset, an extra attribute) must load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/h5util.hpp"
#include "tests/test_support.hpp"

namespace gasm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::run_gasm;
using testing::run_shell;
using testing::sha256_file;
using testing::TempDir;

// Builds the damaged files from clean.h5: one NAME.h5 per case below, truncations, foreign
// files and bit flips, and manifest.json listing the generated flips with the dataset each one
// hits. argv: clean file, canonical key order (JSON list), output folder.
constexpr const char* kBuilder = R"PY(
import hashlib, json, os, sys
import numpy as np
import h5py

clean, order_path, out = sys.argv[1:4]
order = json.load(open(order_path))
raw = open(clean, "rb").read()

def load():
    with h5py.File(clean, "r") as f:
        attrs = {k: f.attrs[k] for k in f.attrs}
        data = {}

        def keep(n, o):
            if isinstance(o, h5py.Dataset):
                data[n] = o[()]
        f.visititems(keep)
    return attrs, data

def digest(data):
    h = hashlib.sha256()
    for key in order:
        h.update(key.encode() + b"\0")
        h.update(np.ascontiguousarray(data[key.replace(".", "/")], dtype="<f4").tobytes())
    return h.hexdigest()

def write(name, attrs, data, special=None, redigest=True, digest_data=None, libver=None):
    """Writes out/name.h5: datasets one chunk with Fletcher32 (scalars plain) unless `special`
    names a function that writes that dataset (or link) itself."""
    special = special or {}
    with h5py.File(os.path.join(out, name + ".h5"), "w", libver=libver) as f:
        for n, arr in data.items():
            if n in special:
                special[n](f, n, arr)
            elif np.ndim(arr) == 0:
                f.create_dataset(n, data=arr)
            else:
                f.create_dataset(n, data=arr, chunks=np.shape(arr), fletcher32=True)
        for k, v in attrs.items():
            f.attrs[k] = v
        if redigest and "content_sha256" in attrs:
            f.attrs["content_sha256"] = digest(data if digest_data is None else digest_data)
        for n, fn in special.items():
            if n not in data:
                fn(f, n, None)

# Writers for `special`.
def made(**kw):
    return lambda f, n, arr: f.create_dataset(n, data=arr, **kw)

def declared(**kw):  # shape and type only: the data is never written
    return lambda f, n, arr: f.create_dataset(n, shape=arr.shape, dtype="<f4", **kw)

def linked(link):
    return lambda f, n, arr: f.__setitem__(n, link)

cases = {}
def case(fn):
    cases[fn.__name__] = fn
    return fn

Q = "se3_attention/q_proj/weight"
LN = "se3_attention/layer_norm/weight"
TC = "target_curvature"
SE3 = "se3_attention"

# Each case changes the clean attributes `a` and datasets `d`; what it returns goes to write().
@case
def shape_broadcastable(a, d):
    d[LN] = d[LN].reshape(1, -1)
@case
def shape_transposed(a, d):
    d[Q] = d[Q].T.copy()
@case
def shape_same_size_reshaped(a, d):
    d[Q] = d[Q].reshape(d[Q].shape[1], d[Q].shape[0])
@case
def shape_scalar_as_vector(a, d):
    d[TC] = np.reshape(d[TC], (1,))
@case
def shape_vector_as_scalar(a, d):
    n = "se3_attention/distance_scale"
    d[n] = np.float32(d[n][0])
@case
def dtype_float64(a, d):
    d[Q] = d[Q].astype("<f8")
@case
def dtype_int32(a, d):
    n = "se3_attention/layer_norm/bias"
    d[n] = d[n].astype("<i4")
@case
def dtype_big_endian(a, d):
    d[Q] = d[Q].astype(">f4")
@case
def dtype_float16(a, d):
    d[Q] = d[Q].astype("<f2")
    return {"digest_data": {**d, Q: d[Q].astype("<f4")}}
@case
def scalar_float64(a, d):
    d[TC] = np.float64(d[TC])
@case
def missing_dataset(a, d):
    del d["feature_to_geom/bias"]
    return {"redigest": False}
@case
def extra_dataset_root(a, d):
    d["extra"] = np.zeros(3, "<f4")
    return {"redigest": False}
@case
def extra_dataset_nested(a, d):
    d["se3_attention/q_proj/extra"] = np.zeros(3, "<f4")
    return {"redigest": False}
@case
def extra_iteration(a, d):
    for k in list(d):
        if k.startswith("feature_evolution/1/"):
            d[k.replace("/1/", "/2/")] = d[k]
    return {"redigest": False}
@case
def named_datatype(a, d):
    def commit(f, n, arr):
        f[n] = np.dtype("<f4")
    return {"special": {"committed_type": commit}}
@case
def group_instead_of_dataset(a, d):
    del d[TC]
    return {"special": {TC: lambda f, n, arr: f.create_group(n)}, "redigest": False}
@case
def format_other(a, d):
    a["format"] = "other-weights"
@case
def format_missing(a, d):
    del a["format"]
@case
def format_not_string(a, d):
    a["format"] = np.int32(1)
@case
def format_array(a, d):
    a["format"] = np.array(["gasm-weights", "x"], dtype=h5py.string_dtype())
@case
def format_long(a, d):
    a["format"] = "x" * 60000
@case
def format_version_newer(a, d):
    a["format_version"] = np.int32(2)
@case
def format_version_zero(a, d):
    a["format_version"] = np.int32(0)
@case
def format_version_string(a, d):
    a["format_version"] = "1"
@case
def format_version_missing(a, d):
    del a["format_version"]
@case
def feature_dim_1e12(a, d):
    a["feature_dim"] = np.int64(10**12)
@case
def feature_dim_negative(a, d):
    a["feature_dim"] = np.int64(-48)
@case
def feature_dim_zero(a, d):
    a["feature_dim"] = np.int64(0)
@case
def feature_dim_uint64_max(a, d):
    a["feature_dim"] = np.uint64(2**64 - 1)
@case
def feature_dim_float(a, d):
    a["feature_dim"] = np.float64(48.0)
@case
def hidden_not_divisible(a, d):
    a["hidden_dim"] = np.int64(25)
@case
def config_unlike_shapes(a, d):
    a["feature_dim"] = np.int64(64)
@case
def absurd_but_valid_config(a, d):
    a["feature_dim"] = np.int64(65536)
    a["hidden_dim"] = np.int64(65536)
@case
def absurd_iterations(a, d):
    a["max_iterations"] = np.int64(1024)
@case
def digest_missing(a, d):
    del a["content_sha256"]
@case
def digest_wrong(a, d):
    a["content_sha256"] = hashlib.sha256(b"other").hexdigest()
    return {"redigest": False}
@case
def digest_garbage(a, d):
    a["content_sha256"] = "\u00e9" * 5000
    return {"redigest": False}
@case
def no_fletcher32(a, d):
    return {"special": {Q: made(chunks=d[Q].shape)}}
@case
def contiguous_layout(a, d):
    return {"special": {Q: made()}}
@case
def compressed(a, d):
    return {"special": {Q: made(chunks=d[Q].shape, fletcher32=True, compression="gzip")}}
@case
def never_written(a, d):
    d[Q] = np.zeros_like(d[Q])  # what HDF5 reads back: fill values, digest made to match
    return {"special": {Q: declared(chunks=d[Q].shape, fletcher32=True)}}
@case
def external_storage(a, d):
    raw_file = os.path.join(out, "external_raw.bin")
    d[Q].astype("<f4").tofile(raw_file)
    return {"special": {Q: declared(external=[(raw_file, 0, d[Q].nbytes)])}}
@case
def soft_link_to_other_dataset(a, d):
    src, dst = "feature_evolution/0/0/weight", "feature_evolution/1/0/weight"
    same = {**d, dst: d[src]}  # the data a reader following the link sees
    del d[dst]
    return {"special": {dst: linked(h5py.SoftLink("/" + src))}, "digest_data": same}
@case
def soft_link_dangling(a, d):
    del d[Q]
    return {"special": {Q: linked(h5py.SoftLink("/nowhere"))}, "redigest": False}
@case
def soft_link_group(a, d):
    for k in [k for k in d if k.startswith(SE3 + "/")]:
        d["copy/" + k[len(SE3) + 1:]] = d.pop(k)
    return {"special": {SE3: linked(h5py.SoftLink("/copy"))}, "redigest": False}
@case
def external_link(a, d):
    other = os.path.join(out, "external_target.h5")
    open(other, "wb").write(raw)
    del d[Q]
    return {"special": {Q: linked(h5py.ExternalLink(other, "/" + Q))}, "redigest": False}
@case
def external_link_to_fifo(a, d):
    fifo = os.path.join(out, "never_answers.fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    del d[Q]
    return {"special": {Q: linked(h5py.ExternalLink(fifo, "/" + Q))}, "redigest": False}
@case
def external_link_group(a, d):
    other = os.path.join(out, "external_group_target.h5")
    open(other, "wb").write(raw)
    for k in [k for k in d if k.startswith(SE3 + "/")]:
        del d[k]
    return {"special": {SE3: linked(h5py.ExternalLink(other, "/" + SE3))}, "redigest": False}
@case
def root_linked_into_itself(a, d):
    # Three hard links from the root to itself: a walk without memory of what it has seen
    # goes 3^16 ways deep (it hung every load).
    def loops(f, n, arr):
        for i in range(3):
            f["loop%d" % i] = f["/"]
    return {"special": {"loops": loops}}
@case
def dataset_under_two_names(a, d):
    return {"special": {"alias": lambda f, n, arr: f.__setitem__(n, f[Q])}}
@case
def groups_twenty_deep(a, d):
    d["/".join(["deep"] * 20) + "/extra"] = np.zeros(3, "<f4")
    return {"redigest": False}
@case
def chunk_never_written(a, d):
    # Several chunks, one of them never written: HDF5 reads fill values there, and the digest
    # is made to match what it reads.
    d[Q] = d[Q].copy()
    d[Q][:5, :7] = 0
    def partly(f, n, arr):
        ds = f.create_dataset(n, shape=arr.shape, dtype="<f4", chunks=(5, 7), fletcher32=True)
        rows, cols = arr.shape
        for r in range(0, rows, 5):
            for c in range(0, cols, 7):
                if (r, c) != (0, 0):
                    ds[r:r + 5, c:c + 7] = arr[r:r + 5, c:c + 7]
    return {"special": {Q: partly}}
@case
def chunk_of_another_shape(a, d):
    # One chunk the size of the data but transposed, the second chunk it needs never written.
    rows, cols = d[Q].shape
    def transposed(f, n, arr):
        ds = f.create_dataset(n, shape=arr.shape, maxshape=(None, None), dtype="<f4",
                              chunks=(cols, rows), fletcher32=True)
        ds[:, :rows] = arr[:, :rows]
    return {"special": {Q: transposed}, "redigest": False}
@case
def fletcher32_wrong_data_right(a, d):
    # The data as written, its stored checksum replaced: HDF5's own read refuses the chunk.
    def bad_checksum(f, n, arr):
        ds = f.create_dataset(n, data=arr, chunks=arr.shape, fletcher32=True)
        ds.id.write_direct_chunk((0, 0), np.ascontiguousarray(arr, "<f4").tobytes() + b"\0" * 4)
    return {"special": {Q: bad_checksum}}
@case
def nan_value(a, d):
    d[Q] = d[Q].copy()
    d[Q][0, 0] = np.nan
@case
def inf_value(a, d):
    n = "se3_attention/q_proj/bias"
    d[n] = d[n].copy()
    d[n][1] = np.inf
@case
def empty_hdf5(a, d):
    a.clear()
    d.clear()
# Legal variants: these load.
@case
def legal_h5py_default_layout(a, d):
    pass
@case
def legal_several_chunks(a, d):
    return {"special": {Q: made(chunks=(5, 7), fletcher32=True)}}
@case
def legal_extra_attribute(a, d):
    a["note"] = "hello"
@case
def legal_latest_libver(a, d):
    return {"libver": "latest"}

for name, fn in cases.items():
    a, d = load()
    write(name, a, d, **(fn(a, d) or {}))

def put(name, data):
    open(os.path.join(out, name), "wb").write(data)

manifest = {"truncated": [], "data_flips": [], "meta_flips": [], "checksum_flips": []}
size = len(raw)
lengths = sorted(set([1, 7, 8, 47, 48, 49, 100, 511, 512, 2048] +
                     [size * k // 16 for k in range(1, 16)] + [size - 100, size - 4, size - 1]))
for n in lengths:
    put("truncated_%d.h5" % n, raw[:n])
    manifest["truncated"].append("truncated_%d.h5" % n)
put("zero_bytes.h5", b"")
put("text.h5", b"These are not the weights you are looking for.\n" * 20)
put("lfs_pointer.h5", b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 +
    b"\nsize 12582912\n")
put("json.h5", b'{"scenes": [{"entities": []}]}')
put("zip.h5", b"PK\x03\x04" + bytes(range(256)) * 4)
noise = np.random.default_rng(1).integers(0, 256, 12288, dtype=np.uint8).tobytes()
put("random.h5", noise[:4096])
put("signature_then_random.h5", raw[:8] + noise[4096:])

def flip(name, at, bit=0x10):
    b = bytearray(raw)
    b[at] ^= bit
    put(name, bytes(b))

with h5py.File(clean, "r") as f:
    keys = [k.replace(".", "/") for k in order]
    shaped = [k for k in keys if f[k].ndim > 0]
    picks = shaped[:: max(1, len(shaped) // 10)]
    for n, k in enumerate(picks):
        info = f[k].id.get_chunk_info(0)
        data_len = info.size - 4
        for at in sorted(set([0, data_len - 1] if n % 2 else [data_len // 2])):
            name = "flip_data_%d.h5" % (info.byte_offset + at)
            flip(name, info.byte_offset + at)
            manifest["data_flips"].append({"file": name, "dataset": "/" + k})
        if n % 2 == 0:
            name = "flip_checksum_%d.h5" % (info.byte_offset + data_len + 1)
            flip(name, info.byte_offset + data_len + 1)
            manifest["checksum_flips"].append(name)
    headers = [(h5py.h5o.get_info(f.id).addr, h5py.h5o.get_info(f.id).hdr.space.total)]
    for k in picks[:4]:
        i = h5py.h5o.get_info(f[k].id)
        headers.append((i.addr, i.hdr.space.total))
    positions = [0, 3, 8, 9, 10, 11, 20, 28, 36, 44]
    for addr, total in headers:
        positions += [addr, addr + 5, addr + total // 3, addr + total - 2]
    for at in sorted(set(p for p in positions if 0 <= p < size)):
        name = "flip_meta_%d.h5" % at
        flip(name, at)
        manifest["meta_flips"].append(name)
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))
)PY";

constexpr const char* kPython = "/usr/bin/python3";

struct Expect {
    const char* name;
    int exit_code;                      // of `run` (verify: 3 where this is 3, else 0)
    std::vector<std::string> mentions;  // besides the file's path
};

// Every built case with what the refusal must say.
const std::vector<Expect> kCases = {
    {"shape_broadcastable", 3, {"/se3_attention/layer_norm/weight", "shape (1, 48)"}},
    {"shape_transposed", 3, {"/se3_attention/q_proj/weight", "expected (24, 48)"}},
    {"shape_same_size_reshaped", 3, {"/se3_attention/q_proj/weight", "shape (48, 24)"}},
    {"shape_scalar_as_vector", 3, {"/target_curvature"}},
    {"shape_vector_as_scalar", 3, {"/se3_attention/distance_scale"}},
    {"dtype_float64", 3, {"/se3_attention/q_proj/weight", "float32"}},
    {"dtype_int32", 3, {"/se3_attention/layer_norm/bias", "float32"}},
    {"dtype_big_endian", 3, {"/se3_attention/q_proj/weight", "little-endian"}},
    {"dtype_float16", 3, {"/se3_attention/q_proj/weight", "float32"}},
    {"scalar_float64", 3, {"/target_curvature", "float32"}},
    {"missing_dataset", 3, {"/feature_to_geom/bias", "missing"}},
    {"extra_dataset_root", 3, {"unexpected object /extra"}},
    {"extra_dataset_nested", 3, {"unexpected object /se3_attention/q_proj/extra"}},
    {"extra_iteration", 3, {"unexpected object /feature_evolution/2/"}},
    {"named_datatype", 3, {"unexpected object /committed_type"}},
    {"group_instead_of_dataset", 3, {"/target_curvature"}},
    {"format_other", 3, {"format is 'other-weights'"}},
    {"format_missing", 3, {"'format' is missing"}},
    {"format_not_string", 3, {"'format' is missing"}},
    {"format_array", 3, {"'format' is missing"}},
    {"format_long", 3, {"format is 'xxxxxxxx", "..."}},
    {"format_version_newer", 3, {"format_version 2 is newer"}},
    {"format_version_zero", 3, {"format_version 0 is not supported"}},
    {"format_version_string", 3, {"'format_version'"}},
    {"format_version_missing", 3, {"'format_version'"}},
    {"feature_dim_1e12", 3, {"feature_dim", "1000000000000"}},
    {"feature_dim_negative", 3, {"feature_dim"}},
    {"feature_dim_zero", 3, {"feature_dim"}},
    {"feature_dim_uint64_max", 3, {"feature_dim"}},
    {"feature_dim_float", 3, {"'feature_dim'"}},
    {"hidden_not_divisible", 3, {"divisible"}},
    {"config_unlike_shapes", 3, {"/se3_attention/q_proj/weight", "expected (24, 64)"}},
    {"absurd_but_valid_config", 3, {"bytes of tensors but the file has"}},
    {"absurd_iterations", 3, {"bytes of tensors but the file has"}},
    {"digest_missing", 3, {"'content_sha256' is missing"}},
    {"digest_wrong", 3, {"content_sha256 mismatch"}},
    {"digest_garbage", 3, {"content_sha256 mismatch", "..."}},
    {"no_fletcher32", 3, {"/se3_attention/q_proj/weight", "Fletcher32"}},
    {"contiguous_layout", 3, {"/se3_attention/q_proj/weight", "Fletcher32"}},
    {"compressed", 3, {"/se3_attention/q_proj/weight", "Fletcher32 checksum alone"}},
    {"never_written", 3, {"/se3_attention/q_proj/weight", "stores 0 of its 4608 bytes"}},
    {"external_storage", 3, {"/se3_attention/q_proj/weight", "other files"}},
    {"soft_link_to_other_dataset", 3, {"/feature_evolution/1/0/weight", "soft link"}},
    {"soft_link_dangling", 3, {"/se3_attention/q_proj/weight", "soft link to '/nowhere'"}},
    {"soft_link_group", 3, {"/se3_attention is a soft link to '/copy'"}},
    {"external_link", 3, {"/se3_attention/q_proj/weight", "external link"}},
    {"external_link_to_fifo", 3, {"/se3_attention/q_proj/weight", "external link"}},
    {"external_link_group", 3, {"/se3_attention is an external link"}},
    {"root_linked_into_itself", 3, {"/loop0 is a second name for /"}},
    {"dataset_under_two_names", 3, {"is a second name for", "/se3_attention/q_proj/weight"}},
    {"groups_twenty_deep", 3, {"/deep/deep", "go deeper"}},
    {"chunk_never_written", 3, {"/se3_attention/q_proj/weight", "stores 34 of its 35 chunks"}},
    {"chunk_of_another_shape", 3, {"/se3_attention/q_proj/weight", "stores 1 of its 2 chunks"}},
    {"fletcher32_wrong_data_right", 3, {"/se3_attention/q_proj/weight", "checksum mismatch"}},
    {"nan_value", 3, {"/se3_attention/q_proj/weight", "non-finite value at element 0"}},
    {"inf_value", 3, {"/se3_attention/q_proj/bias", "non-finite value at element 1"}},
    {"empty_hdf5", 3, {"'format' is missing"}},
    {"zero_bytes", 3, {"empty (0 bytes)"}},
    {"text", 3, {"not an HDF5 file"}},
    {"lfs_pointer", 3, {"git-LFS pointer"}},
    {"json", 3, {"not an HDF5 file"}},
    {"zip", 3, {"not an HDF5 file"}},
    {"random", 3, {"not an HDF5 file"}},
    {"signature_then_random", 3, {}},
    {"legal_h5py_default_layout", 0, {}},
    {"legal_several_chunks", 0, {}},
    {"legal_extra_attribute", 0, {}},
    {"legal_latest_libver", 0, {}},
};

// The fast read checks each chunk's stored Fletcher32 value itself; a value computed unlike
// HDF5's would not fail a load (it falls back to HDF5's own read) but would make every load
// slow. So: chunks HDF5 wrote with its filter, of every length around the 360-word blocks and
// odd ones, against h5::fletcher32.
TEST(Fletcher32, MatchesTheValueHdf5sFilterStores) {
    std::mt19937 rng(5);
    for (const hsize_t n : {1, 2, 3, 719, 720, 721, 722, 1441, 4096, 100001}) {
        SCOPED_TRACE(n);
        std::vector<unsigned char> data(n);
        for (auto& byte : data) byte = static_cast<unsigned char>(rng());
        if (n == 100001) std::fill(data.begin(), data.begin() + 50000, 0xff);  // largest sums
        h5::Id file = h5::create_in_memory("fletcher32-" + std::to_string(n));
        h5::Id space(H5Screate_simple(1, &n, nullptr));
        h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
        ASSERT_GE(H5Pset_chunk(dcpl.get(), 1, &n), 0);
        ASSERT_GE(H5Pset_fletcher32(dcpl.get()), 0);
        h5::Id ds(H5Dcreate2(file.get(), "d", H5T_NATIVE_UCHAR, space.get(), H5P_DEFAULT,
                             dcpl.get(), H5P_DEFAULT));
        ASSERT_GE(H5Dwrite(ds.get(), H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
                  0);
        const hsize_t origin = 0;
        hsize_t stored = 0;
        ASSERT_GE(H5Dget_chunk_storage_size(ds.get(), &origin, &stored), 0);
        ASSERT_EQ(stored, n + 4);
        std::vector<unsigned char> raw(stored);
        uint32_t mask = 0;
        ASSERT_GE(H5Dread_chunk(ds.get(), H5P_DEFAULT, &origin, &mask, raw.data()), 0);
        const uint32_t kept = uint32_t{raw[n]} | uint32_t{raw[n + 1]} << 8 |
                              uint32_t{raw[n + 2]} << 16 | uint32_t{raw[n + 3]} << 24;
        EXPECT_EQ(h5::fletcher32(data.data(), n), kept);
    }
}

class HardeningWeightFiles : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        auto probe = run_shell(std::string(kPython) + " -c 'import h5py, numpy'");
        if (probe.exit_code != 0) {
            skip_ = "Debian's /usr/bin/python3 with h5py and numpy is needed: " + probe.err;
            return;
        }
        const std::string clean = dir_->file("clean.h5");
        auto gen = run_gasm({"weights", "generate", "--weights", clean, "--feature-dim", "48",
                             "--hidden-dim", "24", "--max-iterations", "2"});
        ASSERT_EQ(gen.exit_code, 0) << gen.err;
        auto inspect = run_gasm({"weights", "inspect", "--json", "--weights", clean});
        json order = json::array();
        for (const auto& row : json::parse(inspect.out)) order.push_back(row["name"]);
        std::ofstream(dir_->file("order.json")) << order.dump();
        std::ofstream(dir_->file("build.py")) << kBuilder;
        fs::create_directory(dir_->file("cases"));
        auto built = run_shell(std::string(kPython) + " " + dir_->file("build.py") + " " + clean +
                               " " + dir_->file("order.json") + " " + dir_->file("cases"));
        ASSERT_EQ(built.exit_code, 0) << built.err;
        clean_digest_ =
            json::parse(run_gasm({"run", "--weights", clean}).out)["weights"]["content_sha256"];
        std::ofstream(dir_->file("scene.json")) << R"({"scenes": [{"entities": [
            {"name": "a", "features": [)" + features(48) +
                                                       R"(]},
            {"name": "b", "features": [)" + features(48) +
                                                       "]}]}]}";
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
    }

    static std::string features(int n) {
        std::string s;
        for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(0.01 * i);
        return s;
    }
    static std::string path(const std::string& name) { return dir_->file("cases/" + name); }

    // Runs `run` and `weights verify` on one file; both must refuse it (exit 3, the file and
    // each mention named, nothing on stdout) and leave it unchanged.
    static void expect_refused(const std::string& name, const std::vector<std::string>& mentions,
                               bool verify_only = false) {
        SCOPED_TRACE(name);
        const std::string f = path(name);
        ASSERT_TRUE(fs::exists(f) || fs::is_symlink(f)) << "the builder did not make " << f;
        const std::string before = sha256_file(f);
        std::vector<std::vector<std::string>> commands = {{"weights", "verify", "--weights", f}};
        if (!verify_only)
            commands.push_back({"run", "--weights", f, "--input", dir_->file("scene.json")});
        for (const auto& cmd : commands) {
            auto r = run_gasm(cmd);
            EXPECT_EQ(r.exit_code, 3) << cmd[0] << ": " << r.err;
            EXPECT_NE(r.err.find("weight file " + f), std::string::npos) << r.err;
            for (const auto& m : mentions)
                EXPECT_NE(r.err.find(m), std::string::npos) << "'" << m << "' in " << r.err;
            EXPECT_LT(r.err.size(), 4000u) << "one clear message, not a flood";
            EXPECT_EQ(r.out, "");
        }
        EXPECT_EQ(sha256_file(f), before) << "the file must stay byte for byte as it was";
        for (const auto& e : fs::directory_iterator(dir_->file("cases")))
            EXPECT_NE(e.path().filename().string().rfind("." + name + ".tmp-", 0), 0u)
                << "a load writes nothing beside the file";
    }

    static TempDir* dir_;
    static std::string skip_;
    static std::string clean_digest_;
};

TempDir* HardeningWeightFiles::dir_ = nullptr;
std::string HardeningWeightFiles::skip_;
std::string HardeningWeightFiles::clean_digest_;

TEST_F(HardeningWeightFiles, ForeignAndMalformedFilesAreRefusedByName) {
    int refused = 0, loaded = 0;
    for (const auto& c : kCases) {
        if (c.exit_code == 3) {
            expect_refused(std::string(c.name) + ".h5", c.mentions);
            ++refused;
            continue;
        }
        SCOPED_TRACE(c.name);
        const std::string f = path(std::string(c.name) + ".h5");
        const std::string before = sha256_file(f);
        auto r = run_gasm({"run", "--weights", f, "--input", dir_->file("scene.json")});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(json::parse(r.out)["weights"]["content_sha256"], clean_digest_);
        EXPECT_EQ(run_gasm({"weights", "verify", "--weights", f}).exit_code, 0);
        EXPECT_EQ(sha256_file(f), before);
        ++loaded;
    }
    std::cout << "[ cases    ] " << refused << " refused, " << loaded << " legal variants loaded\n";
}

TEST_F(HardeningWeightFiles, TruncatedAtEveryLengthIsRefused) {
    const json manifest = json::parse(read_file(dir_->file("cases/manifest.json")));
    for (const auto& name : manifest["truncated"]) expect_refused(name, {});
    std::cout << "[ cases    ] " << manifest["truncated"].size() << " truncation lengths\n";
}

TEST_F(HardeningWeightFiles, FlippedBitsInDataNameTheDataset) {
    const json manifest = json::parse(read_file(dir_->file("cases/manifest.json")));
    for (const auto& flip : manifest["data_flips"])
        expect_refused(flip["file"], {flip["dataset"].get<std::string>(), "checksum mismatch"});
    // A flip in a chunk's stored Fletcher32 value leaves the data and its digest whole: a load
    // may run on it (on the very same weights), and verify, which checks every checksum, fails.
    for (const auto& name : manifest["checksum_flips"]) {
        const std::string f = path(name);
        auto r = run_gasm({"run", "--weights", f, "--input", dir_->file("scene.json")});
        EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.err;
        if (r.exit_code == 0)
            EXPECT_EQ(json::parse(r.out)["weights"]["content_sha256"], clean_digest_);
        expect_refused(name, {}, /*verify_only=*/true);
    }
    std::cout << "[ cases    ] " << manifest["data_flips"].size() << " data flips, "
              << manifest["checksum_flips"].size() << " checksum flips\n";
}

TEST_F(HardeningWeightFiles, FlippedBitsInMetadataAreRefused) {
    const json manifest = json::parse(read_file(dir_->file("cases/manifest.json")));
    for (const auto& name : manifest["meta_flips"]) expect_refused(name, {});
    std::cout << "[ cases    ] " << manifest["meta_flips"].size() << " metadata flips\n";
}

}  // namespace
}  // namespace gasm
