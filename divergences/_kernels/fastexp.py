"""An exponential that LLVM can vectorise (no SVML in llvmlite's wheels).

numba calls libm's scalar ``exp`` once per element; with AVX2 and no SVML that dominates
building a Gibbs kernel ``K = exp(-C / reg)``. :func:`exp_block` computes ``exp`` of an
array of doubles in one branch-free loop, which LLVM vectorises (4 doubles per AVX2
instruction): on one core, 2.8-3x faster than numba's loop over ``np.exp`` where libm takes
its fast path (``|x|`` up to a few hundred), 5x over ``[-700, 700]``
(``benchmarks/bench_fastexp.py``).

Method
------
Clamp ``x`` to ``[-746, 710]`` (``exp`` is already ``0`` below and ``+inf`` above), then
write ``x = n log 2 + r`` with ``n`` the integer nearest to ``x / log 2`` and
``|r| <= log(2) / 2``, so that ``exp(x) = 2**n exp(r)``:

1. ``t = x / log 2 + 1.5 * 2**52``: adding the large constant rounds the quotient to an
   integer, which then sits in the low bits of ``t``: ``n = bits(t) - bits(1.5 * 2**52)``
   in integer arithmetic, and ``n = t - 1.5 * 2**52`` as a double;
2. Cody & Waite's reduction with ``log 2 = L_hi + L_lo`` (to about 100 bits), ``L_hi``
   having 42 significant bits so that ``r = x - n L_hi`` is exact for ``|n| <= 1076``,
   and ``x - n log 2 = r + d`` with ``d = -n L_lo``, ``|d| < 6e-11``;
3. ``exp(r + d) = 1 + r + r**2 / 2 + r**3 q(r) + d exp(r) + O(d**2)`` where ``q`` is a
   degree-9 polynomial approximating ``(exp(r) - 1 - r - r**2 / 2) / r**3`` on
   ``|r| <= log(2) / 2 + 1e-6``, evaluated by Estrin's scheme. Its coefficients were
   fitted for this module: least squares weighted by ``|r|**3 / exp(r)`` on 80
   Chebyshev nodes, Lawson's reweighting (40 iterations) towards the minimax, in
   40-digit arithmetic (mpmath), then rounded to doubles; the resulting relative error
   on ``exp`` is below ``0.008 * 2**-53`` (Taylor's polynomial needs degree 11 for the
   same). The three leading terms are summed almost exactly: ``h = r**2 / 2`` carries
   the one rounding of ``r**2`` (at most ``2**-58``, 0.03 ulp of the result), then
   ``1 + r = a + e1`` and ``a + h = s + e2`` exactly (Dekker's Fast2Sum, valid as
   ``|r| < 1`` and ``h < 0.07 < a``), and the result ``s + ((e1 + e2) + tail)`` has one
   rounding of the size of half an ulp, the others acting on terms below ``0.008``;
4. ``2**n`` is applied as two factors ``2**j * 2**(n - j)``, ``j = floor(n / 2)``, both
   normal doubles built from their exponent bits: the first product is exact and the
   second rounds once, so a result in the subnormal range underflows gradually (no flush
   to zero), one below half the smallest subnormal gives ``0`` and one above
   ``DBL_MAX`` gives ``+inf``.

The package's fastmath policy allows ``reassoc``, under which LLVM would turn
``(x/log 2 + s) - s`` into ``x/log 2``, ``c (x - n L_hi)`` into ``c x - c n L_hi``
(cancellation), the Fast2Sum errors into ``0`` and ``(p 2**j) 2**(n-j)`` into
``p 2**n`` (which under/overflows). These few operations are therefore emitted by small
intrinsics (:func:`_add`, :func:`_sub`, :func:`_mul`) carrying the ``contract`` flag only:
numba's fastmath rewrite leaves flagged instructions alone, so they are rounded as written
(``contract`` at most fuses a product into an fma, which removes a rounding). The rest
(clamp, polynomial) keeps the policy's flags.

Contract
--------
``exp_block(x, n, out)`` sets ``out[k] = exp(x[k])`` for ``k < n``; ``x`` and ``out`` are
1-D float64 arrays of length ``>= n`` that must not overlap (if they do, LLVM's runtime
alias check falls back to its scalar loop: right values, 3x slower); no scratch buffer,
any ``n >= 0``. ``exp_inplace(x, n)`` does the same in place, at the same speed.
``exp_inline(v)`` is the scalar body, inlined by numba into any kernel loop (e.g. to fuse
``exp`` with a product or a sum without a buffer). Special values: ``exp(+-0) = 1``
exactly, ``exp(-inf) = 0`` exactly, ``0`` for ``x < -745.14``, ``+inf`` for
``x > 709.79`` and ``x = +inf``; NaN gives NaN (by propagation; not needed by the
callers). Error: below 0.54 ulp over the normal output range against mpmath (0.5 ulp is
correct rounding; 0.5% of the results are not correctly rounded), and one rounding of the
nearly exact ``2**n exp(r)`` (within an ulp) in the subnormal range; see
``tests/test_fastexp.py``. Results in the subnormal range are slow (x86 microcode assist
on subnormal products, about 5 ns each).

References
----------
W. J. Cody and W. Waite, *Software Manual for the Elementary Functions*, Prentice-Hall
1980, ch. 6 (argument reduction with a split constant).
T. J. Dekker, "A floating-point technique for extending the available precision",
*Numer. Math.* 18 (1971), 224-242 (Fast2Sum).
J.-M. Muller, *Elementary Functions: Algorithms and Implementation*, 3rd ed., Birkhauser
2016, ch. 3 (polynomial approximation, Lawson's algorithm) and ch. 11 (range
reduction; rounding to an integer by adding ``1.5 * 2**52``).
"""

from numba import types
from numba.extending import intrinsic

from .._jit import kernel

_X_MIN = -746.0  # exp(-746) < 2**-1075: rounds to 0
_X_MAX = 710.0  # exp(710) > DBL_MAX: overflows to +inf
_INV_LN2 = 1.4426950408889634
_SHIFT = 6755399441055744.0  # 1.5 * 2**52
_SHIFT_BITS = 0x4338000000000000  # its bits
_LN2_HI = 0.6931471805598903  # log 2 rounded to 42 significant bits
_LN2_LO = 5.497923018708371e-14  # log 2 - _LN2_HI
# q(r) = sum of _Qk r**k, k = 0..9: near-minimax for the relative error of exp (see above)
_Q0 = 0.1666666666666668
_Q1 = 0.041666666666666415
_Q2 = 0.008333333333318513
_Q3 = 0.0013888888889032225
_Q4 = 0.00019841269893354317
_Q5 = 2.4801587027078367e-05
_Q6 = 2.755723745688122e-06
_Q7 = 2.755752516564777e-07
_Q8 = 2.5111241876534856e-08
_Q9 = 2.0838735317795244e-09

# Operations that must be rounded exactly as written. numba's fastmath rewrite only flags
# floating-point instructions that carry no flag yet, so these carry ``contract`` alone
# (fusing a product into an fma only removes a rounding) and ``reassoc`` cannot move them.


def _strict(opname):
    @intrinsic
    def op(typingctx, a, b):
        if a != types.float64 or b != types.float64:
            return None

        def codegen(context, builder, signature, args):
            return getattr(builder, opname)(args[0], args[1], flags=("contract",))

        return types.float64(types.float64, types.float64), codegen

    return op


_add = _strict("fadd")
_sub = _strict("fsub")
_mul = _strict("fmul")


def _bitcast(src, dst):
    """An intrinsic reinterpreting the bits of a ``src`` value as a ``dst`` value."""

    @intrinsic
    def cast(typingctx, value):
        if value != src:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    return cast


_bits = _bitcast(types.float64, types.int64)  # the int64 with the bits of a float64
_double = _bitcast(types.int64, types.float64)  # the float64 with the bits of an int64


@kernel(inline=True)
def exp_inline(x):
    """``exp(x)`` for one double, to call in the loop of a :func:`kernel`: numba inlines
    it into the caller before compiling (so it gets the caller's flags, the package
    policy) and LLVM vectorises the loop if the rest of its body allows."""
    xk = _X_MAX if _X_MAX < x else x  # NaN passes both clamps
    xk = _X_MIN if _X_MIN > xk else xk
    # n = round(x / log 2): in the low bits of t, and as a double
    t = xk * _INV_LN2 + _SHIFT
    nf = _sub(t, _SHIFT)
    u = _bits(t) - (_SHIFT_BITS - 2046)  # n + 2046 > 0
    v = u >> 1  # floor(n / 2) + 1023
    # x - n log 2 = r + d: r = x - n L_hi is exact, d = -n L_lo is below 6e-11
    r = _sub(xk, nf * _LN2_HI)
    d = nf * -_LN2_LO
    # q(r) by Estrin's scheme (shorter dependency chains than Horner's: ~10% faster)
    r2 = r * r
    r4 = r2 * r2
    h = 0.5 * r2  # r**2 / 2 with one rounding (2**-58 at most: 0.03 ulp)
    q0 = (_Q0 + r * _Q1) + r2 * (_Q2 + r * _Q3)
    q1 = (_Q4 + r * _Q5) + r2 * (_Q6 + r * _Q7)
    q2 = _Q8 + r * _Q9
    q = q0 + r4 * (q1 + r4 * q2)
    # 1 + r + h = s + e1 + e2 exactly (two Fast2Sum: |r| < 1, h < 0.07 < 1 + r)
    a = _add(1.0, r)
    e1 = _add(_sub(1.0, a), r)
    s = _add(a, h)
    e2 = _add(_sub(a, s), h)
    # exp(r + d) = 1 + r + h + tail: r**3 q(r) and d exp(r) (exp(r) = s + w to
    # 3e-16, |d| < 6e-11; d**2 / 2 < 2e-21 left out)
    w = (r2 * r) * q
    tail = w + d * (s + w)
    p = _add(s, (e1 + e2) + tail)
    # times 2**j, exact, then times 2**(n - j), j = floor(n / 2): one rounding even
    # if subnormal (the biased exponents are v and u - v, both in [485, 1535])
    return _mul(_mul(p, _double(v << 52)), _double((u - v) << 52))


@kernel
def exp_block(x, n, out):
    """``out[k] = exp(x[k])`` for ``k < n``; ``out`` must not overlap ``x`` (correct but
    not vectorised if it does: use :func:`exp_inplace`)."""
    for k in range(n):
        out[k] = exp_inline(x[k])


@kernel
def exp_inplace(x, n):
    """``x[k] = exp(x[k])`` for ``k < n``."""
    for k in range(n):
        x[k] = exp_inline(x[k])
