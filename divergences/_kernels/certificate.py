r"""Dual certificates over all pairs of two point sets, costs on the fly (numba, in threads).

The multiscale exact solver (:mod:`divergences.multiscale`) solves transport problems on a
sparse set of arcs. Potentials :math:`(f, g)` that are optimal there are optimal for the
dense problem exactly when

.. math:: c(x_i, y_j) - f_i - g_j \ge 0 \quad \text{for all } i, j,

with :math:`c = d^p`. :func:`violated_pairs` checks this over all pairs without storing
any cost: the points come grouped in blocks (contiguous ranges), each with a bounding box
and the largest potential in it; for a block pair (then a row and a block) the distance
between the boxes gives a lower bound :math:`d_{\min}^p - \max f - \max g` of every
reduced cost in it, and a bound :math:`\ge 0` skips the block (pruning by geometry). The
remaining pairs are priced; each row keeps its ``K`` most negative ones. Memory: the
blocks and the ``(n, K)`` answer, nothing of size ``n m``.

Gaps: per axis :math:`\max(0, lo_B - hi_A, lo_A - hi_B)`; every metric here is a
monotone norm of the coordinate differences, so the metric of the gap vector bounds the
distance of every pair from below, and float rounding is monotone, so the bound also holds
for the computed costs.
"""

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .borrow import borrowed
from .cost import ground_distance


@kernel(inner=True)
def _power(dist, p):
    """``dist ** p`` with the common exponents exact and fast."""
    if p == 1.0:
        return dist
    if p == 2.0:
        return dist * dist
    return dist ** p


@kernel(inner=True)
def _gaps(alo, ahi, blo, bhi, out):
    """``out[k]``: the gap between the intervals ``[alo[k], ahi[k]]`` and ``[blo[k], bhi[k]]``
    (0 when they meet; a point is an interval of zero width). The distance from the origin
    of this vector is a lower bound of ``d(x, y)`` for ``x`` in box ``A``, ``y`` in box
    ``B`` (module docstring): :func:`~.cost.ground_distance` itself, one compiled metric."""
    for k in range(out.shape[0]):
        out[k] = max(max(0.0, blo[k] - ahi[k]), alo[k] - bhi[k])


def violated_pairs(X, Y, f, g, xb, yb, xlo, xhi, ylo, yhi, fmax, gmax, metric, q, p, rtol,
                   atol, best_j, best_r, counts, lowest, threads=None):
    """The pairs whose reduced cost ``c_ij - f_i - g_j`` is below ``-rtol (|c_ij| + |f_i| +
    |g_j|) - atol``, the ``K`` most negative of each row, in parallel over the blocks of
    rows: ranges of row blocks in ``threads`` Python threads (default: numba's thread
    count; :func:`divergences._thread_ranges.run_in_ranges`), each one call of the serial
    kernel :func:`violated_blocks` (which releases the GIL). No ``prange``: a parallel
    kernel was seconds of a first multiscale call's compile time. Each row block is
    written by one range only, so the result does not depend on the threads.

    ``X`` (n, d), ``Y`` (m, d): points, grouped in blocks: block ``B`` of ``X`` is rows
    ``xb[B]:xb[B+1]`` with bounding box ``xlo[B]``, ``xhi[B]`` (nbx, d) and ``fmax[B] =
    max f`` over it; likewise ``yb``, ``ylo``, ``yhi``, ``gmax`` for ``Y``. Costs
    ``d(x_i, y_j) ** p`` (metric codes of :mod:`.cost`, ``q`` the Minkowski order).

    Output, filled in place: ``best_j`` (n, K) int64 (``-1``: empty slot; the caller
    fills it with -1) and ``best_r`` (n, K) the reduced costs; ``counts[B]`` the number
    of violated pairs of the rows of block ``B`` and ``lowest[B]`` their least reduced
    cost (0 when none). Returns nothing.
    """
    # per row block, the gap vectors of its boxes (each block has one thread)
    gaps = np.empty(xlo.shape)
    origin = np.zeros(X.shape[1])
    run_in_ranges(violated_blocks, (X, Y, f, g, xb, yb, xlo, xhi, ylo, yhi, fmax, gmax,
                                    metric, q, p, rtol, atol, best_j, best_r, counts,
                                    lowest, gaps, origin), xb.shape[0] - 1, threads)


@kernel
def violated_blocks(X, Y, f, g, xb, yb, xlo, xhi, ylo, yhi, fmax, gmax, metric, q, p, rtol,
                    atol, best_j, best_r, counts, lowest, gaps, origin, B0, B1):
    """:func:`violated_pairs` for the row blocks ``B0 .. B1 - 1``, in the calling thread.
    ``gaps`` (nbx, d): scratch, row ``B`` for block ``B``; ``origin`` (d,): zeros.

    The point and box arrays are :func:`~.borrow.borrowed`: the rows taken per pair are
    then not reference-counted (which made this loop slower than in a ``prange``)."""
    X, Y, xlo, xhi = borrowed(X), borrowed(Y), borrowed(xlo), borrowed(xhi)
    ylo, yhi, gaps = borrowed(ylo), borrowed(yhi), borrowed(gaps)
    nby = yb.shape[0] - 1
    K = best_j.shape[1]
    for B in range(B0, B1):
        cnt = 0
        low_b = 0.0
        gap = gaps[B]
        for C in range(nby):
            _gaps(xlo[B], xhi[B], ylo[C], yhi[C], gap)
            low = _power(ground_distance(gap, origin, metric, q), p)
            if low - fmax[B] - gmax[C] >= -atol:
                continue
            for i in range(xb[B], xb[B + 1]):
                fi = f[i]
                xi = X[i]
                _gaps(xi, xi, ylo[C], yhi[C], gap)
                if _power(ground_distance(gap, origin, metric, q), p) - fi - gmax[C] >= -atol:
                    continue
                for j in range(yb[C], yb[C + 1]):
                    c = _power(ground_distance(xi, Y[j], metric, q), p)
                    r = c - fi - g[j]
                    if r < -rtol * (abs(c) + abs(fi) + abs(g[j])) - atol:
                        cnt += 1
                        low_b = min(low_b, r)
                        # keep the K most negative: replace the empty or the largest slot
                        worst = 0
                        for k in range(K):
                            if best_j[i, k] < 0:
                                worst = k
                                break
                            if best_r[i, k] > best_r[i, worst]:
                                worst = k
                        if best_j[i, worst] < 0 or r < best_r[i, worst]:
                            best_j[i, worst] = j
                            best_r[i, worst] = r
        counts[B] = cnt
        lowest[B] = low_b


@kernel
def c_transform(X, Y, g, yb, ylo, yhi, gmax, metric, q, p, gap, origin, out):
    """``out[i] = min_j (d(X[i], Y[j]) ** p - g[j])``: the largest ``f_i`` with ``f_i + g_j
    <= c_ij`` for every ``j`` (``+inf`` when ``Y`` is empty), in parallel over ``i``.

    ``Y`` comes in blocks as in :func:`violated_pairs` (``yb``, boxes ``ylo``, ``yhi``,
    ``gmax[C] = max g`` over block ``C``): the block of least lower bound
    ``d_min(x_i, box)^p - gmax`` is searched first, then only the blocks whose bound is
    below the best value so far (``gap``, ``origin`` (d,): scratch and zeros, as in
    :func:`violated_blocks`). Serial (only zero weights need it; no parallel
    compilation)."""
    nb = yb.shape[0] - 1
    for i in range(X.shape[0]):
        xi = X[i]
        first = -1
        low = np.inf
        for C in range(nb):
            _gaps(xi, xi, ylo[C], yhi[C], gap)
            v = _power(ground_distance(gap, origin, metric, q), p) - gmax[C]
            if v < low:
                low = v
                first = C
        best = np.inf
        if first >= 0:
            for j in range(yb[first], yb[first + 1]):
                best = min(best, _power(ground_distance(xi, Y[j], metric, q), p) - g[j])
        for C in range(nb):
            if C == first:
                continue
            _gaps(xi, xi, ylo[C], yhi[C], gap)
            if _power(ground_distance(gap, origin, metric, q), p) - gmax[C] >= best:
                continue
            for j in range(yb[C], yb[C + 1]):
                best = min(best, _power(ground_distance(xi, Y[j], metric, q), p) - g[j])
        out[i] = best
