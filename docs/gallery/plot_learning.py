"""
Learning theta: W1 moves, JS does not
=====================================

The WGAN paper's learning experiment: gradient descent on theta with W1 and with JS.

P0 = (0, Z) and Ptheta = (theta, Z), 200 shared samples of Z. The W1 gradient comes from
the exact plan (``transport(...).gradient("y")``, chained through the generator
(theta, z)); the JS one from the histograms of the samples, which are piecewise constant
in theta: its derivative is 0 wherever it exists, and theta never moves.
"""

import matplotlib.pyplot as plt

from divergences.demo import learn

fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), constrained_layout=True)
for theta0, color in ((2.0, "tab:blue"), (-1.2, "tab:green"), (0.4, "tab:purple")):
    for ax, name in zip(axes, ("W1", "JS"), strict=True):
        path = learn(theta0, name, steps=25)
        ax.plot([s for s, *_ in path], [t for _, t, *_ in path], marker=".",
                color=color, label=f"$\\theta_0$ = {theta0}")
axes[0].set(title="gradient descent on $W_1(P_0, P_\\theta)$", xlabel="step",
            ylabel="$\\theta$")
axes[1].set(title="gradient descent on $JS(P_0, P_\\theta)$ (gradient 0)", xlabel="step")
for ax in axes:
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax.legend(fontsize=8)
