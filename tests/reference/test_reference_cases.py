#!/usr/bin/python3
"""Validate gasm_ref.py against the public PyTorch program's reference cases.

/work/shared/reference/{small,default} each hold weights.npz, scenes.h5 and
the PyTorch output expected.h5.  The NumPy reference must reproduce them
within 1e-4 absolute on positions and on every recorded mean curvature, with
identical iteration counts and convergence flags; otherwise it is no yardstick
for the engine.  Also checks the Philox stream against cuRAND's measured
values and that the output does not depend on se3_params (model.md).

Run with /usr/bin/python3 test_reference_cases.py (plain unittest; pytest also
collects it).  GASM_REFERENCE_DIR overrides the case folder.
"""

import os
import sys
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gasm_ref as ref  # noqa: E402

CASES_DIR = os.environ.get("GASM_REFERENCE_DIR", "/work/shared/reference")
TOL = 1e-4


def read_expected(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in ("positions", "offsets", "curvature",
                                      "iterations", "converged")}


def compare_case(name):
    """Return (worst position error, worst curvature error, list of problems)."""
    folder = os.path.join(CASES_DIR, name)
    weights, cfg = ref.load_weights(os.path.join(folder, "weights.npz"))
    scenes = ref.load_scenes_h5(os.path.join(folder, "scenes.h5"))
    exp = read_expected(os.path.join(folder, "expected.h5"))
    worst_p = worst_c = 0.0
    problems = []
    for s, sc in enumerate(scenes):
        r = ref.forward(weights, sc, "gaussian", cfg)
        lo, hi = exp["offsets"][s], exp["offsets"][s + 1]
        it = int(exp["iterations"][s])
        if r.iterations != it or r.converged != bool(exp["converged"][s]):
            problems.append(f"{name} scene {s}: iterations/converged {r.iterations}/"
                            f"{r.converged}, expected {it}/{bool(exp['converged'][s])}")
            continue
        ep = np.abs(r.positions - exp["positions"][lo:hi]).max()
        ec = np.abs(np.array(r.curvatures) - exp["curvature"][s, :it]).max()
        worst_p, worst_c = max(worst_p, ep), max(worst_c, ec)
        if not (ep <= TOL and ec <= TOL):
            problems.append(f"{name} scene {s}: position error {ep:.3g}, curvature {ec:.3g}")
    return worst_p, worst_c, problems


class ReferenceCases(unittest.TestCase):
    def check(self, name):
        if not os.path.isdir(os.path.join(CASES_DIR, name)):
            self.skipTest(f"no reference case {name} in {CASES_DIR}")
        wp, wc, problems = compare_case(name)
        print(f"\n{name}: worst position error {wp:.3g}, worst curvature error {wc:.3g}")
        self.assertEqual(problems, [])

    def test_small(self):
        self.check("small")

    def test_default(self):
        self.check("default")


class PhiloxStream(unittest.TestCase):
    """Raw words measured from cuRAND's host generator, seed 42."""

    def test_known_words(self):
        got = ref.philox_stream(42, 0, 8)
        want = [0x9CEAF053, 0x77F5493B, 0x12BF50AD, 0x5742B3D7,
                0x02933769, 0x2051E913, 0x3B68B038, 0xB62C409C]
        self.assertEqual([int(x) for x in got], want)
        self.assertEqual(int(ref.philox_stream(42, 262144, 1)[0]), 0xFCDB2127)

    def test_offset_is_a_window(self):
        whole = ref.philox_stream(42, 0, 600000)
        self.assertTrue(np.array_equal(ref.philox_stream(42, 262141, 7), whole[262141:262148]))


class Se3Invariance(unittest.TestCase):
    """A global rigid motion must not change the output beyond rounding."""

    def test_small_case(self):
        folder = os.path.join(CASES_DIR, "small")
        if not os.path.isdir(folder):
            self.skipTest("no small case")
        weights, cfg = ref.load_weights(os.path.join(folder, "weights.npz"))
        scenes = ref.load_scenes_h5(os.path.join(folder, "scenes.h5"))
        moved = dict(weights)
        moved["se3_attention.se3_params"] = np.array([3, -2, 0.5, -1.1, 0.4, 2.0], np.float32)
        for sc in scenes:
            a = ref.forward(weights, sc, "gaussian", cfg)
            b = ref.forward(moved, sc, "gaussian", cfg)
            self.assertEqual(a.iterations, b.iterations)
            self.assertLess(np.abs(a.positions - b.positions).max(), TOL)


class GraphConsistency(unittest.TestCase):
    """An explicit edge list equal to the default graph changes nothing."""

    def test_explicit_default_graph(self):
        cfg = ref.Config(48, 24, 3, 4, 4)
        w = ref.generate_weights(cfg, 3)
        rng = np.random.default_rng(1)
        for n in (1, 2, 6):
            feats = rng.random((n, 48)).astype(np.float32)
            src, tgt = ref.attention_edges(ref.Scene(features=feats))
            explicit = ref.Scene(features=feats, edges=np.stack([src, tgt], axis=1))
            for kind in ref.CURVATURES:
                a = ref.forward(w, ref.Scene(features=feats), kind, cfg)
                b = ref.forward(w, explicit, kind, cfg)
                np.testing.assert_allclose(a.positions, b.positions, atol=1e-6)
                np.testing.assert_allclose(a.curvatures, b.curvatures, atol=1e-6)


class AngleStep(unittest.TestCase):
    """The angle constraint's closed-form gradient against finite differences."""

    def test_gradient(self):
        rng = np.random.default_rng(5)
        G = rng.normal(size=(4, 3)).astype(np.float32)
        theta = np.float32(0.7)

        def loss(g):
            a, b = g[0] - g[1], g[2] - g[1]
            c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
            return 0.5 * (np.arccos(c) - theta) ** 2

        g64, h = G.astype(np.float64), 1e-6
        num = np.zeros_like(g64)
        for idx in np.ndindex(*g64.shape):
            e = np.zeros_like(g64)
            e[idx] = h
            num[idx] = (loss(g64 + e) - loss(g64 - e)) / (2 * h)
        moved = G.copy()
        ref._angle_step(moved, 0, 1, 2, theta)
        step = (G - moved).astype(np.float64) / float(ref.ETA)   # = gradient on rows 0, 2
        np.testing.assert_allclose(step[[0, 2]], num[[0, 2]], atol=1e-4)
        np.testing.assert_array_equal(moved[[1, 3]], G[[1, 3]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
