"""Sinkhorn drivers: epsilon-scaling, over-relaxation, absorption; the sweeps they call are
in :mod:`.sinkhorn_log` (log domain, online costs; conventions described there) and
:mod:`.sinkhorn_scaling` (stored kernel).
"""

import numpy as np

from .._jit import kernel
from .sinkhorn_log import hard_init, log_row_pass, online_plan_stats, soft_transform, update_g
from .sinkhorn_scaling import build_kernel, multi_pass, scaled_plan, scaling_pass

__all__ = ["solve", "solve_multi", "solve_symmetric"]


@kernel
def _absorb(u, v, a, b, f, g, eps):
    for i in range(a.shape[0]):
        if a[i] > 0.0:
            f[i] += eps * np.log(u[i])
            u[i] = 1.0
    for j in range(b.shape[0]):
        if b[j] > 0.0:
            g[j] += eps * np.log(v[j])
            v[j] = 1.0


@kernel
def _exact_step(C, x, y, metric, q, p, online, a, b, la, lb, f, g, eps, omega, parts, buf,
                cbuf, bad):
    """f-update then g-update (log domain); returns (row error before, column error after)."""
    err = log_row_pass(C, x, y, metric, q, p, online, a, f, g, lb, eps, omega, parts, buf,
                       cbuf)
    nbad, cerr = update_g(parts, b, lb, g, eps, omega, bad)
    if nbad > 0:
        cols = np.nonzero(bad)[0]
        soft_transform(C, x, y, metric, q, p, online, f, la, eps, cols, g, True)
    return err, cerr


@kernel
def _reset(u, v, a, b):
    for i in range(a.shape[0]):
        u[i] = 1.0 if a[i] > 0.0 else 0.0
    for j in range(b.shape[0]):
        v[j] = 1.0 if b[j] > 0.0 else 0.0


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
#: current re-estimation window, error at the start of that window.
_OMEGA, _K, _BEST, _CAP, _STALL, _K_WINDOW, _ERR_WINDOW = 0, 1, 2, 3, 4, 5, 6


@kernel
def _relax_init(st, omega_max):
    """Reset the state of :func:`_relax` (slots: :data:`_OMEGA` ... :data:`_ERR_WINDOW`)."""
    st[_OMEGA], st[_K], st[_BEST], st[_CAP] = 1.0, 0.0, np.inf, omega_max
    st[_STALL], st[_K_WINDOW], st[_ERR_WINDOW] = 0.0, 0.0, np.inf


@kernel
def _relax(st, err):
    """Over-relaxation control (state: :func:`_relax_init`); returns omega.

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
    problems, uniform, Gaussian, 5-D and small clouds, reg = 2e-4..0.1 x max C: 10337
    iterations in all, 143641 plain; 32807 with the controller before the re-estimates.)
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
                st[_OMEGA] = min(omega, st[_CAP])
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
        _relax_init(st, 1.0 + 0.5 * (st[_CAP] - 1.0))
        return st[_OMEGA]
    if st[_K_WINDOW] == RELAXED_WINDOW:
        omega = st[_OMEGA]
        start = st[_ERR_WINDOW]
        rho = (err / start) ** (1.0 / RELAXED_WINDOW) if err < start else 1.0
        if rho < 1.0 and rho > omega - 0.9:
            eta = (rho + omega - 1.0) ** 2 / (rho * omega * omega)
            if eta < 1.0:
                raised = 2.0 / (1.0 + np.sqrt(1.0 - eta)) + OMEGA_BIAS
                st[_OMEGA] = max(omega, min(raised, st[_CAP]))
        st[_K_WINDOW], st[_ERR_WINDOW] = 0.0, err
    return st[_OMEGA]


@kernel
def solve(C, x, y, metric, q, p, online, a, b, eps_list, tol, stage_tol, max_iter, big, nch,
          omega_max):
    """epsilon-scaling Sinkhorn; see :func:`divergences.entropic.sinkhorn` for the rules.

    Returns ``(K, f, g, r, col, cost, n_iter, converged, err)``: ``K`` the final plan (dense
    mode; online: an empty array), ``r``/``col`` the row/column sums of the plan.
    """
    n, m = a.shape[0], b.shape[0]
    K = np.empty((0, 0) if online else (n, m))
    la, lb = np.log(a), np.log(b)
    f, g = np.zeros(n), np.zeros(m)
    parts, buf, cbuf = np.zeros((nch, m)), np.empty((nch, m)), np.empty((nch, m))
    bad = np.zeros(m, dtype=np.bool_)
    u, v = np.ones(n), np.ones(m)
    u2, v2 = np.empty(n), np.empty(m)
    f_old, g_old = np.empty(n), np.zeros(m)
    r = np.zeros(n)
    reg = eps_list[-1]
    n_st = eps_list.shape[0]
    it, reached, err, eps = 0, False, np.inf, eps_list[0]
    st = np.empty(7)
    hard_init(C, x, y, metric, q, p, online, a, b, f, g, parts, cbuf)
    for s in range(n_st):
        eps = eps_list[s]
        target = tol if s == n_st - 1 else max(tol, stage_tol)
        reached = False
        _relax_init(st, omega_max)
        omega = 1.0
        cerr = np.inf  # column error of the current plan (unknown before the first update)
        use_log = online
        if not online:  # scaling passes on the stabilised kernel, absorbed when they drift
            build_kernel(C, f, g, la, lb, eps, K)
            _reset(u, v, a, b)
            n_bad = 0
            while it < max_iter:
                rerr, cerr_new, nonfinite, outside = scaling_pass(K, a, b, u, v, u2, v2, parts,
                                                                  big, omega)
                it += 1
                err = rerr + cerr
                if err <= target:
                    reached = True
                    break
                if nonfinite > 0:  # a row or column underflowed: exact log step, rebuild
                    _absorb(u, v, a, b, f, g, eps)
                    n_bad += 1
                    if n_bad > 2:  # keeps happening: log-domain sweeps for this stage
                        use_log = True
                        break
                    _exact_step(C, x, y, metric, q, p, online, a, b, la, lb, f, g, eps, 1.0,
                                parts, buf, cbuf, bad)
                    build_kernel(C, f, g, la, lb, eps, K)
                    _reset(u, v, a, b)
                    cerr = 0.0
                    continue
                u, u2 = u2, u
                v, v2 = v2, v
                cerr = cerr_new
                omega = _relax(st, err)
                if outside > 0:
                    _absorb(u, v, a, b, f, g, eps)
                    build_kernel(C, f, g, la, lb, eps, K)
        if use_log:  # log-domain iterations (online: costs recomputed on the fly)
            while it < max_iter:
                f_old[:] = f
                g_old[:] = g
                rerr, cerr_new = _exact_step(C, x, y, metric, q, p, online, a, b, la, lb, f, g,
                                             eps, omega, parts, buf, cbuf, bad)
                it += 1
                err = rerr + cerr
                if err <= target:
                    f[:] = f_old
                    g[:] = g_old
                    reached = True
                    break
                cerr = cerr_new
                omega = _relax(st, err)
            if not online:  # back to the kernel form: K = plan, u = v = 1
                build_kernel(C, f, g, la, lb, eps, K)
                _reset(u, v, a, b)
        if not online and s < n_st - 1 and reached:
            _absorb(u, v, a, b, f, g, eps)
        if not reached:
            break
    converged = reached and eps == reg
    if not converged:
        # out of budget: the potentials may fit a coarser stage (or the last stage may have
        # barely started from them), and the plan exp((f + g - C)/reg) of them can carry a
        # mass of 1e300; one exact log-domain step at reg (beyond the budget) makes the
        # reported plan a Sinkhorn iterate at reg (columns exact, total mass 1).
        if not online:
            _absorb(u, v, a, b, f, g, eps)
        _exact_step(C, x, y, metric, q, p, online, a, b, la, lb, f, g, reg, 1.0, parts, buf,
                    cbuf, bad)
        if not online:
            build_kernel(C, f, g, la, lb, reg, K)
            _reset(u, v, a, b)
    cost = 0.0
    if not online:  # the plan diag(u) K diag(v), in place, and its statistics
        cost = scaled_plan(K, C, u, v, K, parts, r)
        _absorb(u, v, a, b, f, g, reg)
    # potentials of zero-weight points: exact soft c-transforms (they carry no mass)
    zr = np.nonzero(a == 0.0)[0]
    if zr.shape[0] > 0:
        soft_transform(C, x, y, metric, q, p, online, g, lb, reg, zr, f, False)
    zc = np.nonzero(b == 0.0)[0]
    if zc.shape[0] > 0:
        soft_transform(C, x, y, metric, q, p, online, f, la, reg, zc, g, True)
    if online:
        cost = online_plan_stats(C, x, y, metric, q, p, f, g, la, lb, reg, parts, cbuf, r)
    return K, f, g, r, parts.sum(axis=0), cost, it, converged, err


@kernel
def solve_symmetric(C, x, metric, q, p, online, a, eps_list, tol, stage_tol, max_iter, nch):
    """``OT_eps(a, a)`` on ``C = d(x_i, x_j)^p``: the averaged update ``f <- (f + T(f)) / 2``.

    ``T(f)_i = -eps logsumexp_j((f_j - C_ij)/eps + log a_j)``; the optimal potentials are
    ``f = g`` (Feydy et al. 2019). Stops when ``2 ||P 1 - a||_1 <= tol`` (both marginals:
    the plan of ``(f, f)`` is symmetric). Same returns as :func:`solve`, with ``g = f``.
    """
    n = a.shape[0]
    la = np.log(a)
    f = np.zeros(n)
    parts, buf, cbuf = np.zeros((nch, n)), np.empty((nch, n)), np.empty((nch, n))
    ft = np.empty(n)
    r = np.zeros(n)
    reg = eps_list[-1]
    n_st = eps_list.shape[0]
    it, reached, err, eps = 0, False, np.inf, eps_list[0]
    hard_init(C, x, x, metric, q, p, online, a, a, f, ft, parts, cbuf)
    for i in range(n):
        f[i] = 0.5 * (f[i] + ft[i])
    for s in range(n_st):
        eps = eps_list[s]
        target = tol if s == n_st - 1 else max(tol, stage_tol)
        reached = False
        while it < max_iter:
            ft[:] = f
            err = 2.0 * log_row_pass(C, x, x, metric, q, p, online, a, ft, f, la, eps, 1.0,
                                     parts, buf, cbuf)
            it += 1
            if err <= target:
                reached = True
                break
            for i in range(n):
                f[i] = 0.5 * (f[i] + ft[i])
        if not reached:
            break
    converged = reached and err <= tol
    if not converged:
        # out of budget (see solve): with h = T_reg(f) the plan of (h, f)
        # has rows exactly a, so the plan of min(f, h), entrywise below it, has mass <= 1.
        ft[:] = f
        log_row_pass(C, x, x, metric, q, p, online, a, ft, f, la, reg, 1.0, parts, buf, cbuf)
        for i in range(n):
            f[i] = min(f[i], ft[i])
    K = np.empty((0, 0) if online else (n, n))
    if online:
        cost = online_plan_stats(C, x, x, metric, q, p, f, f, la, la, reg, parts, cbuf, r)
    else:
        build_kernel(C, f, f, la, la, reg, K)
        ones = np.ones(n)
        cost = scaled_plan(K, C, ones, ones, K, parts, r)
    return K, f, f.copy(), r, parts.sum(axis=0), cost, it, converged, err


@kernel
def solve_multi(Km, a, Bt, bbar, tol, max_iter, big, omega_max):
    """``nt`` problems ``(a, Bt[k])`` on one shared kernel.

    ``Km = exp((f0 + g0 - C)/eps + log a + log bbar)`` is given by the caller: a plan for ``(a,
    bbar)``, ``bbar`` the mean target, at some potentials ``(f0, g0)``; the scalings ``U`` (nt,
    n) and ``V`` (nt, m) (``V = Bt / bbar`` at the start) are updated by :func:`multi_pass`
    with a per-target over-relaxation controller (as in :func:`solve`). There is no absorption:
    a target whose scalings leave ``[1/big, big]`` (or under/overflow), or that has not
    converged after ``max_iter`` iterations, is dropped (``ok[k] = False``) for the caller to
    solve alone. A converged target keeps the scalings at which its error was measured.

    Returns ``(U, V, n_iter, ok)``; the plan of target ``k`` is ``diag(U[k]) Km diag(V[k])``.
    """
    n, m = Km.shape
    nt = Bt.shape[0]
    U, V = np.empty((nt, n)), np.empty((nt, m))
    for k in range(nt):
        for i in range(n):
            U[k, i] = 1.0 if a[i] > 0.0 else 0.0
        for j in range(m):
            V[k, j] = Bt[k, j] / bbar[j] if Bt[k, j] > 0.0 else 0.0
    Un, Vn = U.copy(), V.copy()
    W = np.zeros((nt, n))
    omega = np.ones(nt)
    active = np.ones(nt, dtype=np.bool_)
    ok = np.zeros(nt, dtype=np.bool_)
    n_iter = np.zeros(nt, dtype=np.int64)
    st = np.zeros((nt, 7))
    cerr = np.full(nt, np.inf)
    rerr, cerr_new = np.zeros(nt), np.zeros(nt)
    flags = np.zeros(nt, dtype=np.int64)
    for k in range(nt):
        _relax_init(st[k], omega_max)
    it, n_active = 0, nt
    while it < max_iter and n_active > 0:
        multi_pass(Km, a, Bt, U, V, Un, Vn, W, omega, active, big, rerr, cerr_new, flags)
        it += 1
        for k in range(nt):
            if not active[k]:
                continue
            n_iter[k] = it
            err = rerr[k] + cerr[k]
            if err <= tol:
                ok[k] = True
                active[k] = False
                n_active -= 1
                continue
            if flags[k] != 0:
                active[k] = False
                n_active -= 1
                continue
            U[k] = Un[k]
            V[k] = Vn[k]
            cerr[k] = cerr_new[k]
            omega[k] = _relax(st[k], err)
    return U, V, n_iter, ok
