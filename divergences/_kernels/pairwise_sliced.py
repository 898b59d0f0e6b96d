r"""Wasserstein matrices of histograms on a shared 1-D support, and sliced ones in d-D.

On a sorted 1-D support :math:`s_0 \le \dots \le s_{n-1}` with gaps
:math:`g_k = s_{k+1} - s_k`,

.. math:: W_1(a, b) = \sum_{k=0}^{n-2} |A_k - B_k|\, g_k,
          \qquad A_k = \sum_{l \le k} a_l,

so the support is sorted once, each row's cumulative sums are taken once, and a pair costs
one vectorised pass (:func:`_w1_cdf`). Other orders ``p`` walk the monotone coupling of
the two rows (:func:`~.univariate.sorted_cost`). The sliced distance of histograms on a
d-D support projects the support on ``L`` directions once and sorts each projection
once; a pair then costs ``L`` such 1-D problems, whose weights are read through the
projection's sorting order.

Pairs run in parallel by rows (with ``symmetric``, row ``i`` and row ``N - 1 - i`` in one
task: tasks of equal work), as ranges of tasks in Python threads over one serial kernel
(:func:`divergences._thread_ranges.run_in_ranges`; nothing parallel to compile); the
matrix holds :math:`W_p^p` (the caller takes roots and
undoes the scaling). Nothing here validates.
"""

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .borrow import borrowed
from .univariate import sorted_cost


@kernel(inner=True)
def _w1_cdf(A, B, gap):
    """:math:`\\sum_k |A_k - B_k| g_k` (cumulative sums ``A``, ``B``)."""
    s = 0.0
    for k in range(gap.shape[0]):
        s += abs(A[k] - B[k]) * gap[k]
    return s


@kernel(inline=True)
def _pair(cdf, P, G, orders, a, b, p, wa, wb):
    """:math:`\\frac1L \\sum_l W_p^p` of rows ``a``, ``b`` over the ``L`` sorted
    projections ``P`` (L, n) with gaps ``G`` (L, n - 1) and orders ``orders`` (L, n).

    With ``cdf`` (one projection, rows given as cumulative sums in sorted order, p = 1)
    one pass of :func:`_w1_cdf`; otherwise, per projection, the weights in its order go
    to ``wa``, ``wb`` and :func:`sorted_cost` walks the monotone coupling (``p = 1`` as
    a running difference of cumulative sums).
    """
    if cdf:
        return _w1_cdf(a, b, G[0])
    L, n = P.shape
    total = 0.0
    for li in range(L):
        order = orders[li]
        if p == 1.0:
            d = 0.0
            s = 0.0
            gap = G[li]
            for k in range(n - 1):
                o = order[k]
                d += a[o] - b[o]
                s += abs(d) * gap[k]
        else:
            for k in range(n):
                wa[k] = a[order[k]]
                wb[k] = b[order[k]]
            s = sorted_cost(P[li], wa, P[li], wb, p, 1.0)
        total += s
    return total / L


@kernel(inline=True)
def _row(cdf, P, G, orders, A, B, p, i, j0, mirror, swap, x0, y0, out, wa, wb):
    """Pairs ``(i, j >= j0)`` into ``out[i, j]`` (and ``out[j, i]`` with ``mirror``).

    With ``swap``, ``A`` and ``B`` are rows ``x0..`` and ``y0..`` of one array: the pair
    of a row with itself is 0 and a pair ``(g, h)`` with ``g > h`` (global rows) is
    computed as ``(h, g)``, so that a block equals the same block of the symmetric
    matrix exactly.
    """
    g = x0 + i
    for j in range(j0, B.shape[0]):
        h = y0 + j
        if swap and h == g:
            v = 0.0
        else:
            flip = swap and h < g
            v = _pair(cdf, P, G, orders, B[j] if flip else A[i], A[i] if flip else B[j], p,
                      wa, wb)
        out[i, j] = v
        if mirror:
            out[j, i] = v


@kernel
def _tasks(cdf, P, G, orders, A, B, p, symmetric, swap, x0, y0, out, t0, t1):
    """Tasks ``t0 .. t1 - 1`` in the calling thread. Task ``t``: row ``t`` of ``out``;
    with ``symmetric`` the pairs ``(i, j > i)`` of rows ``i = t`` and ``i = N - 1 - t``,
    mirrored (tasks of equal work).

    The arrays and buffers are :func:`~.borrow.borrowed` (the rows passed per pair are
    not reference-counted). :func:`_row` and :func:`_pair` have one call site each and
    are inlined: a chain of compiled calls would generate the code of
    :func:`~.univariate.sorted_cost` again at each level (issue 12, cold start).
    """
    P, G, orders, A, B = borrowed(P), borrowed(G), borrowed(orders), borrowed(A), borrowed(B)
    out = borrowed(out)
    n = P.shape[1]
    wa_own = np.empty(n)
    wb_own = np.empty(n)
    wa, wb = borrowed(wa_own), borrowed(wb_own)
    N = A.shape[0]
    for t in range(t0, t1):
        both = symmetric and N - 1 - t != t
        for k in range(2 if both else 1):
            i = t if k == 0 else N - 1 - t
            _row(cdf, P, G, orders, A, B, p, i, i + 1 if symmetric else 0, symmetric,
                 swap and not symmetric, x0, y0, out, wa, wb)


def sliced_matrix(cdf, P, G, orders, A, B, p, symmetric, swap, x0, y0, out, threads=None):
    """``out[i, j]`` = :func:`_pair` of rows ``A[i]``, ``B[j]``, in threads.

    ``symmetric``: ``B`` is ``A``, the upper triangle is computed and mirrored, the
    diagonal is left as given (0). ``swap``: ``A`` and ``B`` are rows ``x0..`` and
    ``y0..`` of one array (a block of the symmetric problem), see :func:`_row`.
    ``threads``: ``None`` for numba's thread count, 1 for the calling thread alone; each
    task writes its own rows (and their mirror), so the result does not depend on it.
    """
    ntask = (A.shape[0] + 1) // 2 if symmetric else A.shape[0]
    args = (bool(cdf), P, G, orders, A, B, float(p), bool(symmetric), bool(swap),
            int(x0), int(y0), out)
    run_in_ranges(_tasks, args, ntask, threads)


def sliced_matrix_serial(cdf, P, G, orders, A, B, p, symmetric, swap, x0, y0, out):
    """:func:`sliced_matrix` in the calling thread (small inputs)."""
    sliced_matrix(cdf, P, G, orders, A, B, p, symmetric, swap, x0, y0, out, threads=1)
