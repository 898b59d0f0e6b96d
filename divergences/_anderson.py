r"""Anderson-accelerated kernel-domain Sinkhorn for large unbalanced problems.

One iteration of the dense solver maps the column potential to the next,
:math:`g \mapsto T(g)`: the row half of the sweep
(:func:`._kernels.sinkhorn_scaling.scaling_sweep`, one read of the stored kernel), the damped
column update and, for unbalanced problems, the translation of :mod:`._kernels.sinkhorn`.
Over-relaxation extrapolates along the last step only; Anderson acceleration (type II,
depth :data:`DEPTH`; Walker & Ni 2011) combines the last few steps,

.. math:: x_{k+1} = x_k + F_k - (\Delta X + \Delta F)\,\gamma, \qquad
          \gamma = \arg\min_\gamma \|F_k - \Delta F \gamma\|_2, \qquad F = T(x) - x.

The Jacobian of the Sinkhorn map of a smooth kernel has a few eigenvalues near the plain
rate and many near 0: the least squares removes the few (on a linear map it is GMRES), and
the iterates then converge at the rate of the rest. Benchmark problem (2000 x 2000,
``reg_m = 1``, tol 1e-9): 21 -> 10 iterations at ``reg = 0.05``, 44 -> 23 at ``reg = 0.01``;
``benchmarks/iterations_entropic.py`` for the other families. Used only for one-stage solves
(no epsilon-scaling, ``reg >= 1e-2 range(C)``): at ``reg = 3e-4 .. 1e-3 x max C`` with
``reg_m = 1`` it took up to 5x the iterations of over-relaxation.

The mixing is O(DEPTH (n + m)) per iteration, in NumPy (nothing compiled: no cold-start
cost); the O(n m) sweep is the compiled one of the over-relaxed solver, and the first one is
done in the pass that builds the first kernel (:func:`first_kernel`, with the cost check:
about 0.5 s of compiling in a first large call, none for small problems). The state
``x`` is the column potential over ``eps``, ``log v - st[SHIFT]`` on the support of ``b``:
the same quantity whatever the translation has accumulated. A mixed step that is not
finite, or an error 10 times above the best seen, restarts the history (a plain step); an
absorption or an under/overflow (statuses ``OUTSIDE``, ``NONFINITE``, handled by the driver)
does too.

*The last sweep.* A sweep measures the row residual of the current plan; the column residual
is known from the previous iteration. Near the solution the two keep their ratio (the
iteration is linear there), so from the last ratio and the column residual the block predicts
the residual of the current plan; when the prediction is under half the tolerance it returns
:data:`PREDICTED` without a sweep, and the driver measures the plan in the pass that writes it
(the statistics of the returned plan are computed there anyway): the same plan as if the sweep
had been run and had met the rule, one read of the kernel fewer. A wrong prediction costs the
plan pass and a restart of the history (the driver goes on from the plan as the new kernel).

References
----------
H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer.
Anal. 2011. A. Aristodemo, L. Gentile, "Accelerating Sinkhorn's algorithm with Anderson
acceleration", 2023 (numerical study on entropic OT).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn_scaling import first_kernel_rows, scaling_sweep
from ._unbalanced import damping

__all__ = ["AndersonBlock", "DEPTH", "ANDERSON_MIN", "PREDICTED", "FirstKernel", "first_kernel"]

#: steps combined by the least squares.
DEPTH = 12
#: Tikhonov term of the least squares, relative to the trace of its Gram matrix (1e-13: on
#: 48 problems (n = 400, reg 0.011 .. 0.1, reg_m 0.1 .. 10) 634 iterations against 645 at
#: 1e-12, none more; iterations_entropic.py: 3109 -> 3092, 642 -> 525, 74 -> 72 (then 3046,
#: 520, 69 with the predicted last sweep); 1e-14 is worse on u_clusters, 879).
REG = 1e-13
#: status: the current plan is predicted to meet the rule (the module's docstring).
PREDICTED = 4
#: a prediction is acted on when it is under this fraction of the tolerance, and only once
#: the column residual is under PREDICT_BELOW (the linear regime: above it the ratio still
#: jumps, and at tol = 1e-3 one prediction in ten failed, each costing a plan pass and a
#: restart).
PREDICT_MARGIN = 0.5
PREDICT_BELOW = 1e-5
#: cost entries from which the threaded dense solver of an unbalanced problem uses it (the
#: NumPy work per iteration, ~0.1 ms, is then under a tenth of the sweep's).
ANDERSON_MIN = 1 << 20


class FirstKernel(NamedTuple):
    """The first kernel of a one-stage solve on the Anderson path and the row half of its
    first iteration, from one pass over the costs (:func:`first_kernel`)."""

    K: np.ndarray  # the kernel of f, g = 0 at reg
    f: np.ndarray  # the costs' row minima
    at: np.ndarray  # the row targets a exp(-f / rho_a) the half-sweep used
    u_new: np.ndarray  # its new row scalings
    parts: np.ndarray  # its column sums, one row per chunk
    stats: np.ndarray  # per chunk: row error, non-finite and out-of-range counts


def first_kernel(C, a, b, reg, rho, big, limit, nch):
    """The cost check, the first kernel and the row half of the first iteration in one pass
    over ``C`` (:func:`divergences._kernels.sinkhorn_scaling.first_kernel_rows`):
    ``(FirstKernel, lo, hi, finite)`` with ``lo``, ``hi``, ``finite`` as from
    :func:`divergences._kernels.scan.value_range`. Rows whose range exceeds ``limit * reg``
    are left unbuilt (the solve then needs epsilon-scaling and drops the kernel).

    The kernel is that of the potentials ``f`` = the row minima, ``g = 0``. Any ``f`` gives
    the same iterates: the first update of ``u`` replaces the row potential whatever it was
    (``f <- lambda T(g)``), and the kernel only stores ``exp(f / reg)`` factors that the
    scalings undo. The row minima bound every entry by ``a_i b_j`` (no overflow) and, within
    a one-stage range, keep it above ``exp(-limit) a_i b_j``."""
    with np.errstate(divide="ignore"):
        la, lb = np.log(a), np.log(b)
    lam = damping(rho, reg)[0]
    parts = np.empty((nch, b.shape[0]))
    K, f, at, u_new, ranges, stats = first_kernel_rows(C, a, la, lb, reg, rho[0], lam, big,
                                                       limit, parts, threads=nch)
    lo, hi, finite = ranges[:, 0].min(), ranges[:, 1].max(), ranges[:, 2].sum() == 0.0
    return FirstKernel(K, f, at, u_new, parts, stats), float(lo), float(hi), bool(finite)


class AndersonBlock:
    """A drop-in for :func:`._entropic_work._scaling_block_threads` (same arguments, same
    statuses, same meaning of ``u``, ``v``, ``st[CERR]``, ``st[ERR]``, ``st[SHIFT]``), with
    Anderson mixing of the column scalings instead of over-relaxation (``st[OMEGA]`` unused).
    One object per epsilon stage.

    The differences of the last :data:`DEPTH` steps are kept in ring buffers with their Gram
    matrix, updated by one row per iteration: O(DEPTH m) per iteration. The ring ``dxf``
    holds ``dx + df``, the one combination the next iterate needs (one product with the
    history instead of two)."""

    def __init__(self, b):
        # the support of b: a slice when it is everything (views, no copies)
        self.pos = slice(None) if np.all(b > 0.0) else np.flatnonzero(b > 0.0)
        m = b[self.pos].shape[0]
        self.dxf, self.df = np.empty((DEPTH, m)), np.empty((DEPTH, m))
        self.gram = np.empty((DEPTH, DEPTH))
        self.best = np.inf
        self.pa = None  # the support of a (set by the first call)
        # the row half of the next iteration is done already (by the first kernel's pass)
        self.swept = False
        self.restart()

    def restart(self):
        self.count = self.slot = 0
        self.x_prev = self.f_prev = None
        # row residual over the column residual it was measured with (unknown: no prediction)
        self.ratio = np.inf

    def _mix(self, x, fx):
        """The next iterate from ``x`` and ``fx = T(x)``."""
        f = fx - x
        if self.x_prev is not None:
            k, i = self.slot, self.count
            df = np.subtract(f, self.f_prev, out=self.df[k])
            dxf = np.subtract(x, self.x_prev, out=self.dxf[k])
            dxf += df
            self.count = i = min(i + 1, DEPTH)
            self.slot = (k + 1) % DEPTH
            row = self.df[:i] @ df
            self.gram[k, :i] = row
            self.gram[:i, k] = row
        self.x_prev, self.f_prev = x, f
        i = self.count
        if i == 0:
            return fx
        G = self.gram[:i, :i].copy()
        G.flat[:: i + 1] += REG * np.trace(G) + 1e-300
        try:
            gamma = np.linalg.solve(G, self.df[:i] @ f)
        except np.linalg.LinAlgError:  # a NaN Gram matrix: a plain step
            self.restart()
            return fx
        nxt = fx - gamma @ self.dxf[:i]
        # an entry that is not finite makes the sum so (a finite sum that overflows only
        # where exp(nxt) would)
        if not np.isfinite(nxt.sum()):
            self.restart()
            return fx
        return nxt

    def __call__(self, K, a, b, at, bt, u, v, u2, v2, parts, sw, big, st, target, marg, unbal,
                 errs, counts, it, stop):
        pos = self.pos
        if self.pa is None:
            self.pa = slice(None) if np.all(a > 0.0) else np.flatnonzero(a > 0.0)
        pa = self.pa
        lam_a, lam_b, w_a, w_b = marg[0], marg[1], marg[2], marg[3]
        ka, kb = 1.0 / lam_a - 1.0, 1.0 / lam_b - 1.0
        inv_lam_b = 1.0 / lam_b
        bw = b[pos]
        while it < stop:
            cerr = st[_k.CERR] * w_b
            if (cerr <= PREDICT_BELOW and self.ratio < np.inf
                    and (self.ratio + 1.0) * cerr <= PREDICT_MARGIN * target):
                self.restart()
                return PREDICTED, it
            if self.swept:
                self.swept = False
            else:
                scaling_sweep(K, a, at, u, v, u2, parts, sw, big, 1.0, lam_a, errs, counts)
            it += 1
            row = errs.sum() * w_a
            err = row + cerr
            st[_k.ERR] = err
            if err <= target:
                return _k.REACHED, it
            # from the second sweep after a restart on (the first one's cerr is unknown)
            self.ratio = max(row / cerr, 1.0) if 0.0 < cerr < np.inf else np.inf
            t = parts.sum(axis=0)[pos]
            with np.errstate(all="ignore"):
                vt = (bt[pos] / t) ** lam_b
                log_vt = np.log(vt)
            # log(vt) is finite iff 0 < vt < inf, and a sum of finite logs cannot overflow
            if counts[:, 0].sum() > 0 or not np.isfinite(log_vt.sum()):
                self.restart()
                return _k.NONFINITE, it
            if err > 10.0 * self.best:
                self.restart()
            self.best = min(self.best, err)
            x = np.log(v[pos]) - st[_k.SHIFT]
            u[:] = u2
            if unbal is not None:  # the translation (module docstring of _kernels.sinkhorn)
                big_a = at[pa].sum() if ka == 0.0 else (at[pa] * u[pa] ** -ka).sum()
                big_b = bt[pos].sum() if kb == 0.0 else (bt[pos] * vt ** -kb).sum()
                s = np.log(big_a / big_b) / (ka + kb)
                if np.isfinite(s):
                    at *= np.exp(-s * ka)
                    bt *= np.exp(s * kb)
                    st[_k.SHIFT] += s
            shift = st[_k.SHIFT]
            log_vt -= shift
            nxt = self._mix(x, log_vt)
            nxt += shift
            with np.errstate(all="ignore"):
                vn = np.exp(nxt, out=nxt)
            lo, hi = vn.min(), vn.max()
            if not (lo > 0.0 and hi < np.inf):  # also NaN
                self.restart()
                vn = vt  # the plain step
                lo, hi = vn.min(), vn.max()
            v[pos] = vn
            bp = bt[pos]
            st[_k.CERR] = (np.abs(vn ** inv_lam_b * t - bp) * (bw / bp)).sum()
            if counts[:, 1].sum() > 0 or hi > big or lo < 1.0 / big:
                self.restart()
                return _k.OUTSIDE, it
        return _k.BLOCK_END, it
