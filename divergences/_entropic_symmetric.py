"""``OT_eps(a, a)`` on a symmetric cost: the averaged update of Feydy et al. 2019, used by
:func:`divergences._entropic_solve._solve` for the symmetric terms of
:func:`divergences.sinkhorn_divergence` and for :func:`divergences.sinkhorn` of ``(a, a)``.
"""

from __future__ import annotations

import numpy as np

from ._entropic_work import STAGE_TOL, _fields, _Work
from ._kernels import sinkhorn as _k
from ._kernels import sinkhorn_log as _log
from ._kernels.sinkhorn_log import online_plan_stats
from ._log_threads import symmetric_block_threads


def _run_symmetric(geom, a, b, eps_list, tol, max_iter, nch, rho=None):
    """``OT_eps(a, a)`` on a symmetric cost: blocks of the averaged update
    (:func:`divergences._kernels.sinkhorn.symmetric_block`), with epsilon-scaling; an
    unbalanced one needs ``rho_a == rho_b``."""
    n = a.shape[0]
    w = _Work(geom, a, a, nch, rho)
    f, st, la = w.f, w.st, w.la
    ft, gl = np.empty(n), np.empty(n)
    w.hard_init(geom, a, a, f, ft, w.parts, w.cbuf)
    f += ft
    f *= 0.5
    it, reached = 0, False
    block = _k.symmetric_block if w.par is None else symmetric_block_threads
    for s, eps in enumerate(eps_list):
        target = tol if s == len(eps_list) - 1 else max(tol, STAGE_TOL)
        args = (geom, a, la, f, ft, gl, eps, w.stage(eps), w.parts, w.buf, w.cbuf, st, target)
        reached = False
        while it < max_iter and not reached:
            status, it = w.blocks.run(block, args, it, max_iter)
            reached = status == _k.REACHED
        if not reached:
            break
    reg = eps_list[-1]
    if not (reached and st[_k.ERR] <= tol):
        # out of budget (see _run): with h = T_reg(f) the plan of (h, f) has rows exactly a,
        # so the plan of min(f, h), entrywise below it, has mass <= 1 (unbalanced: h is the
        # damped transform, the plan of min(f, h) is below the plan of (h, f)).
        ft[:] = f
        (_k.log_pass if w.par is None else _log.log_row_pass)(
            geom, a, ft, f, la, reg, 1.0, w.stage(reg)[0], w.parts, w.buf, w.cbuf)
        np.minimum(f, ft, out=f)
    r = np.zeros(n)
    if len(geom) == 1:
        K = np.empty((n, n))
        w.build_kernel(geom[0], f, f, la, la, reg, K)
        ones = np.ones(n)
        cost = w.scaled_plan(K, geom[0], ones, ones, K, w.parts, r)
    else:
        K = None
        cost = online_plan_stats(geom, f, f, la, la, reg, w.parts, w.cbuf, r)
    return _fields(K, cost, f, f.copy(), r, w.parts.sum(axis=0), a, a, reg, tol, it, rho)


