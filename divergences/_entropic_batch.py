"""Several targets ``b`` (m, K) of :func:`divergences.sinkhorn` on one shared kernel.

:func:`_solve_batch` runs the targets on the plan of the mean target (:func:`_solve_shared`,
two matrix-matrix products per iteration) and hands those the shared kernel cannot serve to
the single-problem solver :func:`divergences._entropic_solve._solve`. The algorithm is
described in :mod:`divergences.entropic`.
"""

from __future__ import annotations

import numba
import numpy as np

from . import _entropic_solve as _solver
from ._entropic_solve import SCALING_BELOW, _solve, _span
from ._entropic_work import (
    BIG,
    _Blocks,
    _chunks,
    _fields,
    _logs,
    _scaled_plan_serial,
    _sweeps,
    _zero_weight_potentials,
)
from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn_log import dense_geometry

#: what the last batched :func:`sinkhorn` call did, for tests and benchmarks only (not
#: thread-safe): number of targets solved on the shared kernel, indices of those that fell
#: back to the single-problem solver.
_LAST_BATCH = {"shared": 0, "fallback": []}


def _solve_batch(C, a, B, reg, tol, max_iter, lo, hi, rho=None):
    """Targets ``B[:, k]`` (normalised columns): the shared kernel (:func:`_solve_shared`)
    where it serves, single solves otherwise; returns the list of raw fields and the plans
    stacked in one (K, n, m) array. Unbalanced (``rho``): single solves."""
    nt = B.shape[1]
    plans = np.empty((nt,) + C.shape)
    shared = None if rho is not None else _solve_shared(C, a, B, reg, tol, max_iter, lo, hi,
                                                        plans)
    _LAST_BATCH["shared"], _LAST_BATCH["fallback"] = 0, []
    fields = []
    geom = dense_geometry(C)
    for k in range(nt):
        if shared is not None and shared[k] is not None:
            fields.append(shared[k])
            _LAST_BATCH["shared"] += 1
            continue
        if shared is not None:
            _LAST_BATCH["fallback"].append(k)
        fl = _solve(geom, a, np.ascontiguousarray(B[:, k]), reg, tol, max_iter, lo, hi,
                    rho=rho)
        plans[k] = fl["plan"]  # solved alone: its own array copied in
        fields.append(fl)
    return fields, plans


def _solve_shared(C, a, B, reg, tol, max_iter, lo, hi, plans):
    """All targets ``B[:, k]`` on one shared kernel (:func:`_k.multi_block`).

    The kernel is the plan of the mean target ``bbar`` at ``reg``: of the hard-init potentials
    when the single solver would run one epsilon stage (``reg >= SCALING_BELOW * range(C)``),
    else of the potentials of ``(a, bbar)`` solved by :func:`_solve` (with epsilon-scaling; the
    kernel then serves targets whose potentials stay within ``reg * log(BIG)`` of the mean's,
    e.g. nearby histograms; its iterations count in every target's ``n_iter`` and budget).
    Taken when there are at least 2 targets and ``max|C|`` lies in ``[1e-100, 1e100]``;
    returns ``None`` otherwise (or if the mean problem does not converge), else a list
    with, per target, the raw fields (as :func:`_solve`) or ``None`` where the shared kernel
    could not be used (scalings out of range, or not converged): the caller solves those alone.
    The plan of target ``k`` is written into ``plans[k]`` (preallocated (K, n, m): no copy when
    the result is stacked).
    """
    nt = B.shape[1]
    cmax = max(abs(lo), abs(hi))
    if nt < 2 or lo == hi or not 1e-100 <= cmax <= 1e100:
        return None
    n, m = C.shape
    bbar = B.mean(axis=1)
    spent = 0  # iterations of the mean problem, counted in every target's n_iter
    lbar = _logs(bbar)
    geom = dense_geometry(C)
    if reg >= SCALING_BELOW * _span(lo, hi, reg):
        f0, g0 = np.zeros(n), np.zeros(m)
        nch = _chunks(n, m)
        hard_init, build_kernel = _sweeps(nch)[:2]
        hard_init(geom, a, bbar, f0, g0, np.zeros((nch, m)), np.empty((nch, m)))
        Km = np.empty((n, m))
        build_kernel(C, f0, g0, _logs(a), lbar, reg, Km)
    else:  # the mean problem's own plan is the kernel of its potentials (absorbed)
        mean = _solve(geom, a, bbar, reg, tol, max_iter, lo, hi)
        spent = mean["n_iter"]
        if not mean["converged"] or spent >= max_iter:
            return None
        f0, g0, Km = mean["f"], mean["g"], mean["plan"]
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # numba serial: the BLAS products run in parallel
    try:
        ok = _multi(Km, a, np.ascontiguousarray(B.T), bbar, tol, max_iter - spent)
        U, V, n_iter, ok = ok
        out = [None if not ok[k] else
               _finish_shared(C, a, B[:, k], reg, tol, Km, U[k], V[k], f0, g0, lbar, plans[k],
                              spent + int(n_iter[k])) for k in range(nt)]
    finally:
        numba.set_num_threads(threads)
    return out


def _multi(Km, a, Bt, bbar, tol, max_iter):
    """Blocks of :func:`_k.multi_block` until every target converged, dropped out or ran
    out of budget; returns ``(U, V, n_iter, ok)``."""
    nt, (n, m) = Bt.shape[0], Km.shape
    U, V = np.empty((nt, n)), np.empty((nt, m))
    st = np.zeros((nt, _k.STATE))
    _k.multi_init(a, Bt, bbar, U, V, st, _solver.OMEGA_MAX)
    Un, Vn, W = U.copy(), V.copy(), np.zeros((nt, n))
    active, ok = np.ones(nt, dtype=np.bool_), np.zeros(nt, dtype=np.bool_)
    n_iter = np.zeros(nt, dtype=np.int64)
    rerr, cerr_new, flags = np.zeros(nt), np.zeros(nt), np.zeros(nt, dtype=np.int64)
    blocks = _Blocks(nt * n * m)
    args = (Km, a, Bt, U, V, Un, Vn, W, active, ok, n_iter, st, rerr, cerr_new, flags, BIG, tol)
    it = 0
    while it < max_iter and active.any():
        _, it = blocks.run(_multi_block, args, it, max_iter)
    return U, V, n_iter, ok


def _multi_block(*args):
    stop = args[-1]
    _k.multi_block(*args)
    return 0, stop


def _finish_shared(C, a, b, reg, tol, Km, u, v, f0, g0, lbar, P, n_iter):
    """Plan, potentials and statistics of one converged target of :func:`_solve_shared`."""
    la, lb = _logs(a), _logs(b)
    u, v = np.ascontiguousarray(u), np.ascontiguousarray(v)
    f, g = f0.copy(), g0.copy()
    pa, pb = a > 0, b > 0
    f[pa] += reg * np.log(u[pa])
    g[pb] += reg * (np.log(v[pb]) + lbar[pb] - lb[pb])
    _zero_weight_potentials(dense_geometry(C), a, b, f, g, la, lb, reg)
    parts, r = np.zeros((1, b.shape[0])), np.zeros(a.shape)
    cost = _scaled_plan_serial(Km, C, u, v, P, parts, r)
    return _fields(P, cost, f, g, r, parts.sum(axis=0), a, b, reg, tol, n_iter)
