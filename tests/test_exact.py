"""The network simplex (emd, transport(method="exact")) against POT, HiGHS and closed forms."""

import numpy as np
import ot
import pytest
import scipy.sparse
from checks import check_transport, dense_plan
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linprog
from scipy.spatial.distance import cdist
from strategies import histograms

import divergences.exact as exact_module
from divergences import emd, transport, wasserstein
from divergences._warnings import ConvergenceWarning


def _normalised(w):
    w = np.asarray(w, float)
    return w / w.sum()


def _problem(kind, rng):
    n, m = rng.integers(1, 25, 2)
    if kind == "square":
        m = n
    a, b = rng.random(n), rng.random(m)
    if kind == "zeros":
        a[rng.random(n) < 0.4] = 0.0
        b[rng.random(m) < 0.4] = 0.0
        a[rng.integers(n)] = 1.0
        b[rng.integers(m)] = 1.0
    if kind in ("ties", "uniform"):
        a, b = np.ones(n), np.ones(m)  # counts; the most degenerate case
    cost = {
        "ties": lambda: rng.integers(0, 3, (n, m)).astype(float),
        "spread": lambda: 10.0 ** rng.uniform(-6, 6, (n, m)),
        "negative": lambda: rng.normal(size=(n, m)) * 5.0,
    }.get(kind, lambda: rng.random((n, m)))()
    return a, b, cost


KINDS = ["square", "rectangular", "zeros", "ties", "uniform", "spread", "negative"]


@pytest.mark.parametrize("kind", KINDS)
def test_same_cost_as_pot(kind):
    rng = np.random.default_rng(KINDS.index(kind))
    for _ in range(25):
        a, b, cost = _problem(kind, rng)
        res = emd(a, b, cost)
        an, bn = _normalised(a), _normalised(b)
        ref = ot.emd2(an, bn, cost, numItermax=10**7)
        assert res.status == "optimal" and res.converged
        np.testing.assert_allclose(res.cost, ref, rtol=1e-9, atol=1e-12 * np.abs(cost).max())
        check_transport(res, an, bn, cost)
        assert res.distance == res.cost and res.p == 1.0
        assert res.marginal_error < 1e-12
        assert np.count_nonzero(dense_plan(res.plan)) <= len(a) + len(b) - 1
        f, g = res.potentials  # tight certificate, feasible on every pair
        scale = np.abs(cost).max()
        assert abs(an @ f + bn @ g - res.cost) <= 1e-12 * scale
        assert (cost - f[:, None] - g[None, :] >= -1e-12 * scale).all()


def _linprog_cost(a, b, cost):
    n, m = cost.shape
    rows = np.kron(np.eye(n), np.ones(m))
    cols = np.kron(np.ones(n), np.eye(m))
    # one marginal constraint is redundant; dropping it keeps the LP feasible when the two
    # normalised masses differ by an ulp (HiGHS's presolve calls that infeasible)
    out = linprog(cost.ravel(), A_eq=np.vstack([rows, cols[:-1]]),
                  b_eq=np.concatenate([a, b[:-1]]), bounds=(0, None), method="highs")
    assert out.status == 0
    return out.fun


@st.composite
def small_problems(draw):
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    a, b = draw(histograms(n=n)), draw(histograms(n=m))
    cost = draw(hnp.arrays(np.float64, (n, m), elements=st.one_of(
        st.integers(-3, 3).map(float), st.floats(-1e3, 1e3))))
    return a, b, cost


@settings(max_examples=40)
@given(small_problems())
@example((np.array([10.0, 1e-6, 1e-6]), np.array([1.0]), np.zeros((3, 1))))  # masses off by 1 ulp
# a weight below the rounding of the other side's total, routed after the LP: the gap it
# opens in the certificate is its own, not imprecision (was flagged "imprecise")
@example((np.array([7.77551982e-201, 1.0]), np.array([0.0, 9.90587829e-289, 1.0, 0.0]),
          np.array([[0.0, 0.0, 1.0, 0.0], [0.0, -2.0, 0.0, 0.0]])))
def test_same_cost_as_highs(problem):
    a, b, cost = problem
    an, bn = _normalised(a), _normalised(b)
    res = emd(a, b, cost)
    scale = max(1.0, np.abs(cost).max())
    # HiGHS is accurate to its feasibility tolerance (1e-7), not to 1e-12.
    np.testing.assert_allclose(res.cost, _linprog_cost(an, bn, cost), rtol=1e-7,
                               atol=1e-7 * scale)
    check_transport(res, an, bn, cost, atol=1e-10)
    f, g = res.potentials  # feasible on every pair, zero weights included
    assert (cost - f[:, None] - g[None, :] >= -1e-10 * scale).all()


@pytest.mark.parametrize("n", [1, 7, 60])
def test_planted_permutation(n):
    rng = np.random.default_rng(n)
    perm = rng.permutation(n)
    u, v = rng.normal(size=n), rng.normal(size=n)
    slack = rng.uniform(0.1, 1.0, (n, n))
    slack[np.arange(n), perm] = 0.0
    cost = u[:, None] + v[None, :] + slack  # reduced costs > 0 off the permutation
    res = emd(np.ones(n), np.ones(n), cost)
    expected = np.zeros((n, n))
    expected[np.arange(n), perm] = 1.0 / n
    np.testing.assert_allclose(res.plan, expected, atol=1e-15)
    np.testing.assert_allclose(res.cost, u.mean() + v.mean(), rtol=1e-12, atol=1e-14)
    check_transport(res, np.full(n, 1 / n), np.full(n, 1 / n), cost)


def test_transpose_symmetry():
    rng = np.random.default_rng(5)
    for kind in KINDS:
        a, b, cost = _problem(kind, rng)
        one, two = emd(a, b, cost), emd(b, a, cost.T)
        np.testing.assert_allclose(one.cost, two.cost, rtol=1e-12, atol=1e-14)
        check_transport(two, _normalised(b), _normalised(a), cost.T)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_one_dimensional_closed_form(p):
    rng = np.random.default_rng(int(10 * p))
    # equal sizes, uniform weights: the sorted samples are matched
    x, y = rng.normal(size=40), rng.exponential(size=40)
    expected = np.mean(np.abs(np.sort(x) - np.sort(y)) ** p) ** (1 / p)
    got = wasserstein(x[:, None], y[:, None], p=p, method="exact")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # unequal sizes and weights: POT's quantile formula (returns W_p^p)
    x, y = rng.normal(size=30), rng.normal(size=17) + 0.5
    a, b = rng.random(30), rng.random(17)
    res = transport(x, y, a, b, p=p, method="exact")
    ref = ot.wasserstein_1d(x, y, _normalised(a), _normalised(b), p=p)
    np.testing.assert_allclose(res.cost, ref, rtol=1e-10)
    np.testing.assert_allclose(res.distance, ref ** (1 / p), rtol=1e-10)
    check_transport(res, _normalised(a), _normalised(b), np.abs(x[:, None] - y[None, :]) ** p)


@pytest.mark.parametrize("p", [1, 2])
def test_seed_parallel_segments(p):
    """W(P0, P_theta) = |theta| for the segments (0, Z) and (theta, Z), on a shared sample."""
    z = np.random.default_rng(0).uniform(size=64)
    p0 = np.column_stack([np.zeros_like(z), z])
    for theta in [-1.5, -0.3, 0.0, 1e-3, 0.7, 2.0]:
        pt = np.column_stack([np.full_like(z, theta), z])
        assert abs(wasserstein(p0, pt, p=p) - abs(theta)) <= 1e-12
        res = transport(p0, pt, p=p, method="exact")
        check_transport(res, np.full(64, 1 / 64), np.full(64, 1 / 64), cdist(p0, pt) ** p)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock", "chebyshev",
                                    "minkowski"])
def test_metrics_against_pot(metric):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(25, 3)), rng.normal(size=(18, 3))
    a, b = rng.random(25), rng.random(18)
    opts = {"q": 3.0} if metric == "minkowski" else {}
    cost = cdist(x, y, metric, **({"p": 3.0} if metric == "minkowski" else {})) ** 2
    res = transport(x, y, a, b, p=2, metric=metric, **opts)
    ref = ot.emd2(_normalised(a), _normalised(b), cost)
    np.testing.assert_allclose(res.cost, ref, rtol=1e-9)
    np.testing.assert_allclose(res.distance, np.sqrt(ref), rtol=1e-9)
    check_transport(res, _normalised(a), _normalised(b), cost)


def test_larger_degenerate_problems():
    rng = np.random.default_rng(11)
    x, y = rng.random((300, 2)), rng.random((250, 2))
    cost = cdist(x, y)
    for a, b in [(np.ones(300), np.ones(250)), (rng.random(300), rng.random(250))]:
        res = emd(a, b, cost)
        ref = ot.emd2(_normalised(a), _normalised(b), cost, numItermax=10**7)
        np.testing.assert_allclose(res.cost, ref, rtol=1e-9)
        check_transport(res, _normalised(a), _normalised(b), cost)
    grid = np.round(cost * 4)  # few distinct values: heavy ties
    res = emd(np.ones(300), np.ones(250), grid)
    np.testing.assert_allclose(res.cost, ot.emd2(np.full(300, 1 / 300), np.full(250, 1 / 250),
                                                 grid, numItermax=10**7), rtol=1e-9)


def test_constant_cost_and_single_points():
    res = emd([1, 2, 3], [4, 5], np.full((3, 2), 2.5))
    assert res.cost == pytest.approx(2.5, rel=1e-15)
    check_transport(res, _normalised([1, 2, 3]), _normalised([4, 5]), np.full((3, 2), 2.5))
    res = emd([1.0], [0.2, 0.0, 0.8], [[1.0, -7.0, 3.0]])
    np.testing.assert_allclose(res.plan, [[0.2, 0.0, 0.8]])
    assert res.cost == pytest.approx(2.6, rel=1e-15) and res.n_iter >= 0


def test_sparse_plan_for_large_problems(monkeypatch):
    monkeypatch.setattr(exact_module, "DENSE_PLAN_MAX", 10)
    rng = np.random.default_rng(2)
    a, b, cost = rng.random(6), rng.random(5), rng.random((6, 5))
    res = emd(a, b, cost)
    assert scipy.sparse.issparse(res.plan)
    check_transport(res, _normalised(a), _normalised(b), cost)


def test_max_iter_warns_and_returns_a_coupling():
    rng = np.random.default_rng(4)
    a, b, cost = rng.random(30), rng.random(40), rng.random((30, 40))
    with pytest.warns(ConvergenceWarning, match="Raise max_iter"):
        res = emd(a, b, cost, max_iter=5)
    assert not res.converged and res.status == "max_iter" and res.n_iter == 5
    check_transport(res, _normalised(a), _normalised(b), cost, optimal=False)
    assert res.cost >= emd(a, b, cost).cost
    with pytest.warns(ConvergenceWarning):
        res = transport(rng.random((20, 2)), rng.random((20, 2)), method="exact", max_iter=3)
    assert not res.converged


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([0.5, 0.5], [1.0], np.ones((3, 1))), {}, ValueError, "^cost must have shape"),
        (([0.5, 0.5], [1.0], [[np.nan], [1.0]]), {}, ValueError, "^cost contains NaN"),
        (([0.5, 0.5], [1.0], [[np.inf], [1.0]]), {}, ValueError, "^cost contains infinite"),
        (([0.5, -0.5], [1.0], np.ones((2, 1))), {}, ValueError, "^a has negative"),
        (([0.5, 0.5], [np.nan], np.ones((2, 1))), {}, ValueError, "^b contains NaN"),
        (([0.5, np.inf], [1.0], np.ones((2, 1))), {}, ValueError, "^a contains infinite"),
        (([0.0, 0.0], [1.0], np.ones((2, 1))), {}, ValueError, "^a has zero total mass"),
        (([[0.5, 0.5]], [1.0], np.ones((2, 1))), {}, ValueError, "^a must be 1-D"),
        (([], [1.0], np.ones((0, 1))), {}, ValueError, "^a is empty"),
        (("ab", [1.0], np.ones((2, 1))), {}, TypeError, "^a must be"),
        (([1.0], [1.0], [[1.0]]), {"max_iter": 0}, ValueError, "^max_iter must be >= 1"),
        (([1.0], [1.0], [[1.0]]), {"max_iter": 2.5}, TypeError, "^max_iter must be"),
    ],
)
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        emd(*args, **kwargs)


def test_bad_transport_options():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="^q must be"):
        transport(x, x, metric="minkowski", q=0.5)
    with pytest.raises(ValueError, match="^q is only used"):
        transport(x, x, q=3)
    with pytest.raises(TypeError):
        transport(x, x, tol=1e-3)


@pytest.mark.parametrize("scale", [1e-300, 1e-8, 1e8, 1e305])
def test_scale_invariance(scale):
    """Pricing is relative: the same plan for s * C, even where the big M would overflow."""
    rng = np.random.default_rng(8)
    a, b, cost = rng.random(30), rng.random(20), rng.random((30, 20))
    a[3] = 0.0
    ref = emd(a, b, cost)
    res = emd(a, b, cost * scale)
    np.testing.assert_allclose(res.cost, ref.cost * scale, rtol=1e-12)
    np.testing.assert_array_equal(res.plan > 0, ref.plan > 0)
    check_transport(res, _normalised(a), _normalised(b), cost * scale)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock", "chebyshev",
                                    "minkowski"])
@pytest.mark.parametrize("p", [1.0, 2.0, 1.5, 300.0])
def test_exact_costs_agree_with_the_cost_kernel(metric, p):
    """The exact path builds its costs with SciPy's cdist (nothing to compile on the first
    call); the entropic path with the numba kernel: the same numbers to rounding, and
    powers that overflow or underflow give inf or 0 without a warning in both."""
    from divergences._kernels.cost import cost_matrix
    from divergences._metrics import ground_costs, metric_code

    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(40, 3)) * 10.0, rng.normal(size=(30, 3))
    code = metric_code(metric)
    ours = ground_costs(x, y, code, 3.0, p)
    ref = cost_matrix(x, y, code, 3.0, p)
    finite = np.isfinite(ref) & (ref > 1e-300)
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(ref))
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=1e-12 * max(p, 1.0))
