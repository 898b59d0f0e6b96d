"""Sinkhorn iterations in blocks: over-relaxation control and the loops over iterations; the
sweeps they call are in :mod:`.sinkhorn_log` (log domain, online costs; conventions described
there) and :mod:`.sinkhorn_scaling` (stored kernel).

The epsilon stages, absorptions and fallbacks are driven from Python
(:mod:`divergences._entropic_solve`); each ``*_block`` kernel runs iterations ``it`` up to
``stop`` (or until the stopping rule, or an event the driver must handle) and returns
``(status, it)``. All the state lives in arrays (the potentials, the scalings and ``st``,
the controller state of :func:`_relax` with the column error and the last error), so
splitting the iterations into blocks gives the same iterates as one long loop, and the
driver returns to Python between blocks: Ctrl-C (SIGINT) is then honoured within a block.

``marg`` (float64, 4 entries) describes the marginals: ``lam_a, lam_b, wa, wb``, the damping
``rho / (rho + eps)`` of each side's update and the weight of each side's error. ``(1, 1, 1,
1)`` for the balanced problem (normalised weights); an unbalanced one has ``wa = 1 / sum(a)``,
``wb = 1 / sum(b)``: the stopping rule compares ``wa * row_err + wb * col_err`` with the
target, each side's residual relative to its own mass.

*Translation* (unbalanced problems only): the updates of an unbalanced problem leave the
mode ``(f + c, g - c)`` to decay by ``lam_a lam_b`` per iteration, a crawl when ``rho >> eps``
(1 - 1e-6 for ``rho = 1e5``, ``eps = 0.05``). After every iteration the potentials are moved
along it to the maximum of the dual, in closed form (Séjourné, Vialard, Peyré 2022,
"translation invariant Sinkhorn"): ``tau = log(A / B) / (1/rho_a + 1/rho_b)`` with ``A =
sum a exp(-f / rho_a)``, ``B = sum b exp(-g / rho_b)`` (``A = sum a`` on a hard side). The
plan does not change, only the first-order residuals. In the kernel domain ``tau / eps``
accumulates in ``st[SHIFT]`` and moves the targets ``at``, ``bt`` (bounded factors, the
scalings untouched); the driver adds ``eps * st[SHIFT]`` to ``f`` (and takes it from ``g``)
when it absorbs.
"""

import numpy as np

from .._jit import kernel
from .sinkhorn_log import ZMAX, log_rows, soft_transform, update_g
from .sinkhorn_scaling import (
    balanced_columns,
    damped_columns,
    multi_pass,
    scaling_rows,
)

__all__ = ["absorb", "exact_step", "log_block", "log_pass", "multi_block", "multi_init",
           "relax_init", "scaling_block", "symmetric_block"]


@kernel
def absorb(u, v, a, b, f, g, eps):
    """Move the scalings into the potentials: ``f += eps log u``, ``u = 1`` (and ``g``, ``v``)."""
    for i in range(a.shape[0]):
        if a[i] > 0.0:
            f[i] += eps * np.log(u[i])
            u[i] = 1.0
    for j in range(b.shape[0]):
        if b[j] > 0.0:
            g[j] += eps * np.log(v[j])
            v[j] = 1.0


@kernel
def log_pass(geom, a, f, g, lb, eps, omega, lam, parts, buf, cbuf):
    """:func:`.sinkhorn_log.log_row_pass` on one thread (``parts`` of shape ``(1, m)``):
    :func:`.sinkhorn_log.log_rows` over every row. The threaded pass is the Python one of
    :mod:`divergences._log_threads` (nothing parallel to compile)."""
    inv = 1.0 / eps
    return log_rows(geom, a, f, g * inv + lb, inv, eps, omega, lam, parts[0], buf[0],
                    cbuf[0], np.int64(0), a.shape[0])


@kernel
def exact_step(geom, a, b, la, lb, f, g, eps, omega, marg, parts, buf, cbuf, bad):
    """f-update then g-update (log domain), on one thread; returns (row error before, column
    error after), unweighted (``marg``: the module's docstring).
    :func:`divergences._log_threads.exact_step_threads` is the same with the f-update's row
    chunks in threads."""
    err = log_pass(geom, a, f, g, lb, eps, omega, marg[0], parts, buf, cbuf)
    nbad, cerr = update_g(parts, b, lb, g, eps, omega, marg[1], bad)
    if nbad > 0:
        cols = np.nonzero(bad)[0]
        soft_transform(geom, f, la, eps, cols, g, True)
        for j in cols:
            g[j] *= marg[1]
    return err, cerr


@kernel(inner=True)
def _copy(dst, src):
    """``dst[:] = src`` as a loop (a slice assignment compiles numba's shape-mismatch error
    formatting: about 3 s of a cold start)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


#: added to Young's factor: the rate measured early underestimates the asymptotic one, and
#: a factor below the optimum costs more iterations than one above it (on uniform, Gaussian
#: and 5-D clouds, reg = 0.005-0.5 x max C, 36 problems: 965 iterations in all with it,
#: 1106 without).
OMEGA_BIAS = 0.05


#: a first rate estimate above ETA_PLATEAU is an early plateau of the error (well-separated
#: clusters), not the asymptotic rate: Young's factor of it (the cap) was slower than plain
#: Sinkhorn there; OMEGA_PLATEAU instead, which the re-estimates raise if it is too small
#: (18 cluster problems, reg 0.003-0.05 x max C: 4856 iterations, 6243 with the cap, 11654
#: plain).
ETA_PLATEAU = 0.99
OMEGA_PLATEAU = 1.5
#: relaxed iterations per re-estimation of the plain rate (see :func:`_relax`).
RELAXED_WINDOW = 32.0


#: slots of the :func:`_relax` state: omega, plain-iteration counter, best (or reference)
#: error, cap of omega, relaxed iterations without improvement, relaxed iterations in the
#: current re-estimation window, error at the start of that window; then, for the block
#: kernels, the column error of the current plan (``CERR``) and the last measured marginal
#: error (``ERR``). ``STATE`` slots in all.
_OMEGA, _K, _BEST, _CAP, _STALL, _K_WINDOW, _ERR_WINDOW = 0, 1, 2, 3, 4, 5, 6
CERR, ERR, SHIFT, STATE = 7, 8, 9, 10
#: the slot of omega, for the block loop in Python (:mod:`divergences._entropic_solve`)
OMEGA = _OMEGA
#: statuses returned by the block kernels: stop reached at ``tol``; block done (``it ==
#: stop``); a scaling under/overflowed (the driver takes an exact log step); scalings left
#: ``[1/big, big]`` (the driver absorbs them into the potentials).
REACHED, BLOCK_END, NONFINITE, OUTSIDE = 0, 1, 2, 3


@kernel
def relax_init(st, omega_max):
    """Reset the state of :func:`_relax` (slots: :data:`_OMEGA` ... :data:`_ERR_WINDOW`;
    ``CERR`` and ``ERR`` are left alone)."""
    st[_OMEGA], st[_K], st[_BEST], st[_CAP] = 1.0, 0.0, np.inf, omega_max
    st[_STALL], st[_K_WINDOW], st[_ERR_WINDOW] = 0.0, 0.0, np.inf


@kernel
def _relax(st, err):
    """Over-relaxation control (state: :func:`relax_init`); returns omega.

    Plain iterations 6..10 measure the linear rate ``eta`` of Sinkhorn; then ``omega = 2 / (1 +
    sqrt(1 - eta)) + OMEGA_BIAS`` (Young's optimal SOR factor, as proposed for Sinkhorn by
    Thibault et al. 2021), capped at ``omega_max`` (:data:`OMEGA_PLATEAU` if ``eta >
    ETA_PLATEAU``). That early rate often underestimates the asymptotic one (small ``reg``:
    0.93 measured where the optimum factor is near 1.95), so every :data:`RELAXED_WINDOW`
    relaxed iterations the observed rate ``rho`` is compared with ``omega - 1`` (the rate at
    the optimal factor): if it is well above (by 0.1), the factor is too small and is raised to
    the one of the plain rate that SOR theory gives for ``rho`` at this ``omega``, ``eta = (rho
    + omega - 1)**2 / (rho omega**2)`` (Young's relation, for factors below the optimum).
    Relaxed iterations need not decrease the error monotonically; they are abandoned (plain
    iterations again, ``omega_max - 1`` halved) when the error exceeds 100 times the best seen
    or the best has not improved for 200 iterations. (``benchmarks/iterations_entropic.py``: 60
    problems, uniform, Gaussian, 5-D and small clouds, reg = 2e-4..0.1 x max C: 10340
    iterations in all, 143640 plain; 32807 with the controller before the re-estimates.)
    """
    st[_K] += 1.0
    if st[_OMEGA] == 1.0:
        if st[_K] == 6.0:
            st[_BEST] = err
        elif st[_K] == 10.0:
            if err < st[_BEST] and st[_CAP] > 1.0:
                eta = (err / st[_BEST]) ** 0.25
                omega = 2.0 / (1.0 + np.sqrt(1.0 - eta)) + OMEGA_BIAS
                omega = omega if eta <= ETA_PLATEAU else OMEGA_PLATEAU
                st[_OMEGA] = st[_CAP] if st[_CAP] < omega else omega  # min(omega, cap)
                st[_BEST] = err
                st[_STALL] = 0.0
                st[_K_WINDOW], st[_ERR_WINDOW] = 0.0, err
            st[_K] = 0.0
        return st[_OMEGA]
    st[_STALL] += 1.0
    st[_K_WINDOW] += 1.0
    if err < st[_BEST]:
        st[_BEST] = err
        st[_STALL] = 0.0
    elif err > 100.0 * st[_BEST] or st[_STALL] > 200.0:
        relax_init(st, 1.0 + 0.5 * (st[_CAP] - 1.0))
        return st[_OMEGA]
    if st[_K_WINDOW] == RELAXED_WINDOW:
        omega = st[_OMEGA]
        start = st[_ERR_WINDOW]
        rho = (err / start) ** (1.0 / RELAXED_WINDOW) if err < start else 1.0
        if rho < 1.0 and rho > omega - 0.9:
            t = rho + omega - 1.0
            eta = t * t / (rho * omega * omega)
            if eta < 1.0:
                raised = 2.0 / (1.0 + np.sqrt(1.0 - eta)) + OMEGA_BIAS
                # max(omega, min(raised, cap)), as selects: the builtins compile a
                # function each (the same selects, the same bits)
                capped = st[_CAP] if st[_CAP] < raised else raised
                st[_OMEGA] = capped if capped > omega else omega
        st[_K_WINDOW], st[_ERR_WINDOW] = 0.0, err
    return st[_OMEGA]


@kernel(inner=True)
def translate_targets(a, b, at, bt, u, v, parts, marg, st):
    """The translation of the module's docstring in the kernel domain, after an iteration
    (scalings ``u``, ``v``; ``parts``: the column sums of ``K^T u``); returns the column error
    of the plan after it."""
    ka, kb = 1.0 / marg[0] - 1.0, 1.0 / marg[1] - 1.0
    big_a = big_b = 0.0
    for i in range(a.shape[0]):
        if a[i] > 0.0:
            big_a += at[i] if ka == 0.0 else at[i] * u[i] ** -ka
    for j in range(b.shape[0]):
        if b[j] > 0.0:
            big_b += bt[j] if kb == 0.0 else bt[j] * v[j] ** -kb
    s = np.log(big_a / big_b) / (ka + kb)
    if not (s > -np.inf and s < np.inf):  # an empty side (underflow): no move
        s = 0.0
    fa, fb = np.exp(-s * ka), np.exp(s * kb)
    for i in range(a.shape[0]):
        at[i] *= fa
    for j in range(b.shape[0]):
        bt[j] *= fb
    st[SHIFT] += s
    inv_lb = 1.0 / marg[1]
    cerr = 0.0
    for j in range(b.shape[0]):
        if b[j] > 0.0:
            t = 0.0
            for c in range(parts.shape[0]):
                t += parts[c, j]
            cerr += abs(v[j] * t - b[j]) if kb == 0.0 else \
                abs(v[j] ** inv_lb * t - bt[j]) * (b[j] / bt[j])
    return cerr


@kernel
def log_translate(a, b, la, lb, f, g, g_old, parts, eps, marg):
    """The translation of the module's docstring in the log domain, after
    :func:`exact_step` (``g_old``: ``g`` before it; ``parts``: the column sums between its two
    halves); moves ``f`` and ``g``, returns the column error of the plan after it."""
    ka, kb = 1.0 / marg[0] - 1.0, 1.0 / marg[1] - 1.0
    inv = 1.0 / eps
    logs = np.empty(2)
    for side in range(2):  # log A and log B: max-shifted log-sum-exp
        w, lw, pot, k = (a, la, f, ka) if side == 0 else (b, lb, g, kb)
        mx = -np.inf
        for i in range(w.shape[0]):
            if w[i] > 0.0:
                mx = max(mx, lw[i] - k * pot[i] * inv)
        acc = 0.0
        for i in range(w.shape[0]):
            if w[i] > 0.0:
                acc += np.exp(lw[i] - k * pot[i] * inv - mx)
        logs[side] = mx + np.log(acc)
    s = (logs[0] - logs[1]) / (ka + kb)
    if not (s > -np.inf and s < np.inf):
        s = 0.0
    for i in range(f.shape[0]):
        f[i] += eps * s
    cerr = 0.0
    for j in range(g.shape[0]):
        moved = g[j] - g_old[j]  # the g-update of this iteration, before the translation
        g[j] -= eps * s
        if b[j] > 0.0:
            t = 0.0
            for c in range(parts.shape[0]):
                t += parts[c, j]
            if t > 0.0 and t < np.inf:
                z = np.log(t) + moved * inv - lb[j] + kb * g[j] * inv
                cerr += b[j] * abs(np.exp(min(z, ZMAX)) - 1.0)
            else:
                cerr += b[j]
    return cerr


#: :func:`finish_iteration`: go on with the next iteration.
CONTINUE = -1


@kernel(inline=True)
def finish_iteration(b, bt, u, v, u2, v2, parts, errs, counts, big, st, target, marg, unbal,
                     a, at):
    """The rest of a kernel-domain iteration after its row half (:func:`.scaling_sweep`:
    ``u2``, the column sums ``parts``, per chunk the row errors ``errs`` and the flag counts
    ``counts``): the column half, the stopping rule, the translation of unbalanced problems
    and the over-relaxation control. Returns a status of :func:`scaling_block` or
    :data:`CONTINUE`."""
    # (balanced: numba prunes the damped branch, one kernel compiled; a hard side of an
    # unbalanced problem has lam = 1 and bt = b)
    if unbal is None or marg[1] == 1.0:
        cerr_new, nonfinite, outside = balanced_columns(parts, b, v, v2, big, st[_OMEGA])
    else:
        cerr_new, nonfinite, outside = damped_columns(parts, b, bt, v, v2, big, st[_OMEGA],
                                                      marg[1])
    rerr = 0.0
    for c in range(errs.shape[0]):
        rerr += errs[c]
        nonfinite += counts[c, 0]
        outside += counts[c, 1]
    err = rerr * marg[2] + st[CERR] * marg[3]
    st[ERR] = err
    if err <= target:
        return REACHED
    if nonfinite > 0:
        return NONFINITE
    _copy(u, u2)
    _copy(v, v2)
    if unbal is not None:
        cerr_new = translate_targets(a, b, at, bt, u, v, parts, marg, st)
    st[CERR] = cerr_new
    _relax(st, err)
    return OUTSIDE if outside > 0 else CONTINUE


@kernel
def scaling_block(K, a, b, at, bt, u, v, u2, v2, parts, sw, big, st, target, marg, unbal,
                  errs, counts, it, stop):
    """Kernel-domain (over-relaxed) iterations on the stored kernel ``K`` from ``it`` to
    ``stop``, on one thread; omega and the column error come from ``st``. ``at``, ``bt``: the
    targets of :mod:`.sinkhorn_scaling` (``a``, ``b`` when balanced), ``marg``: the module's
    docstring; ``unbal``: ``True`` for the translation step of unbalanced problems, ``None``
    when balanced (numba then prunes it: a balanced solve does not compile it); ``sw``,
    ``errs``, ``counts``: the buffers of :func:`.scaling_sweep` for one chunk.

    Returns ``(REACHED, it)`` when the marginal error of the current plan ``diag(u) K
    diag(v)`` is ``<= target`` (``u``, ``v`` are the scalings it was measured at),
    ``(NONFINITE, it)`` when a new scaling is not finite or zero (``u``, ``v`` unchanged),
    ``(OUTSIDE, it)`` after an update that left some scaling outside ``[1/big, big]``
    (``u``, ``v`` updated: the driver absorbs them), else ``(BLOCK_END, stop)``.
    :func:`divergences._entropic_work._scaling_block_threads` is the same loop with the
    chunks in parallel.
    """
    while it < stop:  # one chunk: scaling_rows itself (each compiled layer costs time)
        errs[0], counts[0, 0], counts[0, 1] = scaling_rows(K, a, at, u, v, u2, parts[0], sw[0],
                                                            big, st[_OMEGA], marg[0],
                                                            np.int64(0), a.shape[0])
        it += 1
        status = finish_iteration(b, bt, u, v, u2, v2, parts, errs, counts, big, st, target,
                                  marg, unbal, a, at)
        if status != CONTINUE:
            return status, it
    return BLOCK_END, it


@kernel
def log_block(geom, a, b, la, lb, f, g, f_old, g_old, eps, marg, parts, buf, cbuf, bad, st,
              target, unbal, it, stop):
    """Log-domain (over-relaxed) iterations from ``it`` to ``stop`` (online mode, and the
    dense mode's fallback; ``unbal`` as in :func:`scaling_block`), on one thread. Returns
    ``(REACHED, it)`` with ``(f, g)`` the potentials whose plan met ``target``, else
    ``(BLOCK_END, stop)``. :func:`divergences._log_threads.log_block_threads` is the same
    loop in Python around the threaded pass."""
    while it < stop:
        _copy(f_old, f)
        _copy(g_old, g)
        rerr, cerr_new = exact_step(geom, a, b, la, lb, f, g, eps, st[_OMEGA], marg, parts, buf,
                                    cbuf, bad)
        it += 1
        err = rerr * marg[2] + st[CERR] * marg[3]
        st[ERR] = err
        if err <= target:
            _copy(f, f_old)
            _copy(g, g_old)
            return REACHED, it
        if unbal is not None:
            cerr_new = log_translate(a, b, la, lb, f, g, g_old, parts, eps, marg)
        st[CERR] = cerr_new
        _relax(st, err)
    return BLOCK_END, it


@kernel
def symmetric_block(geom, a, la, f, ft, gl, eps, marg, parts, buf, cbuf, st, target, it, stop):
    """Averaged iterations ``f <- (f + T(f)) / 2`` of ``OT_eps(a, a)`` from ``it`` to
    ``stop`` (unbalanced, both sides relaxed alike: ``f <- (f + lam T(f)) / 2``), on one
    thread.

    ``T(f)_i = -eps logsumexp_j((f_j - C_ij)/eps + log a_j)``; the optimal potentials are
    ``f = g`` (Feydy et al. 2019). The error is ``2 ||P 1 - a||_1`` (both marginals: the
    plan of ``(f, f)`` is symmetric). Returns ``(REACHED, it)`` with ``f`` the potential
    whose plan met ``target``, else ``(BLOCK_END, stop)``. ``gl`` (n,): scratch.
    :func:`divergences._log_threads.symmetric_block_threads` is the same loop in Python
    around the threaded pass.
    """
    n = a.shape[0]
    inv = 1.0 / eps
    while it < stop:
        _copy(ft, f)
        for i in range(n):  # a loop: an array expression compiles a NumPy-like kernel
            gl[i] = f[i] * inv + la[i]
        err = 2.0 * marg[2] * log_rows(geom, a, ft, gl, inv, eps, 1.0, marg[0], parts[0],
                                       buf[0], cbuf[0], np.int64(0), n)
        it += 1
        st[ERR] = err
        if err <= target:
            return REACHED, it
        for i in range(n):
            f[i] = 0.5 * (f[i] + ft[i])
    return BLOCK_END, it


@kernel
def multi_init(a, Bt, bbar, U, V, st, omega_max):
    """Initial scalings of :func:`multi_block`: ``U = 1`` on the support of ``a``, ``V =
    Bt / bbar`` on the support of each target; controller states reset."""
    nt, n, m = Bt.shape[0], a.shape[0], Bt.shape[1]
    for k in range(nt):
        for i in range(n):
            U[k, i] = 1.0 if a[i] > 0.0 else 0.0
        for j in range(m):
            V[k, j] = Bt[k, j] / bbar[j] if Bt[k, j] > 0.0 else 0.0
        relax_init(st[k], omega_max)
        st[k, CERR] = np.inf


@kernel
def multi_block(Km, a, Bt, U, V, Un, Vn, W, active, ok, n_iter, st, rerr, cerr_new, flags, big,
                tol, it, stop):
    """``nt`` problems ``(a, Bt[k])`` on one shared kernel, iterations ``it`` to ``stop``.

    ``Km = exp((f0 + g0 - C)/eps + log a + log bbar)`` is given by the caller: a plan for ``(a,
    bbar)``, ``bbar`` the mean target, at some potentials ``(f0, g0)``; the scalings ``U`` (nt,
    n) and ``V`` (nt, m) (from :func:`multi_init`) are updated by :func:`multi_pass` with a
    per-target over-relaxation controller (state ``st[k]``, as in :func:`scaling_block`).
    There is no absorption: a target whose scalings leave ``[1/big, big]`` (or under/overflow)
    is dropped (``active[k] = False``, ``ok[k] = False``) for the caller to solve alone, as is
    one still active when the budget runs out. A converged target (``ok[k]``) keeps the
    scalings at which its error was measured. The plan of target ``k`` is ``diag(U[k]) Km
    diag(V[k])``. Returns the number of active targets.
    """
    nt = Bt.shape[0]
    omega = np.empty(nt)
    n_active = 0
    for k in range(nt):
        omega[k] = st[k, _OMEGA]
        n_active += 1 if active[k] else 0
    while it < stop and n_active > 0:
        multi_pass(Km, a, Bt, U, V, Un, Vn, W, omega, active, big, rerr, cerr_new, flags)
        it += 1
        for k in range(nt):
            if not active[k]:
                continue
            n_iter[k] = it
            err = rerr[k] + st[k, CERR]
            if err <= tol:
                ok[k] = True
                active[k] = False
                n_active -= 1
                continue
            if flags[k] != 0:
                active[k] = False
                n_active -= 1
                continue
            _copy(U[k], Un[k])
            _copy(V[k], Vn[k])
            st[k, CERR] = cerr_new[k]
            omega[k] = _relax(st[k], err)
    return n_active
