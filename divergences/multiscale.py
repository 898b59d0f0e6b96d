r"""Exact transport between large point sets: a sparse multiscale network simplex with a
certificate of global optimality.

:func:`transport_multiscale` solves the same linear program as :func:`divergences.emd` on
the cost :math:`C_{ij} = d(x_i, y_j)^p`, without forming :math:`C`:

1. **coarsen**: both measures are grouped in the cells of a dyadic grid over their
   common bounding cube (pixel blocks of ``2^d`` for histograms on grids), level by level
   (:mod:`divergences._hierarchy`); a cell is a point at the barycentre of its points,
   with their total mass;
2. **coarsest level**: the dense network simplex on a few hundred cells;
3. **refine**: the candidate arcs of the next level are the pairs of children of the
   arcs of the coarse basis, widened to the neighbouring cells of each target cell (the
   shielding/shortcut idea of Schmitzer 2016 and Gerber & Maggioni 2017); the network
   simplex on these arcs only;
4. **certify**: the potentials :math:`(f, g)` of that sparse optimum are optimal for the
   dense problem iff :math:`C_{ij} - f_i - g_j \ge 0` for *all* pairs; this is checked on
   the fly, in parallel, with bounding boxes of blocks of points pruning most pairs
   (:mod:`divergences._kernels.certificate`); the most violated pairs of each row join
   the arcs and the simplex restarts from its last basis, until none is violated.

The answer at the finest level (the points) is therefore the exact optimum, certified:
``status == "optimal"`` only when no pair violates the dual constraints (beyond
:data:`CERT_RTOL` of the terms). Memory is :math:`O(n + m + \text{arcs})`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import scipy.sparse

from ._hierarchy import (
    COARSE_CELLS,
    Hierarchy,
    block_level,
    cell_coordinates,
    choose_levels,
    finest_bits,
)
from ._kernels.certificate import c_transform, violated_pairs
from ._kernels.cost import MINKOWSKI, SQEUCLIDEAN
from ._kernels.network_simplex import INFEASIBLE, OPTIMAL
from ._kernels.sparse_lp import solve_sparse_transport
from ._kernels.transport_lp import solve_transport
from ._metrics import ground_costs, pair_costs
from ._refine import children_pairs, dilate, split_plan
from ._scaling import half_range, power_of_two_scale
from ._validation import check_minkowski_order, check_no_options, check_positive_int
from ._warnings import ConvergenceWarning
from .exact import DENSE_PLAN_MAX, MAX_ITER_DEFAULT, _scaled_back
from .result import TransportResult

#: tolerances of the certificate: a pair violates it when its reduced cost is below
#: ``-CERT_RTOL (|C_ij| + |f_i| + |g_j|) - CERT_ATOL (max |f| + max |g|)`` (the pricing of
#: the simplex uses 1e-13 of the first term; the potentials, recomputed along the tree
#: at the end, carry rounding of the order of the largest one times 1e-16 per arc)
CERT_RTOL = 1e-12
CERT_ATOL = 1e-13
#: violations left only on arcs already in the problem (the rounding of the simplex) are
#: accepted when the gap they allow, at most their size, is below this fraction of the cost
GAP_RTOL = 1e-10
#: violated pairs added per row and round (the most negative ones)
SLOTS = 8
#: rounds of certificate and re-solve per level before giving up (status "uncertified")
MAX_ROUNDS = 100
#: the support of a coarse plan is widened by this many cells per axis before refining
RADIUS = 1
#: target number of points per block of the certificate, as ``(n / 4) ** (1/3)`` clipped
_BLOCK_RANGE = (8.0, 64.0)


def transport_multiscale(x, y, a, b, p, metric, q, max_iter, *, coords=None, stats=None,
                         coarse=COARSE_CELLS, lipschitz=False):
    """Exact optimal transport between ``x`` (n, d) and ``y`` (m, d) with weights ``a``,
    ``b`` (normalised, zeros allowed) and costs ``d(x_i, y_j) ** p`` (metric code
    ``metric``, Minkowski order ``q``); module docstring.

    ``coords``: ``(cx, cy, bits)`` integer cell coordinates of the points at the finest
    level (grids of pixels), or ``None`` (a grid over the bounding cube). ``stats``: a
    dict that receives the time spent per phase and the counts of levels, arcs, rounds.
    ``coarse``: cells per measure at the coarsest level (solved dense).
    ``lipschitz``: ``x`` and ``y`` are the same points, ``a`` and ``b`` the positive and
    negative parts of a difference of measures, ``p = 1`` and the cost a metric; the
    potentials are then ``F`` (``f`` on the support of ``a``, its c-transform elsewhere:
    1-Lipschitz) and ``G = -F`` (Kantorovich-Rubinstein), feasible for every pair of
    points, so also for the problem between the measures themselves.
    Returns a :class:`TransportResult` with a ``csr_array`` plan of shape ``(n, m)``.
    """
    stats = {} if stats is None else stats
    for key in ("coarse_s", "refine_s", "solve_s", "certify_s", "finish_s"):
        stats[key] = 0.0
    stats.update(levels=[], arcs=[], rounds=[], pivots=0)
    t0 = time.perf_counter()
    ia, ib = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    d = x.shape[1]
    if coords is None:
        bits = finest_bits(max(ia.size, ib.size), d)
        cx, cy = cell_coordinates(x, y, bits)
    else:
        cx, cy, bits = coords
    hx = Hierarchy(x[ia], a[ia], cx[ia], bits)
    hy = Hierarchy(y[ib], b[ib], cy[ib], bits)
    levels = choose_levels(hx, hy, coarse)
    stats["levels"] = [hx.count(lv) + hy.count(lv) for lv in levels]
    geo = (metric, q, p)
    level = levels[0]
    sx, sy = hx.starts(level), hy.starts(level)
    X, A = hx.cells(level, sx)
    Y, B = hy.cells(level, sy)
    r, c, flows, f, g, total, code, n_iter, _, _ = solve_transport(
        _dense_costs(X, Y, geo), A, B, max_iter)
    stats["pivots"] += n_iter
    stats["coarse_s"] += time.perf_counter() - t0
    certified = code == OPTIMAL
    for fine in levels[1:]:
        t1 = time.perf_counter()
        fx, fy = hx.starts(fine), hy.starts(fine)
        xchild = np.searchsorted(fx, sx).astype(np.int64)
        ychild = np.searchsorted(fy, sy).astype(np.int64)
        rows, cols = _refine(hy, level, sy, r, c, xchild, ychild)
        X, A = hx.cells(fine, fx)
        Y, B = hy.cells(fine, fy)
        vals = pair_costs(X, Y, rows, cols, metric, q, p)
        start = _warm_start(r, c, flows, xchild, ychild, A, B, rows * Y.shape[0] + cols)
        stats["refine_s"] += time.perf_counter() - t1
        blocks = _blocks(hx, fine, fx), _blocks(hy, fine, fy)
        out = certified_solve(
            A, B, rows, cols, vals, Y.shape[0],
            lambda f, g, X=X, Y=Y, blocks=blocks: certificate(X, Y, f, g, geo, blocks),
            lambda r, c, X=X, Y=Y: _pair_costs(X, Y, r, c, geo), max_iter, stats, start)
        r, c, flows, f, g, total, code, certified = out
        level, sx, sy = fine, fx, fy
    t2 = time.perf_counter()
    F, G = _potentials(x, a, ia, hx, cx, f, y, b, ib, hy, g, geo, lipschitz)
    res = _result(a, b, ia, ib, hx, hy, r, c, flows, F, G, total, code, certified,
                  stats["pivots"], geo, max_iter)
    stats["finish_s"] += time.perf_counter() - t2
    stats["total_s"] = time.perf_counter() - t0
    return res


#: ``method="exact"`` and ``"auto"`` use the multiscale solver when the dense cost
#: matrix between the points of positive weight would have more entries than this (and
#: ``d <= 3``). Measured (uniform clouds, d = 2 and 3, p = 1 and 2, loaded 2-core
#: machine): the two break even near n = m = 700; at 1000 the multiscale solver is
#: 1.5-2.5x faster, at 2000 3.3-9.5x, at 3000 4-8x; the dense cost matrix alone takes
#: 8 MB at this threshold and grows as n m, the multiscale solver's memory as n + m.
AUTO_ENTRIES = 1000 * 1000
#: ... and only in dimensions up to this (cells of a dyadic grid: 2^d children each)
AUTO_MAX_DIM = 3


def prefers_multiscale(a, b, d):
    """Whether ``method="exact"``/``"auto"`` should use the multiscale solver."""
    return (d <= AUTO_MAX_DIM
            and np.count_nonzero(a) * np.count_nonzero(b) > AUTO_ENTRIES)


def _transport_multiscale(x, y, a, b, p, metric_code, *, q=None,
                          max_iter=MAX_ITER_DEFAULT, coords=None, dense_plan=False,
                          support=True, lipschitz=False, **options):
    """:func:`divergences.transport` with ``method="multiscale"``: validated inputs
    (``a``, ``b`` normalised); options ``q`` (Minkowski order) and ``max_iter`` (pivots
    per sparse solve). Points whose distances (or their power) would overflow or
    underflow are divided by a power of two first (exact) and the results scaled back.
    ``coords``: cell coordinates of grid points (:func:`transport_multiscale`);
    ``dense_plan``: a dense ndarray plan up to ``DENSE_PLAN_MAX`` entries, as
    ``method="exact"`` gives; ``support``: keep the points for ``result.critic``;
    ``lipschitz``: as in :func:`transport_multiscale`."""
    check_no_options(options, "multiscale")
    max_iter = check_positive_int(max_iter, "max_iter")
    q = check_minkowski_order(q, metric_code == MINKOWSKI)
    exponent = 2.0 * p if metric_code == SQEUCLIDEAN else p
    scale = power_of_two_scale(half_range(x, y), exponent, x.shape[1])
    xs, ys = (x, y) if scale == 1.0 else (x / scale, y / scale)
    res = transport_multiscale(xs, ys, a, b, p, metric_code, q, max_iter, coords=coords,
                               lipschitz=lipschitz)
    res = _scaled_back(res, float(np.log2(scale)) * exponent)
    plan = res.plan
    if dense_plan and a.shape[0] * b.shape[0] <= DENSE_PLAN_MAX:
        plan = plan.toarray()
    return dataclasses.replace(res, plan=plan,
                               _support=(x, y, metric_code, q) if support else None)


def _dense_costs(X, Y, geo):
    metric, q, p = geo
    return ground_costs(X, Y, metric, q, p)


def _pair_costs(X, Y, r, c, geo):
    return pair_costs(X, Y, r, c, geo[0], geo[1], geo[2])


def _refine(hy, level, sy, r, c, xchild, ychild):
    """Candidate arcs at the next level from the basis arcs ``(r, c)`` at ``level``
    (target cells: runs ``sy``): support widened by :data:`RADIUS` target cells, then
    all pairs of children (``xchild``, ``ychild``: children runs); sorted row-major,
    unique."""
    r = np.ascontiguousarray(r, np.int64)
    c = np.ascontiguousarray(c, np.int64)
    if RADIUS and level is not None:
        ycoords, ykeys = hy.lattice(level, sy)
        r, c = dilate(r, c, ycoords, ykeys, level, RADIUS)
    ny = sy.shape[0] - 1
    keys = _sorted_unique(r * ny + c)
    r, c = keys // ny, keys % ny
    return children_pairs(r, c, xchild, ychild)


def _sorted_unique(v):
    """The distinct values of the int64 array ``v``, sorted (by sorting: NumPy's hash
    based ``unique`` is several times slower on these keys)."""
    v = np.sort(v)
    return v[np.concatenate([[True], v[1:] != v[:-1]])] if v.size else v


def _warm_start(r, c, flows, xchild, ychild, A, B, keys):
    """The first basis of the next level: the support of the coupling that
    :func:`split_plan` makes from the coarse one (as indices into the arcs of sorted
    ``keys``), largest amounts first."""
    keep = flows > 0
    r, c, flows = r[keep], c[keep], flows[keep]
    order = np.lexsort((c, r))
    r, c = np.ascontiguousarray(r[order], np.int64), np.ascontiguousarray(c[order], np.int64)
    by_col = np.argsort(c, kind="stable").astype(np.int64)
    wr, wc, amt = split_plan(r, c, np.ascontiguousarray(flows[order]), by_col, xchild, ychild,
                             A, B)
    m = ychild[-1]
    pos = np.searchsorted(keys, wr * m + wc)
    return pos[np.argsort(-amt, kind="stable")].astype(np.int64)


def _blocks(h, level, starts):
    """Block boundaries (in the cells of ``level``) for the certificate: cells of a
    coarser level holding about ``(n / 4) ** (1/3)`` of them (clipped to
    :data:`_BLOCK_RANGE`)."""
    n = starts.shape[0] - 1
    target = min(max((n / 4.0) ** (1.0 / 3.0), _BLOCK_RANGE[0]), _BLOCK_RANGE[1])
    coarse = h.starts(block_level(h, level, target))
    return np.searchsorted(starts, coarse).astype(np.int64)


def _box_bounds(P, pot, bounds):
    lo = np.minimum.reduceat(P, bounds[:-1], axis=0)
    hi = np.maximum.reduceat(P, bounds[:-1], axis=0)
    top = np.maximum.reduceat(pot, bounds[:-1])
    return np.ascontiguousarray(lo), np.ascontiguousarray(hi), top


def certificate(X, Y, f, g, geo, blocks, slots=None, rtol=CERT_RTOL, atol=CERT_ATOL):
    """Pairs ``(i, j)`` whose reduced cost ``C_ij - f_i - g_j`` violates the dual
    constraint (at most ``slots`` per row, the most negative), their total number and
    the least reduced cost (0 when none)."""
    slots = SLOTS if slots is None else slots
    xb, yb = blocks
    xlo, xhi, fmax = _box_bounds(X, f, xb)
    ylo, yhi, gmax = _box_bounds(Y, g, yb)
    best_j = np.full((X.shape[0], slots), -1, np.int64)
    best_r = np.zeros((X.shape[0], slots))
    counts = np.zeros(xb.shape[0] - 1, np.int64)
    lowest = np.zeros(xb.shape[0] - 1)
    metric, q, p = geo
    scale = (float(np.abs(f).max()) if f.size else 0.0) + (float(np.abs(g).max()) if g.size
                                                          else 0.0)
    violated_pairs(X, Y, f, g, xb, yb, xlo, xhi, ylo, yhi, fmax, gmax, metric, q, p, rtol,
                   atol * scale, best_j, best_r, counts, lowest)
    hit = best_j >= 0
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), slots)[hit.reshape(-1)]
    return rows, best_j[hit], int(counts.sum()), float(lowest.min(initial=0.0))


def certified_solve(A, B, rows, cols, vals, width, violations, pair_costs, max_iter, stats,
                    start):
    """The network simplex on the arcs ``(rows, cols, vals)`` (sorted row-major by the key
    ``rows * width + cols``, unique) from the basis of the arcs ``start`` (or ``None``),
    then rounds of certificate and warm re-solve with the violated pairs added, until
    none is left. ``violations(f, g)`` gives the violated pairs ``(rows, cols)``, their
    count and the least reduced cost (:func:`certificate`); ``pair_costs(rows, cols)``
    their costs. Used by :func:`transport_multiscale` and by partial transport
    (:mod:`divergences.partial`). Returns ``(r, c, flows, f, g, total, code,
    certified)``."""
    m = width
    for rounds in range(1, MAX_ROUNDS + 1):
        t0 = time.perf_counter()
        # the first solve prices the arcs row by row (each block: the arcs of a few rows,
        # from a coupling split from the coarse one); a re-solve has its negative reduced
        # costs on a few rows' new arcs: scattered pricing finds them ~10x sooner
        code, out = solve_sparse_transport(rows, cols, vals, A, B, max_iter, start,
                                           scatter=rounds > 1)
        if code == INFEASIBLE:  # cannot happen: the callers' arcs hold a coupling
            raise RuntimeError("certified_solve: the candidate arcs admit no coupling")
        r, c, flows, f, g, total, n_iter, _, _ = out
        stats["pivots"] += n_iter
        t1 = time.perf_counter()
        stats["solve_s"] += t1 - t0
        if code != OPTIMAL:
            break
        new_r, new_c, count, low = violations(f, g)
        stats["certify_s"] += time.perf_counter() - t1
        keys = rows * m + cols
        add = _sorted_unique(new_r * m + new_c)
        pos = np.searchsorted(keys, add)
        fresh = (pos == keys.shape[0]) | (keys[np.minimum(pos, keys.shape[0] - 1)] != add)
        add, pos = add[fresh], pos[fresh]
        # none violated; or only arcs the simplex priced non-negative, by less than the
        # gap allowed (the cost is then within -low of the optimum)
        if count == 0 or (add.size == 0 and -low <= GAP_RTOL * abs(total)):
            stats["arcs"].append(rows.shape[0])
            stats["rounds"].append(rounds)
            return r, c, flows, f, g, total, code, True
        if add.size == 0:
            break
        merged = np.insert(keys, pos, add)
        vals = np.insert(vals, pos, pair_costs(add // m, add % m))
        rows, cols = merged // m, merged % m
        start = np.searchsorted(merged, r * m + c).astype(np.int64)
    stats["arcs"].append(rows.shape[0])
    stats["rounds"].append(rounds)
    return r, c, flows, f, g, total, code, False


def _potentials(x, a, ia, hx, cx, f, y, b, ib, hy, g, geo, lipschitz=False):
    r"""Potentials on every point in the original numbering: ``f``, ``g`` on the
    supports (sorted as in ``hx``, ``hy``); zero weights get the largest feasible ones,
    ``f_i = min_j (C_ij - g_j)`` over the support of ``b``, then ``g_j = min_i (C_ij -
    f_i)`` over all rows (c-transforms pruned by blocks, as the certificate).

    With ``lipschitz`` (see :func:`transport_multiscale`), ``F`` is
    :math:`\varphi(z) = \min_j (d(z, y_j) - g_j)`, 1-Lipschitz, and ``G = -F``: on
    the support of ``a``, :math:`\varphi = f` and on that of ``b``, :math:`\varphi =
    -g` (each point has a plan arc where its dual constraint is tight, and ``f``, ``g``
    are feasible on all pairs: certified), so only the points of neither support need
    the c-transform."""
    F = np.zeros(a.shape[0])
    G = np.zeros(b.shape[0])
    F[ia[hx.order]] = f
    G[ib[hy.order]] = g
    if lipschitz:
        F[ib[hy.order]] = -g
        rest = np.flatnonzero((a == 0) & (b == 0))
        if rest.size:
            F[rest] = _c_transform(x[rest], hy, g, geo)
        return F, -F
    za, zb = np.flatnonzero(a == 0), np.flatnonzero(b == 0)
    if za.size:
        F[za] = _c_transform(x[za], hy, g, geo)
    if zb.size:
        every = Hierarchy(x, np.ones(a.shape[0]), cx, hx.bits)
        F_sorted = F[every.order]
        G[zb] = _c_transform(y[zb], every, F_sorted, geo)
    return F, G


def _c_transform(P, h, pot, geo):
    """``min_j (C(P_i, h_j) - pot_j)`` for each row of ``P``; ``h`` a :class:`Hierarchy`
    (its points sorted), ``pot`` on its sorted points."""
    starts = h.starts(None)
    yb = _blocks(h, None, starts)
    lo, hi, top = _box_bounds(h.pts, pot, yb)
    out = np.empty(P.shape[0])
    metric, q, p = geo
    c_transform(np.ascontiguousarray(P), h.pts, np.ascontiguousarray(pot), yb, lo, hi, top,
                metric, q, p, np.empty(P.shape[1]), np.zeros(P.shape[1]), out)
    return out


def _result(a, b, ia, ib, hx, hy, r, c, flows, F, G, total, code, certified, n_iter, geo,
            max_iter):
    """The :class:`TransportResult` in the original numbering: plan, potentials ``F``,
    ``G`` (:func:`_potentials`), status."""
    n, m = a.shape[0], b.shape[0]
    keep = flows > 0
    rows = ia[hx.order[r[keep]]]
    cols = ib[hy.order[c[keep]]]
    plan = scipy.sparse.csr_array((flows[keep], (rows, cols)), shape=(n, m))
    p = geo[2]
    err = (np.abs(np.bincount(rows, flows[keep], minlength=n) - a).sum()
           + np.abs(np.bincount(cols, flows[keep], minlength=m) - b).sum())
    if code != OPTIMAL:
        status = "max_iter"
    else:
        status = "optimal" if certified else "uncertified"
    if status != "optimal":
        warnings.warn(_MESSAGES[status].format(max_iter=max_iter, rounds=MAX_ROUNDS),
                      ConvergenceWarning, stacklevel=4)
    shift = 0.5 * (a @ F - b @ G)
    total = float(total)
    root = total if p == 1 else max(total, 0.0) ** (1.0 / p)
    return TransportResult(cost=total, distance=root, plan=plan,
                           potentials=(F - shift, G + shift), converged=status == "optimal",
                           n_iter=int(n_iter), status=status, marginal_error=float(err),
                           p=float(p))


_MESSAGES = {
    "max_iter": "multiscale: the network simplex stopped after max_iter={max_iter} pivots "
                "at one level; the plan is not optimal. Raise max_iter.",
    "uncertified": "multiscale: the plan is optimal on the arcs considered but the dual "
                   "certificate over all pairs still fails after {rounds} rounds (or only "
                   "within the rounding of the costs); its cost may exceed the optimum. "
                   "Use method='exact' (dense) to compare.",
}
