r"""The seed example of the Wasserstein GAN paper, computed from samples.

Two parallel segments in the plane, :math:`P_0 = (0, Z)` and :math:`P_\theta = (\theta, Z)`
with :math:`Z \sim U[0, 1]`. For every :math:`\theta \ne 0` the supports are disjoint, so

.. math:: KL(P_0 \| P_\theta) = +\infty,\quad JS = \log 2,\quad TV = 1,
          \quad\text{while}\quad W_1(P_0, P_\theta) = |\theta|,

and all four are 0 at :math:`\theta = 0`. Only the Wasserstein distance says how far the
segments are apart, which is why it gives a useful gradient to a GAN's generator.

The samples share one draw of Z, so the empirical measures are exactly the segments'
sampled counterparts: W1 is computed by the exact solver on the 2-D points, and KL, JS and TV
on histograms over the union of observed points (``aligned_histograms(..., discrete=True)``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["segment_samples", "sweep", "format_table", "plot_sweep", "segment_loss", "learn",
           "format_learning", "run_learning_demo", "gradient_flow"]


#: Printed before the first computation: a first run on a machine is silent while numba
#: compiles, and users should know why and that it happens once.
COMPILE_NOTE = (
    "(The first run on a machine compiles the numba kernels: up to a minute, with nothing\n"
    " printed meanwhile. They are cached on disk, so later runs start in seconds.)"
)


def segment_samples(
    theta: float, n: int = 200, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Samples of :math:`P_0 = (0, Z)` and :math:`P_\\theta = (\\theta, Z)` with a shared Z."""
    z = np.random.default_rng(seed).uniform(0.0, 1.0, n)
    return np.column_stack([np.zeros(n), z]), np.column_stack([np.full(n, float(theta)), z])


def sweep(thetas: ArrayLike, n: int = 200, seed: int = 0) -> list[dict[str, Any]]:
    """W1 (exact), JS, KL and TV between the two segments' samples for each theta.

    Returns a list of dicts with keys ``theta, W1, JS, KL, TV``.
    """
    from . import aligned_histograms, js, kl, tv, wasserstein

    rows = []
    for theta in np.asarray(thetas, dtype=float).ravel():
        x, y = segment_samples(theta, n, seed)
        p, q = aligned_histograms(x, y, discrete=True)[:2]
        rows.append(
            dict(
                theta=float(theta),
                W1=wasserstein(x, y, method="exact"),
                JS=js(p, q),
                KL=kl(p, q),
                TV=tv(p, q),
            )
        )
    return rows


def format_table(rows: list[dict[str, float]]) -> str:
    """A plain-text table of :func:`sweep`'s rows."""
    lines = [f"{'theta':>7} {'W1':>10} {'JS':>10} {'KL':>8} {'TV':>6}"]
    for r in rows:
        lines.append(
            f"{r['theta']:>7.2f} {r['W1']:>10.6f} {r['JS']:>10.6f} {r['KL']:>8.4g} {r['TV']:>6.3g}"
        )
    return "\n".join(lines)


def plot_sweep(rows: list[dict[str, float]], path: str) -> str | None:
    """The WGAN paper's Figure 1: W1 and JS against theta. Returns the path, or None
    when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    theta = [r["theta"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    axes[0].plot(theta, [r["W1"] for r in rows], color="tab:blue")
    axes[0].set(title="Earth-Mover distance $W_1(P_0, P_\\theta)$", xlabel="$\\theta$")
    axes[1].plot(theta, [r["JS"] for r in rows], color="tab:red", marker=".", linestyle="none")
    axes[1].axhline(math.log(2), color="grey", linewidth=0.8, linestyle="--")
    axes[1].set(title="Jensen-Shannon $JS(P_0, P_\\theta)$", xlabel="$\\theta$",
                ylim=(-0.05, 0.8))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_demo(table_thetas: Any = (-1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0), plot_points: int = 41,
             n: int = 200, seed: int = 0, out: str | None = "divergences-demo.png") -> int:
    """Print the table for a few theta and save the Figure 1 plot; returns 0."""
    print("Two parallel segments P0 = (0, Z), Ptheta = (theta, Z), Z ~ U[0, 1]"
          f" ({n} shared samples of Z)")
    print("Expected for theta != 0: W1 = |theta|, JS = log 2 = 0.693147, KL = inf, TV = 1")
    print(COMPILE_NOTE + "\n", flush=True)
    start = time.perf_counter()
    print(format_table(sweep(table_thetas, n, seed)))
    print(f"\n(computed in {time.perf_counter() - start:.1f} s)")
    if out:
        path = plot_sweep(sweep(np.linspace(-1, 1, plot_points), n, seed), out)
        print(f"\nplot saved to {path}" if path else "\n(matplotlib not installed: no plot)")
    return 0


# ---------------------------------------------------------------------------------------
# The paper's learning experiment: gradient descent on theta.


def segment_loss(theta, divergence="W1", n=200, seed=0):
    r"""``(loss, dloss/dtheta)`` between the samples of :math:`P_0` and :math:`P_\theta`.

    ``"W1"``: the exact :math:`W_1` and its gradient by the chain rule through the
    generator :math:`g_\theta(z) = (\theta, z)`: every sample point :math:`y_j` moves along
    the first axis with :math:`\theta`, so :math:`dW_1/d\theta = \sum_j \partial W_1 /
    \partial y_{j,1}` (``transport(...).gradient("y")``), which is
    :math:`\operatorname{sign}\theta`. ``"JS"``: the Jensen-Shannon divergence of the
    histograms of the samples (``aligned_histograms(..., discrete=True)``), piecewise
    constant in :math:`\theta`; its derivative (central difference, step ``1e-6``) is
    0 wherever it exists, i.e. for every :math:`\theta` but 0.
    """
    from . import aligned_histograms, js, transport

    x, y = segment_samples(theta, n, seed)
    if divergence == "W1":
        res = transport(x, y, method="exact")
        return res.distance, float(res.gradient("y")[:, 0].sum())
    if divergence != "JS":
        raise ValueError(f"divergence must be 'W1' or 'JS', got {divergence!r}")

    def value(t):
        return js(*aligned_histograms(*segment_samples(t, n, seed), discrete=True)[:2])

    h = 1e-6
    return value(theta), (value(theta + h) - value(theta - h)) / (2 * h)


def learn(theta0, divergence="W1", *, steps=50, lr=0.3, n=200, seed=0):
    r"""Gradient descent on :math:`\theta` for the loss of :func:`segment_loss`.

    Each step is :math:`\theta \leftarrow \theta - t\, \partial_\theta L` with the
    backtracking (Armijo) step: ``t`` starts at ``lr`` (then at twice the last accepted
    step) and is halved until the loss decreases by at least
    :math:`t (\partial_\theta L)^2 / 2`. :math:`W_1 = |\theta|` is
    not differentiable at 0, so a fixed step would end oscillating with amplitude
    ``lr``; the backtracking makes it converge. With JS the gradient is 0 and
    :math:`\theta` never moves. Returns the list of ``(step, theta, loss, gradient)``
    (``steps + 1`` entries).
    """
    theta = float(theta0)
    loss, grad = segment_loss(theta, divergence, n, seed)
    path = [(0, theta, loss, grad)]
    t = lr / 2
    for k in range(1, steps + 1):
        t *= 2  # try twice the last accepted step: far starts are reached geometrically fast
        while grad != 0.0 and t > 1e-12:
            new = theta - t * grad
            new_loss, new_grad = segment_loss(new, divergence, n, seed)
            if new_loss <= loss - 0.5 * t * grad * grad:
                theta, loss, grad = new, new_loss, new_grad
                break
            t /= 2
        path.append((k, theta, loss, grad))
    return path


def format_learning(paths, every=5):
    """A plain-text table of several :func:`learn` trajectories (``{name: path}``), one
    row every ``every`` steps."""
    names = list(paths)
    lines = [f"{'step':>5}" + "".join(f" {name:>16}" for name in names)]
    for k in range(0, len(paths[names[0]]), every):
        lines.append(f"{k:>5}" + "".join(f" {paths[name][k][1]:>16.8f}" for name in names))
    return "\n".join(lines)


def run_learning_demo(theta0=1.0, steps=30, n=200, seed=0):
    """Print gradient descent on theta with W1 and with JS (the paper's point); returns 0."""
    print(f"Learning theta: P0 = (0, Z), Ptheta = (theta, Z), {n} shared samples of Z, "
          f"theta0 = {theta0}")
    print("gradient descent with a backtracking step, gradients from the samples:\n"
          "  W1: d/dtheta via transport(...).gradient('y') = sign(theta)\n"
          "  JS: histograms of the samples, derivative 0 for theta != 0\n")
    paths = {name: learn(theta0, name, steps=steps, n=n, seed=seed) for name in ("W1", "JS")}
    print(format_learning({"theta (W1)": paths["W1"], "theta (JS)": paths["JS"]}, every=3))
    w1, js_ = paths["W1"][-1], paths["JS"][-1]
    print(f"\nafter {steps} steps: W1 theta = {w1[1]:.3g} (W1 = {w1[2]:.3g}); "
          f"JS theta = {js_[1]:.3g} (JS = {js_[2]:.6f}, gradient {js_[3]:g})")
    return 0


def gradient_flow(x, y, loss="W2", *, steps=30, lr=0.2, reg=0.1, tol=1e-6):
    r"""Move the point cloud ``x`` onto ``y`` by gradient descent on its points.

    ``loss="W2"``: :math:`W_2^2` (exact), gradient ``transport(x, y, p=2).gradient("x")``
    (:math:`\frac{2}{n}(x_i - T(x_i))` for a matching :math:`T`); ``"sinkhorn"``: the
    Sinkhorn divergence :math:`S_\varepsilon` (``p=2``, ``reg``, stopping at the
    marginal error ``tol``), gradient from
    ``sinkhorn_divergence(..., return_gradient=True)``. Uniform weights; the step is
    :math:`x_i \leftarrow x_i - \text{lr}\; n\, \nabla_{x_i} L` (the factor ``n`` makes it
    the step of the particle's own velocity). Returns the list of clouds and the list
    of losses, ``steps + 1`` each.
    """
    from . import sinkhorn_divergence, transport

    x = np.array(x, dtype=np.float64)
    clouds, losses = [x.copy()], []
    for _ in range(steps + 1):
        if loss == "W2":
            res = transport(x, y, p=2, method="exact")
            value, grad = res.cost, res.gradient("x")
        else:
            value, g = sinkhorn_divergence(x, y, reg=reg, p=2, return_gradient=True, tol=tol)
            grad = g.x
        losses.append(value)
        if len(losses) == steps + 1:
            break
        x = x - lr * x.shape[0] * grad
        clouds.append(x.copy())
    return clouds, losses
