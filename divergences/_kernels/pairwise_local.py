r"""Exact transport between histograms on one shared support, solved on local arcs first.

For each pair the transportation LP :math:`\min_\gamma \sum_{ij} \gamma_{ij} C_{ij}` over
couplings of ``a`` and ``b`` is solved by the network simplex of :mod:`.network_simplex`
on a small set of arcs, then certified over all pairs:

1. **coarse start**: the bins are grouped in cells (runs of a fixed order of the
   support, computed once per matrix); the coarse problem between the cells' masses is
   solved dense, and :func:`~.refine.split_plan` turns its plan into a coupling of the
   bins: its support is the first, feasible basis
   (:func:`~.warm_basis._forest_round`);
2. **local arcs**: the arcs of that coupling, plus the ``k`` cheapest arcs of every bin
   (a list shared by all pairs, sorted by cost); for squared Euclidean costs on a grid
   these hold nearly all of the optimal support;
3. **certificate**: the potentials :math:`(f, g)` of the sparse optimum are optimal for
   the dense problem iff :math:`C_{ij} - f_i - g_j \ge 0` for all pairs; every pair is
   priced (with the tolerance of the simplex's own pricing) and the most violated arc of
   each row and of each column joins the arcs; the simplex continues from its last tree
   (phase 2: the tree stays primal feasible) until no pair outside the arcs is violated.

The answer is the optimum of the dense LP, certified like the dense simplex's own
(whose last pricing pass checks every arc with the same tolerance), in a fraction of its
pivots. Bins of zero weight are left out (as in :mod:`.pairwise_exact`). Serial kernels;
the caller runs ranges of pairs in threads. Nothing here validates.
"""

import numpy as np

from .._jit import kernel
from .network_simplex import (
    _ARCS,
    _BLOCK,
    _CLEAN,
    _CTL_SIZE,
    _DENSE,
    _FL_ROWS,
    _FLOW,
    _FWD,
    _MAX_ITER,
    _NODES,
    _PARENT,
    _PHASE,
    _PI,
    _POS,
    _PRED,
    _SOURCES,
    _STATUS,
    _THREAD,
    _TREE_ROWS,
    OPTIMAL,
    _pivots,
)
from .pairwise_exact import _UNLIMITED, _basis
from .refine import split_plan
from .simplex_tree import PRICE_EPS, potentials
from .transport_lp import EPS  # a constant: np.finfo in a kernel compiles 0.25 s
from .warm_basis import _forest_round

#: rounds of certificate and re-solve before a pair is handed back as not optimal
MAX_ROUNDS = 64


@kernel(inline=True)
def _compact(w, perm, starts, idx, mass, child, cells, cell_mass):
    """The bins of positive weight of ``w``, in the order ``perm``: ``idx[k]`` (a position
    in that order) and ``mass[k]``; the cells (runs ``starts`` of that order) holding any:
    ``cells[c]`` (the cell), ``child[c]:child[c+1]`` (its bins among ``idx``) and
    ``cell_mass[c]``, summed in the order of the bins (a loop that is not vectorised: a
    vectorised sum would depend on the alignment of ``w``, and the result on the thread).
    Returns ``(bins, cells)`` counts."""
    k = 0
    c = 0
    for cell in range(starts.shape[0] - 1):
        first = k
        total = 0.0
        for q in range(starts[cell], starts[cell + 1]):
            v = w[perm[q]]
            if v > 0.0:
                idx[k] = q
                mass[k] = v
                total += v
                k += 1
        if k > first:
            child[c] = first
            cells[c] = cell
            cell_mass[c] = total
            c += 1
    child[c] = k
    return k, c


@kernel(inline=True)
def _coarse_coupling(Cc, nc_all, xcells, nx, xchild, a, A, ycells, ny, ychild, b, B,
                     max_iter):
    """The coupling of the bins split from the optimal coarse plan (step 1 of the module
    docstring): ``(rows, cols)`` in the compacted numbering.
    ``A``, ``B``: the masses of the cells."""
    sub = np.empty(nx * ny)
    maxabs = 0.0
    for r in range(nx):
        for c in range(ny):
            v = Cc[xcells[r] * nc_all + ycells[c]]
            sub[r * ny + c] = v
            maxabs = max(maxabs, abs(v))
    N = nx + ny
    M = N + 1
    art = 2.0 * (N + 1) * maxabs if maxabs > 0.0 else 1.0
    tree, fl, ctl = _basis(nx, ny, A, B, art, max_iter)
    supply = np.empty(N)
    for u in range(N):
        supply[u] = A[u] if u < nx else -B[u - nx]
    no_arcs = np.empty(0, np.int64)
    _pivots(sub, no_arcs, no_arcs, supply, tree, fl, ctl, art, 0.0, np.int64(_UNLIMITED))
    nm = nx * ny
    rows = np.empty(N, np.int64)
    cols = np.empty(N, np.int64)
    flows = np.empty(N)
    E = 0
    for u in range(N):  # the arcs of the coarse plan that carry mass
        e = tree[_PRED * M + u]
        if e < nm and fl[_FLOW * M + u] > 0.0:
            rows[E] = e // ny
            cols[E] = e - rows[E] * ny
            flows[E] = fl[_FLOW * M + u]
            E += 1
    by_row = _bucket_order(rows[:E], nx)
    r = np.empty(E, np.int64)
    c = np.empty(E, np.int64)
    f = np.empty(E)
    for q in range(E):
        r[q] = rows[by_row[q]]
        c[q] = cols[by_row[q]]
        f[q] = flows[by_row[q]]
    wr, wc, _ = split_plan(r, c, f, _bucket_order(c, ny), xchild[:nx + 1], ychild[:ny + 1],
                           a, b)
    return wr, wc


@kernel(inner=True)
def _bucket_order(keys, n_keys):
    """The stable order of ``keys`` (int64 in ``0..n_keys-1``) by value: a counting sort
    (numba's sorts take seconds to compile)."""
    start = np.zeros(n_keys + 1, np.int64)
    for q in range(keys.shape[0]):
        start[keys[q] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    order = np.empty(keys.shape[0], np.int64)
    for q in range(keys.shape[0]):
        order[start[keys[q]]] = q
        start[keys[q]] += 1
    return order


@kernel(inner=True)
def _grow_arcs(tails, heads, C, E, size):
    """The first ``E`` arcs copied into arrays of ``size`` entries."""
    t = np.empty(size, np.int64)
    h = np.empty(size, np.int64)
    c = np.empty(size)
    for e in range(E):
        t[e] = tails[e]
        h[e] = heads[e]
        c[e] = C[e]
    return t, h, c


@kernel(inline=True)
def local_cost(Cp, nb, Cc, nc_all, perm, starts, knn_t, knn_h, a_full, b_full, max_iter,
               work):
    """``(sum of flow * cost, status, max |C| of the problem, arcs added by the
    certificate)`` of one pair (module docstring). ``Cp`` (nb*nb,): the costs between
    bins in the order ``perm``; ``Cc`` (nc_all*nc_all,): the costs between the cells
    (runs ``starts`` of that order);
    ``knn_t``, ``knn_h``: the local arcs (positions in that order), cheapest first;
    ``a_full``, ``b_full``: the histograms (normalised), in the bins' own order.
    ``work``: int64 (nb*nb,) scratch, all zero (left all zero)."""
    nc = starts.shape[0] - 1
    ri = np.empty(nb, np.int64)
    ci = np.empty(nb, np.int64)
    a = np.empty(nb)
    b = np.empty(nb)
    xchild = np.empty(nc + 1, np.int64)
    ychild = np.empty(nc + 1, np.int64)
    xcells = np.empty(nc, np.int64)
    ycells = np.empty(nc, np.int64)
    A = np.empty(nc)
    B = np.empty(nc)
    n, nx = _compact(a_full, perm, starts, ri, a, xchild, xcells, A)
    m, ny = _compact(b_full, perm, starts, ci, b, ychild, ycells, B)
    # position in the order -> compacted index (-1: zero weight), in ``posx``, ``posy``
    posx = np.empty(nb, np.int64)
    posy = np.empty(nb, np.int64)
    for q in range(nb):
        posx[q] = -1
        posy[q] = -1
    for k in range(n):
        posx[ri[k]] = k
    for r in range(m):
        posy[ci[r]] = r
    maxabs = 0.0
    for k in range(n):
        for r in range(m):
            maxabs = max(maxabs, abs(Cp[ri[k] * nb + ci[r]]))
    N = n + m
    M = N + 1
    art = 2.0 * (N + 1) * maxabs if maxabs > 0.0 else 1.0
    wr, wc = _coarse_coupling(Cc, nc_all, xcells, nx, xchild, a, A[:nx], ycells, ny, ychild,
                              b, B[:ny], max_iter)
    K = wr.shape[0]
    cap = K + knn_t.shape[0] + 4 * N
    tails = np.empty(cap, np.int64)
    heads = np.empty(cap, np.int64)
    C = np.empty(cap)
    E = 0
    for q in range(K):  # ``work`` marks the arcs present: flat index + 1
        key = wr[q] * m + wc[q]
        if work[key] == 0:
            work[key] = 1
            tails[E] = wr[q]
            heads[E] = n + wc[q]
            C[E] = Cp[ri[wr[q]] * nb + ci[wc[q]]]
            E += 1
    K = E
    for q in range(knn_t.shape[0]):
        i = posx[knn_t[q]]
        j = posy[knn_h[q]]
        if i >= 0 and j >= 0 and work[i * m + j] == 0:
            work[i * m + j] = 1
            tails[E] = i
            heads[E] = n + j
            C[E] = Cp[knn_t[q] * nb + knn_h[q]]
            E += 1
    supply = np.empty(N)
    for u in range(N):
        supply[u] = a[u] if u < n else -b[u - n]
    # the first tree: a spanning forest of the coupling's support, hung from the root
    tree = np.zeros(_TREE_ROWS * M, np.int64)
    fl = np.zeros(_FL_ROWS * M)
    keep = np.ones(K, np.int64)
    scratch = np.empty(5 * M + 1 + 2 * K, np.int64)
    ids = np.arange(K)
    while _forest_round(N, E, tails[:K], heads[:K], ids, keep, supply, tree, fl, scratch):
        pass
    ctl = np.zeros(_CTL_SIZE, np.int64)
    ctl[_STATUS] = OPTIMAL
    ctl[_MAX_ITER] = max_iter
    ctl[_NODES] = N
    ctl[_SOURCES] = n
    ctl[_ARCS] = E
    ctl[_DENSE] = 0
    ctl[_BLOCK] = max(10, int(np.sqrt(E)))
    absum = 0.0
    total_supply = 0.0
    for u in range(N):
        absum += abs(supply[u])
        total_supply += supply[u]
    slack = abs(total_supply) + 4.0 * (N + 2) * EPS * absum
    # phase 2 at once unless the coupling leaves more than rounding to come from the root
    ctl[_PHASE] = 1
    for u in range(N):
        if (tree[_PARENT * M + u] == N and tree[_FWD * M + u] == 0
                and fl[_FLOW * M + u] > slack):
            ctl[_PHASE] = 0
    potentials(C, N, tree[_PARENT * M:(_PARENT + 1) * M], tree[_PRED * M:(_PRED + 1) * M],
               tree[_FWD * M:(_FWD + 1) * M], tree[_THREAD * M:(_THREAD + 1) * M],
               fl[_PI * M:(_PI + 1) * M], art, ctl[_PHASE])
    row_j = np.empty(n, np.int64)
    col_i = np.empty(m, np.int64)
    col_d = np.empty(m)
    first_E = E
    for _ in range(MAX_ROUNDS):
        _pivots(C, tails, heads, supply, tree, fl, ctl, art, slack, np.int64(_UNLIMITED))
        if ctl[_STATUS] != OPTIMAL:
            break
        pi = fl[_PI * M:(_PI + 1) * M]
        for r in range(m):
            col_i[r] = -1
            col_d[r] = 0.0
        found = 0
        for k in range(n):  # every pair priced as the simplex prices its arcs
            pk = pi[k]
            best = 0.0
            row_j[k] = -1
            base = ri[k] * nb
            for r in range(m):
                c = Cp[base + ci[r]]
                pt = pi[n + r]
                d = c + pk - pt
                if d < 0.0 and -d > PRICE_EPS * (abs(c) + abs(pk) + abs(pt)) \
                        and work[k * m + r] == 0:
                    if d < best:
                        best = d
                        row_j[k] = r
                    if d < col_d[r]:
                        col_d[r] = d
                        col_i[r] = k
            found += row_j[k] >= 0
        if found == 0:
            break
        if E + n + m > cap:  # room for this round's arcs
            cap = 2 * cap + n + m
            tails, heads, C = _grow_arcs(tails, heads, C, E, cap)
        old = E
        for k in range(n):
            r = row_j[k]
            if r >= 0:
                work[k * m + r] = 1
                tails[E] = k
                heads[E] = n + r
                C[E] = Cp[ri[k] * nb + ci[r]]
                E += 1
        for r in range(m):
            k = col_i[r]
            if k >= 0 and work[k * m + r] == 0:
                work[k * m + r] = 1
                tails[E] = k
                heads[E] = n + r
                C[E] = Cp[ri[k] * nb + ci[r]]
                E += 1
        for u in range(N):  # the artificial arc of node u is arc E + u
            if tree[_PRED * M + u] >= old:
                tree[_PRED * M + u] += E - old
        ctl[_ARCS] = E
        ctl[_CLEAN] = 0
        ctl[_POS] = 0
        ctl[_BLOCK] = max(10, int(np.sqrt(E)))
    else:
        ctl[_STATUS] = -1  # certificate still failing after MAX_ROUNDS: not optimal
    total = 0.0
    for u in range(N):
        e = tree[_PRED * M + u]
        if e < E:
            total += fl[_FLOW * M + u] * C[e]
    for e in range(E):
        work[tails[e] * m + heads[e] - n] = 0
    return total, ctl[_STATUS], maxabs, E - first_E


@kernel
def local_pairs(Cp, Cc, perm, starts, knn_t, knn_h, A, B, ia, jb, mirror, max_iter, cost,
                status, top, lo, hi):
    """Pairs ``t = lo..hi-1``: ``(A[ia[t]], B[jb[t]])`` (normalised histograms), solved as
    ``(B[jb[t]], A[ia[t]])`` where ``mirror[t]``, by :func:`local_cost`; writes
    ``cost[t]``, ``status[t]`` and the largest cost of the problem ``top[t]`` (as
    :func:`~.pairwise_exact.support_pairs`)."""
    nb = A.shape[1]
    nc = starts.shape[0] - 1
    work = np.zeros(nb * nb, np.int64)
    for t in range(lo, hi):
        a = B[jb[t]] if mirror[t] else A[ia[t]]
        b = A[ia[t]] if mirror[t] else B[jb[t]]
        c, s, mx, _ = local_cost(Cp, nb, Cc, nc, perm, starts, knn_t, knn_h, a, b, max_iter,
                                 work)
        cost[t] = c
        status[t] = s
        top[t] = mx
