r"""Partial optimal transport: move exactly a mass ``m`` at least cost, exactly.

Reached through :func:`divergences.emd` (``mass=``) and :func:`divergences.transport`
(``mass=``). The partial problem

.. math:: \min_{\gamma \ge 0} \sum_{ij}\gamma_{ij} C_{ij} \quad\text{s.t.}\quad
          \gamma 1 \le a,\ \gamma^T 1 \le b,\ 1^T\gamma 1 = m

is a balanced one on an extended problem (Chapel, Alaya and Gasso 2020, Prop. 1): one
dummy point is added on each side, the dummy source with mass :math:`\sum b - m` and the
dummy sink with mass :math:`\sum a - m`, real-to-dummy arcs of cost 0 (mass left where it
is) and a dummy-to-dummy arc of cost :math:`A > -\min C` (here :math:`2\max|C|`), which
no optimal plan uses: moving mass ``w`` through it forces ``w`` more real transport, and
rerouting any real unit through the dummies saves :math:`C_{ij} + A > 0`. The extended
problem is solved by the same network simplex as :func:`divergences.emd`:

* **restricted** (from :data:`RESTRICTED_MIN_ENTRIES` pairs on): the sparse network
  simplex on candidate arcs only, the :data:`NEIGHBOURS` cheapest pairs of each point
  of the larger side (and of the points of the other side they leave out), every arc
  to and from a dummy point and the support of the north-west corner coupling (so
  that a coupling exists on them); then the dual
  certificate :math:`C_{ij} - F_i - G_j \ge 0` over *all* real pairs (the dummy arcs are
  all present): the violated pairs join the arcs and the simplex restarts from its last
  basis, until none is left (:func:`divergences.multiscale.certified_solve`, the loop of
  the multiscale solver). The answer is then the optimum of the dense problem, certified
  as the multiscale solver's (``status == "optimal"``). A partial plan at small mass
  uses only cheap pairs, so the candidates are few and the pricing short: at
  ``n = m = 1000`` this is several times faster than the dense solve.
* **dense**: the complete extended problem (small problems; costs beyond
  :data:`divergences.exact.HUGE_COST`; and the fallback when the certificate fails or a
  restricted solve stops at ``max_iter``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.sparse

from ._metrics import metric_code
from ._validation import (
    check_choice,
    check_minkowski_order,
    check_no_options,
    check_p,
    check_point_sets,
    check_positive_int,
)
from ._validation_partial import check_mass
from .result import TransportResult

__all__ = []  # reached through emd(..., mass=) and transport(..., mass=)


#: the restricted solve (module docstring) from this many pairs of positive weights on;
#: smaller problems go to the dense solve directly. Measured (uniform points in the unit
#: square, masses 0.3/0.7/0.99, CPU ms, restricted vs dense): n = m = 100: 1.1/1.1/2.1
#: vs 2.0/1.3/1.1; 150: 1.6/1.5/2.8 vs 5.3/3.3/2.0; 300: 3.7/3.3/6.0 vs 36/19/8.0
RESTRICTED_MIN_ENTRIES = 20_000
#: candidate arcs of the restricted solve: the ``NEIGHBOURS`` cheapest pairs of every
#: point of the larger side (:func:`candidate_arcs`)
NEIGHBOURS = 15
#: violated pairs added per row and round of the certificate (the most negative ones)
SLOTS = 128
#: entries of the dense reduced costs formed at once by the certificate (fits in cache)
_CHUNK = 2**16


def _emd_partial(a, b, cost, mass, max_iter, *, p=1.0):
    """Partial transport of mass ``mass`` for validated ``a``, ``b`` (as given, not
    normalised), ``cost`` (n, m) and ``max_iter``; see :func:`divergences.emd`."""
    from .exact import HUGE_COST

    total_a, total_b = math.fsum(a.tolist()), math.fsum(b.tolist())
    mass = check_mass(mass, total_a, total_b)
    top = max(float(cost.max()), -float(cost.min()))
    barrier = 1.0 if top == 0.0 else (2.0 * top if top < 2.0**1022 else top * (1 + 2.0**-20))
    a_ext = np.append(a, max(total_b - mass, 0.0))
    b_ext = np.append(b, max(total_a - mass, 0.0))
    if (np.count_nonzero(a) * np.count_nonzero(b) >= RESTRICTED_MIN_ENTRIES
            and top <= HUGE_COST):
        res = _restricted(a_ext, b_ext, cost, barrier, max_iter, p)
        if res is not None:
            return res
    return _dense(a_ext, b_ext, cost, barrier, max_iter, p)


def _dense(a_ext, b_ext, cost, barrier, max_iter, p):
    """The extended problem solved by the dense network simplex."""
    from .exact import _solve, _warn

    n, m = cost.shape
    extended = np.zeros((n + 1, m + 1))
    extended[:n, :m] = cost
    extended[n, m] = barrier
    res = _solve(a_ext, b_ext, extended, max_iter, p=p, support=None, warn=False)
    del extended
    plan = res.plan[:n, :m]
    if scipy.sparse.issparse(plan):
        coo = plan.tocoo()
        total = math.fsum((coo.data * cost[coo.row, coo.col]).tolist())
        plan = scipy.sparse.csr_array(plan)
    else:
        plan = np.ascontiguousarray(plan)  # not a view keeping the extended plan alive
        total = math.fsum((plan * cost).ravel().tolist())
    f_ext, g_ext = res.potentials
    res = _wrap(res, plan, total, f_ext, g_ext, n, m, p)
    _warn(res, max_iter, stacklevel=5)
    return res


def _wrap(res, plan, total, f_ext, g_ext, n, m, p):
    """The partial result from the extended one: the real plan, its cost, and the
    potentials ``f = F + G_dummy``, ``g = G + F_dummy`` (clipped at 0: <= 0 up to
    rounding)."""
    f = np.minimum(f_ext[:n] + g_ext[m], 0.0)
    g = np.minimum(g_ext[:m] + f_ext[n], 0.0)
    root = total if p == 1 else max(total, 0.0) ** (1.0 / p)
    return dataclasses.replace(res, cost=total, distance=root, plan=plan, potentials=(f, g))


def _restricted(a_ext, b_ext, cost, barrier, max_iter, p):
    """The extended problem solved on candidate arcs, certified over all pairs (module
    docstring); ``None`` when the certificate fails or a solve stops at ``max_iter``
    (the caller then solves the dense problem)."""
    from ._kernels.network_simplex import OPTIMAL
    from .exact import DENSE_PLAN_MAX
    from .multiscale import certified_solve

    n, m = cost.shape
    ia, ib = np.flatnonzero(a_ext[:n] > 0.0), np.flatnonzero(b_ext[:m] > 0.0)
    sub = cost if ia.size == n and ib.size == m else cost[np.ix_(ia, ib)]
    n1, m1 = sub.shape
    A, B = np.append(a_ext[ia], a_ext[n]), np.append(b_ext[ib], b_ext[m])
    rows, cols, vals = candidate_arcs(sub, A, B, barrier, NEIGHBOURS)
    stats = {"pivots": 0, "solve_s": 0.0, "certify_s": 0.0, "arcs": [], "rounds": []}
    r, c, flows, F, G, _, code, certified = certified_solve(
        A, B, rows, cols, vals, m1 + 1, lambda f, g: violations(sub, f, g),
        lambda i, j: sub[i, j], max_iter, stats, None)
    if code != OPTIMAL or not certified:
        return None
    err = (np.abs(np.bincount(r, flows, minlength=n1 + 1) - A).sum()
           + np.abs(np.bincount(c, flows, minlength=m1 + 1) - B).sum())
    real = (r < n1) & (c < m1) & (flows > 0.0)
    rr, cc, fl = ia[r[real]], ib[c[real]], flows[real]
    total = math.fsum((fl * cost[rr, cc]).tolist())
    if n * m > DENSE_PLAN_MAX:
        plan = scipy.sparse.csr_array((fl, (rr, cc)), shape=(n, m))
    else:
        plan = np.zeros((n, m))
        plan[rr, cc] = fl  # basic arcs: no pair twice
    f_ext, g_ext = np.zeros(n + 1), np.zeros(m + 1)
    f_ext[ia], f_ext[n] = F[:n1], F[n1]
    g_ext[ib], g_ext[m] = G[:m1], G[m1]
    _zero_weight_duals(cost, a_ext, b_ext, f_ext, g_ext)
    res = TransportResult(cost=total, distance=total, plan=plan, potentials=(f_ext, g_ext),
                          converged=True, n_iter=int(stats["pivots"]), status="optimal",
                          marginal_error=float(err), p=float(p))
    return _wrap(res, plan, total, f_ext, g_ext, n, m, p)


def candidate_arcs(cost, A, B, barrier, k):
    """The first arcs of the restricted extended problem, as ``(rows, cols, vals)``
    sorted row-major (key ``row * (m + 1) + col``): the ``k`` cheapest pairs of every
    point of the larger side of ``cost`` (n, m) (of every row when ``n >= m``), and of
    every point of the other side that is among them fewer than ``k // 3`` times; every
    arc to the dummy sink (column ``m``, cost 0) and from the dummy source (row ``n``,
    cost 0; ``barrier`` to the sink); and the support of the north-west corner coupling
    of the extended weights ``A``, ``B`` (so that some coupling exists on these arcs).

    Measured at ``n = m = 1000``: the ``k`` cheapest rows of every column as well cost
    more (a transposed partition) than the rounds of the certificate they save, except
    where ties make the cheapest pairs of the rows crowd on a few columns (integer
    costs): the columns they leave out get theirs."""
    n, m = cost.shape
    if n >= m:
        r, c = _cheapest(cost, k)
        lonely = np.flatnonzero(np.bincount(c, minlength=m) < max(1, k // 3))
        c2, r2 = _cheapest(cost[:, lonely].T, k)
        c2 = lonely[c2]
    else:
        c, r = _cheapest(cost.T, k)
        lonely = np.flatnonzero(np.bincount(r, minlength=n) < max(1, k // 3))
        r2, c2 = _cheapest(cost[lonely], k)
        r2 = lonely[r2]
    width = m + 1
    nw_r, nw_c = _northwest(A, B)
    keys = np.concatenate([r * width + c, r2 * width + c2, np.arange(n) * width + m,
                           n * width + np.arange(m + 1), nw_r * width + nw_c])
    keys = np.unique(keys)
    rows, cols = keys // width, keys % width
    vals = np.zeros(keys.shape[0])
    inner = (rows < n) & (cols < m)
    vals[inner] = cost[rows[inner], cols[inner]]
    vals[-1] = barrier  # the largest key: dummy source -> dummy sink
    return rows, cols, vals


def _cheapest(cost, k):
    """``(rows, cols)`` of the ``k`` cheapest entries of every row of ``cost`` (any
    2-D view; all of them when it has at most ``k`` columns), in blocks of rows: no
    index array of the size of ``cost``."""
    n, m = cost.shape
    if n == 0 or m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = min(k, m)
    step = max(1, 16 * _CHUNK // m)
    rows, cols = [], []
    for lo in range(0, n, step):
        block = np.ascontiguousarray(cost[lo:lo + step])
        near = np.argpartition(block, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(lo, lo + block.shape[0]), k))
        cols.append(near.ravel())
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def _northwest(A, B):
    """Arcs ``(rows, cols)`` of the north-west corner coupling of ``A`` and ``B`` (equal
    totals): the pairs whose intervals of cumulated weight overlap."""
    ca, cb = np.cumsum(A), np.cumsum(B)
    edges = np.union1d(np.union1d(ca, cb), [0.0])
    mid = 0.5 * (edges[:-1] + edges[1:])
    rows = np.minimum(np.searchsorted(ca, mid, side="right"), A.shape[0] - 1)
    cols = np.minimum(np.searchsorted(cb, mid, side="right"), B.shape[0] - 1)
    return rows.astype(np.int64), cols.astype(np.int64)


def violations(cost, f, g, slots=None):
    """The real pairs ``(i, j)`` of ``cost`` (n, m) whose reduced cost ``C_ij - f_i -
    g_j`` violates the dual constraint beyond the certificate's tolerances
    (:data:`divergences.multiscale.CERT_RTOL`, ``CERT_ATOL``), at most ``slots`` per row
    (the most negative; default :data:`SLOTS`), their number and the least reduced cost
    (0 when none): the dense counterpart of :func:`divergences.multiscale.certificate`.
    ``f``, ``g``: the extended potentials (the dummy points' last entries are not used
    here: every arc to or from a dummy point is in the problem)."""
    from .multiscale import CERT_ATOL, CERT_RTOL

    slots = SLOTS if slots is None else slots
    n, m = cost.shape
    fr, gc = f[:n], g[:m]
    atol = CERT_ATOL * (float(np.abs(f).max()) + float(np.abs(g).max()))
    found = []
    step = max(1, _CHUNK // max(m, 1))
    for lo in range(0, n, step):
        shifted = cost[lo:lo + step] - gc
        # rows whose least reduced cost is below -atol (the cheap filter: one pass)
        worse = np.flatnonzero(shifted.min(axis=1) - fr[lo:lo + step] < -atol)
        if worse.size:
            red = shifted[worse] - fr[lo + worse, None]
            i, j = np.nonzero(red < -atol)
            v = red[i, j]
            i = worse[i] + lo
            bad = v < -CERT_RTOL * (np.abs(cost[i, j]) + np.abs(fr[i]) + np.abs(gc[j])) - atol
            found.append((i[bad], j[bad], v[bad]))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0.0
    i, j, v = (np.concatenate(x) for x in zip(*found, strict=True))
    order = np.lexsort((v, i))
    i, j, v = i[order], j[order], v[order]
    keep = np.arange(i.shape[0]) - np.searchsorted(i, i) < slots
    return (i[keep].astype(np.int64), j[keep].astype(np.int64), int(i.shape[0]),
            float(v.min(initial=0.0)))


def _zero_weight_duals(cost, a_ext, b_ext, f_ext, g_ext):
    """Potentials of the zero-weight real rows and columns of the extended problem, in
    place, as :func:`divergences._kernels.transport_lp.complete_duals` gives them on the
    dense extended cost: rows, the least ``C_ij - g_j`` over the columns of positive
    weight (the dummy sink's cost is 0); then columns, the least ``C_ij - f_i`` over all
    rows (the dummy source's cost is 0)."""
    n, m = cost.shape
    zr, zc = np.flatnonzero(a_ext[:n] == 0.0), np.flatnonzero(b_ext[:m] == 0.0)
    if zr.size:
        pos = np.flatnonzero(b_ext[:m] > 0.0)
        best = (cost[np.ix_(zr, pos)] - g_ext[pos]).min(axis=1, initial=np.inf)
        f_ext[zr] = np.minimum(best, -g_ext[m]) if b_ext[m] > 0.0 else best
    if zc.size:
        best = (cost[:, zc] - f_ext[:n, None]).min(axis=0)
        g_ext[zc] = np.minimum(best, -f_ext[n])


def _transport_partial(x, y, a, b, p, metric, method, reg, mass, options):
    """:func:`divergences.transport` with ``mass=``: partial transport between point sets,
    weights as given (default ``1/n`` each, total mass 1 on each side), exact solver."""
    from ._kernels.cost import MINKOWSKI
    from ._metrics import ground_costs

    x, y, a, b = check_point_sets(x, y, a, b)
    p = check_p(p)
    code = metric_code(metric)
    method = check_choice(method, "method", ("auto", "closed_form", "exact", "sinkhorn"))
    if method not in ("auto", "exact") or reg is not None:
        raise ValueError(f"mass= (partial transport) is solved exactly: use method='exact' "
                         f"(or 'auto') without reg, not method={method!r}")
    q = check_minkowski_order(options.pop("q", None), code == MINKOWSKI)
    max_iter = check_positive_int(options.pop("max_iter", 10_000_000), "max_iter")
    check_no_options(options, "exact")
    cost = ground_costs(x, y, code, q, p)
    return _emd_partial(a, b, cost, mass, max_iter, p=p)
