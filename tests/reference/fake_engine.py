#!/usr/bin/python3
"""A stand-in for gasm_gpu built on gasm_ref.py, to test compare_engine.py.

Implements only the two calls the driver makes, with the engine's flags:
    fake_engine.py weights generate --weights P --feature-dim F ... --seed S
    fake_engine.py run --weights P --input IN.h5 --output OUT.h5 --curvature C
Unknown extra flags (e.g. --device) are ignored.  FAKE_ENGINE_BUG injects a
fault so the driver's failure reporting can be seen working:
    position  (+2e-4 on one coordinate of the last scene), curvature (+2e-4 on
    scene 0's first value), bits (one weight bit flipped, digest kept), digest
    (wrong content_sha256), iterations (scene 0 reports one iteration less).
"""

import argparse
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gasm_ref as ref  # noqa: E402

BUG = os.environ.get("FAKE_ENGINE_BUG", "")


def generate(a):
    cfg = ref.Config(a.feature_dim, a.hidden_dim, a.output_dim, a.num_heads, a.max_iterations)
    w = ref.generate_weights(cfg, a.seed)
    ref.save_weights_h5(a.weights, w, cfg, a.seed)
    with h5py.File(a.weights, "r+") as f:
        if BUG == "bits":
            d = f["/se3_attention/q_proj/weight"]
            v = d[()]
            v.view(np.uint32)[0, 0] ^= 1
            d[...] = v
        if BUG == "digest":
            f.attrs["content_sha256"] = "0" * 64


def run(a):
    weights, cfg = ref.load_weights(a.weights)
    results = ref.run_batch(weights, cfg, ref.load_scenes_h5(a.input), a.curvature)
    if BUG == "position":
        results[-1].positions[0, 1] += np.float32(2e-4)
    if BUG == "curvature":
        results[0].curvatures[0] += np.float32(2e-4)
    if BUG == "iterations":
        results[0].curvatures.pop()
        results[0].iterations -= 1
    ref.write_output_h5(a.output, results, cfg.max_iterations)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", nargs="+")
    for flag in ("--feature-dim", "--hidden-dim", "--num-heads", "--max-iterations",
                 "--output-dim", "--seed"):
        p.add_argument(flag, type=int)
    for flag in ("--weights", "--input", "--output", "--curvature"):
        p.add_argument(flag)
    a, _unknown = p.parse_known_args()
    a.output_dim = a.output_dim or 3
    a.seed = 42 if a.seed is None else a.seed
    a.curvature = a.curvature or "gaussian"
    if a.cmd == ["weights", "generate"]:
        generate(a)
    elif a.cmd == ["run"]:
        run(a)
    else:
        print(f"fake engine: unsupported command {a.cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
