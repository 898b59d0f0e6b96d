r"""``OT_eps(a, a)`` on a symmetric cost: the averaged update of Feydy et al. 2019, used by
:func:`divergences._entropic_solve._solve` for the symmetric terms of
:func:`divergences.sinkhorn_divergence` and for :func:`divergences.sinkhorn` of ``(a, a)``.

The update is ``f <- (f + T(f)) / 2`` with ``T(f)_i = -eps log sum_j a_j exp((f_j -
C_ij)/eps)``; the optimal potentials are ``f = g``. On a dense balanced problem it runs in
the kernel domain of :mod:`divergences._kernels.sinkhorn_scaling`: with the stored kernel
``K = exp((f0_i + f0_j - C_ij)/eps) a_i a_j`` and ``f = f0 + eps log u``, the averaged
update is

.. math:: u_i \leftarrow \sqrt{u_i \, a_i / (K u)_i}
          = u_i \left(\frac{a_i}{u_i (K u)_i}\right)^{1/2},

the over-relaxed row update of the alternating solver with ``omega = 1/2`` and ``v = u``:
the same compiled sweep (:func:`~divergences._kernels.sinkhorn_scaling.scaling_rows`, one
read of ``K`` and no exponential per iteration), nothing more to compile. The online
geometry, unbalanced problems, and a stage whose kernel underflows run the log-domain
blocks (:func:`divergences._kernels.sinkhorn.symmetric_block`).
"""

from __future__ import annotations

import numpy as np

from ._entropic_work import (
    BIG,
    STAGE_TOL,
    _dense_result,
    _fields,
    _Work,
    _zero_weight_potentials,
)
from ._kernels import sinkhorn as _k
from ._kernels import sinkhorn_log as _log
from ._kernels import sinkhorn_scaling as _scaling
from ._kernels.sinkhorn_log import online_plan_stats
from ._log_threads import symmetric_block_threads


def _run_symmetric(geom, a, b, eps_list, tol, max_iter, nch, rho=None):
    """``OT_eps(a, a)`` on a symmetric cost (the module's docstring), with epsilon-scaling;
    an unbalanced one needs ``rho_a == rho_b``."""
    n = a.shape[0]
    w = _Work(geom, a, a, nch, rho)
    f, st, la = w.f, w.st, w.la
    ft, gl = np.empty(n), np.empty(n)
    w.hard_init(geom, a, a, f, ft, w.parts, w.cbuf)
    f += ft
    f *= 0.5
    kernel = np.empty((n, n)) if w.dense and rho is None else None
    it, reached, u = 0, False, None
    block = _k.symmetric_block if w.par is None else symmetric_block_threads
    for s, eps in enumerate(eps_list):
        last = s == len(eps_list) - 1
        target = tol if last else max(tol, STAGE_TOL)
        marg = w.stage(eps)
        use_log = kernel is None
        if not use_log:
            reached, it, use_log, u = _kernel_stage(w, geom[0], kernel, eps, target, it,
                                                    max_iter, keep=last)
        if use_log:
            args = (geom, a, la, f, ft, gl, eps, marg, w.parts, w.buf, w.cbuf, st, target)
            reached = False
            while it < max_iter and not reached:
                status, it = w.blocks.run(block, args, it, max_iter)
                reached = status == _k.REACHED
        if not reached:
            break
    reg = eps_list[-1]
    if u is not None:  # the rule was met in the kernel domain: the plan it was measured on
        # (not one rebuilt from the absorbed potentials, which rounding can push over tol),
        # as the alternating solver returns it; both sides absorb u, so g = f
        w.g[...] = f
        return _dense_result(w, geom, kernel, u, u.copy(), reg, tol, it)
    if not (reached and st[_k.ERR] <= tol):
        # out of budget (see _run): with h = T_reg(f) the plan of (h, f) has rows exactly a,
        # so the plan of min(f, h), entrywise below it, has mass <= 1 (unbalanced: h is the
        # damped transform, the plan of min(f, h) is below the plan of (h, f)).
        ft[:] = f
        (_k.log_pass if w.par is None else _log.log_row_pass)(
            geom, a, ft, f, la, reg, 1.0, w.stage(reg)[0], w.parts, w.buf, w.cbuf)
        np.minimum(f, ft, out=f)
    # zero weights carry no mass: their potentials are the (damped) soft c-transforms of
    # the others' (the averaged iterates only tend to them; the kernel domain leaves them)
    ft[:] = f
    _zero_weight_potentials(geom, a, a, f, ft, la, la, reg, w.stage(reg))
    r = np.zeros(n)
    if len(geom) == 1:
        K = np.empty((n, n)) if kernel is None else kernel
        w.build_kernel(geom[0], f, f, la, la, reg, K)
        ones = np.ones(n)
        cost = w.scaled_plan(K, geom[0], ones, ones, K, w.parts, r)
    else:
        K = None
        cost = online_plan_stats(geom, f, f, la, la, reg, w.parts, w.cbuf, r)
    return _fields(K, cost, f, f.copy(), r, w.parts.sum(axis=0), a, a, reg, tol, it, rho)


def _kernel_stage(w, C, K, eps, target, it, max_iter, keep=False):
    """The averaged iterations of one stage at ``eps`` in the kernel domain, from and into
    the potentials ``w.f``: ``K`` (n, n) is built from them, the scalings are absorbed
    when they leave ``[1/BIG, BIG]`` (``K`` rebuilt) and at the end, unless the stage met
    its rule and ``keep``: then they are returned, with ``K``, as the plan that met it.
    Returns ``(reached, it, use_log, u)`` (``u`` None once absorbed); ``use_log``: a row
    of ``K u`` underflowed (the stage goes on in the log domain from the absorbed
    potentials). One iteration per compiled call: a Python loop, so Ctrl-C is seen at
    once."""
    a, f, st = w.a, w.f, w.st
    none = np.empty(0)  # the second side of absorb: nothing (u is both)
    u, u_new = (a > 0.0).astype(np.float64), np.empty(a.shape[0])
    w.build_kernel(C, f, f, w.la, w.la, eps, K)
    reached = use_log = False
    while it < max_iter:
        err, nonfinite, outside = _averaged_sweep(w, K, u, u_new)
        it += 1
        st[_k.ERR] = err
        if err <= target:
            reached = True
            break
        if nonfinite:
            use_log = True
            break
        u, u_new = u_new, u
        if outside:
            _k.absorb(u, none, a, none, f, none, eps)
            w.build_kernel(C, f, f, w.la, w.la, eps, K)
    if reached and keep:
        return reached, it, use_log, u
    _k.absorb(u, none, a, none, f, none, eps)
    return reached, it, use_log, None


def _averaged_sweep(w, K, u, u_new):
    """``u_new = sqrt(u a / (K u))`` (zero off the support of ``a``) over the row chunks of
    ``w``; returns ``(err, n_nonfinite, n_outside)``, ``err = 2 ||u (K u) - a||_1`` the
    error of both marginals of the current plan ``diag(u) K diag(u)``."""
    a = w.a
    if w.par is None:
        e, nonfinite, outside = _scaling.scaling_rows(K, a, a, u, u, u_new, w.parts[0],
                                                      w.sw[0], BIG, 0.5, 1.0, 0, a.shape[0])
        return 2.0 * e, nonfinite, outside
    _scaling.scaling_sweep(K, a, a, u, u, u_new, w.parts, w.sw, BIG, 0.5, 1.0, w.errs,
                           w.counts)
    return 2.0 * w.errs.sum(), w.counts[:, 0].sum(), w.counts[:, 1].sum()
