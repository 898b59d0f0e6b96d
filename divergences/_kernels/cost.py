"""Ground cost matrices C_ij = d(x_i, y_j)**p, built row-parallel.

Metric codes (see :data:`divergences._metrics.METRICS`): 0 euclidean, 1 sqeuclidean,
2 cityblock, 3 chebyshev, 4 minkowski (order ``q``).
"""

import numpy as np
from numba import prange

from .._jit import kernel

EUCLIDEAN, SQEUCLIDEAN, CITYBLOCK, CHEBYSHEV, MINKOWSKI = 0, 1, 2, 3, 4


@kernel
def ground_distance(x, y, metric, q):
    """Distance between two points ``x`` and ``y`` (1-D arrays of equal length)."""
    acc = 0.0
    if metric == EUCLIDEAN or metric == SQEUCLIDEAN:
        for k in range(x.shape[0]):
            t = x[k] - y[k]
            acc += t * t
        return np.sqrt(acc) if metric == EUCLIDEAN else acc
    if metric == CITYBLOCK:
        for k in range(x.shape[0]):
            acc += abs(x[k] - y[k])
        return acc
    if metric == CHEBYSHEV:
        for k in range(x.shape[0]):
            acc = max(acc, abs(x[k] - y[k]))
        return acc
    for k in range(x.shape[0]):
        acc += abs(x[k] - y[k]) ** q
    return acc ** (1.0 / q)


@kernel(parallel=True)
def cost_matrix(x, y, metric, q, p):
    """``C[i, j] = d(x[i], y[j]) ** p`` for point sets ``x`` (n, d) and ``y`` (m, d)."""
    n, m = x.shape[0], y.shape[0]
    out = np.empty((n, m))
    for i in prange(n):
        for j in range(m):
            dist = ground_distance(x[i], y[j], metric, q)
            out[i, j] = dist if p == 1.0 else dist**p
    return out
