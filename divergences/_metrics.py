"""Names of the ground metrics accepted by the transport functions, and their cost matrices."""

import numpy as np

from ._kernels.cost import CHEBYSHEV, CITYBLOCK, EUCLIDEAN, MINKOWSKI, SQEUCLIDEAN
from ._validation import check_choice

#: metric name -> kernel code
METRICS = {
    "euclidean": EUCLIDEAN,
    "sqeuclidean": SQEUCLIDEAN,
    "cityblock": CITYBLOCK,
    "chebyshev": CHEBYSHEV,
    "minkowski": MINKOWSKI,
}


def metric_code(metric):
    """The kernel code of a metric name; ValueError naming ``metric`` otherwise."""
    return METRICS[check_choice(metric, "metric", METRICS)]


_CDIST_NAMES = {EUCLIDEAN: "euclidean", SQEUCLIDEAN: "sqeuclidean", CITYBLOCK: "cityblock",
                CHEBYSHEV: "chebyshev", MINKOWSKI: "minkowski"}


def ground_costs(x, y, code, q, p):
    """``C_ij = d(x_i, y_j) ** p`` by SciPy's ``cdist``, for the exact and the dense Sinkhorn
    paths (compiled C: unlike the numba ``cost_matrix`` kernel, nothing to compile on the
    first call, ~0.6 s of CPU; as fast; equal to the kernel's costs within an ulp).
    Powers that overflow or underflow give inf or 0, as in the kernel."""
    from scipy.spatial.distance import cdist  # not at import (~0.07 s)

    cost = cdist(x, y, _CDIST_NAMES[code], **({"p": q} if code == MINKOWSKI else {}))
    return _to_power(cost, p)


def _to_power(dist, p):
    """``dist ** p`` in place (overflow gives inf, underflow 0)."""
    with np.errstate(over="ignore", under="ignore"):
        if p == 2.0:
            np.square(dist, out=dist)
        elif p != 1.0:
            np.power(dist, p, out=dist)
    return dist


#: arcs whose costs :func:`pair_costs` computes at once (bounds its temporaries)
_PAIR_BLOCK = 1 << 20


def pair_costs(x, y, rows, cols, code, q, p):
    """``d(x[rows[e]], y[cols[e]]) ** p`` for every arc ``e`` (the costs of sparse arcs),
    in NumPy: the coordinate differences summed in their order, as in
    :func:`ground_costs` and the kernels' ``ground_distance``; in blocks of
    :data:`_PAIR_BLOCK` arcs. Powers that overflow or underflow give inf or 0."""
    out = np.empty(rows.shape[0])
    with np.errstate(over="ignore", under="ignore"):
        for lo in range(0, rows.shape[0], _PAIR_BLOCK):
            hi = min(lo + _PAIR_BLOCK, rows.shape[0])
            diff = np.abs(x[rows[lo:hi]] - y[cols[lo:hi]])
            if code == CHEBYSHEV:
                dist = diff.max(axis=1, initial=0.0)
            else:
                if code == EUCLIDEAN or code == SQEUCLIDEAN:
                    np.square(diff, out=diff)
                elif code == MINKOWSKI:
                    np.power(diff, q, out=diff)
                dist = diff[:, 0].copy() if diff.shape[1] else np.zeros(hi - lo)
                for k in range(1, diff.shape[1]):
                    dist += diff[:, k]
                if code == EUCLIDEAN:
                    np.sqrt(dist, out=dist)
                elif code == MINKOWSKI:
                    np.power(dist, 1.0 / q, out=dist)
            out[lo:hi] = _to_power(dist, p)
    return out
