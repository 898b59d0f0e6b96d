"""The Kantorovich-Rubinstein critic of two 2-D samples, as a heat map."""

import os

import matplotlib.pyplot as plt
import numpy as np

from divergences import transport

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated")

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2)) * 0.4 + np.array([-1.0, 0.0])
    y = rng.normal(size=(60, 2)) * np.array([0.3, 0.8]) + np.array([1.0, 0.5])
    res = transport(x, y, p=1, method="exact")
    grid = np.linspace(-3, 3, 200)
    gx, gy = np.meshgrid(grid, grid)
    values = res.critic(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    mesh = ax.pcolormesh(gx, gy, values, cmap="RdBu_r", shading="auto")
    ax.contour(gx, gy, values, levels=15, colors="black", linewidths=0.4)
    ax.scatter(*x.T, s=10, color="tab:red", label="P (f high)")
    ax.scatter(*y.T, s=10, color="tab:blue", label="Q (f low)")
    ax.set(title=f"critic f, 1-Lipschitz; $W_1$ = E_P f - E_Q f = {res.distance:.4f}")
    ax.legend(loc="lower right", fontsize=8)
    fig.colorbar(mesh, ax=ax)
    fig.savefig(os.path.join(OUT, "critic.png"), dpi=100)
    plt.close(fig)
