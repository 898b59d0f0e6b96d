"""pairwise(metric="wasserstein" | "sliced"): equal per pair to the one-problem functions
(and to POT), symmetric with zero diagonal; k-nearest equal to an argsort of the matrix."""

import warnings

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import pairwise, sliced_wasserstein, wasserstein
from divergences._warnings import ConvergenceWarning
from divergences.transport_matrices import PARALLEL_PAIRS


def histograms(seed, n, bins, zeros=0.3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, bins)) * 5
    X[rng.random(X.shape) < zeros] = 0
    X[:, rng.integers(bins)] += 0.5  # no empty row
    X[1] = X[0] * 3  # proportional rows: distance 0
    return X


def loop(f, X, Y, **kw):
    return np.array([[f(a, b, **kw) for b in Y] for a in X])


def check_symmetric(D):
    np.testing.assert_array_equal(D, D.T)
    assert np.all(np.diag(D) == 0)


@pytest.mark.parametrize("p", [1, 2, 1.5])
def test_1d_support_equals_wasserstein_and_pot(p):
    rng = np.random.default_rng(1)
    s = np.array([3.0, -1.0, 0.5, 0.5, 7.0, 2.0, 10.0])  # unsorted, a repeated point
    X = histograms(2, 9, s.size)
    Y = histograms(3, 4, s.size)
    f = lambda a, b: wasserstein(s, s, a, b, p=p)  # noqa: E731
    D = pairwise(X, metric="wasserstein", support=s, p=p)
    ref = loop(f, X, X)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-14)
    check_symmetric(D)
    assert D[0, 1] == 0.0
    np.testing.assert_allclose(pairwise(X, Y, metric="wasserstein", support=s, p=p),
                               loop(f, X, Y), rtol=1e-12, atol=1e-14)
    i, j = rng.integers(9, size=2)  # POT returns W_p^p
    a, b = X[i] / X[i].sum(), X[j] / X[j].sum()
    assert D[i, j] ** p == pytest.approx(ot.wasserstein_1d(s, s, a, b, p=p), rel=1e-12, abs=1e-14)


def test_1d_support_many_rows_threads_and_sqeuclidean():
    s = np.linspace(0, 1, 40) ** 2
    X = histograms(4, 70, s.size)
    D = pairwise(X, metric="wasserstein", support=s)  # parallel kernel (work >= 2**20)
    idx = [0, 5, 33, 69]
    ref = loop(lambda a, b: wasserstein(s, s, a, b), X[idx], X[idx])
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D[np.ix_(idx, idx)], ref, rtol=1e-12, atol=1e-15)
    check_symmetric(D)
    D2 = pairwise(X[:5], X[5:9], metric="wasserstein", support=s, ground_metric="sqeuclidean")
    np.testing.assert_allclose(
        D2, loop(lambda a, b: wasserstein(s, s, a, b, metric="sqeuclidean"), X[:5], X[5:9]),
        rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_rows", [5, 14])  # 10 pairs: serial kernel; 91: threads
def test_exact_on_2d_support_equals_wasserstein_and_emd2(n_rows):
    assert n_rows * (n_rows - 1) // 2 >= PARALLEL_PAIRS or n_rows < 10
    rng = np.random.default_rng(5)
    S = rng.random((12, 2))
    X = histograms(6, n_rows, 12)
    D = pairwise(X, metric="wasserstein", support=S, p=2)
    ref = loop(lambda a, b: wasserstein(S, S, a, b, p=2), X, X)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-14)
    check_symmetric(D)
    M = ot.dist(S, S)  # squared Euclidean, as W_2
    a, b = X[2] / X[2].sum(), X[3] / X[3].sum()
    assert D[2, 3] ** 2 == pytest.approx(ot.emd2(a, b, M), rel=1e-10)
    Y = histograms(7, 3, 12)
    np.testing.assert_allclose(
        pairwise(X, Y, metric="wasserstein", support=S, ground_metric="cityblock"),
        loop(lambda a, b: wasserstein(S, S, a, b, metric="cityblock"), X, Y),
        rtol=1e-12, atol=1e-14)


@settings(max_examples=15)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(2, 8),
       st.sampled_from([1.0, 2.0, 3.0]))
def test_exact_property_random_supports(seed, n, bins, p):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(bins, 3))
    X = rng.integers(0, 3, size=(n, bins)).astype(float)
    X[:, 0] += 1
    D = pairwise(X, metric="wasserstein", support=S, p=p)
    ref = loop(lambda a, b: wasserstein(S, S, a, b, p=p), X, X)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-13)
    check_symmetric(D)


def test_exact_max_iter_falls_back_to_the_solver_and_warns():
    rng = np.random.default_rng(8)
    S = rng.random((10, 2))
    X = histograms(9, 3, 10, zeros=0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        D = pairwise(X, metric="wasserstein", support=S, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert D[0, 2] == wasserstein(S, S, X[0], X[2], max_iter=2)


def test_sliced_equals_sliced_wasserstein_with_the_same_seed():
    rng = np.random.default_rng(10)
    S = rng.normal(size=(15, 3))
    X = histograms(11, 6, 15)
    for p in (1, 2):
        D = pairwise(X, metric="sliced", support=S, p=p, n_projections=20, seed=3)
        ref = loop(lambda a, b, p=p: sliced_wasserstein(S, S, a, b, p=p, n_projections=20,
                                                        seed=3), X, X)
        np.fill_diagonal(ref, 0.0)
        np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-14)
        check_symmetric(D)


@pytest.mark.parametrize("d", [1, 2])
def test_point_sets_equal_wasserstein(d):
    rng = np.random.default_rng(12 + d)
    X = [rng.normal(size=(n, d)) + k for k, n in enumerate([3, 5, 1, 4])]
    wx = [rng.random(x.shape[0]) for x in X]
    wx[1][0] = 0.0  # a point of zero weight
    Y = [rng.normal(size=(n, d)) for n in (2, 6)]
    D = pairwise(X, metric="wasserstein", weights=wx, p=2)
    ref = np.array([[wasserstein(x, y, a, b, p=2) for y, b in zip(X, wx, strict=True)]
                    for x, a in zip(X, wx, strict=True)])
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-14)
    check_symmetric(D)
    DY = pairwise(X, Y, metric="wasserstein", weights=wx)
    ref = np.array([[wasserstein(x, y, a) for y in Y] for x, a in zip(X, wx, strict=True)])
    np.testing.assert_allclose(DY, ref, rtol=1e-12, atol=1e-14)


def _argsort_reference(D, k, same):
    """Columns sorted by (value, index), a row's own column left out with ``same``."""
    cols = np.arange(D.shape[1])
    order = [np.lexsort((cols, row)) for row in D]
    if same:
        order = [o[o != i] for i, o in enumerate(order)]
    order = np.array(order)[:, :k]
    return order, np.take_along_axis(D, order, axis=1)


CASES = {
    "js": {}, "kl": {}, "tv": {}, "js_distance": {}, "hellinger": {}, "chi2": {},
    "renyi": {"alpha": 2.0},
    "wasserstein": {"support": np.array([0.0, 1.0, 3.0, 4.0, 4.5, 9.0])},
    "sliced": {"support": np.random.default_rng(0).normal(size=(6, 2)), "seed": 1,
               "n_projections": 8},
}


@pytest.mark.parametrize("metric", sorted(CASES))
def test_k_nearest_equals_argsort_of_the_matrix(metric, monkeypatch):
    from divergences import _nearest

    monkeypatch.setattr(_nearest, "BLOCK_ENTRIES", 40)  # several blocks of rows
    X = histograms(20, 23, 6, zeros=0.2)
    X[7] = X[3]  # duplicate rows: ties broken by index
    X[8] = X[3] * 2
    Y = histograms(21, 9, 6, zeros=0.2)
    kw = CASES[metric]
    for k in (1, 4, 22):
        idx, dist = pairwise(X, metric=metric, k=k, **kw)
        ref_i, ref_d = _argsort_reference(pairwise(X, metric=metric, **kw), k, True)
        np.testing.assert_array_equal(idx, ref_i)
        np.testing.assert_array_equal(dist, ref_d)
    idx, dist = pairwise(X, Y, metric=metric, k=9, **kw)
    ref_i, ref_d = _argsort_reference(pairwise(X, Y, metric=metric, **kw), 9, False)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_array_equal(dist, ref_d)


def test_k_nearest_of_point_sets():
    rng = np.random.default_rng(22)
    X = [rng.normal(size=(n, 2)) + k % 3 for k, n in enumerate([3, 5, 2, 4, 3, 6])]
    idx, dist = pairwise(X, metric="wasserstein", k=2)
    ref_i, ref_d = _argsort_reference(pairwise(X, metric="wasserstein"), 2, True)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_array_equal(dist, ref_d)


def test_blocks_equal_the_rows_of_the_symmetric_matrix():
    """The "canonical" blocks that the k-nearest reduction and Dask use."""
    rng = np.random.default_rng(23)
    S = rng.random((8, 2))
    X = histograms(24, 10, 8)
    from divergences.matrices import make_plan

    none = dict(base=None, alpha=None, p=None, ground_metric=None, q=None, n_projections=None,
                seed=None, max_iter=None, weights=None, y_weights=None)
    for metric, support in (("wasserstein", S), ("wasserstein", S[:, 0]), ("sliced", S),
                            ("js", None), ("kl", None)):
        plan = make_plan(metric, X, **dict(none, support=support))
        P = plan.rows(X, "X")
        full = plan.block(P, 0, P, 0, "symmetric")
        part = plan.block(plan.take(P, 3, 7), 3, plan.take(P, 2, 9), 2, "canonical")
        np.testing.assert_array_equal(part, full[3:7, 2:9], err_msg=metric)


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "wasserstein"}, "support is required"),
    ({"metric": "wasserstein", "support": [0, 1]}, "support has 2 points"),
    ({"metric": "js", "p": 2}, "p only apply"),
    ({"metric": "sliced", "support": [[0, 1]] * 3, "ground_metric": "cityblock"},
     "ground_metric does not apply"),
    ({"metric": "wasserstein", "support": [0, 1, 2], "seed": 1}, "seed only applies"),
    ({"metric": "wasserstein", "support": [0, 1, 2], "weights": [None]}, "weights"),
    ({"metric": "wasserstein", "support": [0, 1, 2], "p": 0.5}, "p must be"),
    ({"metric": "js", "k": 3}, "k=3 exceeds"),
    ({"metric": "js", "k": 0}, "k must be >= 1"),
])
def test_bad_options(kwargs, match):
    X = np.array([[1.0, 0, 0], [0, 1, 1], [1, 1, 1]])
    with pytest.raises(ValueError, match=match):
        pairwise(X, **kwargs)


def test_bad_point_sets():
    with pytest.raises(ValueError, match="one dimension"):
        pairwise([np.zeros((2, 2)), np.zeros((3, 3))], metric="wasserstein")
    with pytest.raises(ValueError, match="weights must be a list of 2"):
        pairwise([np.zeros(2), np.ones(3)], metric="wasserstein", weights=[[1, 1]])
    with pytest.raises(ValueError, match="y_weights\\[0\\] has 3 weights"):
        pairwise([np.zeros(2)], [np.ones(2)], metric="wasserstein", y_weights=[[1, 1, 1]])
    with pytest.raises(ValueError, match="same dimension"):
        pairwise([np.zeros((2, 2))], [np.ones((2, 3))], metric="wasserstein")


def test_exact_matrix_returns_to_python_between_batches(monkeypatch):
    """Ctrl-C: the pairs run in batches (Python between them); an interrupt raised between
    two batches propagates and leaves nothing behind."""
    from divergences import transport_matrices as tm

    rng = np.random.default_rng(30)
    S = rng.random((6, 2))
    X = histograms(31, 30, 6)  # 435 pairs
    ref = pairwise(X, metric="wasserstein", support=S)
    calls = []
    in_threads = tm.run_in_ranges

    def interrupted(kernel, args, npairs, threads):
        calls.append(npairs)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return in_threads(kernel, args, npairs, threads)

    monkeypatch.setattr(tm, "BATCH_SECONDS", 1e-6)
    monkeypatch.setattr(tm, "run_in_ranges", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pairwise(X, metric="wasserstein", support=S)
    assert calls == [4 * tm.PARALLEL_PAIRS, tm.PARALLEL_PAIRS]
    monkeypatch.undo()
    np.testing.assert_array_equal(pairwise(X, metric="wasserstein", support=S), ref)
