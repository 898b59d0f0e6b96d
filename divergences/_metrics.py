"""Names of the ground metrics accepted by the transport functions."""

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
