"""pairwise exact W_p on supports of LOCAL_MIN_BINS bins or more: the local-arcs solver
(coarse start, local arcs, certificate over all pairs) equals POT's emd2 and the
one-problem solver; its certificate adds the arcs the first set lacks; results do not
depend on threads or on the memory alignment of the histograms."""

import warnings

import numba
import numpy as np
import ot
import pytest

from divergences import pairwise, wasserstein
from divergences import pairwise_local as plocal
from divergences._kernels.cost import EUCLIDEAN
from divergences._kernels.network_simplex import OPTIMAL
from divergences._kernels.pairwise_local import local_cost
from divergences._warnings import ConvergenceWarning
from divergences.transport_matrices import PARALLEL_PAIRS, SupportExact


def grid(side):
    g = np.arange(side, dtype=float)
    return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)


def histograms(seed, n, bins, zeros=0.0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(0.5, size=(n, bins))
    X[rng.random(X.shape) < zeros] = 0.0
    X[:, 0] += 0.1  # no empty row
    return X / X.sum(axis=1, keepdims=True)


def loop(f, X, Y):
    return np.array([[f(a, b) for b in Y] for a in X])


_ONE_PROBLEM = SupportExact._one


def _no_fallback(self, *args):
    raise AssertionError("a pair was not certified by the matrix kernel (fallback)")


@pytest.fixture(autouse=True)
def _local_for_few_rows(monkeypatch):
    """The tests' matrices are small: take the local solver whatever the rows. And no
    pair may fall back to the one-problem solver (which would hide a kernel that never
    certifies: the matrices would still equal the references)."""
    monkeypatch.setattr(plocal, "LOCAL_MIN_WORK", 0)
    monkeypatch.setattr(SupportExact, "_one", _no_fallback)


def test_few_rows_run_the_dense_kernel(monkeypatch):
    monkeypatch.setattr(plocal, "LOCAL_MIN_WORK", 1 << 20)
    S = grid(8)  # 64 bins: 256 rows reach 2**20, 255 do not
    assert SupportExact(S, 2.0, EUCLIDEAN, 2.0, 10**6, n_rows=255).local is None
    assert SupportExact(S, 2.0, EUCLIDEAN, 2.0, 10**6, n_rows=256).local is not None
    X = histograms(5, 5, 64)
    dense = pairwise(X, metric="wasserstein", support=S, p=2)  # 5 rows: dense kernel
    monkeypatch.setattr(plocal, "LOCAL_MIN_WORK", 0)
    local = pairwise(X, metric="wasserstein", support=S, p=2)
    np.testing.assert_allclose(local, dense, rtol=1e-12, atol=1e-14)


def test_the_local_solver_is_used_from_local_min_bins():
    side = int(np.ceil(np.sqrt(plocal.LOCAL_MIN_BINS)))
    assert SupportExact(grid(side), 2.0, EUCLIDEAN, 2.0, 10**6).local is not None
    assert SupportExact(grid(7)[:plocal.LOCAL_MIN_BINS - 1], 2.0, EUCLIDEAN, 2.0,
                        10**6).local is None


@pytest.mark.parametrize("p, metric, pot_metric", [
    (2, "euclidean", "sqeuclidean"), (1, "euclidean", "euclidean"),
    (1, "cityblock", "cityblock")])
def test_local_equals_emd2_and_wasserstein(p, metric, pot_metric):
    S = grid(9)
    X = histograms(1, 6, 81, zeros=0.4)  # zero bins: compacted problems
    Y = histograms(2, 3, 81)
    D = pairwise(X, metric="wasserstein", support=S, p=p, ground_metric=metric)
    ref = loop(lambda a, b: wasserstein(S, S, a, b, p=p, metric=metric), X, X)
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(D, D.T)
    M = ot.dist(S, S, metric=pot_metric) ** (1 if pot_metric != "euclidean" else p)
    pot = loop(lambda a, b: ot.emd2(a, b, M), X, X)
    np.fill_diagonal(pot, 0.0)
    np.testing.assert_allclose(D ** (p if metric != "sqeuclidean" else 1), pot, rtol=1e-12,
                               atol=1e-13)
    DY = pairwise(X, Y, metric="wasserstein", support=S, p=p, ground_metric=metric)
    np.testing.assert_allclose(
        DY, loop(lambda a, b: wasserstein(S, S, a, b, p=p, metric=metric), X, Y),
        rtol=1e-12, atol=1e-14)


def test_local_on_a_random_cloud_in_threads():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(70, 3))
    X = histograms(4, 12, 70, zeros=0.2)
    assert 12 * 11 // 2 >= PARALLEL_PAIRS  # ranges of pairs in threads
    D = pairwise(X, metric="wasserstein", support=S, p=2)
    M = ot.dist(S, S)
    pot = loop(lambda a, b: ot.emd2(a, b, M), X, X)
    np.fill_diagonal(pot, 0.0)
    np.testing.assert_allclose(D ** 2, pot, rtol=1e-12, atol=1e-13)


def _plan_arrays(S, monkeypatch, neighbours):
    monkeypatch.setattr(plocal, "NEIGHBOURS", neighbours)
    plan = SupportExact(S, 2.0, EUCLIDEAN, 2.0, 10**9)
    return plan, plan.local


def test_the_certificate_adds_the_arcs_the_first_set_lacks(monkeypatch):
    """With one local arc per bin (itself), the coarse coupling and those arcs miss
    part of the optimal support: the certificate must add arcs, and the answer is
    still POT's optimum."""
    S = grid(10)
    plan, (Cp, Cc, perm, starts, kt, kh) = _plan_arrays(S, monkeypatch, 1)
    assert np.array_equal(kt, kh)  # only the arcs of cost 0
    X = histograms(5, 6, 100, zeros=0.2)
    M = ot.dist(S, S) / plan.scale**2
    work = np.zeros(100 * 100, np.int64)
    added = []
    for i in range(5):
        a, b = X[i], X[i + 1]
        cost, status, top, n_added = local_cost(Cp, 100, Cc, starts.shape[0] - 1, perm,
                                                starts, kt, kh, a, b, 10**9, work)
        assert status == OPTIMAL
        assert cost == pytest.approx(ot.emd2(a, b, M), rel=1e-12, abs=1e-14)
        assert top == M[np.ix_(a > 0, b > 0)].max()
        assert not work.any()  # the scratch is left clean for the next pair
        added.append(n_added)
    assert min(added) > 0
    D = pairwise(X, metric="wasserstein", support=S, p=2)
    pot = loop(lambda a, b: ot.emd2(a, b, ot.dist(S, S)), X, X)
    np.fill_diagonal(pot, 0.0)
    np.testing.assert_allclose(D ** 2, pot, rtol=1e-12, atol=1e-13)


def test_results_do_not_depend_on_alignment_or_threads():
    S = grid(8)
    Cp, Cc, perm, starts, kt, kh = SupportExact(S, 2.0, EUCLIDEAN, 2.0, 10**9).local
    X = histograms(6, 2, 64, zeros=0.1)
    work = np.zeros(64 * 64, np.int64)
    buf = np.zeros(2 * 64 + 16)
    out = set()
    for offset in range(8):  # the same histograms at 8 alignments
        a = buf[offset:offset + 64]
        b = buf[64 + 8 + offset:64 + 8 + offset + 64]
        a[:], b[:] = X[0], X[1]
        out.add(local_cost(Cp, 64, Cc, starts.shape[0] - 1, perm, starts, kt, kh, a, b,
                           10**9, work))
    assert len(out) == 1
    X = histograms(7, 14, 64, zeros=0.1)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        D1 = pairwise(X, metric="wasserstein", support=S, p=2)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        D2 = pairwise(X, metric="wasserstein", support=S, p=2)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(D1, D2)


def test_local_max_iter_falls_back_to_the_solver_and_warns(monkeypatch):
    monkeypatch.setattr(SupportExact, "_one", _ONE_PROBLEM)  # the fallback is the point
    S = grid(8)
    X = histograms(8, 3, 64)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        D = pairwise(X, metric="wasserstein", support=S, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert D[0, 2] == wasserstein(S, S, X[0], X[2], max_iter=2)
