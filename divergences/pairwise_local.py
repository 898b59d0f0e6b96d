"""The shared part of the local-arcs solver of Wasserstein matrices on a d-D support.

:func:`local_plan` computes, once per matrix, what
:func:`divergences._kernels.pairwise_local.local_pairs` needs for every pair: an order
of the support that makes cells of about :data:`CELL_BINS` bins contiguous (the dyadic
cells of :mod:`divergences._hierarchy`: 2 x 2 pixel blocks on a square grid), the costs
in that order, the costs between the cells' centres (the coarse problem of each pair)
and the :data:`NEIGHBOURS` cheapest arcs of every bin, sorted by cost.
"""

from __future__ import annotations

import numpy as np

from ._hierarchy import Hierarchy, block_level, cell_coordinates, finest_bits
from ._metrics import ground_costs

__all__ = ["LOCAL_MIN_BINS", "LOCAL_MIN_WORK", "local_plan"]

#: supports with at least this many bins use the local-arcs solver (fewer: dense)
LOCAL_MIN_BINS = 64
#: ... when the histograms are also many: rows x bins**2 at least this. The local solver
#: saves about 40% of a dense solve per pair (0.17 ms at 64 bins, ~5 ms at 256) but its
#: kernel is another ~6 s to compile on a first call (once per install: numba's cache);
#: 2**20 is where a matrix's saving reaches that order (256 rows of 64 bins: 32,640
#: pairs). Fewer or smaller histograms run the dense kernel.
LOCAL_MIN_WORK = 1 << 20
#: bins per cell of the coarse problem, on average
CELL_BINS = 4.0
#: cheapest arcs of every bin (as a source and as a target) in the first arc set
NEIGHBOURS = 24


def local_plan(s, C, code, q, p):
    """``(Cp, Cc, perm, starts, knn_t, knn_h)`` for the support ``s`` (n, d) (scaled)
    and its cost matrix ``C`` (n, n): module docstring. ``Cp``, ``Cc`` flat."""
    n, d = s.shape
    bits = finest_bits(n, d)
    coords = cell_coordinates(s, s, bits)[0]
    h = Hierarchy(s, np.ones(n), coords, bits)
    starts = h.starts(block_level(h, None, CELL_BINS))
    perm = h.order.astype(np.int64)
    centres, _ = h.cells(block_level(h, None, CELL_BINS), starts)
    Cc = ground_costs(centres, centres, code, q, p)
    Cp = np.ascontiguousarray(C[np.ix_(perm, perm)])
    k = min(NEIGHBOURS, n)
    near = np.argpartition(Cp, k - 1, axis=1)[:, :k]
    mask = np.zeros((n, n), bool)
    mask[np.repeat(np.arange(n), k), near.reshape(-1)] = True
    mask |= mask.T  # the cheapest arcs into every bin too (C is symmetric)
    t, h_ = np.nonzero(mask)
    order = np.argsort(Cp[t, h_], kind="stable")
    return (Cp.reshape(-1), np.ascontiguousarray(Cc.reshape(-1)), perm,
            starts.astype(np.int64), t[order].astype(np.int64), h_[order].astype(np.int64))
