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
between 1000 and 500 of them, the reference counting alone (one serial pair loop on
counted and on borrowed arrays), a W1 matrix on a 1-D support, and the exact W2 between
10^4 uniform points in the unit square (the multiscale solver, its certificate included).

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


def _counting_cost(N, n, repeat):
    """The cost of numba's reference counting alone: one serial kernel passing row views
    of two matrices to a compiled helper per pair (the shape of the pairwise loops), on
    the counted arrays and on :func:`~divergences._kernels.borrow.borrowed` ones. The
    helper is too large for LLVM to inline (TV, Hellinger and chi2 by a run-time code),
    as the real pair helpers are. Returns the two medians (s)."""
    from divergences._jit import kernel
    from divergences._kernels.borrow import borrowed

    @kernel
    def pair(code, a, b, acc):
        s0 = 0.0
        s1 = 0.0
        for k in range(a.shape[0]):
            if code == 0:
                s0 += abs(a[k] - b[k])
                s1 += min(a[k], b[k])
            elif code == 1:
                d = np.sqrt(a[k]) - np.sqrt(b[k])
                s0 += d * d
            else:
                d = a[k] - b[k]
                s0 += d * d / (b[k] + 1.0)
        acc[0] = s0
        acc[1] = s1

    def pairs(code, A, B, out, acc):
        for i in range(A.shape[0]):
            for j in range(B.shape[0]):
                pair(code, A[i], B[j], acc)
                out[i, j] = acc[0]

    counted = kernel(pairs)

    @kernel
    def borrowing(code, A, B, out, acc):
        counted(code, borrowed(A), borrowed(B), borrowed(out), borrowed(acc))

    rng = np.random.default_rng(1)
    A, B = rng.random((N, n)), rng.random((N // 2, n))
    out, acc = np.empty((N, N // 2)), np.empty(2)
    return (_median(lambda: counted(0, A, B, out, acc), repeat),
            _median(lambda: borrowing(0, A, B, out, acc), repeat))


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
    N = 200 if quick else 1000
    counted, borrowed = _counting_cost(N, 256, 7)
    print(f"serial pair loop {N}x{N // 2} rows of 256: counted arrays {counted * 1e3:8.1f} ms, "
          f"borrowed {borrowed * 1e3:8.1f} ms", flush=True)
    X = rng.random((N, 256))
    w1 = _median(lambda: pairwise(X, metric="wasserstein", support=np.arange(256.0)), 7)
    print(f"W1 matrix {N}x256 on a 1-D support: {w1 * 1e3:8.1f} ms", flush=True)
    n = 2000 if quick else 10_000
    x, y = rng.random((2, n, 2))
    ms = _median(lambda: transport(x, y, p=2), 3 if quick else 7)
    print(f"exact W2 (multiscale) n=m={n}: {ms:.3f} s", flush=True)
    rows.append({"case": f"multiscale W2 n=m={n}", "ours_s": ms, "ref_name": "n/a",
                 "ref_s": "n/a"})
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
