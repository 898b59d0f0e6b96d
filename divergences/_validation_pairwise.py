"""Checks of the inputs of :func:`divergences.pairwise` (matrices, supports, point sets, k).

Built on the helpers of :mod:`divergences._validation`; validators never compute.
"""

from __future__ import annotations

from ._validation import (
    as_real_array,
    check_finite,
    check_histogram_rows,
    check_nonnegative,
    check_points,
    check_positive_int,
    check_positive_mass,
    check_weights,
)

__all__ = [
    "check_histogram_matrix",
    "check_k",
    "check_point_set_sequence",
    "check_support",
    "is_point_set_sequence",
]


def check_histogram_matrix(x, name, n_bins=None):
    """A 2-D float64 array of histograms (one per row) and its validated row sums (the
    compiled scan of :func:`check_histogram_rows`).

    ``n_bins``, when given, is the number of columns required (the support's size); then
    the checks are NumPy's and the sums are ``None``: the transport plans compute their
    own, and their first call compiles no scan (0.7 s), for a pass that the ``N^2``
    problems dwarf.
    """
    arr = as_real_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one histogram per row), got {arr.shape}")
    if n_bins is None:
        return arr, check_histogram_rows(arr, name)
    if arr.shape[1] != n_bins:
        raise ValueError(f"{name} has {arr.shape[1]} bins per row but the support has "
                         f"{n_bins} points")
    check_finite(arr, name)
    check_nonnegative(arr, name)
    check_positive_mass(arr, name, axis=1)
    return arr, None


def check_support(support):
    """The shared support of histograms: ``(n_bins,)`` or ``(n_bins, d)`` finite points,
    returned as ``(n_bins, d)``."""
    if support is None:
        raise ValueError("support is required for histograms with metric='wasserstein' or "
                         "'sliced' (the points of the bins, shape (n_bins,) or "
                         "(n_bins, d)); for point sets pass sequences of arrays as X and Y")
    return check_points(support, "support")


def is_point_set_sequence(x):
    """Whether ``x`` is a list or tuple (of point sets), rather than one array."""
    return isinstance(x, (list, tuple))


def check_point_set_sequence(sets, weights, name):
    """A non-empty sequence of point sets ``(n_k, d)`` (``(n_k,)`` means d = 1) of one
    dimension, and their weights (``None``, or a sequence of the same length whose entries
    are ``None`` or ``(n_k,)`` weights; not normalised)."""
    if not is_point_set_sequence(sets) or len(sets) == 0:
        raise ValueError(f"{name} must be a non-empty list of point sets (arrays (n_k, d))")
    points = [check_points(s, f"{name}[{k}]") for k, s in enumerate(sets)]
    dims = {p.shape[1] for p in points}
    if len(dims) > 1:
        raise ValueError(f"the point sets of {name} must have one dimension, got {sorted(dims)}")
    wname = "weights" if name == "X" else "y_weights"
    if weights is None:
        weights = [None] * len(points)
    elif not is_point_set_sequence(weights) or len(weights) != len(points):
        raise ValueError(f"{wname} must be a list of {len(points)} weight arrays (one per "
                         f"point set of {name}) or None")
    w = [check_weights(wk, p.shape[0], f"{wname}[{k}]")
         for k, (p, wk) in enumerate(zip(points, weights, strict=True))]
    return points, w


def check_k(k, candidates):
    """The number of nearest neighbours: an integer in ``1 .. candidates``."""
    k = check_positive_int(k, "k")
    if k > candidates:
        raise ValueError(f"k={k} exceeds the {candidates} candidate neighbours of each row")
    return k

