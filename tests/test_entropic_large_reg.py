"""Sinkhorn when reg dwarfs the costs (reg >= LARGE_REG range(C)): the deviation form.

There the kernel exp((f + g - C)/reg) is within 1e-4 of 1, and the usual iterates kept
its deviation only to float64's absolute precision: the objective was 7e-6 off at
reg = 1e12 range(C) and rounding garbage beyond (-2.2e84 at reg = 1e100), the potentials
0, and sinkhorn_divergence 0.0. The reference is Sinkhorn in mpmath with enough digits
to hold the deviations (360: reg / range(C) up to 1e300).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.accuracy_large_reg import mp_sinkhorn as _mp_sinkhorn
from divergences import sinkhorn, sinkhorn_divergence
from divergences._entropic_solve import LARGE_REG


def _problem(seed, n=5, m=4):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2)) + 0.3
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
    return C, a / a.sum(), b / b.sum()


@pytest.mark.parametrize("ratio", [LARGE_REG / 2, LARGE_REG, 1e6, 1e12, 1e16, 1e100, 1e300])
def test_objective_and_potentials_match_mpmath(ratio):
    C, a, b = _problem(0)
    reg = ratio * float(C.max() - C.min())
    res = sinkhorn(a, b, C, reg)
    ref, fg = _mp_sinkhorn(C, a, b, reg)
    assert res.converged and res.marginal_error <= 1e-9
    # the usual path just below the switch keeps ~1e-11; the deviation form ~1e-15
    assert res.objective == pytest.approx(ref, rel=1e-10 if ratio < LARGE_REG else 1e-13)
    f, g = res.potentials
    if ratio >= LARGE_REG:  # (the usual path stops at tol: its potentials are ~reg tol off)
        np.testing.assert_allclose(f[:, None] + g[None, :], fg, rtol=0, atol=1e-12 * C.max())
    assert np.all(res.plan > 0) and res.plan.sum() == pytest.approx(1.0, abs=1e-14)


def test_the_review_case_is_no_longer_rounding_garbage():
    rng = np.random.default_rng(0)
    x = rng.random((6, 2))
    C = ((x[:, None] - x[None]) ** 2).sum(-1)
    a = np.full(6, 1 / 6)
    ref, _ = _mp_sinkhorn(C, a, a, 1e100)
    for reg in (1e100, 1e300, 1.7e308):
        res = sinkhorn(a, a, C, reg=reg)
        assert res.converged
        assert res.objective == pytest.approx(ref, rel=1e-13)  # was -2.2e84 at 1e100
        assert res.cost == pytest.approx(ref, rel=1e-13)  # P = a a^T to rounding


def test_sinkhorn_divergence_tends_to_its_limit_not_zero():
    """As reg grows, S_eps -> <ab, C> - (<aa, C> + <bb, C>) / 2 (an energy distance for
    C = |x - y|): it was 0.0 from reg = 1e16 on."""
    rng = np.random.default_rng(1)
    x, y = rng.random((6, 2)), rng.random((5, 2)) + 0.2
    a, b = np.full(6, 1 / 6), np.full(5, 1 / 5)

    def cost(u, v):
        return np.sqrt(((u[:, None] - v[None]) ** 2).sum(-1))

    limit = a @ cost(x, y) @ b - 0.5 * (a @ cost(x, x) @ a + b @ cost(y, y) @ b)
    mp = [_mp_sinkhorn(cost(u, v), w1, w2, 1e100)[0]
          for u, v, w1, w2 in ((x, y, a, b), (x, x, a, a), (y, y, b, b))]
    assert mp[0] - 0.5 * (mp[1] + mp[2]) == pytest.approx(limit, rel=1e-12)
    for reg in (1e8, 1e100, 1e300):
        assert sinkhorn_divergence(x, y, p=1, reg=reg) == pytest.approx(limit, rel=1e-7)


def test_a_symmetric_problem_gets_the_symmetric_potentials():
    rng = np.random.default_rng(3)
    x = rng.random((7, 2))
    C = ((x[:, None] - x[None]) ** 2).sum(-1)
    a = rng.random(7) + 0.1
    a /= a.sum()
    res = sinkhorn(a, a, C, 1e9)
    f, g = res.potentials
    assert np.array_equal(f, g) and f is not g
    _, fg = _mp_sinkhorn(C, a, a, 1e9)
    np.testing.assert_allclose(f[:, None] + g[None, :], fg, rtol=0, atol=1e-12)


def test_zero_weights_get_soft_transforms():
    C, a, b = _problem(2)
    a[1] = 0.0
    a /= a.sum()
    reg = 1e9 * float(C.max() - C.min())
    res = sinkhorn(a, b, C, reg)
    f, g = res.potentials
    # f_1 = -reg log sum_j b_j exp((g_j - C_1j)/reg), to first order sum_j b_j (C_1j - g_j)
    assert f[1] == pytest.approx(b @ (C[1] - g), rel=1e-9)
    assert np.all(res.plan[1] == 0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), log_scale=st.floats(-200, 200),
       log_ratio=st.floats(np.log10(LARGE_REG), 300), n=st.integers(1, 5),
       m=st.integers(2, 5))
def test_property_any_magnitude_no_warning_and_mpmath_accuracy(seed, log_scale, log_ratio,
                                                               n, m):
    C, a, b = _problem(seed, n, m)
    C = C * 10.0**log_scale
    span = float(C.max() - C.min())
    reg = min(10.0**log_ratio * span, 1e307)
    if span == 0.0 or reg < LARGE_REG * span:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sinkhorn(a, b, C, reg)
    ref, _ = _mp_sinkhorn(C, a, b, reg)
    assert res.converged
    assert np.isfinite(res.potentials[0]).all() and np.isfinite(res.potentials[1]).all()
    assert res.objective == pytest.approx(ref, rel=1e-12)
