r"""Sliced Wasserstein distance: exact 1-D problems on random projections.

.. math:: SW_p(\alpha, \beta) = \Big(\frac{1}{L}\sum_{l=1}^{L}
          W_p^p(\theta_l{}_\#\alpha, \theta_l{}_\#\beta)\Big)^{1/p}

Each projection is solved by the batched 1-D kernel of :mod:`divergences.univariate`, in
blocks of projections that bound the memory used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._gradients import Gradients, centred
from ._scaling import half_range, normalise, power_of_two_scale
from ._univariate_exact import staircase_for
from ._validation import check_n_projections, check_p, check_point_sets, check_seed
from ._validation_learning import check_bool
from .univariate import _block_size, _distances

__all__ = ["sliced_wasserstein"]


def _directions(rng, n_projections, d):
    """``n_projections`` independent uniform unit vectors of ``R^d`` (normalised normals)."""
    theta = rng.standard_normal((n_projections, d))
    norms = np.linalg.norm(theta, axis=1)
    while (norms == 0).any():  # probability zero; kept so a division by 0 is impossible
        bad = norms == 0
        theta[bad] = rng.standard_normal((int(bad.sum()), d))
        norms = np.linalg.norm(theta, axis=1)
    theta /= norms[:, None]
    return theta


def _projected_gradients(X, Y, a, b, p):
    r"""For each row ``l`` of the projections ``X`` (L, n), ``Y`` (L, m): the gradient of
    the 1-D :math:`W_p^p` with respect to the projected points and the potentials, from
    the monotone coupling (:func:`~._univariate_exact.staircase_for`). Returns ``(GX, GY,
    F, G)`` with the shapes of ``X``, ``Y``, ``X``, ``Y``."""
    n, m = X.shape[1], Y.shape[1]
    size = n + m - 1
    rows, cols = np.empty(size, np.int64), np.empty(size, np.int64)
    mass, fs, gs = np.empty(size), np.empty(n), np.empty(m)
    GX, GY, F, G = (np.empty_like(v) for v in (X, Y, X, Y))
    walk = staircase_for(a, b)
    for k in range(X.shape[0]):
        ox, oy = np.argsort(X[k]), np.argsort(Y[k])
        xs, ys = np.ascontiguousarray(X[k, ox]), np.ascontiguousarray(Y[k, oy])
        walk(xs, np.ascontiguousarray(a[ox]), ys, np.ascontiguousarray(b[oy]), float(p), 1.0,
             True, rows, cols, mass, fs, gs)
        u = xs[rows] - ys[cols]
        with np.errstate(under="ignore"):
            slope = mass * p * np.abs(u) ** (p - 1.0) * np.sign(u)
        GX[k, ox] = np.bincount(rows, slope, minlength=n)
        GY[k, oy] = -np.bincount(cols, slope, minlength=m)
        F[k, ox], G[k, oy] = fs, gs
    return GX, GY, F, G


def sliced_wasserstein(x: ArrayLike, y: ArrayLike, a: ArrayLike | None = None,
                       b: ArrayLike | None = None, *, p: float = 2, n_projections: int = 100,
                       seed: int | np.random.Generator | None = None,
                       return_gradient: bool = False) -> Any:
    r"""Sliced Wasserstein distance: :math:`W_p` averaged over random 1-D projections.

    .. math:: SW_p(\alpha, \beta) = \Big(\frac{1}{L}\sum_{l=1}^{L}
              W_p^p(\theta_l{}_\#\alpha, \theta_l{}_\#\beta)\Big)^{1/p},

    a Monte Carlo estimate of
    :math:`\big(\int_{S^{d-1}} W_p^p(\theta_\#\alpha, \theta_\#\beta)\,d\sigma(\theta)\big)^{1/p}`,
    where :math:`\theta_\#\alpha` is the law of :math:`\langle\theta, X\rangle` and the
    :math:`\theta_l` are independent uniform unit vectors (normalised standard normals).

    Parameters
    ----------
    x, y : array_like, shape (n, d) and (m, d)
        Points of the two measures, in the same dimension ``d`` (``(n,)`` means ``d = 1``).
    a, b : array_like, shape (n,) and (m,), optional
        Non-negative weights (counts are fine), normalised to sum 1. Default uniform.
    p : float, default 2
        Order, ``p >= 1``.
    n_projections : int, default 100
        Number ``L`` of random directions.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Passed to ``numpy.random.default_rng``; the same seed gives the same directions
        and the same result.
    return_gradient : bool, default False
        Also return the gradient of :math:`SW_p` (the returned value) with respect to
        ``x``, ``y``, ``a`` and ``b``, for the same directions.

    Returns
    -------
    float
        :math:`SW_p` (the root applied). For identical inputs it is 0; for ``d = 1`` it
        equals :math:`W_p`.
    gradients : Gradients, only with ``return_gradient=True``
        The named tuple ``(x, y, a, b)`` of gradients, shapes ``(n, d)``, ``(m, d)``,
        ``(n,)``, ``(m,)``, with the conventions of :meth:`TransportResult.gradient`
        (the weights' gradients are tangent to the simplex). By the envelope theorem on
        each projection,

        .. math:: \nabla_{x_i} SW_p = \frac{SW_p^{1-p}}{p L} \sum_l
                  \partial_{x_i} W_p^p(\theta_l{}_\#\alpha, \theta_l{}_\#\beta)\,
                  \theta_l,

        the 1-D derivatives coming from the monotone couplings (the returned element of
        the superdifferential at ties, as there). Zero when :math:`SW_p = 0`, where it is
        not differentiable.

    See Also
    --------
    wasserstein : the exact :math:`W_p` (closed form in 1-D, network simplex in d-D).
    wasserstein_1d : many 1-D problems at once.

    Notes
    -----
    Each projection is an exact 1-D problem solved by the kernel of
    :func:`wasserstein_1d`; projections run in parallel (sorting and the merge in threads),
    in blocks that bound the memory used.

    References
    ----------
    .. [1] J. Rabin, G. Peyré, J. Delon and M. Bernot, "Wasserstein barycenter and its
       application to texture mixing", SSVM 2011.
    .. [2] N. Bonneel, J. Rabin, G. Peyré and H. Pfister, "Sliced and Radon Wasserstein
       barycenters of measures", J. Math. Imaging Vis. 51, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import sliced_wasserstein
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> sliced_wasserstein(x, x + 3.0, seed=0)
    3.0
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> sliced_wasserstein(x, x, n_projections=10, seed=1)
    0.0
    >>> value, grad = sliced_wasserstein([[0.0, 0.0]], [[3.0, 4.0]], p=1, return_gradient=True,
    ...                                  n_projections=1000, seed=0)
    >>> grad.x.round(2), grad.y.shape, grad.a
    (array([[-0.4 , -0.49]]), (1, 2), array([0.]))
    """
    x, y, a, b = check_point_sets(x, y, a, b)
    p = check_p(p)
    n_projections = check_n_projections(n_projections)
    rng = check_seed(seed)
    return_gradient = check_bool(return_gradient, "return_gradient")
    a = normalise(a)
    b = normalise(b)
    # exact power-of-two rescaling: differences of projections (at most sqrt(d) times a
    # coordinate range) to the power p do not overflow
    scale = power_of_two_scale(half_range(x, y), p, np.sqrt(x.shape[1]))
    x, y = (x, y) if scale == 1.0 else (x / scale, y / scale)
    block = _block_size(x.shape[0], y.shape[0], x.shape[1])
    # (1/L) sum_l W_l^p = top^p (1/L) sum_l (W_l / top)^p with top = max W_l so far:
    # no W_l^p is formed (it could underflow or overflow) and nothing of size L is kept
    top = 0.0
    acc = 0.0
    grads: Any = [np.zeros((x.shape[1], x.shape[0])), np.zeros((x.shape[1], y.shape[0])),
             np.zeros(x.shape[0]), np.zeros(y.shape[0])] if return_gradient else None
    with np.errstate(under="ignore"):
        for lo in range(0, n_projections, block):
            t = _directions(rng, min(block, n_projections - lo), x.shape[1])
            X = np.ascontiguousarray(t @ x.T)
            Y = np.ascontiguousarray(t @ y.T)
            if return_gradient:  # before _distances, which sorts X and Y in place
                GX, GY, F, G = _projected_gradients(X, Y, a, b, p)
                grads[0] += t.T @ GX
                grads[1] += t.T @ GY
                grads[2] += F.sum(axis=0)
                grads[3] += G.sum(axis=0)
            del t  # the next block's directions are drawn without this one alive
            dist = _distances(X, a, Y, b, p, X.shape[0])
            new_top = float(dist.max())
            if new_top > top:
                acc *= (top / new_top) ** p
                top = new_top
            if top > 0.0:
                acc += float(np.sum((dist / top) ** p))
    value = 0.0 if top == 0.0 else scale * top * (acc / n_projections) ** (1.0 / p)
    if not return_gradient:
        return value
    # SW = scale SW_s(x / scale): d SW / dx = d SW_s / dx_s, d SW / da = scale d SW_s / da
    factor = 0.0 if top == 0.0 else (top * (acc / n_projections) ** (1.0 / p)) ** (1.0 - p) / (
        p * n_projections)
    gx, gy, ga, gb = (factor * v for v in grads)
    return value, Gradients(x=gx.T, y=gy.T, a=scale * centred(ga), b=scale * centred(gb))
