"""emd on a scipy.sparse cost (allowed arcs only) and warm starts (init=), against HiGHS,
the dense network simplex and POT; the generalised kernel on a transshipment network."""

import numpy as np
import ot
import pytest
import scipy.sparse
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import divergences._kernels.network_simplex as ns
from divergences import emd
from divergences._kernels.network_simplex import INFEASIBLE, OPTIMAL, min_cost_flow


def _sparse_problem(seed, n, m, density, zeros=False, fmt="csr"):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(m)
    if zeros:
        a[rng.random(n) < 0.3] = 0.0
        b[rng.random(m) < 0.3] = 0.0
        a[0] = b[0] = 1.0
    mask = rng.random((n, m)) < density
    r, c = np.nonzero(mask)
    vals = rng.integers(0, 4, r.size).astype(float)  # ties and stored zeros
    cost = scipy.sparse.coo_array((vals, (r, c)), shape=(n, m)).asformat(fmt)
    return a / a.sum(), b / b.sum(), cost


def _highs(a, b, cost):
    """The LP on the stored entries by HiGHS: (status, optimal cost); status 2: infeasible."""
    coo = scipy.sparse.coo_array(cost)
    n, m = coo.shape
    E = coo.nnz
    if E == 0:  # no arc at all: no coupling of positive masses
        return 2, None
    eq = scipy.sparse.vstack([
        scipy.sparse.csr_array((np.ones(E), (coo.row, np.arange(E))), shape=(n, E)),
        scipy.sparse.csr_array((np.ones(E), (coo.col, np.arange(E))), shape=(m, E)),
    ])
    res = linprog(coo.data, A_eq=eq, b_eq=np.concatenate([a, b]), method="highs")
    return res.status, res.fun


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 14), st.integers(1, 14),
       st.floats(0.05, 0.9), st.booleans(), st.sampled_from(["csr", "csc", "coo", "lil"]))
def test_sparse_against_highs(seed, n, m, density, zeros, fmt):
    """Feasible patterns: HiGHS's optimal cost and the shared checker (duals feasible on
    the stored entries, no mass elsewhere); infeasible ones: a ValueError naming cost."""
    a, b, cost = _sparse_problem(seed, n, m, density, zeros, fmt)
    status, ref = _highs(a, b, cost)
    assert status in (0, 2)
    if status == 2:
        with pytest.raises(ValueError, match="^cost: no coupling"):
            emd(a, b, cost)
        return
    res = emd(a, b, cost)
    assert scipy.sparse.issparse(res.plan) and res.plan.format == "csr"
    assert res.status == "optimal"
    np.testing.assert_allclose(res.cost, ref, rtol=1e-9, atol=1e-12)
    check_transport(res, a, b, cost)


def test_infeasible_without_an_empty_row():
    """Every row and column has an arc, yet column 0 (0.6) can only be served by row 0
    (1/3): found by the phase-1 cut (no empty row to catch it up front)."""
    cost = scipy.sparse.coo_array(([1.0, 1.0, 1.0, 1.0], ([0, 0, 1, 2], [0, 1, 1, 2])),
                                  shape=(3, 3))
    a, b = np.full(3, 1 / 3), np.array([0.6, 0.2, 0.2])
    assert _highs(a, b, cost)[0] == 2
    with pytest.raises(ValueError, match="^cost: no coupling.*a group of rows"):
        emd(a, b, cost)
    with pytest.raises(ValueError, match=r"^cost: .*row 1 has weight a\[1\]"):
        emd([0.5, 0.5], [0.5, 0.5], scipy.sparse.csr_array([[1.0, 1.0], [0.0, 0.0]]))


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (30, 20), (20, 30)])
def test_full_pattern_equals_dense(shape):
    rng = np.random.default_rng(sum(shape))
    n, m = shape
    a, b = rng.random(n), rng.random(m)
    a, b = a / a.sum(), b / b.sum()
    dense = rng.random((n, m))
    dense[0, 0] = 0.0  # stored explicitly: an arc of cost 0
    sparse = scipy.sparse.csr_array(dense.shape)
    sparse = scipy.sparse.csr_array((dense.ravel(), (np.repeat(np.arange(n), m),
                                                     np.tile(np.arange(m), n))), shape=shape)
    assert sparse.nnz == n * m
    res, ref = emd(a, b, sparse), emd(a, b, dense)
    np.testing.assert_allclose(res.cost, ref.cost, rtol=1e-12)
    np.testing.assert_allclose(res.cost, ot.emd2(a, b, dense), rtol=1e-12)
    check_transport(res, a, b, sparse)
    check_transport(res, a, b, dense)  # every pair is an arc: feasible everywhere


def test_duplicates_are_summed_and_stored_zeros_are_arcs():
    cost = scipy.sparse.coo_array(([0.5, 0.5, 0.0, 0.0], ([0, 0, 1, 1], [0, 0, 1, 0])),
                                  shape=(2, 2))
    res = emd([1, 1], [1, 1], cost)  # (0, 1) is no arc: the plan must be diagonal
    np.testing.assert_array_equal(res.plan.toarray(), [[0.5, 0.0], [0.0, 0.5]])
    assert res.cost == 0.5
    check_transport(res, [0.5, 0.5], [0.5, 0.5], cost)


@pytest.mark.parametrize("sparse", [False, True])
def test_warm_starts_give_the_same_optimum(sparse):
    """init= a plan, potentials or a TransportResult of a related problem (other weights):
    the same optimal cost as a cold solve; from the problem's own optimum, no pivot."""
    a, b, cost = _sparse_problem(5, 60, 50, 0.4)
    if not sparse:
        cost = np.random.default_rng(1).random((60, 50))
    rng = np.random.default_rng(2)
    a2, b2 = a + 0.2 * rng.random(60) / 60, b + 0.2 * rng.random(50) / 50
    a2, b2 = a2 / a2.sum(), b2 / b2.sum()
    cold, related = emd(a2, b2, cost), emd(a, b, cost)
    for init in (related, related.plan, related.potentials,
                 scipy.sparse.coo_array(related.plan), cold):
        warm = emd(a2, b2, cost, init=init)
        np.testing.assert_allclose(warm.cost, cold.cost, rtol=1e-12)
        check_transport(warm, a2, b2, cost)
    assert emd(a2, b2, cost, init=cold).n_iter == 0
    assert emd(a2, b2, cost, init=related).n_iter < cold.n_iter


def test_warm_start_with_zero_weights_and_arcs_not_allowed():
    a, b, cost = _sparse_problem(8, 40, 30, 0.5, zeros=True)
    ref = emd(a, b, cost)
    dense_init = np.random.default_rng(0).random((40, 30))  # most entries are no arcs
    for init in (dense_init, (np.zeros(40), np.zeros(30))):
        warm = emd(a, b, cost, init=init)
        np.testing.assert_allclose(warm.cost, ref.cost, rtol=1e-12)
        check_transport(warm, a, b, cost)


def test_bad_sparse_input():
    a = [0.5, 0.5]
    with pytest.raises(ValueError, match=r"^cost must have shape \(2, 2\)"):
        emd(a, a, scipy.sparse.csr_array(np.ones((2, 3))))
    with pytest.raises(ValueError, match="^cost"):
        emd(a, a, scipy.sparse.csr_array([[1.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^init must be a plan of shape \(2, 2\)"):
        emd(a, a, np.ones((2, 2)), init=np.ones((3, 2)))
    with pytest.raises(ValueError, match="^init potentials must have shapes"):
        emd(a, a, np.ones((2, 2)), init=(np.zeros(2), np.zeros(3)))
    with pytest.raises(ValueError, match="^init"):
        emd(a, a, np.ones((2, 2)), init=-np.ones((2, 2)))


def test_blocks_do_not_change_the_sparse_solve(monkeypatch):
    a, b, cost = _sparse_problem(3, 50, 40, 0.3)
    whole = emd(a, b, cost)
    monkeypatch.setattr(ns, "FIRST_BUDGET", 7)
    monkeypatch.setattr(ns, "_next_budget", lambda old, seconds: 7)
    tiny = emd(a, b, cost)
    assert tiny.n_iter == whole.n_iter and tiny.cost == whole.cost
    assert (tiny.plan != whole.plan).nnz == 0


def _grid_network(rng, side):
    """A transshipment network: the 4-neighbour arcs of a side x side grid, both ways,
    random costs, random supplies summing to zero (most nodes pass mass through)."""
    idx = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])
    tails = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    heads = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    cost = rng.random(tails.size)
    supply = np.zeros(side * side)
    pick = rng.choice(side * side, 6, replace=False)
    supply[pick[:3]] = rng.random(3)
    supply[pick[3:]] = -rng.random(3) * supply[pick[:3]].sum() / 1.5
    supply[pick[3]] -= supply.sum()
    return tails, heads, cost, supply


@pytest.mark.parametrize("seed", range(4))
def test_transshipment_network_against_highs(seed):
    """The kernel on a general graph (supplies, demands and transit nodes): HiGHS's cost,
    flow conservation from the tree, reduced costs >= 0 at the optimum."""
    rng = np.random.default_rng(seed)
    tails, heads, cost, supply = _grid_network(rng, 7)
    N, E = supply.size, tails.size
    arcs, flows, pi, status, _ = min_cost_flow(cost, supply, 10**6, float(cost.max()),
                                               tails=tails, heads=heads)
    assert status == OPTIMAL
    real = arcs < E
    x = np.zeros(E)
    x[arcs[real]] = flows[real]
    assert np.abs(flows[~real]).max(initial=0.0) < 1e-14
    net = np.bincount(tails, x, minlength=N) - np.bincount(heads, x, minlength=N)
    np.testing.assert_allclose(net, supply, atol=1e-14)
    assert (cost + pi[tails] - pi[heads] >= -1e-12).all()
    eq = scipy.sparse.csr_array((np.r_[np.ones(E), -np.ones(E)],
                                 (np.r_[tails, heads], np.r_[np.arange(E), np.arange(E)])),
                                shape=(N, E))
    ref = linprog(cost, A_eq=eq, b_eq=supply, method="highs")
    np.testing.assert_allclose(x @ cost, ref.fun, rtol=1e-9)
    # a cut-off demand node: infeasible
    keep = (tails != 0) & (heads != 0)
    supply2 = supply.copy()
    supply2[0] -= 0.1
    supply2[N - 1] += 0.1
    status2 = min_cost_flow(cost[keep], supply2, 10**6, 1.0, tails=tails[keep],
                            heads=heads[keep])[3]
    assert status2 == INFEASIBLE
