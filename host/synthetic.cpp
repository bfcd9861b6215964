// SPDX-License-Identifier: MIT
// Synthetic scene batches. The generator is Philox (host/philox.hpp) so that a seed means the
// same scenes everywhere, independent of the standard library's distributions.
#include "host/synthetic.hpp"

#include <cmath>
#include <string>

#include "host/philox.hpp"

namespace gasm {

namespace {

// A tiny stream over the Philox sequence for integers and uniforms.
class Stream {
  public:
    explicit Stream(uint64_t seed) : seed_(seed) {}
    uint32_t next() { return philox::stream_element(seed_, pos_++); }
    double uniform() { return (next() + 0.5) / 4294967296.0; }
    int64_t below(int64_t n) { return static_cast<int64_t>(uniform() * static_cast<double>(n)); }
    uint64_t position() const { return pos_; }
    void skip(uint64_t n) { pos_ += n; }

  private:
    uint64_t seed_;
    uint64_t pos_ = 0;
};

}  // namespace

SceneBatch synthetic_batch(const SyntheticSpec& spec) {
    SceneBatch batch;
    batch.feature_dim = spec.feature_dim;
    Stream rng(spec.seed);
    for (int64_t s = 0; s < spec.scenes; ++s) {
        Scene sc;
        const int64_t span = spec.max_entities - spec.min_entities + 1;
        const int64_t n = spec.min_entities + (span > 1 ? rng.below(span) : 0);
        const size_t nf = static_cast<size_t>(n * spec.feature_dim);
        sc.features = philox::normals(spec.seed ^ 0x9e3779b97f4a7c15ull, rng.position(), nf);
        rng.skip(nf + 1);
        for (int64_t i = 0; i < n; ++i) sc.names.push_back("e" + std::to_string(i));
        if (spec.relation_dim > 0) {
            sc.relation_dim = spec.relation_dim;
            sc.relations.resize(static_cast<size_t>(n * n * spec.relation_dim));
            for (auto& v : sc.relations)
                v = rng.uniform() < 0.3 ? static_cast<float>(rng.uniform()) : 0.0f;
        }
        if (spec.custom_edges) {
            sc.custom_edges = true;
            const int64_t ne = n * 2;
            for (int64_t e = 0; e < ne; ++e) sc.edges.push_back({rng.below(n), rng.below(n)});
        }
        if (spec.constraints && n >= 3) {
            sc.distance.push_back({0, 1, 0.5 + rng.uniform()});
            sc.distance.push_back({1, 2, 0.5 + rng.uniform()});
            sc.angle.push_back({0, 1, 2, 0.5 + 2.0 * rng.uniform()});
            sc.collision = 0.5 + rng.uniform();
        }
        batch.append(sc, "synthetic scene " + std::to_string(s));
    }
    return batch;
}

}  // namespace gasm
