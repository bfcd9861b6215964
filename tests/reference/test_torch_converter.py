#!/usr/bin/python3
"""The PyTorch converter round trip (scripts/npz_torch.py), driven by ctest:

    /usr/bin/python3 test_torch_converter.py ENGINE WORKDIR

A weight file made by the engine goes to a torch state dict and back through .npz into a new
weight file; both files must hold the same tensors (same content_sha256), and the state dict
must carry every parameter under its dotted name with the right shape. Prints
'N passed, M failed' and exits non-zero on a failure.
"""

import os
import subprocess
import sys

import h5py
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = os.path.join(HERE, "..", "..", "scripts", "npz_torch.py")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def main():
    engine, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    w, pt, npz, back = (os.path.join(work, n) for n in ("w.h5", "w.pt", "w.npz", "back.h5"))
    for p in (w, pt, npz, back):
        if os.path.exists(p):
            os.remove(p)
    small = ["--feature-dim", "48", "--hidden-dim", "24", "--max-iterations", "2"]
    run([engine, "weights", "generate", "--weights", w, "-q"] + small)
    run([sys.executable, CONVERTER, "to-torch", w, pt])
    run([sys.executable, CONVERTER, "from-torch", pt, npz])
    run([engine, "weights", "import", "--weights", back, "--from", npz, "-q"])
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", what)

    with h5py.File(w, "r") as a, h5py.File(back, "r") as b:
        check(a.attrs["content_sha256"] == b.attrs["content_sha256"], "digest after round trip")
        check(b.attrs["generator"] in ("imported", b"imported"), "imported generator attribute")
        state = torch.load(pt)
        names = []
        a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        check(len(state) == len(names), "state dict holds every parameter")
        for n in names:
            key = n.replace("/", ".")
            check(key in state and tuple(state[key].shape) == a[n].shape, f"tensor {key}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
