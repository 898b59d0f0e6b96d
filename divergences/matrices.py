r"""The matrix of information divergences between the rows of two histogram arrays.

:func:`pairwise` validates its inputs, calls the one parallel kernel
:func:`divergences._kernels.pairwise.pairwise_matrix` and wraps the result. The
divergences and their conventions are those of :mod:`divergences.information`.
"""

import math

import numpy as np

from ._kernels import elementwise as _ew
from ._kernels.pairwise import matrix_kernel
from ._validation import (
    as_real_array,
    check_alpha,
    check_base,
    check_choice,
    check_histogram_pair,
    check_histogram_rows,
)
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


def _matrix(x, name):
    arr = as_real_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one histogram per row), got {arr.shape}")
    return arr


def pairwise(X, Y=None, *, metric="js", base=None, alpha=None):
    r"""The matrix of divergences between the rows of ``X`` and the rows of ``Y``.

    .. math:: D_{ij} = \mathrm{metric}(X_i, Y_j)

    Each row is a histogram (counts or probabilities, normalised to sum 1). Computed in
    parallel by one compiled kernel; per-bin logarithms are computed once per row, not
    once per pair. With ``Y=None`` the rows of ``X`` are compared with each other: for the
    symmetric metrics (``js``, ``js_distance``, ``tv``, ``hellinger``) each unordered pair
    is computed once and mirrored; the diagonal is 0 for every metric.

    Parameters
    ----------
    X : array_like, shape (N, n)
    Y : array_like, shape (M, n), optional
    metric : {"js", "js_distance", "kl", "tv", "hellinger", "chi2", "renyi"}
        The divergence, with the conventions of the function of the same name.
    base : float, optional
        Logarithm base for ``kl``, ``js``, ``js_distance`` and ``renyi``.
    alpha : float
        The order for ``metric="renyi"`` (required there, rejected otherwise).

    Returns
    -------
    ndarray, shape (N, M)

    Notes
    -----
    For ``js`` the pair loop uses :math:`a\log a + b\log b - m\log m` with the entropic
    terms precomputed per row, which costs one logarithm per bin and pair; the result can
    differ from :func:`js` by a few ulps of ``log 2`` (disjoint rows still give exactly
    ``log 2``).

    Examples
    --------
    >>> from divergences import pairwise
    >>> pairwise([[1, 0], [0, 1], [1, 1]], metric="tv")
    array([[0. , 1. , 0.5],
           [1. , 0. , 0.5],
           [0.5, 0.5, 0. ]])
    """
    name = check_choice(metric, "metric", [*_PAIRWISE, "renyi"])
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
    X = _matrix(X, "X")
    if Y is None:
        X, xs = _ew.lift_tiny_rows(X, check_histogram_rows(X, "X"))
        Y, ys = X, xs
    else:
        Y = _matrix(Y, "Y")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(
                f"X and Y must have the same number of bins, got {X.shape[1]} and {Y.shape[1]}"
            )
        xs, ys = check_histogram_pair(X, Y, ("X", "Y"))
        same = Y is X
        X, xs = _ew.lift_tiny_rows(X, xs)
        Y, ys = (X, xs) if same else _ew.lift_tiny_rows(Y, ys)
    symmetric = Y is X and name in _SYMMETRIC
    big = X.shape[0] * Y.shape[0] * X.shape[1] >= _ew.PARALLEL_MIN
    out = matrix_kernel(code, big)(code, alpha, X, Y, xs, ys, symmetric)
    if Y is X and not symmetric:
        np.fill_diagonal(out, 0.0)
    if base is not None:
        out /= math.log(base)
    if name == "js_distance":
        np.sqrt(out, out=out)
    return out
