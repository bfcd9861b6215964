// SPDX-License-Identifier: MIT
// A small reader and writer of .npz (zip of .npy) for weight import and export. The zip reader
// walks the central directory and checks each member's CRC; it takes stored and deflated
// members, which covers numpy.savez and numpy.savez_compressed.
#include "io/npz.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "host/errors.hpp"
#include "io/scenes.hpp"

namespace gasm {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw WeightsError(path + ": " + what);
}

uint32_t u32(const unsigned char* p) {
    return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24;
}
uint16_t u16(const unsigned char* p) {
    return static_cast<uint16_t>(p[0] | p[1] << 8);
}

// Inflates a raw deflate stream: all `usize` bytes (whole), or only its first `usize` bytes
// (whole = false: enough for a .npy header, whatever the member's size).
std::string inflate_member(const std::string& path, const std::string& name,
                           const unsigned char* data, size_t csize, size_t usize, bool whole) {
    std::string out(usize, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(path, "zlib init failed");
    zs.next_in = const_cast<unsigned char*>(data);
    zs.avail_in = static_cast<uInt>(csize);
    zs.next_out = reinterpret_cast<unsigned char*>(out.data());
    zs.avail_out = static_cast<uInt>(usize);
    const int rc = inflate(&zs, whole ? Z_FINISH : Z_SYNC_FLUSH);
    inflateEnd(&zs);
    if (whole ? rc != Z_STREAM_END || zs.total_out != usize
              : (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR))
        fail(path, name + ": damaged deflate data");
    out.resize(zs.total_out);
    return out;
}

// The dictionary of a .npy header, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, read by its grammar rather than
// by searching for substrings (numpy also writes it without spaces).
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<int64_t> shape;
};

class NpyDictReader {
  public:
    NpyDictReader(const std::string& text, const std::string& path, const std::string& name)
        : s_(text), path_(path), name_(name) {}

    NpyHeader read() {
        NpyHeader h;
        bool descr = false, order = false, shape = false;
        expect('{');
        while (!peek('}')) {
            const std::string key = string_literal();
            expect(':');
            bool* seen = key == "descr"           ? &descr
                         : key == "fortran_order" ? &order
                         : key == "shape"         ? &shape
                                                  : nullptr;
            if (!seen) bad("unknown key '" + key.substr(0, 20) + "'");
            if (*seen) bad("key '" + key + "' given twice");
            *seen = true;
            if (key == "descr") h.descr = string_literal();
            if (key == "fortran_order") h.fortran_order = boolean();
            if (key == "shape") h.shape = tuple();
            if (!peek('}')) expect(',');
        }
        expect('}');
        skip();
        if (pos_ != s_.size()) bad("text after the dictionary");
        if (!descr || !order || !shape) bad("'descr', 'fortran_order' and 'shape' are needed");
        return h;
    }

  private:
    [[noreturn]] void bad(const std::string& what) const {
        fail(path_, name_ + ": .npy header: " + what);
    }
    void skip() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t'))
            ++pos_;
    }
    bool peek(char c) {
        skip();
        return pos_ < s_.size() && s_[pos_] == c;
    }
    void expect(char c) {
        if (!peek(c)) bad(std::string("expected '") + c + "'");
        ++pos_;
    }
    std::string string_literal() {
        skip();
        if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) bad("expected a string");
        const char quote = s_[pos_++];
        const size_t end = s_.find(quote, pos_);
        if (end == std::string::npos) bad("unterminated string");
        std::string v = s_.substr(pos_, end - pos_);
        if (v.find('\\') != std::string::npos) bad("escapes in a string");
        pos_ = end + 1;
        return v;
    }
    bool boolean() {
        skip();
        for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}})
            if (s_.compare(pos_, std::strlen(word), word) == 0) {
                pos_ += std::strlen(word);
                return value;
            }
        bad("expected True or False");
    }
    std::vector<int64_t> tuple() {
        std::vector<int64_t> dims;
        expect('(');
        while (!peek(')')) {
            const size_t first = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            const std::string digits = s_.substr(first, pos_ - first);
            if (digits.empty() || digits.size() > 10) bad("a shape entry is not a size");
            const long long v = std::stoll(digits);
            if (v > (1ll << 31)) bad("absurd dimension " + digits);
            dims.push_back(v);
            if (!peek(')')) expect(',');
        }
        expect(')');
        return dims;
    }

    const std::string& s_;
    const std::string &path_, &name_;
    size_t pos_ = 0;
};

// What a member's .npy header says, read from the first bytes of the member.
struct NpyLayout {
    std::vector<int64_t> shape;
    size_t element_size = 4;  // 4: float32, 8: float64
    size_t data_at = 0;       // where the values start in the member
    size_t numel = 1;
};

// The .npy header is at most this long (numpy writes 128 bytes for any array of ours).
constexpr size_t kMaxNpyHeader = 65536;

NpyLayout parse_npy_header(const std::string& path, const std::string& name, const std::string& b) {
    if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) fail(path, name + ": not a .npy array");
    const int major = static_cast<unsigned char>(b[6]);
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    if (major < 1 || major > 3) fail(path, name + ": .npy version " + std::to_string(major));
    const size_t start = major == 1 ? 10 : 12;
    if (b.size() < start) fail(path, name + ": truncated header");
    const size_t hlen = major == 1 ? u16(p + 8) : u32(p + 8);
    if (hlen > kMaxNpyHeader) fail(path, name + ": .npy header too long");
    if (start + hlen > b.size()) fail(path, name + ": truncated header");
    const NpyHeader h = NpyDictReader(b.substr(start, hlen), path, name).read();
    if (h.descr != "<f4" && h.descr != "<f8")
        fail(path, name + ": dtype must be little-endian float32 or float64, got '" +
                       shown_in_message(h.descr) + "'");
    if (h.fortran_order) fail(path, name + ": Fortran-ordered arrays are not supported");
    NpyLayout l;
    l.shape = h.shape;
    l.element_size = h.descr == "<f4" ? 4 : 8;
    l.data_at = start + hlen;
    for (int64_t d : l.shape) {
        l.numel *= static_cast<size_t>(d);
        if (l.numel > (size_t{1} << 31)) fail(path, name + ": array too large");
    }
    return l;
}

// The values of a whole member whose header parse_npy_header read, as float32.
Tensor npy_values(const std::string& path, const std::string& name, const NpyLayout& l,
                  const std::string& b) {
    if (b.size() - l.data_at != l.numel * l.element_size)
        fail(path, name + ": data size does not match the shape");
    Tensor t;
    t.shape = l.shape;
    t.data.resize(l.numel);
    for (size_t i = 0; i < l.numel; ++i) {
        if (l.element_size == 4) {
            std::memcpy(&t.data[i], b.data() + l.data_at + 4 * i, 4);
        } else {
            double d;
            std::memcpy(&d, b.data() + l.data_at + 8 * i, 8);
            t.data[i] = static_cast<float>(d);
        }
    }
    return t;
}

std::string npy_bytes(const Tensor& t) {
    std::string shape = "(";
    for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + ", ";
    if (t.shape.size() > 1)
        shape.resize(shape.size() - 2);
    else if (t.shape.size() == 1)
        shape.resize(shape.size() - 1);
    shape += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * 4);
    return out;
}

void put16(std::string& s, uint32_t v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

}  // namespace

std::map<std::string, Tensor> read_npz(
    const std::string& path, const std::function<void(const ArrayShapes&)>& check_shapes) {
    // A FIFO would block and /dev/zero would be read until memory runs out.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot open: ") + strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open");
    std::string z((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* p = reinterpret_cast<const unsigned char*>(z.data());
    // End of central directory: the last "PK\5\6" record.
    size_t eocd = std::string::npos;
    for (size_t i = z.size() >= 22 ? z.size() - 22 : 0; i + 22 <= z.size(); --i) {
        if (u32(p + i) == 0x06054b50) {
            eocd = i;
            break;
        }
        if (i == 0 || z.size() - i > 70000) break;
    }
    if (eocd == std::string::npos) fail(path, "not a zip/.npz archive");

    // The members as the central directory lists them; nothing is inflated yet.
    struct Member {
        std::string key;
        uint16_t method;
        uint32_t crc, csize, usize;
        size_t data;
        NpyLayout layout;
    };
    std::vector<Member> members;
    std::map<std::string, size_t> index;
    const size_t count = u16(p + eocd + 10);
    size_t cd = u32(p + eocd + 16);
    for (size_t m = 0; m < count; ++m) {
        if (cd + 46 > z.size() || u32(p + cd) != 0x02014b50)
            fail(path, "damaged central directory");
        Member mb;
        mb.method = u16(p + cd + 10);
        mb.crc = u32(p + cd + 16);
        mb.csize = u32(p + cd + 20);
        mb.usize = u32(p + cd + 24);
        const uint16_t nlen = u16(p + cd + 28), xlen = u16(p + cd + 30), clen = u16(p + cd + 32);
        const size_t local = u32(p + cd + 42);  // size_t: local + 30 must not wrap
        if (cd + 46 + nlen > z.size()) fail(path, "damaged central directory");
        const std::string name(z.data() + cd + 46, nlen);
        cd += 46 + nlen + xlen + clen;
        if (local + 30 > z.size() || u32(p + local) != 0x04034b50) fail(path, name + ": damaged");
        mb.data = local + 30 + u16(p + local + 26) + u16(p + local + 28);
        if (mb.data + mb.csize > z.size()) fail(path, name + ": truncated");
        if (mb.method == 0) {
            if (mb.csize != mb.usize) fail(path, name + ": size mismatch");
        } else if (mb.method == 8) {
            if (mb.usize > (1u << 31)) fail(path, name + ": member too large");
            // Deflate shrinks at most about 1032 : 1; a larger claim is a damaged (or hostile)
            // size, refused before the buffer is allocated.
            if (mb.usize > uint64_t{mb.csize} * 1100 + 4096)
                fail(path, name + ": claims " + std::to_string(mb.usize) + " bytes from " +
                               std::to_string(mb.csize) + " compressed (damaged archive)");
        } else {
            fail(path, name + ": unsupported zip compression method " + std::to_string(mb.method));
        }
        mb.key = name;
        if (mb.key.size() > 4 && mb.key.compare(mb.key.size() - 4, 4, ".npy") == 0)
            mb.key.resize(mb.key.size() - 4);
        // numpy.load would give one of them, gasm the other: which is meant cannot be told.
        if (!index.emplace(mb.key, members.size()).second)
            fail(path, name + ": a second member for the array '" + mb.key + "'");
        members.push_back(std::move(mb));
    }

    // Each member's header, from its first bytes only, and the shapes checked before the data.
    ArrayShapes shapes;
    for (Member& mb : members) {
        const size_t head = std::min<size_t>(mb.usize, kMaxNpyHeader + 12);
        const std::string first =
            mb.method == 0 ? z.substr(mb.data, head)
                           : inflate_member(path, mb.key, p + mb.data, mb.csize, head, false);
        mb.layout = parse_npy_header(path, mb.key, first);
        if (mb.usize != mb.layout.data_at + mb.layout.numel * mb.layout.element_size)
            fail(path, mb.key + ": data size does not match the shape");
        shapes[mb.key] = mb.layout.shape;
    }
    if (check_shapes) check_shapes(shapes);

    std::map<std::string, Tensor> out;
    for (const Member& mb : members) {
        const std::string bytes =
            mb.method == 0 ? z.substr(mb.data, mb.csize)
                           : inflate_member(path, mb.key, p + mb.data, mb.csize, mb.usize, true);
        if (crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
                  static_cast<uInt>(bytes.size())) != mb.crc)
            fail(path, mb.key + ": CRC mismatch (damaged archive)");
        out[mb.key] = npy_values(path, mb.key, mb.layout, bytes);
    }
    return out;
}

void write_npz(const std::string& path, const std::map<std::string, Tensor>& arrays) {
    std::string zip, central;
    for (const auto& [key, t] : arrays) {
        const std::string name = key + ".npy";
        const std::string body = npy_bytes(t);
        const uint32_t crc =
            crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
        const uint32_t offset = static_cast<uint32_t>(zip.size());
        auto header = [&](std::string& s, bool is_central) {
            put32(s, is_central ? 0x02014b50 : 0x04034b50);
            if (is_central) put16(s, 20);  // made by
            put16(s, 20);                  // needed
            put16(s, 0);                   // flags
            put16(s, 0);                   // stored
            put16(s, 0);                   // time
            put16(s, 0x21);                // date 1980-01-01
            put32(s, crc);
            put32(s, static_cast<uint32_t>(body.size()));
            put32(s, static_cast<uint32_t>(body.size()));
            put16(s, static_cast<uint32_t>(name.size()));
            put16(s, 0);  // extra
            if (is_central) {
                put16(s, 0);  // comment
                put16(s, 0);  // disk
                put16(s, 0);  // internal attributes
                put32(s, 0);  // external attributes
                put32(s, offset);
            }
            s += name;
        };
        header(zip, false);
        zip += body;
        header(central, true);
    }
    const uint32_t cd_offset = static_cast<uint32_t>(zip.size());
    zip += central;
    put32(zip, 0x06054b50);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, static_cast<uint32_t>(arrays.size()));
    put16(zip, static_cast<uint32_t>(arrays.size()));
    put32(zip, static_cast<uint32_t>(central.size()));
    put32(zip, cd_offset);
    put16(zip, 0);
    write_text_atomic(path, zip);
}

ModelConfig config_from_shapes(const ArrayShapes& shapes, int64_t num_heads,
                               const std::string& source) {
    auto shape_of = [&](const std::string& key) -> const std::vector<int64_t>& {
        auto it = shapes.find(key);
        if (it == shapes.end()) fail(source, "missing parameter " + key);
        return it->second;
    };
    ModelConfig c;
    const auto& q = shape_of("se3_attention.q_proj.weight");
    const auto& f2g = shape_of("feature_to_geom.weight");
    if (q.size() != 2 || f2g.size() != 2) fail(source, "projection weights must be 2-D");
    c.hidden_dim = q[0];
    c.feature_dim = q[1];
    c.output_dim = f2g[0];
    c.num_heads = num_heads;
    c.max_iterations = 0;
    while (shapes.count("feature_evolution." + std::to_string(c.max_iterations) + ".0.weight"))
        ++c.max_iterations;
    try {
        c.validate();
    } catch (const UsageError& e) {
        fail(source, std::string("the arrays do not form a model: ") + e.what());
    }
    // Every shape is checked before the weights are allocated: the configuration comes from
    // two arrays, and tiny arrays named like many iterations must not cost gigabytes.
    const std::vector<ParamSpec> specs = canonical_params(c);
    for (const auto& spec : specs) {
        const std::vector<int64_t>& got = shape_of(spec.key);
        // A scalar may arrive as shape () or (1).
        const bool scalar_ok = spec.shape.empty() && got == std::vector<int64_t>{1};
        if (got != spec.shape && !scalar_ok) {
            ParamSpec shown = spec;
            shown.shape = got;
            fail(source,
                 spec.key + " has shape " + shown.shape_text() + ", expected " + spec.shape_text());
        }
    }
    for (const auto& [key, shape] : shapes) {
        bool known = false;
        for (const auto& s : specs) known = known || s.key == key;
        if (!known) fail(source, "unexpected array " + key + " (not a GASM parameter)");
    }
    return c;
}

Weights weights_from_arrays(const std::map<std::string, Tensor>& arrays, int64_t num_heads,
                            const std::string& source) {
    ArrayShapes shapes;
    for (const auto& [key, t] : arrays) shapes[key] = t.shape;
    const ModelConfig c = config_from_shapes(shapes, num_heads, source);
    Weights w = make_empty_weights(c);
    w.seed.reset();
    w.generator = "imported";
    for (size_t i = 0; i < w.specs.size(); ++i) {
        const Tensor& t = arrays.at(w.specs[i].key);
        for (float v : t.data)
            if (!std::isfinite(v)) fail(source, w.specs[i].key + " holds a non-finite value");
        w.tensors[i].data = t.data;
    }
    digest_of(w);
    return w;
}

std::map<std::string, Tensor> arrays_from_weights(const Weights& w) {
    std::map<std::string, Tensor> out;
    for (size_t i = 0; i < w.specs.size(); ++i) out[w.specs[i].key] = w.tensors[i];
    return out;
}

}  // namespace gasm
