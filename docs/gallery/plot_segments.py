r"""
The parallel segments (Figure 1 of the WGAN paper)
===================================================

Two parallel segments in the plane, :math:`P_0 = (0, Z)` and :math:`P_\theta = (\theta, Z)`
with :math:`Z \sim U[0, 1]`. For every :math:`\theta \ne 0` their supports are disjoint, so
KL is infinite, JS is :math:`\log 2` and TV is 1, whatever :math:`\theta`; only the
Wasserstein distance, :math:`W_1 = |\theta|`, says how far apart they are.

We draw 200 samples of :math:`Z`, shared by both segments, and compute :math:`W_1` with the
exact solver on the 2-D points and the information divergences on the histograms of the
samples over the union of observed points.
"""

import matplotlib.pyplot as plt
import numpy as np

from divergences import aligned_histograms, js, kl, tv, wasserstein

z = np.random.default_rng(0).uniform(0.0, 1.0, 200)


def segments(theta):
    """Samples of P_0 and P_theta with the same draw of Z."""
    return np.column_stack([np.zeros_like(z), z]), np.column_stack([np.full_like(z, theta), z])


# %%
# A few values of :math:`\theta`: every information divergence is saturated.

for theta in (-0.5, 0.0, 0.1, 1.0):
    x, y = segments(theta)
    p, q = aligned_histograms(x, y, discrete=True)[:2]
    print(f"theta={theta:5.2f}  W1={wasserstein(x, y):.4f}  JS={js(p, q):.6f}  "
          f"KL={kl(p, q)}  TV={tv(p, q)}")

# %%
# The sweep of the paper's figure: :math:`W_1` is continuous in :math:`\theta` and gives a
# useful gradient; JS jumps from 0 to :math:`\log 2` and stays flat.

thetas = np.linspace(-1, 1, 41)
w1, jsd = [], []
for theta in thetas:
    x, y = segments(theta)
    p, q = aligned_histograms(x, y, discrete=True)[:2]
    w1.append(wasserstein(x, y))
    jsd.append(js(p, q))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
axes[0].plot(thetas, w1, color="tab:blue")
axes[0].set(title=r"Earth-Mover distance $W_1(P_0, P_\theta)$", xlabel=r"$\theta$")
axes[1].plot(thetas, jsd, color="tab:red", marker=".", linestyle="none")
axes[1].axhline(np.log(2), color="grey", linewidth=0.8, linestyle="--")
axes[1].set(title=r"Jensen-Shannon $JS(P_0, P_\theta)$", xlabel=r"$\theta$", ylim=(-0.05, 0.8))
plt.show()
