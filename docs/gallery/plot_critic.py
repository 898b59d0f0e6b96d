r"""
The Kantorovich-Rubinstein critic
=================================

By Kantorovich-Rubinstein duality,
:math:`W_1(P, Q) = \max_{\|f\|_L \le 1} \mathbb{E}_P f - \mathbb{E}_Q f`. The exact solver
returns dual potentials from which the maximiser is built everywhere in the plane:
:math:`f(z) = \min_j d(z, y_j) - g_j`. This is the function the critic of a Wasserstein
GAN learns to approximate.
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences import transport

rng = np.random.default_rng(2)
x = rng.normal(size=(60, 2)) * 0.4 + np.array([-1.0, 0.0])
y = rng.normal(size=(60, 2)) * np.array([0.3, 0.8]) + np.array([1.0, 0.5])
res = transport(x, y, p=1, method="exact")

# %%
# The critic's mean difference between the two samples is :math:`W_1`.

print(f"W1 = {res.distance:.6f}")
print(f"E_P f - E_Q f = {res.critic(x).mean() - res.critic(y).mean():.6f}")

# %%
# The critic on a grid: high on P, low on Q, with slope at most 1 everywhere.

grid = np.linspace(-3, 3, 200)
gx, gy = np.meshgrid(grid, grid)
values = res.critic(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
mesh = ax.pcolormesh(gx, gy, values, cmap="RdBu_r", shading="auto")
ax.contour(gx, gy, values, levels=15, colors="black", linewidths=0.4)
ax.scatter(*x.T, s=10, color="tab:red", label="P (f high)")
ax.scatter(*y.T, s=10, color="tab:blue", label="Q (f low)")
ax.set(title="critic f, 1-Lipschitz")
ax.legend(loc="lower right", fontsize=8)
fig.colorbar(mesh, ax=ax)
plt.show()
