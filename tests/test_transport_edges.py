"""Edge cases of the public transport API found in review: extreme magnitudes and exponents,
overflowing counts, option errors; each against an independent reference or closed form."""

import warnings

import numpy as np
import ot
import pytest
import scipy.stats

from divergences import emd, sliced_wasserstein, transport, wasserstein, wasserstein_1d
from divergences._warnings import ConvergenceWarning
from tests.checks import check_transport

X1 = np.array([0.0, 1.0, 3.0])
Y1 = np.array([5.0, 6.0, 8.0])  # every pair of the monotone coupling is 5 apart


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e170, 1e300])
@pytest.mark.parametrize("p", [1.0, 2.0])
def test_exact_on_points_of_extreme_magnitude(scale, p):
    """d(x, y)^p over- or underflows float64 (sum of squares included), W_p does not."""
    x = np.c_[X1, 2 * X1] * scale
    y = np.c_[Y1, 2 * Y1] * scale
    res = transport(x, y, p=p, method="exact")
    assert res.status == "optimal"
    assert res.distance == pytest.approx(5.0 * np.sqrt(5.0) * scale, rel=1e-12, abs=0)
    assert transport(x[:, 0], y[:, 0], p=p, method="exact").distance == pytest.approx(
        5.0 * scale, rel=1e-12, abs=0)
    f, g = res.potentials
    if np.isfinite(res.cost):  # W_2^2 = 125 * 1e340 overflows; W_2 does not
        assert np.isfinite(f).all() and np.isfinite(g).all()
        assert f @ np.full(3, 1 / 3) + g @ np.full(3, 1 / 3) == pytest.approx(res.cost,
                                                                              rel=1e-12, abs=0)
    if p == 1.0:  # the critic is evaluated at the same magnitudes
        assert res.critic(x) @ np.full(3, 1 / 3) - res.critic(y) @ np.full(3, 1 / 3) == \
            pytest.approx(res.distance, rel=1e-12, abs=0)


@pytest.mark.parametrize("p", [50.0, 300.0])
def test_large_exponent(p):
    """W_p of values 5 apart is 5 for every p, though 8^p overflows float64 for p = 300."""
    assert wasserstein(X1, Y1, p=p) == pytest.approx(5.0, rel=1e-12, abs=0)
    res = transport(X1, Y1, p=p)
    assert res.distance == pytest.approx(5.0, rel=1e-12, abs=0)
    assert wasserstein_1d(np.c_[X1, X1], np.c_[Y1, Y1], p=p) == pytest.approx([5.0, 5.0],
                                                                             rel=1e-12, abs=0)
    assert sliced_wasserstein(X1, Y1, p=p, seed=0) == pytest.approx(5.0, rel=1e-12, abs=0)
    # small values: (5e-3)^300 underflows to 0
    assert wasserstein(X1 * 1e-3, Y1 * 1e-3, p=p) == pytest.approx(5e-3, rel=1e-12, abs=0)
    assert sliced_wasserstein(X1 * 1e-3, Y1 * 1e-3, p=p, seed=0) == pytest.approx(
        5e-3, rel=1e-12, abs=0)


def test_large_exponent_exact():
    """The exact solver on d^p: p = 50 is still well conditioned (the LP is not for p = 300,
    whose costs span 60 orders of magnitude below the largest)."""
    assert transport(X1, Y1, p=50, method="exact").distance == pytest.approx(5.0, rel=1e-12)
    x, y = np.c_[X1, 0 * X1] * 1e-3, np.c_[Y1, 0 * Y1] * 1e-3
    assert transport(x, y, p=50).distance == pytest.approx(5e-3, rel=1e-12, abs=0)


def test_counts_whose_sum_overflows():
    """Counts are normalised without overflow: only the proportions matter."""
    a, b = np.array([1.0, 1.0, 2.0]), np.array([3.0, 1.0, 1.0])
    big_a, big_b = a * 8e307, b * 5e307  # sums: 3.2e308, 2.5e308
    an, bn = a / a.sum(), b / b.sum()
    ref = scipy.stats.wasserstein_distance(X1, Y1, an, bn)
    assert wasserstein(X1, Y1, big_a, big_b) == pytest.approx(ref, rel=1e-12, abs=0)
    assert wasserstein_1d(X1, Y1, big_a, big_b) == pytest.approx(ref, rel=1e-12, abs=0)
    res = transport(X1, Y1, big_a, big_b, method="exact")
    assert res.cost == pytest.approx(ref, rel=1e-12, abs=0)
    cost = np.abs(X1[:, None] - Y1[None, :])
    check_transport(res, an, bn, cost)
    check_transport(emd(big_a, big_b, cost), an, bn, cost)
    assert emd(big_a, big_b, cost).cost == pytest.approx(ot.emd2(an, bn, cost), rel=1e-12, abs=0)
    assert sliced_wasserstein(X1, Y1, big_a, big_b, seed=0, p=1) == pytest.approx(ref,
                                                                                  rel=1e-12, abs=0)


def test_unknown_option_names_the_option():
    x = np.c_[X1, X1]
    with pytest.raises(TypeError, match="tol"):
        transport(x, x, method="exact", tol=1e-3)
    with pytest.raises(TypeError, match="tol"):
        wasserstein(X1, Y1, tol=1e-3)


@pytest.mark.parametrize("p", [2.0, 100.0])
def test_far_from_the_origin(p):
    """Only differences matter: values near 2^10 (or 2^232) whose differences are 2^-30
    times that, any p (the rescaling must not be driven by the magnitudes)."""
    for offset in (2.0**10, 2.0**232):
        d = offset * 2.0**-30
        x, y = offset + np.array([0.0, d / 1024]), offset + np.array([d, d + d / 1024])
        assert wasserstein(x, y, p=p) == pytest.approx(d, rel=1e-12, abs=0)
        res = transport(np.c_[x, 0 * x], np.c_[y, 0 * y], p=p)
        assert res.distance == pytest.approx(d, rel=1e-12, abs=0)
        assert sliced_wasserstein(x, y, p=p, seed=0) == pytest.approx(d, rel=1e-12, abs=0)


def test_emd_costs_near_the_float64_limit():
    """Costs of +-1.7e308 (differences overflow): the answer of the rescaled problem,
    scaled back, and no RuntimeWarning, no nan."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        n, m = rng.integers(1, 8, 2)
        cost = rng.choice([-1.7e308, 1.7e308, 0.0, 1.0, -1e308, 1e300], size=(n, m))
        a, b = rng.random(n), rng.random(m)
        a[rng.random(n) < 0.4] = 0.0
        a[0] = 1.0
        res = emd(a, b, cost)
        ref = emd(a, b, cost * 2.0**-1000)
        assert res.status == "optimal"
        assert res.cost == pytest.approx(ref.cost * 2.0**1000, rel=1e-14, abs=0)
        np.testing.assert_array_equal(res.plan, ref.plan)
        for f, f_ref in zip(res.potentials, ref.potentials, strict=True):
            assert not np.isnan(f).any()
            with np.errstate(over="ignore"):  # potentials may be out of range: +-inf
                np.testing.assert_allclose(f, f_ref * 2.0**1000, rtol=1e-14, atol=0)


def test_results_compare_by_identity():
    """== between two results used to raise ValueError (array fields), hash TypeError."""
    r1 = emd([1, 1], [1, 1], [[0.0, 1.0], [1.0, 0.0]])
    r2 = emd([1, 1], [1, 1], [[0.0, 1.0], [1.0, 0.0]])
    assert r1 == r1 and r1 != r2
    assert len({r1, r2, transport(X1, Y1)}) == 3


def test_max_iter_beyond_int64():
    """max_iter=10**30 is a valid integer: no numba TypingError."""
    assert emd([1], [1, 1], [[1.0, 3.0]], max_iter=10**30).cost == 2.0
    assert transport(np.c_[X1, X1], np.c_[Y1, Y1], max_iter=2**64).status == "optimal"


def test_exact_flags_costs_beyond_float64_resolution():
    """d^p for p = 100 spans ~1e177: the network simplex's basis used to come back
    "optimal" with W_p off by 64%. A result is now right or flagged (status, converged,
    warning); since the re-solve in the units of the plan's largest distance (issue 12)
    all ten are right. p = 50 is certified and right."""
    rng = np.random.default_rng(0)
    flagged = 0
    for _ in range(10):
        n, m = rng.integers(2, 30, 2)
        x, y, a, b = rng.normal(size=n), rng.normal(size=m), rng.random(n), rng.random(m)
        ref = wasserstein(x, y, a, b, p=100)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = transport(x, y, a, b, p=100, method="exact")
        if res.status == "imprecise":
            flagged += 1
            assert not res.converged
            assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
        else:
            assert res.converged and not caught
            assert res.distance == pytest.approx(ref, rel=1e-9)
        good = transport(x, y, a, b, p=50, method="exact")
        assert good.status == "optimal"
        assert good.distance == pytest.approx(wasserstein(x, y, a, b, p=50), rel=1e-12)
    assert flagged <= 10


@pytest.mark.parametrize("p", [600.0, 2000.0])
def test_very_large_exponent_1d(p):
    """(5/8)^2000 underflows: W_p used to come back 0.0. Closed forms: gaps all 5; gaps
    3 and 4 with equal mass give 4 ((1 + 0.75^p) / 2)^(1/p)."""
    assert wasserstein(X1, Y1, p=p) == pytest.approx(5.0, rel=1e-12, abs=0)
    res = transport(X1, Y1, [1, 2, 1], [2, 1, 1], p=p)  # gaps 5, 4, 5, 5; masses 1/4
    assert res.distance == pytest.approx(5.0 * (0.75 + 0.25 * 0.8**p) ** (1 / p), rel=1e-12,
                                         abs=0)
    assert res.cost == np.inf  # W_p^p = 5^p overflows float64; W_p does not
    ref = 4.0 * 0.5 ** (1 / p) * (1 + 0.75**p) ** (1 / p)
    assert wasserstein([0.0, 1.0], [3.0, 5.0], p=p) == pytest.approx(ref, rel=1e-12, abs=0)
    assert wasserstein([0.0, 1.0], [3.0, 5.0], [1, 1], [1, 1], p=p) == pytest.approx(
        ref, rel=1e-12, abs=0)
    assert wasserstein_1d(np.c_[X1, X1], np.c_[Y1, Y1 + 1], p=p) == pytest.approx(
        [5.0, 6.0], rel=1e-12, abs=0)
    # second column: gaps 5, 4, 5, 7, 5 with masses 1/4, 1/12, 1/3, 1/12, 1/4
    ref = 7.0 * (1 / 12 + 5 / 6 * (5 / 7) ** p + 1 / 12 * (4 / 7) ** p) ** (1 / p)
    assert wasserstein_1d(X1, Y1, [1, 2, 1], np.c_[[2, 1, 1], [1, 1, 1]], p=p) == \
        pytest.approx([res.distance, ref], rel=1e-12, abs=0)
    # projections of a pure shift s: W_p = |theta.s| per direction, exactly
    x = np.random.default_rng(0).normal(size=(20, 3))
    shift = np.array([1.0, 2.0, -2.0])
    theta = np.random.default_rng(4).standard_normal((7, 3))
    d = np.abs(theta / np.linalg.norm(theta, axis=1)[:, None] @ shift)
    ref = d.max() * np.mean((d / d.max()) ** p) ** (1 / p)
    assert sliced_wasserstein(x, x + shift, p=p, n_projections=7, seed=4) == pytest.approx(
        ref, rel=1e-9, abs=0)


def test_no_imprecise_flag_for_weights_below_float64_resolution():
    """Masses of 1e-300 next to 1 make the duals' rounding larger than the cost: that is
    no reason to flag (the plan is the best float64 allows, as POT's)."""
    a, b = [1e-100, 1e-16, 0.5], [0.3, 1e-300, 8.3e-201]
    cost = np.array([[0.0, -1.0, 2.0], [-3.0, 1.0, 0.0], [0.0, -3.0, 0.5]])
    res = emd(a, b, cost)
    assert res.status == "optimal"
    assert res.cost == ot.emd2(np.array(a) / sum(a), np.array(b) / sum(b), cost)
