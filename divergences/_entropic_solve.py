"""The solving layer under :mod:`divergences.entropic`: raw fields from the compiled kernels.

:func:`_solve` runs one problem (rescaling extreme costs, choosing the epsilon-scaling
stages and the thread count); several targets run on one shared
kernel (:mod:`divergences._entropic_batch`). Both return dicts of plain fields that
:mod:`divergences.entropic` wraps into :class:`~divergences.result.TransportResult`. The
algorithm is described in :mod:`divergences.entropic`.
"""

from __future__ import annotations

import numba
import numpy as np

from ._anderson import ANDERSON_MIN, PREDICTED, AndersonBlock, first_kernel
from ._entropic_symmetric import _run_symmetric
from ._entropic_work import (  # noqa: F401 (SERIAL_BELOW: read by the tests)
    BIG,
    SERIAL_BELOW,
    STAGE_TOL,
    _chunks,
    _dense_result,
    _fields,
    _logs,
    _scaling_block_threads,
    _Work,
    _zero_weight_potentials,
)
from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn_log import online_plan_stats
from ._log_threads import log_block_threads
from ._unbalanced import constant_cost_solution

#: epsilon-scaling: ratio between stages (the marginal error ending a non-final stage:
#: :data:`divergences._entropic_work.STAGE_TOL`).
EPS_RATIO = 0.1
#: epsilon-scaling is used only when reg < SCALING_BELOW * range(C).
SCALING_BELOW = 1e-2
#: cap of the over-relaxation factor.
OMEGA_MAX = 1.95
#: dense balanced problems with reg >= LARGE_REG * range(C) are solved in deviation form
#: (:func:`_near_independent`): the kernel exp((f + g - C) / reg) is then within
#: range(C) / reg < 1e-4 of 1, and float64 keeps its deviation from 1 only to an absolute
#: eps, so the usual iterates lose about reg eps / range(C) in relative precision (the
#: objective 2e-8 off at reg = 1e8 range(C), 7e-6 at 1e12, garbage from 1e16 on).
LARGE_REG = 2.0**14


def _schedule(reg, span):
    """epsilon-scaling stages: ``span, span*EPS_RATIO, ...`` while above ``reg / EPS_RATIO``,
    then ``reg``."""
    eps = []
    e = span
    if reg >= span * SCALING_BELOW:
        return np.array([reg])
    while e > reg / EPS_RATIO:
        eps.append(e)
        e *= EPS_RATIO
    eps.append(reg)
    return np.array(eps)


def _span(lo, hi, reg):
    """``range(C)`` floored at ``reg``; a range beyond float64 is capped (such costs are
    rescaled by ``max|C|`` first, which brings the range back under 2)."""
    return max(min(hi - lo, np.finfo(float).max), reg)


def _solve(geom, a, b, reg, tol, max_iter, lo, hi, symmetric=False, rho=None, first=None,
           serial=False):
    """Run one problem on the geometry ``geom`` (``(C,)`` dense or the online tuple of
    :func:`divergences._kernels.sinkhorn_log.online_geometry`); a dict of the raw fields.

    ``rho``: ``None`` (balanced, ``a`` and ``b`` normalised) or the pair ``(rho_a, rho_b)`` of
    an unbalanced problem (:mod:`divergences._unbalanced`; ``inf`` for a hard side).
    Constant costs (``lo == hi``) have an exact answer (``P = a b^T`` balanced) for every
    ``reg`` (:func:`_constant_cost`). Dense costs whose largest magnitude lies outside
    ``[1e-100, 1e100]`` are solved as ``(C / s, reg / s, rho / s)`` with ``s = max|C|`` (the
    problem is scale invariant) and the results scaled back, so that neither ``C / reg`` nor
    the potentials overflow (not when ``reg / s`` would overflow: tiny costs are then tiny
    against ``reg`` as they are).

    ``first``: the :class:`~divergences._anderson.FirstKernel` of :func:`_first_kernel`
    (built with the cost check), used when the solve is the one-stage, unscaled one it was
    built for. ``serial``: one chunk of rows whatever the size (the caller runs several
    solves at once, one per thread).
    """
    if lo == hi:
        return _constant_cost(lo, a, b, reg, tol, dense=len(geom) == 1, rho=rho)
    scale = 1.0
    span = _span(lo, hi, reg)
    if len(geom) == 1:
        cmax = max(abs(lo), abs(hi))
        # (tiny costs under a reg that reg / max|C| would overflow: C / reg is tiny, nothing
        # to rescale, and an infinite reg would make every potential NaN)
        if not 1e-100 <= cmax <= 1e100 and reg / cmax < np.inf:
            scale = cmax
            geom, reg, span = (geom[0] / scale,), reg / scale, span / scale
            rho = None if rho is None else (rho[0] / scale, rho[1] / scale)
    if reg < 1e-250 * max(span, 1.0):
        raise ValueError(f"reg={reg * scale:g} is too small for costs spanning a range of "
                         f"{span * scale:g}: reg / max(range(cost), 1) must be >= 1e-250")
    if len(geom) == 1 and rho is None and reg >= LARGE_REG * ((hi - lo) / scale):
        fields = _near_independent(geom[0], a, b, reg, tol, max_iter)
        if symmetric:  # f - g is a constant there: the symmetric pair, as _run_symmetric's
            fields["f"] = 0.5 * (fields["f"] + fields["g"])
            fields["g"] = fields["f"].copy()
        return _scaled_back(fields, scale)
    schedule = _schedule(reg, span)
    if scale != 1.0 or len(schedule) > 1:
        first = None
    threads = numba.get_num_threads()
    nch = 1 if serial else _chunks(a.shape[0], b.shape[0])
    numba.set_num_threads(nch)
    try:
        if symmetric:
            fields = _run_symmetric(geom, a, b, schedule, tol, max_iter, nch, rho)
        else:
            fields = _run(geom, a, b, schedule, tol, max_iter, nch, rho, lo / scale, first)
    finally:
        numba.set_num_threads(threads)
    return _scaled_back(fields, scale)


def _scaled_back(fields, scale):
    """The fields of a problem solved on ``C / scale``, in the units of ``C``."""
    if scale != 1.0:
        for key in ("cost", "objective"):
            fields[key] *= scale
        fields["f"] *= scale
        fields["g"] *= scale
    return fields


def _near_independent(C, a, b, reg, tol, max_iter):
    r"""Sinkhorn in deviation form, for ``reg >= LARGE_REG * range(C)`` (dense, balanced).

    With the plan :math:`P_{ij} = a_i b_j (1 + Z_{ij})`, :math:`Z_{ij} =
    \mathrm{expm1}((f_i + g_j - C_{ij}) / \varepsilon)`, the updates

    .. math:: f_i \leftarrow f_i - \varepsilon\,\mathrm{log1p}\big(\textstyle\sum_j
              b_j Z_{ij}\big), \qquad g_j \leftarrow g_j - \varepsilon\,
              \mathrm{log1p}\big(\textstyle\sum_i a_i Z_{ij}\big)

    are Sinkhorn's (for :math:`\sum a = \sum b = 1`) with every quantity a deviation
    from the independent coupling :math:`ab^T`, kept to float64's relative precision
    however small. They contract by about :math:`(\mathrm{range}(C) / 2\varepsilon)^2 \le
    2^{-30}` per iteration: two iterations from :math:`f = C b`, :math:`g = 0` (the
    first-order solution) reach float64's precision, and are always made. The objective is
    :math:`\langle P, C\rangle + \varepsilon \sum_{ij} a_i b_j \varphi(z_{ij})` with
    :math:`\varphi(z) = z e^z - \mathrm{expm1}(z)`, the KL term without the cancellation
    of ``reg * (sum P - 1)``. NumPy (a rare regime: nothing to compile); ``n m`` floats
    for ``Z``, as for the plan.
    """
    n, m = C.shape
    f, g = C @ b, np.zeros(m)
    Z = np.empty((n, m))

    def deviations():  # Z = expm1((f + g - C) / reg), in place
        np.add(f[:, None], g[None, :], out=Z)
        np.subtract(Z, C, out=Z)
        np.divide(Z, reg, out=Z)
        np.expm1(Z, out=Z)

    it = 0
    while True:
        deviations()
        row, col = Z @ b, a @ Z  # relative deviations of the marginals
        err = float(a @ np.abs(row) + b @ np.abs(col))
        if (err <= tol and it >= 2) or err == 0.0 or it >= max_iter:
            break  # (two iterations: to float64's precision, beyond tol, as cheap)
        f -= reg * np.log1p(row)  # the row update, then the column update on its plan
        deviations()
        g -= reg * np.log1p(a @ Z)
        it += 1
    D = f[:, None] + g[None, :] - C  # reg * z
    plan = np.multiply.outer(a, b)
    kl = np.einsum("ij,ij->", plan, D)  # reg * sum ab phi(z) = sum ab (D + Z (D - reg))
    D -= reg
    D *= Z
    kl += np.einsum("ij,ij->", plan, D)
    del D
    Z += 1.0
    plan *= Z
    cost = float(np.einsum("ij,ij->", plan, C))
    fields = _fields(plan, cost, f, g, a * (1.0 + row), b * (1.0 + col), a, b, reg, tol, it)
    fields["objective"] = cost + float(kl)
    fields["marginal_error"], fields["converged"] = err, err <= tol
    return fields


def _first_kernel(C, a, b, reg, rho):
    """For a dense unbalanced problem on the Anderson path (:data:`ANDERSON_MIN` entries
    or more), the cost check, the first kernel and the row half of the first iteration in
    one pass over ``C`` (:func:`divergences._anderson.first_kernel`): ``(FirstKernel, lo, hi,
    finite)``, the kernel dropped by :func:`_solve` if the costs turn out to need
    epsilon-scaling or rescaling. ``None`` for other problems (the caller then scans ``C``
    alone)."""
    if rho is None or rho == (np.inf, np.inf) or C.size < ANDERSON_MIN:
        return None
    return first_kernel(C, a, b, reg, rho, BIG, 1.0 / SCALING_BELOW, _chunks(*C.shape))


def _constant_cost(c, a, b, reg, tol, dense, rho=None):
    """The exact solution when every cost equals ``c``: ``P = a b^T`` (the KL term is 0 there,
    the linear term is ``c`` for every plan), ``f = c``, ``g = 0``; no iteration. Unbalanced:
    ``P = s a b^T`` and constant potentials (:func:`constant_cost_solution`)."""
    n, m = a.shape[0], b.shape[0]
    if rho is not None:
        s, f, g = constant_cost_solution(c, a, b, reg, rho)
        r, col = s * float(b.sum()) * a, s * float(a.sum()) * b
        plan = np.multiply.outer(r, b) / float(b.sum()) if dense else None
        return _fields(plan, c * float(r.sum()), np.full(n, f), np.full(m, g), r, col, a, b,
                       reg, tol, 0, rho)
    plan = np.multiply.outer(a, b) if dense else None
    r, col = (plan.sum(axis=1), plan.sum(axis=0)) if dense else (a.copy(), b.copy())
    fields = _fields(plan, c, np.full(n, c), np.zeros(m), r, col, a, b, reg, tol, 0)
    fields["objective"] = fields["cost"] = float(c)  # exact: not c * sum(P) rounded
    return fields


def _run(geom, a, b, eps_list, tol, max_iter, nch, rho=None, lo=None, first=None):
    """epsilon-scaling Sinkhorn (see :func:`divergences.entropic.sinkhorn` for the rules):
    kernel-domain blocks on the stored kernel (dense), log-domain blocks (online, after
    repeated underflows, or when an unbalanced target leaves float64's range).

    The first potentials: for a dense solve given the costs' minimum ``lo``, ``f = lo``,
    ``g = 0``: every entry of the first kernel is then in ``[exp(-range(C) / eps_0), 1]
    a_i b_j``, with ``range(C) / eps_0 <= 1 / SCALING_BELOW = 100`` for a one-stage solve
    and ``<= 1`` for epsilon-scaling (its first ``eps`` is ``span >= range(C)``): no
    underflow. Otherwise (online) the row and column minima of the costs (:func:`hard_init`:
    no row or column of the first kernel underflows, whatever the costs' offset). (The
    minima cost a pass over the costs, 1 ms of a 1000 x 1000 solve of about 35 ms with
    epsilon-scaling, and save no iteration: 74460 against 73441 iterations over 120
    problems, ``python benchmarks/iterations_start.py``.) ``first``: the kernel of the first
    stage, its potentials (``f`` the row minima, ``g = 0``) and the row half of the first
    iteration (:func:`_first_kernel`), handed to the Anderson block."""
    n, m = a.shape[0], b.shape[0]
    w = _Work(geom, a, b, nch, rho)
    # large unbalanced problems: Anderson mixing instead of over-relaxation, only without
    # epsilon-scaling (reg >= SCALING_BELOW * range(C)): below, its nonlinear regime made it
    # slower (reg = 3e-4..1e-3 x max C, reg_m = 1: up to 5x the iterations; _anderson)
    if w.unbal is not None and n * m >= ANDERSON_MIN and len(eps_list) == 1:
        w.scaling_block = AndersonBlock(b)
    f, g, st = w.f, w.g, w.st
    dense = w.dense
    K = np.empty((n, m)) if dense and first is None else None
    u, v, u2, v2 = np.ones(n), np.ones(m), np.empty(n), np.empty(m)
    if first is not None:
        K, f[...] = first.K, first.f
    elif dense and lo is not None:
        f[...] = lo
    else:
        w.hard_init(geom, a, b, f, g, w.parts, w.cbuf)
    it, reached, eps = 0, False, eps_list[0]
    for s, eps in enumerate(eps_list):
        target = tol if s == len(eps_list) - 1 else max(tol, STAGE_TOL)
        marg = w.stage(eps)
        _k.relax_init(st, OMEGA_MAX)
        st[_k.CERR] = np.inf  # column error of the current plan (unknown before an update)
        reached, use_log = False, not dense
        if dense:  # scaling blocks on the stabilised kernel, absorbed when they drift
            use_log = not w.rebuild(geom[0], eps, K, built=first is not None and s == 0)
            w.reset(u, v)
            if first is not None and s == 0 and not use_log:  # the first row half is done
                w.at[...], u2[...], w.parts[...] = first.at, first.u_new, first.parts
                w.errs[...], w.counts[...] = first.stats[:, 0], first.stats[:, 1:]
                w.scaling_block.swept = True
            n_bad = 0
            args = (K, a, b, w.at, w.bt, u, v, u2, v2, w.parts, w.sw, BIG, st, target, marg,
                    w.unbal, w.errs, w.counts)
            while it < max_iter and not use_log:
                status, it = w.blocks.run(w.scaling_block, args, it, max_iter)
                if status == _k.REACHED:
                    reached = True
                    break
                if status == PREDICTED:  # (one stage) the plan pass measures the plan
                    fields = _dense_result(w, geom, K, u, v, eps, tol, it)
                    if fields["converged"]:
                        return fields
                    # not met: K is the plan of the potentials now, with u = v = 1
                    use_log = not w.rebuild(geom[0], eps, K, built=True)
                    w.reset(u, v)
                    st[_k.CERR] = np.inf
                elif status == _k.NONFINITE:  # a row or column underflowed: exact log step
                    w.absorb(u, v, eps)
                    n_bad += 1
                    if n_bad > 2:  # keeps happening: log-domain blocks for this stage
                        use_log = True
                        break
                    w.exact_step(geom, a, b, eps)
                    use_log = not w.rebuild(geom[0], eps, K)
                    w.reset(u, v)
                    st[_k.CERR] = 0.0
                elif status == _k.OUTSIDE:
                    w.absorb(u, v, eps)
                    use_log = not w.rebuild(geom[0], eps, K)
        if use_log:  # log-domain iterations (online: costs recomputed on the fly)
            f_old, g_old = np.empty(n), np.empty(m)
            args = (geom, a, b, w.la, w.lb, f, g, f_old, g_old, eps, marg, w.parts, w.buf,
                    w.cbuf, w.bad, st, target, w.unbal)
            block = _k.log_block if w.par is None else log_block_threads
            while it < max_iter and not reached:
                status, it = w.blocks.run(block, args, it, max_iter)
                reached = status == _k.REACHED
            if dense:  # back to the kernel form: K = plan, u = v = 1
                w.rebuild(geom[0], eps, K)
                w.reset(u, v)
        if dense and s < len(eps_list) - 1 and reached:
            w.absorb(u, v, eps)
        if not reached:
            break
    reg = eps_list[-1]
    if not (reached and eps == reg):
        # out of budget: the potentials may fit a coarser stage (or the last stage may have
        # barely started from them), and the plan exp((f + g - C)/reg) of them can carry a
        # mass of 1e300; one exact log-domain step at reg (beyond the budget) makes the
        # reported plan a Sinkhorn iterate at reg (columns exact, total mass 1).
        if dense:
            w.absorb(u, v, eps)
        w.stage(reg)
        w.exact_step(geom, a, b, reg)
        if dense:
            w.rebuild(geom[0], reg, K)
            w.reset(u, v)
    if dense:
        return _dense_result(w, geom, K, u, v, reg, tol, it)
    r = np.zeros(n)
    _zero_weight_potentials(geom, a, b, f, g, w.la, w.lb, reg, w.marg)
    cost = online_plan_stats(geom, f, g, w.la, w.lb, reg, w.parts, w.cbuf, r)
    return _fields(K, cost, f, g, r, w.parts.sum(axis=0), a, b, reg, tol, it, rho)


