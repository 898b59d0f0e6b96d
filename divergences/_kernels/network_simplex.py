r"""Primal network simplex for the transportation problem (numba, no validation).

The LP :math:`\min_\gamma \sum_{ij} \gamma_{ij} C_{ij}` over couplings of ``a`` and ``b`` is
a min-cost flow on the complete bipartite graph: source ``i`` (supply ``a_i``) has an arc
to sink ``j`` (demand ``b_j``) of cost ``C[i, j]``. Arcs are never stored: arc ``e`` is
``(e // m, e % m)`` and its cost is read from the flat cost matrix when it is priced.

Node numbering: sources ``0..n-1``, sinks ``n..n+m-1``, an artificial root ``N = n+m``.
The basis is a spanning tree kept as a preorder "thread" (``parent``, ``pred`` arc,
``fwd`` = pred arc directed child -> parent, ``thread``/``rev`` preorder links,
``succ`` = subtree sizes, ``last`` = last node of each subtree in preorder), so that one
pivot costs O(cycle + moved subtree). Flows live on nodes (the flow of the tree arc
``pred[u]``): non-tree arcs carry no flow, so no per-arc array is allocated.

Phase 1 starts from the strongly feasible tree of artificial arcs (source -> root of cost
0, root -> sink of cost ``art``, a big M) and drives their flow out; phase 2 restarts
from the same tree with the potentials recomputed component by component (which removes
the big M from every real node), so reduced costs are priced without the M-sized
rounding. The entering arc is the most negative reduced cost in a block of about
``sqrt(n m)`` arcs (block search), the leaving arc the last blocking arc of the cycle
oriented from its apex (Cunningham's rule: the tree stays strongly feasible and
degenerate pivots cannot cycle).

References: Ahuja, Magnanti & Orlin, *Network Flows* (1993), ch. 11; Kelly & O'Neill,
*The minimum cost flow problem and the network simplex solution method* (1991).
"""

import numpy as np

from .._jit import kernel

#: status codes returned by :func:`network_simplex`
OPTIMAL, MAX_ITER, UNBOUNDED = 0, 1, 2
#: relative tolerance on a reduced cost before an arc may enter the basis
PRICE_EPS = 1e-13


@kernel
def _potentials(C, n, m, parent, pred, fwd, thread, pi, art, local):
    """Tree potentials from scratch, in preorder. ``local``: each root child gets 0."""
    root = n + m
    u = thread[root]
    while u != root:
        p = parent[u]
        if p == root:
            pi[u] = 0.0 if (local or u < n) else art
        else:
            c = C[pred[u]]
            pi[u] = pi[p] - c if fwd[u] else pi[p] + c
        u = thread[u]


@kernel
def _tree_flows(n, m, a, b, parent, fwd, thread, rev, flow):
    """Flows of the tree arcs from the supplies alone (leaves first); tiny negatives -> 0."""
    root = n + m
    excess = np.zeros(root + 1)
    for i in range(n):  # loops, not slice assignments: those compile a shape-mismatch
        excess[i] = a[i]  # error path with string formatting (seconds of compile time)
    for j in range(m):
        excess[n + j] = -b[j]
    u = rev[root]
    while u != root:
        f = excess[u] if fwd[u] else -excess[u]
        flow[u] = f if f > 0.0 else 0.0
        excess[parent[u]] += excess[u]
        u = rev[u]


@kernel
def _update_ancestors(parent, last, succ, w0, join, old_last, new_last, dsize):
    """After a subtree of ``dsize`` nodes is added below (or, negative, cut from below)
    ``w0``: ancestors of ``w0`` whose preorder ended at ``old_last`` now end at
    ``new_last``, and the subtree sizes from ``w0`` up to (not including) ``join`` change
    by ``dsize``."""
    w = w0
    while w != -1 and last[w] == old_last:
        last[w] = new_last
        w = parent[w]
    w = w0
    while w != join:
        succ[w] += dsize
        w = parent[w]


@kernel
def _price(C, pi, n, m, pos, block, colmajor):
    """Block search from position ``pos``: the most negative reduced cost ``c + pi_i - pi_j``.

    Arcs are visited row by row (column by column when ``colmajor``: blocks then span
    the long side), in blocks of ``block``; returns ``(arc, next position)`` with
    ``arc = -1`` when none is negative beyond the relative tolerance :data:`PRICE_EPS`.
    """
    nm = n * m
    inner = n if colmajor else m
    o = pos // inner
    k = pos - o * inner
    best = 0.0
    in_arc = -1
    cnt = 0
    if colmajor:  # o: sink, k: source
        pt = pi[n + o]
        for _ in range(nm):
            e = k * m + o
            c = C[e]
            ps = pi[k]
            d = c + ps - pt
            if d < best and -d > PRICE_EPS * (abs(c) + abs(ps) + abs(pt)):
                best = d
                in_arc = e
            k += 1
            if k == n:
                k = 0
                o = o + 1 if o + 1 < m else 0
                pt = pi[n + o]
            cnt += 1
            if cnt == block:
                if in_arc >= 0:
                    break
                cnt = 0
    else:  # o: source, k: sink
        ps = pi[o]
        e = o * m + k
        for _ in range(nm):
            c = C[e]
            pt = pi[n + k]
            d = c + ps - pt
            if d < best and -d > PRICE_EPS * (abs(c) + abs(ps) + abs(pt)):
                best = d
                in_arc = e
            e += 1
            k += 1
            if k == m:
                k = 0
                o += 1
                if o == n:
                    o = 0
                    e = 0
                ps = pi[o]
            cnt += 1
            if cnt == block:
                if in_arc >= 0:
                    break
                cnt = 0
    return in_arc, o * inner + k


@kernel
def network_simplex(C, n, m, a, b, max_iter, maxabs):
    """Solve the balanced transportation problem ``(C flat (n*m,), a > 0, b > 0)``.

    ``maxabs`` is ``max |C|``; ``2 (n + m + 1) maxabs`` (the big M) must be finite.

    Returns ``(rows, cols, flows, f, g, status, n_iter)``: the real tree arcs and their
    flows (``rows == -1`` marks an artificial arc, whose flow is mass still unrouted,
    non-zero only at ``MAX_ITER``), the potentials with ``f_i + g_j <= C_ij``.
    """
    nm = n * m
    N = n + m
    root = N
    art = 2.0 * (N + 1) * maxabs if maxabs > 0.0 else 1.0

    parent = np.empty(N + 1, np.int64)
    pred = np.empty(N + 1, np.int64)
    fwd = np.empty(N + 1, np.bool_)
    thread = np.empty(N + 1, np.int64)
    rev = np.empty(N + 1, np.int64)
    succ = np.empty(N + 1, np.int64)
    last = np.empty(N + 1, np.int64)
    flow = np.zeros(N + 1)
    pi = np.zeros(N + 1)
    path = np.empty(N + 1, np.int64)
    a_end = np.empty(N + 1, np.int64)
    b_start = np.empty(N + 1, np.int64)
    b_end = np.empty(N + 1, np.int64)

    for u in range(N):
        parent[u] = root
        pred[u] = nm + u
        thread[u] = u + 1
        rev[u + 1] = u
        succ[u] = 1
        last[u] = u
        if u < n:
            fwd[u] = True
            flow[u] = a[u]
            pi[u] = 0.0
        else:
            fwd[u] = False
            flow[u] = b[u - n]
            pi[u] = art
    parent[root] = -1
    pred[root] = -1
    fwd[root] = False
    thread[root] = 0
    rev[0] = root
    succ[root] = N + 1
    last[root] = N - 1

    block = max(10, int(np.sqrt(nm)))
    colmajor = n < m  # blocks then span many sources (fewer pivots on wide problems)
    # typed (non-literal) constants: a literal 0 or False at a call site would compile
    # another specialisation of the callee (one signature per kernel)
    next_pos = np.int64(0)
    n_iter = 0
    status = OPTIMAL
    local = np.bool_(False)  # phase 1: big-M potentials; phase 2: local ones
    final = np.bool_(True)
    since = 0
    stuck = 0
    while True:
        in_arc, next_pos = _price(C, pi, n, m, next_pos, block, colmajor)
        if in_arc < 0:
            if not local:
                local = final  # phase 2 from the same tree, potentials without the big M
                _potentials(C, n, m, parent, pred, fwd, thread, pi, art, local)
                since = 0
                continue
            break
        s = in_arc // m
        t = n + in_arc - (in_arc // m) * m
        if (parent[s] == t and pred[s] == in_arc) or (parent[t] == s and pred[t] == in_arc):
            # a tree arc priced negative: rounding drift in pi; refresh and retry once
            stuck += 1
            if stuck > 1:
                break
            _potentials(C, n, m, parent, pred, fwd, thread, pi, art, local)
            continue
        stuck = 0
        if n_iter >= max_iter:
            status = MAX_ITER
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
        _update_ancestors(parent, last, succ, v_out, join, l_old, before, -size)

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
            fwd[path[q]] = not fwd[path[q - 1]]
            flow[path[q]] = flow[path[q - 1]]
        succ[u_in] = size
        last[u_in] = s_last
        parent[u_in] = v_in
        pred[u_in] = in_arc
        fwd[u_in] = u_in == s
        flow[u_in] = delta if delta > 0.0 else 0.0

        # paste S right after v_in
        nxt = thread[v_in]
        thread[v_in] = u_in
        rev[u_in] = v_in
        thread[s_last] = nxt
        rev[nxt] = s_last
        _update_ancestors(parent, last, succ, v_in, join, v_in, s_last, size)

        # potentials of S
        u = u_in
        for _ in range(size):
            pi[u] += sigma
            u = thread[u]

        since += 1
        if since >= N:
            _potentials(C, n, m, parent, pred, fwd, thread, pi, art, local)
            since = 0

    # ---- outputs from the final basis ----
    _tree_flows(n, m, a, b, parent, fwd, thread, rev, flow)
    if status == OPTIMAL:
        _potentials(C, n, m, parent, pred, fwd, thread, pi, art, final)
    rows = np.empty(N, np.int64)
    cols = np.empty(N, np.int64)
    flows = np.empty(N)
    for u in range(N):
        e = pred[u]
        flows[u] = flow[u]
        if e < nm:
            rows[u] = e // m
            cols[u] = e - (e // m) * m
        else:
            rows[u] = -1
            cols[u] = u - n if u >= n else u
    f = -pi[:n].copy()
    g = pi[n:N].copy()
    return rows, cols, flows, f, g, status, n_iter
