#!/usr/bin/python3
"""Converts GASM weights between a PyTorch state dict and the files gasm_gpu reads.

    /usr/bin/python3 scripts/npz_torch.py to-torch WEIGHTS.h5|WEIGHTS.npz STATE.pt
    /usr/bin/python3 scripts/npz_torch.py from-torch STATE.pt WEIGHTS.npz

to-torch reads a gasm_gpu weight file (HDF5: each dataset path is a state-dict key with '/' for
'.') or an .npz keyed by state-dict names, and saves the state dict with torch.save, ready for
model.load_state_dict() of the PyTorch reference. from-torch writes an .npz that
`gasm_gpu weights import --from WEIGHTS.npz` turns into a weight file (with its digest).

Needs Debian's python3-numpy, and python3-h5py for HDF5 and python3-torch for the .pt side.
"""

import sys
from collections import OrderedDict

import numpy as np


def read_arrays(path):
    """Every parameter of a weight file or an .npz, as float32 arrays keyed by dotted name."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            return OrderedDict((k, np.asarray(z[k], dtype=np.float32)) for k in z.files)
    import h5py

    out = OrderedDict()

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name.replace("/", ".")] = np.asarray(obj[()], dtype=np.float32)

    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in ("gasm-weights", b"gasm-weights"):
            raise SystemExit(f"{path}: not a gasm_gpu weight file (format attribute)")
        f.visititems(visit)
    return out


def to_torch(src, dst):
    import torch

    arrays = read_arrays(src)
    # np.array keeps 0-d arrays 0-d (target_curvature is a scalar in the state dict).
    state = OrderedDict((k, torch.from_numpy(np.array(v, dtype=np.float32))) for k, v in arrays.items())
    torch.save(state, dst)
    print(f"wrote {len(state)} tensors to {dst}")


def from_torch(src, dst):
    import torch

    try:
        state = torch.load(src, map_location="cpu", weights_only=True)
    except TypeError:
        # torch before 1.13 has no weights_only: its load runs whatever code the file's pickle
        # names, which a weight file from elsewhere must not be trusted with.
        raise SystemExit(f"torch {torch.__version__} cannot load {src} without running the code "
                         "a pickle may hold (weights_only needs torch 1.13 or later)")
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    arrays = {}
    for key, value in state.items():
        arrays[key] = value.detach().cpu().numpy().astype(np.float32)
    if not dst.endswith(".npz"):
        raise SystemExit("from-torch writes an .npz; import it with gasm_gpu weights import")
    np.savez(dst, **arrays)
    print(f"wrote {len(arrays)} arrays to {dst}")


def main(argv):
    if len(argv) != 4 or argv[1] not in ("to-torch", "from-torch"):
        print(__doc__, file=sys.stderr)
        return 2
    (to_torch if argv[1] == "to-torch" else from_torch)(argv[2], argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
