"""Sliced Wasserstein: identities, reproducibility, and a projection-by-projection reference."""

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import sliced_wasserstein, wasserstein
from divergences import univariate as uni
from tests.strategies import point_clouds


def directions(seed, n_projections, d):
    theta = np.random.default_rng(seed).standard_normal((n_projections, d))
    return theta / np.linalg.norm(theta, axis=1, keepdims=True)


@settings(max_examples=25)
@given(point_clouds(max_points=15), st.sampled_from([1.0, 2.0, 3.0]), st.integers(0, 2**32 - 1))
def test_identical_samples_give_zero(x, p, seed):
    assert sliced_wasserstein(x, x, p=p, n_projections=7, seed=seed) == 0.0


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0])
def test_one_dimension_is_wasserstein(p):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20), rng.normal(size=13) + 1
    a, b = rng.random(20), rng.random(13)
    ref = wasserstein(x, y, a, b, p=p)
    assert sliced_wasserstein(x, y, a, b, p=p, n_projections=5, seed=1) == pytest.approx(ref)
    assert sliced_wasserstein(x[:, None], y[:, None], p=p, n_projections=5, seed=2) == \
        pytest.approx(wasserstein(x, y, p=p))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_matches_pot_projection_by_projection(p, weighted):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(25, 4)) * 2
    a, b = (rng.random(40), rng.random(25)) if weighted else (np.ones(40), np.ones(25))
    theta = directions(123, 30, 4)
    w = ot.wasserstein_1d(x @ theta.T, y @ theta.T, a / a.sum(), b / b.sum(), p=p)
    ref = w.mean() ** (1 / p)
    got = sliced_wasserstein(x, y, a if weighted else None, b if weighted else None,
                             p=p, n_projections=30, seed=123)
    assert got == pytest.approx(ref, rel=1e-10)


def test_shift_converges_to_norm_over_sqrt_d():
    # per direction theta, W_2(theta.X, theta.X + theta.s) = |theta.s| exactly, and
    # E[(theta.s)^2] = |s|^2 / d for theta uniform on the sphere
    rng = np.random.default_rng(2)
    d = 5
    x = rng.normal(size=(30, d))
    s = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    target = np.linalg.norm(s) / np.sqrt(d)
    estimate = sliced_wasserstein(x, x + s, n_projections=8000, seed=7)
    assert estimate == pytest.approx(target, rel=0.03)
    theta = directions(7, 10, d)
    assert sliced_wasserstein(x, x + s, n_projections=10, seed=7) == pytest.approx(
        np.sqrt(np.mean((theta @ s) ** 2)), rel=1e-10)


def test_seed_reproducibility():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(40, 3))
    first = sliced_wasserstein(x, y, n_projections=20, seed=42)
    assert sliced_wasserstein(x, y, n_projections=20, seed=42) == first
    assert sliced_wasserstein(x, y, n_projections=20, seed=np.random.default_rng(42)) == first
    assert sliced_wasserstein(x, y, n_projections=20, seed=43) != first


@pytest.mark.parametrize("weighted", [False, True])
def test_blocks_do_not_change_the_result(monkeypatch, weighted):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(45, 3))
    a = rng.random(60) if weighted else None
    whole = sliced_wasserstein(x, y, a, p=1.5, n_projections=25, seed=5)
    monkeypatch.setattr(uni, "_BLOCK_ELEMENTS", 4 * (60 + 45))  # blocks of 4 projections
    assert sliced_wasserstein(x, y, a, p=1.5, n_projections=25, seed=5) == pytest.approx(
        whole, rel=1e-13)


def test_parallel_batches_equal_serial(monkeypatch):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(80, 2)), rng.normal(size=(70, 2))
    serial = sliced_wasserstein(x, y, n_projections=16, seed=0)
    monkeypatch.setattr(uni, "_PARALLEL_MIN", 0)  # force the prange kernel
    assert sliced_wasserstein(x, y, n_projections=16, seed=0) == pytest.approx(serial,
                                                                                rel=1e-14)


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"n_projections": 0}, ValueError, "^n_projections must be >= 1"),
    ({"n_projections": 2.5}, TypeError, "^n_projections must be an integer"),
    ({"p": 0.9}, ValueError, "^p must be >= 1"),
    ({"seed": 1.5}, TypeError, "^seed must be"),
    ({"seed": "abc"}, TypeError, "^seed must be"),
    ({"seed": -1}, ValueError, "^seed is not usable"),
    ({"a": [1.0, -1.0, 1.0]}, ValueError, "^a has negative"),
    ({"b": [0.0, 0.0]}, ValueError, "^b has zero total mass"),
    ({"b": [1.0]}, ValueError, "^b has 1 weights but there are 2"),
])
def test_bad_input(kwargs, exc, msg):
    x, y = np.zeros((3, 2)), np.ones((2, 2))
    with pytest.raises(exc, match=msg):
        sliced_wasserstein(x, y, **kwargs)


def test_bad_points():
    with pytest.raises(ValueError, match="^x and y must have the same dimension"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="^x contains NaN"):
        sliced_wasserstein([[np.nan, 0.0]], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="^y is empty"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((0, 2)))


@pytest.mark.parametrize("scale", [1e-250, 1e250])
def test_extreme_magnitudes(scale):
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(15, 3))
    ref = sliced_wasserstein(x, y, p=3, n_projections=9, seed=1)
    got = sliced_wasserstein(x * scale, y * scale, p=3, n_projections=9, seed=1)
    assert got == pytest.approx(ref * scale, rel=1e-12, abs=0)


def test_huge_middle_coordinate():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20, 3)) * [1.0, 1e200, 1.0]
    y = rng.normal(size=(15, 3)) * [1.0, 1e200, 1.0]
    ref = sliced_wasserstein(x / 1e200, y / 1e200, p=3, n_projections=9, seed=1) * 1e200
    got = sliced_wasserstein(x, y, p=3, n_projections=9, seed=1)
    assert np.isfinite(got) and got == pytest.approx(ref, rel=1e-10)
