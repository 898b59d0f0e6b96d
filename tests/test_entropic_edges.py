"""Edge cases of the Sinkhorn solvers found in review: budgets exhausted in an
epsilon-scaling stage, huge iteration budgets."""

import warnings

import numpy as np
import pytest

from divergences import sinkhorn, sinkhorn_divergence, transport
from divergences._warnings import ConvergenceWarning

RNG = np.random.default_rng(7)
C = RNG.random((12, 15))
X = RNG.random((12, 2))


@pytest.mark.parametrize("reg", [1e-3, 1e-4, 1e-6])
@pytest.mark.parametrize("max_iter", [1, 3])
def test_budget_ends_in_a_scaling_stage_plan_is_bounded(reg, max_iter):
    # stopping in an intermediate epsilon stage used to report exp((f + g - C)/reg) of the
    # coarse potentials: a plan of mass ~1e300 and cost ~1e305
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = sinkhorn(np.ones(12), np.ones(15), C, reg, max_iter=max_iter)
    assert not res.converged
    assert np.all(np.isfinite(res.plan)) and res.plan.min() >= 0
    assert abs(res.plan.sum() - 1.0) < 1e-9
    np.testing.assert_allclose(res.plan.sum(axis=0), np.full(15, 1 / 15), atol=1e-12)
    assert 0 <= res.cost <= C.max()
    assert res.cost == pytest.approx((res.plan * C).sum(), rel=1e-12)
    assert res.marginal_error <= 2.0 + 1e-9
    assert np.isfinite(res.objective) and abs(res.objective) < 1.0


@pytest.mark.parametrize("online", [False, True])
def test_budget_ends_in_a_scaling_stage_points(online):
    y = X[::-1] + 0.1
    with pytest.warns(ConvergenceWarning):
        res = transport(X, y, method="sinkhorn", reg=1e-4, max_iter=2, online=online)
    assert not res.converged
    assert 0 <= res.cost <= 3.0 and abs(res.objective) < 3.0
    with pytest.warns(ConvergenceWarning):
        s = sinkhorn_divergence(X, X + 0.1, reg=1e-4, max_iter=2, online=online)
    # the true value is |t|^2 = 0.02; a cut-short run must stay of that order, not 1e304
    assert 0 <= s <= 1.0


def test_huge_max_iter_is_accepted():
    res = sinkhorn(np.ones(12), np.ones(15), C, 0.1, max_iter=10**30)
    ref = sinkhorn(np.ones(12), np.ones(15), C, 0.1)
    assert res.converged and res.cost == ref.cost


def test_unknown_option_message_lists_every_allowed_option():
    with pytest.raises(TypeError, match=r"\['foo'\].*'online'.*'q'"):
        transport(X, X, method="sinkhorn", reg=0.1, foo=1)
    with pytest.raises(TypeError, match=r"\['foo'\].*'online'"):
        sinkhorn_divergence(X, X, reg=0.1, foo=1)


def test_cost_range_beyond_float64():
    # finite costs whose range max - min overflows: used to raise a RuntimeWarning (and
    # an infinite epsilon schedule)
    c = [[1e308, -1e308], [-1e308, 1e308]]
    res = sinkhorn([0.5, 0.5], [0.5, 0.5], c, 1e307)
    assert res.converged
    ref = sinkhorn([0.5, 0.5], [0.5, 0.5], [[1.0, -1.0], [-1.0, 1.0]], 0.1)
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-12)
    assert res.cost == pytest.approx(1e308 * ref.cost, rel=1e-9)


@pytest.mark.parametrize("online", [False, True])
def test_point_costs_overflowing_float64_raise(online):
    x = np.array([[0.0], [1.0]]) * 1e160
    with pytest.raises(ValueError, match="overflow"):
        transport(x, 0.5 * x[::-1], p=2, method="sinkhorn", reg=1e300, online=online)


@pytest.mark.parametrize("reg", [1e-3, 1e-4])
def test_every_budget_gives_a_bounded_iterate(reg):
    # budgets that end right after an intermediate stage, or a few iterations into the last
    # one, used to report plans of mass 2..1e100 (the last stage's kernel built from the
    # coarse potentials); sweep every budget up to the converged count
    a, b = np.ones(12), np.ones(15)
    for max_iter in range(1, 130):  # both regs need more than 130 iterations
        with pytest.warns(ConvergenceWarning):
            res = sinkhorn(a, b, C, reg, max_iter=max_iter)
        assert abs(res.plan.sum() - 1.0) < 1e-9, max_iter
        assert 0 <= res.cost <= C.max(), max_iter
    for max_iter in (22, 25):
        for online in (False, True):
            # the budget ends in or just after an intermediate stage; the extra exact step
            # at reg may then give an iterate that meets tol (converged, no warning: the flag
            # follows the returned numbers) or not (a warning): bounded either way
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                s = sinkhorn_divergence(X, X + 0.1, reg=reg, max_iter=max_iter, online=online)
            assert 0 <= s <= 1.0
