r"""Gradients of transport costs with respect to the support points and the weights.

Envelope theorem: the optimal cost is a minimum over couplings of
:math:`\sum_{ij} P_{ij}\, c(x_i, y_j)` and a maximum over dual potentials of
:math:`\sum_i a_i f_i + \sum_j b_j g_j`; where the optimiser is unique the derivative of
the value is the partial derivative of the objective at the optimiser held fixed:

.. math:: \nabla_{x_i} \mathrm{OT} = \sum_j P_{ij}\, \nabla_1 c(x_i, y_j), \qquad
          \nabla_{y_j} \mathrm{OT} = \sum_i P_{ij}\, \nabla_2 c(x_i, y_j), \qquad
          \nabla_a \mathrm{OT} = f - \bar f, \quad \nabla_b \mathrm{OT} = g - \bar g,

the weights' gradients being the potentials projected onto the tangent space of the
simplex, :math:`\{v : \sum_i v_i = 0\}` (:math:`\bar f` is the plain mean of ``f``). The
entropic objective :math:`\langle P, C\rangle + \varepsilon\,\mathrm{KL}(P\|ab^T)` has the
same formulas with its own plan and potentials.

Everything here is numpy, in blocks of :data:`BLOCK` pair entries: no compilation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse

from ._kernels.cost import CHEBYSHEV, CITYBLOCK, EUCLIDEAN, MINKOWSKI, SQEUCLIDEAN
from ._validation import check_choice

__all__ = ["Gradients", "cost_gradient", "pair_gradients", "plan_gradients", "result_gradient"]

#: pair entries (times the dimension) handled per block, bounding the temporaries.
BLOCK = 1 << 20

WRT = ("x", "y", "a", "b")


def cost_gradient(u, metric, q, p):
    r""":math:`\nabla_u\, d(u)^p` for the rows ``u = x - y`` (shape (k, d)).

    Where :math:`d(u)^p` is not differentiable the element of the subdifferential of
    smallest norm is returned: 0 at :math:`u = 0` for ``p = 1``; for ``"cityblock"`` a
    zero coordinate contributes 0 (the midpoint of its two one-sided slopes); for
    ``"chebyshev"`` the slope is shared equally by the coordinates tied for the maximum.
    Written as :math:`p\, d^{p-1} \nabla d` with :math:`\nabla d` of norm about 1, so no
    intermediate overflows.
    """
    with np.errstate(under="ignore", over="ignore", invalid="ignore", divide="ignore"):
        if metric in (EUCLIDEAN, SQEUCLIDEAN):
            d = np.sqrt(np.einsum("kd,kd->k", u, u))
            unit = u / d[:, None]
            slope = p * d ** (p - 1.0) if metric == EUCLIDEAN else 2.0 * p * d ** (2.0 * p - 1.0)
        elif metric == CITYBLOCK:
            d = np.abs(u).sum(axis=1)
            unit = np.sign(u)
            slope = p * d ** (p - 1.0)
        elif metric == CHEBYSHEV:
            au = np.abs(u)
            d = au.max(axis=1)
            top = au == d[:, None]
            unit = np.sign(u) * top / top.sum(axis=1)[:, None]
            slope = p * d ** (p - 1.0)
        elif metric == MINKOWSKI:
            d = np.linalg.norm(u, ord=q, axis=1)
            unit = np.sign(u) * (np.abs(u) / d[:, None]) ** (q - 1.0)
            slope = p * d ** (p - 1.0)
        else:  # pragma: no cover - metric codes are validated upstream
            raise ValueError(f"unknown metric code {metric}")
        grad = slope[:, None] * unit
    grad[d == 0] = 0.0
    return grad


def pair_gradients(x, y, rows, cols, mass, metric, q, p):
    r"""``(gx, gy)``: :math:`\sum_j P_{ij}\nabla_1 c(x_i, y_j)` and
    :math:`\sum_i P_{ij}\nabla_2 c(x_i, y_j)` over the listed cells ``(rows, cols, mass)``
    of a plan, for :math:`c = d^p`."""
    n, m, dim = x.shape[0], y.shape[0], x.shape[1]
    gx = np.zeros((n, dim))
    gy = np.zeros((m, dim))
    step = max(1, BLOCK // dim)
    for lo in range(0, rows.shape[0], step):
        r, c, w = rows[lo:lo + step], cols[lo:lo + step], mass[lo:lo + step]
        g = w[:, None] * cost_gradient(x[r] - y[c], metric, q, p)
        for k in range(dim):
            gx[:, k] += np.bincount(r, g[:, k], minlength=n)
            gy[:, k] -= np.bincount(c, g[:, k], minlength=m)
    return gx, gy


def plan_gradients(x, y, plan, metric, q, p):
    """:func:`pair_gradients` for a whole plan: sparse (its stored cells), or dense (its
    non-zero cells when few, all cells by blocks of rows otherwise)."""
    if scipy.sparse.issparse(plan):
        coo = plan.tocoo()
        return pair_gradients(x, y, coo.row.astype(np.int64), coo.col.astype(np.int64),
                              coo.data, metric, q, p)
    plan = np.asarray(plan)
    n, m = plan.shape
    nnz = np.count_nonzero(plan)
    if nnz <= 4 * (n + m):  # exact plans: at most n + m - 1 cells
        rows, cols = np.nonzero(plan)
        return pair_gradients(x, y, rows, cols, plan[rows, cols], metric, q, p)
    gx = np.zeros((n, x.shape[1]))
    gy = np.zeros((m, x.shape[1]))
    step = max(1, BLOCK // (m * x.shape[1]))
    for lo in range(0, n, step):
        block = plan[lo:lo + step]
        rows, cols = np.divmod(np.arange(block.size), m)
        bx, by = pair_gradients(x[lo:lo + step], y, rows, cols, block.ravel(), metric, q, p)
        gx[lo:lo + step] = bx
        gy += by
    return gx, gy


def entropic_plan_rows(x, y, a, b, f, g, reg, metric, q, p, lo, hi):
    r"""Rows ``lo:hi`` of the entropic plan
    :math:`P_{ij} = a_i b_j e^{(f_i + g_j - C_{ij})/\varepsilon}`, recomputed from the
    potentials (online Sinkhorn results keep no plan)."""
    from ._metrics import ground_costs

    C = ground_costs(x[lo:hi], y, metric, q, p)
    with np.errstate(under="ignore"):
        return a[lo:hi, None] * b[None, :] * np.exp((f[lo:hi, None] + g[None, :] - C) / reg)


def _online_gradients(x, y, a, b, f, g, reg, metric, q, p):
    n, m, dim = x.shape[0], y.shape[0], x.shape[1]
    gx = np.zeros((n, dim))
    gy = np.zeros((m, dim))
    step = max(1, BLOCK // (m * dim))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        block = entropic_plan_rows(x, y, a, b, f, g, reg, metric, q, p, lo, hi)
        rows, cols = np.divmod(np.arange(block.size), m)
        bx, by = pair_gradients(x[lo:hi], y, rows, cols, block.ravel(), metric, q, p)
        gx[lo:hi] = bx
        gy += by
    return gx, gy


def centred(v):
    """``v`` minus its mean along the first axis: the projection onto the tangent space
    of the simplex, ``sum_i v_i = 0`` (per column for batched potentials)."""
    v = np.asarray(v, dtype=np.float64)
    return v - v.mean(axis=0)


def result_gradient(res, wrt):
    """The gradient of ``res.cost`` (``res.objective`` for entropic results) with respect
    to ``wrt``; see :meth:`divergences.TransportResult.gradient`."""
    wrt = check_choice(wrt, "wrt", WRT)
    if wrt in ("a", "b"):
        if res.reg_m is not None:
            raise ValueError(
                f"gradient(wrt={wrt!r}) of an unbalanced result (reg_m) is not implemented: "
                "the masses are free there, so the centred potentials are not the gradient; "
                "gradients with respect to the points ('x', 'y') are available")
        return centred(res.potentials[0 if wrt == "a" else 1])
    if res._support is None:
        raise ValueError(
            f"gradient(wrt={wrt!r}) needs the support points, and this result has none "
            "(emd or sinkhorn on a bare cost matrix, or a batched solve): solve with "
            "transport(x, y, ...) instead; for a cost matrix C the gradient of the cost "
            "with respect to C is the plan itself")
    x, y, metric, q = res._support[:4]
    if res.plan is None:  # online Sinkhorn: the plan is rebuilt from the potentials
        a, b = res._support[4:6]
        f, g = res.potentials
        gx, gy = _online_gradients(x, y, a, b, f, g, res.reg, metric, q, res.p)
    else:
        gx, gy = plan_gradients(x, y, res.plan, metric, q, res.p)
    return gx if wrt == "x" else gy


def divergence_gradients(x, y, a, b, ab, aa, bb, metric, q, p, reg):
    r"""The gradients of :math:`S_\varepsilon = \mathrm{OT}_\varepsilon(\alpha, \beta) -
    \frac12\mathrm{OT}_\varepsilon(\alpha, \alpha) - \frac12\mathrm{OT}_\varepsilon(\beta,
    \beta)` from the raw fields of the three solves, as a :class:`Gradients`.

    In the symmetric terms both arguments move: the gradient of
    :math:`\mathrm{OT}_\varepsilon(\alpha, \alpha)` in :math:`x` is the sum of its two
    partial gradients, and in :math:`a` the sum of its two potentials.
    """
    def grads(u, v, wu, wv, fields):
        if fields["plan"] is None:
            return _online_gradients(u, v, wu, wv, fields["f"], fields["g"], reg, metric, q, p)
        return plan_gradients(u, v, fields["plan"], metric, q, p)

    gx_ab, gy_ab = grads(x, y, a, b, ab)
    gx_aa, gy_aa = grads(x, x, a, a, aa)
    gx_bb, gy_bb = grads(y, y, b, b, bb)
    return Gradients(
        x=gx_ab - 0.5 * (gx_aa + gy_aa),
        y=gy_ab - 0.5 * (gx_bb + gy_bb),
        a=centred(ab["f"] - 0.5 * (aa["f"] + aa["g"])),
        b=centred(ab["g"] - 0.5 * (bb["f"] + bb["g"])),
    )


class Gradients(NamedTuple):
    """The gradients of a scalar returned with ``return_gradient=True``, with the names
    and conventions of :meth:`divergences.TransportResult.gradient`: ``x`` (n, d), ``y``
    (m, d) for the points, ``a`` (n,), ``b`` (m,) for the weights (tangent to the
    simplex: each sums to 0)."""

    x: np.ndarray
    y: np.ndarray
    a: np.ndarray
    b: np.ndarray
