"""Transport on a regular grid as a flow on its neighbour arcs (NumPy and numba, no
validation): the arcs of the grid graph, and a coupling from an acyclic flow.

Ling & Okada's EMD-L1: with the cityblock ground distance, W1 between two histograms on
a grid is a min-cost flow on the graph whose arcs join neighbouring pixels (both ways,
cost = the grid step along that axis): O(N) arcs instead of N^2 pairs.
"""

import numpy as np

from .._jit import kernel
from .network_simplex import min_cost_flow, scattered_order

#: a grid of more pixels than this starts its network simplex from the optimal tree of
#: the grid of 2x2 (2x2x2) blocks, recursively (:func:`grid_flow`)
COARSE_PIXELS = 256


def _axis_blocks(shape):
    """For each axis of ``shape``: the unscattered numbers of its first arc ``p -> p +
    e_k`` and of its first arc ``p + e_k -> p`` in :func:`grid_arcs`, and the shape of
    the pixels ``p`` that have a neighbour ``p + e_k`` (``None`` for an axis of size 1)."""
    out, start = [], 0
    for axis, size in enumerate(shape):
        if size < 2:
            out.append(None)
            continue
        lows = tuple(size - 1 if k == axis else s for k, s in enumerate(shape))
        count = int(np.prod(lows))
        out.append((start, start + count, lows))
        start += 2 * count
    return out


def grid_arcs(shape, spacing):
    """Neighbour arcs of a grid of ``shape`` (pixels numbered in C order), both ways:
    ``(tails, heads, costs)``, int64, int64, float64 (cost = ``spacing[axis]``), in
    :func:`~.network_simplex.scattered_order`: each block of the simplex's pricing then
    holds arcs from the whole grid, not one row's arcs along one axis (CPU time of the
    DOTmark 64x64 flows, median over the classes: 26 -> 19 ms, 20% fewer pivots).
    Unscattered, the arcs come axis by axis, ``p -> p + e_k`` then ``p + e_k -> p``,
    each in the C order of ``p`` (:func:`_axis_blocks`)."""
    idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    tails, heads, costs = [], [], []
    for axis, size in enumerate(shape):
        if size < 2:
            continue
        lo = np.take(idx, np.arange(size - 1), axis=axis).ravel()
        hi = np.take(idx, np.arange(1, size), axis=axis).ravel()
        tails += [lo, hi]
        heads += [hi, lo]
        costs.append(np.full(2 * lo.shape[0], float(spacing[axis])))
    if not tails:
        empty = np.empty(0, np.int64)
        return empty, empty.copy(), np.empty(0)
    order = scattered_order(sum(t.shape[0] for t in tails))
    return (np.concatenate(tails)[order], np.concatenate(heads)[order],
            np.concatenate(costs)[order])


def grid_flow(supply, shape, spacing, max_iter):
    """The min-cost flow of ``supply`` (float64 (N,), C order over ``shape``) on the
    neighbour arcs of the grid (:func:`grid_arcs`), by the network simplex.

    A grid of more than :data:`COARSE_PIXELS` pixels first solves the grid of blocks of
    2 pixels per axis (the supplies summed, steps doubled), recursively, and starts from
    a spanning tree made of that optimum: a comb inside every block and, for each arc
    of the coarse tree, one arc between its two blocks. Its flows across the blocks are
    the coarse optimum's, so the start is nearly optimal (DOTmark 64x64: ~1,600 pivots
    instead of ~8,800 from the artificial tree).

    Returns ``(tails, heads, costs, arcs, flows, pi, status, n_iter)``: the arcs, then
    :func:`~.network_simplex.min_cost_flow`'s outputs (``n_iter`` counts the pivots of
    every level).
    """
    tails, heads, costs = grid_arcs(shape, spacing)
    start, coarse_iter = None, 0
    if supply.shape[0] > COARSE_PIXELS:
        cshape = tuple((size + 1) // 2 for size in shape)
        padded = np.zeros(tuple(2 * c for c in cshape))
        padded[tuple(slice(0, size) for size in shape)] = supply.reshape(shape)
        coarse = padded.reshape([v for c in cshape for v in (c, 2)])
        coarse = coarse.sum(axis=tuple(range(1, 2 * len(shape), 2))).reshape(-1)
        ct, ch, _, carcs, _, _, _, coarse_iter = grid_flow(coarse, cshape, 2.0 * spacing,
                                                           max_iter)
        real = carcs < ct.shape[0]
        start = _refined_tree(shape, cshape, ct[carcs[real]], ch[carcs[real]], tails, heads)
    arcs, flows, pi, status, n_iter = min_cost_flow(costs, supply, max_iter,
                                                    float(np.max(spacing)), tails=tails,
                                                    heads=heads, tree=start)
    return tails, heads, costs, arcs, flows, pi, status, n_iter + coarse_iter


def _refined_tree(shape, cshape, cu, cv, tails, heads):
    """The first tree of :func:`grid_flow`, ``(order, parent, up, down)`` as
    :func:`~.warm_basis.tree_state` takes it: a spanning tree of the grid ``shape`` that
    holds a comb inside every block of ``cshape`` and one edge between the two blocks of
    each coarse tree arc ``cu -> cv`` (a minimum spanning tree with those edges cheaper
    than the others, which only join what the coarse tree left apart), in the preorder
    of a depth-first search from pixel 0 (SciPy's csgraph: nothing to compile; with
    :func:`~.warm_basis.warm_state` the cold first call took 2.9 s more, loaded machine)."""
    d = len(shape)
    N = int(np.prod(shape))
    blocks = _axis_blocks(shape)
    pts, axes = [], []
    # a comb inside every block: the edge along axis k from p (p_k even) when p is the
    # first pixel of its block along every later axis
    grid = np.indices(shape).reshape(d, -1).T
    for k in range(d):
        if blocks[k] is None:
            continue
        ok = (grid[:, k] % 2 == 0) & (grid[:, k] + 1 < shape[k])
        for later in range(k + 1, d):
            ok &= grid[:, later] % 2 == 0
        pts.append(grid[ok])
        axes.append(np.full(int(ok.sum()), k))
    # one edge between the two blocks of each coarse tree arc
    cfrom = np.stack(np.unravel_index(np.minimum(cu, cv), cshape), axis=1)
    cto = np.stack(np.unravel_index(np.maximum(cu, cv), cshape), axis=1)
    along = np.argmax(cto != cfrom, axis=1)
    p = 2 * cfrom
    p[np.arange(p.shape[0]), along] += 1
    pts.append(p)
    axes.append(along)
    E = tails.shape[0]
    where = np.empty(E, np.int64)  # unscattered arc number -> position
    where[scattered_order(E)] = np.arange(E)
    weight = np.where(tails < heads, 2.0, 0.0)  # the edges, as their arcs lo -> hi
    weight[where[_arc_numbers(np.concatenate(pts), np.concatenate(axes), blocks)[0]]] = 1.0
    lo = weight > 0.0
    import scipy.sparse.csgraph  # not at import (~0.05 s)

    edges = scipy.sparse.csr_array((weight[lo], (tails[lo], heads[lo])), shape=(N, N))
    span = scipy.sparse.csgraph.minimum_spanning_tree(edges)
    order, parent = scipy.sparse.csgraph.depth_first_order(span, 0, directed=False,
                                                          return_predecessors=True)
    order = order.astype(np.int64)
    parent = np.where(parent < 0, -1, parent).astype(np.int64)
    child = order[1:]
    low = np.minimum(child, parent[child])
    axis = np.argmax(np.stack(np.unravel_index(np.maximum(child, parent[child]), shape), 1)
                     != np.stack(np.unravel_index(low, shape), 1), axis=1)
    fwd, rev = _arc_numbers(np.stack(np.unravel_index(low, shape), 1), axis, blocks)
    fwd, rev = where[fwd], where[rev]  # low -> high, high -> low
    up = np.zeros(N, np.int64)
    down = np.zeros(N, np.int64)
    is_low = child == low
    up[child] = np.where(is_low, fwd, rev)
    down[child] = np.where(is_low, rev, fwd)
    return order, parent, up, down


def _arc_numbers(pts, axes, blocks):
    """Unscattered numbers of the arcs ``p -> p + e_k`` and ``p + e_k -> p`` for the
    pixels ``pts`` (K, d) and axes ``axes`` (K,) (:func:`_axis_blocks`)."""
    fwd = np.zeros(pts.shape[0], np.int64)
    rev = np.zeros(pts.shape[0], np.int64)
    for k, block in enumerate(blocks):
        sel = axes == k
        if block is None or not sel.any():
            continue
        first, back, lows = block
        rank = np.ravel_multi_index(tuple(pts[sel].T), lows)
        fwd[sel] = first + rank
        rev[sel] = back + rank
    return fwd, rev


def path_decomposition(tails, heads, flows, excess, src, dst, mass):
    """Split an acyclic flow into paths from supply to demand nodes: a coupling.

    ``tails``, ``heads``, ``flows`` (K,): the arcs that carry flow (> 0); ``excess``
    (N,): the supplies (> 0) and demands (< 0) that the flow meets, consumed in place.
    From each supply node in turn, walk along arcs with flow left until a node with
    demand left (or, from rounding, a dead end), move the bottleneck amount (which
    exhausts the supply, the demand or an arc: at most ``N + K`` paths) and record
    ``(start, end, amount)`` in ``src``, ``dst``, ``mass`` (room for ``N + K``). Returns
    the number of paths. Every path of an optimal flow is a shortest path, so the
    coupling's cost equals the flow's cost when the ground cost is the path metric.

    The out-arcs of each node (in arc order) are listed in NumPy, the walk is compiled
    (:func:`_walk_paths`; allocations there would compile NumPy's on a first call).
    """
    N = excess.shape[0]
    off = np.zeros(N + 1, np.int64)
    off[1:] = np.cumsum(np.bincount(tails, minlength=N))
    adj = np.argsort(tails, kind="stable")  # arcs grouped by tail, each group in arc order
    return _walk_paths(heads, flows.copy(), excess, off, adj, off[:N].copy(), src, dst, mass)


@kernel
def _walk_paths(heads, rem, excess, off, adj, ptr, src, dst, mass):
    """The walk of :func:`path_decomposition`: ``rem`` the flows left, the out-arcs of node
    ``u`` are ``adj[off[u]:off[u + 1]]``, ``ptr[u]`` the first one that may have flow left."""
    N = excess.shape[0]
    count = 0
    for s in range(N):
        while excess[s] > 0.0:
            amount = excess[s]
            u = s
            while True:  # to the first node with demand left, or a dead end
                if u != s and excess[u] < 0.0:
                    break
                while ptr[u] < off[u + 1] and rem[adj[ptr[u]]] <= 0.0:
                    ptr[u] += 1
                if ptr[u] == off[u + 1]:
                    break
                k = adj[ptr[u]]
                amount = min(amount, rem[k])
                u = heads[k]
            end = u
            if end == s:  # nothing left to carry it: rounding of the supplies
                break
            if excess[end] < 0.0:
                amount = min(amount, -excess[end])
            u = s
            while u != end:
                k = adj[ptr[u]]
                rem[k] -= amount
                u = heads[k]
            excess[s] -= amount
            excess[end] += amount
            src[count] = s
            dst[count] = end
            mass[count] = amount
            count += 1
    return count
