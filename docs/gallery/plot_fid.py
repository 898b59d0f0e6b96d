"""
FID on ill-conditioned covariances
==================================

FID of two feature sets: ``frechet_distance`` against the pytorch-fid ``sqrtm`` formula,
with mpmath (50 digits) as the reference, as the covariances become ill-conditioned.
"""

import warnings

import matplotlib.pyplot as plt
import mpmath
import numpy as np
import scipy.linalg

from divergences import frechet_distance


def sqrtm_formula(x, y):
    """pytorch-fid's formula: covariances, trace of sqrtm of their product."""
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        root = scipy.linalg.sqrtm(sx @ sy)
    diff = x.mean(0) - y.mean(0)
    return diff @ diff + np.trace(sx) + np.trace(sy) - 2.0 * np.trace(root)


def reference(x, y):
    """The same quantity at 50 digits: exact means and covariances of the float data,
    eigendecomposition of the PSD part of S_x, eigenvalues of S_x^1/2 S_y S_x^1/2."""
    with mpmath.workdps(50):
        def stats(v):
            rows = [[mpmath.mpf(float(e)) for e in r] for r in v]
            n, d = len(rows), len(rows[0])
            mean = [sum(r[k] for r in rows) / n for k in range(d)]
            cov = mpmath.matrix(d, d)
            for i in range(d):
                for j in range(i, d):
                    c = sum((r[i] - mean[i]) * (r[j] - mean[j]) for r in rows) / (n - 1)
                    cov[i, j] = cov[j, i] = c
            return mean, cov

        mx, sx = stats(x)
        my, sy = stats(y)
        w, q = mpmath.eigsy(sx)
        root = q * mpmath.diag([mpmath.sqrt(max(v, 0)) for v in w]) * q.T
        mu = mpmath.eigsy(root * sy * root, eigvals_only=True)
        trace = sum(sx[i, i] + sy[i, i] for i in range(sx.rows))
        shift = sum((u - v) ** 2 for u, v in zip(mx, my, strict=True))
        return float(shift + trace - 2 * sum(mpmath.sqrt(max(v, 0)) for v in mu))


rng = np.random.default_rng(0)
n, d = 60, 8
smallest = np.logspace(-2, -14, 7)
ours, naive, is_complex = [], [], []
for low in smallest:
    spectrum = np.logspace(0, np.log10(low), d)
    qx, qy = (np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(2))
    x = rng.normal(size=(n, d)) * np.sqrt(spectrum) @ qx.T
    y = rng.normal(size=(n, d)) * np.sqrt(spectrum) @ qy.T * 1.1
    ref = reference(x, y)
    ours.append(max(abs(frechet_distance(x, y) - ref) / ref, 1e-17))
    value = sqrtm_formula(x, y)
    is_complex.append(bool(np.iscomplexobj(value) and value.imag != 0))
    naive.append(max(abs(value - ref) / ref, 1e-17) if np.isfinite(value) else np.nan)
fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
ax.loglog(1 / smallest, ours, "o-", label="divergences.frechet_distance")
ax.loglog(1 / smallest, naive, "s-", label="np.cov + scipy.linalg.sqrtm (pytorch-fid)")
for c, e, z in zip(1 / smallest, naive, is_complex, strict=True):
    if z:
        ax.annotate("complex", (c, e), textcoords="offset points", xytext=(4, 6),
                    fontsize=7)
ax.set(xlabel="condition number of the covariances",
       ylabel="relative error against mpmath (50 digits)",
       title=f"FID of two {n} x {d} feature sets")
ax.legend()
