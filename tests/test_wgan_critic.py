"""The WGAN critic: its hand-written gradients against finite differences, and its
estimates held against the exact W1 (network simplex) and the exact Kantorovich critic."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from divergences import transport, wasserstein
from divergences.evaluation import coupling_upper_bound, lipschitz_constant, wgan_critic
from divergences.evaluation._mlp import (
    forward,
    init_params,
    input_gradient,
    penalty_and_gradients,
    value_gradients,
)


def _fd_params(fun, params, h=1e-6):
    out = []
    for p in params:
        g = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = fun()
            p[idx] = old - h
            down = fun()
            p[idx] = old
            g[idx] = (up - down) / (2 * h)
        out.append(g)
    return out


def _rel(got, want):
    got, want = np.concatenate([g.ravel() for g in got]), np.concatenate([w.ravel() for w in want])
    return np.linalg.norm(got - want) / np.linalg.norm(want)


@pytest.mark.parametrize("sizes", [(2, 5), (2, 6, 4), (3, 4, 5, 3)])
def test_penalty_parameter_gradient_matches_finite_differences(sizes):
    rng = np.random.default_rng(len(sizes))
    params = init_params(rng, sizes)
    x = rng.normal(size=(9, sizes[0]))
    _, grads, _ = penalty_and_gradients(params, x, 10.0)
    fd = _fd_params(lambda: penalty_and_gradients(params, x, 10.0)[0], params)
    assert _rel(grads, fd) < 1e-6
    # the output bias does not enter the input gradient
    assert grads[-1] == 0.0


def test_value_and_input_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = init_params(rng, (2, 6, 5))
    x, weight = rng.normal(size=(11, 2)), rng.normal(size=11)
    grads, _ = value_gradients(params, x, weight)
    assert _rel(grads, _fd_params(lambda: weight @ forward(params, x)[0], params)) < 1e-6
    h = 1e-6
    fd = np.column_stack([(forward(params, x + h * e)[0] - forward(params, x - h * e)[0])
                          / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(input_gradient(params, x)[0], fd, rtol=1e-6, atol=1e-9)


def _gaussians(seed=0, n=500):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) * [0.8, 1.2] + [1.0, 0.5]


def test_gradient_penalty_estimate_within_10_percent_of_exact_w1():
    x, y = _gaussians()
    w1 = wasserstein(x, y, method="exact")
    res = wgan_critic(x, y, constraint="gradient_penalty", steps=600, seed=0)
    assert abs(res.estimate - w1) <= 0.1 * w1
    assert res.lower_bound <= w1 <= res.upper_bound
    assert res.upper_bound <= 1.02 * w1  # a near-optimal coupling
    assert res.history["estimate"].shape == (600,)
    np.testing.assert_allclose(res.critic(x).mean() - res.critic(y).mean(), res.estimate)


def test_weight_clipping_is_certified_but_far_below_w1_and_reproducible():
    x, y = _gaussians()
    w1 = wasserstein(x, y, method="exact")
    res = wgan_critic(x, y, constraint="weight_clipping", clip=0.01, steps=300, seed=3)
    assert res.estimate / res.lipschitz <= w1
    assert res.lower_bound <= w1 <= res.upper_bound
    assert 0 < res.estimate < 0.01 * w1  # the capacity problem: a tiny Lipschitz constant
    assert res.lipschitz < 0.01
    assert all(np.abs(p).max() <= 0.01 for p in res.params)
    again = wgan_critic(x, y, constraint="weight_clipping", clip=0.01, steps=300, seed=3)
    assert again.estimate == res.estimate and again.lipschitz == res.lipschitz
    np.testing.assert_array_equal(again.history["estimate"], res.history["estimate"])
    gp = wgan_critic(x[:100], y[:100], steps=50, seed=1)
    assert gp.estimate == wgan_critic(x[:100], y[:100], steps=50, seed=1).estimate


def test_lipschitz_constant_and_the_exact_kantorovich_critic():
    rng = np.random.default_rng(4)
    pts, f = rng.normal(size=(60, 2)), rng.normal(size=60)
    d = cdist(pts, pts)
    brute = max(abs(f[i] - f[j]) / d[i, j] for i in range(60) for j in range(60) if i != j)
    assert lipschitz_constant(f, pts) == pytest.approx(brute, rel=1e-15)
    # the exact potential: 1-Lipschitz, attains W1; the bounds pinch it
    x, y = _gaussians(1, 200)
    res = transport(x, y, method="exact")
    fz = res.critic(np.concatenate([x, y]))
    lip = lipschitz_constant(fz, np.concatenate([x, y]))
    assert lip <= 1 + 1e-12
    assert fz[:200].mean() - fz[200:].mean() == pytest.approx(res.distance, rel=1e-12)
    assert res.distance <= coupling_upper_bound(x, y) <= 1.02 * res.distance


def test_wgan_critic_rejects_bad_input():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="constraint"):
        wgan_critic(x, x, constraint="spectral")
    with pytest.raises(ValueError, match="hidden"):
        wgan_critic(x, x, hidden=())
    with pytest.raises(TypeError, match="steps"):
        wgan_critic(x, x, steps=1.5)
    with pytest.raises(ValueError, match="clip"):
        wgan_critic(x, x, clip=0.0)
    with pytest.raises(ValueError, match="dimension"):
        wgan_critic(x, np.zeros((5, 3)))
    res = wgan_critic(x, x + 1.0, steps=5, seed=0)
    with pytest.raises(ValueError, match="dimension"):
        res.critic(np.zeros((2, 3)))
