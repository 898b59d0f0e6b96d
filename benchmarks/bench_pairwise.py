"""Benchmark: distance matrices between many histograms, and k-nearest on a LocalCluster.

Run ``python benchmarks/bench_pairwise.py`` (full sizes; minutes) or with ``--quick``
(seconds). Fixed seeds; compilation is excluded (a warm-up call on a small input first);
times are medians of ``repeat`` runs (a single run for the long full-size cases, said so
in the output). Rows print our time, the reference's and the ratio ``ref_s / ours_s``.

* ``pairwise W1``: 2000 histograms of 256 bins on one 1-D support against a Python loop
  over ``ot.wasserstein_1d``; the loop is timed on a subset of pairs and extrapolated to
  the N (N - 1) / 2 pairs of the matrix (both compute each unordered pair once).
* ``pairwise exact W2``: 300 histograms on a 16 x 16 grid (44,850 problems) against a loop
  over ``ot.emd2`` with the cost matrix computed once; the loop is timed on a subset and
  extrapolated.
* ``JS k=10 nearest``: N histograms of 256 bins (N = 50,000 with ``--n 50000``: 2.5e9
  pairs, about half an hour on 2 quiet cores; the default full run uses N = 10,000;
  ``--nearest-only --n 50000`` runs this case alone, as issue 11 asks), in
  process and on a LocalCluster of 2 worker processes x 1 thread: the ratio cluster /
  in-process and the peak resident memory of each worker during the call (VmHWM, reset
  before it).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package

from benchmarks._timing import median_time as _median_time  # noqa: E402
from benchmarks._timing import row as _row  # noqa: E402
from divergences import pairwise  # noqa: E402


def _histograms(seed, n, bins):
    rng = np.random.default_rng(seed)
    X = rng.gamma(0.5, size=(n, bins))
    return X / X.sum(axis=1, keepdims=True)


def _loop_seconds(fn, pairs, total):
    """Seconds of ``fn(i, j)`` over the pairs, extrapolated to ``total`` pairs."""
    t0 = time.perf_counter()
    for i, j in pairs:
        fn(i, j)
    return (time.perf_counter() - t0) / len(pairs) * total


def _subset(n, count, seed):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=count)
    j = (i + 1 + rng.integers(0, n - 1, size=count)) % n
    return list(zip(i.tolist(), j.tolist(), strict=True))


def bench_w1(n, bins, repeat, sample):
    s = np.sort(np.random.default_rng(0).normal(size=bins))
    X = _histograms(1, n, bins)
    pairwise(X[:20], metric="wasserstein", support=s)  # warm-up: compilation
    ours = _median_time(lambda: pairwise(X, metric="wasserstein", support=s), repeat)
    total = n * (n - 1) // 2
    pairs = _subset(n, sample, 2)
    ref = _loop_seconds(lambda i, j: ot.wasserstein_1d(s, s, X[i], X[j], p=1), pairs, total)
    D = pairwise(X[:50], metric="wasserstein", support=s)
    check = max(abs(D[i, j] - ot.wasserstein_1d(s, s, X[i], X[j])) for i, j in _subset(50, 20, 3))
    print(f"pairwise W1 {n} x {bins} bins: ours {ours:.3f} s, ot.wasserstein_1d loop "
          f"{ref:.1f} s (extrapolated from {sample} of {total} pairs), ratio {ref / ours:.0f}x;"
          f" max |ours - POT| on 20 pairs {check:.1e}", flush=True)
    return [_row(f"pairwise W1 N={n} bins={bins}", ours,
                 f"ot.wasserstein_1d loop (extrapolated from {sample} pairs)", ref)]


def bench_exact(n, side, repeat, sample):
    g = np.arange(side, dtype=float)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    X = _histograms(4, n, side * side)
    pairwise(X[:12], metric="wasserstein", support=grid, p=2)  # warm-up: both kernels
    ours = _median_time(lambda: pairwise(X, metric="wasserstein", support=grid, p=2), repeat)
    total = n * (n - 1) // 2
    M = ot.dist(grid, grid)  # squared Euclidean: W_2^2, computed once
    pairs = _subset(n, sample, 5)
    ref = _loop_seconds(lambda i, j: ot.emd2(X[i], X[j], M), pairs, total)
    D = pairwise(X[:8], metric="wasserstein", support=grid, p=2)
    check = max(abs(D[i, j] ** 2 - ot.emd2(X[i], X[j], M)) for i, j in _subset(8, 10, 6))
    print(f"pairwise exact W2 {n} on {side}x{side} ({total} problems): ours {ours:.2f} s "
          f"({'median of ' + str(repeat) if repeat > 1 else 'one run'}), ot.emd2 loop "
          f"{ref:.1f} s (extrapolated from {sample} pairs), ratio {ref / ours:.1f}x; "
          f"max |W2^2 - emd2| on 10 pairs {check:.1e}", flush=True)
    return [_row(f"pairwise exact W2 N={n} grid={side}x{side}", ours,
                 f"ot.emd2 loop (extrapolated from {sample} pairs)", ref)]


def _peak_rss_mb():
    """Peak resident memory of this process in MB: VmHWM on Linux (ru_maxrss survives
    fork and exec, so a spawned worker would report its parent's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak():
    """Start the peak over from the current resident memory (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def bench_nearest(n, bins, k, chunk):
    import dask.array as da
    from distributed import Client, LocalCluster

    X = _histograms(7, n, bins)
    pairwise(X[:300], metric="js", k=k)  # warm-up: compilation, written to the cache
    print(f"JS k={k} nearest, N={n}: start, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores", flush=True)
    _reset_peak()
    t0 = time.perf_counter()
    idx, dist = pairwise(X, metric="js", k=k)
    ours = time.perf_counter() - t0
    ours_rss = _peak_rss_mb()
    print(f"JS k={k} nearest, N={n} x {bins} bins: in process {ours:.1f} s (peak RSS "
          f"{ours_rss:.0f} MB); now on a LocalCluster of 2 workers x 1 thread...", flush=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        dX = da.from_array(X, chunks=(chunk, -1))
        client.compute(pairwise(dX[:300], metric="js", k=k), sync=True)  # workers warm
        client.run(_reset_peak)
        t0 = time.perf_counter()
        didx, ddist = client.compute(pairwise(dX, metric="js", k=k), sync=True)
        dask_s = time.perf_counter() - t0
        rss = sorted(client.run(_peak_rss_mb).values())
    same = np.array_equal(idx, didx) and np.array_equal(dist, ddist)
    print(f"JS k={k} nearest, N={n} x {bins} bins: in process {ours:.1f} s (peak RSS "
          f"{ours_rss:.0f} MB), LocalCluster 2 workers x 1 thread {dask_s:.1f} s "
          f"(ratio {dask_s / ours:.2f}; chunks of {chunk} rows; peak RSS per worker "
          f"{', '.join(f'{r:.0f}' for r in rss)} MB); identical results: {same} (one run each;"
          f" load average at the end {os.getloadavg()[0]:.1f})", flush=True)
    return [_row(f"JS k={k} nearest N={n} bins={bins}: in process vs LocalCluster(2)", ours,
                 "the same on a LocalCluster of 2 workers", dask_s)]


def main(quick=False, n_nearest=None, nearest_only=False):
    if nearest_only:
        n = n_nearest or (2000 if quick else 10_000)
        return bench_nearest(n, 64 if quick else 256, 10, 500 if quick else 2500)
    if quick:
        rows = bench_w1(200, 64, 3, 200)
        rows += bench_exact(20, 6, 3, 40)
        rows += bench_nearest(n_nearest or 2000, 64, 10, 500)
        return rows
    rows = bench_w1(2000, 256, 3, 4000)
    rows += bench_exact(300, 16, 1, 300)
    rows += bench_nearest(n_nearest or 10_000, 256, 10, 2500)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds")
    parser.add_argument("--n", type=int, default=None, help="N of the k-nearest case")
    parser.add_argument("--nearest-only", action="store_true",
                        help="run only the k-nearest case (e.g. --nearest-only --n 50000)")
    args = parser.parse_args()
    main(quick=args.quick, n_nearest=args.n, nearest_only=args.nearest_only)
