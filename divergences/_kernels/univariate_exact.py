r"""The monotone walk of :mod:`.univariate` in exact integer arithmetic (tiny weights).

Every weight is an integer multiple of a common power of two: ``w = mant 2^(sh + e0)``
with ``mant < 2^53`` and ``sh >= 0`` (:func:`divergences._univariate_exact.exact_staircase`
prepares them). The walk couples ``wa / S_a`` with ``wb / S_b`` in *cross units*: the
integers ``wa_i S_b`` and ``wb_j S_a``, both sides totalling ``S_a S_b``; sums and
remainders are exact, so there is no snapping and no last-cell rule.

Integers are non-negative little-endian arrays of 31-bit limbs in int64 (products of a
limb and a 31-bit piece stay below ``2^62``, sums with carries below ``2^63``), with a
fixed number of limbs per problem, chosen by the caller to hold the largest cross unit.
A cell's mass ``step / (S_a S_b)`` is the quotient of the two integers' leading 93 bits
(a few units of rounding) scaled by ``2^(31 k)`` with :func:`math.ldexp` (no overflow).
Compiled only when a problem has tiny weights: the usual path never types it.
"""

import math

import numpy as np

from .._jit import kernel
from .univariate import ground_cost, record_cell

BITS = 31
MASK = (1 << BITS) - 1


def limbs_for(max_shift, n):
    """``n_limbs`` for :func:`exact_walk`: totals of up to ``n`` weights below
    ``2^(53 + max_shift)`` fit in ``h - 2`` limbs."""
    total_limbs = (max_shift + 53 + int(n).bit_length() + BITS - 1) // BITS + 1
    return 2 * (total_limbs + 2) + 4


@kernel(inner=True)
def _limbs_add_shifted(acc, mant, sh):
    """``acc += mant * 2^sh`` (``mant < 2^53``)."""
    q = sh // BITS
    r = sh % BITS
    lo = (mant & MASK) << r  # < 2^62
    hi = (mant >> BITS) << r  # < 2^53
    acc[q] += lo & MASK
    acc[q + 1] += (lo >> BITS) + (hi & MASK)
    acc[q + 2] += hi >> BITS
    k = q
    while k < acc.shape[0] - 1:
        carry = acc[k] >> BITS
        if carry == 0 and k > q + 1:
            break
        acc[k] &= MASK
        acc[k + 1] += carry
        k += 1


@kernel(inner=True)
def _limbs_scaled(S, mant, sh, tmp, out):
    """``out = mant * 2^sh * S`` (``mant < 2^53``); ``tmp`` is scratch of ``out``'s size."""
    lo = mant & MASK
    hi = mant >> BITS
    tmp[:] = 0
    carry = 0
    for k in range(S.shape[0]):
        v = lo * S[k] + carry
        tmp[k] = v & MASK
        carry = v >> BITS
    tmp[S.shape[0]] = carry
    carry = 0
    for k in range(S.shape[0]):
        v = tmp[k + 1] + hi * S[k] + carry
        tmp[k + 1] = v & MASK
        carry = v >> BITS
    tmp[S.shape[0] + 1] += carry
    out[:] = 0
    q = sh // BITS
    r = sh % BITS
    for k in range(S.shape[0] + 2):
        v = tmp[k] << r
        out[k + q] += v & MASK
        out[k + q + 1] += v >> BITS


@kernel(inner=True)
def _limbs_compare(a, b):
    """-1, 0 or 1 as ``a <, ==, > b``."""
    for k in range(a.shape[0] - 1, -1, -1):
        if a[k] != b[k]:
            return 1 if a[k] > b[k] else -1
    return 0


@kernel(inner=True)
def _limbs_subtract(a, b):
    """``a -= b`` (``a >= b``)."""
    borrow = 0
    for k in range(a.shape[0]):
        v = a[k] - b[k] - borrow
        if v < 0:
            v += 1 << BITS
            borrow = 1
        else:
            borrow = 0
        a[k] = v


@kernel(inner=True)
def _limbs_leading(a):
    """``(m, k)`` with ``a`` about ``m 2^(31 k)``, ``m`` from the three leading limbs
    (``(0, 0)`` for zero)."""
    top = a.shape[0] - 1
    while top >= 0 and a[top] == 0:
        top -= 1
    if top < 0:
        return 0.0, 0
    m = float(a[top])
    k = top
    for _ in range(2):
        if k == 0:
            break
        k -= 1
        m = m * 2147483648.0 + float(a[k])
    return m, k


@kernel(inner=True)
def _limbs_ratio(a, mt, kt):
    """``a / t`` as a double, ``t`` given by its :func:`_limbs_leading` ``(mt, kt)``."""
    m, k = _limbs_leading(a)
    if m == 0.0:
        return 0.0
    return math.ldexp(m / mt, BITS * (k - kt))


@kernel(inner=True)
def _limbs_add(a, b):
    """``a += b``."""
    carry = 0
    for k in range(a.shape[0]):
        v = a[k] + b[k] + carry
        a[k] = v & MASK
        carry = v >> BITS


@kernel
def exact_walk(xs, wa, ma, sa_shift, ys, wb, mb, sb_shift, n_limbs, p, inv, record, rows,
               cols, mass, f, g):
    """The staircase of :func:`.univariate.staircase` (same results), exactly normalised.

    ``ma``, ``sa_shift`` (``mb``, ``sb_shift``): the weights ``wa`` (``wb``) as integers
    ``ma_i 2^(sa_shift_i)`` in a common unit; ``n_limbs = 2 h + 4`` limbs, where ``h - 2``
    limbs hold either total (:func:`limbs_for`).
    """
    n = xs.shape[0]
    m = ys.shape[0]
    SA = np.zeros(n_limbs, np.int64)
    SB = np.zeros(n_limbs, np.int64)
    for i in range(n):
        _limbs_add_shifted(SA, ma[i], sa_shift[i])
    for j in range(m):
        _limbs_add_shifted(SB, mb[j], sb_shift[j])
    ra = np.zeros(n_limbs, np.int64)
    rb = np.zeros(n_limbs, np.int64)
    tmp = np.zeros(n_limbs, np.int64)
    total = np.zeros(n_limbs, np.int64)
    half = (n_limbs - 4) // 2  # SA, SB fit in h - 2 limbs, their product in 2 h
    for k in range(half):
        if SB[k] != 0:
            _limbs_scaled(SA[:half], SB[k], BITS * k, tmp, ra)
            _limbs_add(total, ra)
    mt, kt = _limbs_leading(total)
    _limbs_scaled(SB[:half], ma[0], sa_shift[0], tmp, ra)
    _limbs_scaled(SA[:half], mb[0], sb_shift[0], tmp, rb)
    i = 0
    j = 0
    k = 0
    rowsum = 0.0
    colsum = 0.0
    err = 0.0
    cost = 0.0
    moved_i = True
    while True:
        c = ground_cost(xs[i] * inv - ys[j] * inv, p)
        if _limbs_compare(ra, rb) <= 0:  # ra is used up; rb keeps rb - ra
            share = _limbs_ratio(ra, mt, kt)
            _limbs_subtract(rb, ra)
            ra[:] = 0
            a_done = True
        else:
            share = _limbs_ratio(rb, mt, kt)
            _limbs_subtract(ra, rb)
            rb[:] = 0
            a_done = False
        if share > 0.0:  # a zero-mass cell may cost inf (rescaled by a smaller gap)
            cost += share * c
        rowsum += share
        colsum += share
        if record:
            record_cell(k, i, j, share, c, moved_i, rows, cols, mass, f, g)
        k += 1
        if i == n - 1 and j == m - 1:
            break
        if (a_done and i < n - 1) or j == m - 1:
            err += abs(rowsum - wa[i])
            i += 1
            _limbs_scaled(SB[:half], ma[i], sa_shift[i], tmp, ra)
            rowsum = 0.0
            moved_i = True
        else:
            err += abs(colsum - wb[j])
            j += 1
            _limbs_scaled(SA[:half], mb[j], sb_shift[j], tmp, rb)
            colsum = 0.0
            moved_i = False
    err += abs(rowsum - wa[n - 1]) + abs(colsum - wb[m - 1])
    return cost, err

