"""Exact power-of-two rescaling and overflow-free normalisation, shared by the solvers.

``W_p`` is homogeneous: ``W_p(x, y) = s W_p(x / s, y / s)``. Dividing by a power of two
``s`` is exact in floating point, so when differences ``|x - y|`` (or their squares, or
their power ``p``) would overflow or underflow float64, the solvers work on ``x / s`` and
``y / s``, whose differences are at most 1 in magnitude, and multiply back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "half_range",
    "normalise",
    "power_mean_root",
    "power_of_two_scale",
    "pow_positive",
    "times_two_to",
    "unscale",
    "unscale_potentials",
]

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


def times_two_to(c, e):
    """``c * 2**e`` for a float ``c`` and a real ``e``, without an intermediate overflow or
    underflow: the result is inf or 0 only when it is out of the float64 range itself.
    ``e`` of any size is fine (``2**e`` alone need not be representable)."""
    c = float(c)
    if c == 0.0 or not np.isfinite(c) or e == 0:
        return c
    n = float(np.floor(e))
    mant, k = np.frexp(c)  # c = mant 2^k, 0.5 <= |mant| < 1
    mant = float(mant) * 2.0 ** (e - n)  # 0.5 <= |mant| < 2
    total = int(max(min(k + n, 4000.0), -4000.0))
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(mant, total))


def pow_positive(w, p):
    """``w ** p`` for ``w >= 0`` and ``p >= 1`` without intermediate underflow: only a
    result below the float64 range is 0 (``(2**-600) ** 2`` is 0, but ``0.5 ** 1100`` is
    not computed as 0 then scaled up)."""
    w = float(w)
    if w == 0.0 or not np.isfinite(w) or p == 1.0:
        return w
    mant, k = np.frexp(w)  # w = mant 2^k with 0.5 <= mant < 1: mant^p >= 2^-p
    if p <= 1000.0:
        return times_two_to(float(mant) ** p, k * p)
    return times_two_to(1.0, p * (np.log2(float(mant)) + k))  # rare; ~p ulps of error


def power_mean_root(u, v, mass, p):
    r"""``(sum_k mass_k |u_k - v_k|^p)^(1/p)`` without overflow or underflow on the way.

    The gaps are scaled by an exact power of two, each term is formed as
    :math:`(g_k\, m_k^{1/p} / V)^p \le 1` with :math:`V = \max_k g_k m_k^{1/p}` (the
    largest term is exactly 1), and the root is multiplied back: the relative error is a
    few ulps whatever the magnitudes of the gaps, of ``p`` and of the masses (a gap of
    ``1e-310`` with ``p = 65``, a mass of ``1e-300``). Terms below ``2^-1022`` of the
    largest are lost, which cannot be seen in the result. ``mass > 0``; ``u``, ``v``
    finite.
    """
    with np.errstate(over="ignore"):
        gap = np.abs(u - v)
    unit = 1.0
    if not np.isfinite(gap).all():  # differences beyond the float64 range: halve first
        gap = np.abs(u / 2 - v / 2)
        unit = 2.0
    top = float(gap.max()) if gap.size else 0.0
    if top == 0.0:
        return 0.0
    k = int(np.frexp(top)[1])
    with np.errstate(under="ignore"):
        gap = np.ldexp(gap, -k)  # exact scaling by 2^-k: the largest gap is in [0.5, 1)
        term = gap * mass ** (1.0 / p)
        big = float(term.max())
        total = float(np.sum((term / big) ** p))
    return unit * times_two_to(big * total ** (1.0 / p), k)


def unscale(cost, scale, exponent, p):
    """``(W_p^p, W_p)`` from the cost of values divided by ``scale``.

    The cost scales as ``scale^exponent`` (``exponent`` is ``p``, or ``2p`` for squared
    Euclidean ground costs). ``W_p^p`` may overflow to inf or underflow to 0 (only when
    it is out of the float64 range itself); ``W_p`` is computed without forming it. A
    negative cost (generic cost matrices) has no root: ``W_p`` is then the cost itself
    (``p = 1``).
    """
    root = cost if p == 1 else max(cost, 0.0) ** (1.0 / p)
    if scale == 1.0:
        return cost, root
    e = float(np.log2(scale))  # scale is a power of two: exact
    return times_two_to(cost, e * exponent), times_two_to(root, e * exponent / p)


def unscale_potentials(f, scale, exponent):
    """``scale^exponent * f`` without ``0 * inf = nan`` and without an intermediate
    overflow (``scale^exponent`` itself may be out of range)."""
    if scale == 1.0:
        return f
    e = float(np.log2(scale)) * exponent
    n = np.floor(e)
    mant, k = np.frexp(f)
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(mant * 2.0 ** (e - n), np.clip(k + n, -4000, 4000).astype(np.int64))
    out[f == 0] = 0.0
    return out


def normalise(w: Any, axis: int = 0) -> NDArray[np.float64]:
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
