"""A coupling of fine cells from a coupling of coarse cells, inside compiled code (numba,
no validation).

:func:`split_plan` is called per pair by the kernels of :mod:`.pairwise_local` (its coarse
start). The multiscale solver, which refines once per level from Python, uses the NumPy
twin :func:`divergences._refine.split_plan` (the same coupling, to rounding; compared in
``tests/test_refine.py``), with :func:`~divergences._refine.dilate` and
:func:`~divergences._refine.children_pairs`.
"""

import numpy as np

from .._jit import kernel


@kernel(inner=True)
def _staircase(nodes_start, nodes_end, mass, arc_flow, arc_order, arc_lo, arc_hi, out_node,
               out_arc, out_amt, cnt):
    """North-west corner rule between the children ``nodes_start..nodes_end`` (masses
    ``mass``) of one coarse cell and its coarse arcs ``arc_order[arc_lo:arc_hi]`` (flows
    ``arc_flow``): appends ``(child, arc, amount)`` from position ``cnt``; returns the new
    count."""
    i = nodes_start
    k = arc_lo
    left_i = mass[i] if i < nodes_end else 0.0
    left_k = arc_flow[arc_order[k]] if k < arc_hi else 0.0
    while i < nodes_end and k < arc_hi:
        amt = min(left_i, left_k)
        out_node[cnt] = i
        out_arc[cnt] = arc_order[k]
        out_amt[cnt] = amt
        cnt += 1
        left_i -= amt
        left_k -= amt
        if left_i <= left_k:
            i += 1
            if i < nodes_end:
                left_i = mass[i]
        else:
            k += 1
            if k < arc_hi:
                left_k = arc_flow[arc_order[k]]
    return cnt


@kernel
def split_plan(rows, cols, flows, by_col, xchild, ychild, a, b):
    """A coupling of the children from a coarse coupling: the arcs ``(rows, cols)``
    (sorted by row; ``by_col`` the arcs in a stable order of ``cols``) with ``flows > 0``
    between coarse cells, whose children are
    ``xchild[I]:xchild[I+1]`` (masses ``a``) and ``ychild[J]:ychild[J+1]`` (masses
    ``b``). Each coarse cell shares its children among its arcs by the north-west
    corner rule, then each arc pairs the shares of its two ends by the same rule.
    Returns ``(rows, cols, amounts)`` of the fine coupling (a warm start: its support,
    largest amounts first, seeds the first basis of the next level)."""
    E = rows.shape[0]
    nx = xchild.shape[0] - 1
    ny = ychild.shape[0] - 1
    cap = a.shape[0] + E
    xi = np.empty(cap, np.int64)
    xe = np.empty(cap, np.int64)
    xa = np.empty(cap)
    by_row = np.empty(E, np.int64)
    for k in range(E):
        by_row[k] = k
    # int64, not the literal 0: _staircase compiles once, not once per literal
    cnt = np.int64(0)
    e = np.int64(0)
    for cell in range(nx):
        lo = e
        while e < E and rows[e] == cell:
            e += 1
        cnt = _staircase(xchild[cell], xchild[cell + 1], a, flows, by_row, lo, e, xi, xe, xa,
                         cnt)
    nxs = cnt
    cap = b.shape[0] + E
    yj = np.empty(cap, np.int64)
    ye = np.empty(cap, np.int64)
    ya = np.empty(cap)
    cnt = np.int64(0)
    e = np.int64(0)
    for cell in range(ny):
        lo = e
        while e < E and cols[by_col[e]] == cell:
            e += 1
        cnt = _staircase(ychild[cell], ychild[cell + 1], b, flows, by_col, lo, e, yj, ye, ya,
                         cnt)
    nys = cnt
    # the shares of each arc, contiguous: x-side in arc order already; y-side by arc
    xs = np.zeros(E + 1, np.int64)
    for k in range(nxs):
        xs[xe[k] + 1] += 1
    ys = np.zeros(E + 1, np.int64)
    for k in range(nys):
        ys[ye[k] + 1] += 1
    for k in range(E):
        xs[k + 1] += xs[k]
        ys[k + 1] += ys[k]
    xpos = xs[:E].copy()
    ypos = ys[:E].copy()
    xn = np.empty(nxs, np.int64)
    xm = np.empty(nxs)
    yn = np.empty(nys, np.int64)
    ym = np.empty(nys)
    for k in range(nxs):
        xn[xpos[xe[k]]] = xi[k]
        xm[xpos[xe[k]]] = xa[k]
        xpos[xe[k]] += 1
    for k in range(nys):
        yn[ypos[ye[k]]] = yj[k]
        ym[ypos[ye[k]]] = ya[k]
        ypos[ye[k]] += 1
    out_r = np.empty(nxs + nys, np.int64)
    out_c = np.empty(nxs + nys, np.int64)
    out_a = np.empty(nxs + nys)
    cnt = 0
    for k in range(E):
        i = xs[k]
        j = ys[k]
        if i >= xs[k + 1] or j >= ys[k + 1]:
            continue
        left_i = xm[i]
        left_j = ym[j]
        while i < xs[k + 1] and j < ys[k + 1]:
            amt = min(left_i, left_j)
            out_r[cnt] = xn[i]
            out_c[cnt] = yn[j]
            out_a[cnt] = amt
            cnt += 1
            left_i -= amt
            left_j -= amt
            if left_i <= left_j:
                i += 1
                if i < xs[k + 1]:
                    left_i = xm[i]
            else:
                j += 1
                if j < ys[k + 1]:
                    left_j = ym[j]
    return out_r[:cnt], out_c[:cnt], out_a[:cnt]
