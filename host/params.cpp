// SPDX-License-Identifier: MIT
// Canonical parameter table, lookup and digest of the weights.
#include "host/params.hpp"

#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "host/errors.hpp"

namespace gasm {

int64_t ParamSpec::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string ParamSpec::shape_text() const {
    std::ostringstream out;
    out << "(";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ")";
    return out.str();
}

std::vector<ParamSpec> canonical_params(const ModelConfig& c) {
    const int64_t F = c.feature_dim, H = c.hidden_dim, D = c.output_dim;
    auto uni = [](std::string key, std::vector<int64_t> shape, int64_t fan_in) {
        return ParamSpec{std::move(key), std::move(shape), InitKind::uniform, fan_in, 0.0f};
    };
    auto fixed = [](std::string key, std::vector<int64_t> shape, InitKind kind, float v = 0) {
        return ParamSpec{std::move(key), std::move(shape), kind, 0, v};
    };
    std::vector<ParamSpec> p;
    p.push_back(fixed("target_curvature", {}, InitKind::constant, 0.1f));
    p.push_back(fixed("se3_attention.se3_params", {6}, InitKind::zeros));
    p.push_back(fixed("se3_attention.distance_scale", {1}, InitKind::ones));
    for (const char* name : {"q_proj", "k_proj", "v_proj"}) {
        std::string base = std::string("se3_attention.") + name;
        p.push_back(uni(base + ".weight", {H, F}, F));
        p.push_back(uni(base + ".bias", {H}, F));
    }
    p.push_back(uni("se3_attention.out_proj.weight", {F, H}, H));
    p.push_back(uni("se3_attention.out_proj.bias", {F}, H));
    p.push_back(uni("se3_attention.pos_embedding.weight", {3, F}, F));
    p.push_back(uni("se3_attention.pos_embedding.bias", {3}, F));
    p.push_back(uni("se3_attention.rot_embedding.weight", {4, F}, F));
    p.push_back(uni("se3_attention.rot_embedding.bias", {4}, F));
    p.push_back(fixed("se3_attention.layer_norm.weight", {F}, InitKind::ones));
    p.push_back(fixed("se3_attention.layer_norm.bias", {F}, InitKind::zeros));
    p.push_back(uni("feature_to_geom.weight", {D, F}, F));
    p.push_back(uni("feature_to_geom.bias", {D}, F));
    p.push_back(uni("geom_to_feature.weight", {F, D}, D));
    p.push_back(uni("geom_to_feature.bias", {F}, D));
    for (int64_t k = 0; k < c.max_iterations; ++k) {
        std::string base = "feature_evolution." + std::to_string(k);
        p.push_back(uni(base + ".0.weight", {H, F}, F));
        p.push_back(uni(base + ".0.bias", {H}, F));
        p.push_back(uni(base + ".3.weight", {F, H}, H));
        p.push_back(uni(base + ".3.bias", {F}, H));
        p.push_back(fixed(base + ".4.weight", {F}, InitKind::ones));
        p.push_back(fixed(base + ".4.bias", {F}, InitKind::zeros));
    }
    return p;
}

const Tensor& Weights::get(const std::string& key) const {
    for (size_t i = 0; i < specs.size(); ++i)
        if (specs[i].key == key) return tensors[i];
    throw std::out_of_range("no parameter named " + key);
}

Tensor& Weights::get(const std::string& key) {
    return const_cast<Tensor&>(static_cast<const Weights&>(*this).get(key));
}

int64_t Weights::parameter_count() const {
    int64_t n = 0;
    for (const auto& t : tensors) n += static_cast<int64_t>(t.data.size());
    return n;
}

Weights make_empty_weights(const ModelConfig& cfg) {
    Weights w;
    w.config = cfg;
    w.specs = canonical_params(cfg);
    for (const auto& s : w.specs) {
        Tensor t{s.shape, FloatBuffer(static_cast<size_t>(s.numel()), 0.0f)};
        float fill = s.init == InitKind::ones       ? 1.0f
                     : s.init == InitKind::constant ? s.value
                                                    : 0.0f;
        std::fill(t.data.begin(), t.data.end(), fill);
        w.tensors.push_back(std::move(t));
    }
    return w;
}

const std::string& digest_of(Weights& w) {
    if (w.digest.empty()) w.digest = content_sha256(w);
    return w.digest;
}

DigestStream::DigestStream() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
        throw RuntimeFailure("OpenSSL could not start a SHA-256 digest");
}

DigestStream::~DigestStream() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void DigestStream::add(const std::string& key, const float* values, size_t count) {
    static_assert(std::endian::native == std::endian::little, "digest assumes little-endian");
    auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
    EVP_DigestUpdate(ctx, key.data(), key.size());
    EVP_DigestUpdate(ctx, "\0", 1);
    EVP_DigestUpdate(ctx, values, count * sizeof(float));
}

std::string DigestStream::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

std::string content_sha256(const Weights& w) {
    DigestStream d;
    for (size_t i = 0; i < w.specs.size(); ++i)
        d.add(w.specs[i].key, w.tensors[i].data.data(), w.tensors[i].data.size());
    return d.hex();
}

}  // namespace gasm
