"""The library's solvers against each other: closed form, network simplex, Sinkhorn, sliced."""

import numpy as np
import pytest
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from divergences import sliced_wasserstein, transport, wasserstein, wasserstein_1d

coords = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
weights = st.one_of(st.just(0.0), st.floats(1e-3, 10.0))


@st.composite
def weighted_1d(draw, max_points=10):
    n = draw(st.integers(1, max_points))
    x = draw(hnp.arrays(np.float64, n, elements=coords))
    a = draw(hnp.arrays(np.float64, n, elements=weights))
    if a.sum() == 0:
        a[0] = 1.0
    return x, a


@settings(max_examples=40)
@given(weighted_1d(), weighted_1d(), st.sampled_from([1.0, 1.5, 2.0, 3.0]))
def test_exact_equals_closed_form_in_1d(xa, yb, p):
    (x, a), (y, b) = xa, yb
    closed = transport(x, y, a, b, p=p, method="closed_form")
    exact = transport(x, y, a, b, p=p, method="exact")
    scale = max(1.0, np.abs(np.subtract.outer(x, y)).max() ** p)
    assert exact.cost == pytest.approx(closed.cost, rel=1e-9, abs=1e-12 * scale)
    an, bn = a / a.sum(), b / b.sum()
    cost = np.abs(np.subtract.outer(x, y)) ** p
    for res in (closed, exact):
        check_transport(res, an, bn, cost, atol=1e-9)
    assert wasserstein(x, y, a, b, p=p) == pytest.approx(closed.distance, rel=1e-12, abs=1e-300)
    assert wasserstein_1d(x, y, a, b, p=p) == pytest.approx(closed.distance, rel=1e-12,
                                                            abs=1e-300)


def test_sliced_in_one_dimension_is_the_closed_form():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(50, 1)), rng.normal(size=(70, 1)) + 0.3
    for p in (1.0, 2.0):
        assert sliced_wasserstein(x, y, p=p, n_projections=7, seed=1) == pytest.approx(
            wasserstein(x[:, 0], y[:, 0], p=p), rel=1e-12)


def test_sinkhorn_approaches_exact_as_reg_shrinks():
    rng = np.random.default_rng(6)
    x, y = rng.random((40, 2)), rng.random((30, 2)) + 0.2
    exact = transport(x, y, p=2, method="exact").cost
    gaps = []
    for reg in (0.1, 0.01, 0.001):
        res = transport(x, y, p=2, method="sinkhorn", reg=reg)
        assert res.converged
        assert res.cost >= exact - 1e-9  # <P, C> of a coupling is never below the optimum
        gaps.append(res.cost - exact)
        assert gaps[-1] <= 3 * reg * np.log(40)
    assert gaps[0] > gaps[1] > gaps[2]
