"""Exact transport on a sparse set of allowed arcs: NumPy around the network simplex.

:func:`solve_sparse_transport` (no validation) leaves out the zero-weight rows and
columns, runs :func:`~.network_simplex.min_cost_flow` on the explicit bipartite arcs
that remain, and gives every zero-weight row and column the largest potential that is
feasible on its allowed arcs.
"""

import math

import numpy as np

from .network_simplex import INFEASIBLE, min_cost_flow, scattered_order


def _compact(weights):
    """Indices of the positive weights and, for every original index, its new one (-1)."""
    keep = np.flatnonzero(weights > 0.0)
    new = np.full(weights.shape[0], -1, np.int64)
    new[keep] = np.arange(keep.shape[0])
    return keep, new


def solve_sparse_transport(rows, cols, vals, a, b, max_iter, start=None, scatter=False):
    """The transportation LP restricted to the arcs ``(rows[e], cols[e])`` of cost
    ``vals[e]`` (int64, int64, float64; no duplicates), weights ``a`` (n0,), ``b`` (m0,).

    ``start``: ``None`` or arcs (indices into ``rows``/``cols``, in order of
    preference) to build the first basis from. ``scatter``: price the arcs in
    :func:`~.network_simplex.scattered_order` instead of their given order (for a
    re-solve whose only negative reduced costs are on a few rows' new arcs).

    Returns ``(status, out)``. For :data:`INFEASIBLE`, ``out`` is ``(side, index)`` when
    a row (``side == 0``) or column (``side == 1``) of positive weight has no allowed
    arc to the other side's support, else ``None`` (a group of them has too few).
    Otherwise ``out = (r, c, flows, f, g, total, n_iter, left_a, left_b)``: the real
    basic arcs in original indices and their flows, potentials with ``f_i + g_j <= C_ij``
    on every allowed arc (``+inf``-free: a zero-weight row or column without allowed
    arcs gets 0), ``total = sum flows * C`` (exactly rounded) and the mass still unrouted.
    """
    n0, m0 = a.shape[0], b.shape[0]
    full = bool(a.all() and b.all())  # no zero weight (multiscale levels): no renumbering
    ri, new_r = _compact(a)
    ci, new_c = _compact(b)
    n, m = ri.shape[0], ci.shape[0]
    if full:
        sr, sc, live = rows, cols, None
    else:
        sr, sc = new_r[rows], new_c[cols]
        live = np.flatnonzero((sr >= 0) & (sc >= 0))
        sr, sc = sr[live], sc[live]
    for side, idx, count in ((0, ri, n), (1, ci, m)):
        deg = np.bincount(sr if side == 0 else sc, minlength=count)
        if count and not deg.all():
            return INFEASIBLE, (side, int(idx[np.argmin(deg)]))
    cost = vals if full else vals[live]
    if scatter:  # arc k of the solver is arc live[order[k]] of the caller
        order = scattered_order(sr.shape[0])
        sr, sc, cost = sr[order], sc[order], cost[order]
        live = order if full else live[order]
    tails = np.ascontiguousarray(sr, dtype=np.int64)
    heads = np.ascontiguousarray(sc + n, dtype=np.int64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    maxabs = float(np.abs(cost).max()) if cost.size else 0.0
    unit = 1.0 if math.isfinite(2.0 * (n + m + 1) * maxabs) else maxabs
    if unit != 1.0:
        cost = cost / unit
    if start is not None:  # the arcs of the warm start, renumbered as the solver's
        ids = np.asarray(start, np.int64)
        if live is not None:
            where = np.full(rows.shape[0], -1, np.int64)
            where[live] = np.arange(live.shape[0])
            ids = where[ids]
            ids = ids[ids >= 0]
        start = (tails[ids], heads[ids], ids)
    supply = np.concatenate([a[ri], -b[ci]])
    arcs, flows, pi, status, n_iter = min_cost_flow(
        cost, supply, max_iter, maxabs / unit, tails=tails, heads=heads, start=start)
    if status == INFEASIBLE:
        return INFEASIBLE, None
    E = tails.shape[0]
    real = arcs < E
    e = arcs[real] if live is None else live[arcs[real]]
    r, c, fl = rows[e], cols[e], flows[real]
    art = np.flatnonzero(~real)
    left_a = np.zeros(n0)
    left_b = np.zeros(m0)
    left_a[ri[art[art < n]]] = flows[art[art < n]]
    left_b[ci[art[art >= n] - n]] = flows[art[art >= n]]
    f = np.zeros(n0)
    g = np.zeros(m0)
    f[ri] = -pi[:n] * unit
    g[ci] = pi[n:] * unit
    _complete_duals(rows, cols, vals, a, b, f, g)
    total = math.fsum((fl * vals[e]).tolist())
    return status, (r, c, fl, f, g, total, n_iter, left_a, left_b)


def _complete_duals(rows, cols, vals, a, b, f, g):
    """Zero-weight rows: ``f_i = min (C_ij - g_j)`` over their allowed arcs to columns of
    positive weight; then zero-weight columns: ``g_j = min (C_ij - f_i)`` over all their
    allowed arcs (0 where there is none). In place."""
    for pot, other, w_self, w_other, own, far in ((f, g, a, b, rows, cols),
                                                 (g, f, b, a, cols, rows)):
        zero = w_self == 0.0
        if not zero.any():
            continue
        sel = zero[own] & ((w_other[far] > 0.0) if pot is f else True)
        best = np.full(pot.shape[0], np.inf)
        np.minimum.at(best, own[sel], vals[sel] - other[far[sel]])
        pot[zero] = np.where(np.isfinite(best[zero]), best[zero], 0.0)
