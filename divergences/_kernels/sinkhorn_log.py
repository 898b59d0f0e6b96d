r"""Log-domain Sinkhorn sweeps, exact for any ``eps``; costs dense or recomputed on the fly.

Conventions shared by the Sinkhorn kernels (trusted inputs, no validation):

* ``a`` (n,), ``b`` (m,) are normalised weights, zeros allowed; ``la = log(a)`` and
  ``lb = log(b)`` hold ``-inf`` on zero weights, so zero-weight points drop out of every
  exponential by IEEE arithmetic.
* The plan is :math:`P_{ij} = a_i b_j \exp((f_i + g_j - C_{ij})/\varepsilon)`.
* Costs come from a *geometry* ``geom``, a tuple passed as one argument: ``(C,)`` for a dense
  matrix, or ``(yt, x, y, metric, q, p)`` for costs ``d(x_i, y_j) ** p`` recomputed on the fly
  (online mode; ``yt = y.T``, C-contiguous, so that rows of (squared) Euclidean costs are
  computed from contiguous coordinates). The two are different numba types: each kernel is
  compiled for the kind it is called with, so a dense solve never compiles the online code.
* Column sums are accumulated row-parallel in per-chunk buffers ``parts`` of shape
  ``(nchunks, m)`` and reduced afterwards: the result does not depend on thread scheduling.

The *log pass* (:func:`log_row_pass`) computes a log-sum-exp over each row to get the new
``f`` (shifted by the row's maximum only when the unshifted sum leaves ``[1e-200, 1e200]``)
and accumulates the columns of the updated plan in the same sweep;
:func:`update_g` then makes the column marginals exact. One exponential per entry per
iteration (:func:`divergences._kernels.fastexp.exp_inline`, vectorised): used by the
online mode and as the dense mode's fallback (the dense mode's fast
iterations are in :mod:`.sinkhorn_scaling`).

*Unbalanced problems* (KL-relaxed marginals): ``lam = rho / (rho + eps)`` per side damps the
update, ``f <- lam * T(g)`` with ``T`` the soft c-transform (``lam = 1``: balanced, the
arithmetic unchanged), and the measured row error is the residual of the first-order
condition ``(P 1) exp(f / rho) = a`` (``rho = eps lam / (1 - lam)``).
"""

import numpy as np
from numba.extending import overload

from .._jit import FASTMATH, kernel
from .._thread_ranges import chunk_rows, run_per_chunk
from .cost import EUCLIDEAN, SQEUCLIDEAN, ground_distance
from .fastexp import exp_inline

#: largest exponent ever passed to exp (exp(700) ~ 1e304 is finite).
ZMAX = 700.0
#: the package policy for the geometry accessors (compiled into their callers).
_OPTIONS = {"fastmath": set(FASTMATH), "error_model": "numpy", "nogil": True}


@kernel
def _row_costs(x, y, yt, metric, q, p, i, out):
    """``out[j] = d(x_i, y_j) ** p``; (sq)euclidean summed coordinate-major over ``yt = y.T``
    (contiguous: it vectorises), in the same order as :func:`cost_matrix`."""
    m, dim = y.shape
    if metric == SQEUCLIDEAN or metric == EUCLIDEAN:
        for j in range(m):
            out[j] = 0.0
        for k in range(dim):
            xk = x[i, k]
            yk = yt[k]
            for j in range(m):
                t = xk - yk[j]
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


def dense_geometry(C):
    """The geometry of a dense cost matrix ``C`` (n, m), float64, C-contiguous."""
    return (C,)


def online_geometry(yt, x, y, metric, q, p):
    """The geometry of costs ``d(x_i, y_j) ** p`` recomputed on the fly (``yt = y.T``)."""
    return (yt, x, y, int(metric), float(q), float(p))


def _row(geom, i, cbuf):
    """Row ``i`` of the costs: a view of ``C`` or, online, computed into ``cbuf``."""


def _cost_ij(geom, i, j):
    """The cost ``C_ij``."""


@overload(_row, jit_options=_OPTIONS)
def _row_impl(geom, i, cbuf):
    if len(geom) == 1:
        return lambda geom, i, cbuf: geom[0][i]

    def online(geom, i, cbuf):
        yt, x, y, metric, q, p = geom
        _row_costs(x, y, yt, metric, q, p, i, cbuf)
        return cbuf

    return online


@overload(_cost_ij, jit_options=_OPTIONS)
def _cost_ij_impl(geom, i, j):
    if len(geom) == 1:
        return lambda geom, i, j: geom[0][i, j]

    def online(geom, i, j):
        _, x, y, metric, q, p = geom
        d = ground_distance(x[i], y[j], metric, q)
        return d if p == 1.0 else d**p

    return online


@kernel
def log_rows(geom, a, f, gl, inv, eps, omega, lam, acc, z, cbuf, lo, hi):
    """Rows ``lo .. hi-1`` of :func:`log_row_pass`; returns their row error."""
    m = gl.shape[0]
    kappa = 1.0 / lam - 1.0  # eps / rho
    for j in range(m):
        acc[j] = 0.0
    e = 0.0
    for i in range(lo, hi):
        row = _row(geom, i, cbuf)
        fi = f[i] * inv
        # unshifted first: the row sum of the plan over a_i, near 1 once iterations
        # settle; shifted by the row's maximum only if it leaves [1e-200, 1e200]
        # (one loop for both: each call site of exp_inline is a copy of its body to
        # compile, and x - 0.0 is x)
        mx = 0.0
        s = 0.0
        for attempt in range(2):
            s = 0.0
            for j in range(m):
                ej = exp_inline(fi + gl[j] - row[j] * inv - mx)
                z[j] = ej
                s += ej
            if (s > 1e-200 and s < 1e200) or attempt == 1:
                break
            mx = -np.inf
            for j in range(m):
                mx = max(mx, fi + gl[j] - row[j] * inv)
        lse = mx + np.log(s)
        # the step of f / eps: to the soft c-transform (lam = 1) or to lam times it
        step = lse if lam == 1.0 else (1.0 - lam) * fi + lam * lse
        ai = a[i]
        if ai > 0.0:
            e += ai * abs(np.exp(min(lse if lam == 1.0 else lse + kappa * fi, ZMAX)) - 1.0)
            if lam != 1.0:
                w = ai * np.exp(min(mx - omega * step, ZMAX))
            else:
                w = ai / s if omega == 1.0 else ai * np.exp(
                    min((1.0 - omega) * lse - np.log(s), ZMAX))
            for j in range(m):
                acc[j] += z[j] * w
        f[i] = f[i] - omega * eps * step
    return e


def log_row_pass(geom, a, f, g, lb, eps, omega, lam, parts, buf, cbuf, threads=None):
    """One exact f-update; returns ``||P 1 - a||_1`` of the plan *before* the update
    (unbalanced: ``||(P 1) exp(f / rho) - a||_1``).

    ``f`` moves ``omega`` times the step to the soft c-transform of ``g`` (``omega = 1``: onto
    it; times ``lam`` for an unbalanced problem); ``parts`` receive the column sums (per
    chunk) of the plan *after* the update. The chunks of rows (:func:`log_rows`) run in
    Python threads (:func:`divergences._thread_ranges.run_per_chunk`; ``threads=None``:
    numba's thread count): nothing parallel to compile (a ``prange`` pass, generated again
    inside the compiled block loops, cost 2 s of a first threaded log-domain call). A pass
    costs an exponential per entry, milliseconds at the sizes that use threads, against
    about 0.1 ms to hand the chunks to the threads.
    """
    n, nch = a.shape[0], parts.shape[0]
    inv = 1.0 / eps
    gl = g * inv + lb  # the column terms of every exponent
    errs = np.zeros(nch)

    def chunk(c):
        errs[c] = log_rows(geom, a, f, gl, inv, eps, omega, lam, parts[c], buf[c], cbuf[c],
                           *chunk_rows(c, n, nch))

    run_per_chunk(chunk, nch, threads)
    return errs.sum()


@kernel
def update_g(parts, b, lb, g, eps, omega, lam, bad):
    """``g += omega * eps * log(b / colsum)``; returns ``(n_bad, col_err)``.

    Unbalanced (``lam < 1``): ``g += omega * eps * (lam log(b / colsum) - (1 - lam) g /
    eps)``, i.e. ``omega`` times the step to ``lam`` times the soft c-transform. Columns whose
    sum under/overflowed are flagged in ``bad``; ``col_err`` is ``||P^T 1 - b||_1`` (unbalanced:
    ``||(P^T 1) exp(g / rho) - b||_1``) after the update (0 for omega = 1).
    """
    nch, m = parts.shape
    kappa = 1.0 / lam - 1.0
    cerrs = np.zeros(m)
    for j in range(m):
        t = 0.0
        for c in range(nch):
            t += parts[c, j]
        bad[j] = False
        if b[j] > 0.0:
            if t > 0.0 and t < np.inf:
                step = lb[j] - np.log(t)
                if lam != 1.0:
                    step = lam * step - (1.0 - lam) * g[j] / eps
                g[j] += omega * eps * step
                if omega != 1.0 and lam == 1.0:
                    cerrs[j] = abs(t * np.exp(min(omega * step, ZMAX)) - b[j])
                elif omega != 1.0:
                    z = np.log(t) - lb[j] + omega * step + kappa * g[j] / eps
                    cerrs[j] = b[j] * abs(np.exp(min(z, ZMAX)) - 1.0)
            else:
                bad[j] = True
    return bad.sum(), cerrs.sum()


@kernel
def soft_transform(geom, pot, lw, eps, idx, out, columns):
    """Exact soft c-transforms for the indices ``idx``.

    Rows (``columns=False``): ``out_i = -eps * logsumexp_j((pot_j - C_ij)/eps + lw_j)``;
    columns (``columns=True``): the same over ``i`` with ``C_ij`` read as ``C_ji`` of the
    transposed problem, i.e. ``out_j = -eps * logsumexp_i((pot_i - C_ij)/eps + lw_i)``.
    Serial: only zero weights and under/overflowed columns need it (a ``prange`` here was
    compiled into every log-domain block loop).
    """
    n = pot.shape[0]
    inv = 1.0 / eps
    for k in range(idx.shape[0]):
        t = idx[k]
        mx = -np.inf
        for s in range(n):
            c = _cost_ij(geom, s, t) if columns else \
                _cost_ij(geom, t, s)
            mx = max(mx, pot[s] * inv + lw[s] - c * inv)
        acc = 0.0
        for s in range(n):
            c = _cost_ij(geom, s, t) if columns else \
                _cost_ij(geom, t, s)
            acc += np.exp(pot[s] * inv + lw[s] - c * inv - mx)
        # the largest term is exp(0) = 1, so acc >= 1; at |C| / eps ~ 1e21 the exponent
        # computed again here can land hundreds below 0 (its terms are rounded apart), and
        # acc could underflow to 0 (an infinite potential): the floor keeps that term's 1
        out[t] = -eps * (mx + np.log(acc if acc > 1.0 else 1.0))


@kernel
def min_rows(geom, a, b, f, acc, cbuf, lo, hi):
    """Rows ``lo .. hi-1`` of :func:`hard_init`: ``f`` and the column minima into ``acc``."""
    m = b.shape[0]
    for j in range(m):
        acc[j] = np.inf
    for i in range(lo, hi):
        row = _row(geom, i, cbuf)
        # one chain of min (eight chains of selects ran ~2x faster at 2000 x 2000, 2 ms
        # of a 35 ms solve, but cost 0.4 s of every first sinkhorn call to compile)
        mn = np.inf
        for j in range(m):
            mn = min(mn, row[j] if b[j] > 0.0 else np.inf)
        f[i] = mn
        if a[i] > 0.0:
            for j in range(m):
                acc[j] = min(acc[j], row[j] - mn)


def hard_init(geom, a, b, f, g, parts, cbuf, threads=None):
    """``f_i = min_j C_ij``, ``g_j = min_i (C_ij - f_i)`` over positive weights, one sweep.

    Then ``f_i + g_j <= C_ij`` on the support of ``a`` and ``b``, with equality somewhere in
    every row and column:
    no row or column of the first kernel underflows, whatever the offset of the costs.
    The chunks of rows run in Python threads (``threads=None``: numba's thread count),
    nothing parallel to compile.
    """
    n, nch = a.shape[0], parts.shape[0]
    run_per_chunk(lambda c: min_rows(geom, a, b, f, parts[c], cbuf[c], *chunk_rows(c, n, nch)),
                  nch, threads)
    np.min(parts, axis=0, out=g)  # the columns' minima over the chunks


@kernel
def _plan_stats_rows(geom, f, gl, la, inv, acc, cbuf, r, lo, hi):
    """Rows ``lo .. hi-1`` of :func:`online_plan_stats`: their sums into ``r``, their column
    sums into ``acc``; returns their part of ``<P, C>``."""
    m = gl.shape[0]
    for j in range(m):
        acc[j] = 0.0
    tc = 0.0
    for i in range(lo, hi):
        s = 0.0
        if la[i] > -np.inf:
            row = _row(geom, i, cbuf)
            fi = f[i] * inv + la[i]
            for j in range(m):
                pij = exp_inline(min(fi + gl[j] - row[j] * inv, ZMAX))
                s += pij
                acc[j] += pij
                tc += pij * row[j]
        r[i] = s
    return tc


def online_plan_stats(geom, f, g, la, lb, eps, parts, cbuf, r, threads=None):
    """Row sums ``r``, per-chunk column sums ``parts`` and ``<P, C>`` (returned) of the plan
    of ``(f, g)``, recomputed entry by entry from the points (online ``geom``), never stored.
    Chunks of rows in Python threads (``threads=None``: numba's thread count)."""
    n, nch = r.shape[0], parts.shape[0]
    inv = 1.0 / eps
    gl = g * inv + lb  # the column terms of every exponent
    totals = np.zeros(nch)

    def chunk(c):
        totals[c] = _plan_stats_rows(geom, f, gl, la, inv, parts[c], cbuf[c], r,
                                     *chunk_rows(c, n, nch))

    run_per_chunk(chunk, nch, threads)
    return totals.sum()
