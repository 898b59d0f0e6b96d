"""The Kantorovich–Rubinstein critic of exact W1 solves: 1-Lipschitz, W1 = E_P f - E_Q f."""

import numpy as np
import pytest
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from strategies import point_clouds

from divergences import emd, transport, wasserstein
from divergences._critic import critic_values

METRICS = [("euclidean", {}), ("cityblock", {}), ("chebyshev", {}),
           ("minkowski", {"q": 3.0})]


def _scipy_metric(metric, opts):
    return (metric, {"p": opts["q"]}) if metric == "minkowski" else (metric, {})


@pytest.mark.parametrize(("metric", "opts"), METRICS)
def test_critic_is_1_lipschitz_and_attains_w1(metric, opts):
    rng = np.random.default_rng(len(metric))
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 0.5
    a, b = rng.random(40), rng.random(30)
    a[:5] = 0.0  # zero weights: their points still constrain nothing, f stays optimal
    b[-3:] = 0.0
    a, b = a / a.sum(), b / b.sum()
    res = transport(x, y, a, b, metric=metric, **opts)
    name, kw = _scipy_metric(metric, opts)
    check_transport(res, a, b, cdist(x, y, name, **kw))
    w1 = a @ res.critic(x) - b @ res.critic(y)
    np.testing.assert_allclose(w1, res.cost, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w1, wasserstein(x, y, a, b, metric=metric, **opts), rtol=1e-12)
    z1, z2 = rng.normal(size=(500, 3)) * 3, rng.normal(size=(500, 3)) * 3
    dist = cdist(z1, z2, name, **kw).diagonal()
    gap = np.abs(res.critic(z1) - res.critic(z2))
    assert (gap <= dist * (1 + 1e-12) + 1e-12).all()


@settings(max_examples=30)
@given(point_clouds(max_points=10, dim=2), point_clouds(max_points=10, dim=2),
       st.integers(0, 2**31))
def test_critic_properties(x, y, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random(len(x)) + 0.01, rng.random(len(y)) + 0.01
    a, b = a / a.sum(), b / b.sum()
    res = transport(x, y, a, b, method="exact")
    fx, fy = res.critic(x), res.critic(y)
    scale = max(1.0, np.abs(cdist(x, y)).max())
    assert abs(a @ fx - b @ fy - res.cost) <= 1e-12 * scale
    pts = np.vstack([x, y, rng.normal(size=(10, 2)) * 10])
    vals = res.critic(pts)
    assert (np.abs(vals[:, None] - vals[None, :]) <= cdist(pts, pts) + 1e-12 * scale).all()


def test_seed_critic_on_parallel_segments():
    """E_P0 f - E_Ptheta f = |theta|: the critic separates the two segments."""
    z = np.random.default_rng(1).uniform(size=50)
    p0 = np.column_stack([np.zeros_like(z), z])
    for theta in [-0.8, 0.25, 3.0]:
        pt = np.column_stack([np.full_like(z, theta), z])
        res = transport(p0, pt, method="exact")
        gap = res.critic(p0).mean() - res.critic(pt).mean()
        assert abs(gap - abs(theta)) <= 1e-12


def test_parallel_equals_serial():
    rng = np.random.default_rng(9)
    z, y, g = rng.normal(size=(64, 2)), rng.normal(size=(12, 2)), rng.normal(size=12)
    np.testing.assert_array_equal(critic_values(z, y, g, 0, 2.0, threads=2),
                                  critic_values(z, y, g, 0, 2.0, threads=1))


def test_critic_errors():
    x = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match="^critic is defined for p=1"):
        transport(x, x + 1, p=2).critic(x)
    with pytest.raises(ValueError, match="^critic needs a metric"):
        transport(x, x + 1, metric="sqeuclidean").critic(x)
    with pytest.raises(ValueError, match="^critic: this result has no support"):
        emd([1.0], [1.0], [[0.0]]).critic(x)
    with pytest.raises(ValueError, match="^points must have dimension 2"):
        transport(x, x + 1).critic(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="^points contains NaN"):
        transport(x, x + 1).critic([[np.nan, 0.0]])
