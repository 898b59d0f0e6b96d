"""Exact power-of-two rescaling and overflow-free normalisation, shared by the solvers.

``W_p`` is homogeneous: ``W_p(x, y) = s W_p(x / s, y / s)``. Dividing by a power of two
``s`` is exact in floating point, so when differences ``|x - y|`` (or their squares, or
their power ``p``) would overflow or underflow float64, the solvers work on ``x / s`` and
``y / s``, whose differences are at most 1 in magnitude, and multiply back.
"""

from __future__ import annotations

import numpy as np

__all__ = ["half_range", "normalise", "power_of_two_scale", "unscale", "unscale_potentials"]

#: binary exponents of the coordinate range that need no rescaling for moderate p.
_RANGE_EXPONENTS = (-60, 60)
#: largest |binary exponent| of ``|x - y|^p`` allowed before rescaling (float64: 1023).
_EXPONENT_LIMIT = 960


def half_range(*arrays):
    """Half the largest range of one coordinate over the ``(n, d)`` point sets ``arrays``,
    computed without overflow."""
    lo = np.min([v.min(axis=0) for v in arrays], axis=0)
    hi = np.max([v.max(axis=0) for v in arrays], axis=0)
    return float(np.max(hi / 2 - lo / 2))


def power_of_two_scale(half, exponent=1.0, spread=1.0):
    """A power of two ``s`` to divide the values by (1 when none is needed).

    ``half`` is half the range of one coordinate (:func:`half_range`), so differences of
    values are at most ``2 half``; ``spread`` bounds how much larger the quantities built
    from them get (``sqrt(d)`` for projections, ``d`` for distances in ``R^d``). ``s = 1``
    when the bound ``D = 2 spread half`` is within ``2^-60 .. 2^60`` and ``D^exponent``
    neither overflows nor underflows; otherwise ``s`` is the power of two just above
    ``D``, so that rescaled differences are at most 1 and their powers cannot overflow.
    Differences much smaller than ``D`` may still underflow for very large exponents
    (``p`` in the hundreds).
    """
    half = float(half)
    if not half > 0.0 or not np.isfinite(half):
        return 1.0
    # 2^(e-1) <= 2 * spread * half < 2^e, computed without forming the product
    e = int(np.frexp(half)[1]) + 1 + int(np.ceil(np.log2(spread)))
    if (_RANGE_EXPONENTS[0] <= e <= _RANGE_EXPONENTS[1]
            and exponent * e <= _EXPONENT_LIMIT and exponent * (e - 1) >= -_EXPONENT_LIMIT):
        return 1.0
    return float(np.ldexp(1.0, min(max(e, -1020), 1020)))


def unscale(cost, scale, exponent, p):
    """``(W_p^p, W_p)`` from the cost of values divided by ``scale``.

    The cost scales as ``scale^exponent`` (``exponent`` is ``p``, or ``2p`` for squared
    Euclidean ground costs). ``W_p^p`` may overflow to inf or underflow to 0; ``W_p`` is
    computed without forming it. A negative cost (generic cost matrices) has no root:
    ``W_p`` is then the cost itself (``p = 1``).
    """
    root = cost if p == 1 else max(cost, 0.0) ** (1.0 / p)
    if scale == 1.0:
        return cost, root
    if cost == 0.0:  # not scale^exponent * 0 = inf * 0 = nan
        return cost, root
    with np.errstate(over="ignore", under="ignore"):
        return (float(np.float64(scale) ** exponent * cost),
                float(np.float64(scale) ** (exponent / p) * root))


def unscale_potentials(f, scale, exponent):
    """``scale^exponent * f`` without ``0 * inf = nan``."""
    if scale == 1.0:
        return f
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = np.float64(scale) ** exponent * f
    out[f == 0] = 0.0
    return out


def normalise(w, axis=0):
    """Non-negative weights (counts) divided by their sum along ``axis``, without overflow.

    When the sum overflows (counts near the top of the float64 range, ``[1e308, 1e308]``)
    the weights are first divided by their largest entry.
    """
    with np.errstate(over="ignore"):
        total = w.sum(axis=axis, keepdims=True)
    if not np.isfinite(total).all():
        w = w / w.max(axis=axis, keepdims=True)
        total = w.sum(axis=axis, keepdims=True)
    return w / total
