r"""From samples to information divergences: aligned histograms and the k-NN KL estimator.

KL, JS and TV compare histograms over the *same* bins. :func:`aligned_histograms` turns
two samples into such a pair (shared bin edges from the pooled data, or counts over the
union of the observed values for discrete data); :func:`kl_knn` estimates the KL divergence
between two continuous distributions directly from samples, without bins.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_real_array,
    check_base,
    check_finite,
    check_points,
    check_positive_int,
    check_same_dimension,
)

__all__ = ["AlignedHistograms", "aligned_histograms", "kl_knn"]

#: The result of :func:`aligned_histograms`: counts ``p`` (of x) and ``q`` (of y) over the
#: same bins, and ``support``: the bin edges (an array for 1-D data, a tuple of d arrays
#: for d-D data, where ``p`` and ``q`` are the flattened d-D histograms in C order), or,
#: for discrete data, the observed values (shape (k,) for 1-D data, (k, d) rows for d-D).
class AlignedHistograms(NamedTuple):
    """Counts ``p`` (of x) and ``q`` (of y) over the same bins, and their ``support``."""

    p: NDArray[np.float64]
    q: NDArray[np.float64]
    support: Any

#: the most bins (the product over dimensions) :func:`aligned_histograms` builds: each
#: takes ~40 bytes at the peak (two float64 histograms and NumPy's temporaries), so
#: 2**26 bins are ~2.7 GB; more is refused with a ValueError naming ``bins``
MAX_BINS = 2**26
_BYTES_PER_BIN = 40


def _per_dimension(value, d, name):
    """``value`` for each of d dimensions: one spec for all, or a sequence of d specs."""
    if d == 1:
        return [value]
    if isinstance(value, (str, numbers.Integral)) or value is None:
        return [value] * d
    try:
        size = len(value)
    except TypeError:
        raise TypeError(f"{name} must be one specification or a sequence of one per "
                        f"dimension, got {type(value).__name__}") from None
    if name == "range" and size == 2 and all(isinstance(v, numbers.Real) for v in value):
        return [tuple(value)] * d
    if size != d:
        raise ValueError(f"{name} must be one specification or one per dimension ({d})")
    return list(value)


def _check_bin_spec(spec, lims):
    """Raise, naming the argument, for explicit edges or a range that are not finite reals
    (NumPy accepts NaN edges and names neither argument)."""
    if lims is not None:
        arr = as_real_array(lims, "range")
        if arr.shape != (2,):
            raise ValueError(f"range must be a pair (min, max), got shape {arr.shape}")
        check_finite(arr, "range")
    if not isinstance(spec, (str, numbers.Integral)):
        check_finite(as_real_array(spec, "bins"), "bins")


def aligned_histograms(
    x: ArrayLike,
    y: ArrayLike,
    *,
    bins: int | str | Sequence[Any] = "auto",
    range: tuple[float, float] | Sequence[tuple[float, float]] | None = None,  # noqa: A002
    discrete: bool = False,
) -> AlignedHistograms:
    r"""Count two samples over common bins, ready for :func:`kl`, :func:`js`, :func:`tv`.

    Continuous data (``discrete=False``): the bin edges of each dimension are computed by
    :func:`numpy.histogram_bin_edges` from the *pooled* sample ``concatenate([x, y])``, so
    both histograms share them. Discrete data (``discrete=True``): the bins are the union of
    the values observed in ``x`` or ``y`` (rows, for d-D data), so no value gets a zero
    count in both.

    .. math:: p_k = \#\{i : x_i \in B_k\}, \qquad q_k = \#\{j : y_j \in B_k\}

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d) and (m,) or (m, d)
        The two samples (finite real numbers, same dimension d).
    bins : int, str or sequence, default "auto"
        As in :func:`numpy.histogram_bin_edges` (a number, a rule name or explicit edges);
        for d-D data either one number or rule name for every dimension, or a sequence of d
        specifications (so a sequence is always read as one entry per dimension there).
        Ignored when ``discrete``. At most :data:`MAX_BINS` (2**26) bins in all (the
        product over dimensions, whether given or chosen by a rule): more is a
        ``ValueError`` that says the memory they would take. The edges are NumPy's,
        computed on the data rescaled by a power of two, so data near +-1e308 get finite
        edges too.
    range : (float, float) or sequence of d pairs, optional
        The range of the bins (default: the pooled min and max). Points outside it are
        not counted. Ignored when ``discrete``.
    discrete : bool, default False
        Count over the union of observed values instead of binning.

    Returns
    -------
    AlignedHistograms
        Named tuple ``(p, q, support)``: float64 counts of ``x`` and of ``y`` over the same
        bins (for d-D data, the d-D histogram flattened in C order), and the bin edges
        (array, or tuple of d arrays) or the observed values.

    See Also
    --------
    kl, js, tv : Divergences between the two histograms.
    kl_knn : KL between continuous samples without bins.
    numpy.histogram_bin_edges : The rules behind ``bins``.

    Examples
    --------
    >>> from divergences import aligned_histograms, tv
    >>> h = aligned_histograms([0, 0, 1], [1, 2], discrete=True)
    >>> h.p, h.q, h.support
    (array([2., 1., 0.]), array([0., 1., 1.]), array([0., 1., 2.]))
    >>> float(tv(h.p, h.q))
    0.6666666666666667
    >>> aligned_histograms([0.0, 1.0], [3.0], bins=3).p
    array([1., 1., 0.])
    """
    xs = check_points(x, "x")
    ys = check_points(y, "y")
    check_same_dimension(xs, ys)
    one_d = np.ndim(x) == 1
    d = xs.shape[1]
    if not isinstance(discrete, (bool, np.bool_)):
        raise TypeError(f"discrete must be a bool, got {type(discrete).__name__}")
    n = xs.shape[0]
    pooled = np.concatenate([xs, ys])
    if discrete:
        values, inverse = np.unique(pooled, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        k = values.shape[0]
        p = np.bincount(inverse[:n], minlength=k).astype(np.float64)
        q = np.bincount(inverse[n:], minlength=k).astype(np.float64)
        return AlignedHistograms(p, q, values[:, 0] if one_d else values)
    bin_specs = _per_dimension(bins, d, "bins")
    ranges = _per_dimension(range, d, "range")
    edges = []
    for dim, (spec, lims) in enumerate(zip(bin_specs, ranges, strict=True)):
        _check_bin_spec(spec, lims)
        edges.append(_edges(pooled[:, dim], spec, lims))
    total = math.prod(e.shape[0] - 1 for e in edges)
    if total > MAX_BINS:
        raise _too_many_bins(total)
    p = np.histogramdd(xs, bins=edges)[0].ravel()
    q = np.histogramdd(ys, bins=edges)[0].ravel()
    return AlignedHistograms(p, q, edges[0] if one_d else tuple(edges))


def _too_many_bins(total):
    return ValueError(
        f"bins: {total} bins would need about {_BYTES_PER_BIN * total / 1e9:.3g} GB "
        f"(histograms and NumPy's temporaries, ~{_BYTES_PER_BIN} bytes per bin); at most "
        f"{MAX_BINS} bins in all are accepted: pass fewer bins or a smaller range")


def _edges(col, spec, lims):
    """The bin edges of one dimension, computed on the data rescaled by a power of two.

    NumPy computes the edges from the span ``max - min``, which overflows for data near
    +-1e308 (``[-1e308, 1e308]`` gave "cannot convert float NaN to integer"); every step
    of its rules is equivariant under exact power-of-two scaling, so the edges of the
    rescaled data times the same power of two are NumPy's edges wherever NumPy's are
    finite, and finite everywhere. The number of bins is checked against
    :data:`MAX_BINS` before the edges are built.
    """
    e = 0
    if isinstance(spec, (str, numbers.Integral)) and (lims is not None or col.min() < col.max()):
        # (explicit edges need no computing; NumPy widens a zero span by +-0.5, not
        # a scale-equivariant step, and it cannot overflow there)
        top = np.abs(col).max()
        if lims is not None:
            lims = np.asarray(lims, dtype=np.float64)
            top = max(top, np.abs(lims).max())
        e = int(np.frexp(top)[1])  # |values| < 2**e: rescaled into (-1, 1)
        col = np.ldexp(col, -e)
        lims = None if lims is None else tuple(np.ldexp(lims, -e))
    if isinstance(spec, (str, numbers.Integral)):
        count = spec if isinstance(spec, numbers.Integral) else _rule_count(col, spec, lims)
        if count is not None and count > MAX_BINS:
            raise _too_many_bins(count)
    try:
        scaled = np.histogram_bin_edges(col, bins=spec, range=lims)
    except (ValueError, TypeError) as exc:
        name = "range" if "range" in str(exc) else "bins"
        raise type(exc)(f"{name}: {exc}") from None
    return np.ldexp(scaled, e) if e else scaled


def _rule_count(col, rule, lims):
    """The number of bins NumPy's rule ``rule`` gives, without building the edges (``None``
    if NumPy's private selectors are not where NumPy 2 keeps them, or the rule is unknown:
    then NumPy's own error or allocation decides)."""
    try:
        from numpy.lib._histograms_impl import _hist_bin_selectors
    except ImportError:  # pragma: no cover - other NumPy layouts
        return None
    if rule not in _hist_bin_selectors:
        return None
    lo, hi = (col.min(), col.max()) if lims is None else lims
    if lims is not None:
        col = col[(col >= lo) & (col <= hi)]
    if col.size == 0 or not hi > lo:
        return 1
    with np.errstate(all="ignore"):
        width = _hist_bin_selectors[rule](col, (lo, hi))
    return int(np.ceil((hi - lo) / width)) if width and np.isfinite(width) else 1


def kl_knn(x: ArrayLike, y: ArrayLike, *, k: int = 1, base: float | None = None) -> float:
    r"""k-nearest-neighbour estimate of :math:`\mathrm{KL}(P \,\|\, Q)` from samples.

    The estimator of Wang, Kulkarni and Verdu (2009): with ``x`` (n points in
    :math:`\mathbb{R}^d`) drawn from P and ``y`` (m points) drawn from Q,

    .. math::
        \widehat{\mathrm{KL}} = \frac{d}{n} \sum_{i=1}^n \log \frac{\nu_k(i)}{\rho_k(i)}
        + \log \frac{m}{n - 1}

    where :math:`\rho_k(i)` is the Euclidean distance from :math:`x_i` to its k-th nearest
    neighbour among the other points of ``x`` and :math:`\nu_k(i)` the distance to its
    k-th nearest neighbour in ``y``. It is consistent (n, m -> inf) for continuous
    densities; on finite samples it can be slightly negative.

    Duplicate points make a distance 0 and the logarithm meaningless (the data are then
    not from a continuous distribution): if some :math:`\rho_k(i)` or :math:`\nu_k(i)` is
    0, a ``ValueError`` is raised (use a larger ``k``, jitter, or :func:`aligned_histograms`
    with ``discrete=True`` for discrete data).

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d) and (m,) or (m, d)
        Samples of P and of Q (finite, same dimension); ``n > k`` and ``m >= k``.
    k : int, default 1
        The neighbour order.
    base : float, optional
        Logarithm base (``None``: nats).

    Returns
    -------
    float

    See Also
    --------
    kl : KL between histograms.
    aligned_histograms : Turn two samples into histograms over shared bins.

    References
    ----------
    Q. Wang, S. R. Kulkarni and S. Verdu, "Divergence estimation for multidimensional
    densities via k-nearest-neighbor distances", IEEE Trans. Inf. Theory 55(5), 2009.

    Examples
    --------
    >>> from divergences import kl_knn
    >>> kl_knn([0.0, 1.0, 3.0], [0.5, 2.0])
    -0.6931471805599453
    """
    from scipy.spatial import cKDTree  # lazy: scipy.spatial costs ~0.2 s to import

    xs = check_points(x, "x")
    ys = check_points(y, "y")
    check_same_dimension(xs, ys)
    k = check_positive_int(k, "k")
    base = check_base(base)
    n, d = xs.shape
    m = ys.shape[0]
    if n < k + 1:
        raise ValueError(f"x needs more than k={k} points, got {n}")
    if m < k:
        raise ValueError(f"y needs at least k={k} points, got {m}")
    # The estimator is scale-free, but the k-d tree compares squared Euclidean distances,
    # which overflow or underflow outside ~1e+-154. In 1-D the Chebyshev norm (p=inf) is
    # the same distance and squares nothing, so the data are used as they are. In d-D each
    # set of distances is computed on data rescaled by its own exact power of two: rho on
    # x alone (x's magnitude), nu on x and y together (one scale for both would underflow
    # x's own distances when y is far larger: x = [0, 1, 3], y ~ 1e200).
    norm = np.inf if d == 1 else 2.0
    ex = 0 if d == 1 else _exponent(xs)
    exy = 0 if d == 1 else max(ex, _exponent(ys))
    xs_x = np.ldexp(xs, -ex)
    rho = cKDTree(xs_x).query(xs_x, k=[k + 1], p=norm)[0][:, 0]
    xs_xy, ys_xy = np.ldexp(xs, -exy), np.ldexp(ys, -exy)
    nu = cKDTree(ys_xy).query(xs_xy, k=[k], p=norm)[0][:, 0]
    if (rho == 0).any():
        if _has_duplicates(xs):
            raise ValueError(
                f"x has duplicate points (a {k}-th neighbour at distance 0); the k-NN "
                "estimator needs continuous samples: increase k or add jitter")
        raise ValueError(
            "x: its nearest-neighbour distances are below 1e-154 of its largest value "
            "(squared, they underflow in the k-d tree); the estimator cannot be computed "
            "reliably on data spanning that many orders of magnitude")
    if (nu == 0).any():
        if _shares_points(xs, ys):
            raise ValueError(
                f"y contains points of x (a {k}-th neighbour at distance 0); the k-NN "
                "estimator needs continuous samples: increase k or add jitter")
        raise ValueError(
            "x and y: some distances between them are below 1e-154 of their largest "
            "value (squared, they underflow in the k-d tree); the estimator cannot be "
            "computed reliably on data spanning that many orders of magnitude")
    # log(nu / rho) = log nu_s - log rho_s + (exy - ex) log 2 with nu_s, rho_s the rescaled
    # distances (the quotient itself may overflow: 1-D data are not rescaled)
    logs = np.log(nu) - np.log(rho)
    value = d * (float(np.mean(logs)) + (exy - ex) * math.log(2.0)) + math.log(m / (n - 1))
    return value if base is None else value / math.log(base)


def _exponent(arr):
    """The binary exponent ``e`` of the largest magnitude in ``arr`` (``|arr| < 2**e``)."""
    return int(np.frexp(np.abs(arr).max())[1])


def _has_duplicates(points):
    return np.unique(points, axis=0).shape[0] < points.shape[0]


def _shares_points(x, y):
    ux, uy = np.unique(x, axis=0), np.unique(y, axis=0)
    return np.unique(np.concatenate([ux, uy]), axis=0).shape[0] < ux.shape[0] + uy.shape[0]
