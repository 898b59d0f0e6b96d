r"""Partial optimal transport: move exactly a mass ``m`` at least cost, exactly.

Reached through :func:`divergences.emd` (``mass=``) and :func:`divergences.transport`
(``mass=``). The partial problem

.. math:: \min_{\gamma \ge 0} \sum_{ij}\gamma_{ij} C_{ij} \quad\text{s.t.}\quad
          \gamma 1 \le a,\ \gamma^T 1 \le b,\ 1^T\gamma 1 = m

is a balanced one on an extended problem (Chapel, Alaya and Gasso 2020, Prop. 1): one
dummy point is added on each side, the dummy source with mass :math:`\sum b - m` and the
dummy sink with mass :math:`\sum a - m`, real-to-dummy arcs of cost 0 (mass left where it
is) and a dummy-to-dummy arc of cost :math:`A > -\min C` (here :math:`2\max|C|`), which
no optimal plan uses: moving mass ``w`` through it forces ``w`` more real transport, and
rerouting any real unit through the dummies saves :math:`C_{ij} + A > 0`. The extended
problem is solved by the same network simplex as :func:`divergences.emd`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.sparse

from ._metrics import metric_code
from ._validation import (
    check_choice,
    check_minkowski_order,
    check_no_options,
    check_p,
    check_point_sets,
    check_positive_int,
)
from ._validation_partial import check_mass

__all__ = []  # reached through emd(..., mass=) and transport(..., mass=)


def _emd_partial(a, b, cost, mass, max_iter, *, p=1.0):
    """Partial transport of mass ``mass`` for validated ``a``, ``b`` (as given, not
    normalised), ``cost`` (n, m) and ``max_iter``; see :func:`divergences.emd`."""
    from .exact import _solve, _warn

    total_a, total_b = math.fsum(a.tolist()), math.fsum(b.tolist())
    mass = check_mass(mass, total_a, total_b)
    n, m = cost.shape
    top = max(float(cost.max()), -float(cost.min()))
    barrier = 1.0 if top == 0.0 else (2.0 * top if top < 2.0**1022 else top * (1 + 2.0**-20))
    extended = np.zeros((n + 1, m + 1))
    extended[:n, :m] = cost
    extended[n, m] = barrier
    a_ext = np.append(a, max(total_b - mass, 0.0))
    b_ext = np.append(b, max(total_a - mass, 0.0))
    res = _solve(a_ext, b_ext, extended, max_iter, p=p, support=None, warn=False)
    del extended
    plan = res.plan[:n, :m]
    if scipy.sparse.issparse(plan):
        coo = plan.tocoo()
        total = math.fsum((coo.data * cost[coo.row, coo.col]).tolist())
        plan = scipy.sparse.csr_array(plan)
    else:
        plan = np.ascontiguousarray(plan)  # not a view keeping the extended plan alive
        total = math.fsum((plan * cost).ravel().tolist())
    f_ext, g_ext = res.potentials
    f = np.minimum(f_ext[:n] + g_ext[m], 0.0)  # <= 0 up to rounding: clipped
    g = np.minimum(g_ext[:m] + f_ext[n], 0.0)
    root = total if p == 1 else max(total, 0.0) ** (1.0 / p)
    res = dataclasses.replace(res, cost=total, distance=root, plan=plan, potentials=(f, g))
    _warn(res, max_iter, stacklevel=4)
    return res


def _transport_partial(x, y, a, b, p, metric, method, reg, mass, options):
    """:func:`divergences.transport` with ``mass=``: partial transport between point sets,
    weights as given (default ``1/n`` each, total mass 1 on each side), exact solver."""
    from ._kernels.cost import MINKOWSKI
    from ._metrics import ground_costs

    x, y, a, b = check_point_sets(x, y, a, b)
    p = check_p(p)
    code = metric_code(metric)
    method = check_choice(method, "method", ("auto", "closed_form", "exact", "sinkhorn"))
    if method not in ("auto", "exact") or reg is not None:
        raise ValueError(f"mass= (partial transport) is solved exactly: use method='exact' "
                         f"(or 'auto') without reg, not method={method!r}")
    q = check_minkowski_order(options.pop("q", None), code == MINKOWSKI)
    max_iter = check_positive_int(options.pop("max_iter", 10_000_000), "max_iter")
    check_no_options(options, "exact")
    cost = ground_costs(x, y, code, q, p)
    return _emd_partial(a, b, cost, mass, max_iter, p=p)
