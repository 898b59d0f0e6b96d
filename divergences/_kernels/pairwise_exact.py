r"""Exact optimal transport for many small problems at once: one network simplex per pair.

Each problem is the transportation LP of :mod:`.network_simplex`, solved to the end in
one call of its pivot kernel (a small problem needs no intermediate return to Python);
the caller (:mod:`divergences.transport_matrices`) runs the pairs of a batch in threads
and loops over batches in Python, so Ctrl-C stops a long matrix between two batches.

Two sources of problems:

* histograms on one shared support: the cost matrix ``C`` (``n_bins x n_bins``) is
  computed once; a pair whose two histograms have no zero bins reads ``C`` in place,
  otherwise the rows and columns of the positive bins are copied out (compaction: the
  network simplex needs positive weights);
* point sets of their own (ragged, concatenated with offsets): each pair builds its cost
  matrix ``d(x_i, y_j)^p`` with :func:`~.cost.ground_distance`; in 1-D with the closed
  form instead (sorted values, :func:`~.univariate.sorted_cost`).

The network simplex is entered in ONE place, :func:`exact_cost` (:func:`_basis`, the
initial state in the layout of :mod:`.network_simplex`, then its pivots). The kernels are
serial: the caller runs ranges of pairs in Python threads (the kernels release the GIL),
which compiles no parallel kernel (a ``prange`` wrapper cost 4 s of the first call).
Nothing here validates.
"""

import numpy as np

from .._jit import kernel
from .cost import ground_distance
from .network_simplex import (
    _ARCS,
    _BLOCK,
    _COLMAJOR,
    _CTL_SIZE,
    _DENSE,
    _FL_ROWS,
    _FLOW,
    _FWD,
    _LAST,
    _MAX_ITER,
    _NODES,
    _PARENT,
    _PI,
    _PRED,
    _REV,
    _SOURCES,
    _STATUS,
    _SUCC,
    _THREAD,
    _TREE_ROWS,
    OPTIMAL,
    _pivots,
)
from .transport_lp import EPS  # a constant: np.finfo in a kernel compiles 0.25 s
from .univariate import sorted_cost

#: a pivot budget that is never reached: one call solves a problem to the end
_UNLIMITED = 2**62


@kernel(inner=True)
def _basis(n, m, a, b, art, max_iter):
    """The state ``(tree, fl, ctl)`` of the strongly feasible tree of artificial arcs: the
    state :func:`~.network_simplex._initial_basis` builds (same layout, same values),
    written by loops in a compiled function (that one is NumPy slicing, in Python; compiled
    as it is, its slice assignments took 3.5 s of the first call)."""
    nm = n * m
    N = n + m
    M = N + 1
    tree = np.empty(_TREE_ROWS * M, np.int64)
    fl = np.zeros(_FL_ROWS * M)
    for u in range(N):
        tree[_PARENT * M + u] = N
        tree[_PRED * M + u] = nm + u
        tree[_FWD * M + u] = 1 if u < n else 0  # source -> root, root -> sink
        tree[_THREAD * M + u] = u + 1
        tree[_REV * M + u + 1] = u
        tree[_SUCC * M + u] = 1
        tree[_LAST * M + u] = u
        fl[_FLOW * M + u] = a[u] if u < n else b[u - n]
        fl[_PI * M + u] = art if u >= n else 0.0
    tree[_PARENT * M + N] = -1
    tree[_PRED * M + N] = -1
    tree[_FWD * M + N] = 0
    tree[_THREAD * M + N] = 0
    tree[_REV * M] = N
    tree[_SUCC * M + N] = M
    tree[_LAST * M + N] = N - 1
    ctl = np.zeros(_CTL_SIZE, np.int64)
    ctl[_STATUS] = OPTIMAL
    ctl[_BLOCK] = max(10, int(np.sqrt(nm)))
    ctl[_COLMAJOR] = 1 if n < m else 0
    ctl[_MAX_ITER] = max_iter
    ctl[_NODES] = N
    ctl[_SOURCES] = n
    ctl[_ARCS] = nm
    ctl[_DENSE] = 1
    return tree, fl, ctl


@kernel(inline=True)
def exact_cost(flat, n, m, a, b, max_iter):
    """``(sum of flow * cost, status, max |C|)`` of the balanced problem ``flat`` (n*m,),
    ``a`` (n,) and ``b`` (m,) positive, each summing to 1, C-contiguous.

    The one call site of the network simplex: the big M is ``2 (n + m + 1) max |C|``, as
    in :func:`~.network_simplex.network_simplex`. Mass left on artificial arcs at the
    optimum (the two weight vectors sum to 1 only up to rounding) is not counted.
    """
    maxabs = 0.0
    for e in range(n * m):
        maxabs = max(maxabs, abs(flat[e]))
    N = n + m
    M = N + 1
    art = 2.0 * (N + 1) * maxabs if maxabs > 0.0 else 1.0
    tree, fl, ctl = _basis(n, m, a, b, art, max_iter)
    supply = np.empty(N)
    absum = 0.0
    total_supply = 0.0
    for u in range(N):
        supply[u] = a[u] if u < n else -b[u - n]
        absum += abs(supply[u])
        total_supply += supply[u]
    # the rounding the kernel tolerates between the two masses (as min_cost_flow)
    slack = abs(total_supply) + 4.0 * (N + 2) * EPS * absum
    no_arcs = np.empty(0, np.int64)  # dense: arcs are implicit (a local, not a global
    # constant: a read-only global would compile a second _pivots)
    _pivots(flat, no_arcs, no_arcs, supply, tree, fl, ctl, art, slack, np.int64(_UNLIMITED))
    total = 0.0
    nm = n * m
    for u in range(N):
        e = tree[_PRED * M + u]
        if e < nm:
            total += fl[_FLOW * M + u] * flat[e]
    return total, ctl[_STATUS], maxabs


@kernel(inner=True)
def _positive(w, idx):
    """Indices of the positive entries of ``w`` into ``idx``; returns their number."""
    k = 0
    for i in range(w.shape[0]):
        if w[i] > 0.0:
            idx[k] = i
            k += 1
    return k


@kernel
def support_pairs(C, A, B, ia, jb, mirror, max_iter, cost, status, top, lo, hi):
    """Pairs ``t = lo..hi-1``: ``(A[ia[t]], B[jb[t]])`` of normalised histograms on the
    support of ``C`` (``n_bins x n_bins``, C-contiguous), solved as ``(B[jb[t]],
    A[ia[t]])`` where ``mirror[t]``; writes ``cost[t]``, ``status[t]`` and the largest
    cost of the problem ``top[t]``. A pair with no zero bin reads ``C`` in place; other
    pairs copy out the rows and columns of their positive bins."""
    nb = A.shape[1]
    ri = np.empty(nb, np.int64)
    ci = np.empty(nb, np.int64)
    flatC = C.reshape(-1)
    for t in range(lo, hi):
        a = B[jb[t]] if mirror[t] else A[ia[t]]
        b = A[ia[t]] if mirror[t] else B[jb[t]]
        n = _positive(a, ri)
        m = _positive(b, ci)
        if n < nb or m < nb:
            sub = np.empty(n * m)
            ac = np.empty(n)
            bc = np.empty(m)
            for k in range(n):
                ac[k] = a[ri[k]]
                row = C[ri[k]]
                for r in range(m):
                    sub[k * m + r] = row[ci[r]]
            for r in range(m):
                bc[r] = b[ci[r]]
            flat, a, b = sub, ac, bc
        else:
            flat = flatC
        # one call site: exact_cost is inlined here (a second layer of compiled calls
        # above the network simplex would generate its code once more, issue 12)
        c, s, mx = exact_cost(flat, n, m, a, b, max_iter)
        cost[t] = c
        status[t] = s
        top[t] = mx


@kernel(inner=True)
def _points_pair(P, W, po, Q, V, qo, i, j, metric, q, p, closed, max_iter):
    """Point set ``i`` of ``(P, W, po)`` against set ``j`` of ``(Q, V, qo)`` (concatenated
    points, normalised weights, offsets); with ``closed`` (1-D values, sorted within each
    set, ``P`` and ``Q`` of shape (total, 1)) by the closed form, otherwise by the network
    simplex on the positive-weight points."""
    x0, x1 = po[i], po[i + 1]
    y0, y1 = qo[j], qo[j + 1]
    if closed:
        xs = P.reshape(-1)
        ys = Q.reshape(-1)
        return (sorted_cost(xs[x0:x1], W[x0:x1], ys[y0:y1], V[y0:y1], p, 1.0),
                np.int64(0), 0.0)
    ri = np.empty(x1 - x0, np.int64)
    ci = np.empty(y1 - y0, np.int64)
    n = _positive(W[x0:x1], ri)
    m = _positive(V[y0:y1], ci)
    sub = np.empty(n * m)
    ac = np.empty(n)
    bc = np.empty(m)
    for k in range(n):
        ac[k] = W[x0 + ri[k]]
        for r in range(m):
            d = ground_distance(P[x0 + ri[k]], Q[y0 + ci[r]], metric, q)
            sub[k * m + r] = d if p == 1.0 else (d * d if p == 2.0 else d**p)
    for r in range(m):
        bc[r] = V[y0 + ci[r]]
    return exact_cost(sub, n, m, ac, bc, max_iter)


@kernel
def point_set_pairs(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter, cost,
                    status, top, lo, hi):
    """Pairs ``t = lo..hi-1`` of point sets ``(ia[t], jb[t])`` (see :func:`_points_pair`),
    solved as the mirrored pair where ``mirror[t]``; outputs as :func:`support_pairs`."""
    for t in range(lo, hi):
        if mirror[t]:
            c, s, mx = _points_pair(Q, V, qo, P, W, po, jb[t], ia[t], metric, q, p, closed,
                                   max_iter)
        else:
            c, s, mx = _points_pair(P, W, po, Q, V, qo, ia[t], jb[t], metric, q, p, closed,
                                   max_iter)
        cost[t] = c
        status[t] = s
        top[t] = mx
