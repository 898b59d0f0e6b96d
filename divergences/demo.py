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

__all__ = ["segment_samples", "sweep", "format_table", "plot_sweep"]


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


def sweep(thetas: ArrayLike, n: int = 200, seed: int = 0) -> list[dict[str, float]]:
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
