r"""Wasserstein distances in one dimension (closed form).

In 1-D the optimal coupling for the cost :math:`|x - y|^p`, :math:`p \ge 1`, is the
monotone one, and

.. math:: W_p^p(\alpha, \beta) = \int_0^1 |F^{-1}(t) - G^{-1}(t)|^p \, dt,

where :math:`F^{-1}`, :math:`G^{-1}` are the quantile functions of the two measures. One
merge over the two sorted supports computes it exactly; see
:mod:`divergences._kernels.univariate`. :mod:`divergences.sliced` averages such problems
over random projections.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from ._foreign_names import foreign_name_hints
from ._kernels.cost import EUCLIDEAN, MINKOWSKI, SQEUCLIDEAN
from ._kernels.univariate import (
    batch_cost,
    batch_cost_serial,
    sorted_cost,
    uniform_cost,
)
from ._scaling import (
    normalise,
    pow_positive,
    power_mean_root,
    power_of_two_scale,
    unscale,
    unscale_potentials,
)
from ._sorting import sort_pair, sort_rows
from ._univariate_exact import exact_sorted_cost, has_tiny_weights, staircase_for
from ._validation import (
    check_batch_columns,
    check_batch_weights,
    check_minkowski_order,
    check_no_options,
    check_p,
    check_samples_1d,
)
from .result import TransportResult

__all__ = ["wasserstein_1d"]

_NO_WEIGHT_ROWS = np.zeros((1, 1))


def _is_uniform(w):
    """Whether every column of the weights ``w`` (1-D or 2-D) is constant."""
    return w is None or bool((w.min(axis=0) == w.max(axis=0)).all())


def _scale_of(xs, ys, exponent=1.0):
    """The power-of-two scale (:func:`power_of_two_scale`) for costs ``|x - y|^exponent``
    between values sorted along their last axis: 1-D arrays, or rows of a batch (one row
    each, or one row shared by every problem), for the largest range of one problem.
    """
    lo = np.minimum(xs[..., 0], ys[..., 0])
    hi = np.maximum(xs[..., -1], ys[..., -1])
    return power_of_two_scale(float(np.max(hi / 2 - lo / 2)), exponent)


def _ground_exponent(p, metric, q, options):
    """``(exponent, q)``: the exponent of ``|x - y|`` in the cost (``2p`` for "sqeuclidean",
    ``p`` otherwise) and the Minkowski order. Every order gives ``|x - y|`` in 1-D; ``q``
    is still checked the way the other solvers check it.
    """
    check_no_options(options, "closed_form")
    q = check_minkowski_order(q, metric == MINKOWSKI)
    return (2.0 * p if metric == SQEUCLIDEAN else p), q


#: a ``W_p^p`` below this, in units where every gap is at most 1, may have lost terms to
#: underflow (each lost term is below 2^-1022): such problems are solved again by
#: :func:`_robust_root`, which cannot underflow.
UNDERFLOW_COST = 2.0**-900


def _coupling(x, y, a, b):
    """The monotone coupling of ``(x, a)`` and ``(y, b)`` (1-D, weights summing to 1).

    Returns ``(ix, xs, iy, ys, rows, cols, mass, fs, gs, cost, err)``: the sorting orders
    and sorted values, the ``n + m - 1`` cells of the staircase (indices into the sorted
    arrays) with their masses, the potentials tight on them and the cost
    ``sum mass |xs / scale - ys / scale|`` (``scale`` from :func:`_scale_of`) with its
    marginal error.
    """
    sorted_x, sorted_y = sort_pair(x, y, order=True, weights=(a, b))
    return _walk(sorted_x, sorted_y, _scale_of(sorted_x[1], sorted_y[1]))


def _walk(sorted_x, sorted_y, scale, exponent=1.0):
    (ix, xs, wa), (iy, ys, wb) = sorted_x, sorted_y
    n, m = xs.shape[0], ys.shape[0]
    size = n + m - 1
    rows = np.empty(size, np.int64)
    cols = np.empty(size, np.int64)
    mass = np.empty(size)
    fs = np.empty(n)
    gs = np.empty(m)
    walk = staircase_for(wa, wb)
    cost, err = walk(xs, wa, ys, wb, float(exponent), 1.0 / scale, True, rows, cols, mass, fs, gs)
    return ix, xs, iy, ys, rows, cols, mass, fs, gs, cost, err


def _robust_root(xs, ys, rows, cols, mass, exponent):
    """``(sum mass |xs_i - ys_j|^exponent)^(1/exponent)`` over the cells of a coupling,
    without underflow or overflow (:func:`power_mean_root`)."""
    keep = mass > 0
    return power_mean_root(xs[rows[keep]], ys[cols[keep]], mass[keep], exponent)


def _robust_distance(x, y, a, b, p, exponent):
    """``W_p`` of one 1-D problem (weights ``None`` for uniform) by :func:`_robust_root`:
    for the rare problems whose cost underflowed in the fast kernels."""
    a = np.full(x.shape[0], 1.0 / x.shape[0]) if a is None else a
    b = np.full(y.shape[0], 1.0 / y.shape[0]) if b is None else b
    _, xs, _, ys, rows, cols, mass, *_ = _coupling(x, y, a, b)
    return _root_power(_robust_root(xs, ys, rows, cols, mass, exponent), exponent / p)


def _root_power(root, k):
    """``root ** k`` for ``k`` = 1 or 2 (the square of squared Euclidean costs)."""
    if k == 1.0:
        return root
    with np.errstate(over="ignore"):
        return float(np.float64(root) ** k)


def _transport_1d(x, y, a, b, p, metric=EUCLIDEAN, *, q=None, **options):
    r"""The monotone coupling of two weighted 1-D supports, as a :class:`TransportResult`.

    ``x``, ``y`` are 1-D float64 arrays and ``a``, ``b`` their weights normalised to sum 1
    (the dispatcher :func:`divergences.transport` validates them). The plan is a
    ``scipy.sparse.coo_array`` in the original index order with at most ``n + m - 1``
    non-zeros; the potentials are tight along the monotone staircase, which makes them
    feasible for every pair ``(i, j)``, zero-weight points included, and are centred so
    that :math:`\sum_i a_i f_i = \sum_j b_j g_j = \text{cost}/2` (as the exact solver).
    When the cost underflows in the units of the value range (gaps far smaller than the
    range, large ``p``), cost and distance are computed again from the coupling's cells
    by :func:`power_mean_root`; the potentials keep the units of the range. A problem with
    tiny weights (:func:`~._univariate_exact.has_tiny_weights`) is walked with exact
    normalisation (:func:`~._univariate_exact.exact_staircase`).
    """
    exponent, q = _ground_exponent(p, metric, q, options)
    n, m = x.shape[0], y.shape[0]
    sorted_x, sorted_y = sort_pair(x, y, order=True, weights=(a, b))
    scale = _scale_of(sorted_x[1], sorted_y[1], exponent=exponent)
    ix, xs, iy, ys, rows, cols, mass, fs, gs, cost, err = _walk(sorted_x, sorted_y, scale,
                                                                exponent)
    keep = mass > 0
    plan = scipy.sparse.coo_array((mass[keep], (ix[rows[keep]], iy[cols[keep]])), shape=(n, m))
    f = np.empty(n)
    g = np.empty(m)
    f[ix] = fs
    g[iy] = gs
    shift = 0.5 * (a @ f - b @ g)
    f, g = f - shift, g + shift
    if cost < UNDERFLOW_COST:
        root = _robust_root(xs, ys, rows, cols, mass, exponent)
        cost, distance = pow_positive(root, exponent), _root_power(root, exponent / p)
    else:
        cost, distance = unscale(float(cost), scale, exponent, p)
    f, g = unscale_potentials(f, scale, exponent), unscale_potentials(g, scale, exponent)
    support = (x[:, None], y[:, None], metric, q)
    return TransportResult(cost=cost, distance=distance, plan=plan,
                           potentials=(f, g), converged=True, n_iter=0,
                           status="optimal", marginal_error=float(err), p=p,
                           _support=support)


def _wasserstein_1d_distance(x, y, a, b, p, metric=EUCLIDEAN, *, q=None, **options):
    """:math:`W_p` only (no plan, no potentials): what :func:`divergences.wasserstein` needs.

    Same inputs as :func:`_transport_1d`. Uniform weights need only the sorted values;
    tiny weights take the exact walk, as there.
    """
    exponent, _ = _ground_exponent(p, metric, q, options)
    uniform_a, uniform_b = _is_uniform(a), _is_uniform(b)
    if uniform_a and uniform_b:
        xs, ys = sort_pair(x, y, order=False)
        scale = _scale_of(xs, ys, exponent=exponent)
        cost = uniform_cost(xs, ys, exponent, 1.0 / scale)
    else:  # only a weighted side needs an argsort (constant weights need no permuting)
        (_, xs, wa), (_, ys, wb) = sort_pair(x, y, order=(not uniform_a, not uniform_b),
                                             weights=(a, b))
        scale = _scale_of(xs, ys, exponent=exponent)
        solve = exact_sorted_cost if has_tiny_weights(wa, wb) else sorted_cost
        cost = solve(xs, wa, ys, wb, exponent, 1.0 / scale)
    if cost < UNDERFLOW_COST:
        return _robust_distance(x, y, a, b, p, exponent)
    return unscale(float(cost), scale, exponent, p)[1]


def _rows(v):
    """Values ``(n,)`` or ``(n, K)`` as C-contiguous rows ``(1, n)`` or ``(K, n)`` (a view
    when possible)."""
    return v[None, :] if v.ndim == 1 else np.ascontiguousarray(v.T)


def _sorted_weights(w, order, n):
    """Normalised weights ``w`` (``None``, ``(n,)`` or ``(n, K)``) permuted by ``order``."""
    if w is None:
        return np.full((1, n), 1.0 / n)
    w = _rows(normalise(w, axis=0))
    if w.shape[0] == order.shape[0]:
        return np.take_along_axis(w, order, axis=1)
    if order.shape[0] == 1:
        return np.ascontiguousarray(w[:, order[0]])
    return w[0][order]


#: batches with fewer values than this (both samples, all problems) run in one thread.
_PARALLEL_MIN = 1_000_000


def _batch(X, a, Y, b, p, n_problems):
    """``(c, s)`` with ``s^p c`` the ``W_p^p`` of the problems in the rows of ``X``, ``Y``.

    ``X``, ``Y`` are C-contiguous and may be sorted in place; ``s`` is the power-of-two
    scale of :func:`_scale_of` (1 in the usual range). Weighted problems with tiny weights
    (:func:`~._univariate_exact.has_tiny_weights`) are solved again, one by one, by the
    exact walk (:func:`~._univariate_exact.exact_sorted_cost`).
    """
    solve = batch_cost if X.size + Y.size >= _PARALLEL_MIN and n_problems > 1 else \
        batch_cost_serial
    if _is_uniform(a) and _is_uniform(b):
        sort_rows([X, Y], order=False)
        scale = _scale_of(X, Y, exponent=p)
        return solve(X, _NO_WEIGHT_ROWS, Y, _NO_WEIGHT_ROWS, p, 1.0 / scale, True,
                     n_problems), scale
    ox, oy = sort_rows([X, Y], order=True)
    A = _sorted_weights(a, ox, X.shape[1])
    B = _sorted_weights(b, oy, Y.shape[1])
    Xs = np.take_along_axis(X, ox, axis=1)
    Ys = np.take_along_axis(Y, oy, axis=1)
    scale = _scale_of(Xs, Ys, exponent=p)
    costs = solve(Xs, A, Ys, B, p, 1.0 / scale, False, n_problems)
    tiny = np.broadcast_to(has_tiny_weights(A, B), costs.shape)
    for k in np.flatnonzero(tiny):  # rare: the exact walk, one problem at a time
        costs[k] = exact_sorted_cost(_row(Xs, k), _row(A, k), _row(Ys, k), _row(B, k), p,
                                     1.0 / scale)
    return costs, scale


def _row(X, k):
    """Row ``k`` of ``X``, or its only row (shared by every problem of a batch)."""
    return X[k if X.shape[0] > 1 else 0]


def _distances(X, a, Y, b, p, n_problems):
    """``W_p`` of each problem of a batch (rows of ``X``, ``Y``, C-contiguous, sorted in
    place; weights ``None``, ``(n,)`` or ``(n, K)``): the batch kernel, then
    :func:`_robust_distance` one by one for the problems whose cost underflowed in the
    batch's units (gaps far below the largest range of the batch, large ``p``)."""
    costs, scale = _batch(X, a, Y, b, p, n_problems)
    with np.errstate(under="ignore"):
        out = scale * costs ** (1.0 / p)

    def weights(w, k):
        return None if w is None else normalise(w if w.ndim == 1 else w[:, k])

    for k in np.flatnonzero(costs < UNDERFLOW_COST):
        kx = k if X.shape[0] > 1 else 0
        ky = k if Y.shape[0] > 1 else 0
        out[k] = _robust_distance(X[kx], Y[ky], weights(a, k), weights(b, k), p, p)
    return out


@foreign_name_hints
def wasserstein_1d(
    x: ArrayLike, y: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None, *,
    p: float = 1,
) -> float | NDArray[np.float64]:
    r"""Wasserstein distance :math:`W_p` between 1-D measures, one or many at once.

    .. math:: W_p(\alpha, \beta) = \Big(\int_0^1 |F^{-1}(t) - G^{-1}(t)|^p\,dt\Big)^{1/p},

    with :math:`F^{-1}`, :math:`G^{-1}` the quantile functions of
    :math:`\alpha = \sum_i a_i \delta_{x_i}` and :math:`\beta = \sum_j b_j \delta_{y_j}`.
    Exact (no approximation); ``O((n + m) log(n + m))`` per problem for the sorts.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, K) and (m,) or (m, K)
        Sample values or support points. A 2-D array holds one problem per column (the
        convention of POT's ``ot.wasserstein_1d``); a 1-D one is shared by all problems.
    a, b : array_like, shape (n,) or (n, K) and (m,) or (m, K), optional
        Non-negative weights (counts are fine), normalised to sum 1 per column. Default
        uniform. Zero weights are allowed; every column needs a positive total.
    p : float, default 1
        Order of the distance, ``p >= 1`` (any real).

    Returns
    -------
    float or ndarray of shape (K,)
        :math:`W_p` (the root applied), a float when every input is 1-D. POT's
        ``ot.wasserstein_1d`` returns :math:`W_p^p` instead.

    See Also
    --------
    wasserstein : One problem in any dimension (the closed form for 1-D data).
    transport : The same with the plan and the dual potentials.
    sliced_wasserstein : 1-D distances of random projections of d-D data.
    scipy.stats.wasserstein_distance : :math:`W_1` of one 1-D problem.

    Notes
    -----
    The problems run in parallel (ranges of problems in threads) with the same kernel as
    :func:`divergences.wasserstein`. Equal uniform weights only need the sorted values;
    other weights need an argsort. Ties and points of zero weight are handled exactly.

    References
    ----------
    .. [1] C. Villani, *Optimal Transport: Old and New*, Springer, 2009, Remark 2.19.
    .. [2] G. Peyré and M. Cuturi, *Computational Optimal Transport*, Foundations and
       Trends in Machine Learning 11(5-6), 2019, Section 2.6.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import wasserstein_1d
    >>> wasserstein_1d([0.0, 1.0, 3.0], [5.0, 6.0, 8.0])
    5.0
    >>> wasserstein_1d([0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], p=2)
    1.0
    >>> x = np.array([[0.0, 0.0], [1.0, 2.0]])
    >>> wasserstein_1d(x, x + [[3.0, 0.5]], p=2)
    array([3. , 0.5])
    """
    x = check_samples_1d(x, "x")
    y = check_samples_1d(y, "y")
    a = check_batch_weights(a, x.shape[0], "a")
    b = check_batch_weights(b, y.shape[0], "b")
    p = check_p(p)
    n_problems = check_batch_columns({"x": x, "a": a, "y": y, "b": b})
    X = x[None, :].copy() if x.ndim == 1 else np.array(x.T, order="C")
    Y = y[None, :].copy() if y.ndim == 1 else np.array(y.T, order="C")
    out = _distances(X, a, Y, b, p, n_problems)
    scalar = all(v is None or v.ndim == 1 for v in (x, y, a, b))
    return float(out[0]) if scalar else out


#: elements (directions, projections of both samples) held per block of 1-D problems
#: (:func:`divergences.sliced.sliced_wasserstein`).
_BLOCK_ELEMENTS = 1 << 22


def _block_size(n, m, d):
    """Projections per block: about :data:`_BLOCK_ELEMENTS` values of directions and
    projections in each, so memory stays ``O(block (n + m + d))`` whatever ``L``."""
    return max(1, _BLOCK_ELEMENTS // (n + m + d))
