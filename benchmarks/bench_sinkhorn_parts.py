"""The pieces of the dense Sinkhorn solver, timed against what they replaced or compete with.

Not in ``python -m benchmarks`` (these are internals); the figures quoted in the issue notes
and in ``divergences/_kernels/sinkhorn_scaling.py`` come from here. n = m = 2000, medians,
warm-up excluded:

1. one scaling sweep (``scaling_pass``, rows 8 at a time, 2 threads) against the same fused
   sweep one row at a time, and against POT's two BLAS matrix-vector products;
2. the cost check (``value_range``: finite, min, max in one compiled pass) against NumPy's
   ``isfinite(C).all()``, ``min``, ``max`` and ``abs(C).max()``;
3. allocating and first touching a 32 MB plan in fresh memory (as when the caller keeps the
   results): NumPy (which asks this machine's kernel for huge pages, then zeroes and compacts
   them) against numba's allocator, which the solver uses;
4. ``sinkhorn(reg=0.05)`` right after itself against right after ``ot.sinkhorn`` (whose
   OpenBLAS worker threads keep spinning for ~0.1 s).

Run ``python benchmarks/bench_sinkhorn_parts.py`` (about 20 s).
"""

from __future__ import annotations

import os
import sys
import time

import numba
import numpy as np
import ot
from numba import prange

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._timing import median_time  # noqa: E402
from divergences import sinkhorn  # noqa: E402
from divergences._jit import kernel  # noqa: E402
from divergences._kernels.scan import value_range  # noqa: E402
from divergences._kernels.sinkhorn_scaling import scaling_pass  # noqa: E402


@kernel(parallel=True)
def _one_row_sweep(K, a, v, u_new, parts):
    """The fused sweep before grouping: per row, a dot with ``v``, then the column sums."""
    n, m = K.shape
    nch = parts.shape[0]
    for c in prange(nch):
        acc = parts[c]
        for j in range(m):
            acc[j] = 0.0
        for i in range(c * n // nch, (c + 1) * n // nch):
            row = K[i]
            s = 0.0
            for j in range(m):
                s += row[j] * v[j]
            un = a[i] / s
            u_new[i] = un
            for j in range(m):
                acc[j] += row[j] * un


@kernel
def _numba_alloc_touch(n, m):
    K = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            K[i, j] = 1.0
    return K


@kernel
def _touch(K):
    n, m = K.shape
    for i in range(n):
        for j in range(m):
            K[i, j] = 1.0


def _line(what, ours_s, ref_name, ref_s):
    print(f"{what:<44} ours {ours_s * 1e3:8.2f} ms | {ref_name:<36} {ref_s * 1e3:8.2f} ms | "
          f"ratio {ours_s / ref_s:5.2f}", flush=True)


def main():
    n = 2000
    rng = np.random.default_rng(0)
    x, y = rng.random((n, 2)), rng.random((n, 2))
    C = ot.dist(x, y)
    C /= C.max()
    a = np.full(n, 1.0 / n)
    K = np.exp(-C / 0.05) / n**2
    v, u2, v2 = np.ones(n), np.empty(n), np.empty(n)
    numba.set_num_threads(2)
    parts = np.zeros((2, n))
    grouped = median_time(
        lambda: scaling_pass(K, a, a, a, a, v, v, u2, v2, parts, 1e10, 1.0, 1.0, 1.0), 30)
    one_row = median_time(lambda: _one_row_sweep(K, a, v, u2, parts), 30)
    blas = median_time(lambda: (K @ v, u2 @ K), 30)
    _line("1. scaling sweep, 8 rows at a time", grouped, "same sweep, one row at a time", one_row)
    _line("1. scaling sweep, 8 rows at a time", grouped, "K @ v and u @ K (POT's iteration)", blas)

    ours = median_time(lambda: value_range(C), 20)
    ref = median_time(lambda: (np.isfinite(C).all(), C.min(), C.max(), np.abs(C).max()), 20)
    _line("2. cost check: finite, min, max", ours, "numpy isfinite, min, max, abs().max", ref)

    _touch(np.empty((2, 2)))
    _numba_alloc_touch(2, 2)
    t_np, t_nb, keep = [], [], []
    for _ in range(7):  # plans kept alive: each allocation gets fresh pages from the kernel
        t0 = time.perf_counter()
        K1 = np.empty((n, n))
        _touch(K1)
        t_np.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        K2 = _numba_alloc_touch(n, n)
        t_nb.append(time.perf_counter() - t0)
        keep += [K1, K2]
    del keep
    _line("3. fresh 32 MB plan, first touch, numba", float(np.median(t_nb)), "allocated by NumPy",
          float(np.median(t_np)))

    b = a.copy()
    sinkhorn(a, b, C, 0.05)
    after_self, after_pot = [], []
    for _ in range(7):
        sinkhorn(a, b, C, 0.05)
        t0 = time.perf_counter()
        sinkhorn(a, b, C, 0.05)
        after_self.append(time.perf_counter() - t0)
        ot.sinkhorn(a, b, C, 0.05, stopThr=1e-9, numItermax=100_000)
        t0 = time.perf_counter()
        sinkhorn(a, b, C, 0.05)
        after_pot.append(time.perf_counter() - t0)
    _line("4. sinkhorn reg=0.05 right after itself", float(np.median(after_self)),
          "right after ot.sinkhorn", float(np.median(after_pot)))


if __name__ == "__main__":
    main()
