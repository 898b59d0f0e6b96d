"""Every check of user input, in one place.

Validators turn array-likes into the float64 arrays the kernels expect and raise a
``TypeError`` (wrong kind of object) or ``ValueError`` (wrong values or shapes) whose
message starts with the argument's name. They never compute results.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

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
    "check_cost_range",
    "check_cost_shape",
    "check_choice",
]


def as_real_array(x, name, *, allow_empty=False):
    """``x`` as a float64 ndarray; TypeError if it is not real-valued numbers."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    _reject_sparse_or_masked(x, name)
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "mM" or not (  # mM: timedelta, datetime
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _reject_sparse_or_masked(x, name):
    """TypeError for a scipy.sparse array or matrix, and for a masked array with masked
    entries: ``np.asarray`` would give an object array of one sparse object, or silently
    drop the mask (SciPy's ``entropy`` and ``jensenshannon`` ignore masks too)."""
    sparse = sys.modules.get("scipy.sparse")  # not imported: x cannot be sparse
    if sparse is not None and sparse.issparse(x):
        raise TypeError(f"{name} is a scipy.sparse {type(x).__name__}; sparse input is not "
                        f"accepted here: convert it with {name}.toarray()")
    if isinstance(x, np.ma.MaskedArray) and np.ma.getmaskarray(x).any():
        raise TypeError(f"{name} is a masked array with masked entries; masks are not "
                        f"supported: pass {name}.filled(0) (a masked weight counts as 0) "
                        f"or {name}.compressed(), whichever you mean")


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
    with np.errstate(over="ignore"):  # counts summing past 1e308 have positive mass
        total = arr.sum(axis=axis)
    if (total <= 0).any():
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


def _real_scalar(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_p(p: object) -> float:
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


def check_n_projections(value):
    """``n_projections`` of the sliced distance: an integer in ``1 .. 2**63 - 1`` (they are
    drawn in blocks, so memory does not grow with it)."""
    value = check_positive_int(value, "n_projections")
    if value > 2**63 - 1:
        raise ValueError(f"n_projections must be at most 2**63 - 1 (a 64-bit count), "
                         f"got {value}")
    return value


def check_points(x: object, name: str) -> NDArray[np.float64]:
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


def check_weights(w: Any, n: int, name: str) -> NDArray[np.float64]:
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


def check_cost_shape(cost, n, m, name="cost"):
    """An ``(n, m)`` real cost matrix as float64, its entries not read yet: the caller's
    pass over them checks them (:func:`check_cost`, :func:`check_cost_range`, or the first
    kernel of a large unbalanced Sinkhorn solve, which then names a problem it found with
    :func:`check_finite`)."""
    arr = as_real_array(cost, name)
    if arr.shape != (n, m):
        raise ValueError(
            f"{name} must have shape ({n}, {m}) to match the weights, got {arr.shape}")
    return arr


def check_cost(cost, n, m, name="cost"):
    """A finite ``(n, m)`` cost matrix (NumPy's checks: no kernel to compile on the first
    call of :func:`divergences.emd`, whose solve dwarfs one pass over the costs)."""
    return check_finite(check_cost_shape(cost, n, m, name), name)


def check_cost_range(cost, n, m, name="cost"):
    """A finite ``(n, m)`` cost matrix and its smallest and largest entries.

    One pass (:func:`divergences._kernels.scan.cost_range`) checks finiteness and finds the
    range; NumPy's slower checks only run to name a problem it found.
    """
    from ._kernels.scan import cost_range

    arr = check_cost_shape(cost, n, m, name)
    lo, hi, finite = cost_range(arr)
    if not finite:
        check_finite(arr, name)
    return arr, float(lo), float(hi)


def check_choice(value, name, choices):
    """One of a fixed set of strings."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(choices)}")
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {sorted(choices)}")
    return value


# --- information (histograms for kl/js/tv/..., pairwise) ---


def check_histogram_rows(arr, name):
    """Validate the rows of a C-contiguous float64 ``(B, n)`` array of weights.

    One fused compiled pass (:func:`divergences._kernels.scan.scan_rows`) computes
    the row sums and minima; only if it flags a problem are the precise (slower) checks
    run to name it. Returns the row sums (the masses that were checked to be positive),
    accurate to a few ulps (cascade summation).
    """
    from ._kernels.elementwise import PARALLEL_MIN
    from ._kernels.scan import scan_rows, scan_rows_serial

    sums, mins = (scan_rows if arr.size >= PARALLEL_MIN else scan_rows_serial)(arr)
    return _histogram_verdict(arr, name, sums, mins)


def check_histogram_pair(x, y, names=("p", "q")):
    """:func:`check_histogram_rows` of two arrays, scanned by one kernel call when large."""
    from ._kernels.elementwise import PARALLEL_MIN
    from ._kernels.scan import scan_pair

    # the compiled scan, in threads, where the divergence kernel itself uses them (an array
    # of PARALLEL_MIN bins); below, NumPy: a first call on smaller histograms compiles no
    # scan at all (0.7 s of compile time for ~0.05 ms saved at 1e5 bins)
    if max(x.size, y.size) < PARALLEL_MIN:
        return check_histogram_rows(x, names[0]), check_histogram_rows(y, names[1])
    xs, xm, ys, ym = scan_pair(x, y)
    return _histogram_verdict(x, names[0], xs, xm), _histogram_verdict(y, names[1], ys, ym)


def _histogram_verdict(arr, name, sums, mins):
    """``sums`` if the scan saw no problem, else the precise check that names it."""
    # nan fails every comparison, so these three reductions catch NaN, inf, < 0 and 0
    if mins.min() >= 0 and sums.min() > 0 and sums.max() < np.inf:
        return sums
    check_finite(arr, name)
    check_nonnegative(arr, name)
    if not np.isfinite(sums).all():
        raise ValueError(f"{name} has a total mass that overflows float64; rescale the counts")
    raise ValueError(f"{name} has zero total mass (all weights are 0)")


def check_alpha(alpha):
    """The Renyi order: a real number >= 0 (``inf`` allowed)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    alpha = float(alpha)
    if np.isnan(alpha) or alpha < 0:
        raise ValueError(f"alpha must be >= 0 (inf allowed), got {alpha}")
    return alpha


# --- univariate (1-D Wasserstein batches, sliced Wasserstein) ---

__all__ += ["check_samples_1d", "check_batch_weights", "check_batch_columns", "check_seed"]


def check_samples_1d(x: object, name: str) -> np.ndarray:
    """1-D samples ``(n,)`` or a batch of 1-D problems in columns ``(n, K)``, finite."""
    arr = check_finite(as_real_array(x, name), name)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, K) (one problem per column), "
                         f"got {arr.shape}")
    if arr.shape[0] == 0 or (arr.ndim == 2 and arr.shape[1] == 0):
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def check_batch_weights(w: object, n: int, name: str) -> np.ndarray | None:
    """Weights ``(n,)`` or ``(n, K)`` for ``n`` values per problem; ``None`` stays ``None``.

    Finite, non-negative, and a positive total in every column.
    """
    if w is None:
        return None
    arr = as_real_array(w, name)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, K), got {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} weights but there are {n} points")
    check_finite(arr, name)
    check_nonnegative(arr, name)
    check_positive_mass(arr, name, axis=0)
    return arr


# --- entropic ---


def check_histogram_batch(w: Any, name: str) -> NDArray[np.float64]:
    """Weights of shape ``(m,)`` or ``(m, K)`` (``K`` histograms as columns), their length
    taking ``m`` from the array itself: :func:`check_batch_weights` otherwise."""
    arr = as_real_array(w, name)
    return cast(NDArray[np.float64],
                check_batch_weights(arr, arr.shape[0] if arr.ndim else 1, name))


def check_batch_columns(arrays):
    """The common number of problems ``K`` of named 2-D arrays (1-D ones broadcast).

    ``arrays`` maps names to arrays (or ``None``); raises ValueError naming the two
    arguments whose column counts differ.
    """
    first = None
    for name, arr in arrays.items():
        if arr is None or arr.ndim == 1:
            continue
        if first is None:
            first = (name, arr.shape[1])
        elif arr.shape[1] != first[1]:
            raise ValueError(f"{name} has {arr.shape[1]} columns (problems) but {first[0]} "
                             f"has {first[1]}")
    return 1 if first is None else first[1]


def check_seed(seed):
    """A ``numpy.random.Generator`` from ``seed`` (None, an int, a SeedSequence, a Generator)."""
    if isinstance(seed, (bool, float, str, bytes)):
        raise TypeError(f"seed must be None, an integer or a numpy Generator, got "
                        f"{type(seed).__name__}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"seed is not usable by numpy.random.default_rng: {exc}") from None


# --- exact ---


def check_weight_vector(w: Any, name: str) -> NDArray[np.float64]:
    """A 1-D weight vector whose length defines the problem size (``emd``'s ``a``, ``b``)."""
    arr = as_real_array(w, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return check_weights(arr, arr.shape[0], name)


def check_minkowski_order(q, is_minkowski):
    """The order ``q`` of the Minkowski metric: default 2, a finite real >= 1.

    ``q`` given for another metric is a ValueError (it would be silently ignored).
    """
    if q is None:
        return 2.0
    if not is_minkowski:
        raise ValueError("q is only used by metric='minkowski'")
    q = _real_scalar(q, "q")
    if q < 1:
        raise ValueError(f"q must be >= 1 (the Minkowski order of a metric), got {q}")
    return q


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


# --- review (shared by transport, univariate, exact) ---

__all__ += ["check_point_sets", "check_no_options"]


def check_point_sets(x: Any, y: Any, a: Any, b: Any) -> tuple[NDArray[np.float64], ...]:
    """Two weighted point sets: ``(x, y, a, b)`` with ``x`` (n, d) and ``y`` (m, d) finite,
    in the same dimension, and their weights checked by :func:`check_weights` (not
    normalised)."""
    x = check_points(x, "x")
    y = check_points(y, "y")
    check_same_dimension(x, y)
    return x, y, check_weights(a, x.shape[0], "a"), check_weights(b, y.shape[0], "b")


def check_no_options(options, method):
    """Raise TypeError naming the solver options that ``method`` does not know."""
    if options:
        raise TypeError(f"unexpected option(s) for method={method!r}: {sorted(options)}")
