"""aligned_histograms and kl_knn; the seed example (two parallel segments) from samples."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import aligned_histograms, js, kl, kl_knn, tv

LOG2 = math.log(2.0)
RNG = np.random.default_rng(2024)
Z = RNG.random(400)  # one sample of Z ~ U[0, 1], shared by P0 and P_theta


def segments(theta, z=Z):
    """Samples of P0 = law of (0, Z) and P_theta = law of (theta, Z)."""
    return np.column_stack([np.zeros_like(z), z]), np.column_stack([np.full_like(z, theta), z])


@given(
    st.one_of(st.floats(1e-6, 50.0), st.floats(-50.0, -1e-6)),
    st.sampled_from(["auto", 10, "sturges", 3]),
)
@settings(max_examples=30)
def test_seed_example_from_samples(theta, bins):
    x, y = segments(theta)
    h = aligned_histograms(x, y, bins=bins)
    assert isinstance(h.support, tuple) and len(h.support) == 2
    assert h.p.sum() == h.q.sum() == Z.size
    assert h.p.size == (h.support[0].size - 1) * (h.support[1].size - 1)
    assert kl(h.p, h.q) == np.inf and kl(h.q, h.p) == np.inf
    assert js(h.p, h.q) == LOG2 and js(h.p, h.q, base=2) == 1.0
    assert tv(h.p, h.q) == 1.0


def test_seed_example_theta_zero_and_independent_samples():
    x, y = segments(0.0)
    h = aligned_histograms(x, y)
    assert kl(h.p, h.q) == 0.0 and js(h.p, h.q) == 0.0 and tv(h.p, h.q) == 0.0
    # with independent samples of Z the estimates are small but not 0
    _, y2 = segments(0.0, RNG.random(400))
    h2 = aligned_histograms(x, y2, bins=5)
    assert 0 < tv(h2.p, h2.q) < 0.2 and 0 < js(h2.p, h2.q) < 0.05


def test_one_dimensional_edges_are_shared_and_pooled():
    x = np.array([0.0, 0.5, 1.0, 1.0])
    y = np.array([2.0, 3.0])
    h = aligned_histograms(x, y, bins=3)
    np.testing.assert_array_equal(h.support, np.histogram_bin_edges(np.r_[x, y], bins=3))
    np.testing.assert_array_equal(h.p, np.histogram(x, h.support)[0])
    np.testing.assert_array_equal(h.q, np.histogram(y, h.support)[0])
    assert h.p.dtype == np.float64
    h = aligned_histograms(x, y, bins=[0, 1, 4], range=None)
    np.testing.assert_array_equal(h.p, [2, 2])
    h = aligned_histograms(x, y, bins=2, range=(0, 1))
    np.testing.assert_array_equal(h.p, [1, 3])
    np.testing.assert_array_equal(h.q, [0, 0])  # outside the range: not counted


def test_multidimensional_per_dimension_bins_and_ranges():
    rng = np.random.default_rng(1)
    x, y = rng.random((50, 3)), rng.random((30, 3)) + 0.5
    h = aligned_histograms(x, y, bins=[2, 3, 4], range=[(0, 1.2)] * 3)
    assert [e.size for e in h.support] == [3, 4, 5]
    ref = np.histogramdd(x, bins=h.support)[0]
    np.testing.assert_array_equal(h.p, ref.ravel())
    assert h.p.sum() == 50 and h.q.sum() < 30  # part of y lies outside the range
    h = aligned_histograms(x, y, bins=4, range=(0, 2))
    assert all(np.array_equal(e, np.linspace(0, 2, 5)) for e in h.support)


def test_discrete_union_of_values():
    h = aligned_histograms([3, 1, 1, 7], [1, 5, 5], discrete=True)
    np.testing.assert_array_equal(h.support, [1, 3, 5, 7])
    np.testing.assert_array_equal(h.p, [2, 1, 0, 1])
    np.testing.assert_array_equal(h.q, [1, 0, 2, 0])
    rows = aligned_histograms([[0, 1], [0, 1], [2, 2]], [[2, 2], [5, 0]], discrete=True)
    np.testing.assert_array_equal(rows.support, [[0, 1], [2, 2], [5, 0]])
    np.testing.assert_array_equal(rows.p, [2, 1, 0])
    np.testing.assert_array_equal(rows.q, [0, 1, 1])
    # disjoint observed values: the information divergences saturate exactly
    h = aligned_histograms([0, 0, 1], [2, 3], discrete=True)
    assert js(h.p, h.q) == LOG2 and tv(h.p, h.q) == 1.0 and kl(h.p, h.q) == np.inf


def test_aligned_histograms_bad_input():
    with pytest.raises(ValueError, match="^x contains NaN"):
        aligned_histograms([np.nan, 1], [1, 2])
    with pytest.raises(ValueError, match="^y contains infinite"):
        aligned_histograms([0, 1], [np.inf, 2])
    with pytest.raises(ValueError, match="^x is empty"):
        aligned_histograms([], [1, 2])
    with pytest.raises(TypeError, match="^y"):
        aligned_histograms([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="^x and y .*same dimension"):
        aligned_histograms(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="^bins"):
        aligned_histograms([0, 1], [1, 2], bins=-3)
    with pytest.raises(ValueError, match="^bins"):
        aligned_histograms(np.ones((3, 2)), np.ones((3, 2)), bins=[2, 3, 4])
    with pytest.raises(ValueError, match="^range"):
        aligned_histograms([0, 1], [1, 2], range=(2, 1))
    with pytest.raises(TypeError, match="^discrete"):
        aligned_histograms([0, 1], [1, 2], discrete="yes")
    # explicit edges and ranges: NaN, wrong shapes and types name the right argument
    with pytest.raises(ValueError, match="^bins contains NaN"):
        aligned_histograms([0, 1], [1, 2], bins=[0, np.nan, 2])
    with pytest.raises(ValueError, match="^range contains NaN"):
        aligned_histograms([0, 1], [1, 2], range=(0, np.nan))
    with pytest.raises(TypeError, match="^range"):
        aligned_histograms([0, 1], [1, 2], range="ab")
    with pytest.raises(ValueError, match="^range must be a pair"):
        aligned_histograms([0, 1], [1, 2], range=(0, 1, 2))
    with pytest.raises(ValueError, match="^range must be a pair"):
        aligned_histograms(np.ones((3, 2)), np.ones((3, 2)), range=5)
    with pytest.raises(TypeError, match="^bins"):
        aligned_histograms(np.ones((3, 2)), np.ones((3, 2)), bins=2.5)
    # a pooled span that overflows float64: finite edges (issue 12, defect 23), no warning
    h = aligned_histograms([-1e308, 1e308], [0.0], bins=4)
    np.testing.assert_array_equal(h.support, [-1e308, -5e307, 0.0, 5e307, 1e308])
    assert h.p.tolist() == [1, 0, 0, 1] and h.q.tolist() == [0, 0, 1, 0]


def gaussian_kl(m1, s1, m2, s2):
    """KL(N(m1, diag s1^2) || N(m2, diag s2^2)) in closed form."""
    m1, s1, m2, s2 = map(np.asarray, (m1, s1, m2, s2))
    return 0.5 * np.sum(s1**2 / s2**2 + (m2 - m1) ** 2 / s2**2 - 1 + 2 * np.log(s2 / s1))


@pytest.mark.parametrize(
    "d, shift, scale, k", [(1, 1.0, 1.0, 1), (2, 0.5, 1.5, 1), (2, 0.5, 1.5, 4), (3, 0.3, 1.3, 1)]
)
def test_kl_knn_against_gaussian_closed_form(d, shift, scale, k):
    rng = np.random.default_rng(7 + d)
    n = 6000
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) * scale + shift
    exact = gaussian_kl(np.zeros(d), np.ones(d), np.full(d, shift), np.full(d, scale))
    est = kl_knn(x, y, k=k)
    assert est == pytest.approx(exact, rel=0.15, abs=0.03)
    assert kl_knn(x, y, k=k, base=2) == pytest.approx(est / LOG2, rel=1e-12)
    # the same distribution: close to 0
    assert abs(kl_knn(x, rng.normal(size=(n, d)), k=k)) < 0.1  # sd ~0.03 at k=1


def test_kl_knn_one_dimensional_input_and_formula():
    x, y = [0.0, 1.0, 3.0], [0.5, 2.0]
    # rho = (1, 1, 2), nu = (0.5, 0.5, 1): mean log(nu/rho) = -log 2, log(m/(n-1)) = 0
    assert kl_knn(x, y) == pytest.approx(-LOG2, rel=1e-14)
    assert kl_knn(np.array(x)[:, None], np.array(y)[:, None]) == kl_knn(x, y)


def test_kl_knn_is_scale_free_even_where_squared_distances_overflow_or_underflow():
    x, y = np.array([0.0, 1.0, 3.0]), np.array([0.5, 2.0])
    for scale in (1e200, 1e-170, 2.0**-1000):
        assert kl_knn(x * scale, y * scale) == pytest.approx(-LOG2, rel=1e-14)


def test_kl_knn_duplicates_and_bad_input():
    with pytest.raises(ValueError, match="^x has duplicate"):
        kl_knn([0.0, 0.0, 1.0], [0.5, 2.0])
    assert np.isfinite(kl_knn([0.0, 0.0, 1.0, 2.0], [0.5, 2.5], k=2))  # k=2 resolves it
    with pytest.raises(ValueError, match="^y contains points of x"):
        kl_knn([0.0, 1.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="^x needs more than k"):
        kl_knn([0.0, 1.0], [0.5, 2.0, 3.0], k=2)
    with pytest.raises(ValueError, match="^y needs at least k"):
        kl_knn([0.0, 1.0, 2.0, 5.0], [0.5, 2.5], k=3)
    with pytest.raises(ValueError, match="^k must be >= 1"):
        kl_knn([0.0, 1.0], [0.5], k=0)
    with pytest.raises(TypeError, match="^k must be an integer"):
        kl_knn([0.0, 1.0], [0.5], k=1.5)
    with pytest.raises(ValueError, match="^base"):
        kl_knn([0.0, 1.0], [0.5], base=1)
    with pytest.raises(ValueError, match="^x contains NaN"):
        kl_knn([np.nan, 1.0], [0.5])
    with pytest.raises(ValueError, match="^x and y .*same dimension"):
        kl_knn(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(TypeError, match="^y"):
        kl_knn([0.0, 1.0], "ab")
