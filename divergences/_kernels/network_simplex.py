r"""Primal network simplex for minimum-cost flow (numba, no validation).

Python entry point: :func:`min_cost_flow` (any graph; warm starts), and
:func:`network_simplex` (the transportation problem on a dense cost matrix).

The problem: nodes ``0..N-1`` with supplies (positive) and demands (negative) summing
to zero, uncapacitated arcs ``e`` from ``tail`` to ``head`` of cost ``C[e]``; minimise
:math:`\sum_e x_e C_e` over flows :math:`x \ge 0` that meet the supplies. Two kinds
of graphs share one kernel (:func:`_pivots`), which branches on a dense flag where an
arc's ends are read:

* dense: the complete bipartite graph of the transportation LP
  :math:`\min_\gamma \sum_{ij} \gamma_{ij} C_{ij}` over couplings of ``a`` and
  ``b``: source ``i`` (supply ``a_i``) has an arc to sink ``n + j`` (demand ``b_j``) of
  cost ``C[i, j]``. Arcs are never stored: arc ``e`` is ``(e // m, n + e % m)`` and its
  cost is read from the flat cost matrix when it is priced.
* sparse: explicit arrays ``tails``, ``heads``, ``C`` (a sparse transportation problem,
  or a transshipment network such as the neighbour arcs of a pixel grid).

Node numbering: the real nodes ``0..N-1`` (dense: sources ``0..n-1``, sinks
``n..n+m-1``), an artificial root ``N``; the artificial arc of node ``u`` is arc
``E + u`` (``E`` real arcs).
The basis is a spanning tree kept as a preorder "thread" (``parent``, ``pred`` arc,
``fwd`` = pred arc directed child -> parent, ``thread``/``rev`` preorder links,
``succ`` = subtree sizes, ``last`` = last node of each subtree in preorder), so that one
pivot costs O(cycle + moved subtree) in links, and O(the smaller side of the cut) in
potentials (only their differences are priced: when the moved subtree holds more than
half the nodes, the rest moves the other way). Flows live on nodes (the flow of the tree arc
``pred[u]``): non-tree arcs carry no flow, so no per-arc array is allocated.

Phase 1 starts from a strongly feasible tree (by default the one of artificial arcs:
node -> root of cost 0 for a supply, root -> node of cost ``art``, a big M, for a
demand) and drives their flow out; phase 2 restarts from the same tree with the
potentials recomputed component by component (which removes the big M from every real
node), so reduced costs are priced without the M-sized rounding. On a sparse graph a
phase-1 optimum that still routes mass through the root proves the problem infeasible
(:func:`_cut_deficit`). The entering arc is the most negative reduced cost in a block of
about ``sqrt(E)`` arcs (block search), the leaving arc the last blocking arc of the cycle
oriented from its apex (Cunningham's rule: the tree stays strongly feasible and
degenerate pivots cannot cycle).

The solve runs in blocks of pivots (:func:`min_cost_flow` is a Python loop over the
kernel :func:`_pivots`): the whole state (tree arrays, flows, potentials, pricing position,
phase and counters) lives in three arrays between blocks, and each block takes about
:data:`BLOCK_SECONDS`, so the interpreter runs often enough for Ctrl-C (SIGINT) to raise
``KeyboardInterrupt`` promptly. The pivot sequence does not depend on the blocks.

References: Ahuja, Magnanti & Orlin, *Network Flows* (1993), ch. 11; Kelly & O'Neill,
*The minimum cost flow problem and the network simplex solution method* (1991).
"""

import math
import time

import numpy as np

from .._jit import kernel
from .simplex_tree import potentials, price, price_arcs, tree_flows, update_ancestors

#: status codes returned by :func:`min_cost_flow` and :func:`network_simplex`
OPTIMAL, MAX_ITER, UNBOUNDED, INFEASIBLE = 0, 1, 2, 3
#: target duration of one block of pivots, in seconds (the budget adapts to it)
BLOCK_SECONDS = 0.05
#: work (arcs priced, nodes updated) in the first block: a few milliseconds; problems
#: up to a few hundred points finish in it
FIRST_BUDGET = 2**20

# Rows of the int64 state ``tree`` (each ``N + 1`` long): the basis tree and scratch space.
_PARENT, _PRED, _FWD, _THREAD, _REV, _SUCC, _LAST, _PATH, _A_END, _B_START, _B_END = range(11)
_TREE_ROWS = 11
# Rows of the float64 state ``fl``: flows of the tree arcs, potentials, scratch.
_FLOW, _PI, _EXCESS = range(3)
_FL_ROWS = 3
# Entries of the int64 control array ``ctl``.
(_POS, _ITER, _STATUS, _PHASE, _SINCE, _STUCK, _CLEAN, _BLOCK, _COLMAJOR, _MAX_ITER,
 _NODES, _SOURCES, _ARCS, _DENSE) = range(14)
_CTL_SIZE = 14


@kernel(inner=True)
def _cut_deficit(supply, pi, art):
    """Mass that no flow can bring to the nodes of big-M level 1 (``pi > art / 2``).

    At a phase-1 optimum, no real arc enters that set (its reduced cost would be about
    ``-art``), so its demand beyond its own supply is met only by artificial arcs: a
    positive deficit certifies that no feasible flow exists (a Farkas cut)."""
    total = 0.0
    for u in range(supply.shape[0]):
        if pi[u] > 0.5 * art:
            total += supply[u]
    return -total


@kernel
def _pivots(C, tails, heads, supply, tree, fl, ctl, art, slack, budget):
    """Pivot from the state ``(tree, fl, ctl)``, updated in place, for about ``budget``
    units of work (arcs priced, potentials updated), then return.

    The graph: ``ctl`` holds the number of nodes ``N`` (the root is node ``N``), of arcs
    ``E`` and whether it is dense. Dense: the complete bipartite graph of ``n`` sources
    and ``m = N - n`` sinks, arc ``e = i m + j`` from ``i`` to ``n + j`` of cost ``C[e]``
    (``tails``, ``heads`` unused, may be empty). Sparse: arc ``e`` from ``tails[e]`` to
    ``heads[e]`` of cost ``C[e]``. ``supply`` (N,): positive supplies, negative demands.
    ``slack``: the rounding of the supplies (sparse only): a phase-1 optimum whose
    artificial arcs still carry more than this is infeasible.

    Returns True when the solve has ended (optimal, ``max_iter``, unbounded or, sparse
    only, infeasible; the status is in ``ctl``); the flows are then recomputed from
    ``supply`` along the final tree and, at the optimum, the potentials along it too.
    """
    N = ctl[_NODES]
    n = ctl[_SOURCES]
    E = ctl[_ARCS]
    dense = ctl[_DENSE] != 0
    m = N - n
    M = N + 1
    root = N
    # views of the state (slices keep the C layout: one signature, no copies)
    parent = tree[_PARENT * M:(_PARENT + 1) * M]
    pred = tree[_PRED * M:(_PRED + 1) * M]
    fwd = tree[_FWD * M:(_FWD + 1) * M]
    thread = tree[_THREAD * M:(_THREAD + 1) * M]
    rev = tree[_REV * M:(_REV + 1) * M]
    succ = tree[_SUCC * M:(_SUCC + 1) * M]
    last = tree[_LAST * M:(_LAST + 1) * M]
    path = tree[_PATH * M:(_PATH + 1) * M]
    a_end = tree[_A_END * M:(_A_END + 1) * M]
    b_start = tree[_B_START * M:(_B_START + 1) * M]
    b_end = tree[_B_END * M:(_B_END + 1) * M]
    flow = fl[_FLOW * M:(_FLOW + 1) * M]
    pi = fl[_PI * M:(_PI + 1) * M]
    # scalars of the state, kept in registers during the block
    next_pos = ctl[_POS]
    n_iter = ctl[_ITER]
    status = ctl[_STATUS]
    local = ctl[_PHASE]  # 0: phase 1, big-M potentials; 1: phase 2, local ones
    since = ctl[_SINCE]
    stuck = ctl[_STUCK]
    block = ctl[_BLOCK]
    colmajor = ctl[_COLMAJOR]
    max_iter = ctl[_MAX_ITER]
    clean = ctl[_CLEAN]
    done = False
    work = 0
    while work < budget:
        # one pricing may span blocks: ``clean`` arcs in a row were already found
        # non-negative, and the optimum is reached once all ``E`` are
        if dense:
            in_arc, next_pos, scanned = price(C, pi, n, m, next_pos, block, colmajor,
                                               E - clean, budget - work)
        else:
            in_arc, next_pos, scanned = price_arcs(C, tails, heads, pi, E, next_pos, block,
                                                    E - clean, budget - work)
        work += scanned
        if in_arc < 0:
            clean += scanned
            if clean < E:  # the budget ran out in the middle of this pricing
                break
            clean = 0
            if local == 0:
                if not dense:  # a complete bipartite graph is always feasible
                    potentials(C, root, parent, pred, fwd, thread, pi, art, local)
                    if _cut_deficit(supply, pi, art) > slack:
                        status = INFEASIBLE
                        done = True
                        break
                local = np.int64(1)  # phase 2 from the same tree, without the big M
                potentials(C, root, parent, pred, fwd, thread, pi, art, local)
                since = 0
                continue
            done = True
            break
        if dense:
            s = in_arc // m
            t = n + in_arc - (in_arc // m) * m
        else:
            s = tails[in_arc]
            t = heads[in_arc]
        if (parent[s] == t and pred[s] == in_arc) or (parent[t] == s and pred[t] == in_arc):
            # a tree arc priced negative: rounding drift in pi; refresh and retry once
            stuck += 1
            if stuck > 1:
                done = True
                break
            potentials(C, root, parent, pred, fwd, thread, pi, art, local)
            continue
        clean = 0
        stuck = 0
        if n_iter >= max_iter:
            status = MAX_ITER
            done = True
            break
        n_iter += 1

        # ---- apex of the cycle ----
        u = s
        v = t
        while u != v:
            if succ[u] < succ[v]:
                u = parent[u]
            else:
                v = parent[v]
        join = u

        # ---- leaving arc: last blocking arc from the apex along the flow direction ----
        delta = np.inf
        u_out = -1
        side = 0
        u = s  # flow runs join -> ... -> s: arcs pointing up lose flow
        while u != join:
            if fwd[u] and flow[u] < delta:
                delta = flow[u]
                u_out = u
                side = 1
            u = parent[u]
        u = t  # flow runs t -> ... -> join: arcs pointing down lose flow
        while u != join:
            if (not fwd[u]) and flow[u] <= delta:
                delta = flow[u]
                u_out = u
                side = 2
            u = parent[u]
        if u_out < 0:
            status = UNBOUNDED
            done = True
            break

        if delta > 0.0:
            u = s
            while u != join:
                flow[u] += -delta if fwd[u] else delta
                u = parent[u]
            u = t
            while u != join:
                flow[u] += delta if fwd[u] else -delta
                u = parent[u]
            flow[u_out] = 0.0

        if side == 1:
            u_in = s
            v_in = t
        else:
            u_in = t
            v_in = s
        c_in = C[in_arc]
        sigma = (pi[v_in] - c_in if u_in == s else pi[v_in] + c_in) - pi[u_in]

        # ---- re-hang the subtree S of u_out below v_in, rooted at u_in ----
        v_out = parent[u_out]
        size = succ[u_out]
        l_old = last[u_out]
        k = 0
        path[0] = u_in
        u = u_in
        while u != u_out:
            u = parent[u]
            k += 1
            path[k] = u
        for q in range(1, k + 1):  # preorder pieces of the new S, from the old links
            w_prev = path[q - 1]
            a_end[q] = rev[w_prev]
            if last[w_prev] == last[path[q]]:
                b_start[q] = -1
            else:
                b_start[q] = thread[last[w_prev]]
                b_end[q] = last[path[q]]
        tail = last[u_in]

        # cut S out of the preorder
        before = rev[u_out]
        after = thread[l_old]
        thread[before] = after
        rev[after] = before
        update_ancestors(parent, last, succ, v_out, join, l_old, before, -size)

        # relink S in its new preorder
        for q in range(1, k + 1):
            thread[tail] = path[q]
            rev[path[q]] = tail
            tail = a_end[q]
            if b_start[q] >= 0:
                thread[tail] = b_start[q]
                rev[b_start[q]] = tail
                tail = b_end[q]
        s_last = tail
        acc = 0
        for q in range(k, 0, -1):
            acc += succ[path[q]] - succ[path[q - 1]]
            succ[path[q]] = acc
            last[path[q]] = s_last
            parent[path[q]] = path[q - 1]
            pred[path[q]] = pred[path[q - 1]]
            fwd[path[q]] = 0 if fwd[path[q - 1]] else 1
            flow[path[q]] = flow[path[q - 1]]
        succ[u_in] = size
        last[u_in] = s_last
        parent[u_in] = v_in
        pred[u_in] = in_arc
        fwd[u_in] = 1 if u_in == s else 0
        flow[u_in] = delta if delta > 0.0 else 0.0

        # paste S right after v_in
        nxt = thread[v_in]
        thread[v_in] = u_in
        rev[u_in] = v_in
        thread[s_last] = nxt
        rev[nxt] = s_last
        update_ancestors(parent, last, succ, v_in, join, v_in, s_last, size)

        # potentials: S moves by sigma relative to the rest; only differences are
        # priced, so the smaller side moves (the rest, by -sigma, when S is larger)
        if 2 * size <= M:
            u = u_in
            for _ in range(size):
                pi[u] += sigma
                u = thread[u]
            work += size
        else:
            u = thread[s_last]
            while u != u_in:
                pi[u] -= sigma
                u = thread[u]
            work += M - size

        since += 1
        if since >= N:
            potentials(C, root, parent, pred, fwd, thread, pi, art, local)
            since = 0
            work += N

    if done:  # outputs from the final basis
        excess = fl[_EXCESS * M:(_EXCESS + 1) * M]
        tree_flows(supply, parent, fwd, rev, flow, excess)
        if status == OPTIMAL:
            local = np.int64(1)  # typed, not literal: one signature of potentials
            potentials(C, root, parent, pred, fwd, thread, pi, art, local)
    ctl[_POS] = next_pos
    ctl[_ITER] = n_iter
    ctl[_STATUS] = status
    ctl[_PHASE] = local
    ctl[_SINCE] = since
    ctl[_STUCK] = stuck
    ctl[_CLEAN] = clean
    return done


def _initial_basis(N, n, n_arcs, dense, supply, art, max_iter):
    """The state ``(tree, fl, ctl)`` of the strongly feasible tree of artificial arcs:
    ``u -> root`` of cost 0 carrying ``supply[u] >= 0``, ``root -> u`` of cost ``art``
    carrying ``-supply[u] > 0``. Artificial arc of node ``u``: ``n_arcs + u``."""
    M = N + 1
    root = N
    nodes = np.arange(N, dtype=np.int64)
    up = supply >= 0.0
    tree = np.empty((_TREE_ROWS, M), np.int64)
    tree[_PARENT, :N] = root
    tree[_PARENT, root] = -1
    tree[_PRED, :N] = n_arcs + nodes
    tree[_PRED, root] = -1
    tree[_FWD, :N] = up
    tree[_FWD, root] = 0
    tree[_THREAD, :N] = nodes + 1
    tree[_THREAD, root] = 0
    tree[_REV, 1:] = nodes
    tree[_REV, 0] = root
    tree[_SUCC, :N] = 1
    tree[_SUCC, root] = M
    tree[_LAST, :N] = nodes
    tree[_LAST, root] = N - 1
    fl = np.zeros((_FL_ROWS, M))
    fl[_FLOW, :N] = np.abs(supply)
    fl[_PI, :N] = np.where(up, 0.0, art)
    ctl = _control(N, n, n_arcs, dense, max_iter)
    return tree.reshape(-1), fl.reshape(-1), ctl


def _control(N, n, n_arcs, dense, max_iter):
    """The control array of a solve from phase 1, pricing from arc 0."""
    ctl = np.zeros(_CTL_SIZE, np.int64)
    ctl[_STATUS] = OPTIMAL
    ctl[_BLOCK] = max(10, int(np.sqrt(n_arcs)))
    ctl[_COLMAJOR] = dense and n < N - n  # blocks then span many sources (fewer pivots)
    ctl[_MAX_ITER] = max_iter
    ctl[_NODES] = N
    ctl[_SOURCES] = n
    ctl[_ARCS] = n_arcs
    ctl[_DENSE] = dense
    return ctl


def _next_budget(budget, seconds):
    """Work budget of the next block, so that it takes about :data:`BLOCK_SECONDS`."""
    factor = 4.0 if seconds <= 0.0 else min(4.0, BLOCK_SECONDS / seconds)
    return max(1, int(budget * factor))


_NO_ARCS = np.empty(0, np.int64)


def scattered_order(n_arcs):
    """A permutation of ``0..n_arcs-1`` that spreads neighbours apart: position ``k``
    holds ``k P mod n_arcs`` for a stride ``P`` near ``0.618 n_arcs`` (the golden ratio)
    coprime with it. Block pricing over arcs in this order compares, in every block,
    arcs from all over the graph instead of one neighbourhood: when few arcs have a
    negative reduced cost and they sit together (the arcs a certificate has just added,
    the arcs of a grid listed axis by axis), it finds one after pricing ~10x fewer."""
    stride = max(1, int(0.6180339887498949 * n_arcs)) | 1
    while math.gcd(stride, n_arcs) != 1:
        stride += 2
    return (np.arange(n_arcs, dtype=np.int64) * stride) % max(n_arcs, 1)


def min_cost_flow(C, supply, max_iter, maxabs, *, tails=None, heads=None, n_sources=0,
                  start=None, tree=None):
    """Minimum-cost flow by the network simplex: the Python entry point of the kernel.

    Nodes ``0..N-1`` with ``supply`` (float64 (N,), positive: supply, negative: demand;
    summing to zero up to rounding), uncapacitated arcs of cost ``C`` (float64, C-contiguous):

    * sparse graph (``tails``, ``heads`` int64 (E,)): arc ``e`` runs from ``tails[e]`` to
      ``heads[e]`` with cost ``C[e]``;
    * dense (``tails is None``): the complete bipartite graph of ``n_sources`` sources
      ``0..n-1`` and ``m = N - n`` sinks ``n..N-1``; ``C`` is the flat ``(n, m)`` cost
      matrix and arc ``e = i m + j`` runs from ``i`` to ``n + j``. No arc array is made.

    ``maxabs`` is ``max |C|`` and ``2 (N + 1) maxabs`` (the big M) must be finite.
    ``start``: ``None`` (start from the tree of artificial arcs) or a warm start, arcs
    ``(tails, heads, ids)`` (int64, in order of preference: ``ids`` are arc numbers
    as above, dense ones included) from which
    :func:`divergences._kernels.warm_basis.warm_state` builds the first tree; ``tree``:
    ``None`` or a spanning tree to start from, ``(order, parent, up, down)`` as
    :func:`divergences._kernels.warm_basis.tree_state` takes them. A Python
    loop over blocks of pivots
    (:func:`_pivots`), each about :data:`BLOCK_SECONDS` long: SIGINT raises
    ``KeyboardInterrupt`` between two blocks, and the state is local to this call.

    Returns ``(arcs, flows, pi, status, n_iter)``: for each node ``u < N`` the arc
    joining it to its parent in the final spanning tree (``arcs[u] >= E`` marks the
    artificial arc of node ``arcs[u] - E``, to or from the root) and that arc's flow
    (on an artificial arc: mass still unrouted, non-zero only at ``MAX_ITER``); the node
    potentials ``pi`` with reduced costs ``C[e] + pi[tail] - pi[head] >= 0`` at the
    optimum; the status (:data:`OPTIMAL`, :data:`MAX_ITER`, :data:`UNBOUNDED` or, sparse
    graphs only, :data:`INFEASIBLE`: no flow meets the supplies) and the pivot count.
    """
    N = supply.shape[0]
    dense = tails is None
    if dense:
        tails = heads = _NO_ARCS
        n_arcs = n_sources * (N - n_sources)
    else:
        n_arcs = tails.shape[0]
    art = float(2.0 * (N + 1) * maxabs) if maxabs > 0.0 else 1.0
    absum = float(np.abs(supply).sum())
    slack = abs(float(np.sum(supply))) + 4.0 * (N + 2) * float(np.finfo(float).eps) * absum
    if tree is not None:
        from .warm_basis import tree_state

        ctl = _control(N, n_sources, n_arcs, dense, int(max_iter))
        tree, fl, ctl = tree_state(C, supply, n_arcs, *tree, art, ctl, slack)
    elif start is None:
        tree, fl, ctl = _initial_basis(N, n_sources, n_arcs, dense, supply, art, int(max_iter))
    else:
        from .warm_basis import warm_state  # compiled only for warm starts

        ctl = _control(N, n_sources, n_arcs, dense, int(max_iter))
        tree, fl, ctl = warm_state(C, supply, n_arcs, *start, art, ctl)
    budget = FIRST_BUDGET
    while True:
        t0 = time.perf_counter()
        if _pivots(C, tails, heads, supply, tree, fl, ctl, art, slack, budget):
            break
        budget = _next_budget(budget, time.perf_counter() - t0)
    M = N + 1
    arcs = tree[_PRED * M:_PRED * M + N].copy()
    flows = fl[_FLOW * M:_FLOW * M + N].copy()
    pi = fl[_PI * M:_PI * M + N].copy()
    return arcs, flows, pi, int(ctl[_STATUS]), int(ctl[_ITER])


def network_simplex(C, n, m, a, b, max_iter, maxabs, start=None):
    """Solve the balanced transportation problem ``(C flat (n*m,), a > 0, b > 0)``:
    :func:`min_cost_flow` on the implicit complete bipartite graph. ``start``: ``None``
    or the pairs ``(rows, cols)`` (int64) of a warm start, in order of preference.

    Returns ``(rows, cols, flows, f, g, status, n_iter)``: the real tree arcs and their
    flows (``rows == -1`` marks an artificial arc, whose flow is mass still unrouted,
    non-zero only at ``MAX_ITER``; its ``cols`` entry is then the node's own index among
    the sources or the sinks), the potentials with ``f_i + g_j <= C_ij``.
    """
    n, m = int(n), int(m)
    supply = np.concatenate([a, -b])
    if start is not None:
        rows, cols = start
        start = (rows, n + cols, rows * m + cols)
    arcs, flows, pi, status, n_iter = min_cost_flow(C, supply, max_iter, maxabs,
                                                    n_sources=n, start=start)
    N = n + m
    real = arcs < n * m
    nodes = np.arange(N, dtype=np.int64)
    rows = np.where(real, arcs // max(m, 1), -1)
    cols = np.where(real, arcs % max(m, 1), np.where(nodes >= n, nodes - n, nodes))
    return rows, cols, flows, -pi[:n], pi[n:], status, n_iter
