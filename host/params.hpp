// SPDX-License-Identifier: MIT
// The parameter table of model.md in canonical (state-dict) order, and the Weights container
// every backend reads. The order here is the order of generation and of the digest, so it is
// the single place that lists the parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/config.hpp"
#include "host/large_alloc.hpp"

namespace gasm {

enum class InitKind { uniform, ones, zeros, constant };

struct ParamSpec {
    std::string key;             // state-dict name, dots: "se3_attention.q_proj.weight"
    std::vector<int64_t> shape;  // empty for a scalar
    InitKind init = InitKind::uniform;
    int64_t fan_in = 0;  // for uniform: bound = 1/sqrt(fan_in)
    float value = 0.0f;  // for constant

    int64_t numel() const;
    std::string shape_text() const;  // "(256, 768)" or "()"
};

// Every parameter of a model of this configuration, in canonical order.
std::vector<ParamSpec> canonical_params(const ModelConfig& cfg);

struct Tensor {
    std::vector<int64_t> shape;
    FloatBuffer data;  // row-major, numel(shape) values
};

// The model's parameters plus where they came from. Tensors are in canonical order.
struct Weights {
    ModelConfig config;
    std::vector<ParamSpec> specs;
    std::vector<Tensor> tensors;
    std::optional<uint64_t> seed;  // absent for imported weights
    std::string generator = "curand-philox4x32-10";
    // content_sha256 of the tensors, filled where weights are made (generation, load, import);
    // code that changes a tensor must clear it. Empty means "not computed".
    std::string digest;

    const Tensor& get(const std::string& key) const;  // throws std::out_of_range with the key
    Tensor& get(const std::string& key);
    const float* data(const std::string& key) const { return get(key).data.data(); }
    int64_t parameter_count() const;
};

// Canonical byte stream digest (weights-format.md): key, NUL, float32 LE values per parameter.
std::string content_sha256(const Weights& w);

// The same digest fed one parameter at a time, in canonical order (the loader hashes each
// tensor on a second thread while the next one is read).
class DigestStream {
  public:
    DigestStream();
    ~DigestStream();
    DigestStream(const DigestStream&) = delete;
    DigestStream& operator=(const DigestStream&) = delete;
    void add(const std::string& key, const float* values, size_t count);
    std::string hex();  // finishes the digest

  private:
    void* ctx_;  // EVP_MD_CTX
};
// The cached digest, computed and stored first where it is empty.
const std::string& digest_of(Weights& w);

// Empty weights of this configuration with constants set and uniform parameters zero.
Weights make_empty_weights(const ModelConfig& cfg);

}  // namespace gasm
