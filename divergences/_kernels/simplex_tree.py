"""Spanning-tree primitives of the network simplex (numba, no validation).

Used by :mod:`divergences._kernels.network_simplex`, which documents the tree
representation: node potentials along the preorder thread, tree flows from the
supplies, subtree bookkeeping after a re-hang, and block-search pricing.
"""

from .._jit import kernel

#: relative tolerance on a reduced cost before an arc may enter the basis
PRICE_EPS = 1e-13


@kernel
def potentials(C, root, parent, pred, fwd, thread, pi, art, local):
    """Tree potentials from scratch, in preorder (``root`` is the artificial root, the
    last node). A root child gets 0 when its artificial arc points to the root (cost 0),
    ``art`` when it comes from the root (cost ``art``); ``local`` (0/1): 0 for every one."""
    u = thread[root]
    while u != root:
        p = parent[u]
        if p == root:
            pi[u] = 0.0 if (local != 0 or fwd[u]) else art
        else:
            c = C[pred[u]]
            pi[u] = pi[p] - c if fwd[u] else pi[p] + c
        u = thread[u]


@kernel
def tree_flows(supply, parent, fwd, rev, flow, excess):
    """Flows of the tree arcs from the supplies alone (leaves first); tiny negatives -> 0.

    ``supply`` (N,): positive for a supply, negative for a demand; the root is node N.
    ``excess`` is scratch space of ``N + 1``."""
    root = supply.shape[0]
    for u in range(root):  # a loop, not a slice assignment: that compiles a shape-mismatch
        excess[u] = supply[u]  # error path with string formatting (seconds of compile time)
    excess[root] = 0.0
    u = rev[root]
    while u != root:
        f = excess[u] if fwd[u] else -excess[u]
        flow[u] = f if f > 0.0 else 0.0
        excess[parent[u]] += excess[u]
        u = rev[u]


@kernel(inner=True)
def update_ancestors(parent, last, succ, w0, join, old_last, new_last, dsize):
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


@kernel(inner=True)
def price(C, pi, n, m, pos, block, colmajor, todo, limit):
    """Block search from position ``pos``: the most negative reduced cost ``c + pi_i - pi_j``.

    Arcs are visited row by row (column by column when ``colmajor``: blocks then span
    the long side), in blocks of ``block``, at most ``todo`` of them; the search stops
    at the end of the first block holding a candidate, or at the end of a block once
    ``limit`` arcs were scanned. Returns ``(arc, next position, arcs scanned)`` with
    ``arc = -1`` when none is negative beyond the relative tolerance :data:`PRICE_EPS`.
    """
    inner = n if colmajor else m
    o = pos // inner
    k = pos - o * inner
    best = 0.0
    in_arc = -1
    cnt = 0
    scanned = 0
    if colmajor:  # o: sink, k: source
        pt = pi[n + o]
        for _ in range(todo):
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
                scanned += cnt
                if in_arc >= 0 or scanned >= limit:
                    cnt = 0
                    break
                cnt = 0
    else:  # o: source, k: sink
        ps = pi[o]
        e = o * m + k
        for _ in range(todo):
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
                scanned += cnt
                if in_arc >= 0 or scanned >= limit:
                    cnt = 0
                    break
                cnt = 0
    return in_arc, o * inner + k, scanned + cnt


@kernel(inner=True)
def price_arcs(C, tails, heads, pi, n_arcs, pos, block, todo, limit):
    """:func:`price` over an explicit arc list: arc ``e`` runs ``tails[e] -> heads[e]``
    with cost ``C[e]``; same blocks, tolerance and return values (``pos`` is an arc)."""
    e = pos
    best = 0.0
    in_arc = -1
    cnt = 0
    scanned = 0
    for _ in range(todo):
        c = C[e]
        ps = pi[tails[e]]
        pt = pi[heads[e]]
        d = c + ps - pt
        if d < best and -d > PRICE_EPS * (abs(c) + abs(ps) + abs(pt)):
            best = d
            in_arc = e
        e += 1
        if e == n_arcs:
            e = 0
        cnt += 1
        if cnt == block:
            scanned += cnt
            if in_arc >= 0 or scanned >= limit:
                cnt = 0
                break
            cnt = 0
    return in_arc, e, scanned + cnt
