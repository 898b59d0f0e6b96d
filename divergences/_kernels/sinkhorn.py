r"""Entropic optimal transport kernels: stabilised Sinkhorn, dense or online costs.

Conventions shared by every kernel here (trusted inputs, no validation):

* ``a`` (n,), ``b`` (m,) are normalised weights, zeros allowed; ``la = log(a)`` and
  ``lb = log(b)`` hold ``-inf`` on zero weights, so zero-weight points drop out of every
  exponential by IEEE arithmetic.
* The plan is :math:`P_{ij} = a_i b_j \exp((f_i + g_j - C_{ij})/\varepsilon)`.
* Costs come either from a dense matrix ``C`` (``online=False``) or are recomputed on the fly
  as ``d(x_i, y_j) ** p`` (``online=True``; ``C`` is then a dummy ``(1, 1)`` array).
* Column sums are accumulated row-parallel in per-chunk buffers ``parts`` of shape
  ``(nchunks, m)`` and reduced afterwards: the result does not depend on thread scheduling.

Two kinds of iterations:

* the *log pass* (:func:`log_row_pass`), exact for any ``eps``: a max-shifted log-sum-exp over
  each row gives the new ``f``, and the columns of the updated plan are accumulated in the
  same sweep; :func:`update_g` then makes the column marginals exact. One exponential per
  entry per iteration; used by the online mode and as the dense mode's fallback.
* the *scaling pass* (:func:`scaling_pass`) on a stored kernel
  ``K = exp((f + g - C)/eps + la + lb)`` (the plan at the last absorption), with scalings
  ``u, v`` near 1: a matrix-vector product per row, ``u = a / (K v)``, and in the same sweep
  over the row the column sums of ``K^T u``: one read of ``K`` and no exponential per
  iteration. Scalings leaving ``[1/big, big]`` are absorbed into ``f, g`` and ``K`` rebuilt.
"""

import numpy as np
from numba import prange

from .._jit import kernel
from .cost import ground_distance

#: largest exponent ever passed to exp (exp(700) ~ 1e304 is finite).
ZMAX = 700.0


@kernel
def _row_costs(x, y, metric, q, p, i, out):
    """``out[j] = d(x_i, y_j) ** p``."""
    for j in range(y.shape[0]):
        d = ground_distance(x[i], y[j], metric, q)
        out[j] = d if p == 1.0 else d**p


@kernel
def _cost_ij(C, x, y, metric, q, p, online, i, j):
    if not online:
        return C[i, j]
    d = ground_distance(x[i], y[j], metric, q)
    return d if p == 1.0 else d**p


@kernel(parallel=True)
def log_row_pass(C, x, y, metric, q, p, online, a, f, g, lb, eps, omega, parts, buf, cbuf):
    """One exact f-update; returns ``||P 1 - a||_1`` of the plan *before* the update.

    ``f`` moves ``omega`` times the step to the soft c-transform of ``g`` (``omega = 1``: onto
    it); ``parts`` receive the column sums (per chunk) of the plan *after* the update.
    """
    n, m, nch = a.shape[0], g.shape[0], parts.shape[0]
    inv = 1.0 / eps
    gl = np.empty(m)
    for j in range(m):
        gl[j] = g[j] * inv + lb[j]
    errs = np.zeros(nch)
    for c in prange(nch):
        acc, z, cr = parts[c], buf[c], cbuf[c]
        for j in range(m):
            acc[j] = 0.0
        e = 0.0
        for i in range(c * n // nch, (c + 1) * n // nch):
            if online:
                _row_costs(x, y, metric, q, p, i, cr)
                row = cr
            else:
                row = C[i]
            fi = f[i] * inv
            mx = -np.inf
            for j in range(m):
                zj = fi + gl[j] - row[j] * inv
                z[j] = zj
                mx = max(mx, zj)
            s = 0.0
            for j in range(m):
                ej = np.exp(z[j] - mx)
                z[j] = ej
                s += ej
            lse = mx + np.log(s)
            ai = a[i]
            if ai > 0.0:
                e += ai * abs(np.exp(min(lse, ZMAX)) - 1.0)
                w = ai / s if omega == 1.0 else ai * np.exp(min((1.0 - omega) * lse - np.log(s),
                                                               ZMAX))
                for j in range(m):
                    acc[j] += z[j] * w
            f[i] = f[i] - omega * eps * lse
        errs[c] = e
    return errs.sum()


@kernel(parallel=True)
def update_g(parts, b, lb, g, eps, omega, bad):
    """``g += omega * eps * log(b / colsum)``; returns ``(n_bad, col_err)``.

    Columns whose sum under/overflowed are flagged in ``bad``; ``col_err`` is
    ``||P^T 1 - b||_1`` after the update (0 for omega = 1).
    """
    nch, m = parts.shape
    cerrs = np.zeros(m)
    for j in prange(m):
        t = 0.0
        for c in range(nch):
            t += parts[c, j]
        bad[j] = False
        if b[j] > 0.0:
            if t > 0.0 and t < np.inf:
                step = lb[j] - np.log(t)
                g[j] += omega * eps * step
                if omega != 1.0:
                    cerrs[j] = abs(t * np.exp(min(omega * step, ZMAX)) - b[j])
            else:
                bad[j] = True
    return bad.sum(), cerrs.sum()


@kernel(parallel=True)
def col_lse(C, x, y, metric, q, p, online, f, la, eps, cols, g):
    """``g_j = -eps * logsumexp_i((f_i - C_ij)/eps + la_i)`` for ``j`` in ``cols`` (exact)."""
    n = f.shape[0]
    inv = 1.0 / eps
    for k in prange(cols.shape[0]):
        j = cols[k]
        mx = -np.inf
        for i in range(n):
            mx = max(mx, f[i] * inv + la[i] - _cost_ij(C, x, y, metric, q, p, online, i, j) * inv)
        s = 0.0
        for i in range(n):
            zi = f[i] * inv + la[i] - _cost_ij(C, x, y, metric, q, p, online, i, j) * inv
            s += np.exp(zi - mx)
        g[j] = -eps * (mx + np.log(s))


@kernel(parallel=True)
def row_lse(C, x, y, metric, q, p, online, g, lb, eps, rows, f):
    """``f_i = -eps * logsumexp_j((g_j - C_ij)/eps + lb_j)`` for ``i`` in ``rows`` (exact)."""
    m = g.shape[0]
    inv = 1.0 / eps
    for k in prange(rows.shape[0]):
        i = rows[k]
        mx = -np.inf
        for j in range(m):
            mx = max(mx, g[j] * inv + lb[j] - _cost_ij(C, x, y, metric, q, p, online, i, j) * inv)
        s = 0.0
        for j in range(m):
            zj = g[j] * inv + lb[j] - _cost_ij(C, x, y, metric, q, p, online, i, j) * inv
            s += np.exp(zj - mx)
        f[i] = -eps * (mx + np.log(s))


@kernel(parallel=True)
def build_kernel(C, f, g, la, lb, eps, K):
    """``K_ij = exp((f_i + g_j - C_ij)/eps + la_i + lb_j)``: the plan of the potentials."""
    n, m = K.shape
    inv = 1.0 / eps
    gl = np.empty(m)
    for j in range(m):
        gl[j] = g[j] * inv + lb[j]
    for i in prange(n):
        if la[i] == -np.inf:
            for j in range(m):
                K[i, j] = 0.0
            continue
        fi = f[i] * inv + la[i]
        for j in range(m):
            K[i, j] = np.exp(min(fi + gl[j] - C[i, j] * inv, ZMAX))


@kernel(parallel=True)
def scaling_pass(K, a, b, u, v, u_new, v_new, parts, big, omega):
    """One fused (over-relaxed) Sinkhorn iteration on the stored kernel ``K``.

    ``u_new = u (a / (u K v))**omega`` then ``v_new = v (b / (v K^T u_new))**omega``
    (``omega = 1``: plain Sinkhorn). Returns ``(row_err, col_err, n_nonfinite, n_outside)``:
    ``row_err = ||diag(u) K v - a||_1`` for the plan *before* the iteration and
    ``col_err = ||diag(v_new) K^T u_new - b||_1`` for the plan *after* it (0 for omega = 1).
    """
    n, m = K.shape
    nch = parts.shape[0]
    errs = np.zeros(nch)
    cerrs = np.zeros(m)
    flags = np.zeros(n + m, dtype=np.int64)  # 1: non-finite, 2: out of [1/big, big]
    small = 1.0 / big
    for c in prange(nch):
        acc = parts[c]
        for j in range(m):
            acc[j] = 0.0
        e = 0.0
        for i in range(c * n // nch, (c + 1) * n // nch):
            ai = a[i]
            if ai == 0.0:
                u_new[i] = 0.0
            else:
                row = K[i]
                s = 0.0
                for j in range(m):
                    s += row[j] * v[j]
                e += abs(u[i] * s - ai)
                un = ai / s if omega == 1.0 else u[i] * (ai / (u[i] * s)) ** omega
                u_new[i] = un
                if not (un < np.inf and un > 0.0):
                    flags[i] = 1
                else:
                    if un > big or un < small:
                        flags[i] = 2
                    for j in range(m):
                        acc[j] += row[j] * un
        errs[c] = e
    for j in prange(m):
        if b[j] == 0.0:
            v_new[j] = 0.0
        else:
            t = 0.0
            for c in range(nch):
                t += parts[c, j]
            if omega == 1.0:
                vn = b[j] / t
            else:
                vn = v[j] * (b[j] / (v[j] * t)) ** omega
                cerrs[j] = abs(vn * t - b[j])
            v_new[j] = vn
            if not (vn < np.inf and vn > 0.0):
                flags[n + j] = 1
            elif vn > big or vn < small:
                flags[n + j] = 2
    nonfinite = 0
    outside = 0
    for k in range(n + m):
        if flags[k] == 1:
            nonfinite += 1
        elif flags[k] == 2:
            outside += 1
    return errs.sum(), cerrs.sum(), nonfinite, outside


@kernel(parallel=True)
def plan_stats(K, C, x, y, metric, q, p, online, f, g, la, lb, eps, parts, cbuf, r):
    """Row sums ``r``, per-chunk column sums ``parts`` and ``<P, C>`` of the final plan.

    Dense: ``K`` is the plan. Online: the plan is recomputed entry by entry, never stored.
    """
    n, m, nch = r.shape[0], g.shape[0], parts.shape[0]
    inv = 1.0 / eps
    gl = np.empty(m)
    for j in range(m):
        gl[j] = g[j] * inv + lb[j]
    totals = np.zeros(nch)
    for c in prange(nch):
        acc, cr = parts[c], cbuf[c]
        for j in range(m):
            acc[j] = 0.0
        tc = 0.0
        for i in range(c * n // nch, (c + 1) * n // nch):
            s = 0.0
            if online:
                if la[i] > -np.inf:
                    _row_costs(x, y, metric, q, p, i, cr)
                    fi = f[i] * inv + la[i]
                    for j in range(m):
                        pij = np.exp(min(fi + gl[j] - cr[j] * inv, ZMAX))
                        s += pij
                        acc[j] += pij
                        tc += pij * cr[j]
            else:
                for j in range(m):
                    pij = K[i, j]
                    s += pij
                    acc[j] += pij
                    tc += pij * C[i, j]
            r[i] = s
        totals[c] = tc
    return totals.sum()


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
        col_lse(C, x, y, metric, q, p, online, f, la, eps, cols, g)
    return err, cerr


@kernel(parallel=True)
def hard_init(C, x, y, metric, q, p, online, a, b, f, g, parts, cbuf):
    """``f_i = min_j C_ij``, ``g_j = min_i (C_ij - f_i)`` over positive weights.

    Then ``f_i + g_j <= C_ij`` everywhere with equality somewhere in every row and column:
    no row or column of the first kernel underflows, whatever the offset of the costs.
    """
    n, m, nch = a.shape[0], b.shape[0], parts.shape[0]
    for i in prange(n):
        mn = np.inf
        for j in range(m):
            if b[j] > 0.0:
                mn = min(mn, _cost_ij(C, x, y, metric, q, p, online, i, j))
        f[i] = mn
    for c in prange(nch):
        acc, cr = parts[c], cbuf[c]
        for j in range(m):
            acc[j] = np.inf
        for i in range(c * n // nch, (c + 1) * n // nch):
            if a[i] > 0.0:
                if online:
                    _row_costs(x, y, metric, q, p, i, cr)
                else:
                    for j in range(m):
                        cr[j] = C[i, j]
                for j in range(m):
                    acc[j] = min(acc[j], cr[j] - f[i])
    for j in prange(m):
        mn = np.inf
        for c in range(nch):
            mn = min(mn, parts[c, j])
        g[j] = mn


@kernel(parallel=True)
def scale_plan(K, u, v):
    """``K <- diag(u) K diag(v)`` in place."""
    n, m = K.shape
    for i in prange(n):
        ui = u[i]
        for j in range(m):
            K[i, j] *= ui * v[j]


@kernel
def _reset(u, v, a, b):
    for i in range(a.shape[0]):
        u[i] = 1.0 if a[i] > 0.0 else 0.0
    for j in range(b.shape[0]):
        v[j] = 1.0 if b[j] > 0.0 else 0.0


@kernel
def _relax(st, err):
    """Over-relaxation control; ``st = [omega, k, best, omega_max, stall]``; returns omega.

    Plain iterations 10..20 measure the linear rate ``eta`` of Sinkhorn; then
    ``omega = 2 / (1 + sqrt(1 - eta))`` (Young's optimal SOR factor, as proposed for Sinkhorn
    by Thibault et al. 2021), capped at ``omega_max``. Relaxed iterations need not decrease
    the error monotonically; they are abandoned (plain iterations again, ``omega_max - 1``
    halved) when the error exceeds 100 times the best seen or the best has not improved for
    200 iterations.
    """
    st[1] += 1.0
    if st[0] == 1.0:
        if st[1] == 10.0:
            st[2] = err
        elif st[1] == 20.0:
            if err < st[2] and st[3] > 1.0:
                eta = (err / st[2]) ** 0.1
                st[0] = min(2.0 / (1.0 + np.sqrt(1.0 - eta)), st[3])
                st[2] = err
                st[4] = 0.0
            st[1] = 0.0
        return st[0]
    st[4] += 1.0
    if err < st[2]:
        st[2] = err
        st[4] = 0.0
    elif err > 100.0 * st[2] or st[4] > 200.0:
        st[0] = 1.0
        st[1] = 0.0
        st[3] = 1.0 + 0.5 * (st[3] - 1.0)
    return st[0]


@kernel
def solve(C, x, y, metric, q, p, online, a, b, eps_list, tol, stage_tol, max_iter, big, nch,
          omega_max):
    """epsilon-scaling Sinkhorn; see :func:`divergences.entropic.sinkhorn` for the rules.

    Returns ``(K, f, g, r, col, cost, n_iter, converged, err)``; ``K`` is the final plan
    (dense) or an empty array (online), ``r``/``col`` its row/column sums.
    """
    n, m = a.shape[0], b.shape[0]
    la, lb = np.log(a), np.log(b)
    f, g = np.zeros(n), np.zeros(m)
    parts, buf, cbuf = np.zeros((nch, m)), np.empty((nch, m)), np.empty((nch, m))
    bad = np.zeros(m, dtype=np.bool_)
    K = np.empty((n, m)) if not online else np.empty((0, 0))
    u, v = np.ones(n), np.ones(m)
    u2, v2 = np.empty(n), np.empty(m)
    f_old, g_old = np.empty(n), np.zeros(m)
    r = np.zeros(n)
    reg = eps_list[-1]
    n_st = eps_list.shape[0]
    it, reached, err, eps = 0, False, np.inf, eps_list[0]
    st = np.empty(5)
    hard_init(C, x, y, metric, q, p, online, a, b, f, g, parts, cbuf)
    for s in range(n_st):
        eps = eps_list[s]
        target = tol if s == n_st - 1 else max(tol, stage_tol)
        reached = False
        st[0], st[1], st[2], st[3], st[4] = 1.0, 0.0, np.inf, omega_max, 0.0
        omega = 1.0
        cerr = np.inf  # column error of the current plan (unknown before the first update)
        if online:  # log-domain iterations, costs recomputed on the fly
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
        else:  # scaling passes on the stabilised kernel, absorbed when they drift
            build_kernel(C, f, g, la, lb, eps, K)
            _reset(u, v, a, b)
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
            if s < n_st - 1 and reached:
                _absorb(u, v, a, b, f, g, eps)
        if not reached:
            break
    converged = reached and eps == reg
    if not online:
        if eps != reg:  # stopped in an intermediate stage: report the plan at reg
            _absorb(u, v, a, b, f, g, eps)
            build_kernel(C, f, g, la, lb, reg, K)
            _reset(u, v, a, b)
        scale_plan(K, u, v)
        _absorb(u, v, a, b, f, g, reg)
    # potentials of zero-weight points: exact soft c-transforms (they carry no mass)
    zr = np.nonzero(a == 0.0)[0]
    if zr.shape[0] > 0:
        row_lse(C, x, y, metric, q, p, online, g, lb, reg, zr, f)
    zc = np.nonzero(b == 0.0)[0]
    if zc.shape[0] > 0:
        col_lse(C, x, y, metric, q, p, online, f, la, reg, zc, g)
    cost = plan_stats(K, C, x, y, metric, q, p, online, f, g, la, lb, reg, parts, cbuf, r)
    col = np.zeros(m)
    for c in range(nch):
        for j in range(m):
            col[j] += parts[c, j]
    return K, f, g, r, col, cost, it, converged, err


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
    it, reached, err = 0, False, np.inf
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
    K = np.empty((n, n)) if not online else np.empty((0, 0))
    if not online:
        build_kernel(C, f, f, la, la, reg, K)
    cost = plan_stats(K, C, x, x, metric, q, p, online, f, f, la, la, reg, parts, cbuf, r)
    col = np.zeros(n)
    for c in range(nch):
        for j in range(n):
            col[j] += parts[c, j]
    return K, f, f.copy(), r, col, cost, it, converged, err
