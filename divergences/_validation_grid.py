"""Checks of the inputs of :func:`divergences.wasserstein_grid` and ``transport_grid``.

Same rules as :mod:`divergences._validation` (whose helpers these reuse): the message
starts with the argument's name; nothing is computed beyond the checked arrays.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validation import (
    as_real_array,
    check_finite,
    check_nonnegative,
    check_positive_mass,
)

__all__ = ["check_grid_pair", "check_spacing"]


def check_grid_pair(A: Any, B: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two histograms on the same regular grid: finite, non-negative float64 arrays of
    one shape with 1, 2 or 3 axes, each of positive total mass."""
    A = as_real_array(A, "A")
    B = as_real_array(B, "B")
    for arr, name in ((A, "A"), (B, "B")):
        if not 1 <= arr.ndim <= 3:
            raise ValueError(f"{name} must be a 1-D, 2-D or 3-D array of masses on a "
                             f"regular grid, got {arr.ndim} dimensions")
        check_finite(arr, name)
        check_nonnegative(arr, name)
        check_positive_mass(arr.reshape(-1), name)
    if A.shape != B.shape:
        raise ValueError(f"A and B must be histograms on the same grid, got shapes "
                         f"{A.shape} and {B.shape}")
    return A, B


def check_spacing(spacing, ndim):
    """The grid step along each axis: one positive finite number, or one per axis."""
    if isinstance(spacing, numbers.Real) and not isinstance(spacing, bool):
        steps = np.full(ndim, float(spacing))
    else:
        steps = as_real_array(spacing, "spacing").reshape(-1)
        if steps.shape != (ndim,):
            raise ValueError(f"spacing must be a number or one per axis ({ndim}), got "
                             f"{steps.shape[0]} values")
    if not (np.isfinite(steps).all() and (steps > 0).all()):
        raise ValueError(f"spacing must be finite and > 0, got {steps.tolist()}")
    return steps
