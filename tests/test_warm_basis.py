"""The warm start of the network simplex (divergences._kernels.warm_basis.warm_state): the
tree it builds from preferred arcs is a spanning tree through the root whose thread,
sizes and flows are consistent and strongly feasible, built from the candidates only."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences._kernels.network_simplex import (
    _FLOW,
    _FWD,
    _LAST,
    _PARENT,
    _PRED,
    _REV,
    _SUCC,
    _THREAD,
    _control,
)
from divergences._kernels.warm_basis import warm_state


def _check_tree(tree, fl, supply, n_arcs, tails, heads, ids):
    N = supply.shape[0]
    M = N + 1
    root = N

    def row(k, arr=tree):
        return arr[k * M:(k + 1) * M]

    parent, pred, fwd = row(_PARENT), row(_PRED), row(_FWD)
    thread, rev, succ, last = row(_THREAD), row(_REV), row(_SUCC), row(_LAST)
    flow = row(_FLOW, fl)
    # the thread: a cycle through every node from the root, rev its inverse
    order = [root]
    while thread[order[-1]] != root:
        order.append(thread[order[-1]])
        assert len(order) <= M
    assert sorted(order) == list(range(M))
    assert all(rev[thread[u]] == u for u in range(M))
    pos = {u: q for q, u in enumerate(order)}
    assert parent[root] == -1 and succ[root] == M
    arcs = {int(i): (int(t), int(h)) for t, h, i in zip(tails, heads, ids, strict=True)}
    net = supply.astype(float).copy()
    for u in range(N):
        p = parent[u]
        # a preorder: the parent comes first; the subtree is a run of succ[u] nodes
        assert pos[p] < pos[u]
        run = order[pos[u]:pos[u] + succ[u]]
        assert run[-1] == last[u]
        assert sum(1 for v in range(N) if _is_below(parent, v, u, root)) == succ[u]
        assert flow[u] >= 0.0
        if p == root:
            assert pred[u] == n_arcs + u
        else:
            # a candidate joining u and its parent, in the direction fwd says
            t, h = arcs[int(pred[u])]
            assert (t, h) == ((u, p) if fwd[u] else (p, u))
            # strongly feasible: an arc pointing away from the root carries flow
            assert fwd[u] or flow[u] > 0.0
        # flow conservation: the arc above u carries the subtree's net supply
        sign = 1.0 if fwd[u] else -1.0
        net[u] -= sign * flow[u]
        if p != root:
            net[p] += sign * flow[u]
    np.testing.assert_allclose(net, 0.0, atol=1e-12)


def _is_below(parent, v, u, root):
    while v != root:
        if v == u:
            return True
        v = parent[v]
    return False


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 8),
       st.floats(0.0, 1.0))
def test_warm_state_builds_a_strongly_feasible_tree(seed, n, m, density):
    """Candidates: the support of a coupling (north-west corner) and random arcs. Generic
    weights: the coupling's support first (a spanning tree carrying positive flows), so
    the tree must be exactly it, with one artificial arc; weights with exact ties
    (multiples of 1/8) and all candidates in a random order: zero flows and dropped
    arcs occur, the invariants must hold."""
    rng = np.random.default_rng(seed)
    generic = seed % 2 == 0
    if generic:
        a, b = rng.random(n) + 0.01, rng.random(m) + 0.01
        a, b = a / a.sum(), b / b.sum()
    else:
        units = rng.integers(1, 4, n)
        units[0] += max(0, m - units.sum())
        cuts = np.sort(rng.choice(np.arange(1, units.sum()), m - 1, replace=False))
        a, b = units / 8.0, np.diff(np.concatenate([[0], cuts, [units.sum()]])) / 8.0
    corner, amounts = [], []
    i = j = 0
    ra, rb = a[0], b[0]
    while i < n and j < m:  # the north-west corner coupling
        corner.append((i, j))
        amounts.append(min(ra, rb))
        if ra <= rb:
            rb -= ra
            i += 1
            ra = a[i] if i < n else 0.0
        else:
            ra -= rb
            j += 1
            rb = b[j] if j < m else 0.0
    extra = sorted({(int(i), int(j)) for i, j in zip(
        *np.nonzero(rng.random((n, m)) < density), strict=True)} - set(corner))
    if generic:
        pairs = corner + [extra[k] for k in rng.permutation(len(extra))]
    else:
        pairs = corner + extra
        pairs = [pairs[k] for k in rng.permutation(len(pairs))]
    rows = np.array([p[0] for p in pairs], np.int64)
    cols = np.array([p[1] for p in pairs], np.int64)
    ids = rows * m + cols
    supply = np.concatenate([a, -b])
    C = rng.random(n * m)
    tails, heads = rows, n + cols
    ctl = _control(n + m, n, n * m, True, 10**6)
    tree, fl, ctl = warm_state(C, supply, n * m, tails, heads, ids, 10.0, ctl)
    _check_tree(tree, fl, supply, n * m, tails, heads, ids)
    if generic:
        N = n + m
        pred = tree[_PRED * (N + 1):_PRED * (N + 1) + N]
        flow = fl[_FLOW * (N + 1):_FLOW * (N + 1) + N]
        real = pred < n * m
        assert real.sum() == N - 1
        used = dict(zip(pred[real].tolist(), flow[real].tolist(), strict=True))
        want = {i * m + j: f for (i, j), f in zip(corner, amounts, strict=True)}
        assert used.keys() == want.keys()
        np.testing.assert_allclose([used[k] for k in want], list(want.values()), rtol=1e-12,
                                   atol=1e-15)
