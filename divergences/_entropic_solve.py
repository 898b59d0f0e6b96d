"""The solving layer under :mod:`divergences.entropic`: raw fields from the compiled kernels.

:func:`_solve` runs one problem (rescaling extreme costs, choosing the epsilon-scaling
stages and the thread count); :func:`_solve_shared` runs several targets on one shared
kernel. Both return dicts of plain fields that :mod:`divergences.entropic` wraps into
:class:`~divergences.result.TransportResult`. The algorithm is described in
:mod:`divergences.entropic`.
"""

from __future__ import annotations

import numba
import numpy as np

from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn_log import hard_init, soft_transform
from ._kernels.sinkhorn_scaling import build_kernel, scaled_plan

#: epsilon-scaling: ratio between stages, and marginal error ending a non-final stage.
EPS_RATIO = 0.1
STAGE_TOL = 1e-2
#: epsilon-scaling is used only when reg < SCALING_BELOW * range(C).
SCALING_BELOW = 1e-2
#: scalings are absorbed into the potentials outside [1/BIG, BIG].
BIG = 1e10
#: cap of the over-relaxation factor.
OMEGA_MAX = 1.95
#: problems with fewer than this many cost entries run on one thread (the per-iteration
#: synchronisation of parallel sweeps costs more than it saves).
SERIAL_BELOW = 1 << 17


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


def _solve(C, x, y, metric, q, p, online, a, b, reg, tol, max_iter, lo, hi, symmetric=False):
    """Run the kernel on one problem; returns a dict of the raw fields.

    Dense costs whose largest magnitude lies outside ``[1e-100, 1e100]`` are solved as
    ``(C / s, reg / s)`` with ``s = max|C|`` (the problem is scale invariant) and the
    results scaled back, so that neither ``C / reg`` nor the potentials overflow.
    """
    scale = 1.0
    span = _span(lo, hi, reg)
    if not online:
        cmax = max(abs(lo), abs(hi))
        if cmax > 0 and not 1e-100 <= cmax <= 1e100:
            scale = cmax
            C, reg, span = C / scale, reg / scale, span / scale
    if reg < 1e-250 * max(span, 1.0):
        raise ValueError(f"reg={reg * scale:g} is too small for costs of magnitude "
                         f"{span * scale:g}: reg / max(range(cost), 1) must be >= 1e-250")
    fields = _solve_scaled(C, x, y, metric, q, p, online, a, b, reg, tol, max_iter, span,
                           symmetric)
    if scale != 1.0:
        for key in ("cost", "objective"):
            fields[key] *= scale
        fields["f"] *= scale
        fields["g"] *= scale
    return fields


def _solve_scaled(C, x, y, metric, q, p, online, a, b, reg, tol, max_iter, span, symmetric):
    threads = numba.get_num_threads()
    nch = 1 if a.shape[0] * b.shape[0] < SERIAL_BELOW else max(1, min(threads, a.shape[0]))
    eps = _schedule(reg, span)
    numba.set_num_threads(nch)
    try:
        if symmetric:
            K, f, g, r, col, cost, it, conv, _ = _k.solve_symmetric(
                C, x, metric, q, p, online, a, eps, tol, STAGE_TOL, max_iter, nch)
        else:
            K, f, g, r, col, cost, it, conv, _ = _k.solve(
                C, x, y, metric, q, p, online, a, b, eps, tol, STAGE_TOL, max_iter, BIG, nch,
                OMEGA_MAX)
    finally:
        numba.set_num_threads(threads)
    return _fields(None if online else K, cost, f, g, r, col, a, b, reg, conv, it)


def _fields(plan, cost, f, g, r, col, a, b, reg, converged, n_iter):
    """The raw fields of one solve; ``r``/``col`` are the row/column sums of the plan.

    ``objective = sum_i f_i r_i + sum_j g_j col_j - reg (sum P - 1)`` equals
    ``<P, C> + reg KL(P | a b^T)`` for a plan of the form ``a_i b_j exp((f_i + g_j - C_ij)/reg)``
    (over the supports of ``a`` and ``b``, where the potentials of zero weights carry no mass).
    """
    pa, pb = a > 0, b > 0
    objective = f[pa] @ r[pa] + g[pb] @ col[pb] - reg * (r.sum() - 1.0)
    return dict(plan=plan, cost=float(cost), objective=float(objective), f=f, g=g,
                converged=bool(converged), n_iter=int(n_iter),
                marginal_error=float(np.abs(r - a).sum() + np.abs(col - b).sum()))


#: what the last batched :func:`sinkhorn` call did, for tests and benchmarks only (not
#: thread-safe): number of targets solved on the shared kernel, indices of those that fell
#: back to the single-problem solver.
_LAST_BATCH = {"shared": 0, "fallback": []}
#: the point-cloud arguments ``(x, y, metric, q, p, online)`` of a dense-cost solve.
_DENSE = (np.zeros((1, 1)), np.zeros((1, 1)), 0, 2.0, 1.0, False)


def _solve_batch(C, a, B, reg, tol, max_iter, lo, hi):
    """Targets ``B[:, k]`` (normalised columns): the shared kernel (:func:`_solve_shared`)
    where it serves, single solves otherwise; returns the list of raw fields and the plans
    stacked in one (K, n, m) array."""
    nt = B.shape[1]
    plans = np.empty((nt,) + C.shape)
    shared = _solve_shared(C, a, B, reg, tol, max_iter, lo, hi, plans)
    _LAST_BATCH["shared"], _LAST_BATCH["fallback"] = 0, []
    fields = []
    for k in range(nt):
        if shared is not None and shared[k] is not None:
            fields.append(shared[k])
            _LAST_BATCH["shared"] += 1
            continue
        if shared is not None:
            _LAST_BATCH["fallback"].append(k)
        fl = _solve(C, *_DENSE, a, np.ascontiguousarray(B[:, k]), reg, tol, max_iter, lo, hi)
        plans[k] = fl["plan"]  # solved alone: its own array copied in
        fields.append(fl)
    return fields, plans


def _solve_shared(C, a, B, reg, tol, max_iter, lo, hi, plans):
    """All targets ``B[:, k]`` on one shared kernel (:func:`_k.solve_multi`).

    The kernel is the plan of the mean target ``bbar`` at ``reg``: of the hard-init potentials
    when the single solver would run one epsilon stage (``reg >= SCALING_BELOW * range(C)``),
    else of the potentials of ``(a, bbar)`` solved by :func:`_solve` (with epsilon-scaling; the
    kernel then serves targets whose potentials stay within ``reg * log(BIG)`` of the mean's,
    e.g. nearby histograms; its iterations count in every target's ``n_iter`` and budget).
    Taken when there are at least 2 targets and ``max|C|`` lies in ``[1e-100, 1e100]`` (or
    ``C = 0``); returns ``None`` otherwise (or if the mean problem does not converge), else a list
    with, per target, the raw fields (as :func:`_solve`) or ``None`` where the shared kernel
    could not be used (scalings out of range, or not converged): the caller solves those alone.
    The plan of target ``k`` is written into ``plans[k]`` (preallocated (K, n, m): no copy when
    the result is stacked).
    """
    nt = B.shape[1]
    cmax = max(abs(lo), abs(hi))
    if nt < 2 or not (cmax == 0 or 1e-100 <= cmax <= 1e100):
        return None
    n, m = C.shape
    bbar = B.mean(axis=1)
    spent = 0  # iterations of the mean problem, counted in every target's n_iter
    lbar = np.log(bbar, where=bbar > 0, out=np.full(m, -np.inf))
    if reg >= SCALING_BELOW * _span(lo, hi, reg):
        f0, g0 = np.zeros(n), np.zeros(m)
        hard_init(C, *_DENSE, a, bbar, f0, g0, np.zeros((1, m)), np.empty((1, m)))
        Km = np.empty((n, m))
        build_kernel(C, f0, g0, np.log(a, where=a > 0, out=np.full(n, -np.inf)), lbar, reg, Km)
    else:  # the mean problem's own plan is the kernel of its potentials (absorbed)
        mean = _solve(C, *_DENSE, a, bbar, reg, tol, max_iter, lo, hi)
        spent = mean["n_iter"]
        if not mean["converged"] or spent >= max_iter:
            return None
        f0, g0, Km = mean["f"], mean["g"], mean["plan"]
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # numba serial: the BLAS products run in parallel
    try:
        U, V, n_iter, ok = _k.solve_multi(Km, a, np.ascontiguousarray(B.T), bbar, tol,
                                          max_iter - spent, BIG, OMEGA_MAX)
        out = [None if not ok[k] else
               _finish_shared(C, a, B[:, k], reg, Km, U[k], V[k], f0, g0, lbar, plans[k],
                              spent + int(n_iter[k])) for k in range(nt)]
    finally:
        numba.set_num_threads(threads)
    return out


def _finish_shared(C, a, b, reg, Km, u, v, f0, g0, lbar, P, n_iter):
    """Plan, potentials and statistics of one converged target of :func:`_solve_shared`."""
    la = np.log(a, where=a > 0, out=np.full(a.shape, -np.inf))
    lb = np.log(b, where=b > 0, out=np.full(b.shape, -np.inf))
    u, v = np.ascontiguousarray(u), np.ascontiguousarray(v)
    f, g = f0.copy(), g0.copy()
    pa, pb = a > 0, b > 0
    f[pa] += reg * np.log(u[pa])
    g[pb] += reg * (np.log(v[pb]) + lbar[pb] - lb[pb])
    zr, zc = np.nonzero(~pa)[0], np.nonzero(~pb)[0]
    if zr.shape[0] > 0:
        soft_transform(C, *_DENSE, g, lb, reg, zr, f, False)
    if zc.shape[0] > 0:
        soft_transform(C, *_DENSE, f, la, reg, zc, g, True)
    parts, r = np.zeros((1, b.shape[0])), np.zeros(a.shape)
    cost = scaled_plan(Km, C, u, v, P, parts, r)
    return _fields(P, cost, f, g, r, parts.sum(axis=0), a, b, reg, True, n_iter)
