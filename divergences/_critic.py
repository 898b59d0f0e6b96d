r"""The Kantorovich–Rubinstein critic of an exact W1 solve, evaluated anywhere in R^d.

By Kantorovich–Rubinstein duality (the WGAN seed documents),

.. math:: W_1(P, Q) = \sup_{\|f\|_L \le 1} \mathbb{E}_{P} f - \mathbb{E}_{Q} f,

and an optimal ``f`` is the c-transform of the target potential ``g`` of the exact LP:

.. math:: f(z) = \min_j \big(d(z, y_j) - g_j\big).

A minimum of 1-Lipschitz functions is 1-Lipschitz for ``d``; and since
:math:`f_i + g_j \le d(x_i, y_j)` for all pairs, :math:`f(x_i) \ge f_i` and
:math:`f(y_j) \le -g_j`, so :math:`\sum_i a_i f(x_i) - \sum_j b_j f(y_j) \ge W_1`, while
the Lipschitz bound gives the reverse inequality: equality holds.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from ._kernels.cost import SQEUCLIDEAN, ground_distance
from ._scaling import half_range, power_of_two_scale
from ._thread_ranges import run_in_ranges
from ._validation import check_points

__all__ = ["evaluate_critic"]


@kernel
def _critic_rows(z, y, g, metric, q, out, lo, hi):
    """``out[k] = min_j d(z[k], y[j]) - g[j]`` for ``k`` in ``lo .. hi-1``."""
    for k in range(lo, hi):
        best = np.inf
        for j in range(y.shape[0]):
            v = ground_distance(z[k], y[j], metric, q) - g[j]
            if v < best:
                best = v
        out[k] = best


def critic_values(z, y, g, metric, q, threads=None):
    """``out[k] = min_j d(z[k], y[j]) - g[j]``, ranges of the points ``z`` in Python threads
    (:func:`divergences._thread_ranges.run_in_ranges`; ``threads=None``: numba's thread
    count): nothing parallel to compile (a ``prange`` kernel: about 1 s of a first call)."""
    out = np.empty(z.shape[0])
    run_in_ranges(_critic_rows, (z, y, g, metric, q, out), z.shape[0], threads, per_thread=1)
    return out


def evaluate_critic(result, points):
    """The critic of ``result`` (an exact p=1 solve between point sets) at ``points``.

    ``points`` has shape ``(k, d)`` (or ``(k,)`` in 1-D); returns an ndarray of shape
    ``(k,)``.
    """
    if result.p != 1:
        raise ValueError(
            f"critic is defined for p=1 (Kantorovich–Rubinstein duality), got p={result.p}"
        )
    x, y, code, q = result._support[:4]
    if code == SQEUCLIDEAN:
        raise ValueError("critic needs a metric; 'sqeuclidean' is not one (use p=1 with "
                         "metric='euclidean')")
    z = check_points(points, "points")
    if z.shape[1] != y.shape[1]:
        raise ValueError(f"points must have dimension {y.shape[1]}, got {z.shape[1]}")
    g = np.asarray(result.potentials[1], dtype=np.float64)
    # f is 1-homogeneous in (z, y, g): divide by a power of two (exact) when distances
    # would overflow or underflow
    scale = power_of_two_scale(half_range(z, y), 1.0, y.shape[1])
    if scale == 1.0:
        return critic_values(z, y, g, code, q)
    return scale * critic_values(z / scale, y / scale, g / scale, code, q)
