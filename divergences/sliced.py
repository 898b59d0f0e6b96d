r"""Sliced Wasserstein distance: exact 1-D problems on random projections.

.. math:: SW_p(\alpha, \beta) = \Big(\frac{1}{L}\sum_{l=1}^{L}
          W_p^p(\theta_l{}_\#\alpha, \theta_l{}_\#\beta)\Big)^{1/p}

Each projection is solved by the batched 1-D kernel of :mod:`divergences.univariate`, in
blocks of projections that bound the memory used.
"""

from __future__ import annotations

import numpy as np

from ._scaling import half_range, normalise, power_of_two_scale
from ._validation import check_n_projections, check_p, check_point_sets, check_seed
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


def sliced_wasserstein(x, y, a=None, b=None, *, p=2, n_projections=100, seed=None):
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

    Returns
    -------
    float
        :math:`SW_p` (the root applied). For identical inputs it is 0; for ``d = 1`` it
        equals :math:`W_p`.

    Notes
    -----
    Each projection is an exact 1-D problem solved by the kernel of
    :func:`wasserstein_1d`; projections run in parallel (sorting in threads, the merge in
    numba ``prange``), in blocks that bound the memory used.

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
    """
    x, y, a, b = check_point_sets(x, y, a, b)
    p = check_p(p)
    n_projections = check_n_projections(n_projections)
    rng = check_seed(seed)
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
    with np.errstate(under="ignore"):
        for lo in range(0, n_projections, block):
            t = _directions(rng, min(block, n_projections - lo), x.shape[1])
            X = np.ascontiguousarray(t @ x.T)
            Y = np.ascontiguousarray(t @ y.T)
            del t  # the next block's directions are drawn without this one alive
            dist = _distances(X, a, Y, b, p, X.shape[0])
            new_top = float(dist.max())
            if new_top > top:
                acc *= (top / new_top) ** p
                top = new_top
            if top > 0.0:
                acc += float(np.sum((dist / top) ** p))
    if top == 0.0:
        return 0.0
    return scale * top * (acc / n_projections) ** (1.0 / p)
