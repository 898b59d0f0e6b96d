"""Input checks of the evaluation family (two-sample tests, bootstrap intervals, compare).

Same rules as :mod:`divergences._validation`: validators turn inputs into what the
computation needs, raise ``TypeError``/``ValueError`` whose message names the argument,
and never compute results.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validation import (
    _real_scalar,
    check_choice,
    check_points,
    check_positive_int,
    check_same_dimension,
)

__all__ = ["check_samples", "check_n_resamples", "check_confidence_level",
           "check_bins_spec", "check_pseudocount"]


def check_samples(x: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two samples ``(n, d)`` and ``(m, d)`` of finite reals in the same dimension."""
    x = check_points(x, "x")
    y = check_points(y, "y")
    check_same_dimension(x, y)
    return x, y


def check_n_resamples(value, name):
    """A number of permutations or bootstrap resamples: an integer in ``1 .. 10**9``."""
    value = check_positive_int(value, name)
    if value > 10**9:
        raise ValueError(f"{name} must be at most 10**9, got {value}")
    return value


def check_confidence_level(value):
    """A confidence level strictly between 0 and 1."""
    value = _real_scalar(value, "confidence_level")
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {value}")
    return value


def check_bins_spec(bins, rules):
    """``bins`` of a histogram per column: a positive integer or the name of a NumPy rule."""
    if isinstance(bins, str):
        return check_choice(bins, "bins", rules)
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral):
        raise TypeError(f"bins must be an integer or one of {sorted(rules)}, "
                        f"got {type(bins).__name__}")
    return check_positive_int(bins, "bins")


def check_pseudocount(value):
    """The additive smoothing of histogram counts: a finite real >= 0."""
    value = _real_scalar(value, "pseudocount")
    if value < 0:
        raise ValueError(f"pseudocount must be >= 0, got {value}")
    return value
