r"""The 1-D monotone coupling with exact normalisation, for problems with tiny weights.

The fast walk (:func:`divergences._kernels.univariate.staircase`) takes the normalised
weights as if each side summed to exactly 1 and keeps its remainders with error bounds,
snapping a remainder within its bound to 0. Normalised weights are rounded: their sums
are :math:`1 + O(\varepsilon)`, and a weight far below that rounding (``1e-17`` of the
others, down to ``1e-300``) is then paired with the other side's rounding instead of with
its own mass: ``x = [0, 0]``, ``a = [1, 1e-17]``, ``y = [0, 1]``, ``b = [1, 1e-18]`` gave
``W_1 = 1e-17``, for a true ``1e-18 / (1 + 1e-18)``. More generally a cell carries an
absolute error of a few :math:`\varepsilon`, i.e. a relative error of about
:math:`\varepsilon / w` on a weight ``w`` of the normalised problem.

This walk takes the normalised weights :math:`w^a`, :math:`w^b` as exact rationals and
couples :math:`w^a / S_a` with :math:`w^b / S_b`, :math:`S_a = \sum_i w^a_i` and
:math:`S_b = \sum_j w^b_j` summed exactly. In *cross units* (masses times
:math:`S_a S_b`) the weights are the integers

.. math:: r^a_i = w^a_i S_b, \qquad r^b_j = w^b_j S_a

(every double is an integer multiple of :math:`2^{-1074}`; Python integers have no range
limit, so ``1e-300`` next to ``1`` is exact), both sides total :math:`S_a S_b` exactly,
and every remainder is exact: no snapping, no last-cell rule. A cell's mass is one
correctly rounded division ``step / (S_a S_b)``. Normalisation rounded each weight by at
most one unit, a relative perturbation of each weight that :math:`w / S` keeps relative
(equal weights, e.g. all ``1 / n``, stay exactly equal): so the cost is accurate to a few
:math:`\varepsilon` relative to each cell's mass, whatever the range of the weights.

It runs in Python (exact integers; nothing to compile), about a microsecond per cell; the
callers use it only for problems that have a positive weight below
:data:`TINY_RATIO` times their largest weight (:func:`has_tiny_weights`), and keep the
fast walk, which snaps near-ties of decimal weights (``0.3 - 0.1 - 0.1`` vs ``0.1``) to
zero, for the others.
"""

from __future__ import annotations

import numpy as np

#: a problem whose smallest positive weight is below this fraction of its largest weight
#: (either side, normalised) is solved by :func:`exact_staircase`: the fast walk's cells
#: carry absolute errors of a few units of rounding of the largest weights, up to a
#: relative ``1e-6`` on a cell of a weight ``2^-32`` of them (``eps / 2^-32``).
TINY_RATIO = 2.0**-32


def has_tiny_weights(wa, wb):
    """Whether a positive weight of ``wa`` or ``wb`` (1-D, or 2-D with one problem per
    row) is below :data:`TINY_RATIO` times the largest weight of its problem. Returns a
    bool, or one bool per row."""
    wa, wb = np.asarray(wa), np.asarray(wb)
    smallest = np.minimum(_smallest_positive(wa), _smallest_positive(wb))
    tiny = smallest < TINY_RATIO * np.maximum(wa.max(axis=-1), wb.max(axis=-1))
    return bool(tiny) if tiny.ndim == 0 else tiny


def _smallest_positive(w):
    """The smallest positive entry along the last axis (``inf`` if none): one plain
    ``min`` unless there are zeros."""
    smallest = w.min(axis=-1)
    if (smallest > 0).all():
        return smallest
    return np.min(w, axis=-1, initial=np.inf, where=w > 0)


def _integers(*weights):
    """The weights (1-D float arrays) as Python integers in a common unit ``2^-k``."""
    ratios = [[float(w).as_integer_ratio() for w in side] for side in weights]
    unit = max((d for side in ratios for _, d in side), default=1)
    return [[n * (unit // d) for n, d in side] for side in ratios]


def _ground_cost(d, p):
    """``|d| ** p`` (exact for ``p`` = 1 and 2), as :func:`..univariate.ground_cost`
    (``inf`` where it overflows)."""
    d = abs(d)
    if p == 1.0:
        return d
    if p == 2.0:
        return d * d
    try:
        return d**p
    except OverflowError:
        return float("inf")


def exact_staircase(xs, wa, ys, wb, p, inv, record, rows, cols, mass, f, g):
    """:func:`~divergences._kernels.univariate.staircase` with exact normalisation.

    Same arguments and results: ``(cost, marginal_error)`` with the cost
    ``sum mass |inv xs_i - inv ys_j|^p`` over the ``n + m - 1`` cells of the monotone
    staircase, and with ``record`` the cells, their masses and the potentials tight on
    them (``f[0] = 0``). The masses couple ``wa / sum(wa)`` with ``wb / sum(wb)``, sums
    and remainders exact (module docstring); the marginal error is measured against
    ``wa`` and ``wb`` as given.
    """
    n, m = xs.shape[0], ys.shape[0]
    ia, ib = _integers(wa, wb)
    sa, sb = sum(ia), sum(ib)
    total = sa * sb
    ca = [v * sb for v in ia]  # cross units: both sides total sa * sb
    cb = [v * sa for v in ib]
    xv = (xs * inv).tolist()
    yv = (ys * inv).tolist()
    wa_l, wb_l = wa.tolist(), wb.tolist()
    p = float(p)
    cells = []  # (i, j, share, c) per cell, when recording
    i = j = 0
    ra, rb = ca[0], cb[0]
    rowsum = colsum = err = cost = 0.0
    while True:
        c = _ground_cost(xv[i] - yv[j], p)
        step = ra if ra <= rb else rb
        share = step / total  # one correct rounding
        if share > 0.0:  # a zero-mass cell may cost inf (rescaled by a smaller gap)
            cost += share * c
        rowsum += share
        colsum += share
        if record:
            cells.append((i, j, share, c))
        ra -= step
        rb -= step
        if i == n - 1 and j == m - 1:
            break
        if (ra == 0 and i < n - 1) or j == m - 1:
            err += abs(rowsum - wa_l[i])
            i += 1
            ra, rowsum = ca[i], 0.0
        else:
            err += abs(colsum - wb_l[j])
            j += 1
            rb, colsum = cb[j], 0.0
    err += abs(rowsum - wa_l[n - 1]) + abs(colsum - wb_l[m - 1])
    if record:
        _record(cells, rows, cols, mass, f, g)
    return cost, err


def _record(cells, rows, cols, mass, f, g):
    """Write the cells ``(i, j, mass, cost)`` of a staircase to ``rows``, ``cols``,
    ``mass`` and the potentials tight on all of them to ``f``, ``g`` (``f[0] = 0``): each
    cell after the first enters a new row (``f_i = c - g_j``) or a new column."""
    fl, gl = [0.0] * f.shape[0], [0.0] * g.shape[0]
    last_i = 0
    for k, (i, j, _, c) in enumerate(cells):
        if k == 0:
            gl[0] = c
        elif i != last_i:
            fl[i] = c - gl[j]
        else:
            gl[j] = c - fl[i]
        last_i = i
    table = np.array(cells)
    rows[:], cols[:], mass[:] = table[:, 0], table[:, 1], table[:, 2]
    f[:], g[:] = fl, gl


def exact_sorted_cost(xs, wa, ys, wb, p, inv):
    """``W_p^p`` of one sorted weighted problem by :func:`exact_staircase` (no plan)."""
    empty = np.empty(0)
    return exact_staircase(xs, wa, ys, wb, p, inv, False, empty, empty, empty, empty,
                           empty)[0]
