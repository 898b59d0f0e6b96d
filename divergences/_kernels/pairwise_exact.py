r"""Exact optimal transport for many small problems at once: one network simplex per pair.

Each problem is the transportation LP of :mod:`.network_simplex`, solved to the end in
one call of its pivot kernel (a small problem needs no intermediate return to Python);
the pairs of one batch run in parallel (``prange`` over chunks of pairs), and the caller
(:mod:`divergences.transport_matrices`) loops over batches in Python, so Ctrl-C stops a
long matrix between two batches.

Two sources of problems:

* histograms on one shared support: the cost matrix ``C`` (``n_bins x n_bins``) is
  computed once; a pair whose two histograms have no zero bins reads ``C`` in place,
  otherwise the rows and columns of the positive bins are copied out (compaction: the
  network simplex needs positive weights);
* point sets of their own (ragged, concatenated with offsets): each pair builds its cost
  matrix ``d(x_i, y_j)^p`` with :func:`~.cost.ground_distance`; in 1-D with the closed
  form instead (sorted values, :func:`~.univariate.sorted_cost`).

The network simplex is entered in ONE place, :func:`exact_cost` (its initial basis and
its pivots). Nothing here validates.
"""

import numpy as np
from numba import prange

from .._jit import kernel
from .cost import ground_distance
from .network_simplex import _FLOW, _PRED, _STATUS, _initial_basis, _pivots
from .univariate import sorted_cost

#: the initial basis of :mod:`.network_simplex`, compiled (that module builds it in Python)
_basis = kernel(_initial_basis)
#: a pivot budget that is never reached: one call solves a problem to the end
_UNLIMITED = 2**62
#: pairs per chunk of a parallel batch (load balance against per-chunk set-up)
CHUNK = 4


@kernel
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
    _pivots(flat, n, m, a, b, tree, fl, ctl, art, np.int64(_UNLIMITED))
    total = 0.0
    nm = n * m
    for u in range(N):
        e = tree[_PRED * M + u]
        if e < nm:
            total += fl[_FLOW * M + u] * flat[e]
    return total, ctl[_STATUS], maxabs


@kernel
def _positive(w, idx):
    """Indices of the positive entries of ``w`` into ``idx``; returns their number."""
    k = 0
    for i in range(w.shape[0]):
        if w[i] > 0.0:
            idx[k] = i
            k += 1
    return k


@kernel
def _support_pair(C, flatC, a, b, ri, ci, max_iter):
    """One pair of histograms (normalised rows ``a``, ``b``) on the support of ``C``."""
    n = _positive(a, ri)
    m = _positive(b, ci)
    if n == a.shape[0] and m == b.shape[0]:
        return exact_cost(flatC, n, m, a, b, max_iter)
    sub = np.empty(n * m)
    ac = np.empty(n)
    bc = np.empty(m)
    for k in range(n):
        ac[k] = a[ri[k]]
        row = C[ri[k]]
        for q in range(m):
            sub[k * m + q] = row[ci[q]]
    for q in range(m):
        bc[q] = b[ci[q]]
    return exact_cost(sub, n, m, ac, bc, max_iter)


@kernel
def _support_chunk(C, A, B, ia, jb, mirror, max_iter, cost, status, top, lo, hi):
    nb = A.shape[1]
    ri = np.empty(nb, np.int64)
    ci = np.empty(nb, np.int64)
    flatC = C.reshape(-1)
    for t in range(lo, hi):
        if mirror[t]:
            c, s, mx = _support_pair(C, flatC, B[jb[t]], A[ia[t]], ri, ci, max_iter)
        else:
            c, s, mx = _support_pair(C, flatC, A[ia[t]], B[jb[t]], ri, ci, max_iter)
        cost[t] = c
        status[t] = s
        top[t] = mx


@kernel(parallel=True)
def support_pairs(C, A, B, ia, jb, mirror, max_iter, cost, status, top):
    """Pairs ``(A[ia[t]], B[jb[t]])`` of normalised histograms on the support of ``C``
    (``n_bins x n_bins``, C-contiguous), in threads: ``cost[t]``, ``status[t]`` and the
    largest cost ``top[t]``. Where ``mirror[t]`` the pair is solved as ``(B[jb[t]], A[ia[t]])``
    (the mirrored problem)."""
    npairs = ia.shape[0]
    nchunk = (npairs + CHUNK - 1) // CHUNK
    for c in prange(nchunk):
        lo = np.int64(c) * CHUNK
        _support_chunk(C, A, B, ia, jb, mirror, max_iter, cost, status, top, lo,
                       min(lo + CHUNK, npairs))


@kernel
def support_pairs_serial(C, A, B, ia, jb, mirror, max_iter, cost, status, top):
    """:func:`support_pairs` in the calling thread (small batches)."""
    _support_chunk(C, A, B, ia, jb, mirror, max_iter, cost, status, top, np.int64(0),
                   ia.shape[0])


@kernel
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
        return (sorted_cost(xs[x0:x1], W[x0:x1], ys[y0:y1], V[y0:y1], p, 1.0, False),
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
def _points_chunk(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter, cost,
                  status, top, lo, hi):
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


@kernel(parallel=True)
def point_set_pairs(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter, cost,
                    status, top):
    """Pairs ``(ia[t], jb[t])`` of point sets (see :func:`_points_pair`), in threads; where
    ``mirror[t]`` solved as the mirrored pair ``(jb[t], ia[t])``."""
    npairs = ia.shape[0]
    nchunk = (npairs + CHUNK - 1) // CHUNK
    for c in prange(nchunk):
        lo = np.int64(c) * CHUNK
        _points_chunk(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter, cost,
                      status, top, lo, min(lo + CHUNK, npairs))


@kernel
def point_set_pairs_serial(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter,
                           cost, status, top):
    """:func:`point_set_pairs` in the calling thread (small batches)."""
    _points_chunk(P, W, po, Q, V, qo, ia, jb, mirror, metric, q, p, closed, max_iter, cost, status,
                  top, np.int64(0), ia.shape[0])
