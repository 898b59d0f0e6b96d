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

(every double is an integer multiple of :math:`2^{-1074}`; here of the smallest unit
among the problem's weights, so ``1e-300`` next to ``1`` is exact), both sides total
:math:`S_a S_b` exactly, and every remainder is exact: no snapping, no last-cell rule.
A cell's mass is ``step / (S_a S_b)`` to a few units of rounding of itself, whatever
the range of the weights. Against the weights as the user gave them, only the one
rounding of each normalised weight remains: a relative perturbation of each weight,
which :math:`w / S` keeps relative (equal weights, e.g. all ``1 / n``, stay equal); it
shows only in cells whose mass cancels large cumulative masses of both sides (``a = [1,
1]``, ``b = [1, 1 + 1e-10]``: the middle cell's ``2.5e-11`` to about ``1e-6``).

The kernel (:func:`divergences._kernels.univariate_exact.exact_walk`, multi-limb
integers) is compiled on the first problem with tiny weights only; on 1e6 points it takes
about 3.5 times the fast walk's time with one weight of ``1e-20`` (integers of a few
limbs), 5 times with ``1e-300`` (about 80 limbs). The callers use it only for problems
that have a positive weight below :data:`TINY_RATIO` times their largest weight
(:func:`has_tiny_weights`), and keep the fast walk, which snaps near-ties of decimal
weights (``0.3 - 0.1 - 0.1`` vs ``0.1``) to zero, for the others.
"""

from __future__ import annotations

import numpy as np

from ._kernels.univariate import staircase

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


def staircase_for(wa, wb):
    """The walk for one problem: :func:`exact_staircase` if it has tiny weights
    (:func:`has_tiny_weights`), else the fast
    :func:`~divergences._kernels.univariate.staircase` (same arguments and results)."""
    return exact_staircase if has_tiny_weights(wa, wb) else staircase


def _smallest_positive(w):
    """The smallest positive entry along the last axis (``inf`` if none): one plain
    ``min`` unless there are zeros."""
    smallest = w.min(axis=-1)
    if (smallest > 0).all():
        return smallest
    return np.min(w, axis=-1, initial=np.inf, where=w > 0)


def _integers(wa, wb):
    """The weights as integers ``mant 2^shift`` in a common unit: ``(ma, sa, mb, sb,
    max_shift)`` (int64 arrays; ``mant < 2^53``, ``shift >= 0``)."""
    fa, ea = np.frexp(wa)
    fb, eb = np.frexp(wb)
    ma = np.ldexp(fa, 53).astype(np.int64)  # exact: 53-bit significands
    mb = np.ldexp(fb, 53).astype(np.int64)
    positive = np.concatenate([ea[wa > 0], eb[wb > 0]])
    e0 = int(positive.min()) if positive.size else 0
    sa = np.where(wa > 0, ea - e0, 0).astype(np.int64)
    sb = np.where(wb > 0, eb - e0, 0).astype(np.int64)
    return ma, sa, mb, sb, int(max(sa.max(initial=0), sb.max(initial=0)))


def exact_staircase(xs, wa, ys, wb, p, inv, record, rows, cols, mass, f, g):
    """:func:`~divergences._kernels.univariate.staircase` with exact normalisation.

    Same arguments and results: ``(cost, marginal_error)`` with the cost
    ``sum mass |inv xs_i - inv ys_j|^p`` over the ``n + m - 1`` cells of the monotone
    staircase, and with ``record`` the cells, their masses and the potentials tight on
    them (``f[0] = 0``). The masses couple ``wa / sum(wa)`` with ``wb / sum(wb)``, sums
    and remainders exact (module docstring; the kernel
    :func:`~divergences._kernels.univariate_exact.exact_walk`); the marginal error is
    measured against ``wa`` and ``wb`` as given.
    """
    from ._kernels.univariate_exact import exact_walk, limbs_for  # compiled when needed

    wa = np.ascontiguousarray(wa, dtype=np.float64)
    wb = np.ascontiguousarray(wb, dtype=np.float64)
    ma, sa, mb, sb, max_shift = _integers(wa, wb)
    n_limbs = limbs_for(max_shift, max(wa.shape[0], wb.shape[0]))
    cost, err = exact_walk(np.ascontiguousarray(xs, dtype=np.float64), wa, ma, sa,
                           np.ascontiguousarray(ys, dtype=np.float64), wb, mb, sb,
                           n_limbs, float(p), float(inv), bool(record), rows, cols, mass, f, g)
    return float(cost), float(err)


def exact_sorted_cost(xs, wa, ys, wb, p, inv):
    """``W_p^p`` of one sorted weighted problem by :func:`exact_staircase` (no plan)."""
    empty_i = np.empty(0, np.int64)
    empty_f = np.empty(0)
    return exact_staircase(xs, wa, ys, wb, p, inv, False, empty_i, empty_i, empty_f,
                           empty_f, empty_f)[0]
