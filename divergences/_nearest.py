"""The k nearest rows without the full matrix: blocks of rows, a selection per block.

:func:`nearest` computes the matrix of a plan (:func:`divergences.pairwise`) a block of
rows at a time, about :data:`BLOCK_ENTRIES` entries each, and keeps the ``k`` smallest
entries of each row (:func:`smallest`), ties broken by the column index: memory
``O(N k)`` plus one block. :func:`merge` combines the partial answers of column blocks
(the Dask adapter's reduction) into the same result.
"""

from __future__ import annotations

import numpy as np

from ._validation_pairwise import check_k

__all__ = ["merge", "nearest", "smallest"]

#: entries of the distance matrix held at once (one block of rows, all the columns)
BLOCK_ENTRIES = 1 << 21


def smallest(D, k):
    """Columns and values of the ``k`` smallest entries of each row of ``D``, sorted by
    value then by column; NaN entries (a row's own column) are never chosen, which needs
    ``k`` at most the number of other entries of every row."""
    n = D.shape[0]
    kth = np.partition(D, k - 1, axis=1)[:, k - 1:k]  # NaN sort last
    less = D < kth
    tie = D == kth
    need = k - less.sum(axis=1, keepdims=True)
    chosen = less | (tie & (np.cumsum(tie, axis=1) <= need))  # ties: the lowest columns
    cols = np.nonzero(chosen)[1].reshape(n, k)  # ascending columns in each row
    vals = np.take_along_axis(D, cols, axis=1)
    order = np.argsort(vals, axis=1, kind="stable")  # stable: equal values keep the column order
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(vals, order, axis=1)


def merge(parts, k):
    """The ``k`` smallest of partial answers ``[(indices, values), ...]`` (same rows,
    disjoint columns), by value then index."""
    idx = np.concatenate([p[0] for p in parts], axis=1)
    val = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((idx, val), axis=1)[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)


def block_nearest(plan, PX, x0, PY, y0, k, same):
    """The ``min(k, candidates)`` nearest columns of a block, as global column indices
    (``y0`` added); with ``same`` the rows and columns are rows ``x0..`` and ``y0..`` of
    one array and a row's own column is left out. Block by block of rows."""
    nx, ny = plan.count(PX), plan.count(PY)
    idx = []
    val = []
    rows = max(1, BLOCK_ENTRIES // max(ny, 1))
    for r0 in range(0, nx, rows):
        r1 = min(nx, r0 + rows)
        D = plan.block(plan.take(PX, r0, r1), x0 + r0, PY, y0, "canonical" if same else "full")
        if same:
            g = x0 + np.arange(r0, r1) - y0
            on = (g >= 0) & (g < ny)
            D[np.flatnonzero(on), g[on]] = np.nan
            kk = min(k, ny - 1 if on.any() else ny)
        else:
            kk = min(k, ny)
        if kk == 0:  # a block of one row and its own column: no candidate
            idx.append(np.empty((r1 - r0, 0), np.int64))
            val.append(np.empty((r1 - r0, 0)))
            continue
        i, v = smallest(D, kk)
        idx.append(i + y0)
        val.append(v)
    return np.concatenate(idx), np.concatenate(val)


def nearest(plan, PX, PY, k, same):
    """``(indices, distances)``, each (N, k): the ``k`` nearest rows of ``PY`` to each row
    of ``PX`` (``same``: ``PY`` is ``PX`` and a row is not its own neighbour)."""
    ny = plan.count(PY)
    k = check_k(k, ny - 1 if same else ny)
    return block_nearest(plan, PX, 0, PY, 0, k, same)
