// SPDX-License-Identifier: MIT
// CPU implementations of the forward-pass ops. Accumulations that decide a result (LayerNorm
// statistics, curvature means) run in double so the CPU result sits as close to the exact value
// as float32 inputs allow; every stored value is float32.
#include "host/math_cpu.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/blas.hpp"
#include "host/vector_math.hpp"

namespace gasm::cpu {

void linear(const float* X, int64_t rows, int64_t in, const float* W, const float* b, int64_t out,
            float* Y, bool accumulate) {
    if (rows == 0) return;
    if (!accumulate) {
        for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out, Y + r * out);
    } else {
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < out; ++c) Y[r * out + c] += b[c];
    }
    blas::sgemm_nt(rows, out, in, 1.0f, X, in, W, in, 1.0f, Y, out);
}

namespace {
// The sum of f(y[c]) over a row in double precision, in eight interleaved partial sums (so the
// compiler can keep them in vector registers) added up in a fixed order: the same bytes on
// every machine, and far more exact than the float32 data it sums.
template <class F>
double lane_sum(const float* y, int64_t cols, F f) {
    constexpr int kLanes = 8;
    double part[kLanes] = {};
    int64_t c = 0;
    for (; c + kLanes <= cols; c += kLanes)
        for (int l = 0; l < kLanes; ++l) part[l] += f(static_cast<double>(y[c + l]));
    for (int l = 0; c < cols; ++c, ++l) part[l] += f(static_cast<double>(y[c]));
    return ((part[0] + part[1]) + (part[2] + part[3])) +
           ((part[4] + part[5]) + (part[6] + part[7]));
}
}  // namespace

void layer_norm(float* Y, int64_t rows, int64_t cols, const float* gamma, const float* beta) {
    for (int64_t r = 0; r < rows; ++r) {
        float* y = Y + r * cols;
        const double mean =
            lane_sum(y, cols, [](double v) { return v; }) / static_cast<double>(cols);
        const double var = lane_sum(y, cols, [mean](double v) { return (v - mean) * (v - mean); }) /
                           static_cast<double>(cols);
        const double inv = 1.0 / std::sqrt(var + constants::kLayerNormEps);
        for (int64_t c = 0; c < cols; ++c)
            y[c] = static_cast<float>((y[c] - mean) * inv) * gamma[c] + beta[c];
    }
}

void pose(const float* p, const se3::Transform& tf, se3::Vec3* P, se3::Quat* q) {
    *P = se3::apply(tf, se3::Vec3{p[0], p[1], p[2]});
    se3::Quat qn = se3::normalize(se3::Quat{p[3], p[4], p[5], p[6]});
    *q = se3::mul(qn, tf.r);
}

IncomingEdges incoming_edges(const std::array<int64_t, 2>* edges, int64_t num_edges, int64_t n) {
    IncomingEdges in;
    in.offsets.assign(static_cast<size_t>(n + 1), 0);
    for (int64_t e = 0; e < num_edges; ++e) ++in.offsets[edges[e][1] + 1];
    for (int64_t t = 0; t < n; ++t) in.offsets[t + 1] += in.offsets[t];
    in.sources.resize(static_cast<size_t>(num_edges));
    std::vector<int64_t> fill(in.offsets.begin(), in.offsets.end() - 1);
    for (int64_t e = 0; e < num_edges; ++e) in.sources[fill[edges[e][1]]++] = edges[e][0];
    return in;
}

Adjacency symmetric_adjacency(const std::array<int64_t, 2>* edges, int64_t num_edges, int64_t n) {
    // Distinct directed pairs (a, b), each contributing 1 to A_ab and 1 to A_ba.
    std::vector<std::pair<int64_t, int64_t>> pairs;
    pairs.reserve(static_cast<size_t>(num_edges));
    for (int64_t e = 0; e < num_edges; ++e) pairs.emplace_back(edges[e][0], edges[e][1]);
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::vector<std::pair<int64_t, int64_t>> sym;
    sym.reserve(pairs.size() * 2);
    for (auto [a, b] : pairs) {
        sym.emplace_back(a, b);
        sym.emplace_back(b, a);
    }
    std::sort(sym.begin(), sym.end());
    Adjacency adj;
    adj.offsets.assign(static_cast<size_t>(n + 1), 0);
    for (size_t i = 0; i < sym.size();) {
        size_t j = i;
        while (j < sym.size() && sym[j] == sym[i]) ++j;
        adj.cols.push_back(sym[i].second);
        adj.weights.push_back(static_cast<float>(j - i));
        ++adj.offsets[sym[i].first + 1];
        i = j;
    }
    for (int64_t a = 0; a < n; ++a) adj.offsets[a + 1] += adj.offsets[a];
    return adj;
}

namespace {

// Scores of target t against each listed source in head m, into e (count); returns the max.
float head_scores(const AttentionScene& sc, int64_t t, int64_t m, int64_t d, float inv_sqrt_d,
                  const int64_t* src, int64_t count, const float* bias, float* e) {
    const float* qt = sc.Q + t * sc.ld + m * d;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < count; ++i) {
        const float* ks = sc.K + src[i] * sc.ld + m * d;
        float dotp = 0.0f;
        for (int64_t c = 0; c < d; ++c) dotp += qt[c] * ks[c];
        e[i] = dotp * inv_sqrt_d + bias[i];
        mx = std::max(mx, e[i]);
    }
    return mx;
}

}  // namespace

void attention_rows(const AttentionScene& sc, int64_t H, int64_t heads, float lambda,
                    int64_t t_begin, int64_t t_end, float* O, std::vector<float>& scratch) {
    const int64_t d = H / heads;
    const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));
    std::vector<int64_t> all_sources;
    for (int64_t t = t_begin; t < t_end; ++t) {
        // The sources of t: every s != t in the complete graph (0 -> 0 when n == 1).
        const int64_t* src;
        int64_t count;
        if (sc.in) {
            src = sc.in->sources.data() + sc.in->offsets[t];
            count = sc.in->offsets[t + 1] - sc.in->offsets[t];
        } else {
            all_sources.clear();
            for (int64_t s = 0; s < sc.n; ++s)
                if (s != t || sc.n == 1) all_sources.push_back(s);
            src = all_sources.data();
            count = static_cast<int64_t>(all_sources.size());
        }
        float* out = O + t * H;
        std::fill(out, out + H, 0.0f);
        if (count == 0) continue;
        if (static_cast<int64_t>(scratch.size()) < 2 * count) scratch.resize(2 * count);
        float* bias = scratch.data();
        float* e = scratch.data() + count;
        // The head-independent part: -lambda * geodesic + relation bias.
        for (int64_t i = 0; i < count; ++i) {
            const int64_t s = src[i];
            float b = -lambda * se3::geodesic(sc.P[t], sc.q[t], sc.P[s], sc.q[s]);
            if (sc.rel_norm) b += constants::kRelationScale * sc.rel_norm[s * sc.n + t];
            bias[i] = b;
        }
        for (int64_t m = 0; m < heads; ++m) {
            const float mx = head_scores(sc, t, m, d, inv_sqrt_d, src, count, bias, e);
            float sum = 0.0f;
            for (int64_t i = 0; i < count; ++i) {
                e[i] = std::exp(e[i] - mx);
                sum += e[i];
            }
            const float inv = 1.0f / (sum + constants::kSoftmaxEps);
            float* om = out + m * d;
            for (int64_t i = 0; i < count; ++i) {
                const float a = e[i] * inv;
                const float* vs = sc.V + src[i] * sc.ld + m * d;
                for (int64_t c = 0; c < d; ++c) om[c] += a * vs[c];
            }
        }
    }
}

namespace {

// Eight partial results in a fixed order, so that the compiler can keep them in one vector
// register (it may not reorder a float sum or max itself) and the result is the same bytes
// for every vector width.
constexpr int64_t kLanes = 8;

// The loops below run over whole tiles; on a CPU with AVX2 a second copy of each, compiled for
// it, is picked when the program starts (GCC's target_clones). Both copies do the same float
// operations in the same order, only on more lanes at once: the results are the same bytes.
#if defined(__x86_64__) && !defined(__clang__)
#define GASM_TILE_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define GASM_TILE_LOOP
#endif

GASM_TILE_LOOP float max_of(const float* x, int64_t count, float start) {
    float lane[kLanes];
    std::fill(lane, lane + kLanes, start);
    int64_t j = 0;
    for (; j + kLanes <= count; j += kLanes)
        for (int64_t k = 0; k < kLanes; ++k) lane[k] = x[j + k] > lane[k] ? x[j + k] : lane[k];
    for (; j < count; ++j) lane[0] = x[j] > lane[0] ? x[j] : lane[0];
    float m = lane[0];
    for (int64_t k = 1; k < kLanes; ++k) m = lane[k] > m ? lane[k] : m;
    return m;
}

// x[j] = exp(x[j] - shift) in place; returns their sum.
GASM_TILE_LOOP float exp_shifted_sum(float* x, int64_t count, float shift) {
    float lane[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= count; j += kLanes)
        for (int64_t k = 0; k < kLanes; ++k) {
            x[j + k] = vmath::exp_approx(x[j + k] - shift);
            lane[k] += x[j + k];
        }
    for (; j < count; ++j) {
        x[j] = vmath::exp_approx(x[j] - shift);
        lane[0] += x[j];
    }
    float sum = 0.0f;
    for (int64_t k = 0; k < kLanes; ++k) sum += lane[k];
    return sum;
}

// Running softmax state of one (target, head): max m, sum l; the output row is scaled along.
void online_update(float* scores, int64_t count, float& m, float& l, float* out, int64_t d) {
    const float mx = max_of(scores, count, m);
    if (mx == -std::numeric_limits<float>::infinity()) return;  // nothing but masked sources
    const float scale = vmath::exp_approx(m - mx);              // exp(-inf) = 0 on the first tile
    l = l * scale + exp_shifted_sum(scores, count, mx);
    m = mx;
    if (scale != 1.0f)
        for (int64_t c = 0; c < d; ++c) out[c] *= scale;
}

// bias[j] = -lambda * g(t, s0 + j) for the ns sources of a tile, from the pose rows.
GASM_TILE_LOOP void geodesic_bias(const float* pose, int64_t ld, int64_t t, int64_t s0, int64_t ns, float lambda,
                   float* bias) {
    const float* px = pose + s0;
    const float* py = px + ld;
    const float* pz = py + ld;
    const float* qw = pz + ld;
    const float* qx = qw + ld;
    const float* qy = qx + ld;
    const float* qz = qy + ld;
    const float tx = pose[t], ty = pose[ld + t], tz = pose[2 * ld + t];
    const float tw = pose[3 * ld + t], tqx = pose[4 * ld + t], tqy = pose[5 * ld + t],
                tqz = pose[6 * ld + t];
    for (int64_t j = 0; j < ns; ++j) {
        const float dx = tx - px[j], dy = ty - py[j], dz = tz - pz[j];
        const float dist = __builtin_sqrtf(dx * dx + dy * dy + dz * dz);
        float c = tw * qw[j] + tqx * qx[j] + tqy * qy[j] + tqz * qz[j];
        c = c < 0.0f ? -c : c;
        c = c > 1.0f ? 1.0f : c;
        bias[j] = -lambda * (dist + 0.5f * vmath::acos_unit(c));
    }
}

}  // namespace

void attention_rows_tiled(const AttentionScene& sc, int64_t H, int64_t heads, float lambda,
                          int64_t t_begin, int64_t t_end, float* O, std::vector<float>& scratch) {
    const int64_t d = H / heads, TT = t_end - t_begin, n = sc.n;
    const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));
    const float minus_inf = -std::numeric_limits<float>::infinity();
    // scratch: bias (TT, TS), scores (TT, TS), m and l (TT, heads)
    const size_t need = static_cast<size_t>(2 * TT * kSourceTile + 2 * TT * heads);
    if (scratch.size() < need) scratch.resize(need);
    float* bias = scratch.data();
    float* scores = bias + TT * kSourceTile;
    float* m = scores + TT * kSourceTile;
    float* l = m + TT * heads;
    std::fill(m, m + TT * heads, minus_inf);
    std::fill(l, l + TT * heads, 0.0f);
    for (int64_t t = t_begin; t < t_end; ++t) std::fill(O + t * H, O + t * H + H, 0.0f);
    for (int64_t s0 = 0; s0 < n; s0 += kSourceTile) {
        const int64_t ns = std::min(kSourceTile, n - s0);
        for (int64_t i = 0; i < TT; ++i) {
            const int64_t t = t_begin + i;
            float* row = bias + i * ns;
            geodesic_bias(sc.pose, sc.pose_ld, t, s0, ns, lambda, row);
            if (sc.rel_norm)
                for (int64_t j = 0; j < ns; ++j)
                    row[j] += constants::kRelationScale * sc.rel_norm[(s0 + j) * n + t];
            if (n > 1 && t >= s0 && t < s0 + ns) row[t - s0] = minus_inf;  // no self-loops
        }
        for (int64_t h = 0; h < heads; ++h) {
            // scores = Q_t K_s^T / sqrt(d) + bias, for the tile, in one product.
            std::copy(bias, bias + TT * ns, scores);
            blas::sgemm_nt(TT, ns, d, inv_sqrt_d, sc.Q + t_begin * sc.ld + h * d, sc.ld,
                           sc.K + s0 * sc.ld + h * d, sc.ld, 1.0f, scores, ns);
            for (int64_t i = 0; i < TT; ++i)
                online_update(scores + i * ns, ns, m[i * heads + h], l[i * heads + h],
                              O + (t_begin + i) * H + h * d, d);
            // O_t += P V_s; rows whose sources so far are all masked hold zeros in P.
            for (int64_t i = 0; i < TT; ++i)
                if (m[i * heads + h] == minus_inf)
                    std::fill(scores + i * ns, scores + (i + 1) * ns, 0.0f);
            blas::sgemm_nn(TT, d, ns, 1.0f, scores, ns, sc.V + s0 * sc.ld + h * d, sc.ld, 1.0f,
                           O + t_begin * H + h * d, H);
        }
    }
    for (int64_t i = 0; i < TT; ++i)
        for (int64_t h = 0; h < heads; ++h) {
            const float inv = 1.0f / (l[i * heads + h] + constants::kSoftmaxEps);
            float* out = O + (t_begin + i) * H + h * d;
            for (int64_t c = 0; c < d; ++c) out[c] *= inv;
        }
}

namespace {

double row_norm(const float* v, int64_t D) {
    double s = 0;
    for (int64_t c = 0; c < D; ++c) s += static_cast<double>(v[c]) * v[c];
    return std::sqrt(s);
}

void gaussian_complete(const float* G, int64_t n, int64_t D, std::vector<float>& c) {
    if (n == 1) {
        const double factor = 1.0 - 2.0 / (2.0 + constants::kDegreeEps);
        c[0] = static_cast<float>(row_norm(G, D) * factor);
        return;
    }
    // (L G)_a = G_a - 2 s^2 sum_{b != a} G_b, s^2 = 1 / (2 (n - 1) + 1e-6).
    std::vector<double> total(static_cast<size_t>(D), 0.0);
    for (int64_t a = 0; a < n; ++a)
        for (int64_t k = 0; k < D; ++k) total[k] += G[a * D + k];
    const double s2 = 1.0 / (2.0 * static_cast<double>(n - 1) + constants::kDegreeEps);
    for (int64_t a = 0; a < n; ++a) {
        double sq = 0;
        for (int64_t k = 0; k < D; ++k) {
            double v = G[a * D + k] - 2.0 * s2 * (total[k] - G[a * D + k]);
            sq += v * v;
        }
        c[a] = static_cast<float>(std::sqrt(sq));
    }
}

void gaussian_sparse(const float* G, int64_t n, int64_t D, const Adjacency& adj,
                     std::vector<float>& c) {
    std::vector<double> s(static_cast<size_t>(n), 0.0);
    for (int64_t a = 0; a < n; ++a) {
        double deg = 0;
        for (int64_t i = adj.offsets[a]; i < adj.offsets[a + 1]; ++i) deg += adj.weights[i];
        s[a] = deg > 0 ? 1.0 / std::sqrt(deg + constants::kDegreeEps) : 0.0;
    }
    std::vector<double> v(static_cast<size_t>(D));
    for (int64_t a = 0; a < n; ++a) {
        for (int64_t k = 0; k < D; ++k) v[k] = G[a * D + k];
        for (int64_t i = adj.offsets[a]; i < adj.offsets[a + 1]; ++i) {
            const int64_t b = adj.cols[i];
            const double w = s[a] * adj.weights[i] * s[b];
            for (int64_t k = 0; k < D; ++k) v[k] -= w * G[b * D + k];
        }
        double sq = 0;
        for (int64_t k = 0; k < D; ++k) sq += v[k] * v[k];
        c[a] = static_cast<float>(std::sqrt(sq));
    }
}

// Calls fn(s, t) for every edge of the scene: the given list, or the complete graph.
template <typename Fn>
void for_each_edge(int64_t n, const std::array<int64_t, 2>* edges, int64_t num_edges, bool complete,
                   Fn fn) {
    if (!complete) {
        for (int64_t e = 0; e < num_edges; ++e) fn(edges[e][0], edges[e][1]);
    } else if (n == 1) {
        fn(0, 0);
    } else {
        for (int64_t s = 0; s < n; ++s)
            for (int64_t t = 0; t < n; ++t)
                if (s != t) fn(s, t);
    }
}

void mean_curvature(const float* G, int64_t n, int64_t D, const std::array<int64_t, 2>* edges,
                    int64_t num_edges, bool complete, std::vector<float>& c) {
    std::vector<double> sum(static_cast<size_t>(n * D), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(n), 0);
    if (complete && n > 1) {
        // Closed form: each entity's neighbours are all the others.
        std::vector<double> total(static_cast<size_t>(D), 0.0);
        for (int64_t a = 0; a < n; ++a)
            for (int64_t k = 0; k < D; ++k) total[k] += G[a * D + k];
        for (int64_t a = 0; a < n; ++a) {
            for (int64_t k = 0; k < D; ++k) sum[a * D + k] = total[k] - G[a * D + k];
            count[a] = n - 1;
        }
    } else {
        for_each_edge(n, edges, num_edges, complete, [&](int64_t s, int64_t t) {
            for (int64_t k = 0; k < D; ++k) sum[s * D + k] += G[t * D + k];
            ++count[s];
        });
    }
    for (int64_t a = 0; a < n; ++a) {
        const double cnt = static_cast<double>(std::max<int64_t>(count[a], 1));
        double sq = 0;
        for (int64_t k = 0; k < D; ++k) {
            double v = G[a * D + k] - sum[a * D + k] / cnt;
            sq += v * v;
        }
        c[a] = static_cast<float>(std::sqrt(sq));
    }
}

void ollivier_ricci(const float* G, int64_t n, int64_t D, const std::array<int64_t, 2>* edges,
                    int64_t num_edges, bool complete, std::vector<float>& c) {
    std::vector<double> acc(static_cast<size_t>(n), 0.0);
    for_each_edge(n, edges, num_edges, complete, [&](int64_t u, int64_t v) {
        double sq = 0;
        for (int64_t k = 0; k < D; ++k) {
            double diff = static_cast<double>(G[u * D + k]) - G[v * D + k];
            sq += diff * diff;
        }
        const double w = 1.0 / (1.0 + std::sqrt(sq));
        acc[u] += w;
        acc[v] += w;
    });
    for (int64_t a = 0; a < n; ++a) c[a] = static_cast<float>(acc[a]);
}

}  // namespace

float curvature(CurvatureKind kind, const float* G, int64_t n, int64_t D, const Adjacency* adj,
                const std::array<int64_t, 2>* edges, int64_t num_edges, std::vector<float>& c) {
    c.assign(static_cast<size_t>(n), 0.0f);
    const bool complete = adj == nullptr;
    switch (kind) {
        case CurvatureKind::gaussian:
            if (complete)
                gaussian_complete(G, n, D, c);
            else
                gaussian_sparse(G, n, D, *adj, c);
            break;
        case CurvatureKind::mean:
            mean_curvature(G, n, D, edges, num_edges, complete, c);
            break;
        case CurvatureKind::ollivier_ricci:
            ollivier_ricci(G, n, D, edges, num_edges, complete, c);
            break;
    }
    double sum = 0;
    for (float v : c) sum += v;
    return static_cast<float>(sum / static_cast<double>(n));
}

namespace {

void distance_step(float* G, int64_t D, const DistanceConstraint& dc) {
    float* gi = G + dc.i * D;
    float* gj = G + dc.j * D;
    double sq = 0;
    for (int64_t k = 0; k < D; ++k) sq += static_cast<double>(gi[k] - gj[k]) * (gi[k] - gj[k]);
    const float rho = static_cast<float>(std::sqrt(sq));
    if (!(rho > constants::kConstraintMinLen)) return;
    const float scale =
        constants::kConstraintRate * (rho - static_cast<float>(dc.target)) / rho * 0.5f;
    for (int64_t k = 0; k < D; ++k) {
        const float delta = scale * (gi[k] - gj[k]);
        gi[k] -= delta;
        gj[k] += delta;
    }
}

// One gradient step of f = (phi - theta)^2 / 2 on G_i and G_k, where phi is the angle at j
// between a = G_i - G_j and b = G_k - G_j, cos(phi) = a.b / (|a||b|). With
//   d cos(phi) / da = b / (|a||b|) - cos(phi) a / |a|^2   (and symmetrically for b),
//   d phi / da = -(d cos(phi) / da) / sin(phi),
// the step is G_i -= eta (phi - theta) d phi / da and G_k -= eta (phi - theta) d phi / db, both
// gradients taken at the positions before either moves. Skipped where an arm is shorter than
// 1e-6 or sin(phi) < 1e-6 (the gradient is undefined there). G_j does not move.
void angle_step(float* G, int64_t D, const AngleConstraint& ac) {
    float* gi = G + ac.i * D;
    float* gk = G + ac.k * D;
    const float* gj = G + ac.j * D;
    std::vector<double> a(static_cast<size_t>(D)), b(static_cast<size_t>(D));
    double aa = 0, bb = 0, ab = 0;
    for (int64_t c = 0; c < D; ++c) {
        a[c] = static_cast<double>(gi[c]) - gj[c];
        b[c] = static_cast<double>(gk[c]) - gj[c];
        aa += a[c] * a[c];
        bb += b[c] * b[c];
        ab += a[c] * b[c];
    }
    const double la = std::sqrt(aa), lb = std::sqrt(bb);
    if (la < constants::kConstraintMinLen || lb < constants::kConstraintMinLen) return;
    const double cosp = std::clamp(ab / (la * lb), -1.0, 1.0);
    const double sinp = std::sqrt(std::max(0.0, 1.0 - cosp * cosp));
    if (sinp < constants::kConstraintMinLen) return;
    const double phi = std::acos(cosp);
    const double g = constants::kConstraintRate * (phi - ac.theta);
    for (int64_t c = 0; c < D; ++c) {
        const double dcos_da = b[c] / (la * lb) - cosp * a[c] / aa;
        const double dcos_db = a[c] / (la * lb) - cosp * b[c] / bb;
        gi[c] = static_cast<float>(gi[c] - g * (-dcos_da / sinp));
        gk[c] = static_cast<float>(gk[c] - g * (-dcos_db / sinp));
    }
}

void collision_pass(float* G, int64_t n, int64_t D, float min_dist) {
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = i + 1; j < n; ++j) {
            float* gi = G + i * D;
            float* gj = G + j * D;
            double sq = 0;
            for (int64_t k = 0; k < D; ++k)
                sq += static_cast<double>(gi[k] - gj[k]) * (gi[k] - gj[k]);
            const float rho = static_cast<float>(std::sqrt(sq));
            if (!(rho > constants::kConstraintMinLen && rho < min_dist)) continue;
            const float scale = (min_dist - rho) / rho * 0.5f * constants::kConstraintRate;
            for (int64_t k = 0; k < D; ++k) {
                const float delta = scale * (gi[k] - gj[k]);
                gi[k] += delta;
                gj[k] -= delta;
            }
        }
    }
}

}  // namespace

void apply_constraints(float* G, int64_t n, int64_t D, const DistanceConstraint* dist,
                       int64_t num_dist, const AngleConstraint* angle, int64_t num_angle,
                       double collision) {
    for (int64_t c = 0; c < num_dist; ++c) distance_step(G, D, dist[c]);
    for (int64_t c = 0; c < num_angle; ++c) angle_step(G, D, angle[c]);
    if (!std::isnan(collision)) collision_pass(G, n, D, static_cast<float>(collision));
}

}  // namespace gasm::cpu
