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
``reg_m = 1``, tol 1e-9): 21 -> 12 iterations at ``reg = 0.05``, 44 -> 25 at ``reg = 0.01``;
``benchmarks/iterations_entropic.py`` for the other families. Used only for one-stage solves
(no epsilon-scaling, ``reg >= 1e-2 range(C)``): at ``reg = 3e-4 .. 1e-3 x max C`` with
``reg_m = 1`` it took up to 5x the iterations of over-relaxation.

Everything here is O(DEPTH (n + m)) per iteration, in NumPy (nothing compiled: no
cold-start cost); the O(n m) sweep is the compiled one of the over-relaxed solver. The state
``x`` is the column potential over ``eps``, ``log v - st[SHIFT]`` on the support of ``b``:
the same quantity whatever the translation has accumulated. A mixed step that is not
finite, or an error 10 times above the best seen, restarts the history (a plain step); an
absorption or an under/overflow (statuses ``OUTSIDE``, ``NONFINITE``, handled by the driver)
does too.

References
----------
H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer.
Anal. 2011. A. Aristodemo, L. Gentile, "Accelerating Sinkhorn's algorithm with Anderson
acceleration", 2023 (numerical study on entropic OT).
"""

from __future__ import annotations

import numpy as np

from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn_scaling import scaling_sweep

__all__ = ["AndersonBlock", "DEPTH", "ANDERSON_MIN"]

#: steps combined by the least squares.
DEPTH = 12
#: Tikhonov term of the least squares, relative to the trace of its Gram matrix.
REG = 1e-12
#: cost entries from which the threaded dense solver of an unbalanced problem uses it (the
#: NumPy work per iteration, ~0.1 ms, is then under a tenth of the sweep's).
ANDERSON_MIN = 1 << 20


class AndersonBlock:
    """A drop-in for :func:`._entropic_solve._scaling_block_threads` (same arguments, same
    statuses, same meaning of ``u``, ``v``, ``st[CERR]``, ``st[ERR]``, ``st[SHIFT]``), with
    Anderson mixing of the column scalings instead of over-relaxation (``st[OMEGA]`` unused).
    One object per epsilon stage.

    The differences of the last :data:`DEPTH` steps are kept in ring buffers with their Gram
    matrix, updated by one row per iteration: O(DEPTH m) per iteration."""

    def __init__(self, b):
        # the support of b: a slice when it is everything (views, no copies)
        self.pos = slice(None) if np.all(b > 0.0) else np.flatnonzero(b > 0.0)
        m = b[self.pos].shape[0]
        self.dx, self.df = np.empty((DEPTH, m)), np.empty((DEPTH, m))
        self.gram = np.empty((DEPTH, DEPTH))
        self.best = np.inf
        self.restart()

    def restart(self):
        self.count = self.slot = 0
        self.x_prev = self.f_prev = None

    def _mix(self, x, fx):
        """The next iterate from ``x`` and ``fx = T(x)``."""
        f = fx - x
        if self.x_prev is not None:
            k, i = self.slot, self.count
            np.subtract(x, self.x_prev, out=self.dx[k])
            np.subtract(f, self.f_prev, out=self.df[k])
            self.count = i = min(i + 1, DEPTH)
            self.slot = (k + 1) % DEPTH
            row = self.df[:i] @ self.df[k]
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
        nxt = fx - gamma @ self.dx[:i] - gamma @ self.df[:i]
        if not np.all(np.isfinite(nxt)):
            self.restart()
            return fx
        return nxt

    def __call__(self, K, a, b, at, bt, u, v, u2, v2, parts, big, st, target, marg, unbal,
                 errs, counts, it, stop):
        pos = self.pos
        lam_b = marg[1]
        bp_weight = b[pos]
        while it < stop:
            scaling_sweep(K, a, at, u, v, u2, parts, big, 1.0, marg[0], errs, counts)
            it += 1
            err = errs.sum() * marg[2] + st[_k.CERR] * marg[3]
            st[_k.ERR] = err
            if err <= target:
                return _k.REACHED, it
            t = parts.sum(axis=0)[pos]
            with np.errstate(all="ignore"):
                vt = (bt[pos] / t) ** lam_b
            if counts[:, 0].sum() > 0 or not np.all((vt > 0.0) & (vt < np.inf)):
                self.restart()
                return _k.NONFINITE, it
            if err > 10.0 * self.best:
                self.restart()
            self.best = min(self.best, err)
            x = np.log(v[pos]) - st[_k.SHIFT]
            u[:] = u2
            if unbal is not None:  # the translation (module docstring of _kernels.sinkhorn)
                ka, kb = 1.0 / marg[0] - 1.0, 1.0 / lam_b - 1.0
                pa = a > 0.0
                big_a = at[pa].sum() if ka == 0.0 else (at[pa] * u[pa] ** -ka).sum()
                big_b = bt[pos].sum() if kb == 0.0 else (bt[pos] * vt ** -kb).sum()
                s = np.log(big_a / big_b) / (ka + kb)
                if np.isfinite(s):
                    at *= np.exp(-s * ka)
                    bt *= np.exp(s * kb)
                    st[_k.SHIFT] += s
            shift = st[_k.SHIFT]
            nxt = self._mix(x, np.log(vt) - shift)
            with np.errstate(all="ignore"):
                vn = np.exp(nxt + shift)
            if not np.all((vn > 0.0) & (vn < np.inf)):
                self.restart()
                vn = vt  # the plain step
            v[pos] = vn
            bp = bt[pos]
            st[_k.CERR] = (np.abs(vn ** (1.0 / lam_b) * t - bp) * (bp_weight / bp)).sum()
            if counts[:, 1].sum() > 0 or np.any((vn > big) | (vn < 1.0 / big)):
                self.restart()
                return _k.OUTSIDE, it
        return _k.BLOCK_END, it
