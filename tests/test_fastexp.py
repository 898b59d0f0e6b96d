"""The vectorisable exponential: within 0.55 ulp of the exact value (mpmath) over the
normal range, gradual underflow, exact special values, any length, vectorised."""

import platform
import re

import numpy as np
import pytest

from divergences._jit import kernel, serial_twin
from divergences._kernels.fastexp import exp_block, exp_inline, exp_inplace

try:  # the exact reference; without it, np.exp (within an ulp of the exact value)
    import mpmath as mp
except ImportError:  # pragma: no cover
    mp = None

LN2 = np.log(2.0)
X_NORMAL_MIN = -708.3964185322641  # log(2**-1022): smallest normal result
X_MAX = 709.782712893384  # log(DBL_MAX) rounded down: largest finite result
TINY = 2.0 ** -1074  # smallest subnormal


def _exp(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.full_like(x, -1.0)
    exp_block(x, x.shape[0], out)
    return out


def _exact(x):
    """exp(x) correctly rounded (normal range), and the rounding error in its ulps."""
    if mp is None:
        return np.exp(x), np.zeros_like(x)
    mp.mp.prec = 120
    hi, lo = np.empty_like(x), np.empty_like(x)
    for k, v in enumerate(x.tolist()):
        e = mp.exp(v)
        hi[k] = float(e)
        lo[k] = float((e - hi[k]) / np.spacing(hi[k]))
    return hi, lo


def _points(rng):
    k = rng.integers(-1021, 1024, 20_000).astype(np.float64)
    return np.concatenate([
        rng.uniform(X_NORMAL_MIN, X_MAX, 60_000),
        rng.uniform(-1.0, 1.0, 20_000),
        rng.uniform(-40.0, 40.0, 20_000),
        # near multiples of log 2 (r ~ 0), and near the half-way points (|r| ~ log(2)/2,
        # where n = round(x / log 2) changes)
        k * LN2 + rng.uniform(-1e-9, 1e-9, 20_000),
        (k + 0.5) * LN2 * (1.0 + rng.uniform(-1e-15, 1e-15, 20_000)),
        # tiny arguments of both signs
        np.ldexp(rng.choice([-1.0, 1.0], 10_000), rng.integers(-1074, -1, 10_000)),
        [X_MAX, X_NORMAL_MIN + 1e-12, 1.0, -1.0, 0.5, LN2, -LN2, 1e-300, -1e-300],
    ])


def test_accuracy_against_mpmath_over_the_normal_range():
    x = _points(np.random.default_rng(0))
    x = x[(x >= X_NORMAL_MIN) & (x <= X_MAX)]
    got = _exp(x)
    hi, lo = _exact(x)
    ulps = np.abs((got - hi) / np.spacing(hi) - lo)  # (got - hi) / ulp is an integer
    assert np.max(ulps) <= (0.55 if mp is not None else 1.0)
    # almost correctly rounded: equal to the rounded exact value almost everywhere
    assert np.mean(got != hi) < 0.01
    assert np.all(np.isfinite(got))


def test_special_values_are_exact():
    x = np.array([0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-17, -1e-17,
                  -np.inf, np.inf, -1e308, 1e308, -746.0, 710.0, 709.79, -745.14,
                  -745.13, 1.0, np.nan])
    got = _exp(x)
    assert np.all(got[:8] == 1.0)
    assert got[8] == 0.0 and not np.signbit(got[8])  # exp(-inf) = +0 exactly
    assert got[9] == np.inf
    assert got[10] == 0.0 and got[11] == np.inf
    assert got[12] == 0.0 and got[13] == np.inf and got[14] == np.inf
    assert got[15] == 0.0  # below log(2**-1075): rounds to 0
    assert got[16] == TINY  # just above: the smallest subnormal
    assert got[17] == np.exp(1.0)
    assert np.isnan(got[18])


def test_overflow_edge():
    # around log(DBL_MAX): finite up to it, +inf just above
    x = np.array([X_MAX, np.nextafter(X_MAX, 0.0), np.nextafter(X_MAX, 800.0), 709.79, 800.0])
    got = _exp(x)
    assert np.isfinite(got[0]) and got[0] == np.exp(X_MAX)
    assert got[1] == np.exp(x[1])
    assert np.all(got[2:] == np.inf)
    with np.errstate(over="ignore"):
        assert np.exp(x[2]) == np.inf


def test_gradual_underflow_in_the_subnormal_range():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-745.2, X_NORMAL_MIN, 20_000),
                        np.log(2.0) * np.arange(-1075, -1021, 0.5)])
    got = _exp(x)
    if mp is None:
        err = np.abs(got - np.exp(x)) / TINY
    else:
        mp.mp.prec = 120
        err = np.array([float(abs(mp.mpf(g) - mp.exp(v)) / TINY)
                        for g, v in zip(got.tolist(), x.tolist(), strict=True)])
    # one rounding of a nearly exact value: within one subnormal ulp of the exact result
    assert np.max(err) <= 1.0
    assert np.mean(err <= 0.5) > 0.98
    assert np.count_nonzero((got > 0) & (got < 2.0 ** -1022)) > 15_000  # not flushed
    np.testing.assert_array_equal(got[x < -745.1332191019412], 0.0)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 13, 1001])
def test_any_length_and_only_the_first_n(n):
    rng = np.random.default_rng(n)
    x = rng.uniform(-50.0, 50.0, n + 5)
    out = np.full(n + 5, -1.0)
    exp_block(x, n, out)
    np.testing.assert_allclose(out[:n], np.exp(x[:n]), rtol=2.3e-16, atol=0.0)
    np.testing.assert_array_equal(out[n:], -1.0)
    y = x.copy()
    exp_inplace(y, n)
    np.testing.assert_array_equal(y[:n], out[:n])
    np.testing.assert_array_equal(y[n:], x[n:])


@kernel
def _weighted_exp_sum(x, w):
    total = 0.0
    for k in range(x.shape[0]):
        total += w[k] * exp_inline(x[k])
    return total


def test_inline_and_aliased_uses():
    rng = np.random.default_rng(2)
    x = rng.uniform(-30.0, 30.0, 1001)
    w = rng.random(1001)
    ref = _exp(x)
    assert np.isclose(_weighted_exp_sum(x, w), np.dot(w, ref), rtol=1e-14, atol=0.0)
    y = x.copy()
    exp_block(y, y.shape[0], y)  # out is x: right values (LLVM's scalar fallback)
    np.testing.assert_array_equal(y, ref)


#: packed double-precision arithmetic (SSE2, AVX, AVX2 with FMA, AVX-512) on any vector
#: register: the loop body is vectorised whatever width LLVM picks for the CPU. Scalar code
#: uses the ``sd`` forms (``mulsd``, ``vfmadd231sd``) instead.
_PACKED = re.compile(r"\b(?:v?(?:mul|add|sub)pd|vfn?m(?:add|sub)\d+pd)\s+[^\n]*%[xyz]mm")


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="inspects x86-64 assembly")
def test_the_loop_is_vectorised():
    for fn, args in [(serial_twin(exp_block), (np.zeros(8), 8, np.zeros(8))),
                     (serial_twin(exp_inplace), (np.zeros(8), 8))]:
        fn(*args)  # a twin is not cached, so its assembly can be inspected
        asm = fn.inspect_asm(fn.signatures[0])
        # the polynomial alone is 9 multiply-adds and several products per element: a
        # vectorised body has them in packed form, on xmm (SSE2/AVX), ymm (AVX2) or zmm
        # (AVX-512) registers alike
        assert len(_PACKED.findall(asm)) >= 12


@pytest.mark.skipif(mp is None, reason="needs mpmath")
def test_the_polynomial_meets_its_documented_error():
    # r**3 (q(r) - exact) / exp(r) below 0.01 * 2**-53 on |r| <= log(2) / 2 + 1e-6
    from divergences._kernels import fastexp

    coef = [getattr(fastexp, f"_Q{k}") for k in range(10)]
    mp.mp.prec = 160
    edge = mp.log(2) / 2 + mp.mpf("1e-6")
    worst = mp.mpf(0)
    for r in mp.linspace(-edge, edge, 801):
        if r == 0:
            continue
        exact = (mp.exp(r) - 1 - r - r * r / 2) / r**3
        approx = mp.fsum(mp.mpf(c) * r**k for k, c in enumerate(coef))
        worst = max(worst, abs(r**3 * (approx - exact)) / mp.exp(r))
    assert worst < 0.01 * mp.mpf(2) ** -53
