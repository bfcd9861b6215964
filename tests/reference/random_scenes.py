#!/usr/bin/python3
"""Write a random scene batch in the interface.md HDF5 format.

Used to test the engine against gasm_ref.py on scenes the public reference
cases do not cover: custom edge lists (duplicates, self-loops, an isolated
entity, an empty list), angle constraints, N = 1 scenes, relations.  The
batch is fully determined by the seed.  Features mimic the text front end
(U(0,1) plus N(0, 0.1) noise); relations are N(0, 0.5).

    random_scenes.py OUT.h5 --seed 7 --feature-dim 48 --num-scenes 12 --max-n 9 \
        [--relations] [--edges] [--distance] [--angle] [--collision] [--singletons]
"""

import argparse
import sys

import h5py
import numpy as np


def scene_sizes(rng, count, max_n, singletons):
    """Entity counts in [1 or 2, max_n]; the last scene has max_n, and with
    singletons scene 0 has N = 1."""
    lo = 1 if singletons else 2
    sizes = rng.integers(lo, max(lo, max_n) + 1, size=count)
    if count:
        sizes[-1] = max_n                  # always exercise the largest size
    if singletons and count:
        sizes[0] = 1
    return [int(n) for n in sizes]


def features(rng, n, dim):
    return (rng.random((n, dim)) + rng.normal(0, 0.1, (n, dim))).astype(np.float32)


def edge_list(rng, n, empty):
    """Random directed edges with duplicates and self-loops; with N >= 3 the
    last entity is isolated (no edge in or out); `empty` gives no edges."""
    if empty:
        return np.zeros((0, 2), np.int64)
    m = n - 1 if n >= 3 else n
    count = int(rng.integers(1, 2 * m * m + 2))
    e = rng.integers(0, m, size=(count, 2))
    dup = e[rng.integers(0, count, size=max(1, count // 4))]   # guaranteed duplicates
    return np.concatenate([e, dup]).astype(np.int64)


def distinct(rng, n, k):
    return [int(x) for x in rng.choice(n, size=k, replace=False)]


def constraint_rows(rng, s, n, args):
    dist, ang, col = [], [], []
    if args.distance and n >= 2:
        for _ in range(int(rng.integers(1, 4))):
            i, j = distinct(rng, n, 2)
            dist.append([s, i, j, rng.uniform(0.2, 3.0)])
    if args.angle and n >= 3:
        for _ in range(int(rng.integers(1, 3))):
            i, j, k = distinct(rng, n, 3)
            ang.append([s, i, j, k, rng.uniform(0.2, 3.0)])
    if args.collision and n >= 2 and rng.random() < 0.8:
        col.append([s, rng.uniform(0.3, 2.0)])
    return dist, ang, col


def build(args):
    rng = np.random.default_rng(args.seed)
    sizes = scene_sizes(rng, args.num_scenes, args.max_n, args.singletons)
    empty_scene = 1 if args.num_scenes > 1 else 0
    feats, rels, edges, eoff = [], [], [], [0]
    cons = {"distance": [], "angle": [], "collision": []}
    for s, n in enumerate(sizes):
        feats.append(features(rng, n, args.feature_dim))
        if args.relations:
            rels.append(rng.normal(0, 0.5, (n * n, args.relation_dim)).astype(np.float32))
        if args.edges:
            e = edge_list(rng, n, empty=(s == empty_scene))
            edges.append(e)
            eoff.append(eoff[-1] + len(e))
        for kind, rows in zip(("distance", "angle", "collision"),
                              constraint_rows(rng, s, n, args)):
            cons[kind] += rows
    return sizes, feats, rels, edges, eoff, cons


def write(path, args):
    sizes, feats, rels, edges, eoff, cons = build(args)
    widths = {"distance": 4, "angle": 5, "collision": 2}
    with h5py.File(path, "w") as f:
        g = f.create_group("scenes")
        g["offsets"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        g["features"] = np.concatenate(feats).astype(np.float32)
        if args.relations:
            g["relations"] = np.concatenate(rels).astype(np.float32)
        if args.edges:
            g["edge_offsets"] = np.asarray(eoff, np.int64)
            g["edges"] = (np.concatenate(edges) if edges else np.zeros((0, 2))).astype(np.int64)
        kinds = [k for k in widths if getattr(args, k)]
        if kinds:
            c = g.create_group("constraints")
            for kind in kinds:
                rows = np.asarray(cons[kind], np.float64).reshape(-1, widths[kind])
                c[kind] = rows


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--feature-dim", type=int, default=768)
    p.add_argument("--num-scenes", type=int, default=8)
    p.add_argument("--max-n", type=int, default=10)
    p.add_argument("--relation-dim", type=int, default=32)
    p.add_argument("--relations", action="store_true")
    p.add_argument("--edges", action="store_true", help="custom edge list per scene")
    p.add_argument("--distance", action="store_true")
    p.add_argument("--angle", action="store_true")
    p.add_argument("--collision", action="store_true")
    p.add_argument("--singletons", action="store_true", help="include N = 1 scenes")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    write(args.path, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
