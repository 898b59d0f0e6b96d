r"""Exact optimal transport: the transportation LP solved by a network simplex.

:func:`emd` solves the LP for any cost matrix; :func:`divergences.transport` and
:func:`divergences.wasserstein` call :func:`_transport_exact` for points in
:math:`\mathbb{R}^d` (``method="exact"``, or ``"auto"`` with ``d > 1``).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike

from ._foreign_names import foreign_name_hints
from ._kernels.cost import MINKOWSKI, SQEUCLIDEAN
from ._kernels.network_simplex import MAX_ITER, OPTIMAL
from ._kernels.transport_lp import dual_violation, solve_transport
from ._metrics import ground_costs
from ._scaling import (
    half_range,
    normalise,
    power_of_two_scale,
    times_two_to,
    unscale,
    unscale_potentials,
)
from ._validation import (
    check_cost,
    check_minkowski_order,
    check_no_options,
    check_positive_int,
    check_weight_vector,
)
from ._validation_sparse import check_init, check_sparse_cost
from ._warnings import ConvergenceWarning
from .exact_sparse import solve_sparse, start_arcs, start_pairs
from .result import TransportResult

__all__ = ["emd"]

#: plans with more entries than this are returned as ``scipy.sparse.csr_array``
DENSE_PLAN_MAX = 2**24
#: default pivot limit of the network simplex
MAX_ITER_DEFAULT = 10_000_000
_STATUS = {OPTIMAL: "optimal", MAX_ITER: "max_iter"}
#: costs larger than this in magnitude are rescaled (potentials can reach a few times it)
HUGE_COST = 2.0**1000
_INT64_MAX = 2**63 - 1
#: a certificate coarser than this fraction of the cost makes an "optimal" basis "imprecise"
IMPRECISE_GAP = 1e-6
EPS = float(np.finfo(np.float64).eps)
_WARNINGS = {
    "max_iter": "emd: the network simplex stopped after max_iter={max_iter} pivots before "
                "reaching the optimum; the plan is a feasible coupling but not optimal. "
                "Raise max_iter.",
    "imprecise": "emd: the final basis is optimal only up to float64 rounding of the "
                 "largest costs, which here exceeds 1e-6 of the optimal cost: the costs "
                 "span too many orders of magnitude (e.g. d**p with a large p). Use "
                 "method='closed_form' for 1-D data, a smaller p, or compress the costs.",
    "infeasible": "emd: the network simplex found no blocking arc (unbounded pivot); the "
                  "result is not optimal. Please report this problem with its input.",
}


@foreign_name_hints
def emd(a: ArrayLike, b: ArrayLike, cost: Any, *, max_iter: int = MAX_ITER_DEFAULT,
        mass: float | None = None, init: Any = None) -> TransportResult:
    r"""Exact optimal transport for a cost matrix (earth mover's distance), by network simplex.

    Solves the transportation linear program

    .. math:: \min_{\gamma \ge 0} \sum_{ij} \gamma_{ij} C_{ij}
              \quad\text{s.t.}\quad \gamma 1 = a,\ \gamma^T 1 = b,

    and its dual :math:`\max \sum_i a_i f_i + \sum_j b_j g_j` subject to
    :math:`f_i + g_j \le C_{ij}`, with a primal network simplex (spanning-tree bases,
    block-search pricing, Cunningham's strongly feasible leaving-arc rule) compiled with
    numba.

    Parameters
    ----------
    a, b : array_like, shape (n,) and (m,)
        Non-negative weights, or counts: each is divided by its sum, so only the
        proportions matter. Zeros are allowed (those rows/columns carry no mass).
    cost : array_like or scipy.sparse array/matrix, shape (n, m)
        Finite ground costs; any sign, rectangular problems are fine. A ``scipy.sparse``
        cost (any format) allows only its stored entries as arcs: the plan is zero
        elsewhere, and a stored 0 is an arc of cost 0 (duplicate entries are summed, as
        SciPy does).
    max_iter : int, default 10_000_000
        Maximum number of simplex pivots.
    mass : float, optional
        Partial transport: move exactly this mass, ``0 < mass <= min(sum(a), sum(b))``,
        at least cost (rows and columns need not be exhausted). ``a`` and ``b`` are then
        used as given, not normalised. See the Notes.
    init : TransportResult, plan or (f, g), optional
        Warm start from a related problem (other weights, costs or arcs of the same
        shape): a plan (dense or sparse, shape (n, m)) whose support, largest entries
        first, seeds the first basis; or potentials ``(f, g)``, whose tight arcs
        (reduced cost :math:`C_{ij} - f_i - g_j` within ``1e-9`` of the scale) and the
        least reduced cost of every row and column seed it; or a ``TransportResult``
        (its plan). Arcs that the new weights cannot use are dropped, so any ``init``
        gives the same optimal cost; a good one saves pivots.

    Returns
    -------
    TransportResult
        ``plan`` (a basic optimal coupling with at most ``n + m - 1`` non-zeros: a dense
        ndarray, or ``scipy.sparse.csr_array`` when ``n * m > 2**24``), ``cost`` and
        ``distance`` (both :math:`\sum \gamma_{ij} C_{ij}`), ``potentials`` ``(f, g)``,
        feasible on every pair (zero-weight rows and columns included; on every stored
        entry for a sparse cost, whose plan is always a ``csr_array``) and with
        :math:`\sum a f + \sum b g` equal to ``cost`` at the optimum, centred so that
        :math:`\sum a f = \sum b g`; ``status`` ``"optimal"``, ``"max_iter"`` or
        ``"imprecise"``, ``converged``, ``n_iter`` (pivots) and ``marginal_error``.

    Raises
    ------
    ValueError
        For a sparse ``cost`` on whose stored entries no coupling of ``a`` and ``b``
        exists (e.g. a row of positive weight without stored entries).

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` pivots were not enough. The returned plan is then the current
        basic flow with the mass not yet routed spread proportionally (still a coupling
        of ``a`` and ``b``, not an optimal one), and ``converged`` is False.
    ConvergenceWarning
        When the final basis cannot be certified optimal to ``1e-6`` of the cost: the
        potentials violate :math:`f_i + g_j \le C_{ij}` by more than that, because the
        costs span too many orders of magnitude for float64 (e.g. ``d**p`` with ``p``
        near 100). ``status`` is then ``"imprecise"`` and ``converged`` False.

    See Also
    --------
    transport : exact transport between point sets (costs from a metric).
    sinkhorn : the entropic (regularised) problem on a cost matrix.
    wasserstein_grid : exact transport between histograms on a regular grid.

    Notes
    -----
    Conventions for zeros: a zero weight removes its row or column from the graph; its
    potential is the largest feasible one, :math:`f_i = \min_j (C_{ij} - g_j)` (and then
    :math:`g_j = \min_i (C_{ij} - f_i)` for columns). The flows of the final basis are
    recomputed from ``a`` and ``b`` (differences of weights), so the marginals hold to
    rounding; the potentials are recomputed along the final tree.
    Costs beyond ``2**1000`` in magnitude are divided by a power of two before the solve
    (exact) and the results multiplied back; potentials that do not fit in float64 then
    come back as ``+-inf`` (never ``nan``).
    The pivots run in blocks of about 0.05 s that return to the interpreter, so Ctrl-C
    (SIGINT) stops a long solve with ``KeyboardInterrupt`` within a fraction of a second.

    Partial transport (``mass=m``) solves

    .. math:: \min_{\gamma \ge 0} \sum_{ij}\gamma_{ij} C_{ij} \quad\text{s.t.}\quad
              \gamma 1 \le a,\ \gamma^T 1 \le b,\ 1^T\gamma 1 = m

    exactly, with this network simplex on the problem extended by one dummy point on each
    side (:mod:`divergences.partial`); from 20,000 pairs on, first on candidate arcs
    (the cheapest pairs of each point and every dummy arc), then certified optimal over
    all pairs, violated pairs added until none is left (``n_iter`` counts the pivots of
    every round). ``plan`` is the coupling between the real points
    (its total is ``m``), ``cost`` :math:`\sum\gamma_{ij} C_{ij}`, ``marginal_error``
    that of the extended problem. ``potentials`` ``(f, g)`` solve the dual
    :math:`\max \sum a f + \sum b g + m\lambda` subject to :math:`f \le 0`,
    :math:`g \le 0`, :math:`f_i + g_j + \lambda \le C_{ij}`, where
    :math:`\lambda = \min_{ij}(C_{ij} - f_i - g_j)` is the price of one more unit of
    mass: ``cost`` :math:`= \sum a f + \sum b g + m \lambda` at the optimum,
    :math:`f_i` is the derivative of the optimal cost in :math:`a_i` (zero where row
    ``i`` keeps some mass), :math:`\lambda` its derivative in ``m``.

    References
    ----------
    .. [1] R. K. Ahuja, T. L. Magnanti, J. B. Orlin, *Network Flows*, ch. 11, 1993.
    .. [2] D. J. Kelly, G. M. O'Neill, *The minimum cost flow problem and the network
       simplex solution method*, 1991.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import emd
    >>> res = emd([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])
    >>> float(res.cost), res.status
    (0.0, 'optimal')
    >>> res.plan
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> float(emd([1, 1], [2, 0, 2], [[4.0, 0.0, 2.0], [1.0, 0.0, 3.0]]).cost)
    1.5

    On a sparse cost only the stored entries may carry mass (here not ``(1, 1)``):

    >>> import scipy.sparse
    >>> arcs = scipy.sparse.coo_array(([0.0, 1.0, 0.0], ([0, 0, 1], [0, 1, 0])), shape=(2, 2))
    >>> res = emd([0.5, 0.5], [0.5, 0.5], arcs)
    >>> res.plan.toarray(), float(res.cost)
    (array([[0. , 0.5],
           [0.5, 0. ]]), 0.5)
    >>> emd([0.5, 0.5], [0.5, 0.5], scipy.sparse.csr_array([[0.0, 1.0], [0.0, 0.0]]))
    Traceback (most recent call last):
    ...
    ValueError: cost: no coupling of a and b exists on the stored entries of the sparse ...
    """
    a = check_weight_vector(a, "a")
    b = check_weight_vector(b, "b")
    max_iter = check_positive_int(max_iter, "max_iter")
    if mass is not None:  # partial transport: the same solver on an extended problem
        from .partial import _emd_partial

        if scipy.sparse.issparse(cost) or init is not None:
            raise ValueError("mass: partial transport takes a dense cost and no init "
                             "(sparse arcs and warm starts are for the balanced problem)")
        return _emd_partial(a, b, check_cost(cost, a.shape[0], b.shape[0]), mass, max_iter)
    n, m = a.shape[0], b.shape[0]
    if scipy.sparse.issparse(cost):
        rows, cols, vals = check_sparse_cost(cost, n, m)
        start = start_arcs(check_init(init, n, m), rows, cols, vals, m)
        return solve_sparse(normalise(a), normalise(b), rows, cols, vals, (n, m), max_iter,
                            start)
    cost = check_cost(cost, n, m)
    start = start_pairs(check_init(init, n, m), cost)
    return _solve(normalise(a), normalise(b), cost, max_iter, p=1.0, support=None,
                  start=start)


def _transport_exact(x, y, a, b, p, metric_code, *, q=None, max_iter=MAX_ITER_DEFAULT,
                     **options):
    """Exact W_p between point sets ``x`` (n, d), ``y`` (m, d); ``a``, ``b`` normalised.

    Builds ``C = d(x_i, y_j) ** p`` with SciPy's ``cdist`` and solves it with :func:`emd`'s
    network simplex. Options: ``q`` (order of ``metric="minkowski"``, default 2, >= 1)
    and ``max_iter``. Points whose distances (or their power ``p``) would overflow or
    underflow are divided by a power of two first, which is exact; cost, distance and
    potentials are scaled back. When the optimal cost underflows in those units, or is
    below :data:`RELATIVE_COST` of the largest cost (distances of the plan far below the
    range of the points, large ``p``), the problem is solved again in the units of the
    plan's largest distance (:func:`_resolve`). The
    result keeps ``(x, y, metric_code, q)`` in ``_support`` so that
    ``result.critic(points)`` works (for ``p = 1``).
    """
    check_no_options(options, "exact")
    max_iter = check_positive_int(max_iter, "max_iter")
    q = check_minkowski_order(q, metric_code == MINKOWSKI)
    exponent = 2.0 * p if metric_code == SQEUCLIDEAN else p
    scale = power_of_two_scale(half_range(x, y), exponent, x.shape[1])
    xs, ys = (x, y) if scale == 1.0 else (x / scale, y / scale)
    cost = ground_costs(xs, ys, metric_code, q, p)
    support = (x, y, metric_code, q)
    res = _solve(a, b, cost, max_iter, p=p, support=support, warn=False)
    small = max(UNDERFLOW_COST, RELATIVE_COST * float(cost.max()))
    del cost
    log2_factor = float(np.log2(scale)) * exponent  # exact: scale is a power of two
    if res.status in ("optimal", "imprecise") and 0.0 <= res.cost < small:
        res, log2_top = _resolve(res, a, b, ground_costs(xs, ys, metric_code, q, 1.0), p,
                                 max_iter, support)
        log2_factor += log2_top
    res = _scaled_back(res, log2_factor)
    _warn(res, max_iter, stacklevel=5)
    return res




#: a cost below this (in units where the largest cost is at most about 1, or 2^960)
#: may have lost terms to underflow; the problem is then solved again (:func:`_resolve`).
UNDERFLOW_COST = 2.0**-900
#: an optimal cost below this fraction of the largest cost is not resolved by the pricing
#: (reduced costs are compared to ~1e-13 of the potentials, which reach the largest
#: costs): ``d^31`` for distances 0, 1 and 11 gave 0.4 for a true 0. Solved again.
RELATIVE_COST = 2.0**-30
#: costs above this many times the largest cost of the current plan are capped in
#: :func:`_resolve`: potentials stay within ~N CAP, so reduced costs keep ~2^-32 N
#: absolute accuracy next to the plan's costs of order 1.
_CAP = 2.0**20
#: at most this many solves in the units of the plan's largest distance.
_RESOLVES = 4


def _used(plan):
    """Mask (dense) or ``(rows, cols)`` (sparse) of the plan's arcs with positive flow."""
    if scipy.sparse.issparse(plan):
        coo = plan.tocoo()
        keep = coo.data > 0
        return coo.row[keep], coo.col[keep]
    return plan > 0


def _resolve(res, a, b, dist, p, max_iter, support):
    """Solve again with the costs ``(d_ij / top)^p``, ``top`` the largest distance that
    ``res``'s plan uses, until the optimal cost is no longer tiny next to the costs.

    ``res`` came from costs ``d^p`` whose small entries underflowed or were below the
    resolution of the pricing (its plan may be far from optimal). In the new units the
    plan's largest arc costs exactly 1 and costs above :data:`_CAP` are capped. A plan
    optimal for the capped costs that uses no capped arc is optimal for the true costs
    (capping only lowers costs); otherwise its status is ``"imprecise"``. Returns the
    result in the new units and ``log2(top^p)``, the factor back to the units of ``dist``.
    """
    log2_top = 0.0
    last = np.inf
    for _ in range(_RESOLVES):
        top = float(dist[_used(res.plan)].max())
        if top == 0.0 or top >= last:  # cost exactly 0, or no progress
            break
        last = top
        with np.errstate(over="ignore", under="ignore"):
            cost = np.minimum((dist / top) ** p, _CAP)
        new = _solve(a, b, cost, max_iter, p=p, support=support, warn=False)
        capped = bool((cost[_used(new.plan)] >= _CAP).any())
        if capped and new.converged:
            new = dataclasses.replace(new, status="imprecise", converged=False)
        mant, k = np.frexp(top)
        res, log2_top = new, p * (float(np.log2(mant)) + int(k))
        if not new.converged or new.cost >= RELATIVE_COST * _CAP:
            break
    return res, log2_top


def _scaled_back(res, log2_factor):
    """``res`` of the problem whose costs were multiplied by ``2**-log2_factor``, in the
    units of the original costs (potentials out of the float64 range become +-inf)."""
    if log2_factor == 0.0:
        return res
    total = times_two_to(res.cost, log2_factor)
    root = res.cost if res.p == 1 else max(res.cost, 0.0) ** (1.0 / res.p)
    distance = times_two_to(root, log2_factor / res.p)
    f, g = (unscale_potentials(v, 2.0, log2_factor) for v in res.potentials)
    return dataclasses.replace(res, cost=total, distance=distance, potentials=(f, g))


def _warn(res, max_iter, stacklevel):
    if res.status in _WARNINGS:
        warnings.warn(_WARNINGS[res.status].format(max_iter=max_iter), ConvergenceWarning,
                      stacklevel=stacklevel)


def _solve(a, b, cost, max_iter, *, p, support, warn=True, start=None):
    """The network simplex on ``cost``, wrapped as a :class:`TransportResult`.

    Costs beyond :data:`HUGE_COST` in magnitude are divided by a power of two first
    (exact), so that potentials, their differences and the duality shift stay finite.
    """
    big = max(float(cost.max()), -float(cost.min()))  # no |cost| temporary (memory)
    if big > HUGE_COST:
        e = int(np.frexp(big)[1]) - 1  # |cost| / 2^e < 2
        res = _scaled_back(_solve_scaled(a, b, cost / 2.0**e, max_iter, p=p, support=support,
                                         start=start), float(e))
    else:
        res = _solve_scaled(a, b, cost, max_iter, p=p, support=support, start=start)
    if warn:
        _warn(res, max_iter, stacklevel=4)
    return res


def _imprecise(cost, f, g, a, b, total, err, routed=0.0):
    """Whether the optimality certificate of ``(f, g)`` is coarser than ``1e-6 |total|``:
    the dual violation or the duality gap exceeds it (beyond the gap that the marginal
    error ``err`` explains: weights below the float64 resolution of the others cannot be
    met exactly; and beyond ``routed``, the gap of the remainders routed after the LP by
    :func:`_route_rounding`, whose cells the potentials do not price). A plan whose cost
    attains the lower bound of row (column) minima is optimal regardless.
    """
    delta, bound = dual_violation(cost, f, g, a, b, np.full(b.shape[0], np.inf))
    af, bg = a @ f, b @ g
    # the dual objective is known to a few ulps of its terms
    rounding = 4.0 * EPS * (a @ np.abs(f) + b @ np.abs(g))
    tol = (IMPRECISE_GAP * abs(total) + err * (np.abs(f).max() + np.abs(g).max()) + rounding
           + routed)
    if total <= bound + tol:
        return False
    return max(delta, abs(af + bg - total)) > tol


#: mass left on an artificial arc at the optimum beyond this fraction of its node's weight
#: is a weight the LP could not route (not the rounding of that weight): it is routed.
_UNROUTED = 1e-10


def _route_rounding(cost, a, b, f, g, left_a, left_b, rows, cols, flows, total):
    """Route the mass left on artificial arcs at the optimum: the two normalised weight
    vectors sum to 1 only up to rounding, and a weight below the rounding of the other
    side's total (``[1, 1e-20]`` normalised is itself) cannot be routed in a balanced
    LP. Each such source sends its remainder to the sink of least marginal cost
    ``C_ij - g_j`` (the sink's own mass was rounded up by as much), and each such sink
    receives its remainder from the source of least ``C_ij - f_i``; the marginals are
    then off by those rounding amounts, as they were already (``marginal_error``).
    Remainders within :data:`_UNROUTED` of their node's weight are that weight's own
    rounding and stay unrouted (the plan keeps at most ``n + m - 1`` entries)."""
    new_r, new_c, new_f = [rows], [cols], [flows]
    src = np.flatnonzero(left_a > _UNROUTED * a)
    if src.size:
        ok = np.flatnonzero(b > 0)
        to = ok[np.argmin(cost[np.ix_(src, ok)] - g[ok], axis=1)]
        new_r.append(src)
        new_c.append(to)
        new_f.append(left_a[src])
    snk = np.flatnonzero(left_b > _UNROUTED * b)
    if snk.size:
        ok = np.flatnonzero(a > 0)
        fr = ok[np.argmin(cost[np.ix_(ok, snk)] - f[ok, None], axis=0)]
        new_r.append(fr)
        new_c.append(snk)
        new_f.append(left_b[snk])
    rows, cols, flows = (np.concatenate(v) for v in (new_r, new_c, new_f))
    k = len(new_f[0])
    r, c, w = rows[k:], cols[k:], flows[k:]
    extra = w @ cost[r, c]
    routed = w @ np.abs(cost[r, c] - f[r] - g[c])  # the duality gap these cells open
    return rows, cols, flows, float(total) + float(extra), float(routed)


def _solve_scaled(a, b, cost, max_iter, *, p, support, start=None):
    rows, cols, flows, f, g, total, code, n_iter, left_a, left_b = solve_transport(
        cost, a, b, min(max_iter, _INT64_MAX), start  # a larger limit is no limit
    )
    n, m = cost.shape
    status = _STATUS.get(int(code), "infeasible")
    converged = status == "optimal"
    left = left_a.sum()
    routed = 0.0
    if not converged and left > 0:  # route the mass still on artificial arcs
        extra_r, extra_c = np.nonzero(np.outer(left_a, left_b))
        extra = left_a[extra_r] * left_b[extra_c] / left
        rows = np.concatenate([rows, extra_r])
        cols = np.concatenate([cols, extra_c])
        flows = np.concatenate([flows, extra])
        total = float(np.sum(flows * cost[rows, cols]))
    elif converged and ((left_a > _UNROUTED * a).any() or (left_b > _UNROUTED * b).any()):
        rows, cols, flows, total, routed = _route_rounding(cost, a, b, f, g, left_a, left_b,
                                                           rows, cols, flows, total)
    if n * m > DENSE_PLAN_MAX:
        plan = scipy.sparse.csr_array((flows, (rows, cols)), shape=(n, m))
    else:
        plan = np.zeros((n, m))
        np.add.at(plan, (rows, cols), flows)
    err = (np.abs(np.bincount(rows, flows, minlength=n) - a).sum()
           + np.abs(np.bincount(cols, flows, minlength=m) - b).sum())
    shift = 0.5 * (a @ f - b @ g)
    total = float(total)
    if converged and _imprecise(cost, f, g, a, b, total, float(err), routed):
        status, converged = "imprecise", False
    distance = unscale(total, 1.0, p, p)[1]
    return TransportResult(
        cost=total,
        distance=distance,
        plan=plan,
        potentials=(f - shift, g + shift),
        converged=converged,
        n_iter=int(n_iter),
        status=status,
        marginal_error=float(err),
        p=float(p),
        _support=support,
    )
