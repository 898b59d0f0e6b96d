"""The vectorised KL and JS chunk kernels and the scaled logarithms they fall back on.

Part of :mod:`.elementwise` (split out for length): see there for the layout. The
per-block passes are branch-free so that LLVM vectorises them, with the logarithms taken
by :func:`.fastlog.log_block`; lanes whose argument is not a normal double are left
out, counted, and added by the caller with the scalar :func:`rare_terms`.
"""

import math
import threading

import numpy as np

from .._jit import kernel
from .fastlog import BLOCK, log_block

_TINY = 2.2250738585072014e-308  # smallest normal double
_HUGE = 1.7976931348623157e308


@kernel(inner=True)
def log_ratio(a, b):
    """``log(a / b)`` for a, b > 0, without overflow/underflow of the quotient."""
    r = a / b
    if r >= _TINY and r <= _HUGE:
        return math.log(r)
    return math.log(a) - math.log(b)


@kernel(inner=True)
def log_scaled(x, c):
    """``log(x * c)`` for ``x, c > 0``, from ``log x + log c`` where the product is subnormal
    (a weight below 1e-308 of its total: imprecise) or underflows to 0."""
    v = x * c
    if v >= _TINY:
        return math.log(v)
    return math.log(x) + math.log(c)


@kernel(inner=True)
def log_ratio_scaled(x, y, cx, cy):
    """``log(a / b)`` for ``a = x * cx``, ``b = y * cy`` with ``x, y > 0``, accurate even where
    ``a`` or ``b`` is subnormal or underflows to 0.

    There the ratio is taken from the raw weights, ``(x / y) * (cx / cy)`` (three roundings,
    so nearly equal weights keep their digits: ``log a - log b`` from :func:`log_scaled`
    would lose ``|log a| * 1e-16``, 1e-13 near 1e-308); only where that ratio or its
    factors over/underflow (weights 1e308 apart) is it the difference of scaled logs.
    """
    a = x * cx
    b = y * cy
    if a >= _TINY and b >= _TINY:
        return log_ratio(a, b)
    r = x / y
    c = cy / cx
    if r >= _TINY and r <= _HUGE and c >= _TINY and c <= _HUGE:
        return log_ratio(r, c)
    return log_scaled(x, cx) - log_scaled(y, cy)


@kernel(inner=True)
def chi2_term(x, y, cx, cy):
    """``(a - b)^2 / b`` for ``a = x * cx > 0`` and ``b = y * cy > 0`` subnormal or 0: taken
    as ``b (a/b - 1)^2`` in logs, so it is exactly 0 for equal weights (not ``a^2 / b``)."""
    lr = log_ratio_scaled(x, y, cx, cy)
    if lr == 0.0:
        return 0.0
    if lr > 1.0:  # log(expm1(lr)), without overflow for large lr
        le = lr + math.log1p(-math.exp(-lr))
    else:
        le = math.log(abs(math.expm1(lr)))
    return math.exp(log_scaled(y, cy) + 2.0 * le)


#: 2**1000 and its inverse: :func:`js_term` rescales subnormal weights by them
_UP = 2.0**1000
_DOWN = 2.0**-1000


@kernel(inner=True)
def js_term(x, y, cx, cy):
    """``a log(2a/m) + b log(2b/m)`` for ``a = x * cx``, ``b = y * cy > 0``, ``m = a + b``,
    for the lanes the vectorised loop leaves out: ``m`` subnormal, or a ratio ``2a/m``
    that underflows.

    A subnormal ``m`` means ``a, b < 2**-1022``, so ``x, y < 2**-1022 * total <= 4``: the
    weights are recomputed times ``2**1000`` (normal numbers, full precision; a plain
    ``2 / m`` would overflow) and the sum scaled back once.
    """
    a = x * cx
    b = y * cy
    if a + b < _TINY:
        a = (x * _UP) * cx
        b = (y * _UP) * cy
        m = a + b
        return (a * log_ratio(2.0 * a, m) + b * log_ratio(2.0 * b, m)) * _DOWN
    m = a + b
    return a * log_ratio(2.0 * a, m) + b * log_ratio(2.0 * b, m)


#: rows of the scratch array of the chunk kernels (:func:`scratch`)
SCRATCH_ROWS = 6


def scratch():
    """The buffers of :func:`log_block` for the chunk kernels: one int64 array
    (:data:`SCRATCH_ROWS`, BLOCK) and its float64 view, ``(bits, floats)``: rows 0, 1 the
    inputs (bits), 2, 3 its scratch, 4, 5 the outputs (floats). The view is taken here, in
    NumPy: a ``.view`` in a kernel compiles numba's (0.1 s of a first call). For calls from
    Python: one pair per thread, made once, aligned to 64 bytes (a cache line, an AVX-512
    vector: 16-byte aligned blocks ran ~5% slower); a chunk kernel holds it only while it
    runs, so calls in one thread can share it."""
    try:
        return _per_thread.block
    except AttributeError:
        raw = np.empty(SCRATCH_ROWS * BLOCK + 8, np.int64)
        start = (-raw.ctypes.data % 64) // 8
        bits = raw[start:start + SCRATCH_ROWS * BLOCK].reshape(SCRATCH_ROWS, BLOCK)
        _per_thread.block = bits, bits.view(np.float64)
        return _per_thread.block


_per_thread = threading.local()


@kernel
def _kl_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch):
    """KL accumulators (sum a log(a/b), inf flag) with vectorised logarithms (``code``
    and ``alpha`` unused: the signature of every chunk kernel, see :mod:`.elementwise`).

    Per block: the ratios ``a/b`` (1.0 where a term is 0 or the ratio is not a normal
    double), their logs by :func:`log_block`, the weighted sum. The rare lanes whose ratio
    over/underflows are left out and counted in ``acc[3]``: the caller adds their terms,
    :func:`rare_terms` (compiled only when such lanes occur: a smaller first call).
    """
    x1, mb, eb = scratch[0], scratch[2], scratch[3]
    r1, mf, ef, l1 = fscratch[0], fscratch[2], fscratch[3], fscratch[4]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    rare = 0.0
    for start in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - start)
        special = 0.0
        for k in range(nb):
            x = p[start + k]
            y = q[start + k]
            a = x * cp
            b = y * cq
            r = a / b
            # bitwise & (not ``and``): no branches, so LLVM vectorises this loop. The
            # supports are those of the raw weights: a normalised weight may underflow.
            both = (x > 0.0) & (y > 0.0)
            ok = both & (r >= _TINY) & (r <= _HUGE)
            r1[k] = r if ok else 1.0
            special += 1.0 if both != ok else 0.0  # ok implies both: "both and not ok"
            s1 += 1.0 if (x > 0.0) & (y == 0.0) else 0.0  # a sum, not max(): vectorises
            s2 += 0.0 if ok else b - a
        log_block(x1, nb, mb, eb, mf, ef, l1)
        for k in range(nb):
            # a log r + (b - a) = a (log r + (1 - r) / r) ~ a (r - 1)^2 / 2: the terms sum
            # to KL (sum b - a = 0, the other lanes are in s2) but are all >= 0 and flat at
            # r = 1, so neither the cancellation nor the rounding of r and of the
            # normalisation costs digits when p ~ q (the rounded r is read back from memory)
            r = r1[k]
            s0 += (p[start + k] * cp) * (l1[k] + (1.0 - r) / r)
        rare += special
    acc[0] = s0 + s2
    acc[1] = s1
    acc[2] = 0.0
    acc[3] = rare


@kernel
def _js_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch):
    """JS accumulators: overlap terms a log(2a/m) + b log(2b/m), overlap mass, the rest.

    Vectorised like :func:`_kl_chunk`; ``2a/m`` is in (0, 2], so only a subnormal mixture
    ``m`` or an underflowing ratio (a term below 1e-308 of the mixture) needs the scalar
    :func:`js_term`: those lanes are left out and counted in ``acc[3]``, and the caller
    adds their :func:`rare_terms`.
    """
    x1, x2, mb, eb = scratch[0], scratch[1], scratch[2], scratch[3]
    r1, r2, mf, ef = fscratch[0], fscratch[1], fscratch[2], fscratch[3]
    l1, l2 = fscratch[4], fscratch[5]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    rare = 0.0
    for start in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - start)
        special = 0.0
        for k in range(nb):
            # branch-free (the exact form matters: LLVM's vectoriser gives up on variants)
            a = p[start + k] * cp
            b = q[start + k] * cq
            m = a + b
            both = (a > 0.0) & (b > 0.0)
            inv = 2.0 / m  # one division
            u = a * inv
            v = b * inv
            # m >= _TINY: else 2 / m overflows (u = inf would pass the tests below)
            ok = both & (m >= _TINY) & (u >= _TINY) & (v >= _TINY)
            use = ok & (a != b)  # a == b: log 1 = 0 exactly (JS(p, p) = 0)
            r1[k] = u if use else 1.0
            r2[k] = v if use else 1.0
            w = m if both else 0.0
            special += (1.0 if both else 0.0) - (1.0 if ok else 0.0)
            s1 += w
            s2 += 0.0 if both else m  # a select, not m - w: under reassoc LLVM would
            # sum the m and the w apart and cancel (JS lost 2e-16 absolute on a zero bin)
        log_block(x1, nb, mb, eb, mf, ef, l1)
        log_block(x2, nb, mb, eb, mf, ef, l2)
        for k in range(nb):
            # a log u + b log v = a g(u) + b g(v), g(u) = log u + (1 - u) / u ~ (u - 1)^2 / 2,
            # as a / u + b / v = m: flat at u = v = 1, so p ~ q keeps its digits (see KL)
            u = r1[k]
            v = r2[k]
            s0 += (p[start + k] * cp) * (l1[k] + (1.0 - u) / u) + (q[start + k] * cq) * (
                l2[k] + (1.0 - v) / v)
        rare += special
    acc[0] = s0
    acc[1] = s1
    acc[2] = s2
    acc[3] = rare


@kernel(inner=True)
def rare_terms(code, p, q, cp, cq, lo, hi):
    """The terms of bins ``lo .. hi-1`` that :func:`_kl_chunk` (``code`` 0),
    :func:`_js_chunk` (``code`` 1) or the chi2 loop of
    :func:`divergences._kernels.elementwise._simple_chunk` (``code`` 4) leave out (their
    count is in ``acc[3]``): a ratio that over/underflows (KL, :func:`log_ratio_scaled`), a
    subnormal mixture or an underflowing ratio to it (JS, :func:`js_term`), a subnormal
    normalised ``q`` under a positive ``p`` (chi2, :func:`chi2_term`). A separate kernel,
    called only for chunks that have such bins, so that the common first call does not
    compile these scalar paths (issue 12, cold start); its sum is added to the chunk's
    ``acc[0]``."""
    s = 0.0
    if code == 0:
        for k in range(lo, hi):
            x = p[k]
            y = q[k]
            r = (x * cp) / (y * cq)
            if x > 0.0 and y > 0.0 and not (r >= _TINY and r <= _HUGE):
                s += (x * cp) * log_ratio_scaled(x, y, cp, cq)
    elif code == 1:
        for k in range(lo, hi):
            a = p[k] * cp
            b = q[k] * cq
            m = a + b
            if a > 0.0 and b > 0.0 and a != b and not (
                    m >= _TINY and a * (2.0 / m) >= _TINY and b * (2.0 / m) >= _TINY):
                s += js_term(p[k], q[k], cp, cq)
    else:
        for k in range(lo, hi):
            if p[k] > 0.0 and q[k] > 0.0 and not q[k] * cq >= _TINY:
                s += chi2_term(p[k], q[k], cp, cq)
    return s
