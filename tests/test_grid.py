"""wasserstein_grid / transport_grid against the dense LP (our emd, ot.emd2), the 1-D closed
form (scipy.stats.wasserstein_distance) and on DOTmark 32x32 pairs of every class."""

import os

import numpy as np
import ot
import pytest
import scipy.sparse
import scipy.stats
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from divergences import emd, transport_grid, wasserstein, wasserstein_grid

DOTMARK = os.path.join(os.path.dirname(__file__), "data", "dotmark32")
CLASSES = sorted({name.split("_")[0] for name in os.listdir(DOTMARK) if name.endswith(".csv")})


def _coords(shape, spacing=1.0):
    return np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), 1) * spacing


def _dense_cost(shape, metric="cityblock", spacing=1.0, p=1):
    x = _coords(shape, np.broadcast_to(np.asarray(spacing, float), (len(shape),)))
    return cdist(x, x, metric) ** p


def _grids(rng, shape, sparsity=0.5):
    A, B = rng.random(shape), rng.random(shape)
    A[rng.random(shape) < sparsity] = 0.0
    B[rng.random(shape) < sparsity] = 0.0
    A.flat[0] += 1.0
    B.flat[-1] += 1.0
    return A, B


@pytest.mark.parametrize("cls", CLASSES)
def test_dotmark_32_cityblock_equals_the_dense_lp(cls):
    """Real images (every DOTmark class): the O(N)-arc flow gives the optimal cost of the
    dense LP on the 1024 x 1024 cityblock cost, by ot.emd2 and by our emd, to 1e-9."""
    A = np.loadtxt(os.path.join(DOTMARK, f"{cls}_1001.csv"), delimiter=",")
    B = np.loadtxt(os.path.join(DOTMARK, f"{cls}_1002.csv"), delimiter=",")
    res = transport_grid(A, B, metric="cityblock")
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    cost = _dense_cost(A.shape)
    ref = ot.emd2(a, b, cost, numItermax=10**8)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.cost, ref, rtol=1e-9)
    np.testing.assert_allclose(res.cost, emd(a, b, cost).cost, rtol=1e-9)
    assert wasserstein_grid(A, B, metric="cityblock") == pytest.approx(ref, rel=1e-9)
    check_transport(res, a, b, cost)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(9,), (1, 7), (5, 6), (4, 3, 3), (2, 1, 5)]),
       st.floats(0.0, 0.9), st.sampled_from([1.0, 0.5, (1.0, 2.5, 0.25)]))
def test_random_grids_equal_the_dense_lp(seed, shape, sparsity, spacing):
    """Any shape (1-D to 3-D, axes of length 1), zeros, per-axis steps: the flow equals
    the dense LP with the cityblock cost (ot.emd2) and passes the shared checker; its
    coupling costs what the flow costs (the paths are shortest paths)."""
    rng = np.random.default_rng(seed)
    A, B = _grids(rng, shape, sparsity)
    if isinstance(spacing, tuple):
        spacing = spacing[:len(shape)]
    res = transport_grid(A, B, metric="cityblock", spacing=spacing)
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    cost = _dense_cost(shape, spacing=spacing)
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost, numItermax=10**7), rtol=1e-9,
                               atol=1e-15)
    assert scipy.sparse.issparse(res.plan) and res.plan.shape == cost.shape
    check_transport(res, a, b, cost)


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_one_dimensional_grids_equal_the_closed_form(p):
    rng = np.random.default_rng(int(p * 10))
    A, B = _grids(rng, (40,), 0.3)
    x = np.arange(40) * 0.25
    ref = wasserstein(x, x, A, B, p=p)  # closed form (method="auto" in 1-D)
    got = wasserstein_grid(A, B, p=p, spacing=0.25)
    assert got == pytest.approx(ref, rel=1e-12)
    if p == 1:
        assert got == pytest.approx(scipy.stats.wasserstein_distance(x, x, A, B), rel=1e-12)
        for metric in ("euclidean", "chebyshev"):  # all the same in 1-D
            assert wasserstein_grid(A, B, metric=metric, spacing=0.25) == pytest.approx(ref)


@pytest.mark.parametrize("metric,p", [("euclidean", 1), ("euclidean", 2), ("sqeuclidean", 1),
                                      ("cityblock", 2), ("chebyshev", 1)])
def test_other_metrics_use_the_dense_solver(metric, p):
    rng = np.random.default_rng(3)
    A, B = _grids(rng, (6, 5), 0.4)
    res = transport_grid(A, B, p=p, metric=metric, spacing=(1.0, 0.5))
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    cost = cdist(_coords((6, 5), np.array([1.0, 0.5])), _coords((6, 5), np.array([1.0, 0.5])),
                 metric) ** p
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost), rtol=1e-9)
    assert res.distance == pytest.approx(res.cost ** (1 / p), rel=1e-12)
    check_transport(res, a, b, cost)


def test_identical_and_translated_images():
    A = np.zeros((8, 8))
    A[1:3, 2:5] = 1.0
    assert wasserstein_grid(A, A, metric="cityblock") == 0.0
    B = np.roll(A, (3, 2), axis=(0, 1))  # a translation by (3, 2): W1 = 3 + 2 exactly
    assert wasserstein_grid(A, B, metric="cityblock") == pytest.approx(5.0, rel=1e-12)
    assert wasserstein_grid(A, B, p=2) == pytest.approx(np.hypot(3, 2), rel=1e-12)


def test_bad_grid_input():
    with pytest.raises(ValueError, match="^A and B must be histograms on the same grid"):
        wasserstein_grid(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="^A must be a 1-D, 2-D or 3-D"):
        wasserstein_grid(np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="^B has negative entries"):
        wasserstein_grid(np.ones(3), [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="^A has zero total mass"):
        wasserstein_grid(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="^spacing must be finite and > 0"):
        wasserstein_grid(np.ones(3), np.ones(3), spacing=0.0)
    with pytest.raises(ValueError, match="^spacing must be a number or one per axis"):
        wasserstein_grid(np.ones((2, 2)), np.ones((2, 2)), spacing=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="^metric="):
        wasserstein_grid(np.ones(3), np.ones(3), metric="hamming")
    with pytest.raises(TypeError, match="unexpected option"):
        wasserstein_grid(np.ones((2, 2)), np.ones((2, 2)), metric="cityblock", reg=1.0)


def test_other_metrics_use_the_multiscale_solver():
    """2-D, p=2: the multiscale solver (plan csr over the pixels, certified optimal),
    the dense LP's cost by POT."""
    rng = np.random.default_rng(3)
    A, B = _grids(rng, (23, 21), 0.3)
    res = transport_grid(A, B, p=2)
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    cost = cdist(_coords((23, 21), np.ones(2)), _coords((23, 21), np.ones(2)), "sqeuclidean")
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost), rtol=1e-9)
    assert res.status == "optimal" and res.plan.format == "csr"
    check_transport(res, a, b, cost)


@pytest.mark.parametrize("shape,coarse", [((23, 19), 256), ((301,), 256), ((1, 300), 256),
                                          ((7, 6, 9), 256), ((9, 1, 7), 4), ((5, 8), 2)])
def test_cityblock_from_the_coarse_grid_tree(monkeypatch, shape, coarse):
    """Grids past ``COARSE_PIXELS`` start the flow from a tree made of the optimum on
    the grid of 2x2(x2) blocks (odd sizes, axes of length 1, several levels when the
    limit is tiny): the same optimum as the dense LP (ot.emd2) and the checker."""
    import divergences._kernels.grid_flow as grid_flow

    monkeypatch.setattr(grid_flow, "COARSE_PIXELS", coarse)
    rng = np.random.default_rng(sum(shape) + coarse)
    A, B = _grids(rng, shape, 0.4)
    spacing = (0.5, 2.0, 1.0)[:len(shape)]
    res = transport_grid(A, B, metric="cityblock", spacing=spacing)
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    cost = _dense_cost(shape, spacing=spacing)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost, numItermax=10**7), rtol=1e-9)
    check_transport(res, a, b, cost)


@pytest.mark.parametrize("metric", ["euclidean", "chebyshev", "minkowski"])
def test_p1_moves_only_the_difference(metric):
    """p=1 with a metric: the solver moves (a - b)+ onto (a - b)- and leaves min(a, b)
    in place; zeros in both images (pixels of neither part) get potentials too. The
    dense LP's cost (ot.emd2), the checker (feasible on all pairs, zero gap), and the
    1-Lipschitz potentials G = -F."""
    rng = np.random.default_rng(5)
    A, B = _grids(rng, (23, 21), 0.5)
    A[:5] = B[:5] = 0.0  # pixels of neither part
    options = {"q": 3.0} if metric == "minkowski" else {}
    res = transport_grid(A, B, p=1, metric=metric, **options)
    a, b = A.ravel() / A.sum(), B.ravel() / B.sum()
    x = _coords((23, 21))
    cost = cdist(x, x, metric, **({"p": 3.0} if metric == "minkowski" else {}))
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, cost, numItermax=10**7), rtol=1e-9)
    assert res.status == "optimal"
    check_transport(res, a, b, cost)
    f, g = res.potentials
    np.testing.assert_array_equal(g, -f)  # by construction; the claim is the next line
    assert (np.abs(f[:, None] - f[None, :]) <= cost * (1 + 1e-9) + 1e-12).all()
    np.testing.assert_array_equal(res.plan.diagonal(), np.minimum(a, b))
    same = transport_grid(A, A, p=1, metric=metric, **options)
    assert same.cost == 0.0 and same.status == "optimal"
    check_transport(same, a, a, cost)


def test_cityblock_max_iter_is_not_silent():
    """A pivot budget too small for the coarse and fine solves: status "max_iter",
    converged False and a ConvergenceWarning, never a plan presented as optimal."""
    from divergences import ConvergenceWarning

    A, B = _grids(np.random.default_rng(8), (40, 40), 0.3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = transport_grid(A, B, metric="cityblock", max_iter=5)
    assert res.status == "max_iter" and not res.converged
