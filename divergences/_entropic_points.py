"""Entropic transport between point sets: ``transport(method="sinkhorn")`` and the
Sinkhorn divergence, balanced or unbalanced (costs dense or recomputed online). The
algorithm is described in :mod:`divergences.entropic`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike

from ._entropic_solve import _chunks, _solve
from ._entropic_wrap import _options, _warn, _wrap
from ._kernels.cost import (
    CITYBLOCK,
    EUCLIDEAN,
    MINKOWSKI,
    SQEUCLIDEAN,
    ground_distance,
)
from ._kernels.scan import cost_range
from ._kernels.sinkhorn_log import dense_geometry, online_geometry
from ._metrics import ground_costs, metric_code
from ._scaling import normalise
from ._thread_ranges import run_in_ranges
from ._validation import (
    check_minkowski_order,
    check_optional_bool,
    check_p,
    check_points,
    check_reg,
    check_same_dimension,
    check_weights,
)
from ._validation_learning import check_bool
from ._validation_unbalanced import check_hard_masses, check_reg_m

__all__ = ["sinkhorn_divergence"]

#: automatic online mode when one dense n x m float64 array would exceed this many bytes.
ONLINE_BYTES = 1 << 30


def _point_problem(x, y, a, b, p, code, reg, options, what, symmetric=False, rho=None,
                   serial=False):
    """Shared by transport(method='sinkhorn') and sinkhorn_divergence: cost + solve
    (``rho``: the unbalanced pair, ``None`` balanced; ``serial``: as in
    :func:`divergences._entropic_solve._solve`)."""
    tol, max_iter = _options(options, ("tol", "max_iter", "online", "q"))
    online = check_optional_bool(options.get("online"), "online")
    q = check_minkowski_order(options.get("q"), code == MINKOWSKI)
    n, m = x.shape[0], y.shape[0]
    if online is None:
        online = n * m * 8 > ONLINE_BYTES
    metric, pk = code, p
    if code == EUCLIDEAN and p == 2.0:  # |x - y|^2 directly: no sqrt then square
        metric, pk = SQEUCLIDEAN, 1.0
    if online:
        both = np.concatenate([x, y])
        span = float(ground_distance(both.min(axis=0), both.max(axis=0), metric, q))
        span = span if pk == 1.0 else (np.inf if span > 1e300 else span**pk)
        geom = online_geometry(np.ascontiguousarray(y.T), x, y, metric, q, pk)
        lo, hi = 0.0, span  # span 0: every point equal, every cost 0
    else:
        C = ground_costs(x, y, metric, q, pk)
        lo, hi, _ = cost_range(C)
        lo, hi = float(lo), float(hi)
        span = hi - lo
        geom = dense_geometry(C)
    if not np.isfinite(span):  # costs are >= 0: only overflow makes this infinite
        raise ValueError(f"x, y: the costs d(x, y)**{p:g} overflow float64; rescale the points")
    fl = _solve(geom, a, b, reg, tol, max_iter, lo, hi, symmetric, rho, serial=serial)
    _warn(fl, tol, max_iter, what)
    return fl


def _transport_sinkhorn(x, y, a, b, p, metric_code, reg, **options):
    r"""``transport(..., method="sinkhorn")``: entropic OT between point sets.

    ``x`` (n, d), ``y`` (m, d) float64, ``a``, ``b`` normalised (as given with ``reg_m``),
    ``reg`` validated. Options: ``tol``, ``max_iter``, ``reg_m`` (as in :func:`sinkhorn`),
    ``q`` (Minkowski order) and
    ``online``: ``None`` (default: online when one dense n x m float64 array would exceed
    1 GiB), ``True`` (costs recomputed on the fly, memory O(n + m), ``plan=None``; cost,
    objective and potentials as usual) or ``False`` (dense cost matrix and plan).
    ``cost`` is :math:`\langle P, d^p\rangle` and ``distance`` its ``1/p`` power.
    """
    rho = check_reg_m(options.pop("reg_m", None))
    b = check_hard_masses(a, b, rho)
    fl = _point_problem(x, y, a, b, p, metric_code, reg, options, "transport(method='sinkhorn')",
                        rho=rho)
    q = check_minkowski_order(options.get("q"), metric_code == MINKOWSKI)  # checked above
    # the support (and weights: an online solve has no plan) for TransportResult.gradient
    return dataclasses.replace(_wrap(fl, reg, p), _support=(x, y, metric_code, q, a, b),
                               reg_m=rho)


def sinkhorn_divergence(x: ArrayLike, y: ArrayLike, a: ArrayLike | None = None,
                        b: ArrayLike | None = None, *, reg: float,
                        reg_m: float | tuple[float, float] | None = None, p: float = 2,
                        metric: str = "euclidean", return_gradient: bool = False,
                        **options: Any) -> Any:
    r"""The debiased Sinkhorn divergence between two weighted point sets, balanced or
    unbalanced.

    .. math:: S_\varepsilon(\alpha, \beta) = \mathrm{OT}_\varepsilon(\alpha, \beta)
              - \tfrac12 \mathrm{OT}_\varepsilon(\alpha, \alpha)
              - \tfrac12 \mathrm{OT}_\varepsilon(\beta, \beta)
              + \tfrac{\varepsilon}{2} (m(\alpha) - m(\beta))^2,

    with :math:`\mathrm{OT}_\varepsilon` the entropic objective *including* the entropic
    term, :math:`\langle P, C\rangle + \varepsilon \mathrm{KL}(P\|ab^T)` (the ``objective``
    of :func:`sinkhorn`), and :math:`C = d(x_i, y_j)^p`. It is symmetric; when the Gibbs
    kernel :math:`e^{-C/\varepsilon}` is positive definite (Euclidean with ``p <= 2``,
    squared Euclidean with ``p <= 1``, cityblock with ``p <= 1``, Minkowski-``q`` with
    ``p <= q <= 2``) it is :math:`\ge 0` and zero iff the measures are equal (Feydy et al.
    2019); for other costs (e.g. ``p = 4``) it can be negative. For ``p=2`` and a translation
    :math:`\beta = \alpha + t` it equals :math:`|t|^2` for every ``reg``; it interpolates between
    :math:`W_p^p` (``reg -> 0``) and an MMD (``reg -> inf``).

    With ``reg_m`` (:math:`\rho`), :math:`\mathrm{OT}_\varepsilon` is the unbalanced
    objective of :func:`sinkhorn` (marginals relaxed by :math:`\rho\,\mathrm{KL}`) between
    the measures *as given*, of masses :math:`m(\alpha) = \sum a`, :math:`m(\beta) = \sum
    b`, and the last term (zero for the balanced, normalised problem) makes it the
    divergence of Séjourné et al. 2019: symmetric, 0 on equal inputs, and under the same
    kernel conditions :math:`\ge 0` and zero iff the measures are equal.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d), (m,) or (m, d)
        Support points.
    a, b : array_like, optional
        Weights (default uniform; counts are normalised, except with ``reg_m``: used as
        given).
    reg : float
        :math:`\varepsilon > 0`.
    reg_m : float, optional
        :math:`\rho > 0`, the same for both marginals (``inf``: hard marginals, then the
        masses must be equal); ``None`` (default) for the balanced divergence.
    p : float, default 2
        Exponent of the ground cost.
    metric : str, default "euclidean"
        As in :func:`divergences.transport`.
    return_gradient : bool, default False
        Also return the gradient of :math:`S_\varepsilon` (that of the raw difference,
        before any clipping at 0) with respect to ``x``, ``y``, ``a``, ``b``: a
        named tuple ``Gradients(x, y, a, b)``, with the conventions of
        :meth:`TransportResult.gradient`. In the symmetric terms both arguments move:
        :math:`\nabla_{x_i} S_\varepsilon = \sum_j P^{\alpha\beta}_{ij} \nabla_1 c(x_i, y_j)
        - \sum_k \tfrac12 (P^{\alpha\alpha}_{ik} + P^{\alpha\alpha}_{ki}) \nabla_1 c(x_i, x_k)`
        and :math:`\nabla_a S_\varepsilon = f^{\alpha\beta} - \tfrac12(f^{\alpha\alpha}
        + g^{\alpha\alpha})`, centred. Balanced divergences only (not with ``reg_m``).
    **options
        ``tol``, ``max_iter``, ``online``, ``q`` as in :func:`divergences.transport`.

    Returns
    -------
    float
        :math:`S_\varepsilon`, not rooted (it is homogeneous to :math:`W_p^p`). With a
        positive definite kernel, rounding and the stopping tolerance can make the raw
        difference slightly negative on nearly equal inputs: it is clipped at 0; with other
        costs the raw difference is returned as computed, negative or not. The symmetric
        problems :math:`\mathrm{OT}_\varepsilon(\alpha, \alpha)` are solved with the
        averaged update :math:`f \leftarrow (f + T(f))/2` of Feydy et al., which converges
        fast where plain Sinkhorn crawls (nearly diagonal plans). When ``(x, a)`` and
        ``(y, b)`` hold equal values, :math:`\mathrm{OT}_\varepsilon(\alpha, \beta)` is such a
        symmetric problem and is solved the same way: the three terms are then the same
        deterministic computation and the result is exactly ``0.0`` (nothing is hard-coded;
        a permuted copy goes through the general solver and gives ~1e-10).

    See Also
    --------
    sinkhorn : the entropic problem on a cost matrix (``objective`` is OT_eps).
    transport : ``method="sinkhorn"`` gives the plan between point sets.
    wasserstein : the unregularised :math:`W_p` that the divergence approaches as reg -> 0.

    References
    ----------
    J. Feydy, T. Séjourné, F.-X. Vialard, S. Amari, A. Trouvé, G. Peyré, "Interpolating
    between optimal transport and MMD using Sinkhorn divergences", AISTATS 2019.
    T. Séjourné, J. Feydy, F.-X. Vialard, A. Trouvé, G. Peyré, "Sinkhorn divergences for
    unbalanced optimal transport", arXiv:1910.12958, 2019.

    Examples
    --------
    >>> from divergences import sinkhorn_divergence
    >>> sinkhorn_divergence([0.0, 1.0], [0.0, 1.0], reg=0.1)
    0.0
    >>> round(sinkhorn_divergence([0.0, 1.0], [0.3, 1.3], reg=0.5), 6)  # a translation by t
    0.09
    >>> value, grad = sinkhorn_divergence([0.0, 1.0], [0.3, 1.3], reg=0.5, return_gradient=True)
    >>> grad.x.round(6), grad.y.round(6)  # d|t|^2/dt = 2t, shared by the two points
    (array([[-0.3],
           [-0.3]]), array([[0.3],
           [0.3]]))
    """
    x = check_points(x, "x")
    y = check_points(y, "y")
    check_same_dimension(x, y)
    a = check_weights(a, x.shape[0], "a")
    b = check_weights(b, y.shape[0], "b")
    p = check_p(p)
    code = metric_code(metric)
    reg = check_reg(reg)
    rho = check_reg_m(reg_m)
    return_gradient = check_bool(return_gradient, "return_gradient")
    if return_gradient and rho is not None:
        raise ValueError("return_gradient: gradients of the unbalanced divergence (reg_m) "
                         "are not implemented; use reg_m=None")
    if rho is None:
        a, b = normalise(a), normalise(b)  # no overflow for counts near 1e308
    elif rho[0] != rho[1]:
        raise ValueError(f"reg_m must be one value for sinkhorn_divergence (the debiasing terms "
                         f"are symmetric problems), got {reg_m}")
    else:
        b = check_hard_masses(a, b, rho)
    what = "sinkhorn_divergence"
    same = x.shape == y.shape and np.array_equal(x, y) and np.array_equal(a, b)
    ab = _point_problem(x, y, a, b, p, code, reg, options, what, same, rho)
    aa, bb = _symmetric_terms(x, y, a, b, p, code, reg, options, what, rho)
    raw = ab["objective"] - 0.5 * (aa["objective"] + bb["objective"])
    if rho is not None:
        raw += 0.5 * reg * (a.sum() - b.sum()) ** 2
    # q was validated by _point_problem above
    q = check_minkowski_order(options.get("q"), code == MINKOWSKI)
    value = max(raw, 0.0) if _positive_definite_gibbs(code, p, q) else raw
    if not return_gradient:
        return value
    from ._gradients import divergence_gradients

    return value, divergence_gradients(x, y, a, b, ab, aa, bb, code, q, p, reg)


def _symmetric_terms(x, y, a, b, p, code, reg, options, what, rho):
    """The solves of ``OT(a, a)`` and ``OT(b, b)``. When both are large enough for threads
    and of similar sizes (within a factor 2 in points), they run at once, one thread each,
    each on one chunk of rows, rather than one after the other on threaded sweeps: the
    symmetric iterations are a Python loop of one compiled sweep each
    (:mod:`divergences._entropic_symmetric`), and two such loops overlap their Python
    parts (warm, two threads: 400 and 1000 points 10-15% faster than one after the other,
    600 and 2000 points the same)."""
    n, m = x.shape[0], y.shape[0]
    if (numba.get_num_threads() < 2 or min(n, m) < max(n, m) // 2
            or _chunks(min(n, m), min(n, m)) == 1):
        return (_point_problem(x, x, a, a, p, code, reg, options, what, True, rho),
                _point_problem(y, y, b, b, p, code, reg, options, what, True, rho))
    out = [None, None]

    def solve(lo, hi):  # a range of run_in_ranges: problem 0 (x, a) or 1 (y, b)
        for k in range(lo, hi):
            u, w = (x, a) if k == 0 else (y, b)
            out[k] = _point_problem(u, u, w, w, p, code, reg, options, what, True, rho,
                                    serial=True)

    run_in_ranges(solve, (), 2, 2, per_thread=1)
    return out[0], out[1]


def _positive_definite_gibbs(code, p, q):
    """Whether ``exp(-d(x, y)**p / eps)`` is a positive definite kernel for every ``eps``:
    ``d**p`` conditionally negative definite (Schoenberg), which holds for the Euclidean
    distance with ``p <= 2`` and for the Minkowski-``q`` distance with ``p <= q <= 2``
    (``sum |x_k - y_k|**q`` is, and powers ``<= 1`` keep it)."""
    if code == EUCLIDEAN:
        return p <= 2.0
    if code == SQEUCLIDEAN:
        return p <= 1.0
    if code == CITYBLOCK:
        return p <= 1.0
    if code == MINKOWSKI:
        return p <= q <= 2.0
    return False
