r"""1-D optimal transport on sorted supports: the monotone (north-west corner) coupling.

For a cost :math:`c(x, y) = h(x - y)` with :math:`h` convex (here :math:`|x - y|^p`,
:math:`p \ge 1`) the optimal coupling of two 1-D measures is the monotone one: walk the
two sorted supports together, always moving mass from the smallest remaining source point
to the smallest remaining target point. The walk visits exactly ``n + m - 1`` cells
``(i, j)`` (a staircase from ``(0, 0)`` to ``(n-1, m-1)``), each step advancing ``i`` or
``j`` by one; cells may carry zero mass (zero weights, ties). The dual potentials made
tight along the whole staircase are feasible for every pair ``(i, j)`` because the cost
matrix of sorted points is a Monge matrix.

Every array here is sorted by value; callers sort and map back. Nothing is validated.
"""

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .borrow import borrowed

#: machine epsilon of float64, the unit of the snapping tolerance below.
EPS = float(np.finfo(np.float64).eps)


@kernel(inner=True)
def ground_cost(d, p):
    """``|d| ** p``, exact for ``p`` = 1 and 2."""
    d = abs(d)
    if p == 1.0:
        return d
    if p == 2.0:
        return d * d
    return d**p


@kernel(inner=True)
def _remainder(r, e, step, e_step):
    """``(r - step, its error bound)``: the bound ``e`` of ``r`` plus ``e_step`` (that of
    ``step``) plus one rounding; a remainder within its bound of zero is ``(0, 0)``."""
    r -= step
    e += e_step + EPS * r
    if r <= e:
        return 0.0, 0.0
    return r, e


@kernel(inline=True)
def record_cell(k, i, j, step, c, moved_i, rows, cols, mass, f, g):
    """Cell ``k`` of a monotone walk, ``(i, j)`` with mass ``step`` and cost ``c``, into
    ``rows``, ``cols``, ``mass``, and the potential it makes tight: ``f[0] = 0`` at the
    first cell, then that of the point the walk has just moved to (``f_i`` if it moved
    along ``x``, else ``g_j``), so that ``f_i + g_j = c`` on every cell."""
    rows[k] = i
    cols[k] = j
    mass[k] = step
    if k == 0:
        f[0] = 0.0
        g[0] = c
    elif moved_i:
        f[i] = c - g[j]
    else:
        g[j] = c - f[i]


@kernel
def staircase(xs, wa, ys, wb, p, inv, record, rows, cols, mass, f, g):
    """Walk the monotone coupling of ``(xs, wa)`` and ``(ys, wb)`` (sorted, masses sum to 1).

    Costs are ``|inv xs_i - inv ys_j|^p``: ``inv``, a power of two, rescales the values
    exactly (1 in the usual range). Returns ``(cost, marginal_error)``. With ``record``
    the ``n + m - 1`` visited cells go to ``rows``, ``cols``, ``mass`` and the potentials
    tight on all of them to ``f``, ``g`` (``f[0] = 0``); without it those arrays are not
    touched (pass empty ones).

    Rounding: the running remainders ``ra``, ``rb`` carry bounds ``ea``, ``eb`` on their
    absolute error: one unit of rounding of the weight itself (normalised weights are
    rounded), then for each subtraction the error of the remainder subtracted plus one
    rounding. A remainder within its error bound of zero is noise and is treated as
    exhausted, so near-ties (0.3 - 0.1 - 0.1 vs 0.1, thirds vs sixths) do not create
    spurious tiny plan entries; masses stay >= 0, and tiny genuine weights (1e-300) are
    kept, being far above their own rounding. Once the walk is in the last column (row),
    each row (column) moves all its remainder there, and the last cell moves the larger of
    the two remainders, so no mass is left behind when the two rounded totals differ.
    """
    n = xs.shape[0]
    m = ys.shape[0]
    i = 0
    j = 0
    ra = wa[0]
    rb = wb[0]
    ea = EPS * ra
    eb = EPS * rb
    rowsum = 0.0
    colsum = 0.0
    err = 0.0
    cost = 0.0
    k = 0
    moved_i = True
    while True:
        c = ground_cost(xs[i] * inv - ys[j] * inv, p)
        # the last column (row) takes all that is left of each row (column): the rounded
        # normalised weights need not have equal sums, and a weight below the rounding of
        # the other side's total (1e-16 of it) must still be moved, not dropped
        # (in the last cell both: the larger remainder, e.g. a last weight of 1e-17 on one
        # side after the other side's rounded total is used up)
        if j == m - 1:
            step = max(ra, rb) if i == n - 1 else ra
        elif i == n - 1:
            step = rb
        else:
            step = min(ra, rb)
        if step > 0.0:  # a zero-mass cell may cost inf (rescaled by a smaller gap)
            cost += step * c
        rowsum += step
        colsum += step
        if record:
            record_cell(k, i, j, step, c, moved_i, rows, cols, mass, f, g)
        k += 1
        if ra <= rb:  # ra is used up exactly; rb inherits ra's error and one rounding
            rb, eb = _remainder(rb, eb, step, ea)
            ra = 0.0
            ea = 0.0
        else:
            ra, ea = _remainder(ra, ea, step, eb)
            rb = 0.0
            eb = 0.0
        if i == n - 1 and j == m - 1:
            break
        if (ra == 0.0 and i < n - 1) or j == m - 1:
            err += abs(rowsum - wa[i])
            i += 1
            ra = wa[i]
            ea = EPS * ra
            rowsum = 0.0
            moved_i = True
        else:
            err += abs(colsum - wb[j])
            j += 1
            rb = wb[j]
            eb = EPS * rb
            colsum = 0.0
            moved_i = False
    err += abs(rowsum - wa[n - 1]) + abs(colsum - wb[m - 1])
    return cost, err


@kernel
def uniform_cost(xs, ys, p, inv):
    """``W_p^p`` between the uniform measures on sorted ``xs`` and ``ys``, in exact units.

    Equal sizes: the mean of ``|xs - ys|^p``. Otherwise each source point holds ``m``
    units and each target point ``n`` units of a total ``n m``: integer remainders, no
    rounding in the coupling. Values are rescaled by ``inv`` as in :func:`staircase`.
    """
    n = xs.shape[0]
    m = ys.shape[0]
    s = 0.0
    if n == m:
        if p == 1.0:
            for i in range(n):
                s += abs(xs[i] * inv - ys[i] * inv)
        elif p == 2.0:
            for i in range(n):
                t = xs[i] * inv - ys[i] * inv
                s += t * t
        else:
            for i in range(n):
                s += abs(xs[i] * inv - ys[i] * inv) ** p
        return s / n
    i = 0
    j = 0
    ra = m
    rb = n
    while i < n and j < m:
        step = min(ra, rb)
        s += step * ground_cost(xs[i] * inv - ys[j] * inv, p)
        ra -= step
        rb -= step
        if ra == 0:
            i += 1
            ra = m
        if rb == 0:
            j += 1
            rb = n
    return s / (float(n) * float(m))


@kernel
def sorted_cost(xs, wa, ys, wb, p, inv):
    """``W_p^p`` of one sorted weighted problem (the monotone coupling of
    :func:`staircase`, no plan recorded); equal masses: :func:`uniform_cost`."""
    empty_i = np.empty(0, np.int64)
    empty_f = np.empty(0, np.float64)
    cost, _ = staircase(xs, wa, ys, wb, p, inv, False, empty_i, empty_i, empty_f, empty_f,
                        empty_f)
    return cost


@kernel(inline=True)
def _row(X, k):
    """Row ``k`` of ``X``, or its only row (shared by every problem of a batch)."""
    return X[k if X.shape[0] > 1 else 0]


@kernel(inline=True)
def _uniform_problem(X, A, Y, B, p, inv, k):
    """``W_p^p`` of problem ``k`` of a batch of equal-mass problems (``A``, ``B`` unused)."""
    return uniform_cost(_row(X, k), _row(Y, k), p, inv)


@kernel(inline=True)
def _weighted_problem(X, A, Y, B, p, inv, k):
    """``W_p^p`` of problem ``k`` of a batch of weighted problems."""
    return sorted_cost(_row(X, k), _row(A, k), _row(Y, k), _row(B, k), p, inv)


@kernel(inline=True)
def _batch_range(problem, X, A, Y, B, p, inv, out, t0, t1):
    """Problems ``t0 .. t1 - 1`` of :func:`batch_cost` into ``out`` (``problem``:
    :func:`_uniform_problem` or :func:`_weighted_problem`), on :func:`~.borrow.borrowed`
    arrays (the rows taken per problem are not reference-counted)."""
    X, A, Y, B, out = borrowed(X), borrowed(A), borrowed(Y), borrowed(B), borrowed(out)
    for t in range(t0, t1):
        out[t] = problem(X, A, Y, B, p, inv, t)


# One range kernel per walk, each passing its problem kernel: a batch compiles its own walk
# only. (A kernel passed from Python as an argument would not be found in numba's cache
# by the next process.)


@kernel
def _uniform_range(X, A, Y, B, p, inv, out, t0, t1):
    _batch_range(_uniform_problem, X, A, Y, B, p, inv, out, t0, t1)


@kernel
def _weighted_range(X, A, Y, B, p, inv, out, t0, t1):
    _batch_range(_weighted_problem, X, A, Y, B, p, inv, out, t0, t1)


def batch_cost(X, A, Y, B, p, inv, uniform, n_problems, threads=None):
    """``W_p^p`` of ``n_problems`` sorted problems, one per row, in parallel: ranges of
    problems in Python threads (:func:`divergences._thread_ranges.run_in_ranges`;
    ``threads=None``: numba's thread count), nothing parallel to compile.

    Each of ``X`` (sorted values), ``A`` (their weights), ``Y``, ``B`` has either one row
    (shared by every problem) or ``n_problems`` rows.
    """
    out = np.empty(n_problems)
    run_in_ranges(_uniform_range if uniform else _weighted_range,
                  (X, A, Y, B, float(p), float(inv), out), int(n_problems), threads)
    return out


def batch_cost_serial(X, A, Y, B, p, inv, uniform, n_problems):
    """:func:`batch_cost` in the calling thread: for small batches, where starting
    threads costs more than the work."""
    return batch_cost(X, A, Y, B, p, inv, uniform, n_problems, threads=1)
