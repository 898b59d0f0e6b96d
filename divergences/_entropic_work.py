"""The working state of one entropic solve, shared by :mod:`divergences._entropic_solve` (the
alternating iterations) and :mod:`divergences._entropic_symmetric` (the averaged ones): the
buffers and controller state of a solve (:class:`_Work`), the passes for one chunk of rows
or for chunks in threads, the sizing of compiled blocks, and the raw fields of a result.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from ._kernels import sinkhorn as _k
from ._kernels import sinkhorn_log as _log
from ._kernels import sinkhorn_scaling as _scaling
from ._kernels.sinkhorn_log import soft_transform
from ._log_threads import exact_step_threads
from ._thread_ranges import run_in_ranges
from ._unbalanced import damping, relaxed_stats, targets

#: marginal error ending a non-final epsilon-scaling stage.
STAGE_TOL = 1e-2
#: scalings are absorbed into the potentials outside [1/BIG, BIG].
BIG = 1e10
#: problems with fewer than this many cost entries run on one thread (the per-iteration
#: synchronisation of parallel sweeps costs more than it saves).
SERIAL_BELOW = 1 << 17
#: the iterations run in compiled blocks of about this many seconds; between blocks the
#: driver is back in Python, where Ctrl-C (SIGINT) raises KeyboardInterrupt.
BLOCK_S = 0.1
#: cost entries swept by the first block (then sized by the measured speed).
FIRST_BLOCK = 1 << 22


def _chunks(n, m):
    """Row chunks (threads) of the sweeps: one below :data:`SERIAL_BELOW` cost entries."""
    return 1 if n * m < SERIAL_BELOW else max(1, min(numba.get_num_threads(), n))


def _logs(w):
    return np.log(w, where=w > 0, out=np.full(w.shape, -np.inf))


class _Blocks:
    """Iterations per compiled block, adapted so that a block takes about :data:`BLOCK_S`."""

    def __init__(self, entries):
        self.size = max(1, FIRST_BLOCK // max(entries, 1))

    def run(self, block, args, it, max_iter):
        """``block(*args, it, stop)`` for the next block; returns its ``(status, it)``."""
        t0 = time.perf_counter()
        status, new_it = block(*args, it, min(max_iter, it + self.size))
        dt, done = time.perf_counter() - t0, new_it - it
        if done > 0:
            rate = done / max(dt, 1e-9)
            self.size = int(max(1, min(rate * BLOCK_S, 4 * self.size)))
        return status, new_it


def _scaling_block_threads(K, a, b, at, bt, u, v, u2, v2, parts, sw, big, st, target, marg,
                           unbal, errs, counts, it, stop):
    """:func:`divergences._kernels.sinkhorn.scaling_block` with the row chunks in parallel
    (:func:`divergences._kernels.sinkhorn_scaling.scaling_sweep`): the loop in Python, two
    compiled calls per iteration (about 10 us), so that no compiled caller generates the
    parallel sweep's code again (a ``prange`` sweep inside the compiled block loop took
    about 3 s of a first call)."""
    while it < stop:
        _scaling.scaling_sweep(K, a, at, u, v, u2, parts, sw, big, st[_k.OMEGA], marg[0],
                               errs, counts)
        it += 1
        status = _k.finish_iteration(b, bt, u, v, u2, v2, parts, errs, counts, big, st,
                                     target, marg, unbal, a, at)
        if status != _k.CONTINUE:
            return status, it
    return _k.BLOCK_END, it


def _hard_init_serial(geom, a, b, f, g, parts, cbuf):
    """:func:`divergences._kernels.sinkhorn_log.hard_init` on one thread: in NumPy for dense
    costs (the same minima, nothing to compile: the compiled loop was 0.3 s of a first
    call; one chunk of rows is at most 2^17 entries, or one of the concurrent symmetric
    solves of :func:`divergences.sinkhorn_divergence`, where NumPy's two passes cost about
    0.5 ms at 600 points), compiled for the online geometry."""
    if len(geom) != 1:
        _log.min_rows(geom, a, b, f, parts[0], cbuf[0], 0, a.shape[0])
        np.min(parts, axis=0, out=g)
        return
    C = geom[0]
    pa, pb = a > 0.0, b > 0.0
    np.min(C if pb.all() else C[:, pb], axis=1, out=f)
    if pa.all():
        np.min(C - f[:, None], axis=0, out=g)
    else:
        np.min(C[pa] - f[pa, None], axis=0, out=g)


def _build_kernel_serial(C, f, g, la, lb, eps, K):
    _scaling.kernel_rows(C, f, g / eps + lb, la, 1.0 / eps, None, K, 0, K.shape[0])


def _scaled_plan_serial(K, C, u, v, P, parts, r):
    return _scaling.plan_rows(K, C, u, v, P, parts[0], r, 0, K.shape[0])


def _sweeps(nch):
    """``(hard_init, build_kernel, scaled_plan, par)`` for ``nch`` chunks: the passes over
    chunks of rows in threads, or for one chunk the same row loops called directly;
    ``par`` (``None`` for one chunk, else ``True``) chooses the block loops: the compiled
    one-thread kernels, or the Python loops around threaded sweeps and passes."""
    if nch == 1:
        return _hard_init_serial, _build_kernel_serial, _scaled_plan_serial, None
    return _log.hard_init, _scaling.build_kernel, _scaling.scaled_plan, True


class _Work:
    """The arrays of one solve (buffers of the sweeps, scalings, controller state)."""

    def __init__(self, geom, a, b, nch, rho=None):
        n, m = a.shape[0], b.shape[0]
        self.hard_init, self.build_kernel, self.scaled_plan, self.par = _sweeps(nch)
        self.dense = len(geom) == 1
        self.a, self.b, self.rho = a, b, rho
        # the kernels' marginal description: damping of each side, weight of each side's
        # error (1 / mass; 1 for the balanced, normalised problem)
        self.marg = np.ones(4)
        # the translation step of unbalanced problems in the block kernels (None: pruned at
        # compile time, a balanced solve compiles none of it); not with both sides hard
        self.unbal = None if rho is None or rho == (np.inf, np.inf) else True
        if rho is not None:
            self.marg[2:] = 1.0 / float(a.sum()), 1.0 / float(b.sum())
        # targets of the kernel-domain sweeps: a, b (balanced) or a exp(-f / rho_a), ...
        self.at, self.bt = (a, b) if rho is None else (np.empty(n), np.empty(m))
        self.la, self.lb = _logs(a), _logs(b)
        self.f, self.g = np.zeros(n), np.zeros(m)
        self.parts, self.buf, self.cbuf = np.zeros((nch, m)), np.empty((nch, m)), \
            np.empty((nch, m))
        self.bad = np.zeros(m, dtype=np.bool_)
        # the kernel-domain blocks: one thread, or the row chunks in threads
        self.scaling_block = _k.scaling_block if nch == 1 else _scaling_block_threads
        self.errs, self.counts = np.zeros(nch), np.zeros((nch, 2), dtype=np.int64)
        self.sw = np.empty((nch, 2, _scaling.GROUP))  # the row sweeps' scratch
        self.st = np.zeros(_k.STATE)
        self.blocks = _Blocks(n * m)

    def stage(self, eps):
        """Set the damping of the stage at ``eps`` (1, 1 for a balanced problem) in
        ``marg``, which is returned."""
        self.marg[:2] = damping(self.rho, eps)
        return self.marg

    def exact_step(self, geom, a, b, eps, omega=1.0):
        step = _k.exact_step if self.par is None else exact_step_threads
        return step(geom, a, b, self.la, self.lb, self.f, self.g, eps, omega, self.marg,
                    self.parts, self.buf, self.cbuf, self.bad)

    def absorb(self, u, v, eps):
        """Move the scalings (and the translation accumulated by the kernel-domain blocks of
        an unbalanced problem) into the potentials."""
        shift = self.st[_k.SHIFT]
        if shift != 0.0:
            self.f += eps * shift
            self.g -= eps * shift
            self.st[_k.SHIFT] = 0.0
        # compiled, not NumPy: the same bits on every CPU (NumPy's SIMD log differs from
        # libm's by an ulp on some inputs, and the kernel fuses the multiply-add)
        _k.absorb(u, v, self.a, self.b, self.f, self.g, eps)

    def reset(self, u, v):
        """Scalings 1 on the supports of ``a`` and ``b``, 0 elsewhere."""
        u[...] = self.a > 0.0
        v[...] = self.b > 0.0

    def rebuild(self, C, eps, K, built=False):
        """``K`` = the plan of the potentials (``built``: it is already), and the targets of
        an unbalanced problem; False when a target left float64's range (the stage then goes
        on in the log domain)."""
        if not built:
            self.build_kernel(C, self.f, self.g, self.la, self.lb, eps, K)
        if self.rho is None:
            return True
        ok = targets(self.a, self.f, self.rho[0], self.at)
        return targets(self.b, self.g, self.rho[1], self.bt) and ok


def _dense_result(w, geom, K, u, v, reg, tol, it):
    """The fields of the plan ``diag(u) K diag(v)``, written into ``K`` with its statistics
    in one pass; the scalings are absorbed into ``w.f``, ``w.g`` (``K`` is then the plan of
    the potentials, ``u = v = 1``: a solve can go on from there)."""
    r = np.zeros(K.shape[0])
    cost = w.scaled_plan(K, geom[0], u, v, K, w.parts, r)
    w.absorb(u, v, reg)
    _zero_weight_potentials(geom, w.a, w.b, w.f, w.g, w.la, w.lb, reg, w.marg)
    return _fields(K, cost, w.f, w.g, r, w.parts.sum(axis=0), w.a, w.b, reg, tol, it, w.rho)


def _zero_weight_potentials(geom, a, b, f, g, la, lb, reg, lam=(1.0, 1.0)):
    """Potentials of zero-weight points: exact soft c-transforms (they carry no mass), damped
    by ``lam`` for an unbalanced problem."""
    zr, zc = np.flatnonzero(a == 0.0), np.flatnonzero(b == 0.0)
    for idx, pot, lw, out, columns, damp in ((zr, g, lb, f, False, lam[0]),
                                             (zc, f, la, g, True, lam[1])):
        if idx.shape[0] > 0:  # ranges of the indices in threads (many zeros: sparse images)
            run_in_ranges(_soft_range, (geom, pot, lw, reg, idx, out, columns), idx.shape[0],
                          per_thread=1)
            out[idx] *= damp


def _soft_range(geom, pot, lw, reg, idx, out, columns, lo, hi):
    """:func:`soft_transform` of the indices ``idx[lo:hi]``."""
    soft_transform(geom, pot, lw, reg, idx[lo:hi], out, columns)


def _fields(plan, cost, f, g, r, col, a, b, reg, tol, n_iter, rho=None):
    """The raw fields of one solve; ``r``/``col`` are the row/column sums of the plan.

    ``converged`` is whether the returned plan meets the stopping rule, ``marginal_error <=
    tol``, so that the flag, the warning and the returned numbers always agree (a budget
    that ran out just before the rule was met can end on an iterate that meets it).

    ``objective = sum_i f_i r_i + sum_j g_j col_j - reg (sum P - 1)`` equals
    ``<P, C> + reg KL(P | a b^T)`` for a plan of the form ``a_i b_j exp((f_i + g_j - C_ij)/reg)``
    (over the supports of ``a`` and ``b``, where the potentials of zero weights carry no mass).
    Unbalanced: :func:`divergences._unbalanced.relaxed_stats`.
    """
    if rho is None:
        pa, pb = a > 0, b > 0
        objective = f[pa] @ r[pa] + g[pb] @ col[pb] - reg * (r.sum() - 1.0)
        err = float(np.abs(r - a).sum() + np.abs(col - b).sum())
    else:
        objective, err = relaxed_stats(f, g, r, col, a, b, reg, rho)
    return dict(plan=plan, cost=float(cost), objective=float(objective), f=f, g=g,
                converged=err <= tol, n_iter=int(n_iter), marginal_error=err)
