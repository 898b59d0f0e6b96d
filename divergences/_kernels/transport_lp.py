"""Exact transport for weights with zeros: compaction, network simplex, duals everywhere."""

import numpy as np

from .._jit import kernel
from .network_simplex import network_simplex

#: machine epsilon of float64
EPS = float(np.finfo(np.float64).eps)


@kernel
def _support(w):
    """Indices of the positive entries of ``w``."""
    cnt = 0
    for i in range(w.shape[0]):
        if w[i] > 0.0:
            cnt += 1
    out = np.empty(cnt, np.int64)
    k = 0
    for i in range(w.shape[0]):
        if w[i] > 0.0:
            out[k] = i
            k += 1
    return out


@kernel
def solve_transport(cost, a, b, max_iter):
    """The network simplex on ``cost`` (n0, m0) for weights with zeros, duals everywhere.

    Zero-weight rows and columns are left out of the graph; afterwards each gets the
    largest feasible potential, ``f_i = min_j (C_ij - g_j)`` over the supported columns,
    then ``g_j = min_i (C_ij - f_i)`` over all rows, so ``f_i + g_j <= C_ij`` everywhere.
    Returns ``(rows, cols, flows, f, g, total, status, n_iter, left_a, left_b)`` with
    the real basic arcs in original indices, ``total = sum flows * C`` (compensated sum)
    and ``left_a``/``left_b`` the mass still on artificial arcs (zero when optimal).
    """
    n0, m0 = cost.shape
    # explicit loops instead of np.nonzero / fancy indexing: fewer library functions to
    # compile on the first call (cold start)
    ri = _support(a)
    ci = _support(b)
    n = ri.shape[0]
    m = ci.shape[0]
    a_c = np.empty(n)
    b_c = np.empty(m)
    for i in range(n):
        a_c[i] = a[ri[i]]
    for j in range(m):
        b_c[j] = b[ci[j]]
    maxabs = 0.0
    for i in ri:
        for j in ci:
            maxabs = max(maxabs, abs(cost[i, j]))
    # costs so large that the big M would overflow are solved divided by max |C|
    unit = 1.0 if np.isfinite(2.0 * (n + m + 1) * maxabs) else maxabs
    if n == n0 and m == m0 and unit == 1.0:
        flat = cost.reshape(n * m)
    else:
        flat = np.empty(n * m)
        for i in range(n):
            for j in range(m):
                flat[i * m + j] = cost[ri[i], ci[j]] / unit
    rows_c, cols_c, flows_c, f_c, g_c, status, n_iter = network_simplex(
        flat, n, m, a_c, b_c, max_iter, maxabs / unit
    )
    f = np.empty(n0)
    g = np.empty(m0)
    for i in range(n0):
        f[i] = np.inf
    for j in range(m0):
        g[j] = np.inf
    for i in range(n):
        f[ri[i]] = f_c[i] * unit
    for j in range(m):
        g[ci[j]] = g_c[j] * unit
    for i in range(n0):
        if a[i] == 0.0:
            for j in ci:
                f[i] = min(f[i], cost[i, j] - g[j])
    for j in range(m0):
        if b[j] == 0.0:
            for i in range(n0):
                g[j] = min(g[j], cost[i, j] - f[i])
    left_a = np.empty(n0)
    left_b = np.empty(m0)
    for i in range(n0):
        left_a[i] = 0.0
    for j in range(m0):
        left_b[j] = 0.0
    cnt = 0
    for u in range(rows_c.shape[0]):
        if rows_c[u] >= 0:
            cnt += 1
        elif u < n:
            left_a[ri[cols_c[u]]] = flows_c[u]
        else:
            left_b[ci[cols_c[u]]] = flows_c[u]
    rows = np.empty(cnt, np.int64)
    cols = np.empty(cnt, np.int64)
    flows = np.empty(cnt)
    total = 0.0
    comp = 0.0  # Neumaier compensation
    k = 0
    for u in range(rows_c.shape[0]):
        if rows_c[u] >= 0:
            rows[k] = ri[rows_c[u]]
            cols[k] = ci[cols_c[u]]
            flows[k] = flows_c[u]
            term = flows[k] * cost[rows[k], cols[k]]
            tmp = total + term
            if abs(total) >= abs(term):
                comp += (total - tmp) + term
            else:
                comp += (term - tmp) + total
            total = tmp
            k += 1
    return rows, cols, flows, f, g, total + comp, status, n_iter, left_a, left_b


@kernel
def dual_violation(cost, f, g, a, b):
    """``(delta, bound)`` over the supports ``a_i > 0``, ``b_j > 0``, in one pass.

    ``delta = max(0, max f_i + g_j - C_ij)`` beyond the rounding of each term (a few ulps
    of ``|f_i| + |g_j| + |C_ij|``): by weak duality a plan whose potentials are
    feasible up to ``delta`` is within ``delta`` (plus the duality gap) of the optimum.
    ``bound = max(sum_i a_i min_j C_ij, sum_j b_j min_i C_ij)``, a lower bound on the
    optimal cost: a plan that attains it is optimal whatever the potentials.
    """
    worst = 0.0
    colmin = np.full(b.shape[0], np.inf)
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
