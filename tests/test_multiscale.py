"""The multiscale exact solver: the dense LP's optimum (POT's ot.emd2 and our dense emd) on
random clouds, lattices with ties and zero weights, DOTmark images; the certificate
against brute force; the rounds it adds arcs in; the automatic switch of method="exact"."""

import os

import numpy as np
import ot
import pytest
import scipy.sparse
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

import divergences.multiscale as ms
from divergences import emd, transport, transport_grid, wasserstein
from divergences._kernels.certificate import violated_pairs
from divergences._metrics import METRICS
from divergences._warnings import ConvergenceWarning

DOTMARK = os.path.join(os.path.dirname(__file__), "data", "dotmark32")
CLASSES = sorted({f.rsplit("_", 1)[0] for f in os.listdir(DOTMARK) if f.endswith(".csv")})


def _cost(x, y, metric, p):
    return cdist(x, y, metric) ** p


def _cloud(seed, n, m, d, zeros=0.0, lattice=None):
    rng = np.random.default_rng(seed)
    if lattice:  # integer points: duplicates and ties of costs
        x = rng.integers(0, lattice, (n, d)).astype(float)
        y = rng.integers(0, lattice, (m, d)).astype(float)
    else:
        x, y = rng.random((n, d)), rng.random((m, d))
    a, b = rng.random(n), rng.random(m)
    a[rng.random(n) < zeros] = 0.0
    b[rng.random(m) < zeros] = 0.0
    a[0] += 1.0
    b[-1] += 1.0
    return x, y, a / a.sum(), b / b.sum()


def _solve(x, y, a, b, metric, p, coarse, stats=None):
    return ms.transport_multiscale(x, y, a, b, float(p), METRICS[metric], 2.0, 10**7,
                                   coarse=coarse, stats=stats)


def _check_exact(res, x, y, a, b, metric, p):
    """POT's and our dense optimum to 1e-9, the shared checker, and potentials feasible on
    every pair (zero weights included)."""
    cost = _cost(x, y, metric, p)
    ref = ot.emd2(a, b, cost, numItermax=10**8)
    np.testing.assert_allclose(res.cost, ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(res.cost, emd(a, b, cost).cost, rtol=1e-9, atol=1e-15)
    assert res.status == "optimal" and res.converged
    assert scipy.sparse.issparse(res.plan)
    check_transport(res, a, b, cost)
    f, g = res.potentials
    assert (cost - f[:, None] - g[None, :] >= -1e-10 * max(1.0, cost.max())).all()


@pytest.mark.parametrize("d, p, metric", [
    (1, 1, "euclidean"), (1, 2, "euclidean"), (2, 1, "euclidean"), (2, 2, "euclidean"),
    (2, 1, "sqeuclidean"), (2, 1, "cityblock"), (3, 1, "euclidean"), (3, 2, "cityblock"),
    (2, 3, "chebyshev"),
])
def test_random_clouds_equal_the_dense_optimum(d, p, metric):
    x, y, a, b = _cloud(10 * d + p, 700, 650, d)
    stats = {}
    res = _solve(x, y, a, b, metric, p, coarse=16, stats=stats)
    assert len(stats["levels"]) >= 3  # coarse, intermediate, points
    _check_exact(res, x, y, a, b, metric, p)


@pytest.mark.parametrize("zeros, lattice", [(0.3, None), (0.0, 4), (0.3, 5)])
def test_zero_weights_duplicates_and_ties(zeros, lattice):
    x, y, a, b = _cloud(7, 500, 450, 2, zeros=zeros, lattice=lattice)
    res = _solve(x, y, a, b, "euclidean", 1, coarse=8)
    _check_exact(res, x, y, a, b, "euclidean", 1)
    res = _solve(x, y, a, b, "sqeuclidean", 1, coarse=8)
    _check_exact(res, x, y, a, b, "sqeuclidean", 1)


def test_exact_switches_to_multiscale_on_large_problems():
    """n m > AUTO_ENTRIES: method="exact"/"auto" run the multiscale solver (dense plan up
    to 2**24 entries, as before); the optimal cost is POT's."""
    x, y, a, b = _cloud(1, 2000, 1800, 2)
    assert ms.prefers_multiscale(a, b, 2) and not ms.prefers_multiscale(a[:100], b, 2)
    res = transport(x, y, a, b, p=2, method="exact")
    assert isinstance(res.plan, np.ndarray) and res.status == "optimal"
    cost = _cost(x, y, "euclidean", 2)
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost, numItermax=10**8), rtol=1e-9)
    check_transport(res, a, b, cost)
    w = wasserstein(x, y, a, b, p=2, method="multiscale")
    assert w == pytest.approx(res.distance, rel=1e-12)
    small = transport(x[:60], y[:50], a[:60], b[:50], method="multiscale")  # p=1
    dense = transport(x[:60], y[:50], a[:60], b[:50], method="exact")
    np.testing.assert_allclose(small.critic(x[:9]), dense.critic(x[:9]), atol=1e-12)


def test_certificate_adds_arcs_until_optimal(monkeypatch):
    """Without the widening of the coarse support the refined arcs miss the optimum: the
    certificate finds the violated pairs and the re-solves reach the dense optimum."""
    monkeypatch.setattr(ms, "RADIUS", 0)
    x, y, a, b = _cloud(5, 600, 600, 2)
    stats = {}
    res = _solve(x, y, a, b, "euclidean", 2, coarse=8, stats=stats)
    assert max(stats["rounds"]) >= 3, stats["rounds"]
    _check_exact(res, x, y, a, b, "euclidean", 2)


def test_uncertified_when_rounds_run_out(monkeypatch):
    monkeypatch.setattr(ms, "RADIUS", 0)
    monkeypatch.setattr(ms, "MAX_ROUNDS", 1)
    x, y, a, b = _cloud(5, 600, 600, 2)
    with pytest.warns(ConvergenceWarning, match="certificate"):
        res = _solve(x, y, a, b, "euclidean", 2, coarse=8)
    assert res.status == "uncertified" and not res.converged
    check_transport(res, a, b, _cost(x, y, "euclidean", 2), optimal=False)


@pytest.mark.parametrize("metric, p", [("euclidean", 1.0), ("sqeuclidean", 1.0),
                                       ("cityblock", 2.0), ("chebyshev", 1.0)])
def test_certificate_equals_brute_force(metric, p):
    """Every violated pair is counted (pruning loses none) and each row keeps its most
    negative ones; the parallel kernel equals its serial twin."""
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 2)), rng.random((280, 2))
    cost = _cost(x, y, metric, p)
    f = rng.random(300) * 0.5
    g = cost.min(axis=0) - rng.random(280) * 0.2  # feasible but for some pairs
    g[::7] += 0.3
    geo = (METRICS[metric], 2.0, p)
    blocks = (np.r_[np.arange(0, 300, 16), 300], np.r_[np.arange(0, 280, 20), 280])
    xb, yb = blocks
    rows, cols, count, low = ms.certificate(x, y, f, g, geo, blocks, slots=4)
    red = cost - f[:, None] - g[None, :]
    atol = ms.CERT_ATOL * (np.abs(f).max() + np.abs(g).max())
    bad = red < -ms.CERT_RTOL * (np.abs(cost) + np.abs(f)[:, None] + np.abs(g)[None, :]) - atol
    assert count == bad.sum() > 0
    assert low == pytest.approx(red.min(), rel=1e-12)
    for i in range(300):
        want = np.flatnonzero(bad[i])
        want = want[np.argsort(red[i, want])][:4]
        assert sorted(cols[rows == i]) == sorted(want)
    if metric != "euclidean":
        return
    # threaded or not, the same pairs (block boxes from the shared helper)
    xlo, xhi, fmax = ms._box_bounds(x, f, xb)
    ylo, yhi, gmax = ms._box_bounds(y, g, yb)
    out = []
    for threads in (4, 1):  # ranges of blocks in threads, and one range in this thread
        best_j = np.full((300, 4), -1, np.int64)
        best_r = np.zeros((300, 4))
        counts = np.zeros(xb.size - 1, np.int64)
        violated_pairs(x, y, f, g, xb, yb, xlo, xhi, ylo, yhi, fmax, gmax, geo[0], 2.0, p,
                       ms.CERT_RTOL, atol, best_j, best_r, counts, np.zeros(xb.size - 1),
                       threads=threads)
        out.append((np.sort(best_j, axis=1), counts))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("cls", CLASSES)
def test_dotmark_32(cls):
    """DOTmark 32x32, images 1001 -> 1002: p=1 and p=2 (Euclidean) equal POT's dense LP."""
    A = np.loadtxt(os.path.join(DOTMARK, f"{cls}_1001.csv"), delimiter=",")
    B = np.loadtxt(os.path.join(DOTMARK, f"{cls}_1002.csv"), delimiter=",")
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    pix = np.stack(np.unravel_index(np.arange(a.size), A.shape), 1).astype(float)
    for p in (1, 2):
        res = transport_grid(A, B, p=p)
        cost = _cost(pix, pix, "euclidean", p)
        np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost, numItermax=10**8),
                                   rtol=1e-9)
        assert res.status == "optimal"
        check_transport(res, a, b, cost)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 70), st.integers(1, 70),
       st.integers(1, 3), st.sampled_from([1, 2]),
       st.sampled_from(["euclidean", "sqeuclidean", "cityblock"]),
       st.sampled_from([0.0, 0.3]), st.sampled_from([None, 3]))
def test_property_small_problems(seed, n, m, d, p, metric, zeros, lattice):
    """Any sizes (one point included), coarse levels of 2 cells: the dense optimum."""
    x, y, a, b = _cloud(seed, n, m, d, zeros=zeros, lattice=lattice)
    res = _solve(x, y, a, b, metric, p, coarse=2)
    _check_exact(res, x, y, a, b, metric, p)


def test_bad_options():
    x = np.random.default_rng(0).random((5, 2))
    with pytest.raises(TypeError, match="unexpected option"):
        transport(x, x, method="multiscale", tol=1e-3)
    with pytest.raises(ValueError, match="^reg is only used"):
        transport(x, x, method="multiscale", reg=1.0)
    with pytest.raises(ValueError, match="^max_iter"):
        transport(x, x, method="multiscale", max_iter=0)


@pytest.mark.slow
def test_ten_thousand_points_p2_certified_optimal():
    """10^4 uniform points, p=2 (benchmarks/bench_multiscale.py's cloud): a warm start
    that began in phase 2 with the supplies' rounding on its root arcs made a re-solve
    report the refined arcs infeasible. Checked without the dense 800 MB cost: marginals,
    zero duality gap and dual feasibility over every pair, by blocks of rows."""
    rng = np.random.default_rng(0)
    n = 10_000
    x, y = rng.random((2, n, 2))
    res = transport(x, y, p=2)
    assert res.status == "optimal"
    P = res.plan.tocsr()
    w = np.full(n, 1 / n)
    np.testing.assert_allclose(P.sum(axis=1).ravel(), w, atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=0).ravel(), w, atol=1e-12)
    f, g = res.potentials
    coo = P.tocoo()
    arc_cost = ((x[coo.row] - y[coo.col]) ** 2).sum(1)
    cost = float((coo.data * arc_cost).sum())
    np.testing.assert_allclose(res.cost, cost, rtol=1e-12)
    np.testing.assert_allclose(f @ w + g @ w, cost, rtol=1e-9)
    worst = 0.0
    for lo in range(0, n, 1000):
        C = cdist(x[lo:lo + 1000], y, "sqeuclidean")
        worst = min(worst, float((C - f[lo:lo + 1000, None] - g[None, :]).min()))
    assert worst >= -1e-9 * max(1.0, float(np.abs(f).max() + np.abs(g).max())), worst
