"""Histograms on grids: divergences.transport_grid (p=1, cityblock: the exact min-cost flow
on the neighbour arcs) against POT's ot.emd2 on the dense cityblock cost of the pixels.

Problems: DOTmark (J. Schrieber, D. Schuhmacher, C. Gottschlich, IEEE Access 5, 2017),
images 1001 and 1002 of every class, R x R pixels (R = 64; 32 for ``--quick``), masses
normalised to 1. The data set is read from ``$DOTMARK`` or ``../shared/data/dotmark``
(beside the repository or its worktree directory); ``--quick`` falls back to the 32x32 copies in
``tests/data/dotmark32``.

Time: a warm-up solve of both first (numba compilation or cache load excluded); then per
class ``repeats`` solves of ours (median) and one of POT's (seconds each; building the
N x N cost matrix is not timed). The speed-up is POT's time over ours; the median
speed-up over the classes is printed last. Both costs are compared (relative difference).

Usage: ``python benchmarks/bench_grid.py [--quick]``; ``main(quick)`` returns rows
``{case, ours_s, ref_name, ref_s, ratio}`` (``ratio`` = ours / POT, as bench_exact).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: where DOTmark may be: beside the repository, or beside its worktree directory
_SHARED = [os.path.join(os.path.dirname(up), "shared", "data", "dotmark")
           for up in (ROOT, os.path.dirname(ROOT))]
_TESTS = os.path.join(ROOT, "tests", "data", "dotmark32")
CLASSES = ["CauchyDensity", "ClassicImages", "GRFmoderate", "GRFrough", "GRFsmooth", "LogGRF",
           "LogitGRF", "MicroscopyImages", "Shapes", "WhiteNoise"]


def _load(cls, image, size):
    roots = [os.environ["DOTMARK"]] if "DOTMARK" in os.environ else _SHARED
    path = next((p for p in (os.path.join(r, cls, f"data{size}_{image}.csv") for r in roots)
                 if os.path.exists(p)), "")
    if not os.path.exists(path) and size == 32:
        path = os.path.join(_TESTS, f"{cls}_{image}.csv")
    return np.loadtxt(path, delimiter=",")


def _cityblock(size):
    from scipy.spatial.distance import cdist

    x = np.stack(np.unravel_index(np.arange(size * size), (size, size)), 1).astype(float)
    return cdist(x, x, "cityblock")


def main(quick=False):
    import ot

    from divergences import transport_grid

    size, repeats = (32, 3) if quick else (64, 5)
    classes = CLASSES[:3] if quick else CLASSES
    cost = _cityblock(size)
    warm = np.random.default_rng(0).random((2, 6, 6))
    transport_grid(warm[0], warm[1], metric="cityblock")
    ot.emd2(warm[0].ravel() / warm[0].sum(), warm[1].ravel() / warm[1].sum(), _cityblock(6))
    print(f"DOTmark {size}x{size}, p=1 cityblock: transport_grid (median of {repeats}) vs "
          "ot.emd2 on the dense cost (1 run)")
    print(f"{'class':<18}{'ours_s':>9}{'ot.emd2_s':>11}{'speed-up':>10}  |rel cost diff|")
    rows = []
    for cls in classes:
        A, B = _load(cls, 1001, size), _load(cls, 1002, size)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ours = transport_grid(A, B, metric="cityblock").cost
            times.append(time.perf_counter() - t0)
        a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
        t0 = time.perf_counter()
        ref = ot.emd2(a, b, cost, numItermax=10**9)
        ref_s = time.perf_counter() - t0
        ours_s = statistics.median(times)
        rows.append({"case": f"grid W1 cityblock DOTmark {size}^2 {cls}", "ours_s": ours_s,
                     "ref_name": "ot.emd2 (dense)", "ref_s": ref_s, "ratio": ours_s / ref_s})
        print(f"{cls:<18}{ours_s:>9.4f}{ref_s:>11.3f}{ref_s / ours_s:>9.1f}x  "
              f"{abs(ours - ref) / ref:.1e}", flush=True)
    ups = [r["ref_s"] / r["ours_s"] for r in rows]
    print(f"median speed-up over {len(rows)} classes: {statistics.median(ups):.1f}x "
          f"(min {min(ups):.1f}x, max {max(ups):.1f}x)")
    return rows


if __name__ == "__main__":
    import sys

    sys.path.insert(0, ROOT)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32x32, three classes (seconds)")
    main(quick=parser.parse_args().quick)
