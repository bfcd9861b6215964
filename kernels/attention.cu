// SPDX-License-Identifier: MIT
// The SE(3) graph attention of model.md, steps 4-7, fused so that no per-edge value ever
// reaches global memory: memory stays O(N) per scene however many edges there are.
//
// Dense (complete graph): a block owns a tile of targets of one scene and one head. It walks the
// scene's sources tile by tile; per source tile it stages K, V and the source poses in shared
// memory, computes the scores (Q_t . K_s) / sqrt(d) - lambda g(t, s) + 0.1 |R[s, t]|, masks
// s == t (except the single edge 0 -> 0 of a one-entity scene), and folds them into a running
// (max, sum) per target with the usual online-softmax rescaling before adding p V_s into the
// running output. The final output is O / (sum + 1e-16), which is model.md's
// exp(e - max) / (sum exp(e - max) + 1e-16) weighting.
//
// Sparse (an input's own edge list): one warp per (target, head) walks the target's incoming
// edges in CSR order with the same online softmax; duplicates count as often as they appear and
// a target without incoming edges gets 0.
//
// Q, K and V come from the stacked projection GEMM without bias; the bias is added as they are
// loaded.
#include <cmath>
#include <string>

#include "host/errors.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/ops.hpp"
#include "kernels/reduce.cuh"

namespace gasm::cuda::ops {
namespace {

constexpr int kAttnThreads = 128;
constexpr int kAttnWarps = kAttnThreads / 32;
constexpr size_t kSmemBudget = 48 * 1024;  // the default limit; no opt-in needed
constexpr float kNegInf = -INFINITY;

// Shared memory of one dense block for `tile` targets and `tile` sources of head size d:
// four float4[tile] pose arrays, Q (tile, d), K (tile, d + 1; padded against bank conflicts),
// V (tile, d), O (tile, d), scores/probabilities (tile, tile + 1), and three per-row scalars.
size_t dense_smem_bytes(int tile, int d) {
    const size_t t = static_cast<size_t>(tile), dd = static_cast<size_t>(d);
    return sizeof(float) * (16 * t + 3 * t * dd + t * (dd + 1) + t * (t + 1) + 3 * t);
}

__device__ inline se3::Vec3 as_vec(float4 p) {
    return {p.x, p.y, p.z};
}
__device__ inline se3::Quat as_quat(float4 q) {
    return {q.x, q.y, q.z, q.w};
}

// One head, one tile of targets; see the file comment. tiles (gridDim.x, 2); out (T, H).
__global__ void __launch_bounds__(kAttnThreads)
    attention_dense_kernel(AttentionInputs in, const int* __restrict__ tiles, int tile, int d,
                           float sqrt_d, float* __restrict__ out) {
    const int scene = tiles[2 * blockIdx.x];
    if (!in.active[scene]) return;  // the same for the whole block, so no barrier is skipped
    const int t0 = tiles[2 * blockIdx.x + 1];
    const int head = blockIdx.y;
    const int base = in.scenes.offsets[scene];
    const int n = in.scenes.offsets[scene + 1] - base;
    const int rows_here = min(tile, n - t0);
    const int64_t rel = in.rel_base[scene];
    const bool self_edge = n == 1;  // the one-entity scene keeps its edge 0 -> 0
    const int qcol = head * d, kcol = in.hidden + head * d, vcol = 2 * in.hidden + head * d;
    const int pstride = tile + 1;

    extern __shared__ float4 smem4[];
    float4* tpos = smem4;
    float4* tquat = tpos + tile;
    float4* spos = tquat + tile;
    float4* squat = spos + tile;
    float* qs = reinterpret_cast<float*>(squat + tile);
    float* ks = qs + tile * d;
    float* vs = ks + tile * (d + 1);
    float* os = vs + tile * d;
    float* ps = os + tile * d;
    float* row_max = ps + tile * pstride;
    float* row_sum = row_max + tile;
    float* row_scale = row_sum + tile;

    for (int i = threadIdx.x; i < tile * d; i += blockDim.x) {
        const int r = i / d, c = i % d;
        float q = 0.0f;
        if (r < rows_here)
            q = in.proj[static_cast<size_t>(base + t0 + r) * in.ldp + qcol + c] +
                in.qkv_bias[qcol + c];
        qs[i] = q;
        os[i] = 0.0f;
    }
    for (int r = threadIdx.x; r < tile; r += blockDim.x) {
        const bool ok = r < rows_here;
        tpos[r] = ok ? in.pos[base + t0 + r] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        tquat[r] = ok ? in.quat[base + t0 + r] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        row_max[r] = kNegInf;
        row_sum[r] = 0.0f;
    }

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int s0 = 0; s0 < n; s0 += tile) {
        const int cols_here = min(tile, n - s0);
        __syncthreads();  // the previous tile's readers are done with K, V and the scores
        for (int i = threadIdx.x; i < tile * d; i += blockDim.x) {
            const int j = i / d, c = i % d;
            float k = 0.0f, v = 0.0f;
            if (j < cols_here) {
                const float* row = in.proj + static_cast<size_t>(base + s0 + j) * in.ldp;
                k = row[kcol + c] + in.qkv_bias[kcol + c];
                v = row[vcol + c] + in.qkv_bias[vcol + c];
            }
            ks[j * (d + 1) + c] = k;
            vs[i] = v;
        }
        for (int j = threadIdx.x; j < tile; j += blockDim.x) {
            const bool ok = j < cols_here;
            spos[j] = ok ? in.pos[base + s0 + j] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            squat[j] = ok ? in.quat[base + s0 + j] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        }
        // Relation bias R[s, t]: consecutive threads take consecutive targets, which are
        // consecutive in the row-major (source, target) block, so the loads coalesce.
        for (int i = threadIdx.x; i < tile * tile; i += blockDim.x) {
            const int j = i / tile, r = i % tile;
            float b = 0.0f;
            if (rel >= 0 && j < cols_here && r < rows_here)
                b = 0.1f * in.rel_norms[rel + static_cast<long long>(s0 + j) * n + (t0 + r)];
            ps[r * pstride + j] = b;
        }
        __syncthreads();
        for (int i = threadIdx.x; i < tile * tile; i += blockDim.x) {
            const int r = i / tile, j = i % tile;
            float e = kNegInf;
            if (r < rows_here && j < cols_here && (s0 + j != t0 + r || self_edge)) {
                const float* qr = qs + r * d;
                const float* kj = ks + j * (d + 1);
                float dot = 0.0f;
                for (int c = 0; c < d; ++c) dot += qr[c] * kj[c];
                const float g = se3::geodesic(as_vec(tpos[r]), as_quat(tquat[r]), as_vec(spos[j]),
                                              as_quat(squat[j]));
                e = dot / sqrt_d - in.distance_scale * g + ps[r * pstride + j];
            }
            ps[r * pstride + j] = e;
        }
        __syncthreads();
        // Online softmax, one warp per target row; lane j holds source j of the tile.
        for (int r = warp; r < tile; r += kAttnWarps) {
            const float e = lane < tile ? ps[r * pstride + lane] : kNegInf;
            const float m_old = row_max[r];
            const float m_new = fmaxf(m_old, detail::warp_max(e));
            float p = 0.0f, scale = 1.0f;
            if (m_new != kNegInf) {  // else: nothing seen yet, nothing to weigh
                p = expf(e - m_new);
                scale = expf(m_old - m_new);
            }
            const float psum = detail::warp_sum(p);
            if (lane < tile) ps[r * pstride + lane] = p;
            __syncwarp();  // every lane has read row_max[r] before lane 0 replaces it
            if (lane == 0) {
                row_max[r] = m_new;
                row_sum[r] = row_sum[r] * scale + psum;
                row_scale[r] = scale;
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < tile * d; i += blockDim.x) {
            const int r = i / d, c = i % d;
            const float* pr = ps + r * pstride;
            float acc = os[i] * row_scale[r];
            for (int j = 0; j < cols_here; ++j) acc += pr[j] * vs[j * d + c];
            os[i] = acc;
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < tile * d; i += blockDim.x) {
        const int r = i / d, c = i % d;
        if (r < rows_here)
            out[static_cast<size_t>(base + t0 + r) * in.hidden + qcol + c] =
                os[i] / (row_sum[r] + 1e-16f);
    }
}

// One warp per (target, head) of targets (n); in_ptr (T+1), in_src (E); out (T, H).
// Shared memory: per warp the target's Q row and the running output, (2, d) floats each.
__global__ void __launch_bounds__(kAttnThreads)
    attention_sparse_kernel(AttentionInputs in, const int* __restrict__ targets, int n,
                            const int* __restrict__ in_ptr, const int* __restrict__ in_src, int d,
                            float sqrt_d, float* __restrict__ out) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const long long item = static_cast<long long>(blockIdx.x) * kAttnWarps + warp;
    if (item >= static_cast<long long>(n) * in.heads) return;  // whole warps only
    const int t = targets[item / in.heads];
    const int head = static_cast<int>(item % in.heads);
    const int scene = in.scenes.scene_of[t];
    if (!in.active[scene]) return;
    const int base = in.scenes.offsets[scene];
    const int nloc = in.scenes.offsets[scene + 1] - base;
    const int64_t rel = in.rel_base[scene];
    const int qcol = head * d, kcol = in.hidden + head * d, vcol = 2 * in.hidden + head * d;

    extern __shared__ float smem[];
    float* q = smem + warp * 2 * d;  // lane-private columns c = lane, lane + 32, ...
    float* acc = q + d;
    const float* trow = in.proj + static_cast<size_t>(t) * in.ldp;
    for (int c = lane; c < d; c += 32) {
        q[c] = trow[qcol + c] + in.qkv_bias[qcol + c];
        acc[c] = 0.0f;
    }
    const se3::Vec3 pt = as_vec(in.pos[t]);
    const se3::Quat qt = as_quat(in.quat[t]);
    float m = kNegInf, l = 0.0f;
    for (int e = in_ptr[t]; e < in_ptr[t + 1]; ++e) {
        const int s = in_src[e];
        const float* srow = in.proj + static_cast<size_t>(s) * in.ldp;
        float dot = 0.0f;
        for (int c = lane; c < d; c += 32) dot += q[c] * (srow[kcol + c] + in.qkv_bias[kcol + c]);
        dot = detail::warp_sum(dot);
        const float g = se3::geodesic(pt, qt, as_vec(in.pos[s]), as_quat(in.quat[s]));
        float b = 0.0f;
        if (rel >= 0)
            b = 0.1f * in.rel_norms[rel + static_cast<long long>(s - base) * nloc + (t - base)];
        const float score = dot / sqrt_d - in.distance_scale * g + b;
        const float m_new = fmaxf(m, score);
        const float scale = expf(m - m_new);  // 0 for the first edge (m = -inf)
        const float p = expf(score - m_new);
        l = l * scale + p;
        for (int c = lane; c < d; c += 32)
            acc[c] = acc[c] * scale + p * (srow[vcol + c] + in.qkv_bias[vcol + c]);
        m = m_new;
    }
    float* orow = out + static_cast<size_t>(t) * in.hidden + qcol;
    for (int c = lane; c < d; c += 32) orow[c] = acc[c] / (l + 1e-16f);
}

void launch_dense(const AttentionInputs& in, const int* tiles, int num_tiles, int tile, int d,
                  float* out, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(num_tiles), static_cast<unsigned>(in.heads));
    const size_t smem = dense_smem_bytes(tile, d);
    attention_dense_kernel<<<grid, kAttnThreads, smem, stream>>>(in, tiles, tile, d,
                                                                 sqrtf(static_cast<float>(d)), out);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

void launch_sparse(const AttentionInputs& in, const int* targets, int n, const int* in_ptr,
                   const int* in_src, int d, float* out, cudaStream_t stream) {
    const long long items = static_cast<long long>(n) * in.heads;
    const auto blocks = static_cast<unsigned>((items + kAttnWarps - 1) / kAttnWarps);
    const size_t smem = sizeof(float) * 2 * static_cast<size_t>(d) * kAttnWarps;
    attention_sparse_kernel<<<blocks, kAttnThreads, smem, stream>>>(
        in, targets, n, in_ptr, in_src, d, sqrtf(static_cast<float>(d)), out);
    GASM_CUDA_CHECK_LAUNCH(stream);
}

int head_dim_of(const AttentionInputs& in) {
    if (in.heads <= 0 || in.hidden % in.heads != 0)
        throw RuntimeFailure("attention: hidden size " + std::to_string(in.hidden) +
                             " is not a multiple of the head count " + std::to_string(in.heads));
    return in.hidden / in.heads;
}

}  // namespace

int attention_tile_size(int head_dim) {
    for (int tile = 32; tile >= 1; tile /= 2)
        if (dense_smem_bytes(tile, head_dim) <= kSmemBudget) return tile;
    throw RuntimeFailure("attention: head size " + std::to_string(head_dim) +
                         " is too large for the fused attention kernel's shared memory");
}

void attention_dense(const AttentionInputs& in, const int* tiles, int num_tiles, float* out,
                     cudaStream_t stream) {
    if (num_tiles <= 0) return;
    const int d = head_dim_of(in);
    launch_dense(in, tiles, num_tiles, attention_tile_size(d), d, out, stream);
}

void attention_sparse(const AttentionInputs& in, const int* targets, int n, const int* in_ptr,
                      const int* in_src, float* out, cudaStream_t stream) {
    if (n <= 0) return;
    const int d = head_dim_of(in);
    if (sizeof(float) * 2 * static_cast<size_t>(d) * kAttnWarps > kSmemBudget)
        throw RuntimeFailure("attention: head size " + std::to_string(d) +
                             " is too large for the sparse attention kernel's shared memory");
    launch_sparse(in, targets, n, in_ptr, in_src, d, out, stream);
}

}  // namespace gasm::cuda::ops
