#!/usr/bin/python3
"""Independent NumPy reference implementation of the GASM model.

Written from /work/shared/spec/model.md and weights-format.md alone, so that
the C++/CUDA engine can be checked against a second, separately written
program.  Everything is float32 and deliberately simple (O(E) loops over edge
arrays, dense matrices where the spec talks about matrices): this file is a
yardstick, not a fast path.

Contents: the canonical parameter table, a pure-NumPy Philox4x32-10 that
reproduces cuRAND's host generator stream, deterministic weight generation
and the content digest, weight and scene-batch I/O (npz / HDF5), the forward
pass with constraints and the three curvature measures, and a small CLI:

    gasm_ref.py run --weights W --input scenes.h5 --output out.h5 [--curvature C]
    gasm_ref.py digest --feature-dim F --hidden-dim H --num-heads h \
                       --max-iterations K --output-dim D --seed S
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

F32 = np.float32
ETA = F32(0.01)            # constraint learning rate
CONVERGENCE_TOL = 1e-4     # |cbar - target_curvature| below this stops
FEEDBACK = F32(0.1)        # X += 0.1 * geom_to_feature(G)
LN_EPS = F32(1e-5)
CURVATURES = ("gaussian", "mean", "ollivier_ricci")


# --------------------------------------------------------------------------
# Configuration and the canonical parameter table
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    feature_dim: int = 768
    hidden_dim: int = 256
    output_dim: int = 3
    num_heads: int = 4
    max_iterations: int = 6


@dataclass(frozen=True)
class ParamSpec:
    key: str
    shape: tuple
    fan_in: int = 0          # > 0: uniform U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    const: float = 0.0       # used when fan_in == 0


def param_specs(cfg: Config) -> list[ParamSpec]:
    """model.md's table in canonical (state-dict) order."""
    F, H, D = cfg.feature_dim, cfg.hidden_dim, cfg.output_dim
    a = "se3_attention."
    specs = [
        ParamSpec("target_curvature", (), const=0.1),
        ParamSpec(a + "se3_params", (6,), const=0.0),
        ParamSpec(a + "distance_scale", (1,), const=1.0),
    ]
    for name in ("q_proj", "k_proj", "v_proj"):
        specs += [ParamSpec(a + name + ".weight", (H, F), F),
                  ParamSpec(a + name + ".bias", (H,), F)]
    specs += [
        ParamSpec(a + "out_proj.weight", (F, H), H),
        ParamSpec(a + "out_proj.bias", (F,), H),
        ParamSpec(a + "pos_embedding.weight", (3, F), F),
        ParamSpec(a + "pos_embedding.bias", (3,), F),
        ParamSpec(a + "rot_embedding.weight", (4, F), F),
        ParamSpec(a + "rot_embedding.bias", (4,), F),
        ParamSpec(a + "layer_norm.weight", (F,), const=1.0),
        ParamSpec(a + "layer_norm.bias", (F,), const=0.0),
        ParamSpec("feature_to_geom.weight", (D, F), F),
        ParamSpec("feature_to_geom.bias", (D,), F),
        ParamSpec("geom_to_feature.weight", (F, D), D),
        ParamSpec("geom_to_feature.bias", (F,), D),
    ]
    for k in range(cfg.max_iterations):
        e = f"feature_evolution.{k}."
        specs += [
            ParamSpec(e + "0.weight", (H, F), F),
            ParamSpec(e + "0.bias", (H,), F),
            ParamSpec(e + "3.weight", (F, H), H),
            ParamSpec(e + "3.bias", (F,), H),
            ParamSpec(e + "4.weight", (F,), const=1.0),
            ParamSpec(e + "4.bias", (F,), const=0.0),
        ]
    return specs


# --------------------------------------------------------------------------
# Philox4x32-10, laid out like cuRAND's host generator (default ordering)
# --------------------------------------------------------------------------

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_BLOCKS_PER_ROW = 65536    # cuRAND spreads consecutive blocks over 65536 subsequences


def philox4x32_10(ctr: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 on counters ctr (4, n) uint64 holding 32-bit words."""
    c0, c1, c2, c3 = (ctr[i].astype(np.uint64) for i in range(4))
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0 = _M0 * c0                     # < 2^64: exact in uint64
        p1 = _M1 * c2
        hi0, lo0 = p0 >> _SHIFT32, p0 & _MASK32
        hi1, lo1 = p1 >> _SHIFT32, p1 & _MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
    return np.stack([c0, c1, c2, c3]).astype(np.uint32)


def philox_stream(seed: int, start: int, n: int) -> np.ndarray:
    """Stream elements start .. start+n-1 of cuRAND's host Philox generator.

    Element e is word e % 4 of block b = e // 4, and block b is computed from
    the counter (b // 65536, 0, b % 65536, 0): cuRAND's 65536 subsequences
    (counter words 2/3) each advance their own position (word 0).
    """
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    first, last = start // 4, (start + n - 1) // 4
    b = np.arange(first, last + 1, dtype=np.uint64)
    zero = np.zeros_like(b)
    ctr = np.stack([b // np.uint64(_BLOCKS_PER_ROW), zero,
                    b % np.uint64(_BLOCKS_PER_ROW), zero])
    key = (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF)
    words = philox4x32_10(ctr, key).T.reshape(-1)   # block-major, word-minor
    skip = start - first * 4
    return words[skip:skip + n]


def uniform_weights(bits: np.ndarray, fan_in: int) -> np.ndarray:
    """Map raw 32-bit draws to U(-bound, bound) exactly as weights-format.md."""
    bound = F32(1.0) / np.sqrt(F32(fan_in))                  # 1.0f / sqrtf(fan_in)
    # (b >> 8) < 2^24 is exact in float32; the + 0.5f rounds (to even) in float32.
    u = ((bits >> np.uint32(8)).astype(F32) + F32(0.5)) * F32(2.0 ** -24)
    return (bound * (F32(2.0) * u - F32(1.0))).astype(F32)


def generate_weights(cfg: Config, seed: int = 42) -> dict[str, np.ndarray]:
    """Deterministic initial weights: one Philox draw per uniform parameter."""
    weights, offset = {}, 0
    for spec in param_specs(cfg):
        n = int(np.prod(spec.shape, dtype=np.int64))
        if spec.fan_in == 0:
            weights[spec.key] = np.full(spec.shape, spec.const, dtype=F32)
            continue
        bits = philox_stream(seed, offset, n)
        weights[spec.key] = uniform_weights(bits, spec.fan_in).reshape(spec.shape)
        offset += (n + 3) // 4 * 4          # next parameter starts on a block
    return weights


def content_sha256(weights: dict[str, np.ndarray], cfg: Config | None = None) -> str:
    """SHA-256 of key + NUL + float32 LE row-major bytes, in canonical order."""
    cfg = cfg or infer_config(weights)
    h = hashlib.sha256()
    for spec in param_specs(cfg):
        h.update(spec.key.encode("utf-8") + b"\0")
        h.update(np.ascontiguousarray(weights[spec.key], dtype="<f4").tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------
# Weight I/O
# --------------------------------------------------------------------------

def infer_config(weights: dict[str, np.ndarray], num_heads: int = 4) -> Config:
    """Configuration from shapes; the head count is not in any shape."""
    H, F = weights["se3_attention.q_proj.weight"].shape
    D = weights["feature_to_geom.weight"].shape[0]
    K = 0
    while f"feature_evolution.{K}.0.weight" in weights:
        K += 1
    return Config(int(F), int(H), int(D), int(num_heads), K)


def load_weights(path: str, num_heads: int | None = None):
    """Read .npz or HDF5 weights; returns (dict key -> float32 array, Config).

    For .npz the head count cannot be inferred from shapes; it defaults to 4
    (the default configuration and both public reference cases).
    """
    if str(path).endswith(".npz"):
        with np.load(path) as z:
            weights = {k: np.asarray(z[k], dtype=F32) for k in z.files}
        cfg = infer_config(weights, num_heads or 4)
    else:
        weights, cfg = _load_weights_h5(path)
        if num_heads:
            cfg = Config(cfg.feature_dim, cfg.hidden_dim, cfg.output_dim,
                         num_heads, cfg.max_iterations)
    _check_weights(weights, cfg)
    return weights, cfg


def _load_weights_h5(path: str):
    import h5py
    weights = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                weights[name.replace("/", ".")] = np.asarray(obj[()], dtype=F32)
        f.visititems(visit)
        a = f.attrs
        cfg = Config(int(a["feature_dim"]), int(a["hidden_dim"]), int(a["output_dim"]),
                     int(a["num_heads"]), int(a["max_iterations"]))
    return weights, cfg


def _check_weights(weights, cfg: Config) -> None:
    for spec in param_specs(cfg):
        if spec.key not in weights:
            raise ValueError(f"weights lack {spec.key}")
        if tuple(weights[spec.key].shape) != spec.shape:
            raise ValueError(f"{spec.key}: shape {weights[spec.key].shape}, want {spec.shape}")
    if cfg.hidden_dim % cfg.num_heads:
        raise ValueError("hidden_dim must be divisible by num_heads")


def save_weights_h5(path: str, weights, cfg: Config, seed: int | None = None) -> None:
    """Write weights in the weights-format.md layout (used by the fake engine)."""
    import h5py
    with h5py.File(path, "w") as f:
        for spec in param_specs(cfg):
            name = "/" + spec.key.replace(".", "/")
            data = np.asarray(weights[spec.key], dtype="<f4")
            if data.ndim == 0:
                f.create_dataset(name, data=data)
            else:
                f.create_dataset(name, data=data, chunks=data.shape, fletcher32=True)
        f.attrs["format"] = "gasm-weights"
        f.attrs["format_version"] = np.int32(1)
        for k in ("feature_dim", "hidden_dim", "output_dim", "num_heads", "max_iterations"):
            f.attrs[k] = np.int64(getattr(cfg, k))
        if seed is not None:
            f.attrs["seed"] = np.uint64(seed)
        f.attrs["generator"] = "curand-philox4x32-10" if seed is not None else "imported"
        f.attrs["created_by"] = "gasm_ref.py"
        f.attrs["created_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.attrs["content_sha256"] = content_sha256(weights, cfg)


# --------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------

@dataclass
class Scene:
    features: np.ndarray                       # (N, F) float32
    relations: np.ndarray | None = None        # (N, N, r): [source, target, :]
    edges: np.ndarray | None = None            # (E, 2) local (source, target); None = default graph
    distance: list = field(default_factory=list)   # (i, j, d)
    angle: list = field(default_factory=list)      # (i, j, k, theta)
    collision: float | None = None                 # min_dist m

    @property
    def has_constraints(self) -> bool:
        return bool(self.distance or self.angle or self.collision is not None)


def load_scenes_h5(path: str) -> list[Scene]:
    """Read the interface.md batch format into a list of Scene."""
    import h5py
    with h5py.File(path, "r") as f:
        g = f["scenes"]
        offsets = np.asarray(g["offsets"][()], dtype=np.int64)
        feats = np.asarray(g["features"][()], dtype=F32)
        rel = np.asarray(g["relations"][()], dtype=F32) if "relations" in g else None
        if "edge_offsets" in g:
            eoff = np.asarray(g["edge_offsets"][()], dtype=np.int64)
            edges = np.asarray(g["edges"][()], dtype=np.int64).reshape(-1, 2)
        else:
            eoff = edges = None
        cons = {}
        if "constraints" in g:
            for kind in ("distance", "collision", "angle"):
                if kind in g["constraints"]:
                    cons[kind] = np.asarray(g["constraints"][kind][()], dtype=np.float64)
    scenes, rel_at = [], 0
    for s in range(len(offsets) - 1):
        lo, hi = offsets[s], offsets[s + 1]
        n = int(hi - lo)
        sc = Scene(features=feats[lo:hi])
        if rel is not None:
            sc.relations = rel[rel_at:rel_at + n * n].reshape(n, n, -1)
            rel_at += n * n
        if eoff is not None:
            sc.edges = edges[eoff[s]:eoff[s + 1]]
        _attach_constraints(sc, s, cons)
        scenes.append(sc)
    return scenes


def _attach_constraints(sc: Scene, s: int, cons: dict) -> None:
    rows = lambda kind: [r for r in cons.get(kind, np.zeros((0, 1))) if int(r[0]) == s]
    sc.distance = [(int(r[1]), int(r[2]), F32(r[3])) for r in rows("distance")]
    sc.angle = [(int(r[1]), int(r[2]), int(r[3]), F32(r[4])) for r in rows("angle")]
    col = rows("collision")
    sc.collision = F32(col[-1][1]) if col else None


# --------------------------------------------------------------------------
# Small float32 building blocks
# --------------------------------------------------------------------------

def _linear(x, weights, name):
    return (x @ weights[name + ".weight"].T + weights[name + ".bias"]).astype(F32)


def _layer_norm(y, weights, name):
    mean = y.mean(axis=-1, keepdims=True, dtype=F32)
    var = ((y - mean) ** 2).mean(axis=-1, keepdims=True, dtype=F32)   # biased
    z = (y - mean) / np.sqrt(var + LN_EPS)
    return (z * weights[name + ".weight"] + weights[name + ".bias"]).astype(F32)


def _norm(v):
    return np.sqrt(np.sum(v * v, axis=-1, dtype=F32)).astype(F32)


def _hamilton(q, r):
    """q (N,4) (x) r (4,), q on the left, (w, x, y, z)."""
    w1, x1, y1, z1 = q.T
    w2, x2, y2, z2 = r
    return np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
                     w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], axis=1).astype(F32)


def se3_transform(se3):
    """(Rot 3x3, t 3, r quaternion 4) from se3_params = [t, omega]."""
    se3 = np.asarray(se3, dtype=F32)
    t, omega = se3[:3], se3[3:6]
    alpha = _norm(omega)
    if alpha < 1e-6:
        return np.eye(3, dtype=F32), t, np.array([1, 0, 0, 0], dtype=F32)
    u = (omega / alpha).astype(F32)
    kx = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]], dtype=F32)
    rot = np.eye(3, dtype=F32) + np.sin(alpha) * kx + (F32(1) - np.cos(alpha)) * (kx @ kx)
    half = alpha / F32(2)
    r = np.concatenate([[np.cos(half)], u * np.sin(half)]).astype(F32)
    return rot.astype(F32), t, r


# --------------------------------------------------------------------------
# Graph
# --------------------------------------------------------------------------

def attention_edges(scene: Scene):
    """(source, target) index arrays used by attention, duplicates kept."""
    n = scene.features.shape[0]
    if scene.edges is not None:
        e = np.asarray(scene.edges, dtype=np.int64).reshape(-1, 2)
        return e[:, 0], e[:, 1]
    if n == 1:
        return np.zeros(1, np.int64), np.zeros(1, np.int64)
    src, tgt = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = src != tgt
    return src[keep], tgt[keep]


def curvature_edges(scene: Scene):
    """Edges for curvature: the attention edges with each (s, t) pair once."""
    src, tgt = attention_edges(scene)
    if scene.edges is None or len(src) == 0:
        return src, tgt
    pairs = np.unique(np.stack([src, tgt], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


# --------------------------------------------------------------------------
# The attention layer
# --------------------------------------------------------------------------

def attention(weights, cfg: Config, X, src, tgt, relations):
    a = "se3_attention."
    n, h = X.shape[0], cfg.num_heads
    d = cfg.hidden_dim // h

    # Pose, then the global SE(3) motion.
    P = _linear(X, weights, a + "pos_embedding")
    qr = _linear(X, weights, a + "rot_embedding")
    q = (qr / np.maximum(_norm(qr), F32(1e-12))[:, None]).astype(F32)
    rot, t, r = se3_transform(weights[a + "se3_params"])
    P2 = (P @ rot.T + t).astype(F32)
    q2 = _hamilton(q, r)

    Q = _linear(X, weights, a + "q_proj").reshape(n, h, d)
    Kk = _linear(X, weights, a + "k_proj").reshape(n, h, d)
    V = _linear(X, weights, a + "v_proj").reshape(n, h, d)

    # Edge scores (E, h): scaled dot product - lambda * geodesic + relation bias.
    dot = np.sum(Q[tgt] * Kk[src], axis=2, dtype=F32) / np.sqrt(F32(d))
    qdot = np.abs(np.sum(q2[tgt] * q2[src], axis=1, dtype=F32))
    geo = _norm(P2[tgt] - P2[src]) + F32(0.5) * np.arccos(np.clip(qdot, F32(0), F32(1)))
    score = dot - weights[a + "distance_scale"][0] * geo[:, None]
    if relations is not None:
        score = score + (F32(0.1) * _norm(relations[src, tgt]))[:, None]
    score = score.astype(F32)

    # Softmax over the incoming edges of each target (PyG's scatter softmax).
    smax = np.full((n, h), -np.inf, dtype=F32)
    np.maximum.at(smax, tgt, score)
    ex = np.exp(score - smax[tgt]).astype(F32)
    den = np.zeros((n, h), dtype=F32)
    np.add.at(den, tgt, ex)
    att = (ex / (den[tgt] + F32(1e-16))).astype(F32)

    O = np.zeros((n, h, d), dtype=F32)       # targets without incoming edges stay 0
    np.add.at(O, tgt, att[:, :, None] * V[src])
    out = _linear(O.reshape(n, h * d), weights, a + "out_proj")
    return _layer_norm(out + X, weights, a + "layer_norm")


def feature_evolution(weights, k, U):
    e = f"feature_evolution.{k}."
    hid = np.maximum(_linear(U, weights, e + "0"), F32(0))   # .1 relu, .2 dropout = id
    return _layer_norm(_linear(hid, weights, e + "3"), weights, e + "4")


# --------------------------------------------------------------------------
# Constraints (eta = 0.01), order: distance, angle, collision
# --------------------------------------------------------------------------

def apply_constraints(G, scene: Scene):
    G = G.copy()
    for i, j, target in scene.distance:
        _distance_step(G, i, j, F32(target))
    for i, j, k, theta in scene.angle:
        _angle_step(G, i, j, k, F32(theta))
    if scene.collision is not None:
        _collision_pass(G, F32(scene.collision))
    return G


def _distance_step(G, i, j, target):
    v = G[i] - G[j]
    rho = _norm(v)
    if rho > 1e-6:
        delta = ETA * (rho - target) * (v / rho) * F32(0.5)
        G[i] -= delta
        G[j] += delta


def _collision_pass(G, m):
    n = G.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            v = G[i] - G[j]
            rho = _norm(v)
            if 1e-6 < rho < m:
                delta = (v / rho) * (m - rho) * F32(0.5) * ETA
                G[i] += delta
                G[j] -= delta


def _angle_step(G, i, j, k, theta):
    """One gradient step of L = (phi - theta)^2 / 2 on G_i and G_k.

    a = G_i - G_j, b = G_k - G_j, c = cos(phi) = a.b / (|a||b|), phi = acos(c).
    dc/da = (b_hat - c a_hat) / |a|,  dphi/da = -dc/da / sin(phi), so
        dL/dG_i = -(phi - theta) (b_hat - c a_hat) / (|a| sin phi)
        dL/dG_k = -(phi - theta) (a_hat - c b_hat) / (|b| sin phi)
    and G_i -= eta dL/dG_i, G_k -= eta dL/dG_k, both from the positions before
    either moves.  G_j stays.  Skipped when |a| or |b| < 1e-6 or sin(phi) < 1e-6.
    """
    a, b = G[i] - G[j], G[k] - G[j]
    la, lb = _norm(a), _norm(b)
    if la < 1e-6 or lb < 1e-6:
        return
    ah, bh = a / la, b / lb
    c = np.clip(np.sum(ah * bh, dtype=F32), F32(-1), F32(1))
    phi = np.arccos(c)
    s = np.sin(phi)
    if s < 1e-6:
        return
    err = phi - theta
    grad_i = -err * (bh - c * ah) / (la * s)
    grad_k = -err * (ah - c * bh) / (lb * s)
    G[i] -= ETA * grad_i
    G[k] -= ETA * grad_k


# --------------------------------------------------------------------------
# Curvature measures (per entity; the model uses their mean)
# --------------------------------------------------------------------------

def curvature_gaussian(G, src, tgt):
    """c_a = |(L G)_a|, L = I - S A S, A = 1[edge] + transpose, s = (deg+1e-6)^-1/2."""
    n = G.shape[0]
    A = np.zeros((n, n), dtype=F32)
    A[src, tgt] = F32(1)
    A = A + A.T
    deg = A.sum(axis=1, dtype=F32)
    s = np.where(deg > 0, (deg + F32(1e-6)) ** F32(-0.5), F32(0)).astype(F32)
    L = np.eye(n, dtype=F32) - s[:, None] * A * s[None, :]
    return _norm((L @ G).astype(F32))


def curvature_mean(G, src, tgt):
    """c_a = |G_a - mean of G_t over edges (a, t)|; mean 0 without out-edges."""
    n = G.shape[0]
    acc = np.zeros_like(G)
    np.add.at(acc, src, G[tgt])
    cnt = np.bincount(src, minlength=n).astype(F32)
    return _norm(G - acc / np.maximum(cnt, F32(1))[:, None])


def curvature_ollivier_ricci(G, src, tgt):
    """Every edge (u, v) adds 1 / (1 + |G_u - G_v|) to c_u and to c_v."""
    w = (F32(1) / (F32(1) + _norm(G[src] - G[tgt]))).astype(F32)
    c = np.zeros(G.shape[0], dtype=F32)
    np.add.at(c, src, w)
    np.add.at(c, tgt, w)
    return c


_CURVATURE_FN = {"gaussian": curvature_gaussian, "mean": curvature_mean,
                 "ollivier_ricci": curvature_ollivier_ricci}


# --------------------------------------------------------------------------
# Forward pass
# --------------------------------------------------------------------------

@dataclass
class Result:
    positions: np.ndarray        # (N, D) float32
    curvatures: list             # mean curvature per iteration run
    iterations: int
    converged: bool


def forward(weights, scene: Scene, curvature: str = "gaussian", cfg: Config | None = None) -> Result:
    cfg = cfg or infer_config(weights)
    curv_fn = _CURVATURE_FN[curvature]
    X = np.asarray(scene.features, dtype=F32).copy()
    src, tgt = attention_edges(scene)
    csrc, ctgt = curvature_edges(scene)
    target = F32(weights["target_curvature"].reshape(()))
    curvs, converged, it = [], False, 0
    for k in range(cfg.max_iterations):
        it = k + 1
        U = attention(weights, cfg, X, src, tgt, scene.relations)
        X = (X + feature_evolution(weights, k, U)).astype(F32)
        G = _linear(X, weights, "feature_to_geom")
        if scene.has_constraints:
            G = apply_constraints(G, scene)
        cbar = F32(np.mean(curv_fn(G, csrc, ctgt), dtype=F32))
        curvs.append(cbar)
        if abs(cbar - target) < CONVERGENCE_TOL:
            converged = True
            break
        X = (X + FEEDBACK * _linear(G, weights, "geom_to_feature")).astype(F32)
    S = _linear(X, weights, "feature_to_geom")
    return Result(S, curvs, it, converged)


# --------------------------------------------------------------------------
# Output and CLI
# --------------------------------------------------------------------------

def write_output_h5(path: str, results: list[Result], max_iterations: int) -> None:
    import h5py
    counts = [r.positions.shape[0] for r in results]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    curv = np.full((len(results), max_iterations), np.nan, dtype=F32)
    for s, r in enumerate(results):
        curv[s, :len(r.curvatures)] = r.curvatures
    dim = results[0].positions.shape[1] if results else 3
    with h5py.File(path, "w") as f:
        f["positions"] = (np.concatenate([r.positions for r in results])
                          if results else np.zeros((0, dim))).astype(F32)
        f["offsets"] = offsets
        f["iterations"] = np.array([r.iterations for r in results], dtype=np.int32)
        f["converged"] = np.array([r.converged for r in results], dtype=np.uint8)
        f["curvature"] = curv


def run_batch(weights, cfg, scenes, curvature="gaussian") -> list[Result]:
    return [forward(weights, sc, curvature, cfg) for sc in scenes]


def _cli_run(args) -> int:
    weights, cfg = load_weights(args.weights, args.num_heads)
    scenes = load_scenes_h5(args.input)
    write_output_h5(args.output, run_batch(weights, cfg, scenes, args.curvature),
                    cfg.max_iterations)
    return 0


def _cli_digest(args) -> int:
    cfg = Config(args.feature_dim, args.hidden_dim, args.output_dim,
                 args.num_heads, args.max_iterations)
    print(content_sha256(generate_weights(cfg, args.seed), cfg))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the model on an HDF5 scene batch")
    r.add_argument("--weights", required=True)
    r.add_argument("--input", required=True)
    r.add_argument("--output", required=True)
    r.add_argument("--curvature", choices=CURVATURES, default="gaussian")
    r.add_argument("--num-heads", type=int, default=None,
                   help="head count for .npz weights (default 4)")
    d = sub.add_parser("digest", help="content_sha256 of generated weights")
    d.add_argument("--feature-dim", type=int, default=768)
    d.add_argument("--hidden-dim", type=int, default=256)
    d.add_argument("--num-heads", type=int, default=4)
    d.add_argument("--max-iterations", type=int, default=6)
    d.add_argument("--output-dim", type=int, default=3)
    d.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)
    return _cli_run(args) if args.cmd == "run" else _cli_digest(args)


if __name__ == "__main__":
    sys.exit(main())
