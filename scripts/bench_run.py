#!/usr/bin/python3
"""Times whole `gasm_gpu run` processes (start to exit) on one generated scene.

    /usr/bin/python3 scripts/bench_run.py [--engine build/gasm_gpu] [--entities 10] [--runs 30]

Writes a scene of N entities with the default feature size to a temporary folder, makes the
weights once (not timed), then runs the engine RUNS times with the weights on disk and prints
the median, the best and the 90th percentile wall time in milliseconds.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                    "gasm_gpu"))
    p.add_argument("--entities", type=int, default=10)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--feature-dim", type=int, default=768)
    args = p.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        scene = os.path.join(tmp, "scene.json")
        ents = [{"name": f"e{i}", "features": [rng.gauss(0, 1) for _ in range(args.feature_dim)]}
                for i in range(args.entities)]
        with open(scene, "w") as f:
            json.dump({"scenes": [{"entities": ents}]}, f)
        weights = os.path.join(tmp, "w.h5")
        cmd = [args.engine, "run", "--weights", weights, "--input", scene, "-q"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GASM_")}
        subprocess.run(cmd + ["--feature-dim", str(args.feature_dim)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(f"gasm_gpu run, N = {args.entities}, F = {args.feature_dim}, weights on disk, "
          f"{args.runs} runs: median {statistics.median(times):.1f} ms, best {times[0]:.1f} ms, "
          f"p90 {p90:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
