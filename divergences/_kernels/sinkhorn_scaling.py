r"""Kernel-domain Sinkhorn sweeps on a stored, stabilised kernel.

Conventions: :mod:`.sinkhorn_log`.

The dense solver stores ``K = exp((f + g - C)/eps + la + lb)``, the plan at the last
absorption of the scalings into the potentials, and iterates on scalings ``u, v`` near 1:
a matrix-vector product per row gives ``u = a / (K v)`` and, in the same sweep over the
rows, the column sums of ``K^T u``: one read of ``K`` and no exponential per iteration.
Rows are taken eight at a time, so each entry of ``v`` and of the column accumulators is
loaded once per eight rows (the sweep then runs at about the speed of one BLAS ``gemv``
instead of two). Scalings leaving ``[1/big, big]`` are absorbed into ``f, g`` by the driver
and ``K`` is rebuilt.

*Unbalanced problems* (KL-relaxed marginals, :mod:`divergences._unbalanced`): the same sweeps
with a damping exponent ``lam = rho / (rho + eps)`` per side (``lam = 1``: balanced, the
arithmetic unchanged) and the target ``at = a exp(-f0 / rho)`` of the potentials ``f0`` of the
stored kernel (computed by the driver at each absorption; ``at = a`` when balanced): the
update ``u = (at / (K v))**lam`` is the damped soft c-transform in the scaling variables. The
measured row error is the residual of the first-order condition ``r exp(f / rho) = a`` of the
plan's row sums ``r = u (K v)``, ``f = f0 + eps log u``: ``|u**(1/lam) (K v) - at| a / at``.
"""

import numpy as np
from numba import prange

from .._jit import kernel
from .._thread_ranges import chunk_rows, run_in_ranges, run_per_chunk
from .fastexp import exp_inline
from .scan import _row_range
from .sinkhorn_log import ZMAX

#: rows per step of the scaling sweep.
GROUP = 8


@kernel(inline=True)
def _kernel_row(C, fi, gl, la, inv, K, i):
    """Row ``i`` of :func:`build_kernel`, ``fi`` its potential."""
    m = K.shape[1]
    if la[i] == -np.inf:
        for j in range(m):
            K[i, j] = 0.0
        return
    e = fi * inv + la[i]
    for j in range(m):
        K[i, j] = exp_inline(min(e + gl[j] - C[i, j] * inv, ZMAX))


@kernel
def kernel_rows(C, f, gl, la, inv, first, K, lo, hi):
    """Rows ``lo .. hi-1`` of :func:`build_kernel` (``gl = g / eps + lb``, ``inv = 1 / eps``).

    ``first`` not None: the first kernel of an unbalanced solve (:func:`first_kernel_rows`),
    the tuple ``(ranges, limit, a, rho_a, lam, big, at, u_new, acc, stats)``; for each row,
    while it is in L1:

    * the cost check: its ``(min, max, z)`` into ``ranges[i]`` (:func:`.scan._row_range`:
      ``z`` is NaN iff the row holds a NaN or an infinity), read just before its
      exponentials (one read of ``C`` from memory);
    * ``f[i]`` = its minimum (no entry above ``a_i b_j exp(g_j / eps)``) and the target
      ``at[i] = a_i exp(-f_i / rho_a)`` (``rho_a = inf``: a hard side, ``at = a``);
    * the row half of the first iteration (scalings 1 on the supports: :func:`scaling_rows`
      with ``u = v = 1``): ``s = sum_j K_ij``, the new scaling ``(at_i / s)**lam`` into
      ``u_new[i]`` (:func:`_new_scaling`), its row error ``|s - at_i| a_i / at_i`` and flag
      counts added into ``stats``, ``u_new[i] K[i]`` added into ``acc`` (one read of ``K``
      fewer);
    * a row whose range exceeds ``limit * eps`` is left unbuilt (such costs need
      epsilon-scaling: the caller drops this kernel).

    The row half is written out here rather than calling :func:`scaling_rows` (whose eight
    row dot products serve rows streamed from memory): its code generated once more inside
    this kernel cost 0.8 s of a first call; this branch costs about 0.5 s (a first
    2000 x 2000 unbalanced call, empty cache: 3.6 -> 4.2 s; small problems never compile
    it)."""
    if first is None:
        for i in range(lo, hi):
            _kernel_row(C, f[i], gl, la, inv, K, i)
        return
    ranges, limit, a, rho_a, lam, big, at, u_new, acc, stats = first
    m = K.shape[1]
    for j in range(m):
        acc[j] = 0.0
    for i in range(lo, hi):
        rlo, rhi, z = _row_range(C[i])
        ranges[i, 0], ranges[i, 1], ranges[i, 2] = rlo, rhi, z
        f[i] = rlo
        ai = a[i]
        u_new[i] = at[i] = 0.0
        if (rhi - rlo) * inv > limit:
            continue
        _kernel_row(C, rlo, gl, la, inv, K, i)
        if ai > 0.0:
            ti = ai * np.exp(-rlo / rho_a)
            at[i] = ti
            s = 0.0
            for j in range(m):
                s += K[i, j]
            stats[0] += abs(s - ai) if lam == 1.0 else abs(s - ti) * (ai / ti)
            un, flag = _new_scaling(ai if lam == 1.0 else ti, 1.0, s, 1.0, big, lam)
            u_new[i] = un
            if flag == 1:
                stats[1] += 1.0
                continue
            stats[2] += 1.0 if flag == 2 else 0.0
            for j in range(m):
                acc[j] += un * K[i, j]


def build_kernel(C, f, g, la, lb, eps, K, threads=None):
    """``K_ij = exp((f_i + g_j - C_ij)/eps + la_i + lb_j)``: the plan of the potentials.

    Ranges of rows of :func:`kernel_rows` in Python threads
    (:func:`divergences._thread_ranges.run_in_ranges`; ``threads=None``: numba's thread
    count): nothing parallel to compile."""
    inv = 1.0 / eps
    gl = g * inv + lb  # the column terms of every exponent
    run_in_ranges(kernel_rows, (C, f, gl, la, inv, None, K), K.shape[0], threads,
                  per_thread=1)


def first_kernel_rows(C, a, la, lb, eps, rho_a, lam, big, limit, parts, threads=None):
    """The first kernel of a one-stage unbalanced solve with the cost check and the row half
    of its first iteration (:func:`kernel_rows` with ``first``), the potentials ``f`` = the
    row minima, ``g = 0``: ``(K, f, at, u_new, ranges, stats)``, the column sums in
    ``parts`` (one row per chunk, as :func:`scaling_sweep` leaves them), per chunk ``stats``
    = (row error, non-finite count, out-of-range count). Chunks of rows in Python threads
    (:func:`divergences._thread_ranges.run_per_chunk`)."""
    n, m = la.shape[0], lb.shape[0]
    nch = parts.shape[0]
    f, at, u_new, K = np.empty(n), np.empty(n), np.empty(n), np.empty((n, m))
    ranges, stats = np.empty((n, 3)), np.zeros((nch, 3))
    inv = 1.0 / eps

    def chunk(c):
        first = (ranges, float(limit), a, float(rho_a), float(lam), float(big), at, u_new,
                 parts[c], stats[c])
        kernel_rows(C, f, lb, la, inv, first, K, *chunk_rows(c, n, nch))

    run_per_chunk(chunk, nch, threads)
    return K, f, at, u_new, ranges, stats


@kernel(inline=True)
def _dots(K, i, cnt, v, s):
    """``s[r] = K[i + r] . v`` for ``r < cnt`` (``cnt <= GROUP``); eight rows share each
    load of ``v`` when ``cnt == GROUP``."""
    m = v.shape[0]
    if cnt == GROUP:
        r0, r1, r2, r3 = K[i], K[i + 1], K[i + 2], K[i + 3]
        r4, r5, r6, r7 = K[i + 4], K[i + 5], K[i + 6], K[i + 7]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for j in range(m):
            vj = v[j]
            s0 += r0[j] * vj
            s1 += r1[j] * vj
            s2 += r2[j] * vj
            s3 += r3[j] * vj
            s4 += r4[j] * vj
            s5 += r5[j] * vj
            s6 += r6[j] * vj
            s7 += r7[j] * vj
        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = s0, s1, s2, s3, s4, s5, s6, s7
        return
    for r in range(cnt):
        row = K[i + r]
        t = 0.0
        for j in range(m):
            t += row[j] * v[j]
        s[r] = t


@kernel(inline=True)
def _accumulate(K, i, cnt, w, acc):
    """``acc += sum_r w[r] K[i + r]`` for ``r < cnt``, one pass over ``acc`` per group."""
    m = acc.shape[0]
    if cnt == GROUP:
        r0, r1, r2, r3 = K[i], K[i + 1], K[i + 2], K[i + 3]
        r4, r5, r6, r7 = K[i + 4], K[i + 5], K[i + 6], K[i + 7]
        w0, w1, w2, w3, w4, w5, w6, w7 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
        for j in range(m):
            acc[j] += ((r0[j] * w0 + r1[j] * w1) + (r2[j] * w2 + r3[j] * w3)) + \
                      ((r4[j] * w4 + r5[j] * w5) + (r6[j] * w6 + r7[j] * w7))
        return
    for r in range(cnt):
        row = K[i + r]
        wr = w[r]
        for j in range(m):
            acc[j] += row[j] * wr


@kernel(inner=True)
def _new_scaling(target, old, s, omega, big, lam):
    """``(target / s)**lam`` (``omega = 1``) or ``old * ((target / s)**lam / old) ** omega``,
    with its flag: 0 fine, 1 not finite or zero, 2 outside ``[1/big, big]``."""
    if lam == 1.0:
        new = target / s if omega == 1.0 else old * (target / (old * s)) ** omega
    else:
        q = (target / s) ** lam
        new = q if omega == 1.0 else old * (q / old) ** omega
    if not (new < np.inf and new > 0.0):
        return new, 1
    return new, 2 if (new > big or new < 1.0 / big) else 0


@kernel
def scaling_rows(K, a, at, u, v, u_new, acc, sw, big, omega, lam, lo, hi):
    """Rows ``lo .. hi-1`` of the row half of an iteration (:func:`scaling_pass`): new ``u``,
    column sums into ``acc``; returns ``(row_err, n_nonfinite, n_outside)`` over those
    rows. ``sw`` (2, GROUP): scratch from the caller (an allocation here would compile
    NumPy's ``empty`` into every first call)."""
    for j in range(acc.shape[0]):
        acc[j] = 0.0
    inv_lam = 1.0 / lam
    s, w = sw[0], sw[1]
    e = 0.0
    nonfinite = outside = 0
    i = lo
    while i < hi:
        cnt = min(GROUP, hi - i)
        _dots(K, i, cnt, v, s)
        for r in range(cnt):
            ai, ui = a[i + r], u[i + r]
            w[r] = 0.0
            u_new[i + r] = 0.0
            if ai > 0.0:
                if lam == 1.0:
                    e += abs(ui * s[r] - ai)
                else:
                    ti = at[i + r]
                    e += abs(ui ** inv_lam * s[r] - ti) * (ai / ti)
                    ai = ti
                un, flag = _new_scaling(ai, ui, s[r], omega, big, lam)
                u_new[i + r] = un
                if flag == 1:
                    nonfinite += 1
                else:
                    w[r] = un
                    outside += 1 if flag == 2 else 0
        _accumulate(K, i, cnt, w, acc)
        i += cnt
    return e, nonfinite, outside


@kernel
def damped_columns(parts, b, bt, v, v_new, big, omega, lam):
    """The ``v`` half of an iteration (:func:`scaling_pass`) of a damped side (``lam < 1``,
    targets ``bt``) from the per-chunk column sums ``parts``; returns ``(col_err,
    n_nonfinite, n_outside)``. A side with ``lam = 1`` (balanced, or a hard side) takes
    :func:`balanced_columns`."""
    nch, m = parts.shape
    inv_lam = 1.0 / lam
    cerr = 0.0
    nonfinite = outside = 0
    for j in range(m):  # O(m * nchunks): serial
        v_new[j] = 0.0
        if b[j] > 0.0:
            t = 0.0
            for c in range(nch):
                t += parts[c, j]
            vn, flag = _new_scaling(bt[j], v[j], t, omega, big, lam)
            v_new[j] = vn
            if omega != 1.0:
                cerr += abs(vn ** inv_lam * t - bt[j]) * (b[j] / bt[j])
            nonfinite += 1 if flag == 1 else 0
            outside += 1 if flag == 2 else 0
    return cerr, nonfinite, outside


@kernel
def balanced_columns(parts, b, v, v_new, big, omega):
    """The ``v`` half of an iteration (:func:`scaling_pass`) of an undamped side (``lam =
    1``: balanced, or a hard side of an unbalanced problem, ``bt = b``); returns
    ``(col_err, n_nonfinite, n_outside)``, flags as :func:`_new_scaling`'s. It runs on one
    thread in every dense iteration: the column sums in a loop of their own (into
    ``v_new``), then the new scalings with no branch on the kind of side (one loop with
    both inside took 27 us at m = 1000, this one 17 us; libm's ``pow`` is 12 us of it).
    A damped side takes :func:`damped_columns`."""
    nch, m = parts.shape
    for j in range(m):
        t = 0.0
        for c in range(nch):
            t += parts[c, j]
        v_new[j] = t
    small = 1.0 / big
    cerr = 0.0
    nonfinite = outside = 0
    for j in range(m):
        t, old, bj = v_new[j], v[j], b[j]
        vn = bj / t if omega == 1.0 else old * (bj / (old * t)) ** omega
        live = bj > 0.0
        bad = not (vn < np.inf and vn > 0.0)
        v_new[j] = vn if live else 0.0
        cerr += abs(vn * t - bj) if (live and omega != 1.0) else 0.0
        nonfinite += 1 if (live and bad) else 0
        outside += 1 if (live and not bad and (vn > big or vn < small)) else 0
    return cerr, nonfinite, outside


@kernel(parallel=True)
def scaling_sweep(K, a, at, u, v, u_new, parts, sw, big, omega, lam, errs, counts):
    """The row half of :func:`scaling_pass` in ``parts.shape[0]`` chunks, one parallel task
    each: rows ``c n / nch .. (c+1) n / nch`` of chunk ``c`` (:func:`scaling_rows`), its
    column sums into ``parts[c]``, its row error into ``errs[c]`` and its counts of
    non-finite and out-of-range scalings into ``counts[c]``; ``sw`` (nch, 2, GROUP): the
    chunks' scratch.

    The only ``prange`` of the kernel-domain iterations, and a small one: the iteration
    loop runs in Python around it (:func:`divergences._entropic_work._scaling_block_threads`),
    so no compiled caller generates its code again (a ``prange`` sweep inside the compiled
    block loop took about 3 s of a first call, this one about 1 s). Python threads
    (:mod:`divergences._thread_ranges`) would compile nothing parallel, but waking a pool
    thread takes about 90 us, as long as the sweep of a 600 x 600 kernel on two threads;
    numba's threads take 2 us.
    """
    n, nch = K.shape[0], parts.shape[0]
    for c in prange(nch):
        ci = np.int64(c)  # prange's index is unsigned: one signature of scaling_rows
        errs[c], counts[c, 0], counts[c, 1] = scaling_rows(
            K, a, at, u, v, u_new, parts[c], sw[c], big, omega, lam, ci * n // nch,
            (ci + 1) * n // nch)


def scaling_pass(K, a, b, at, bt, u, v, u_new, v_new, parts, big, omega, lam_a, lam_b,
                 sweep=scaling_sweep):
    """One fused (over-relaxed) Sinkhorn iteration on the stored kernel ``K``.

    ``u_new = u (a / (u K v))**omega`` then ``v_new = v (b / (v K^T u_new))**omega``
    (``omega = 1``: plain Sinkhorn; ``lam_a, lam_b`` the damping of unbalanced problems,
    see the module's docstring). Returns ``(row_err, col_err, n_nonfinite, n_outside)``:
    ``row_err = ||diag(u) K v - a||_1`` for the plan *before* the iteration and
    ``col_err = ||diag(v_new) K^T u_new - b||_1`` for the plan *after* it (0 for omega = 1);
    the counts are over the new scalings of positive weights (flags of :func:`_new_scaling`).
    A row whose new scaling is not finite adds nothing to the column sums. Rows are split
    into ``parts.shape[0]`` chunks (``sweep``: :func:`scaling_sweep`, or its serial twin in
    tests). The block loops of :mod:`.sinkhorn` run the same two halves.
    """
    nch = parts.shape[0]
    errs, counts = np.zeros(nch), np.zeros((nch, 2), dtype=np.int64)
    sw = np.empty((nch, 2, GROUP))
    sweep(K, a, at, u, v, u_new, parts, sw, big, omega, lam_a, errs, counts)
    if lam_b == 1.0:
        cerr, nonfinite, outside = balanced_columns(parts, b, v, v_new, big, omega)
    else:
        cerr, nonfinite, outside = damped_columns(parts, b, bt, v, v_new, big, omega, lam_b)
    return errs.sum(), cerr, nonfinite + counts[:, 0].sum(), outside + counts[:, 1].sum()


@kernel
def plan_rows(K, C, u, v, P, acc, r, lo, hi):
    """Rows ``lo .. hi-1`` of :func:`scaled_plan`; returns their part of ``<P, C>``."""
    m = K.shape[1]
    for j in range(m):
        acc[j] = 0.0
    tc = 0.0
    for i in range(lo, hi):
        ui = u[i]
        s = 0.0
        for j in range(m):
            pij = K[i, j] * ui * v[j]
            P[i, j] = pij
            s += pij
            acc[j] += pij
            tc += pij * C[i, j]
        r[i] = s
    return tc


def scaled_plan(K, C, u, v, P, parts, r, threads=None):
    """``P = diag(u) K diag(v)`` (``P`` may be ``K``: in place) with its row sums ``r``,
    per-chunk column sums ``parts`` and ``<P, C>`` (returned), in one pass over ``K`` and
    ``C``; the chunks in Python threads (``threads=None``: numba's thread count), nothing
    parallel to compile."""
    n, nch = K.shape[0], parts.shape[0]
    totals = np.zeros(nch)

    def chunk(c):
        totals[c] = plan_rows(K, C, u, v, P, parts[c], r, *chunk_rows(c, n, nch))

    run_per_chunk(chunk, nch, threads)
    return totals.sum()


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
    S = np.dot(Vt, Km.T)
    for k in range(nt):
        rerr[k] = 0.0
        cerr[k] = 0.0
        flags[k] = 0
        for i in range(n):
            W[k, i] = 0.0
        if not active[k]:
            continue
        for i in range(n):
            ai = a[i]
            if ai == 0.0:
                Un[k, i] = 0.0
                continue
            s, uik = S[k, i], U[k, i]
            rerr[k] += abs(uik * s - ai)
            Un[k, i], flag = _new_scaling(ai, uik, s, omega[k], big, 1.0)
            if flag != 0:
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
            t = T[k, j]
            vn, flag = _new_scaling(Bt[k, j], Vt[k, j], t, omega[k], big, 1.0)
            Vn[k, j] = vn
            if omega[k] != 1.0:
                cerr[k] += abs(vn * t - Bt[k, j])
            if flag != 0:
                flags[k] = 1
