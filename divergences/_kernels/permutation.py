r"""1-D Wasserstein costs of relabellings and resamplings of one sorted pooled sample.

A permutation test relabels the pooled sample into ``n`` points of the first group and
``m`` of the second; a bootstrap draws each group's points with multiplicities. Walking
the sorted pooled values once, the points of each group come out sorted, so the monotone
coupling of the two uniform measures (each of the ``n`` source points holds ``m`` units
and each of the ``m`` target points ``n`` units of ``n m``, as in
:func:`.univariate.uniform_cost`; a point drawn ``c`` times holds ``c`` times as many) is
computed without sorting or copying the groups:

.. math:: W_p^p = \frac{1}{n m} \sum_{\text{steps}} u_k\, |x_{(i_k)} - y_{(j_k)}|^p .

``labels`` are bytes (1: first group) and ``counts`` multiplicities (0 skips a point), in
the *original* order of the pooled points; ``order`` maps sorted positions to original
indices (one row per direction for sliced statistics). Integer units: no rounding in the
coupling. Nothing is validated.
"""

import numpy as np

from .._jit import kernel
from .univariate import ground_cost


@kernel(inline=True)
def _next(labels, counts, order, start, want):
    """The first sorted position ``>= start`` of a point of group ``want`` that is drawn."""
    k = start
    while labels[order[k]] != want or counts[order[k]] == 0:
        k += 1
    return k


@kernel(inline=True)
def split_cost(zs, order, labels, counts, n, m, p):
    """``W_p^p`` between the two groups that ``labels`` (with multiplicities ``counts``,
    ``n`` and ``m`` in total) make of the sorted ``zs``."""
    cx = _next(labels, counts, order, 0, 1)
    cy = _next(labels, counts, order, 0, 0)
    ra = m * counts[order[cx]]
    rb = n * counts[order[cy]]
    i = 0  # units of the first group moved so far, in points
    j = 0
    s = 0.0
    while i < n and j < m:
        step = min(ra, rb)
        s += step * ground_cost(zs[cx] - zs[cy], p)
        ra -= step
        rb -= step
        if ra == 0:
            i += counts[order[cx]]
            if i < n:
                cx = _next(labels, counts, order, cx + 1, 1)
                ra = m * counts[order[cx]]
        if rb == 0:
            j += counts[order[cy]]
            if j < m:
                cy = _next(labels, counts, order, cy + 1, 0)
                rb = n * counts[order[cy]]
    return s / (float(n) * float(m))


def split_costs(zs, orders, labels, counts, n, m, p):
    """For each row of ``labels`` or ``counts`` (one of them may have a single row shared
    by all), the mean over the rows of ``zs`` (sorted values, one row per direction) of
    :func:`split_cost`. Serial: under load on two cores a ``prange`` version was no faster
    and its compilation doubled the first call (3.3 -> 6 s)."""
    out = np.empty(max(labels.shape[0], counts.shape[0]))
    _split_costs_into(zs, orders, labels, counts, n, m, p, out)
    return out


@kernel
def _split_costs_into(zs, orders, labels, counts, n, m, p, out):
    """:func:`split_costs` into ``out`` (allocated by the caller: an allocation here
    compiles NumPy's on a first call)."""
    n_dir = zs.shape[0]
    for b in range(out.shape[0]):
        lab = labels[b if labels.shape[0] > 1 else 0]
        cnt = counts[b if counts.shape[0] > 1 else 0]
        acc = 0.0
        for d in range(n_dir):
            acc += split_cost(zs[d], orders[d], lab, cnt, n, m, p)
        out[b] = acc / n_dir
