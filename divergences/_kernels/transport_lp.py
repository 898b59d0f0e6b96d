"""Exact transport for weights with zeros: compaction, network simplex, duals everywhere.

:func:`solve_transport` is NumPy around the kernels (no validation): the pivots run in
blocks that return to the interpreter (:func:`~.network_simplex.network_simplex`), and
the zero-weight potentials (:func:`complete_duals`) are compiled only when needed.
"""

import math

import numpy as np

from .._jit import kernel
from .network_simplex import network_simplex

#: machine epsilon of float64
EPS = float(np.finfo(np.float64).eps)


def solve_transport(cost, a, b, max_iter, start=None):
    """The network simplex on ``cost`` (n0, m0) for weights with zeros, duals everywhere.

    Zero-weight rows and columns are left out of the graph; afterwards each gets the
    largest feasible potential (:func:`complete_duals`), so ``f_i + g_j <= C_ij``
    everywhere. ``cost``, ``a``, ``b`` are float64, ``cost`` C-contiguous.
    Returns ``(rows, cols, flows, f, g, total, status, n_iter, left_a, left_b)`` with
    the real basic arcs in original indices, ``total = sum flows * C`` (exactly rounded
    sum) and ``left_a``/``left_b`` the mass still on artificial arcs (zero when optimal).
    ``start``: ``None`` or pairs ``(rows, cols)`` (int64, original indices, in order of
    preference) to build the first basis from (a warm start).

    NumPy and a Python loop over blocks of pivots (:func:`network_simplex`): the solve
    can be interrupted (``KeyboardInterrupt``) and nothing is left half-written.
    """
    n0, m0 = cost.shape
    full = bool(a.all() and b.all())  # no zero weight (the usual case: no indexing)
    ri = np.arange(n0) if full else np.flatnonzero(a > 0.0)
    ci = np.arange(m0) if full else np.flatnonzero(b > 0.0)
    n, m = ri.shape[0], ci.shape[0]
    sub = cost if full else cost[np.ix_(ri, ci)]
    maxabs = max(float(sub.max()), -float(sub.min()))
    # costs so large that the big M would overflow are solved divided by max |C|
    unit = 1.0 if math.isfinite(2.0 * (n + m + 1) * maxabs) else maxabs
    if unit != 1.0:
        sub = sub / unit
    flat = np.ascontiguousarray(sub, dtype=np.float64).reshape(n * m)
    del sub
    a_c, b_c = (a, b) if full else (a[ri], b[ci])
    if start is not None and not full:  # in the compacted numbering
        new_r = np.full(n0, -1, np.int64)
        new_c = np.full(m0, -1, np.int64)
        new_r[ri] = np.arange(n)
        new_c[ci] = np.arange(m)
        sr, sc = new_r[start[0]], new_c[start[1]]
        ok = (sr >= 0) & (sc >= 0)
        start = (sr[ok], sc[ok])
    rows, cols, flows, f_c, g_c, status, n_iter = network_simplex(
        flat, n, m, np.ascontiguousarray(a_c, dtype=np.float64),
        np.ascontiguousarray(b_c, dtype=np.float64), max_iter, maxabs / unit, start
    )
    del flat
    if full:
        f, g = (f_c, g_c) if unit == 1.0 else (f_c * unit, g_c * unit)
    else:
        f = np.full(n0, np.inf)
        g = np.full(m0, np.inf)
        f[ri] = f_c * unit
        g[ci] = g_c * unit
        complete_duals(cost, a, b, f, g)
    left_a = np.zeros(n0)
    left_b = np.zeros(m0)
    real = rows >= 0
    if not real.all():  # mass still on artificial arcs (max_iter; rounding of weights)
        art = np.flatnonzero(~real)
        src = art[art < n]
        snk = art[art >= n]
        left_a[ri[cols[src]]] = flows[src]
        left_b[ci[cols[snk]]] = flows[snk]
        rows, cols, flows = rows[real], cols[real], flows[real]
    if not full:
        rows, cols = ri[rows], ci[cols]
    total = math.fsum((flows * cost[rows, cols]).tolist())
    return rows, cols, flows, f, g, total, status, n_iter, left_a, left_b


@kernel
def complete_duals(cost, a, b, f, g):
    """Potentials of the zero-weight rows and columns, in place: ``f_i = min_j (C_ij -
    g_j)`` over the columns with ``b_j > 0``, then ``g_j = min_i (C_ij - f_i)`` over all
    rows (the largest feasible ones)."""
    n0, m0 = cost.shape
    for i in range(n0):
        if a[i] == 0.0:
            v = np.inf
            for j in range(m0):
                if b[j] > 0.0:
                    v = min(v, cost[i, j] - g[j])
            f[i] = v
    for j in range(m0):
        if b[j] == 0.0:
            v = np.inf
            for i in range(n0):
                v = min(v, cost[i, j] - f[i])
            g[j] = v


@kernel
def dual_violation(cost, f, g, a, b, colmin):
    """``(delta, bound)`` over the supports ``a_i > 0``, ``b_j > 0``, in one pass.

    ``colmin`` (m,) is scratch space, filled with ``+inf`` by the caller (an allocation
    here would compile another NumPy function on the first call).

    ``delta = max(0, max f_i + g_j - C_ij)`` beyond the rounding of each term (a few ulps
    of ``|f_i| + |g_j| + |C_ij|``): by weak duality a plan whose potentials are
    feasible up to ``delta`` is within ``delta`` (plus the duality gap) of the optimum.
    ``bound = max(sum_i a_i min_j C_ij, sum_j b_j min_i C_ij)``, a lower bound on the
    optimal cost: a plan that attains it is optimal whatever the potentials.
    """
    worst = 0.0
    row_bound = 0.0
    for i in range(a.shape[0]):
        if a[i] <= 0.0:
            continue
        rowmin = np.inf
        for j in range(b.shape[0]):
            if b[j] > 0.0:
                c = cost[i, j]
                # beyond the rounding of f_i + g_j - C_ij itself
                worst = max(worst, f[i] + g[j] - c - 4.0 * EPS * (abs(f[i]) + abs(g[j]) + abs(c)))
                rowmin = min(rowmin, c)
                colmin[j] = min(colmin[j], c)
        row_bound += a[i] * rowmin
    col_bound = 0.0
    for j in range(b.shape[0]):
        if b[j] > 0.0:
            col_bound += b[j] * colmin[j]
    return worst, max(row_bound, col_bound)
