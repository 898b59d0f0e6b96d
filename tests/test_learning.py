"""The WGAN paper's learning experiment: gradient descent on theta with W1 converges to 0
from any start; with JS (histograms of the samples) the gradient is 0 and theta stays.
And gradient flows of point clouds on W2 (exact) and on the Sinkhorn divergence."""

import math

import numpy as np
import pytest

from divergences import sinkhorn_divergence, wasserstein
from divergences.cli import main
from divergences.demo import gradient_flow, learn, segment_loss

#: the stated budget: |theta| < 1e-3 within this many steps (n = 200, seed 0)
STEPS = 30


@pytest.mark.parametrize("theta0", [-1e4, -3.0, -0.5, 0.01, 2.0, 100.0])
def test_w1_descent_converges_to_zero_from_any_start(theta0):
    path = learn(theta0, "W1", steps=STEPS, n=200, seed=0)
    assert len(path) == STEPS + 1
    assert abs(path[-1][1]) < 1e-3
    losses = [loss for _, _, loss, _ in path]
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))  # descent
    # the loss along the way is the exact W1 = |theta| of the samples
    for _, theta, loss, _ in path[:5]:
        assert loss == pytest.approx(abs(theta), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("theta0", [-2.0, 0.3, 1.0])
def test_js_descent_does_not_move(theta0):
    path = learn(theta0, "JS", steps=STEPS, n=200, seed=0)
    assert all(theta == theta0 for _, theta, _, _ in path)
    assert all(loss == pytest.approx(math.log(2), abs=1e-12) for _, _, loss, _ in path)
    assert all(grad == 0.0 for _, _, _, grad in path)


@pytest.mark.parametrize("theta", [-1.0, -0.01, 0.2, 3.0])
def test_segment_gradients_w1_sign_and_js_zero(theta):
    loss, grad = segment_loss(theta, "W1")
    assert loss == pytest.approx(abs(theta), rel=1e-12)
    assert grad == pytest.approx(math.copysign(1.0, theta), abs=1e-12)
    loss, grad = segment_loss(theta, "JS")
    assert loss == pytest.approx(math.log(2), abs=1e-12) and grad == 0.0
    with pytest.raises(ValueError, match="divergence"):
        segment_loss(theta, "KL2")


def test_demo_learn_prints_both_trajectories(capsys):
    assert main(["demo", "--learn"]) == 0
    out = capsys.readouterr().out
    assert "theta (W1)" in out and "theta (JS)" in out
    last = out.strip().splitlines()[-1]
    assert "JS theta = 1 " in last and "gradient 0" in last


def test_gradient_flows_move_one_cloud_onto_the_other():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)) * 0.5 + [-2.0, 0.0]
    y = rng.normal(size=(40, 2)) * [0.3, 1.0] + [2.0, 1.0]
    clouds, losses = gradient_flow(x, y, "W2", steps=30, lr=0.2)
    assert len(clouds) == len(losses) == 31
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert wasserstein(clouds[-1], y, p=2) < 1e-3 * wasserstein(x, y, p=2)
    clouds, losses = gradient_flow(x, y, "sinkhorn", steps=30, lr=0.2, reg=0.1)
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert sinkhorn_divergence(clouds[-1], y, reg=0.1, tol=1e-6) < 1e-2 * losses[0]
    assert wasserstein(clouds[-1], y, p=2) < 0.1 * wasserstein(x, y, p=2)
