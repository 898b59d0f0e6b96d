"""
Gradient flows of a point cloud
===============================

A 2-D point cloud moved onto another by gradient flow: on W2 (exact) and on the Sinkhorn
divergence. Each particle follows minus the gradient of the loss with respect to its
position (``transport(...).gradient("x")`` and
``sinkhorn_divergence(..., return_gradient=True)``).
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences.demo import gradient_flow

rng = np.random.default_rng(0)
n = 120
angle = rng.uniform(0, 2 * np.pi, n)
x = rng.normal(size=(n, 2)) * 0.35 + [-2.0, 0.0]  # a blob
y = np.column_stack([np.cos(angle), np.sin(angle)]) * 1.2 + [2.0, 0.5]  # a ring
y += rng.normal(size=(n, 2)) * 0.05
shown = (0, 2, 5, 30)
fig, axes = plt.subplots(2, len(shown), figsize=(12, 6), sharex=True, sharey=True,
                         constrained_layout=True)
for row, (loss, label) in enumerate((("W2", "$W_2^2$ (exact)"),
                                     ("sinkhorn", "Sinkhorn divergence, reg = 0.1"))):
    clouds, losses = gradient_flow(x, y, loss, steps=max(shown), lr=0.2, reg=0.1)
    for ax, k in zip(axes[row], shown, strict=True):
        ax.scatter(*y.T, s=6, color="tab:blue", alpha=0.5)
        ax.scatter(*clouds[k].T, s=6, color="tab:red")
        ax.set(title=f"{label}\nstep {k}: loss {losses[k]:.3g}")
        ax.set_aspect("equal")
