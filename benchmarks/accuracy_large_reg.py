"""Sinkhorn's objective when reg dwarfs the costs, against Sinkhorn in 360-digit mpmath.

For ``reg`` from 1e2 to 1e100 times the cost range, prints the relative error of
``sinkhorn(a, b, C, reg).objective`` (8 x 6 random points, random weights) and the
``sinkhorn_divergence`` of the same points against its ``reg -> inf`` limit for ``p = 1``,
``<ab, C> - (<aa, C> + <bb, C>) / 2``. The script imports the package of the checkout it
lives in: a copy in a ``git worktree`` of another commit measures that commit.

Run ``python benchmarks/accuracy_large_reg.py``.
"""

from __future__ import annotations

import os
import sys
import warnings

import mpmath
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from divergences import sinkhorn, sinkhorn_divergence  # noqa: E402


def mp_sinkhorn(C, a, b, reg, iters=12):
    """``(objective, f_i + g_j)`` at Sinkhorn's fixed point in 360-digit arithmetic (the
    reference of ``tests/test_entropic_large_reg.py`` too)."""
    with mpmath.workdps(360):
        n, m = C.shape
        Cm = [[mpmath.mpf(float(C[i, j])) for j in range(m)] for i in range(n)]
        am = [mpmath.mpf(float(x)) for x in a]
        bm = [mpmath.mpf(float(x)) for x in b]
        am = [x / mpmath.fsum(am) for x in am]
        bm = [x / mpmath.fsum(bm) for x in bm]
        r = mpmath.mpf(float(reg))
        f, g = [mpmath.mpf(0)] * n, [mpmath.mpf(0)] * m
        for _ in range(iters):
            f = [-r * mpmath.log(mpmath.fsum(bm[j] * mpmath.exp((g[j] - Cm[i][j]) / r)
                                             for j in range(m))) for i in range(n)]
            g = [-r * mpmath.log(mpmath.fsum(am[i] * mpmath.exp((f[i] - Cm[i][j]) / r)
                                             for i in range(n))) for j in range(m)]
        objective = mpmath.fsum(x * y for x, y in zip(am, f, strict=True)) + mpmath.fsum(
            x * y for x, y in zip(bm, g, strict=True))
        return float(objective), np.array([[float(f[i] + g[j]) for j in range(m)]
                                           for i in range(n)])


def main():
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 2)), rng.random((6, 2)) + 0.3
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = rng.random(8) + 0.1, rng.random(6) + 0.1
    a, b = a / a.sum(), b / b.sum()
    span = float(C.max() - C.min())

    def dist(u, v):
        return np.sqrt(((u[:, None] - v[None]) ** 2).sum(-1))

    limit = a @ dist(x, y) @ b - 0.5 * (a @ dist(x, x) @ a + b @ dist(y, y) @ b)
    print("reg / range(C)   objective rel. error   sinkhorn_divergence (p=1, reg = ratio: "
          "distances span about 1) / limit - 1")
    for ratio in (1e2, 1e4, 2.0**14, 1e6, 1e8, 1e10, 1e12, 1e14, 1e16, 1e100):
        reg = ratio * span
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = sinkhorn(a, b, C, reg).objective
            sdiv = sinkhorn_divergence(x, y, a, b, p=1, reg=ratio)
        ref = mp_sinkhorn(C, a, b, reg)[0]
        print(f"{ratio:14.4g}   {abs(got - ref) / abs(ref):20.2e}   {sdiv / limit - 1:+.2e}")


if __name__ == "__main__":
    main()
