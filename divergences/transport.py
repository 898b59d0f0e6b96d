r"""Wasserstein distances between point sets: the public entry points.

``wasserstein`` and ``transport`` validate their inputs, pick one solver and return its
answer; the solvers live in :mod:`divergences.univariate` (1-D closed form),
:mod:`divergences.exact` (network simplex) and :mod:`divergences.entropic` (Sinkhorn).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ._foreign_names import check_foreign_names
from ._metrics import metric_code
from ._scaling import normalise
from ._validation import check_choice, check_p, check_point_sets, check_reg
from .result import TransportResult

__all__ = ["wasserstein", "transport"]

METHODS = ("auto", "closed_form", "exact", "multiscale", "sinkhorn")


def transport(x: ArrayLike, y: ArrayLike, a: ArrayLike | None = None,
              b: ArrayLike | None = None, *, p: float = 1, metric: str = "euclidean",
              method: str = "auto", reg: float | None = None, mass: float | None = None,
              **options: Any) -> TransportResult:
    r"""Optimal transport between two weighted point sets, as a :class:`TransportResult`.

    Solves

    .. math:: W_p^p(\alpha, \beta) = \min_{\gamma \in \Pi(a, b)}
              \sum_{ij} \gamma_{ij}\, d(x_i, y_j)^p,

    where :math:`\Pi(a, b)` is the set of couplings with marginals ``a`` and ``b``.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d) and (m,) or (m, d)
        Support points or samples of the two measures, in the same dimension ``d``.
    a, b : array_like, shape (n,) and (m,), optional
        Non-negative weights (counts are fine); each is normalised to sum to 1. Default
        uniform.
    p : float, default 1
        Exponent of the ground cost, ``p >= 1``.
    metric : {"euclidean", "sqeuclidean", "cityblock", "chebyshev", "minkowski"}
        Ground metric ``d``; for ``"minkowski"`` pass its order as ``q=...``.
    method : {"auto", "closed_form", "exact", "multiscale", "sinkhorn"}
        ``"auto"`` uses the 1-D closed form for 1-D data and the exact network simplex
        otherwise; ``"sinkhorn"`` needs ``reg``. ``"multiscale"`` is the exact sparse
        multiscale solver (:mod:`divergences.multiscale`: coarse-to-fine network simplex
        with a certificate of optimality over all pairs, memory
        :math:`O(n + m + \text{arcs})`); ``"exact"`` and ``"auto"`` switch to it when the
        dense cost matrix would have more than ``10**6`` entries and ``d <= 3``
        (same optimal cost; the plan stays a dense ndarray up to ``2**24`` entries).
    reg : float, optional
        Entropic regularisation for ``method="sinkhorn"``.
    mass : float, optional
        Partial transport: move exactly this mass, ``0 < mass <= min(sum(a), sum(b))``,
        at least cost, by the exact solver (``method="auto"`` or ``"exact"``); ``a`` and
        ``b`` are then used as given (default ``1/n`` each); ``cost`` is the partial
        cost :math:`\sum\gamma_{ij} d(x_i, y_j)^p`, ``distance`` its ``p``-th root, and
        ``potentials`` the partial dual described in :func:`emd`.
    **options
        Passed to the solver (``max_iter``, ``tol``, ``q`` ...); unknown ones raise TypeError.
        ``method="sinkhorn"`` also takes ``online`` and ``reg_m`` (unbalanced transport, as
        in :func:`divergences.sinkhorn`: ``a`` and ``b`` are then used as given, not
        normalised, and ``cost`` is :math:`\langle P, d^p\rangle` of the unbalanced plan).

    Returns
    -------
    TransportResult
        ``cost`` is :math:`W_p^p`, ``distance`` is :math:`W_p`, ``potentials`` the optimal
        duals ``(f, g)``. ``plan`` is a ``scipy.sparse.coo_array`` (the monotone coupling,
        at most ``n + m - 1`` non-zeros) for the 1-D closed form, a dense ndarray for the
        exact solver (``scipy.sparse.csr_array`` beyond ``2**24`` entries), a
        ``scipy.sparse.csr_array`` for ``method="multiscale"``. ``status`` is
        ``"optimal"`` only for a certified optimum (multiscale: ``"uncertified"`` when
        the certificate over all pairs failed).

    Raises
    ------
    ValueError
        NaN or infinite values or weights, negative weights, zero total weight, empty
        inputs, weights whose length differs from the points, points of different
        dimensions, ``p < 1``, an unknown ``metric`` or ``method``.
    TypeError
        Non-numeric inputs, or options the chosen solver does not take.

    See Also
    --------
    wasserstein : the distance alone.
    emd : the exact problem on any cost matrix (sparse costs, warm starts, ``mass=``).
    sinkhorn : the entropic problem on a cost matrix (``reg_m=`` for unbalanced).
    TransportResult.gradient : gradients with respect to points and weights.

    Notes
    -----
    Conventions for zeros: a point of zero weight carries no mass, but still gets a
    feasible potential (:math:`f_i + g_j \le d(x_i, y_j)^p` for every pair). Counts are
    normalised (divided by their sum), so only proportions matter; unequal total masses
    are therefore never an error. Values whose differences (or their power ``p``) would
    overflow or underflow float64 are divided by a power of two first, which is exact.

    References
    ----------
    .. [1] G. Peyré and M. Cuturi, *Computational Optimal Transport*, Foundations and
       Trends in Machine Learning 11(5-6), 2019, Chapters 2 and 3.

    Examples
    --------
    >>> from divergences import transport
    >>> res = transport([0.0, 1.0, 2.0, 3.0], [5.0, 6.0, 7.0, 8.0], p=2)
    >>> res.cost, res.distance, res.status, res.plan.nnz
    (25.0, 5.0, 'optimal', 4)
    >>> res = transport([[0.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]], [1, 3], [1, 3])
    >>> res.cost, res.potentials
    (1.0, (array([0.5, 0.5]), array([0.5, 0.5])))
    >>> res.plan
    array([[0.25, 0.  ],
           [0.  , 0.75]])
    """
    check_foreign_names("transport", options)
    if mass is not None:
        from .partial import _transport_partial

        return _transport_partial(x, y, a, b, p, metric, method, reg, mass, options)
    xs, ys, wa, wb, p, code, method = _prepare(x, y, a, b, p, metric, method, reg,
                                               options.get("reg_m"))
    return _solve(xs, ys, wa, wb, p, code, method, reg, options)


def _solve(x, y, a, b, p, code, method, reg, options):
    """Call the solver of ``method`` on validated inputs."""
    if method == "closed_form":
        from .univariate import _transport_1d

        return _transport_1d(x[:, 0], y[:, 0], a, b, p, code, **options)
    if method == "multiscale" or method == "exact":
        from .multiscale import _transport_multiscale, prefers_multiscale

        if method == "multiscale" or prefers_multiscale(a, b, x.shape[1]):
            return _transport_multiscale(x, y, a, b, p, code, dense_plan=method == "exact",
                                         **options)
        from .exact import _transport_exact

        return _transport_exact(x, y, a, b, p, code, **options)
    from .entropic import _transport_sinkhorn

    return _transport_sinkhorn(x, y, a, b, p, code, check_reg(reg), **options)


def _prepare(x: Any, y: Any, a: Any, b: Any, p: Any, metric: Any, method: Any, reg: Any,
             reg_m: Any = None) -> Any:
    """Validate the inputs of :func:`transport`; normalise ``a``, ``b`` (unless ``reg_m`` is
    given: unbalanced); resolve ``method``."""
    x, y, a, b = check_point_sets(x, y, a, b)
    p = check_p(p)
    code = metric_code(metric)
    method = check_choice(method, "method", METHODS)
    if method == "auto":
        method = "closed_form" if x.shape[1] == 1 else "exact"
    if reg is not None and method != "sinkhorn":
        raise ValueError(f"reg is only used by method='sinkhorn', not method={method!r}")
    if reg_m is not None:
        if method != "sinkhorn":
            raise ValueError(f"reg_m (unbalanced transport) is only used by method='sinkhorn', "
                             f"not method={method!r}")
        return x, y, a, b, p, code, method
    if method == "closed_form" and x.shape[1] != 1:
        raise ValueError(
            f"method='closed_form' needs 1-D data, got points of dimension {x.shape[1]}"
        )
    return x, y, normalise(a), normalise(b), p, code, method


def wasserstein(x: ArrayLike, y: ArrayLike, a: ArrayLike | None = None,
                b: ArrayLike | None = None, *, p: float = 1, metric: str = "euclidean",
                method: str = "auto", reg: float | None = None, **options: Any) -> float:
    r"""The Wasserstein distance :math:`W_p` between two weighted point sets (root applied).

    .. math:: W_p(\alpha, \beta) = \Big(\min_{\gamma \in \Pi(a, b)}
              \sum_{ij} \gamma_{ij}\, d(x_i, y_j)^p\Big)^{1/p}

    Same parameters (and the same conventions for zeros and counts) as :func:`transport`.
    Unlike POT's ``ot.emd2`` and ``ot.wasserstein_1d``, which return :math:`W_p^p`, this
    returns :math:`W_p`.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d), (m,) or (m, d)
        Support points or samples.
    a, b : array_like, optional
        Their weights (default uniform; counts are normalised).
    p : float, default 1
        Order of the distance, ``>= 1``.
    metric : str, default "euclidean"
        Ground metric, as in :func:`transport`.
    method : str, default "auto"
        ``"auto"``, ``"closed_form"``, ``"exact"``, ``"multiscale"`` or ``"sinkhorn"``
        (with ``reg``), as in :func:`transport`.
    reg : float, optional
        Entropic regularisation for ``method="sinkhorn"``.
    **options
        Solver options, as in :func:`transport`.

    Returns
    -------
    float
        :math:`W_p`, i.e. ``transport(...).distance``.

    See Also
    --------
    transport : the plan, potentials and status too.
    sliced_wasserstein : a Monte-Carlo approximation for high dimensions.
    wasserstein_grid : histograms on a regular grid.

    Notes
    -----
    For 1-D data the exact closed form is used and only the distance is computed (no plan;
    :func:`transport` gives the plan). Histograms on a shared grid are support points with
    weights: ``wasserstein(bins, bins, p_hist, q_hist)``. SciPy's
    ``scipy.stats.wasserstein_distance(u_values, v_values, u_weights, v_weights)`` takes
    the same arguments but computes :math:`W_1` only; passing the histograms themselves as
    its values would treat the counts as samples. POT's ``ot.wasserstein_1d`` takes the
    same arguments too but returns :math:`W_p^p`.

    References
    ----------
    .. [1] C. Villani, *Optimal Transport: Old and New*, Springer, 2009, Chapter 6.

    Examples
    --------
    >>> from divergences import wasserstein
    >>> bins = [0.0, 1.0, 2.0, 3.0]
    >>> wasserstein(bins, bins, [1, 1, 0, 0], [0, 0, 1, 1], p=2)
    2.0
    """
    check_foreign_names("wasserstein", options)
    if "reg_m" in options:
        raise TypeError("wasserstein takes no reg_m: an unbalanced cost is not W_p; use "
                        "transport(..., method='sinkhorn', reg_m=...).cost")
    xs, ys, wa, wb, p, code, method = _prepare(x, y, a, b, p, metric, method, reg)
    if method == "closed_form":
        # 1-D fast path: the distance alone needs no plan and no potentials
        from .univariate import _wasserstein_1d_distance

        return _wasserstein_1d_distance(xs[:, 0], ys[:, 0], wa, wb, p, code, **options)
    return _solve(xs, ys, wa, wb, p, code, method, reg, options).distance
