"""Benchmark: permutation tests and bootstrap intervals against scipy.stats.

Run ``python benchmarks/bench_two_sample.py`` (full sizes) or with ``--quick``. Fixed
seeds; a warm-up call (numba compilation) outside the timings; medians of several runs.
The references are what a SciPy user writes today: ``scipy.stats.permutation_test`` with
``wasserstein_distance`` / ``energy_distance`` as the statistic (not vectorised: SciPy's
distances take one pair of samples), and ``scipy.stats.bootstrap`` for the interval.
Each row prints our time, the reference's and the ratio ``ref_s / ours_s``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from benchmarks._timing import timed_row  # noqa: E402
from divergences import two_sample_test, wasserstein_ci  # noqa: E402


def bench_tests(n, n_perm, repeat):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=n), rng.normal(size=n) + 0.1
    rows = []
    for name, ref_stat in (("wasserstein", scipy.stats.wasserstein_distance),
                           ("energy", scipy.stats.energy_distance)):
        rows.append(timed_row(
            f"{name} test n=m={n} B={n_perm}",
            lambda name=name: two_sample_test(x, y, statistic=name, n_permutations=n_perm,
                                              seed=1),
            "scipy permutation_test", lambda f=ref_stat: scipy.stats.permutation_test(
                (x, y), f, vectorized=False, n_resamples=n_perm, alternative="greater",
                random_state=1), repeat))
    rows.append(timed_row(
        f"W1 bootstrap CI n=m={n} B={n_perm}",
        lambda: wasserstein_ci(x, y, n_resamples=n_perm, seed=1),
        "scipy bootstrap", lambda: scipy.stats.bootstrap(
            (x, y), scipy.stats.wasserstein_distance, vectorized=False, n_resamples=n_perm,
            method="percentile", random_state=1), repeat))
    return rows


def main(quick=False):
    """Run every case; return the rows (dicts) and print them as a table."""
    rows = bench_tests(200, 199, 3) if quick else bench_tests(1000, 1999, 3)
    print(f"{'case':36s} {'ours_s':>9s} {'ref_s':>9s} {'ratio':>7s}  ref_name")
    for r in rows:
        print(f"{r['case']:36s} {r['ours_s']:9.4f} {r['ref_s']:9.4f} {r['ratio']:7.2f}  "
              f"{r['ref_name']}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    main(quick=parser.parse_args().quick)
