r"""Wasserstein distances between histograms on regular grids (images, volumes).

:func:`wasserstein_grid` and :func:`transport_grid`: with ``p=1`` and the cityblock
metric, the exact min-cost flow on the grid's neighbour arcs (Ling & Okada's EMD-L1,
:math:`O(N)` arcs for :math:`N` pixels) on the network simplex of :func:`divergences.emd`;
otherwise the multiscale exact solver (:mod:`divergences.multiscale`) on blocks of pixels
(2-D, 3-D) and the closed form (1-D).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike

from ._kernels.cost import MINKOWSKI, SQEUCLIDEAN
from ._kernels.grid_flow import grid_flow, path_decomposition
from ._kernels.network_simplex import OPTIMAL
from ._metrics import ground_costs, metric_code
from ._scaling import normalise
from ._validation import (
    check_minkowski_order,
    check_no_options,
    check_p,
    check_positive_int,
)
from ._validation_grid import check_grid_pair, check_spacing
from ._warnings import ConvergenceWarning
from .exact import MAX_ITER_DEFAULT
from .result import TransportResult
from .transport import transport

__all__ = ["transport_grid", "wasserstein_grid"]

#: the coupling from the flow must cost what the flow costs, to this relative precision
_PATH_RTOL = 1e-9


def transport_grid(A: ArrayLike, B: ArrayLike, *, p: float = 1, metric: str = "euclidean",
                   spacing: float | Sequence[float] = 1.0, **options: Any) -> TransportResult:
    r"""Optimal transport between two histograms on the same regular grid.

    The pixels (voxels) of the grid, numbered in C order, are the support points of
    both measures, at coordinates :math:`(k_1 h_1, \dots, k_d h_d)` for the grid steps
    :math:`h` (``spacing``); the masses are ``A`` and ``B``, each divided by its sum:

    .. math:: W_p(A, B)^p = \min_{\gamma \ge 0,\ \gamma 1 = a,\ \gamma^T 1 = b}
              \sum_{ij} \gamma_{ij}\, d(x_i, x_j)^p.

    With ``p=1`` and ``metric="cityblock"`` this is the min-cost flow on the grid graph
    (arcs between neighbouring pixels, both ways, cost :math:`h_k` along axis
    :math:`k`; Ling & Okada's EMD-L1), solved exactly by the network simplex with
    :math:`O(N)` arcs. The optimal flow is split into paths from surplus to deficit
    pixels; each path is a shortest path, so the coupling they make costs what the flow
    costs (checked on every solve). In 1-D every metric is :math:`|x - y|`: ``p=1`` uses
    the flow, other ``p`` the closed form of :func:`divergences.wasserstein_1d`.

    Other metrics and ``p`` (2-D and 3-D) use the multiscale exact solver
    (:mod:`divergences.multiscale`) whose cells are the blocks of :math:`2^d` pixels,
    recursively: coarse-to-fine sparse network simplex, certified optimal over all
    pairs of pixels, in memory :math:`O(N + \text{arcs})`; ``status`` is ``"optimal"``
    only when certified.
    With ``p=1`` and a metric (not ``"sqeuclidean"``) it moves only the positive part of
    :math:`a - b` onto the negative part, :math:`\min(a, b)` staying in place
    (Kantorovich-Rubinstein: :math:`W_1` depends on :math:`a - b` alone), and the
    potentials are ``g = -f`` with ``f`` 1-Lipschitz.

    Parameters
    ----------
    A, B : array_like, 1-D, 2-D or 3-D, same shape
        Non-negative masses (counts are fine: each is divided by its sum).
    p : float, default 1
        Order of the Wasserstein distance, >= 1.
    metric : {"euclidean", "sqeuclidean", "cityblock", "chebyshev", "minkowski"}
        Ground metric between pixel coordinates (``"minkowski"`` takes ``q=``).
    spacing : float or sequence of float, default 1.0
        Grid step, one for all axes or one per axis.
    **options
        ``max_iter`` (pivots of each network simplex solve: every level of the
        coarse-to-fine solvers), and ``q`` for ``"minkowski"``.

    Returns
    -------
    TransportResult
        ``plan`` a ``scipy.sparse.csr_array`` of shape ``(N, N)`` over the flattened
        pixels (C order), ``cost`` (:math:`W_p^p`), ``distance`` (:math:`W_p`),
        ``potentials`` ``(f, g)`` over all pixels (for the flow: ``f = -\pi``,
        ``g = \pi`` from its node potentials :math:`\pi`, 1-Lipschitz for the cityblock
        metric, so feasible on every pair), ``status``, ``n_iter``.

    Raises
    ------
    ValueError
        For masses that are negative, non-finite or all zero, shapes that differ or
        have more than 3 axes, a bad ``spacing``.

    See Also
    --------
    wasserstein_grid : the distance alone.
    emd : exact transport for a cost matrix, dense or sparse.

    References
    ----------
    .. [1] H. Ling, K. Okada, "An efficient Earth Mover's Distance algorithm for robust
       histogram comparison", IEEE TPAMI 29(5), 2007.
    .. [2] R. K. Ahuja, T. L. Magnanti, J. B. Orlin, *Network Flows*, ch. 3 (flow
       decomposition) and 11, 1993.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import transport_grid
    >>> A = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> B = np.array([[0.0, 0.0], [0.0, 1.0]])
    >>> res = transport_grid(A, B, metric="cityblock")
    >>> res.cost, res.plan.shape, res.plan[[0], [3]].tolist()
    (2.0, (4, 4), [1.0])
    """
    A, B = check_grid_pair(A, B)
    p = check_p(p)
    code = metric_code(metric)
    steps = check_spacing(spacing, A.ndim)
    a, b = normalise(A.reshape(-1)), normalise(B.reshape(-1))
    if p == 1 and (metric == "cityblock" or A.ndim == 1):
        max_iter = check_positive_int(options.pop("max_iter", MAX_ITER_DEFAULT), "max_iter")
        if A.ndim == 1:
            options.pop("q", None)  # every metric is |x - y| in 1-D
        check_no_options(options, "exact")
        return _grid_flow(a, b, A.shape, steps, max_iter)
    if A.ndim > 1:
        return _multiscale(a, b, A.shape, steps, p, code, options)
    return _dense_on_support(a, b, A.shape, steps, p, metric, code, options)


def wasserstein_grid(A: ArrayLike, B: ArrayLike, *, p: float = 1, metric: str = "euclidean",
                     spacing: float | Sequence[float] = 1.0, **options: Any) -> float:
    r"""Wasserstein-p distance between two histograms on the same regular grid.

    :math:`W_p(A, B)` with the ``1/p`` root applied; see :func:`transport_grid` for the
    definition, the solvers (an :math:`O(N)`-arc min-cost flow for ``p=1`` and the
    cityblock metric) and the parameters.

    Parameters
    ----------
    A, B : array_like, 1-D, 2-D or 3-D, same shape
        Non-negative masses on the grid's cells (counts are fine: each is normalised).
    p : float, default 1
        Order of the distance, ``>= 1``.
    metric : str, default "euclidean"
        Ground metric between cell centres (as in :func:`transport_grid`).
    spacing : float or sequence of float, default 1.0
        Cell size, one for all axes or one per axis.
    **options
        Passed to :func:`transport_grid` (e.g. ``max_iter``).

    Returns
    -------
    float

    See Also
    --------
    transport_grid : the plan, potentials and status too.

    Examples
    --------
    >>> from divergences import wasserstein_grid
    >>> wasserstein_grid([[3, 1], [0, 0]], [[0, 0], [1, 3]], metric="cityblock")
    1.5
    >>> wasserstein_grid([0, 1, 0, 0], [0, 0, 0, 1], p=2)
    2.0
    """
    return float(transport_grid(A, B, p=p, metric=metric, spacing=spacing,
                                **options).distance)


def _grid_flow(a, b, shape, steps, max_iter):
    """EMD-L1: the min-cost flow on the neighbour arcs, then its path decomposition."""
    N = a.shape[0]
    supply = a - b
    stay = np.minimum(a, b)
    tails, heads, costs, arcs, flows, pi, status, n_iter = grid_flow(supply, shape, steps,
                                                                      max_iter)
    E = tails.shape[0]
    used = np.flatnonzero((arcs < E) & (flows > 0.0))
    ids = arcs[used]
    k = ids.shape[0]
    src, dst, mass = np.empty(N + k, np.int64), np.empty(N + k, np.int64), np.empty(N + k)
    count = path_decomposition(tails[ids], heads[ids], flows[used], supply.copy(), src, dst,
                               mass)
    src, dst, mass = src[:count], dst[:count], mass[:count]
    coords = np.stack(np.unravel_index(np.arange(N), shape), axis=1) * steps
    plan_cost = math.fsum((mass * np.abs(coords[src] - coords[dst]).sum(axis=1)).tolist())
    flow_cost = math.fsum((flows[used] * costs[ids]).tolist())
    pixels = np.arange(N)
    keep = stay > 0
    plan = scipy.sparse.csr_array(
        (np.concatenate([stay[keep], mass]),
         (np.concatenate([pixels[keep], src]), np.concatenate([pixels[keep], dst]))),
        shape=(N, N))
    err = (np.abs(plan.sum(axis=1) - a).sum() + np.abs(plan.sum(axis=0) - b).sum())
    name = "optimal" if status == OPTIMAL else "max_iter"
    if name == "optimal" and abs(plan_cost - flow_cost) > _PATH_RTOL * max(flow_cost, 1e-300):
        name = "imprecise"  # the paths are not shortest ones: should not happen
    if name != "optimal":
        warnings.warn(f"transport_grid: the flow solve ended with status {name!r} after "
                      f"{n_iter} pivots; the plan is not certified optimal"
                      + (" (raise max_iter)" if name == "max_iter" else ""),
                      ConvergenceWarning, stacklevel=3)
    f, g = -pi, pi.copy()
    shift = 0.5 * (a @ f - b @ g)
    return TransportResult(cost=plan_cost, distance=plan_cost, plan=plan,
                           potentials=(f - shift, g + shift), converged=name == "optimal",
                           n_iter=n_iter, status=name, marginal_error=float(err), p=1.0)


def _multiscale(a, b, shape, steps, p, code, options):
    r"""The multiscale exact solver on the pixels, its cells the 2^d-pixel blocks.

    For ``p = 1`` and a metric (not ``"sqeuclidean"``), :math:`W_1` depends on
    :math:`a - b` only (Kantorovich-Rubinstein): the mass :math:`\min(a_i, b_i)` stays
    on its pixel and the solver moves the positive part of :math:`a - b` onto the
    negative part, half the pixels on each side and no degenerate in-place mass."""
    from .multiscale import _transport_multiscale

    cells = np.stack(np.unravel_index(np.arange(a.shape[0]), shape), axis=1).astype(np.int64)
    bits = max(1, int(np.ceil(np.log2(max(shape)))))
    coords = cells * steps
    if p != 1 or code == SQEUCLIDEAN:
        return _transport_multiscale(coords, coords, a, b, p, code,
                                     coords=(cells, cells, bits), support=False, **options)
    up, down = np.maximum(a - b, 0.0), np.maximum(b - a, 0.0)
    stay = np.minimum(a, b)
    N = a.shape[0]
    if not up.any() or not down.any():  # equal histograms (or equal up to rounding)
        options = dict(options)
        check_positive_int(options.pop("max_iter", MAX_ITER_DEFAULT), "max_iter")
        check_minkowski_order(options.pop("q", None), code == MINKOWSKI)
        check_no_options(options, "multiscale")
        zero = np.zeros(N)
        plan = scipy.sparse.csr_array(scipy.sparse.diags_array(stay, format="csr"))
        err = np.abs(stay - a).sum() + np.abs(stay - b).sum()
        return TransportResult(cost=0.0, distance=0.0, plan=plan, potentials=(zero, -zero),
                               converged=True, n_iter=0, status="optimal",
                               marginal_error=float(err), p=1.0)
    res = _transport_multiscale(coords, coords, up, down, p, code,
                                coords=(cells, cells, bits), support=False, lipschitz=True,
                                **options)
    plan = scipy.sparse.csr_array(res.plan + scipy.sparse.diags_array(stay, format="csr"))
    err = (np.abs(plan.sum(axis=1) - a).sum() + np.abs(plan.sum(axis=0) - b).sum())
    return dataclasses.replace(res, plan=plan, marginal_error=float(err))


def _dense_on_support(a, b, shape, steps, p, metric, code, options):
    """1-D grids, ``p != 1``: the closed form of :func:`divergences.transport` on the
    pixels of positive mass, embedded in the grid."""
    ia, ib = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    coords = np.stack(np.unravel_index(np.arange(a.shape[0]), shape), axis=1) * steps
    res = transport(coords[ia], coords[ib], a[ia], b[ib], p=p, metric=metric,
                    method="closed_form", **options)
    coo = scipy.sparse.coo_array(res.plan)
    N = a.shape[0]
    plan = scipy.sparse.csr_array((coo.data, (ia[coo.row], ib[coo.col])), shape=(N, N))
    f, g = (np.full(N, np.nan), np.full(N, np.nan))
    f[ia], g[ib] = res.potentials
    f, g = _extend_potentials(f, g, coords, ia, ib, p, code, options)
    return dataclasses.replace(res, plan=plan, potentials=(f, g), _support=None)


def _extend_potentials(f, g, coords, ia, ib, p, code, options):
    """Potentials on the pixels without mass: ``f_i = min_j (C_ij - g_j)`` over the
    support of ``B`` and ``g_j = min_i (C_ij - f_i)`` over that of ``A`` (the largest
    feasible), computed in blocks of rows."""
    q = options.get("q", 2.0)
    for pot, other, oidx in ((f, g, ib), (g, f, ia)):
        missing = np.flatnonzero(np.isnan(pot))
        step = max(1, 2**22 // max(oidx.shape[0], 1))
        for lo in range(0, missing.shape[0], step):
            rows = missing[lo:lo + step]
            cost = ground_costs(coords[rows], coords[oidx], code, q, p)
            pot[rows] = (cost - other[oidx][None, :]).min(axis=1)
    return f, g
