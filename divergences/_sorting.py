"""Sorting helpers for the 1-D and sliced solvers: NumPy's sort, split over threads.

NumPy's sort (SIMD quicksort for float64) releases the GIL, so large sorts run in a few
Python threads, one block of rows each. Below :data:`PARALLEL_MIN` elements threads do
not pay and everything runs in the calling thread.
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np

__all__ = ["n_threads", "sort_pair", "sort_rows"]

#: total number of elements below which sorting stays in one thread.
PARALLEL_MIN = 200_000


def n_threads():
    """Threads to use: numba's setting (``NUMBA_NUM_THREADS``), at most the CPU count."""
    return max(1, min(numba.get_num_threads(), os.cpu_count() or 1))


def _run(tasks):
    """Run the callables in ``tasks``: the first in this thread, the others in threads."""
    if len(tasks) == 1:
        tasks[0]()
        return
    threads = [threading.Thread(target=t) for t in tasks[1:]]
    for t in threads:
        t.start()
    try:
        tasks[0]()
    finally:
        for t in threads:
            t.join()


def sort_pair(x, y, order, weights=None):
    """``np.sort`` of the 1-D arrays ``x`` and ``y``, one thread each when large.

    With ``order`` each result is instead the argsort ``ix``, or with ``weights=(a, b)``
    the triple ``(ix, x[ix], a[ix])`` (the gathers run in the same thread as the sort).
    ``order`` may be a pair of flags, one per array: with weights, a side whose flag is
    false gets ``(None, np.sort(v), w)`` (for constant weights, whose order is irrelevant).
    """
    order_x, order_y = order if isinstance(order, tuple) else (order, order)

    def one(v, w, by_order):
        if not by_order:
            return np.sort(v) if w is None else (None, np.sort(v), w)
        ix = np.argsort(v)
        return ix if w is None else (ix, v[ix], w[ix])

    wx, wy = (None, None) if weights is None else weights
    if x.size + y.size < PARALLEL_MIN or n_threads() < 2:
        return one(x, wx, order_x), one(y, wy, order_y)
    out = [None, None]

    def first():
        out[0] = one(x, wx, order_x)

    def second():
        out[1] = one(y, wy, order_y)

    _run([first, second])
    return out[0], out[1]


def sort_rows(arrays, order):
    """Sort every row of each 2-D C-contiguous array in ``arrays``.

    Without ``order`` the arrays are sorted in place and ``None`` is returned for each;
    with ``order`` the arrays are left alone and their row-wise argsorts are returned.
    """
    results = [np.empty(a.shape, np.int64) if order else None for a in arrays]
    blocks = []  # (array index, row start, row stop)
    total = sum(a.size for a in arrays)
    threads = n_threads() if total >= PARALLEL_MIN else 1
    for k, a in enumerate(arrays):
        rows = a.shape[0]
        per = max(1, -(-rows // threads))
        blocks.extend((k, lo, min(rows, lo + per)) for lo in range(0, rows, per))
    groups = [blocks[t::threads] for t in range(threads)]

    def work(group):
        for k, lo, hi in group:
            if order:
                results[k][lo:hi] = np.argsort(arrays[k][lo:hi], axis=1)
            else:
                arrays[k][lo:hi].sort(axis=1)

    _run([(lambda g=g: work(g)) for g in groups if g])
    return results
