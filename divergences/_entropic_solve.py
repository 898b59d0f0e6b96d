"""The solving layer under :mod:`divergences.entropic`: raw fields from the compiled kernels.

:func:`_solve` runs one problem (rescaling extreme costs, choosing the epsilon-scaling
stages and the thread count); several targets run on one shared
kernel (:mod:`divergences._entropic_batch`). Both return dicts of plain fields that
:mod:`divergences.entropic` wraps into :class:`~divergences.result.TransportResult`. The
algorithm is described in :mod:`divergences.entropic`.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from ._anderson import ANDERSON_MIN, PREDICTED, AndersonBlock, first_kernel
from ._kernels import sinkhorn as _k
from ._kernels import sinkhorn_log as _log
from ._kernels import sinkhorn_scaling as _scaling
from ._kernels.sinkhorn_log import online_plan_stats, soft_transform
from ._log_threads import (
    exact_step_threads,
    log_block_threads,
    symmetric_block_threads,
)
from ._thread_ranges import run_in_ranges
from ._unbalanced import constant_cost_solution, damping, relaxed_stats, targets

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
#: the iterations run in compiled blocks of about this many seconds; between blocks the
#: driver is back in Python, where Ctrl-C (SIGINT) raises KeyboardInterrupt.
BLOCK_S = 0.1
#: cost entries swept by the first block (then sized by the measured speed).
FIRST_BLOCK = 1 << 22


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
    the potentials overflow.

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
        if not 1e-100 <= cmax <= 1e100:
            scale = cmax
            geom, reg, span = (geom[0] / scale,), reg / scale, span / scale
            rho = None if rho is None else (rho[0] / scale, rho[1] / scale)
    if reg < 1e-250 * max(span, 1.0):
        raise ValueError(f"reg={reg * scale:g} is too small for costs spanning a range of "
                         f"{span * scale:g}: reg / max(range(cost), 1) must be >= 1e-250")
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
    if scale != 1.0:
        for key in ("cost", "objective"):
            fields[key] *= scale
        fields["f"] *= scale
        fields["g"] *= scale
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


def _chunks(n, m):
    """Row chunks (threads) of the sweeps: one below :data:`SERIAL_BELOW` cost entries."""
    return 1 if n * m < SERIAL_BELOW else max(1, min(numba.get_num_threads(), n))


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
    _log.min_rows(geom, a, b, f, parts[0], cbuf[0], 0, a.shape[0])
    np.min(parts, axis=0, out=g)


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


def _run(geom, a, b, eps_list, tol, max_iter, nch, rho=None, lo=None, first=None):
    """epsilon-scaling Sinkhorn (see :func:`divergences.entropic.sinkhorn` for the rules):
    kernel-domain blocks on the stored kernel (dense), log-domain blocks (online, after
    repeated underflows, or when an unbalanced target leaves float64's range).

    The first potentials: the row and column minima of the costs (:func:`hard_init`: no
    row or column of the first kernel underflows, whatever the costs' offset), or for a
    dense one-stage solve given the costs' minimum ``lo``, ``f = lo``, ``g = 0``: every
    entry of the first kernel is then in ``[exp(-range(C) / reg), 1] a_i b_j`` with
    ``range(C) / reg <= 1 / SCALING_BELOW = 100``, no underflow either, and one pass over
    the costs fewer (3 ms of a 2000 x 2000 solve). ``first``: the kernel of the first
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
    elif dense and len(eps_list) == 1 and lo is not None:
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
