r"""From one level of the multiscale solver to the next (NumPy, no validation).

The cells of a level are runs of points sorted by Morton key (:mod:`divergences._hierarchy`);
the children of coarse cell ``I`` are the cells ``xchild[I]:xchild[I+1]`` of the next
level (likewise ``ychild`` for the targets). From the basis of a coarse solve:

* :func:`dilate` widens the coarse arcs to the neighbouring target cells;
* :func:`children_pairs` turns coarse arcs into the arcs between their children;
* :func:`split_plan` turns a coarse coupling into a coupling of the children (the warm
  start of the next solve).

Each runs once per level, in a few vectorised passes over its arrays (no compiled
kernel: these were about 2 s of numba compilation in a first multiscale call and are
milliseconds of NumPy per level). The north-west corner rule of :func:`split_plan` is
written as a merge of breakpoints: between two sequences of masses :math:`u_1..u_n` and
:math:`v_1..v_m` of (nearly) equal totals, the rule pairs :math:`u_i` with :math:`v_k`
when the intervals :math:`[U_{i-1}, U_i]` and :math:`[V_{k-1}, V_k]` of their partial sums
overlap; walking the merged interior breakpoints :math:`U_1..U_{n-1}`, :math:`V_1..V_{m-1}`
in increasing order (:math:`U` first on ties), each one advances :math:`i` or :math:`k`,
so the rule gives :math:`n + m - 1` pairs (a spanning tree of the two sequences), the
amount of each the gap to the next breakpoint.
"""

import numpy as np

from ._hierarchy import spread_bits

#: breakpoints of the north-west corner rule closer than this fraction of their group's
#: mass are a tie (:func:`northwest`)
_TIE = 2.0 ** -50


def dilate(rows, cols, ycoords, ykeys, bits, radius):
    """Coarse arcs ``(rows[e], cols[e])`` widened to every non-empty target cell within
    ``radius`` cells (per axis) of ``cols[e]``: pairs ``(rows[e], j)`` with ``j``
    indexing the target cells, whose coordinates (``ycoords`` (ny, d)) and sorted
    Morton keys (``ykeys`` (ny,)) at this level (``bits`` bits per axis) are given.
    Ordered by arc, then by offset (the first axis varying fastest); duplicates are
    possible (the caller removes them)."""
    ny, d = ycoords.shape
    width = 2 * radius + 1
    side = 1 << bits
    # per axis k and shift t - radius: the shifted coordinate's share of the key, inside?
    parts, inside = [], []
    for k in range(d):
        v = ycoords[:, k][None, :] + (np.arange(width) - radius)[:, None]  # (width, ny)
        ok = (v >= 0) & (v < side)
        parts.append(spread_bits(np.where(ok, v, 0), bits, d) << k)
        inside.append(ok)
    n_off = width ** d
    nbr = np.empty((ny, n_off), np.int64)
    for o in range(n_off):
        key = np.zeros(ny, np.int64)
        ok = np.ones(ny, bool)
        t = o
        for k in range(d):
            key |= parts[k][t % width]
            ok &= inside[k][t % width]
            t //= width
        pos = np.searchsorted(ykeys, key)
        hit = ok & (pos < ny)
        hit[hit] = ykeys[pos[hit]] == key[hit]
        nbr[:, o] = np.where(hit, pos, -1)
    cand = nbr[cols]
    keep = cand >= 0
    return np.broadcast_to(rows[:, None], cand.shape)[keep], cand[keep]


def _exclusive_cumsum(counts):
    out = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _runs(lengths, firsts):
    """``concatenate([arange(f, f + n) for f, n in zip(firsts, lengths)])``."""
    total = int(lengths.sum())
    return np.arange(total, dtype=np.int64) + np.repeat(
        firsts - _exclusive_cumsum(lengths)[:-1], lengths)


def children_pairs(rows, cols, xchild, ychild):
    """All pairs of children of the coarse arcs ``(rows[e], cols[e])`` (sorted row-major,
    unique): the children of source cell ``I`` are ``xchild[I]:xchild[I+1]`` and those
    of target cell ``J`` are ``ychild[J]:ychild[J+1]``. Returns ``(rows, cols)`` of the
    fine arcs, sorted row-major and unique: every child of a coarse row gets the same
    columns, the children of the row's arcs' columns in turn."""
    E = rows.shape[0]
    if E == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    first = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    x0 = xchild[rows[first]]
    nch = xchild[rows[first] + 1] - x0
    # the columns of each coarse row, concatenated (the rows' arcs are contiguous)
    y0 = ychild[cols]
    ylen = ychild[cols + 1] - y0
    columns = _runs(ylen, y0)
    width = np.add.reduceat(ylen, first)
    at = _exclusive_cumsum(width)[:-1]
    # one run of its row's columns per child
    per_child = np.repeat(width, nch)
    return (np.repeat(_runs(nch, x0), per_child),
            columns[_runs(per_child, np.repeat(at, nch))])


def _segmented_cumsum(v, start):
    """Inclusive cumulative sums of ``v`` restarting at each run; ``start[k]``: the first
    position of the run of ``k``. Each sum adds only its run's terms (in a tree:
    Hillis-Steele, ``log2`` of the longest run passes), so a small run after large ones
    keeps its relative precision."""
    n = v.shape[0]
    out = v.astype(np.float64, copy=True)
    pos = np.arange(n)
    longest = int((pos - start).max()) + 1 if n else 0
    s = 1
    while s < longest:
        ok = pos[s:] - s >= start[s:]
        step = np.zeros(n)
        step[s:][ok] = out[:n - s][ok]
        out = out + step
        s *= 2
    return out


def northwest(lgroup, lmass, rgroup, rmass, n_groups):
    """The north-west corner rule (module docstring) in every group at once.

    Left items ``lmass`` (in groups ``lgroup``, sorted) and right items ``rmass`` (groups
    ``rgroup``, sorted): each group with items on both sides pairs its left and right
    items by the rule, in their order, the left advancing first on ties (breakpoints
    within :data:`_TIE` of the group's mass: sums of equal masses taken in two orders
    differ by their rounding, where the sequential rule of the compiled kernel sees an
    exact tie). Returns
    ``(left, right, amounts)``: the pairs' item positions, grouped and in the order of
    the rule, and the mass of each (the gap between consecutive merged breakpoints of
    the partial sums; >= 0)."""
    nl = np.bincount(lgroup, minlength=n_groups)
    nr = np.bincount(rgroup, minlength=n_groups)
    both = (nl > 0) & (nr > 0)
    lkeep, rkeep = np.flatnonzero(both[lgroup]), np.flatnonzero(both[rgroup])
    lg, rg = lgroup[lkeep], rgroup[rkeep]
    nl, nr = np.where(both, nl, 0), np.where(both, nr, 0)
    l0, r0 = _exclusive_cumsum(nl), _exclusive_cumsum(nr)
    cl = _segmented_cumsum(lmass[lkeep], l0[lg])
    cr = _segmented_cumsum(rmass[rkeep], r0[rg])
    active = np.flatnonzero(both)
    lend, rend = cl[l0[active + 1] - 1], cr[r0[active + 1] - 1]  # the groups' totals
    # interior breakpoints (each item's partial sum but the last of its group), merged;
    # two within _TIE of the group's mass are a tie (the rounding of sums of equal
    # masses in two orders), the left first
    lin = np.flatnonzero(np.arange(lg.shape[0]) < l0[1:][lg] - 1)
    rin = np.flatnonzero(np.arange(rg.shape[0]) < r0[1:][rg] - 1)
    grp = np.concatenate([lg[lin], rg[rin]])
    val = np.concatenate([cl[lin], cr[rin]])
    side = np.concatenate([np.zeros(lin.shape[0], np.int64), np.ones(rin.shape[0], np.int64)])
    unit = np.zeros(n_groups)
    unit[active] = np.maximum(lend, rend) * _TIE
    unit = unit[grp]
    tick = np.zeros(grp.shape[0], np.int64)  # val in units of the tie (< 2**51)
    pos = unit > 0
    tick[pos] = np.rint(val[pos] / unit[pos])
    order = np.lexsort((side, tick, grp))
    grp, val, side = grp[order], val[order], side[order]
    # outputs: per group its first pair, then one per breakpoint
    count = np.where(both, nl + nr - 1, 0)
    off = _exclusive_cumsum(count)
    T = int(off[-1])
    rest = np.ones(T, bool)
    rest[off[active]] = False
    rest = np.flatnonzero(rest)
    b0 = _exclusive_cumsum(np.maximum(count - 1, 0))[grp]  # group's first breakpoint
    lefts = np.concatenate([[0], np.cumsum(1 - side)])
    t = np.arange(grp.shape[0]) + 1 - b0  # breakpoints passed, this one included
    li = lefts[1:] - lefts[b0]
    left, right = np.empty(T, np.int64), np.empty(T, np.int64)
    at = np.zeros(T)
    left[off[active]], right[off[active]] = l0[active], r0[active]
    left[rest], right[rest] = l0[grp] + li, r0[grp] + t - li
    at[rest] = val
    nxt = np.empty(T)
    nxt[:-1] = at[1:]
    last = off[active] + count[active] - 1
    nxt[last] = np.minimum(lend, rend)
    return lkeep[left], rkeep[right], np.maximum(nxt - at, 0.0)


def split_plan(rows, cols, flows, by_col, xchild, ychild, a, b):
    """A coupling of the children from a coarse coupling: the arcs ``(rows, cols)``
    (sorted by row; ``by_col`` the arcs in a stable order of ``cols``) with ``flows > 0``
    between coarse cells, whose children are ``xchild[I]:xchild[I+1]`` (masses ``a``)
    and ``ychild[J]:ychild[J+1]`` (masses ``b``). Each coarse cell shares its children
    among its arcs by the north-west corner rule, then each arc pairs the shares of its
    two ends by the same rule (:func:`northwest`). Returns ``(rows, cols, amounts)`` of
    the fine coupling, by arc, then in the order of the rule (a warm start: its support,
    largest amounts first, seeds the first basis of the next level). The same coupling
    as the compiled :func:`divergences._kernels.refine.split_plan` (used inside the
    kernels of :mod:`~divergences._kernels.pairwise_local`), to rounding."""
    E = rows.shape[0]
    nx, ny = xchild.shape[0] - 1, ychild.shape[0] - 1
    xg = np.repeat(np.arange(nx), np.diff(xchild))
    xi, xe, xa = northwest(xg, a, rows, flows, nx)
    yg = np.repeat(np.arange(ny), np.diff(ychild))
    yj, ye, ya = northwest(yg, b, cols[by_col], flows[by_col], ny)
    ye = by_col[ye]
    # the x shares come by arc already (cells in row order, each walking its arcs in
    # order); the y shares by column: regroup them by arc, keeping their order
    o = np.argsort(ye, kind="stable")
    yj, ye, ya = yj[o], ye[o], ya[o]
    si, sj, amt = northwest(xe, xa, ye, ya, E)
    return xi[si], yj[sj], amt
