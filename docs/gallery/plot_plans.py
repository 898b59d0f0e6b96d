"""Exact and entropic transport plans between two 2-D point clouds, for several reg."""

import os

import matplotlib.pyplot as plt
import numpy as np

from divergences import transport

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated")


def draw_plan(ax, x, y, plan, title):
    ax.scatter(*x.T, s=12, color="tab:blue", zorder=3)
    ax.scatter(*y.T, s=12, color="tab:orange", zorder=3)
    top = plan.max()
    for i, j in zip(*np.nonzero(plan > 1e-3 * top), strict=True):
        ax.plot([x[i, 0], y[j, 0]], [x[i, 1], y[j, 1]], color="black",
                alpha=float(plan[i, j] / top), linewidth=0.8)
    ax.set(title=title, xticks=[], yticks=[])


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)) * 0.5
    y = rng.normal(size=(30, 2)) * 0.5 + np.array([2.0, 1.0])
    regs = [None, 0.1, 0.5, 2.0]
    fig, axes = plt.subplots(1, len(regs), figsize=(13, 3.4), constrained_layout=True)
    for ax, reg in zip(axes, regs, strict=True):
        if reg is None:
            res = transport(x, y, p=2, method="exact")
            title = f"exact: $W_2^2$ = {res.cost:.3f}"
        else:
            res = transport(x, y, p=2, method="sinkhorn", reg=reg)
            title = f"Sinkhorn reg={reg}: <P,C> = {res.cost:.3f}"
        draw_plan(ax, x, y, np.asarray(res.plan), title)
    fig.savefig(os.path.join(OUT, "plans.png"), dpi=100)
    plt.close(fig)
