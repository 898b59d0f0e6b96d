r"""Distance matrices between many distributions: :func:`pairwise`.

:func:`pairwise` validates its options and builds a *plan* (what every pair shares), then
computes the matrix block by block: the information divergences by the parallel kernel
:mod:`divergences._kernels.pairwise`, the Wasserstein distances by the plans of
:mod:`divergences.transport_matrices`. With ``k`` it keeps only the ``k`` nearest
columns of each row (:mod:`divergences._nearest`); on ``dask.array`` inputs it builds a
Dask graph of the same blocks (:mod:`divergences.distributed`).
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._kernels import elementwise as _ew
from ._kernels.pairwise import matrix_kernel
from ._validation import (
    check_alpha,
    check_base,
    check_choice,
    check_minkowski_order,
    check_n_projections,
    check_p,
    check_positive_int,
    check_seed,
)
from ._validation_pairwise import check_histogram_matrix, check_support, is_point_set_sequence
from .information import _check_js_distance_base, _renyi_code

__all__ = ["pairwise"]


_PAIRWISE = {  # and "renyi": _renyi_code(alpha)
    "kl": _ew.KL,
    "js": _ew.JS,
    "js_distance": _ew.JS,
    "tv": _ew.TV,
    "hellinger": _ew.HELLINGER,
    "chi2": _ew.CHI2,
}
_SYMMETRIC = {"js", "js_distance", "tv", "hellinger"}
_TRANSPORT = ("wasserstein", "sliced")
#: default number of directions of ``metric="sliced"``
N_PROJECTIONS = 50


class Information:
    """Plan of the information divergences (see :mod:`divergences.transport_matrices`
    for the plan interface: ``rows``, ``take``, ``count``, ``fit``, ``block``)."""

    def __init__(self, name, code, alpha, base):
        self.name, self.code, self.alpha, self.base = name, code, alpha, base
        self.symmetric = name in _SYMMETRIC

    def rows(self, X, name, weights=None):
        arr, _ = check_histogram_matrix(X, name)
        # row sums by NumPy (pairwise summation, row by row): the validation scan runs
        # threaded or not by the array's size, and the two compilations can round
        # differently; a row's sum must not depend on the rows around it (Dask chunks)
        return _ew.lift_tiny_rows(arr, arr.sum(axis=1))

    @staticmethod
    def take(P, r0, r1):
        return P[0][r0:r1], P[1][r0:r1]

    @staticmethod
    def count(P):
        return P[0].shape[0]

    @staticmethod
    def fit(PX, PY):
        if PY[0].shape[1] != PX[0].shape[1]:
            raise ValueError(f"X and Y must have the same number of bins, got "
                             f"{PX[0].shape[1]} and {PY[0].shape[1]}")

    def _kernel(self, PX, PY, triangle):
        (X, xs), (Y, ys) = PX, PY
        big = X.shape[0] * Y.shape[0] * X.shape[1] >= _ew.PARALLEL_MIN
        return matrix_kernel(self.code, big)(self.code, self.alpha, X, Y, xs, ys, triangle)

    def _canonical(self, PX, x0, PY, y0):
        """A block of the matrix of one array with itself, equal to the same block of the
        symmetric matrix: a pair of rows ``g > h`` is computed as ``(h, g)`` (the pair
        kernels are symmetric in exact arithmetic only), a row with itself is 0."""
        nx, ny = PX[0].shape[0], PY[0].shape[0]
        out = np.empty((nx, ny))
        lo = min(max(x0 - y0, 0), ny)  # columns before: every pair mirrored
        hi = min(max(x0 + nx - y0, lo), ny)  # columns after: none mirrored
        if lo > 0:
            out[:, :lo] = self._kernel(self.take(PY, 0, lo), PX, False).T
        if hi < ny:
            out[:, hi:] = self._kernel(PX, self.take(PY, hi, ny), False)
        if hi - lo == nx and y0 + lo == x0:  # the columns of the block's own rows
            out[:, lo:hi] = self._kernel(PX, PX, True)  # the symmetric triangle
        elif hi > lo:  # a partial overlap: both orders, then the right one
            PO = self.take(PY, lo, hi)
            g = x0 + np.arange(nx)[:, None]
            h = y0 + np.arange(lo, hi)[None, :]
            out[:, lo:hi] = np.where(g < h, self._kernel(PX, PO, False),
                                     np.where(g > h, self._kernel(PO, PX, False).T, 0.0))
        return out

    def block(self, PX, x0, PY, y0, mode):
        triangle = mode == "symmetric" and self.symmetric
        if mode == "canonical" and self.symmetric:
            out = self._canonical(PX, x0, PY, y0)
        else:
            out = self._kernel(PX, PY, triangle)
        if mode == "symmetric" and not triangle:
            np.fill_diagonal(out, 0.0)
        elif mode == "canonical" and not self.symmetric:  # a row with itself: 0
            rows = np.arange(PX[0].shape[0])
            cols = rows + x0 - y0
            on = (cols >= 0) & (cols < PY[0].shape[0])
            out[rows[on], cols[on]] = 0.0
        if self.base is not None:
            out /= math.log(self.base)
        if self.name == "js_distance":
            np.sqrt(out, out=out)
        return out


def _information_plan(name, base, alpha):
    if name == "renyi":
        if alpha is None:
            raise ValueError("alpha is required for metric='renyi'")
        alpha = check_alpha(alpha)
    elif alpha is not None:
        raise ValueError(f"alpha is only used by metric='renyi', not {name!r}")
    else:
        alpha = 1.0
    if name in ("tv", "hellinger", "chi2") and base is not None:
        raise ValueError(f"base does not apply to metric={name!r}")
    base = _check_js_distance_base(base) if name == "js_distance" else check_base(base)
    code = _renyi_code(alpha) if name == "renyi" else _PAIRWISE[name]
    return Information(name, code, alpha, base)


def _transport_plan(name, X, support, p, ground_metric, q, n_projections, seed, max_iter):
    from . import transport_matrices as tm
    from ._metrics import metric_code
    from .exact import MAX_ITER_DEFAULT

    p = check_p(1 if p is None else p)
    if name == "sliced":
        for option, value in (("ground_metric", ground_metric), ("q", q),
                              ("max_iter", max_iter)):
            if value is not None:
                raise ValueError(f"{option} does not apply to metric='sliced' (Euclidean "
                                 "projections)")
        if is_point_set_sequence(X) and support is None:
            raise ValueError("metric='sliced' needs histograms on a shared support "
                             "(support=); use metric='wasserstein' for point sets")
        return tm.SupportSliced(check_support(support), p, check_n_projections(
            N_PROJECTIONS if n_projections is None else n_projections), check_seed(seed))
    for option, value in (("n_projections", n_projections), ("seed", seed)):
        if value is not None:
            raise ValueError(f"{option} only applies to metric='sliced'")
    code = metric_code("euclidean" if ground_metric is None else ground_metric)
    q = check_minkowski_order(q, ground_metric == "minkowski")
    max_iter = check_positive_int(MAX_ITER_DEFAULT if max_iter is None else max_iter,
                                  "max_iter")
    if support is None and is_point_set_sequence(X):
        return tm.PointSets(p, code, q, max_iter)
    support = check_support(support)
    if support.shape[1] == 1:
        return tm.Support1D(support, p, code)
    # rows of X: the local solver only for many (a dask array's count may be unknown: nan)
    rows = X.shape[0] if hasattr(X, "shape") and len(X.shape) else len(X)
    n_rows = int(rows) if rows == rows else None
    return tm.SupportExact(support, p, code, q, max_iter, n_rows=n_rows)


def make_plan(metric, X, *, base, alpha, support, p, ground_metric, q, n_projections, seed,
              max_iter, weights, y_weights):
    """Validate the options of :func:`pairwise` for ``metric``; the plan of the matrix."""
    name = check_choice(metric, "metric", [*_PAIRWISE, "renyi", *_TRANSPORT])
    if name in _TRANSPORT:
        if base is not None or alpha is not None:
            raise ValueError(f"base and alpha do not apply to metric={name!r}")
        plan = _transport_plan(name, X, support, p, ground_metric, q, n_projections, seed,
                               max_iter)
        point_sets = support is None
    else:
        extra = {"support": support, "p": p, "ground_metric": ground_metric, "q": q,
                 "n_projections": n_projections, "seed": seed, "max_iter": max_iter}
        given = sorted(k for k, v in extra.items() if v is not None)
        if given:
            raise ValueError(f"{', '.join(given)} only apply to metric='wasserstein' or "
                             f"'sliced', not {name!r}")
        plan = _information_plan(name, base, alpha)
        point_sets = False
    if not point_sets and (weights is not None or y_weights is not None):
        raise ValueError("weights and y_weights only apply to point sets (sequences of "
                         "arrays with metric='wasserstein'); histograms carry their weights")
    return plan


def _is_dask(x):
    return type(x).__module__.split(".")[0] == "dask"


def pairwise(X: Any, Y: Any = None, *, metric: str = "js", base: float | None = None,
             alpha: float | None = None, support: ArrayLike | None = None,
             p: float | None = None, weights: Sequence[ArrayLike] | None = None,
             y_weights: Sequence[ArrayLike] | None = None, ground_metric: str | None = None,
             q: float | None = None, n_projections: int | None = None,
             seed: int | np.random.Generator | None = None, max_iter: int | None = None,
             k: int | None = None) -> Any:
    r"""The matrix of divergences or distances between many distributions, or each one's
    ``k`` nearest.

    .. math:: D_{ij} = \mathrm{metric}(X_i, Y_j)

    For the information divergences each row is a histogram (counts or probabilities,
    normalised to sum 1), computed in parallel by one compiled kernel; per-bin logarithms
    are computed once per row, not once per pair. For ``metric="wasserstein"`` the rows
    are histograms on a common ``support`` (:math:`W_p` by the 1-D closed form on a 1-D
    support, by one exact network simplex per pair on a d-D one, the ground cost matrix
    computed once), or, without ``support``, ``X`` and ``Y`` are sequences of point sets,
    each a measure of its own. ``metric="sliced"`` is the sliced :math:`W_p` of histograms
    on a d-D support. With ``Y=None`` the rows of ``X`` are compared with each other: for
    the symmetric metrics (``js``, ``js_distance``, ``tv``, ``hellinger``, ``wasserstein``,
    ``sliced``) each unordered pair is computed once and mirrored; the diagonal is 0 for
    every metric.

    Parameters
    ----------
    X : array_like (N, n_bins), list of N arrays (n_k, d), or dask.array
        Histograms, one per row; or point sets (``metric="wasserstein"`` without
        ``support``); or a ``dask.array`` of histograms chunked by rows (then the result is
        a ``dask.array`` built from the same blocks; see :mod:`divergences.distributed`).
    Y : same kind as X, optional
        Compared with ``X``; ``None`` compares ``X`` with itself.
    metric : str, default "js"
        One of ``"js"``, ``"js_distance"``, ``"kl"``, ``"tv"``, ``"hellinger"``,
        ``"chi2"``, ``"renyi"``, ``"wasserstein"``, ``"sliced"``: the divergence, with
        the conventions of the function of the same name
        (``"wasserstein"``: :func:`wasserstein`; ``"sliced"``: :func:`sliced_wasserstein`).
    base : float, optional
        Logarithm base for ``kl``, ``js``, ``js_distance`` and ``renyi``.
    alpha : float
        The order for ``metric="renyi"`` (required there, rejected otherwise).
    support : array_like, shape (n_bins,) or (n_bins, d), optional
        The points of the bins, shared by every histogram (``wasserstein``, ``sliced``).
    p : float, default 1
        Order of :math:`W_p` (``p >= 1``).
    weights, y_weights : list of arrays, optional
        Weights of the point sets of ``X`` and ``Y`` (counts are fine; default uniform).
    ground_metric : {"euclidean", "sqeuclidean", "cityblock", "chebyshev", "minkowski"}
        Ground distance of ``wasserstein`` (default Euclidean; ``q`` for Minkowski).
    q : float, optional
        Order of the Minkowski ground distance.
    n_projections : int, default 50
        Directions of ``metric="sliced"``, drawn once and shared by every pair.
    seed : None, int or numpy.random.Generator
        Seed of the directions (as :func:`sliced_wasserstein`: the same seed gives the
        same directions and, per pair, the same value).
    max_iter : int, default 10_000_000
        Pivot limit of each exact problem.
    k : int, optional
        Return, for each row of ``X``, its ``k`` nearest rows of ``Y`` instead of the
        matrix, computed block by block (memory :math:`O(N k)` plus one block). With
        ``Y=None`` a row is not its own neighbour (as scikit-learn's ``kneighbors()``).

    Returns
    -------
    ndarray, shape (N, M)
        The matrix; or with ``k``, ``(indices, distances)``, each of shape (N, k), sorted
        by distance (ties by index). Dask inputs give dask arrays.

    Notes
    -----
    For ``js`` the pair loop uses :math:`a\log a + b\log b - m\log m` with the entropic
    terms precomputed per row, which costs one logarithm per bin and pair; the result can
    differ from :func:`js` by a few ulps of ``log 2`` (disjoint rows still give exactly
    ``log 2``).

    On a sorted 1-D support with gaps :math:`g_k = s_{k+1} - s_k`,
    :math:`W_1(a, b) = \sum_k |A_k - B_k|\, g_k` with :math:`A, B` the cumulative sums,
    one vectorised pass per pair; other ``p`` walk the monotone coupling. The exact
    problems run in batches of pairs of about 0.1 s, so Ctrl-C stops a long matrix.
    Pairs the fast kernels cannot certify (an underflowed cost, an exact cost below
    :math:`2^{-30}` of its largest cost, ``max_iter`` reached) are solved again by the
    one-problem function, so each entry is that function's value for the pair.

    See Also
    --------
    wasserstein, sliced_wasserstein, js, kl

    References
    ----------
    .. [1] G. Peyré and M. Cuturi, *Computational Optimal Transport*, 2019, Remark 2.30
       (1-D closed form) and Section 3.5 (network simplex).

    Examples
    --------
    >>> from divergences import pairwise
    >>> pairwise([[1, 0], [0, 1], [1, 1]], metric="tv")
    array([[0. , 1. , 0.5],
           [1. , 0. , 0.5],
           [0.5, 0.5, 0. ]])
    >>> pairwise([[1, 0, 0], [0, 0, 1], [1, 1, 0]], metric="wasserstein", support=[0, 1, 2])
    array([[0. , 2. , 0.5],
           [2. , 0. , 1.5],
           [0.5, 1.5, 0. ]])
    >>> idx, dist = pairwise([[1, 0, 0], [0, 0, 1], [1, 1, 0]], metric="wasserstein",
    ...                      support=[0, 1, 2], k=1)
    >>> idx.ravel(), dist.ravel()
    (array([2, 2, 0]), array([0.5, 1.5, 0.5]))
    """
    plan = make_plan(metric, X, base=base, alpha=alpha, support=support, p=p,
                     ground_metric=ground_metric, q=q, n_projections=n_projections,
                     seed=seed, max_iter=max_iter, weights=weights, y_weights=y_weights)
    if _is_dask(X) or _is_dask(Y):
        from .distributed import dask_pairwise

        return dask_pairwise(plan, X, Y, k)
    PX = plan.rows(X, "X", weights) if weights is not None else plan.rows(X, "X")
    if Y is None:
        PY = PX
    else:
        PY = plan.rows(Y, "Y", y_weights) if y_weights is not None else plan.rows(Y, "Y")
    plan.fit(PX, PY)
    if k is not None:
        from ._nearest import nearest

        return nearest(plan, PX, PY, k, same=Y is None)
    return plan.block(PX, 0, PY, 0, "symmetric" if Y is None else "full")
