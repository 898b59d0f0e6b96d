"""
Exact and entropic transport plans
==================================

The exact optimal plan between two clouds of 30 points with uniform weights is a
permutation (each point sends all its mass to one point). Sinkhorn's entropic plan spreads
the mass, the more so as ``reg`` grows; its cost :math:`\\langle P, C\\rangle` rises above
:math:`W_2^2` accordingly.
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences import transport

rng = np.random.default_rng(1)
x = rng.normal(size=(30, 2)) * 0.5
y = rng.normal(size=(30, 2)) * 0.5 + np.array([2.0, 1.0])


def draw_plan(ax, plan, title):
    """Segments between x_i and y_j, darker for more mass."""
    ax.scatter(*x.T, s=12, color="tab:blue", zorder=3)
    ax.scatter(*y.T, s=12, color="tab:orange", zorder=3)
    top = plan.max()
    for i, j in zip(*np.nonzero(plan > 1e-3 * top), strict=True):
        ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="black",
                alpha=float(plan[i, j] / top), linewidth=0.8)
    ax.set(title=title, xticks=[], yticks=[])


# %%
# Every solver returns a :class:`~divergences.TransportResult`; its ``repr`` is a summary.

exact = transport(x, y, p=2, method="exact")
print(exact)
print("non-zero entries of the exact plan:", np.count_nonzero(exact.plan))

# %%
# The plans side by side.

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), constrained_layout=True)
draw_plan(axes[0], exact.plan, f"exact: $W_2^2$ = {exact.cost:.3f}")
for ax, reg in zip(axes[1:], (0.1, 0.5, 2.0), strict=True):
    res = transport(x, y, p=2, method="sinkhorn", reg=reg)
    draw_plan(ax, res.plan, f"Sinkhorn reg={reg}: <P,C> = {res.cost:.3f}")
plt.show()
