"""Ground cost matrices against scipy.spatial.distance.cdist, parallel and serial."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from divergences._jit import serial_twin
from divergences._kernels.cost import cost_matrix
from divergences._metrics import METRICS, metric_code, pair_costs


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


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("p", [1.0, 2.0, 1.5])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_pair_costs_are_the_entries_of_cdist(metric, p, d, monkeypatch):
    """The costs of sparse arcs (the multiscale solver's), in blocks (here of 7 arcs),
    are the entries of SciPy's cost matrix."""
    import divergences._metrics as metrics

    monkeypatch.setattr(metrics, "_PAIR_BLOCK", 7)
    rng = np.random.default_rng(d)
    x, y = rng.normal(size=(30, d)), rng.normal(size=(20, d))
    rows, cols = rng.integers(0, 30, 50), rng.integers(0, 20, 50)
    kwargs = {"p": 3.0} if metric == "minkowski" else {}
    expected = cdist(x, y, metric, **kwargs)[rows, cols] ** p
    np.testing.assert_allclose(pair_costs(x, y, rows, cols, metric_code(metric), 3.0, p),
                               expected, rtol=1e-14, atol=0)
