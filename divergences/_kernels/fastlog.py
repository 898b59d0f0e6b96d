"""A natural logarithm that LLVM can vectorise (no SVML in llvmlite's wheels).

numba calls libm's scalar ``log`` in a loop; with AVX2 and no SVML that is the cost of
KL and JS. :func:`log_block` computes ``log`` of a block of positive *normal* doubles
in two branch-free passes over small (L1-resident) buffers:

1. integer pass, on the bits of ``x``: split ``x = 2**e * m`` with ``m`` in
   ``[sqrt(2)/2, sqrt(2))``, writing the bits of ``m`` and of ``2**52 + e + 1023`` into
   int64 buffers (so that their float64 views hold ``m`` and, after a subtraction, ``e``
   as a double: AVX2 has no int64 -> double conversion);
2. float pass: ``log(m) = log(1 + f)`` with ``s = f / (2 + f)`` and the classic
   degree-14 minimax polynomial in ``s`` (the reduction of Cody & Waite / fdlibm's
   ``e_log.c``), then ``e * log 2`` added in two parts for accuracy.

The error is below 1.5 ulp over the normal range (1.33 ulp seen against mpmath). Zeros,
subnormals, infinities and NaN are NOT handled: the callers replace such lanes by 1.0 and
treat them separately.

References
----------
W. J. Cody and W. Waite, *Software Manual for the Elementary Functions*, Prentice-Hall
1980, ch. 5.
"""

from .._jit import kernel

#: block length of the buffers (3 x 4 KiB of int64/float64 per array)
BLOCK = 512

_LN2_HI = 6.93147180369123816490e-01  # log 2 with its last 32 bits cleared
_LN2_LO = 1.90821492927058770002e-10  # log 2 - _LN2_HI
_L1 = 6.666666666666735130e-01
_L2 = 3.999999999940941908e-01
_L3 = 2.857142874366239149e-01
_L4 = 2.222219843214978396e-01
_L5 = 1.818357216161805012e-01
_L6 = 1.531383769920937332e-01
_L7 = 1.479819860511658591e-01
_MANT = (1 << 52) - 1
_SQRT2_MANT = 0x6A09E667F3BCD  # mantissa bits of sqrt(2)
_MAGIC_BITS = 0x4330000000000000  # bits of 2**52
_MAGIC = 4503599627370496.0 + 1023.0  # 2**52 + exponent bias


@kernel(inner=True)
def log_block(xbits, n, mbits, ebits, mant, expo, out):
    """``out[k] = log(x[k])`` for ``k < n``; ``xbits`` are the int64 bits of positive
    normal doubles; ``mbits``/``ebits`` are int64 scratch buffers whose float64 views are
    ``mant``/``expo``."""
    for k in range(n):
        b = xbits[k]
        m = b & _MANT
        big = (m > _SQRT2_MANT) * 1
        mbits[k] = m | ((1023 - big) << 52)
        ebits[k] = _MAGIC_BITS | ((b >> 52) + big)
    # a separate pass through memory: under the ``reassoc`` fastmath flag LLVM would
    # otherwise distribute ``(expo - _MAGIC) * _LN2_HI`` and cancel catastrophically
    for k in range(n):
        expo[k] = expo[k] - _MAGIC
    for k in range(n):
        e = expo[k]
        f = mant[k] - 1.0
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        t1 = w * (_L2 + w * (_L4 + w * _L6))
        t2 = z * (_L1 + w * (_L3 + w * (_L5 + w * _L7)))
        r = t1 + t2
        hfsq = 0.5 * f * f
        out[k] = e * _LN2_HI - ((hfsq - (s * (hfsq + r) + e * _LN2_LO)) - f)
