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
from .cost import EUCLIDEAN, SQEUCLIDEAN, ground_distance

#: largest exponent ever passed to exp (exp(700) ~ 1e304 is finite).
ZMAX = 700.0


@kernel
def _row_costs(x, y, metric, q, p, i, out):
    """``out[j] = d(x_i, y_j) ** p``; (sq)euclidean summed coordinate-major so it vectorises,
    in the same order as :func:`cost_matrix`."""
    m, dim = y.shape
    if metric == SQEUCLIDEAN or metric == EUCLIDEAN:
        for j in range(m):
            out[j] = 0.0
        for k in range(dim):
            xk = x[i, k]
            for j in range(m):
                t = xk - y[j, k]
                out[j] += t * t
        if metric == EUCLIDEAN:
            for j in range(m):
                out[j] = np.sqrt(out[j])
    else:
        for j in range(m):
            out[j] = ground_distance(x[i], y[j], metric, q)
    if p != 1.0:
        for j in range(m):
            out[j] = out[j] ** p


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


@kernel
def update_g(parts, b, lb, g, eps, omega, bad):
    """``g += omega * eps * log(b / colsum)``; returns ``(n_bad, col_err)``.

    Columns whose sum under/overflowed are flagged in ``bad``; ``col_err`` is
    ``||P^T 1 - b||_1`` after the update (0 for omega = 1).
    """
    nch, m = parts.shape
    cerrs = np.zeros(m)
    for j in range(m):
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
    for j in range(m):  # O(m * nchunks): serial, one parallel region per iteration
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
def multi_pass(Km, a, Bt, U, Vt, Un, Vn, W, omega, active, big, rerr, cerr, flags):
    """One (over-relaxed) Sinkhorn iteration for ``nt`` targets sharing the kernel ``Km``.

    Targets are rows of ``Bt`` (nt, m); scalings ``U`` (nt, n), ``Vt`` (nt, m). The two
    products ``S = Vt Km^T`` and ``T = W Km`` are matrix-matrix products (BLAS: the kernel is
    streamed in cache-sized tiles for all targets at once), with
    ``Un = U (a / (U S))**omega`` and ``Vn = Vt (Bt / (Vt T))**omega`` (``W`` = ``Un``, zeroed
    for inactive or flagged targets). Per active target ``k``: ``rerr[k]`` is the row error
    of the plan before the iteration, ``cerr[k]`` the column error after it (0 for
    omega = 1), ``flags[k] = 1`` when a new scaling is not finite or leaves ``[1/big, big]``.
    """
    n, m = Km.shape
    nt = Bt.shape[0]
    small = 1.0 / big
    S = np.dot(Vt, Km.T)
    for k in range(nt):
        rerr[k] = 0.0
        cerr[k] = 0.0
        flags[k] = 0
        for i in range(n):
            W[k, i] = 0.0
        if not active[k]:
            continue
        ok = omega[k]
        for i in range(n):
            ai = a[i]
            if ai == 0.0:
                Un[k, i] = 0.0
                continue
            s, uik = S[k, i], U[k, i]
            rerr[k] += abs(uik * s - ai)
            un = ai / s if ok == 1.0 else uik * (ai / (uik * s)) ** ok
            Un[k, i] = un
            if not (un < np.inf and un > 0.0) or un > big or un < small:
                flags[k] = 1
        if flags[k] == 0:
            for i in range(n):
                W[k, i] = Un[k, i]
    T = np.dot(W, Km)
    for k in range(nt):
        if not active[k] or flags[k] != 0:
            continue
        for j in range(m):
            if Bt[k, j] == 0.0:
                Vn[k, j] = 0.0
                continue
            t, vkj = T[k, j], Vt[k, j]
            if omega[k] == 1.0:
                vn = Bt[k, j] / t
            else:
                vn = vkj * (Bt[k, j] / (vkj * t)) ** omega[k]
                cerr[k] += abs(vn * t - Bt[k, j])
            Vn[k, j] = vn
            if not (vn < np.inf and vn > 0.0) or vn > big or vn < small:
                flags[k] = 1


@kernel(parallel=True)
def shared_plan(Km, C, u, v, P, parts, r):
    """``P = diag(u) Km diag(v)`` with its row sums ``r``, per-chunk column sums ``parts``
    and ``<P, C>`` (returned), in one pass over ``Km`` and ``C``."""
    n, m = Km.shape
    nch = parts.shape[0]
    totals = np.zeros(nch)
    for c in prange(nch):
        acc = parts[c]
        for j in range(m):
            acc[j] = 0.0
        tc = 0.0
        for i in range(c * n // nch, (c + 1) * n // nch):
            ui = u[i]
            s = 0.0
            for j in range(m):
                pij = Km[i, j] * ui * v[j]
                P[i, j] = pij
                s += pij
                acc[j] += pij
                tc += pij * C[i, j]
            r[i] = s
        totals[c] = tc
    return totals.sum()
