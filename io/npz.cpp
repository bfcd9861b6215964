// SPDX-License-Identifier: MIT
// A small reader and writer of .npz (zip of .npy) for weight import and export. The zip reader
// walks the central directory and checks each member's CRC; it takes stored and deflated
// members, which covers numpy.savez and numpy.savez_compressed.
#include "io/npz.hpp"

#include <zlib.h>

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

std::string inflate_member(const std::string& path, const std::string& name,
                           const unsigned char* data, size_t csize, size_t usize) {
    std::string out(usize, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(path, "zlib init failed");
    zs.next_in = const_cast<unsigned char*>(data);
    zs.avail_in = static_cast<uInt>(csize);
    zs.next_out = reinterpret_cast<unsigned char*>(out.data());
    zs.avail_out = static_cast<uInt>(usize);
    int rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.total_out != usize) fail(path, name + ": damaged deflate data");
    return out;
}

// Parses a .npy member into a float32 tensor.
Tensor parse_npy(const std::string& path, const std::string& name, const std::string& b) {
    if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) fail(path, name + ": not a .npy array");
    const int major = static_cast<unsigned char>(b[6]);
    size_t hlen, start;
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    if (major == 1) {
        hlen = u16(p + 8);
        start = 10;
    } else {
        if (b.size() < 12) fail(path, name + ": truncated header");
        hlen = u32(p + 8);
        start = 12;
    }
    if (start + hlen > b.size()) fail(path, name + ": truncated header");
    const std::string header = b.substr(start, hlen);
    const bool f4 = header.find("'<f4'") != std::string::npos;
    const bool f8 = header.find("'<f8'") != std::string::npos;
    if (!f4 && !f8) fail(path, name + ": dtype must be little-endian float32 or float64");
    if (header.find("'fortran_order': True") != std::string::npos)
        fail(path, name + ": Fortran-ordered arrays are not supported");
    size_t sp = header.find("'shape':");
    size_t lp = header.find('(', sp), rp = header.find(')', lp);
    if (sp == std::string::npos || lp == std::string::npos || rp == std::string::npos)
        fail(path, name + ": no shape in header");
    Tensor t;
    std::stringstream dims(header.substr(lp + 1, rp - lp - 1));
    std::string item;
    size_t numel = 1;
    while (std::getline(dims, item, ',')) {
        const size_t first = item.find_first_not_of(' ');
        if (first == std::string::npos) continue;
        const size_t last = item.find_last_not_of(' ');
        const std::string digits = item.substr(first, last - first + 1);
        if (digits.empty() || digits.size() > 10 ||
            digits.find_first_not_of("0123456789") != std::string::npos)
            fail(path, name + ": shape entry '" + digits.substr(0, 20) + "' is not a size");
        const long long v = std::stoll(digits);
        if (v > (1ll << 31)) fail(path, name + ": absurd dimension");
        t.shape.push_back(v);
        numel *= static_cast<size_t>(v);
        if (numel > (size_t{1} << 31)) fail(path, name + ": array too large");
    }
    const size_t esize = f4 ? 4 : 8;
    const size_t data_at = start + hlen;
    if (b.size() - data_at != numel * esize)
        fail(path, name + ": data size does not match the shape");
    t.data.resize(numel);
    for (size_t i = 0; i < numel; ++i) {
        if (f4) {
            std::memcpy(&t.data[i], b.data() + data_at + 4 * i, 4);
        } else {
            double d;
            std::memcpy(&d, b.data() + data_at + 8 * i, 8);
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

std::map<std::string, Tensor> read_npz(const std::string& path) {
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
    const size_t count = u16(p + eocd + 10);
    size_t cd = u32(p + eocd + 16);
    std::map<std::string, Tensor> out;
    for (size_t m = 0; m < count; ++m) {
        if (cd + 46 > z.size() || u32(p + cd) != 0x02014b50)
            fail(path, "damaged central directory");
        const uint16_t method = u16(p + cd + 10);
        const uint32_t crc = u32(p + cd + 16), csize = u32(p + cd + 20), usize = u32(p + cd + 24);
        const uint16_t nlen = u16(p + cd + 28), xlen = u16(p + cd + 30), clen = u16(p + cd + 32);
        const size_t local = u32(p + cd + 42);  // size_t: local + 30 must not wrap
        if (cd + 46 + nlen > z.size()) fail(path, "damaged central directory");
        std::string name(z.data() + cd + 46, nlen);
        cd += 46 + nlen + xlen + clen;
        if (local + 30 > z.size() || u32(p + local) != 0x04034b50) fail(path, name + ": damaged");
        const size_t data = local + 30 + u16(p + local + 26) + u16(p + local + 28);
        if (data + csize > z.size()) fail(path, name + ": truncated");
        std::string bytes;
        if (method == 0) {
            if (csize != usize) fail(path, name + ": size mismatch");
            bytes.assign(z.data() + data, csize);
        } else if (method == 8) {
            if (usize > (1u << 31)) fail(path, name + ": member too large");
            // Deflate shrinks at most about 1032 : 1; a larger claim is a damaged (or hostile)
            // size, refused before the buffer is allocated.
            if (usize > uint64_t{csize} * 1100 + 4096)
                fail(path, name + ": claims " + std::to_string(usize) + " bytes from " +
                               std::to_string(csize) + " compressed (damaged archive)");
            bytes = inflate_member(path, name, p + data, csize, usize);
        } else {
            fail(path, name + ": unsupported zip compression method " + std::to_string(method));
        }
        if (crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
                  static_cast<uInt>(bytes.size())) != crc)
            fail(path, name + ": CRC mismatch (damaged archive)");
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
            name.resize(name.size() - 4);
        out[name] = parse_npy(path, name, bytes);
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

Weights weights_from_arrays(const std::map<std::string, Tensor>& arrays, int64_t num_heads,
                            const std::string& source) {
    auto shape_of = [&](const std::string& key) -> const std::vector<int64_t>& {
        auto it = arrays.find(key);
        if (it == arrays.end()) fail(source, "missing parameter " + key);
        return it->second.shape;
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
    while (arrays.count("feature_evolution." + std::to_string(c.max_iterations) + ".0.weight"))
        ++c.max_iterations;
    try {
        c.validate();
    } catch (const UsageError& e) {
        fail(source, std::string("the arrays do not form a model: ") + e.what());
    }
    // Every shape is checked before the weights are allocated: the configuration comes from
    // two arrays, and tiny arrays named like many iterations must not cost gigabytes.
    for (const auto& spec : canonical_params(c)) {
        auto it = arrays.find(spec.key);
        if (it == arrays.end()) fail(source, "missing parameter " + spec.key);
        // A scalar may arrive as shape () or (1).
        const bool scalar_ok = spec.shape.empty() && it->second.data.size() == 1;
        if (it->second.shape != spec.shape && !scalar_ok) {
            ParamSpec got = spec;
            got.shape = it->second.shape;
            fail(source,
                 spec.key + " has shape " + got.shape_text() + ", expected " + spec.shape_text());
        }
        for (float v : it->second.data)
            if (!std::isfinite(v)) fail(source, spec.key + " holds a non-finite value");
    }
    Weights w = make_empty_weights(c);
    w.seed.reset();
    w.generator = "imported";
    for (size_t i = 0; i < w.specs.size(); ++i) w.tensors[i].data = arrays.at(w.specs[i].key).data;
    digest_of(w);
    for (const auto& [key, t] : arrays) {
        bool known = false;
        for (const auto& s : w.specs) known = known || s.key == key;
        if (!known) fail(source, "unexpected array " + key + " (not a GASM parameter)");
    }
    return w;
}

std::map<std::string, Tensor> arrays_from_weights(const Weights& w) {
    std::map<std::string, Tensor> out;
    for (size_t i = 0; i < w.specs.size(); ++i) out[w.specs[i].key] = w.tensors[i];
    return out;
}

}  // namespace gasm
