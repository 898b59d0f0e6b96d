"""Ground cost matrices against scipy.spatial.distance.cdist, parallel and serial."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from divergences._jit import serial_twin
from divergences._kernels.cost import cost_matrix
from divergences._metrics import METRICS, metric_code


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("p", [1.0, 2.0, 1.5])
def test_cost_matrix_matches_cdist(metric, p):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(20, 3))
    kwargs = {"p": 3.0} if metric == "minkowski" else {}
    expected = cdist(x, y, metric, **kwargs) ** p
    got = cost_matrix(x, y, metric_code(metric), 3.0, p)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(serial_twin(cost_matrix)(x, y, metric_code(metric), 3.0, p), got,
                               rtol=1e-12, atol=1e-12)


def test_unknown_metric():
    with pytest.raises(ValueError, match="^metric='cosine' is not one of"):
        metric_code("cosine")
