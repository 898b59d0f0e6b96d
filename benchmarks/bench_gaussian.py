"""Gaussian closed form and partial transport against their peers.

* ``frechet_distance`` on ``n = m = 10,000`` features of dimension 2048 (FID's size)
  against the formula of pytorch-fid: ``numpy.cov`` of each side, then
  ``scipy.linalg.sqrtm`` of the product, real part of its trace. Both values are
  printed with their relative difference (the features are well-conditioned enough
  here for that formula to be accurate).
* partial exact transport (``emd(..., mass=m)``) on ``n = m = 1000`` random 2-D points,
  Euclidean cost, ``m = 0.3, 0.7, 0.99`` (``0.7`` with ``--quick``), against
  ``ot.partial.partial_wasserstein`` (the same dummy-point construction solved by POT's
  C++ network simplex).

Warm-up runs on small inputs first (no compilation in the times), then ``repeat`` runs of
each, alternately; medians. BLAS threads are whatever the environment sets (e.g.
``OPENBLAS_NUM_THREADS=1`` on a loaded machine): both sides use the same.

Usage: ``python benchmarks/bench_gaussian.py [--quick]``; ``main(quick)`` returns rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytorch_fid_formula(x, y):
    """FID as pytorch-fid computes it: covariances, sqrtm of their product (with its
    offset retry when the result is not finite), real part of the trace."""
    import scipy.linalg

    mx, my = x.mean(axis=0), y.mean(axis=0)
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = scipy.linalg.sqrtm(sx @ sy)
        if not np.isfinite(root).all():
            offset = np.eye(sx.shape[0]) * 1e-6
            root = scipy.linalg.sqrtm((sx + offset) @ (sy + offset))
    diff = mx - my
    return float(diff @ diff + np.trace(sx) + np.trace(sy) - 2.0 * np.trace(root).real)


def features(rng, n, d):
    """Non-negative, correlated, ill-conditioned features (ReLU of mixed Gaussians),
    like the pooled activations FID is computed on."""
    mix = rng.normal(size=(d, d)) * np.exp(-np.arange(d) / (d / 8))[:, None] / np.sqrt(d)
    return np.maximum(rng.normal(size=(n, d)) @ mix + 0.1, 0.0)


def alternate(fns, repeat):
    """Median time of each callable, run alternately ``repeat`` times; last values."""
    times = {k: [] for k in fns}
    values = {}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            values[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}, values


def bench_frechet(n, d, repeat):
    from divergences import frechet_distance

    rng = np.random.default_rng(0)
    x = features(rng, n, d)
    y = features(np.random.default_rng(1), n, d) * 1.05
    small_x, small_y = x[:200, :32], y[:200, :32]
    frechet_distance(small_x, small_y)  # warm-up
    pytorch_fid_formula(small_x, small_y)
    times, values = alternate({"ours": lambda: frechet_distance(x, y),
                               "ref": lambda: pytorch_fid_formula(x, y)}, repeat)
    rel = abs(values["ours"] - values["ref"]) / abs(values["ref"])
    print(f"frechet_distance n=m={n} d={d}: ours {times['ours']:.3f} s, pytorch-fid formula "
          f"{times['ref']:.3f} s, speed-up {times['ref'] / times['ours']:.2f}x; values "
          f"{values['ours']!r} vs {values['ref']!r} (relative difference {rel:.1e})",
          flush=True)
    return {"case": f"frechet_distance n=m={n} d={d}", "ours_s": times["ours"],
            "ref_name": "np.cov + scipy.linalg.sqrtm (pytorch-fid)", "ref_s": times["ref"],
            "ratio": times["ref"] / times["ours"], "rel_diff": rel}


def bench_partial(n, repeat, mass=0.7):
    import ot
    from scipy.spatial.distance import cdist

    from divergences import emd

    rng = np.random.default_rng(n)
    x, y = rng.random((n, 2)), rng.random((n, 2))
    cost = cdist(x, y)
    a = b = np.full(n, 1.0 / n)
    small = slice(0, 20)
    emd(a[small], b[small], cost[small, small], mass=0.01)  # warm-up (compilation)
    ot.partial.partial_wasserstein(a[small], b[small], cost[small, small], m=0.01)

    def theirs():
        return float(np.sum(ot.partial.partial_wasserstein(a, b, cost, m=mass,
                                                           numItermax=10**8) * cost))

    times, values = alternate({"ours": lambda: emd(a, b, cost, mass=mass).cost,
                               "ref": theirs}, repeat)
    rel = abs(values["ours"] - values["ref"]) / values["ref"]
    print(f"partial emd n=m={n} mass={mass}: ours {times['ours']:.3f} s, "
          f"ot.partial.partial_wasserstein {times['ref']:.3f} s, speed-up "
          f"{times['ref'] / times['ours']:.2f}x; costs {values['ours']!r} vs "
          f"{values['ref']!r} (relative difference {rel:.1e})", flush=True)
    return {"case": f"partial emd n=m={n} mass={mass}", "ours_s": times["ours"],
            "ref_name": "ot.partial.partial_wasserstein", "ref_s": times["ref"],
            "ratio": times["ref"] / times["ours"], "rel_diff": rel}


def main(quick=False):
    """The rows for ``benchmarks/run.py``."""
    if quick:
        return [bench_frechet(2000, 128, 3), bench_partial(200, 3)]
    return [bench_frechet(10_000, 2048, 3)] + [bench_partial(1000, 5, m) for m in (0.3, 0.7, 0.99)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
