"""pairwise: against a loop over the scalar functions, SciPy's cdist, parallel == serial."""

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from divergences import chi2, hellinger, js, js_distance, kl, pairwise, renyi, tv
from divergences._kernels import elementwise as ew
from divergences._kernels.pairwise import pairwise_matrix, pairwise_matrix_serial

SCALAR = {
    "kl": kl, "js": js, "js_distance": js_distance, "tv": tv, "hellinger": hellinger,
    "chi2": chi2,
}


def data(seed, n, m, bins=9, zeros=0.3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, bins)) * 10
    Y = rng.random((m, bins)) * 10
    X[rng.random(X.shape) < zeros] = 0
    Y[rng.random(Y.shape) < zeros] = 0
    X[:, 0] += 1  # no empty row
    Y[:, 1] += 1
    X[1] = X[0] * 3  # a proportional pair of rows
    X[2] = 0
    X[2, -1] = 1  # and one disjoint from most
    return X, Y


def loop(f, X, Y, **kw):
    return np.array([[f(x, y, **kw) for y in Y] for x in X])


@pytest.mark.parametrize("metric", sorted(SCALAR))
def test_against_scalar_loop(metric):
    X, Y = data(0, 7, 5)
    f = SCALAR[metric]
    np.testing.assert_allclose(pairwise(X, Y, metric=metric), loop(f, X, Y), rtol=1e-12,
                               atol=1e-15)
    sym = pairwise(X, metric=metric)
    ref = loop(f, X, X)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(sym, ref, rtol=1e-12, atol=1e-14)
    assert np.all(np.diag(sym) == 0)
    if metric in ("js", "js_distance", "tv", "hellinger"):
        np.testing.assert_array_equal(sym, sym.T)


@pytest.mark.parametrize("base", [2, 10])
def test_bases_and_renyi(base):
    X, Y = data(1, 6, 4)
    for metric, f in (("kl", kl), ("js", js), ("js_distance", js_distance)):
        np.testing.assert_allclose(pairwise(X, Y, metric=metric, base=base),
                                   loop(f, X, Y, base=base), rtol=1e-12, atol=1e-15)
    for alpha in (0.0, 0.5, 1.0, 3.0, np.inf):
        np.testing.assert_allclose(
            pairwise(X, Y, metric="renyi", alpha=alpha, base=base),
            loop(lambda a, b, al=alpha, **kw: renyi(a, b, al, **kw), X, Y, base=base),
            rtol=1e-12, atol=1e-14,
        )


def test_matches_scipy_cdist_jensenshannon():
    X, _ = data(2, 12, 1, bins=16, zeros=0.2)
    ref = cdist(X, X, "jensenshannon")
    # SciPy gives ~1e-8 (sqrt of rounding) for proportional rows, we give 0
    np.testing.assert_allclose(pairwise(X, metric="js_distance"), ref, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(pairwise(X, metric="js"), ref**2, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(pairwise(X, metric="js", base=2), ref**2 / math.log(2),
                               rtol=1e-9, atol=1e-15)


def test_disjoint_rows_exact():
    X = np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 5.0]])
    assert np.all(pairwise(X, metric="js") == math.log(2) * (1 - np.eye(3)))
    assert np.all(pairwise(X, metric="js", base=2) == 1 - np.eye(3))
    assert np.all(pairwise(X, metric="tv") == 1 - np.eye(3))
    assert np.all(pairwise(X, metric="hellinger") == 1 - np.eye(3))
    K = pairwise(X, metric="kl")
    assert np.all(K[~np.eye(3, dtype=bool)] == np.inf) and np.all(np.diag(K) == 0)


@pytest.mark.parametrize("symmetric", [True, False])
def test_parallel_equals_serial(symmetric):
    X, Y = data(3, 11, 6, bins=20)
    Y = X if symmetric else Y
    xs, ys = X.sum(1), Y.sum(1)
    for code, alpha in ((ew.JS, 1.0), (ew.KL, 1.0), (ew.TV, 1.0), (ew.RENYI, 2.0)):
        sym = symmetric and code in (ew.JS, ew.TV)
        par = pairwise_matrix(code, alpha, X, Y, xs, ys, sym)
        ser = pairwise_matrix_serial(code, alpha, X, Y, xs, ys, sym)
        np.testing.assert_allclose(par, ser, rtol=1e-13, atol=1e-15)
    # a size large enough to take the parallel path through the public function
    big = np.random.default_rng(4).random((64, 64))
    assert big.size * 64 >= ew.PARALLEL_MIN
    np.testing.assert_allclose(pairwise(big, metric="js"),
                               pairwise_matrix_serial(ew.JS, 1.0, big, big, big.sum(1),
                                                      big.sum(1), True), rtol=1e-13, atol=1e-15)


def test_bad_input_names_the_argument():
    X, Y = data(5, 3, 3)
    with pytest.raises(ValueError, match="^metric"):
        pairwise(X, metric="euclidean")
    with pytest.raises(TypeError, match="^metric"):
        pairwise(X, metric=None)
    with pytest.raises(ValueError, match="^X .*2-D"):
        pairwise(X[0])
    with pytest.raises(ValueError, match="^Y .*2-D"):
        pairwise(X, Y[0])
    with pytest.raises(ValueError, match="^X and Y .*bins"):
        pairwise(X, Y[:, :4])
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="^X contains NaN"):
        pairwise(bad)
    bad[1, 1] = -1
    with pytest.raises(ValueError, match="^Y has negative"):
        pairwise(X, bad)
    with pytest.raises(ValueError, match="^X has zero total mass"):
        pairwise(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="^X is empty"):
        pairwise(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="^alpha"):
        pairwise(X, metric="renyi")
    with pytest.raises(ValueError, match="^alpha"):
        pairwise(X, metric="js", alpha=2.0)
    with pytest.raises(ValueError, match="^alpha"):
        pairwise(X, metric="renyi", alpha=-1.0)
    with pytest.raises(ValueError, match="^base"):
        pairwise(X, metric="js", base=1)
    with pytest.raises(ValueError, match="^base"):
        pairwise(X, metric="tv", base=2)
    with pytest.raises(ValueError, match="^base"):
        pairwise(X, metric="js_distance", base=0.5)
    assert np.all(pairwise(X, metric="kl", base=0.5) <= 0)  # allowed, as in kl
    with pytest.raises(TypeError, match="^X"):
        pairwise([["a", "b"]])


def test_supports_are_those_of_the_raw_weights_when_normalising_underflows():
    X = np.array([[1e300, 1e-300], [1.0, 1e-150]])
    Y = np.array([[1.0, 0.0], [1e300, 1e-30]])
    for metric in ("kl", "chi2"):
        np.testing.assert_allclose(pairwise(X, Y, metric=metric), loop(SCALAR[metric], X, Y),
                                   rtol=1e-12)
    assert pairwise(X, Y, metric="kl")[0, 0] == np.inf
    assert pairwise(X, Y, metric="kl")[1, 1] == pytest.approx(1e-150 * (math.log(1e180) - 1),
                                                                rel=1e-12, abs=0)
    for alpha in (0.0, 0.5, 2.0, np.inf):
        np.testing.assert_allclose(pairwise(X, Y, metric="renyi", alpha=alpha),
                                   loop(lambda a, b, al=alpha: renyi(a, b, al), X, Y), rtol=1e-12)
    assert pairwise(X, Y, metric="renyi", alpha=2.0)[0, 0] == np.inf
