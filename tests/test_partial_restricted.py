"""Partial transport by the restricted solve (candidate arcs + certificate over all pairs).

The restricted path (divergences.partial._restricted) must give the optimum of the dense
extended problem: checked against the dense path of the same library, POT's
``ot.partial.partial_wasserstein2`` and ``scipy.optimize.linprog`` (HiGHS), with the
partial dual certificate of tests/checks.py, including candidate sets that are too small
(one neighbour, one pair added per round) so that the certificate loop must add arcs,
and a case where the nearest-neighbour arcs alone admit no coupling.
"""

import warnings

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import divergences.multiscale as ms
import divergences.partial as partial
from divergences import ConvergenceWarning, emd
from divergences._kernels.network_simplex import INFEASIBLE
from divergences._kernels.sparse_lp import solve_sparse_transport
from tests.checks import check_partial_transport
from tests.test_partial import linprog_partial, problem, small_problem


def _solve(a, b, cost, mass, path, mp, *, neighbours=None, slots=None):
    """``emd(..., mass=)`` through one path ("restricted", "dense" or "default": by
    size); returns the
    result and the statistics of the certified solves (empty for the dense path)."""
    if path != "default":
        mp.setattr(partial, "RESTRICTED_MIN_ENTRIES", 0 if path == "restricted" else 10**18)
    if neighbours is not None:
        mp.setattr(partial, "NEIGHBOURS", neighbours)
    if slots is not None:
        mp.setattr(partial, "SLOTS", slots)
    calls = []
    inner = ms.certified_solve

    def spy(*args):
        calls.append(args[-2])  # the stats dict
        return inner(*args)

    mp.setattr(ms, "certified_solve", spy)
    return emd(a, b, cost, mass=mass), calls


def _points(seed, n, m):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2)) + 0.2
    return np.sqrt(((x[:, None] - y[None]) ** 2).sum(-1))


@pytest.mark.parametrize(("n", "m", "kind"), [
    (40, 40, "points"), (30, 55, "points"), (60, 25, "uniform"), (35, 35, "zeros"),
    (30, 30, "negative"),
])
@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.7, 0.99, 1.0])
def test_restricted_equals_dense_pot_highs(n, m, kind, fraction, monkeypatch):
    if kind == "points":
        rng = np.random.default_rng(n + m)
        a, b, cost = rng.random(n) + 0.1, rng.random(m) + 0.1, _points(n * m, n, m)
    else:
        a, b, cost = problem(n + 7 * m, n, m, zeros=kind == "zeros",
                             negative=kind == "negative")
    mass = fraction * min(a.sum(), b.sum())
    res, calls = _solve(a, b, cost, mass, "restricted", monkeypatch, neighbours=3)
    assert len(calls) == 1 and res.status == "optimal"
    check_partial_transport(res, a, b, cost, mass)
    dense, none = _solve(a, b, cost, mass, "dense", monkeypatch)
    assert not none
    assert res.cost == pytest.approx(dense.cost, rel=1e-12, abs=1e-14)
    assert res.cost == pytest.approx(linprog_partial(a, b, cost, mass), rel=1e-9, abs=1e-9)
    if kind != "negative":  # POT's dummy cost assumes C >= 0
        assert res.cost == pytest.approx(ot.partial.partial_wasserstein2(a, b, cost, m=mass),
                                         rel=1e-9, abs=1e-12)


def test_certificate_loop_adds_arcs(monkeypatch):
    """One neighbour per row and one violated pair per row and round: the first
    candidate set is far from optimal and the loop runs several rounds."""
    cost = _points(3, 50, 50)
    a = b = np.full(50, 0.02)
    for mass in (0.5, 0.95):
        res, calls = _solve(a, b, cost, mass, "restricted", monkeypatch, neighbours=1,
                            slots=1)
        assert calls[0]["rounds"][0] > 2
        assert calls[0]["arcs"][0] > 50 + 2 * 51 + 1  # arcs were added
        check_partial_transport(res, a, b, cost, mass)
        assert res.cost == pytest.approx(linprog_partial(a, b, cost, mass), rel=1e-9)
        assert res.cost == pytest.approx(ot.partial.partial_wasserstein2(a, b, cost, m=mass),
                                         rel=1e-9)


def test_nearest_arcs_alone_infeasible(monkeypatch):
    """Every row's cheapest column is column 0 and every other column's cheapest row is
    row 0: with one neighbour the real candidate arcs carry at most a_0 + b_0 < mass, so
    without the north-west corner arcs they admit no coupling of the extended problem;
    with them the certificate finds the optimum."""
    n = 6
    rng = np.random.default_rng(4)
    cost = 1.0 + rng.random((n, n))
    cost[:, 0] = 0.0
    cost[0, 1:] = 0.5
    a = b = np.full(n, 1.0 / n)
    mass = 0.9
    a_ext, b_ext = np.append(a, 1.0 - mass), np.append(b, 1.0 - mass)
    with monkeypatch.context() as mp:
        mp.setattr(partial, "_northwest", lambda A, B: (np.zeros(0, np.int64),) * 2)
        rows, cols, vals = partial.candidate_arcs(cost, a_ext, b_ext, 2 * cost.max(), 1)
    real = (rows < n) & (cols < n)
    assert sorted(zip(rows[real], cols[real], strict=True)) == sorted(
        {(i, 0) for i in range(n)} | {(0, j) for j in range(n)})
    status, _ = solve_sparse_transport(rows, cols, vals, a_ext, b_ext, 10**6)
    assert status == INFEASIBLE
    res, calls = _solve(a, b, cost, mass, "restricted", monkeypatch, neighbours=1)
    assert calls and res.status == "optimal"
    check_partial_transport(res, a, b, cost, mass)
    assert res.cost == pytest.approx(linprog_partial(a, b, cost, mass), rel=1e-9)


def test_fallback_to_dense_when_not_certified(monkeypatch):
    """No round left to add arcs: the restricted solve gives up and the dense one
    answers (still exact)."""
    monkeypatch.setattr(ms, "MAX_ROUNDS", 1)
    cost = _points(5, 40, 40)
    a = b = np.full(40, 0.025)
    res, calls = _solve(a, b, cost, 0.9, "restricted", monkeypatch, neighbours=1, slots=1)
    assert calls and calls[0]["rounds"] == [1]
    check_partial_transport(res, a, b, cost, 0.9)
    assert res.cost == pytest.approx(linprog_partial(a, b, cost, 0.9), rel=1e-9)


def test_max_iter_warns(monkeypatch):
    cost = _points(6, 30, 30)
    a = b = np.full(30, 1 / 30)
    monkeypatch.setattr(partial, "RESTRICTED_MIN_ENTRIES", 0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = emd(a, b, cost, mass=0.8, max_iter=5)
    assert res.status == "max_iter" and not res.converged


def test_default_size_uses_restricted_and_sparse_plan(monkeypatch):
    """At the default threshold (n m >= RESTRICTED_MIN_ENTRIES) the restricted solve
    runs; beyond DENSE_PLAN_MAX the plan is scipy.sparse, as on the dense path."""
    import divergences.exact as exact

    n = 200
    cost = _points(7, n, n)
    a = b = np.full(n, 1.0 / n)
    assert n * n >= partial.RESTRICTED_MIN_ENTRIES
    res, calls = _solve(a, b, cost, 0.6, "default", monkeypatch)
    assert len(calls) == 1 and isinstance(res.plan, np.ndarray)
    assert res.cost == pytest.approx(ot.partial.partial_wasserstein2(a, b, cost, m=0.6),
                                     rel=1e-9)
    monkeypatch.setattr(exact, "DENSE_PLAN_MAX", 100)
    sparse, _ = _solve(a, b, cost, 0.6, "default", monkeypatch)
    assert sparse.plan.format == "csr" and sparse.plan.shape == (n, n)
    assert sparse.cost == res.cost
    check_partial_transport(sparse, a, b, cost, 0.6)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1),
       st.floats(0.01, 1.0), st.booleans(), st.integers(1, 3))
def test_properties_restricted_against_highs(n, m, seed, fraction, integer_costs, k):
    """Small problems with ties (integer costs), zero weights and one to three
    neighbours: the restricted path gives the HiGHS optimum and the dense path's cost."""
    a, b, cost, mass = small_problem(n, m, seed, fraction, integer_costs)
    with pytest.MonkeyPatch.context() as mp:
        res, calls = _solve(a, b, cost, mass, "restricted", mp, neighbours=k, slots=1)
        assert calls
        dense, _ = _solve(a, b, cost, mass, "dense", mp)
    check_partial_transport(res, a, b, cost, mass)
    assert res.cost == pytest.approx(linprog_partial(a, b, cost, mass), rel=1e-9, abs=1e-9)
    assert res.cost == pytest.approx(dense.cost, rel=1e-12, abs=1e-12)


def test_cost_validated_on_the_partial_path():
    a = b = [0.5, 0.5]
    assert emd(a, b, [[0.0, 1.0], [1.0, 0.0]], mass=0.5).cost == 0.0  # a list is fine
    with pytest.raises(ValueError, match="cost"):
        emd(a, b, np.array([[0.0, np.nan], [1.0, 0.0]]), mass=0.5)
    with pytest.raises(ValueError, match="cost must have shape"):
        emd(a, b, np.zeros((3, 2)), mass=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emd(a, b, np.zeros((2, 2)), mass=1.0)  # all costs equal: no warning
