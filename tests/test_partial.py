"""Partial transport: emd(..., mass=m) and transport(..., mass=m).

References: POT's ``ot.partial.partial_wasserstein2`` and ``scipy.optimize.linprog``
(HiGHS) on the LP itself; ``emd`` at full mass; the dual certificate (tests/checks.py).
"""

import numpy as np
import ot
import pytest
import scipy.optimize
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import emd, transport
from tests.checks import check_partial_transport


def linprog_partial(a, b, cost, mass):
    """The partial LP solved by HiGHS: row sums <= a, column sums <= b, total = mass."""
    n, m = cost.shape
    rows = scipy.sparse.kron(scipy.sparse.eye(n), np.ones((1, m)))
    cols = scipy.sparse.kron(np.ones((1, n)), scipy.sparse.eye(m))
    res = scipy.optimize.linprog(
        cost.ravel(), A_ub=scipy.sparse.vstack([rows, cols]), b_ub=np.r_[a, b],
        A_eq=np.ones((1, n * m)), b_eq=[mass], bounds=(0, None), method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0
    return res.fun


def problem(seed, n, m, *, zeros=False, negative=False):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n) * 2, rng.random(m)
    if zeros:
        a[rng.integers(0, n, 2)] = 0.0
        b[rng.integers(0, m, 2)] = 0.0
    cost = rng.random((n, m)) * 3 - (1.5 if negative else 0.0)
    return a, b, cost


@pytest.mark.parametrize(("n", "m", "zeros", "negative"), [
    (8, 8, False, False), (20, 35, False, False), (30, 12, True, False), (15, 15, False, True),
])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 1.0])
def test_cost_matches_pot_and_highs(n, m, zeros, negative, fraction):
    a, b, cost = problem(n * m, n, m, zeros=zeros, negative=negative)
    mass = fraction * min(a.sum(), b.sum())
    res = emd(a, b, cost, mass=mass)
    check_partial_transport(res, a, b, cost, mass)
    want = linprog_partial(a, b, cost, mass)
    assert res.cost == pytest.approx(want, rel=1e-9, abs=1e-9)
    if not negative:  # POT's dummy cost 2 max(C) assumes C >= 0 (its own docs)
        assert res.cost == pytest.approx(ot.partial.partial_wasserstein2(a, b, cost, m=mass),
                                         rel=1e-9, abs=1e-12)


def test_full_mass_with_equal_masses_is_emd():
    rng = np.random.default_rng(0)
    a, b = rng.random(25), rng.random(30)
    a, b = 3.0 * a / a.sum(), 3.0 * b / b.sum()
    cost = rng.random((25, 30))
    res = emd(a, b, cost, mass=3.0)
    full = emd(a, b, cost)  # normalised: cost of the coupling of a/3 and b/3
    assert res.cost == pytest.approx(3.0 * full.cost, rel=1e-12)
    check_partial_transport(res, a, b, cost, 3.0)
    np.testing.assert_allclose(res.plan.sum(axis=1), a, atol=1e-12)


def test_transported_mass_is_exact_and_unequal_totals():
    rng = np.random.default_rng(1)
    a, b = rng.random(40) * 5, rng.random(20)
    cost = rng.random((40, 20))
    for mass in (1e-6, 0.3, b.sum()):
        res = emd(a, b, cost, mass=mass)
        assert res.plan.sum() == pytest.approx(mass, rel=1e-13)
    # at mass = sum(b) < sum(a) every column is exhausted: each b_j goes to its best rows
    np.testing.assert_allclose(res.plan.sum(axis=0), b, rtol=1e-12)


def test_points_through_transport():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2)) + 1.0
    for p, metric in [(1, "euclidean"), (2, "euclidean"), (1, "sqeuclidean")]:
        res = transport(x, y, p=p, metric=metric, mass=0.6)
        cost = ot.dist(x, y, metric="euclidean") ** p if metric == "euclidean" else ot.dist(x, y)
        a, b = np.full(30, 1 / 30), np.full(25, 1 / 25)
        check_partial_transport(res, a, b, cost, 0.6)
        assert res.cost == pytest.approx(ot.partial.partial_wasserstein2(a, b, cost, m=0.6),
                                         rel=1e-9)
        assert res.distance == pytest.approx(res.cost ** (1 / p), rel=1e-12)
    # 1-D data: the exact solver (no closed form for partial transport); weights as given
    w = np.arange(1.0, 31.0)
    res = transport(x[:, 0], y[:, 0], w, None, mass=0.5)
    assert res.plan.sum() == pytest.approx(0.5, rel=1e-12)


def test_invalid_mass_and_methods():
    a, b, cost = problem(3, 4, 5)
    bound = min(a.sum(), b.sum())
    for bad in (0.0, -1.0, bound * 1.01, np.inf, np.nan):
        with pytest.raises(ValueError, match="mass"):
            emd(a, b, cost, mass=bad)
    with pytest.raises(TypeError, match="mass"):
        emd(a, b, cost, mass="half")
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="method='exact'"):
        transport(x, x, method="sinkhorn", reg=0.1, mass=0.5)
    with pytest.raises(TypeError, match="tol"):
        transport(x, x, mass=0.5, tol=1e-3)


def small_problem(n, m, seed, fraction, integer_costs):
    """Integer weights with zeros (first ones positive), costs with ties (integers 0-2)
    or random, and a mass ``fraction`` of the smaller total: ``(a, b, cost, mass)``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n).astype(float)
    b = rng.integers(0, 4, m).astype(float)
    a[0] += 1.0
    b[0] += 1.0
    cost = (rng.integers(0, 3, (n, m)) if integer_costs else rng.random((n, m))).astype(float)
    return a, b, cost, fraction * min(a.sum(), b.sum())


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1),
       st.floats(0.01, 1.0), st.booleans())
def test_properties_against_highs(n, m, seed, fraction, integer_costs):
    a, b, cost, mass = small_problem(n, m, seed, fraction, integer_costs)
    res = emd(a, b, cost, mass=mass)
    check_partial_transport(res, a, b, cost, mass)
    assert res.cost == pytest.approx(linprog_partial(a, b, cost, mass), rel=1e-9, abs=1e-9)
    # more mass never costs less (C >= 0), and the cost is convex in the mass
    low, high = emd(a, b, cost, mass=0.5 * mass), emd(a, b, cost, mass=mass)
    assert low.cost <= high.cost + 1e-12
    assert low.cost <= 0.5 * high.cost + 1e-12


def test_sparse_plan_path(monkeypatch):
    """Beyond DENSE_PLAN_MAX entries the plan is scipy.sparse; the partial result keeps
    that form, restricted to the real points."""
    import divergences.exact as exact

    monkeypatch.setattr(exact, "DENSE_PLAN_MAX", 10)
    a, b, cost = problem(5, 6, 7)
    mass = 0.5 * min(a.sum(), b.sum())
    res = emd(a, b, cost, mass=mass)
    assert scipy.sparse.issparse(res.plan) and res.plan.shape == (6, 7)
    check_partial_transport(res, a, b, cost, mass)
    monkeypatch.undo()
    assert res.cost == pytest.approx(emd(a, b, cost, mass=mass).cost, rel=1e-12)
