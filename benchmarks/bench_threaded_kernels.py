"""Warm speed of the kernels that run as serial ranges in Python threads instead of ``prange``.

``pairwise`` (information divergences) and the multiscale certificate ran as ``prange``
kernels, which cost about a second each of a first call's compile time. Run as serial
kernels over ranges in Python threads (:mod:`divergences._thread_ranges`) they were first
1.3-2.5x slower warm: every row view passed to a helper per pair was reference-counted
with atomic instructions, which a ``prange`` body does not do (its arrays have no memory
record). With the arrays :func:`~divergences._kernels.borrow.borrowed` they are as fast.
This prints their warm times (medians, warm-up excluded) so that such a change can be
checked against a previous commit run the same way (the script puts its own checkout first
on ``sys.path``; ``NUMBA_NUM_THREADS=1`` compares the code on one core, free of the
machine's load). Cases: JS matrices of 1000 x 256 and 2000 x 256 histograms, a TV matrix
between 1000 and 500 of them, and the exact W2 between 10^4 uniform points in the unit
square (the multiscale solver, its certificate included).

Usage: ``python benchmarks/bench_threaded_kernels.py [--quick]``.

"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout


def _median(fn, repeat):
    fn()  # warm-up: compilation excluded
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(quick=False):
    from divergences import pairwise, transport

    rng = np.random.default_rng(0)
    rows = []
    for N, n in ((200, 64),) if quick else ((1000, 256), (2000, 256)):
        X = rng.random((N, n))
        Y = rng.random((N // 2, n))
        js = _median(lambda X=X: pairwise(X), 7)
        tv = _median(lambda X=X, Y=Y: pairwise(X, Y, metric="tv"), 7)
        print(f"pairwise {N}x{n}: JS (symmetric) {js * 1e3:8.1f} ms, TV against "
              f"{N // 2} rows {tv * 1e3:8.1f} ms", flush=True)
        rows.append({"case": f"pairwise JS {N}x{n}", "ours_s": js, "ref_name": "n/a",
                     "ref_s": "n/a"})
    n = 2000 if quick else 10_000
    x, y = rng.random((2, n, 2))
    ms = _median(lambda: transport(x, y, p=2), 3 if quick else 7)
    print(f"exact W2 (multiscale) n=m={n}: {ms:.3f} s", flush=True)
    rows.append({"case": f"multiscale W2 n=m={n}", "ours_s": ms, "ref_name": "n/a",
                 "ref_s": "n/a"})
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
