"""
Partial transport ignores outliers
==================================

Balanced and partial exact plans side by side.
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences import transport


def draw(ax, x, y, plan, title):
    ax.scatter(*x.T, s=14, color="tab:blue", zorder=3, label="source")
    ax.scatter(*y.T, s=14, color="tab:orange", zorder=3, label="target")
    top = plan.max()
    for i, j in zip(*np.nonzero(plan > 1e-3 * top), strict=True):
        ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="black",
                alpha=float(plan[i, j] / top), linewidth=0.8)
    ax.set(title=title, xticks=[], yticks=[])


rng = np.random.default_rng(3)
n = 40
x = rng.normal(size=(n, 2)) * 0.4
y = rng.normal(size=(n, 2)) * 0.4 + np.array([1.5, 0.0])
y[:4] = rng.normal(size=(4, 2)) * 0.3 + np.array([1.5, 5.0])  # 10 % outliers
full = transport(x, y, p=2, method="exact")
part = transport(x, y, p=2, mass=0.9)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
draw(axes[0], x, y, np.asarray(full.plan),
     f"balanced: cost {full.cost:.3f} (outliers included)")
draw(axes[1], x, y, np.asarray(part.plan),
     f"partial, mass 0.9: cost {part.cost:.3f}")
axes[0].legend(loc="lower right")
