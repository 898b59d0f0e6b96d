"""
Unbalanced transport as reg_m grows
===================================

Unbalanced transport plans as ``reg_m`` grows: outliers are dropped, then transported.
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences import sinkhorn


def clouds():
    """A source of 40 points with 8 far outliers, a target of 40 points; equal masses."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=(32, 2)) * 0.35,
                        rng.normal(size=(8, 2)) * 0.2 + np.array([0.5, 3.5])])
    y = rng.normal(size=(40, 2)) * 0.35 + np.array([1.0, 0.0])
    return x, y, np.full(40, 1 / 40), np.full(40, 1 / 40)


def draw(ax, x, y, a, b, plan, title):
    """Points sized by their weight (hollow) and by the mass the plan moves (filled)."""
    ax.scatter(*x.T, s=2000 * a, facecolors="none", edgecolors="tab:blue", zorder=3)
    ax.scatter(*y.T, s=2000 * b, facecolors="none", edgecolors="tab:orange", zorder=3)
    ax.scatter(*x.T, s=2000 * plan.sum(axis=1), color="tab:blue", zorder=4)
    ax.scatter(*y.T, s=2000 * plan.sum(axis=0), color="tab:orange", zorder=4)
    top = plan.max()
    for i, j in zip(*np.nonzero(plan > 2e-2 * top), strict=True):
        ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="black",
                alpha=float(plan[i, j] / top), linewidth=0.7)
    ax.set(title=title, xticks=[], yticks=[])


x, y, a, b = clouds()
C = ((x[:, None] - y[None]) ** 2).sum(-1)
reg = 0.05
rhos = [0.1, 1.0, 10.0, None]
fig, axes = plt.subplots(1, 5, figsize=(18, 3.8), constrained_layout=True)
for ax, rho in zip(axes[:-1], rhos, strict=True):
    res = sinkhorn(a, b, C, reg) if rho is None else sinkhorn(a, b, C, reg, reg_m=rho)
    kept = res.plan[32:].sum() / a[32:].sum()
    name = "balanced" if rho is None else f"reg_m = {rho:g}"
    draw(ax, x, y, a, b, res.plan,
         f"{name}: mass moved {res.plan.sum():.2f}\noutliers moved {kept:.0%}")
grid = np.geomspace(0.01, 1000, 40)
moved = [sinkhorn(a, b, C, reg, reg_m=r).plan for r in grid]
axes[-1].semilogx(grid, [p.sum() for p in moved], label="all mass")
axes[-1].semilogx(grid, [p[32:].sum() / a[32:].sum() for p in moved],
                  label="outliers' mass")
axes[-1].set(xlabel="reg_m", ylabel="fraction transported", ylim=(0, 1.05),
             title=f"transported mass (reg = {reg:g})")
axes[-1].legend()
