"""Input checks of the Gaussian closed forms (:mod:`divergences.gaussian`).

Means, covariance matrices and feature matrices become float64 arrays; every message
names the argument. The positive semidefiniteness of a covariance is judged from the
eigenvalues that the solver computes anyway (:func:`check_psd_eigenvalues`): the check
itself computes nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._validation import as_real_array, check_finite

__all__ = [
    "check_mean",
    "check_covariance",
    "check_features",
    "check_psd_eigenvalues",
    "input_eps",
    "PSD_TOL",
]

#: a covariance may be non-symmetric, or have negative eigenvalues, by at most
#: ``PSD_TOL * d * eps * max|entry|`` (``eps`` of the input's own dtype: float32
#: covariances are judged at float32 rounding)
PSD_TOL = 32.0


def input_eps(x):
    """Machine epsilon of the input's floating dtype (float64's for anything else)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return max(float(np.finfo(dtype).eps), float(np.finfo(np.float64).eps))
    return float(np.finfo(np.float64).eps)


def check_mean(mean, name):
    """A mean vector, or a batch of them: float64, shape ``(..., d)`` with ``d >= 1``."""
    arr = as_real_array(mean, name)  # a scalar becomes shape (1,)
    return check_finite(arr, name)


def check_covariance(cov, name, d):
    """A covariance matrix (or a batch) of shape ``(..., d, d)``, symmetric to rounding.

    Returns the float64 array, symmetrised (``(S + S^T) / 2``). For ``d = 1`` a scalar
    is a variance; batches of 1-D covariances are ``(..., 1, 1)``.
    """
    eps = input_eps(cov)
    scalar = np.ndim(cov) == 0
    arr = as_real_array(cov, name)
    if scalar and d == 1:
        arr = arr.reshape(1, 1)
    if arr.ndim < 2 or arr.shape[-2:] != (d, d):
        raise ValueError(f"{name} must have shape (..., {d}, {d}) to match the mean's "
                         f"dimension d={d}, got {arr.shape}")
    check_finite(arr, name)
    asym = np.abs(arr - np.swapaxes(arr, -1, -2)).max(axis=(-1, -2))
    scale = np.abs(arr).max(axis=(-1, -2))
    bad = asym > PSD_TOL * d * eps * scale
    if bad.any():
        k = int(np.argmax(np.where(bad, asym / np.where(scale > 0, scale, 1.0), -1.0)))
        raise ValueError(
            f"{name} is not symmetric: max |S - S^T| = {asym.reshape(-1)[k]:.3g} next to "
            f"max |S| = {scale.reshape(-1)[k]:.3g}, beyond rounding; a covariance matrix "
            f"is symmetric positive semidefinite")
    return 0.5 * (arr + np.swapaxes(arr, -1, -2))


def check_psd_eigenvalues(w, name, eps):
    """Raise if the eigenvalues ``w`` (``(..., d)``) of the covariance ``name`` have a
    negative one beyond rounding: below ``-PSD_TOL * d * eps * max|w|``."""
    d = w.shape[-1]
    top = np.abs(w).max(axis=-1)
    low = w.min(axis=-1)
    bad = low < -PSD_TOL * d * eps * top
    if bad.any():
        k = int(np.argmax(np.where(bad, -low / np.where(top > 0, top, 1.0), -np.inf)))
        raise ValueError(
            f"{name} is not positive semidefinite: it has the eigenvalue "
            f"{low.reshape(-1)[k]:.3g} next to a largest one of {top.reshape(-1)[k]:.3g}, "
            f"beyond rounding; a covariance matrix has no negative eigenvalue")


def check_features(x: object, name: str) -> NDArray[np.float64]:
    """Samples or feature vectors as a float64 ``(n, d)`` array with ``n >= 2`` rows
    (the unbiased covariance divides by ``n - 1``)."""
    arr = check_finite(as_real_array(x, name), name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) (one sample per row), "
                         f"got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} needs at least 2 samples of dimension >= 1 to estimate a "
                         f"covariance, got shape {arr.shape}")
    return arr
