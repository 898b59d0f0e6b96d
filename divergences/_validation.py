"""Every check of user input, in one place.

Validators turn array-likes into the float64 arrays the kernels expect and raise a
``TypeError`` (wrong kind of object) or ``ValueError`` (wrong values or shapes) whose
message starts with the argument's name. They never compute results.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_real_array",
    "check_finite",
    "check_nonnegative",
    "check_positive_mass",
    "check_axis",
    "check_base",
    "check_p",
    "check_reg",
    "check_positive_int",
    "check_points",
    "check_same_dimension",
    "check_weights",
    "check_cost",
    "check_choice",
]


def as_real_array(x, name, *, allow_empty=False):
    """``x`` as a float64 ndarray; TypeError if it is not real-valued numbers."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty")
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_finite(arr, name):
    """Raise if ``arr`` holds NaN or +-inf."""
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "infinite values"
        raise ValueError(f"{name} contains {kind}")
    return arr


def check_nonnegative(arr, name):
    """Raise if ``arr`` has a negative entry (weights, counts, probabilities)."""
    if (arr < 0).any():
        raise ValueError(f"{name} has negative entries; weights must be >= 0")
    return arr


def check_positive_mass(arr, name, axis=-1):
    """Raise if some slice of ``arr`` along ``axis`` sums to zero."""
    if (arr.sum(axis=axis) <= 0).any():
        raise ValueError(f"{name} has zero total mass (all weights are 0)")
    return arr


def check_axis(axis, ndim, name="axis"):
    """A valid axis index for ``ndim`` dimensions, normalised to be non-negative."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for {ndim}-dimensional input")
    return int(axis) % ndim


def check_base(base):
    """``None`` (nats) or a real number > 0 and != 1."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a real number or None, got {type(base).__name__}")
    base = float(base)
    if not np.isfinite(base) or base <= 0 or base == 1:
        raise ValueError(f"base must be finite, > 0 and != 1, got {base}")
    return base


def _real_scalar(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_p(p):
    """The Wasserstein exponent: a finite real >= 1."""
    p = _real_scalar(p, "p")
    if p < 1:
        raise ValueError(f"p must be >= 1 (W_p is not a metric for p < 1), got {p}")
    return p


def check_reg(reg):
    """The entropic regularisation: a finite real > 0."""
    if reg is None:
        raise ValueError("reg is required for entropic transport (method='sinkhorn')")
    reg = _real_scalar(reg, "reg")
    if reg <= 0:
        raise ValueError(f"reg must be > 0, got {reg}")
    return reg


def check_positive_int(value, name):
    """A Python or NumPy integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def check_points(x, name):
    """Support points or samples as an ``(n, d)`` float64 array (``(n,)`` becomes ``(n, 1)``)."""
    arr = check_finite(as_real_array(x, name), name)
    if arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def check_same_dimension(x, y, names=("x", "y")):
    """Raise unless two ``(n, d)`` point sets live in the same dimension ``d``."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same dimension, "
            f"got {x.shape[1]} and {y.shape[1]}"
        )


def check_weights(w, n, name):
    """Weights for ``n`` points: uniform if ``None``; non-negative, finite, positive mass.

    Returned as given (not normalised): callers normalise counts and document it.
    """
    if w is None:
        return np.full(n, 1.0 / n)
    arr = as_real_array(w, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} weights but there are {n} points")
    check_finite(arr, name)
    check_nonnegative(arr, name)
    check_positive_mass(arr, name)
    return arr


def check_cost(cost, n, m, name="cost"):
    """A finite ``(n, m)`` cost matrix."""
    arr = check_finite(as_real_array(cost, name), name)
    if arr.shape != (n, m):
        raise ValueError(f"{name} must have shape ({n}, {m}) to match the weights, got {arr.shape}")
    return arr


def check_choice(value, name, choices):
    """One of a fixed set of strings."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(choices)}")
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {sorted(choices)}")
    return value


# --- entropic ---


def check_histogram_batch(w, name):
    """Weights of shape ``(m,)`` or ``(m, K)`` (``K`` histograms as columns).

    Finite, non-negative, each histogram with positive mass; returned as given (not
    normalised).
    """
    arr = as_real_array(w, name)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (m,) or (m, K), got {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    check_finite(arr, name)
    check_nonnegative(arr, name)
    check_positive_mass(arr, name, axis=0)
    return arr


def check_positive_real(value, name):
    """A finite real number > 0 (tolerances, orders)."""
    value = _real_scalar(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_optional_bool(value, name):
    """``None`` (automatic) or a bool."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise TypeError(f"{name} must be None, True or False, got {type(value).__name__}")
