"""Benchmark: 1-D Wasserstein and sliced Wasserstein against POT and SciPy.

Run ``python benchmarks/bench_univariate.py`` (full sizes) or with ``--quick`` (tiny sizes,
a smoke run). Fixed seeds; the first call of each function (numba compilation) is a
warm-up outside the timings; each time is the median of several runs. Every row prints our
time, the reference's time and the ratio ``ref_s / ours_s`` (> 1: we are faster). The
"np.sort x2 (floor)" rows compare against the time NumPy takes to sort both samples, the
floor of any exact 1-D method on unsorted samples (there the ratio should be >= 1/1.5).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import ot
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from benchmarks._timing import median_time as _median_time  # noqa: E402
from benchmarks._timing import row as _row  # noqa: E402
from divergences import sliced_wasserstein, wasserstein, wasserstein_1d  # noqa: E402


def bench_1d(n, repeat):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    y = rng.standard_t(4, size=n) + 0.5
    w = rng.random(n)
    v = rng.random(n)
    floor = _median_time(lambda: (np.sort(x), np.sort(y)), repeat)
    rows = []
    for p in (1, 2):
        ours = _median_time(lambda p=p: wasserstein(x, y, p=p), repeat)
        pot = _median_time(lambda p=p: ot.wasserstein_1d(x, y, p=p), repeat)
        rows.append(_row(f"W{p} n=m={n}", ours, "ot.wasserstein_1d", pot))
        rows.append(_row(f"W{p} n=m={n}", ours, "np.sort x2 (floor)", floor))
        if p == 1:
            sp = _median_time(lambda: scipy.stats.wasserstein_distance(x, y), repeat)
            rows.append(_row(f"W1 n=m={n}", ours, "scipy wasserstein_distance", sp))
    # weighted supports: an argsort is needed to carry the weights
    ours = _median_time(lambda: wasserstein(x, y, w, v, p=1), repeat)
    sp = _median_time(lambda: scipy.stats.wasserstein_distance(x, y, w, v), repeat)
    pot = _median_time(lambda: ot.wasserstein_1d(x, y, w / w.sum(), v / v.sum(), p=1), repeat)
    rows.append(_row(f"W1 weighted n=m={n}", ours, "scipy wasserstein_distance", sp))
    rows.append(_row(f"W1 weighted n=m={n}", ours, "ot.wasserstein_1d", pot))
    # unequal sizes, uniform weights
    y2 = y[: (2 * n) // 3]
    ours = _median_time(lambda: wasserstein(x, y2, p=2), repeat)
    pot = _median_time(lambda: ot.wasserstein_1d(x, y2, p=2), repeat)
    rows.append(_row(f"W2 n={n} m={y2.size}", ours, "ot.wasserstein_1d", pot))
    return rows


def bench_batch(n, k, repeat):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, k))
    y = rng.normal(size=(n, k)) + 1.0
    ours = _median_time(lambda: wasserstein_1d(x, y, p=2), repeat)
    pot = _median_time(lambda: ot.wasserstein_1d(x, y, p=2), repeat)
    return [_row(f"batch W2 n={n} K={k}", ours, "ot.wasserstein_1d", pot)]


def bench_sliced(n, d, n_proj, repeat):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) + 0.3

    def floor():
        theta = rng.standard_normal((n_proj, d))
        np.sort(theta @ x.T, axis=1)
        np.sort(theta @ y.T, axis=1)

    ours = _median_time(lambda: sliced_wasserstein(x, y, p=2, n_projections=n_proj, seed=0),
                        repeat)
    pot = _median_time(lambda: ot.sliced_wasserstein_distance(x, y, n_projections=n_proj,
                                                              p=2, seed=0), max(1, repeat // 2))
    fl = _median_time(floor, repeat)
    case = f"sliced W2 n={n} d={d} L={n_proj}"
    return [_row(case, ours, "ot.sliced_wasserstein_distance", pot),
            _row(case, ours, "project+np.sort (floor)", fl)]


def main(quick=False):
    """Run every case; return the rows (dicts) and print them as a table."""
    if quick:
        rows = bench_1d(10**4, 3) + bench_batch(1000, 8, 3) + bench_sliced(2000, 5, 20, 3)
    else:
        rows = (bench_1d(10**6, 7) + bench_batch(10**4, 100, 5)
                + bench_sliced(10**5, 10, 200, 3))
    print(f"{'case':36s} {'ours_s':>9s} {'ref_s':>9s} {'ratio':>7s}  ref_name")
    for r in rows:
        print(f"{r['case']:36s} {r['ours_s']:9.4f} {r['ref_s']:9.4f} {r['ratio']:7.2f}  "
              f"{r['ref_name']}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    main(quick=parser.parse_args().quick)
