"""Transport on a regular grid as a flow on its neighbour arcs (NumPy and numba, no
validation): the arcs of the grid graph, and a coupling from an acyclic flow.

Ling & Okada's EMD-L1: with the cityblock ground distance, W1 between two histograms on
a grid is a min-cost flow on the graph whose arcs join neighbouring pixels (both ways,
cost = the grid step along that axis): O(N) arcs instead of N^2 pairs.
"""

import numpy as np

from .._jit import kernel


def grid_arcs(shape, spacing):
    """Neighbour arcs of a grid of ``shape`` (pixels numbered in C order), both ways:
    ``(tails, heads, costs)``, int64, int64, float64 (cost = ``spacing[axis]``)."""
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
    return (np.concatenate(tails), np.concatenate(heads), np.concatenate(costs))


@kernel
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
    """
    N = excess.shape[0]
    K = tails.shape[0]
    off = np.zeros(N + 1, np.int64)
    for k in range(K):
        off[tails[k] + 1] += 1
    for u in range(N):
        off[u + 1] += off[u]
    ptr = off[:N].copy()
    adj = np.empty(K, np.int64)
    for k in range(K):
        adj[ptr[tails[k]]] = k
        ptr[tails[k]] += 1
    for u in range(N):
        ptr[u] = off[u]
    rem = flows.copy()
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
