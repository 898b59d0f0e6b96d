"""Two-sample permutation tests and bootstrap intervals: the statistics against SciPy and
POT, p-values uniform under the null, power, reproducibility, and the bad inputs."""

import itertools

import numpy as np
import ot
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from divergences import (
    aligned_histograms,
    js,
    sliced_wasserstein,
    two_sample_test,
    wasserstein,
    wasserstein_ci,
)
from divergences.evaluation import two_sample

RNG = np.random.default_rng(20240613)
X1, Y1 = RNG.normal(size=40), RNG.normal(size=33) + 0.2
X3, Y3 = RNG.normal(size=(30, 3)), RNG.normal(size=(25, 3)) + 0.3


def energy_by_definition(x, y):
    """sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|) with V-statistics (all pairs), by cdist."""
    return np.sqrt(2 * cdist(x, y).mean() - cdist(x, x).mean() - cdist(y, y).mean())


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_wasserstein_statistic_is_wasserstein(p):
    res = two_sample_test(X1, Y1, p=p, n_permutations=9, seed=0)
    assert res.statistic == pytest.approx(wasserstein(X1, Y1, p=p), rel=1e-12)
    if p == 1:
        assert res.statistic == pytest.approx(scipy.stats.wasserstein_distance(X1, Y1),
                                              rel=1e-12)


def test_wasserstein_statistic_in_3d_is_pot_emd2():
    res = two_sample_test(X3, Y3, p=2, n_permutations=5, seed=0)
    a, b = np.full(30, 1 / 30), np.full(25, 1 / 25)
    expected = ot.emd2(a, b, ot.dist(X3, Y3)) ** 0.5
    assert res.statistic == pytest.approx(expected, rel=1e-9)


def test_energy_statistic_is_scipy_energy_distance():
    res = two_sample_test(X1, Y1, statistic="energy", n_permutations=9, seed=0)
    assert res.statistic == pytest.approx(scipy.stats.energy_distance(X1, Y1), rel=1e-12)
    assert res.statistic == pytest.approx(energy_by_definition(X1[:, None], Y1[:, None]),
                                          rel=1e-10)
    res = two_sample_test(X3, Y3, statistic="energy", n_permutations=9, seed=0)
    assert res.statistic == pytest.approx(energy_by_definition(X3, Y3), rel=1e-10)


def test_sliced_statistic_is_sliced_wasserstein():
    for p in (1, 2):
        res = two_sample_test(X3, Y3, statistic="sliced", p=p, n_projections=20,
                              n_permutations=9, seed=7)
        expected = sliced_wasserstein(X3, Y3, p=p, n_projections=20, seed=7)
        assert res.statistic == pytest.approx(expected, rel=1e-12)


def test_js_statistic_is_js_of_aligned_histograms():
    res = two_sample_test(X1, Y1, statistic="js", bins=8, n_permutations=9, seed=0)
    p, q = aligned_histograms(X1, Y1, bins=8)[:2]
    assert res.statistic == pytest.approx(js(p, q), rel=1e-12)
    res = two_sample_test(X1, Y1, statistic="js", bins=8, base=2, n_permutations=9, seed=0)
    assert res.statistic == pytest.approx(js(p, q, base=2), rel=1e-12)
    res = two_sample_test(X3, Y3, statistic="js", bins=3, n_permutations=9, seed=0)
    p, q = aligned_histograms(X3, Y3, bins=3)[:2]
    assert res.statistic == pytest.approx(js(p, q), rel=1e-12)


@pytest.mark.parametrize("statistic", ["wasserstein", "energy", "sliced"])
def test_null_values_are_statistics_of_relabellings(statistic):
    """n = m = 3: the 20 splits of the pooled sample, each computed by SciPy/definition;
    every null value is one of them, and the p-value is close to the exact one."""
    x, y = np.array([0.0, 0.3, 1.7]), np.array([0.9, 2.5, 3.1])
    pooled = np.r_[x, y]

    def reference(u, v):
        if statistic == "energy":
            return scipy.stats.energy_distance(u, v)
        return scipy.stats.wasserstein_distance(u, v)

    splits = []
    for idx in itertools.combinations(range(6), 3):
        rest = [k for k in range(6) if k not in idx]
        splits.append(reference(pooled[list(idx)], pooled[rest]))
    splits = np.array(splits)
    res = two_sample_test(x, y, statistic=statistic, n_permutations=20000, seed=1,
                          n_projections=1)
    distinct = np.unique(np.round(res.null_distribution, 12))
    assert np.all(np.min(np.abs(distinct[:, None] - splits[None, :]), axis=1) < 1e-12)
    exact = np.mean(splits >= reference(x, y) - 1e-12)
    assert abs(res.pvalue - exact) < 0.015


def test_pvalue_matches_scipy_exact_permutation_test():
    x, y = RNG.normal(size=6), RNG.normal(size=5) + 0.8
    ref = scipy.stats.permutation_test(
        (x, y), scipy.stats.wasserstein_distance, permutation_type="independent",
        vectorized=False, n_resamples=np.inf, alternative="greater")
    res = two_sample_test(x, y, n_permutations=20000, seed=3)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert abs(res.pvalue - ref.pvalue) < 0.01


@pytest.mark.parametrize("statistic, shape", [("wasserstein", (15, 1)), ("energy", (15, 1)),
                                              ("js", (15, 1)), ("sliced", (12, 2)),
                                              ("energy", (12, 2)), ("wasserstein", (8, 2))])
def test_pvalues_are_uniform_under_the_null(statistic, shape):
    """200 independent data sets from one law: the p-values pass a Kolmogorov-Smirnov test
    of uniformity (discreteness of 1/(B+1) = 0.01 is far below the KS critical value)."""
    rng = np.random.default_rng(12345)
    n_sets = 200 if statistic != "wasserstein" or shape[1] == 1 else 60
    pvalues = []
    for _ in range(n_sets):
        x = rng.normal(size=shape)
        y = rng.normal(size=(shape[0] + 3, shape[1]))
        pvalues.append(two_sample_test(x, y, statistic=statistic, n_permutations=99,
                                       seed=rng, n_projections=10, bins=5).pvalue)
    assert scipy.stats.kstest(pvalues, "uniform").pvalue > 1e-3
    assert np.mean(np.array(pvalues) <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_sets)


@pytest.mark.parametrize("statistic", ["wasserstein", "sliced", "energy", "js"])
def test_power_against_a_shift(statistic):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(100, 2)), rng.normal(size=(80, 2)) + [1.0, 0.0]
    res = two_sample_test(x, y, statistic=statistic, n_permutations=499, seed=0)
    assert res.pvalue == pytest.approx(1 / 500)
    assert res.null_distribution.shape == (499,) and res.statistic > res.null_distribution.max()


def test_reproducible_with_a_seed():
    first = two_sample_test(X3, Y3, statistic="sliced", n_permutations=50, seed=11)
    again = two_sample_test(X3, Y3, statistic="sliced", n_permutations=50, seed=11)
    other = two_sample_test(X3, Y3, statistic="sliced", n_permutations=50, seed=12)
    assert first.statistic == again.statistic and first.pvalue == again.pvalue
    np.testing.assert_array_equal(first.null_distribution, again.null_distribution)
    assert not np.array_equal(first.null_distribution, other.null_distribution)
    gen = two_sample_test(X1, Y1, n_permutations=50, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(
        gen.null_distribution, two_sample_test(X1, Y1, n_permutations=50, seed=4)
        .null_distribution)


def test_blocks_give_the_same_answer(monkeypatch):
    whole = two_sample_test(X1, Y1, n_permutations=100, seed=2)
    monkeypatch.setattr(two_sample, "_BLOCK_BYTES", 7 * (X1.size + Y1.size))
    blocked = two_sample_test(X1, Y1, n_permutations=100, seed=2)
    np.testing.assert_array_equal(whole.null_distribution, blocked.null_distribution)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.floats(1.0, 3.0),
       st.integers(0, 2**32 - 1))
def test_null_values_by_relabelling_property(n, m, p, seed):
    """Any sizes and p: each null value is W_p between the groups of some split (checked
    on the first permutations by redrawing the same masks)."""
    rng = np.random.default_rng(seed)
    x, y = np.round(rng.normal(size=n), 1), np.round(rng.normal(size=m), 1)  # ties
    res = two_sample_test(x, y, p=p, n_permutations=5, seed=seed)
    pooled = np.r_[x, y]
    redraw = np.random.default_rng(seed)
    masks = two_sample._masks(redraw, n, n + m, 5)
    expected = [wasserstein(pooled[k], pooled[~k], p=p) for k in masks]
    np.testing.assert_allclose(res.null_distribution, expected, rtol=1e-10, atol=1e-14)


def test_wasserstein_ci_resamples_are_explicit_resamples():
    """The reweighted kernel equals W_1 between explicit resamples (SciPy) drawn with the
    same multinomial counts."""
    res = wasserstein_ci(X1, Y1, n_resamples=30, seed=9)
    rng = np.random.default_rng(9)
    ca = rng.multinomial(40, np.full(40, 1 / 40), size=30)
    cb = rng.multinomial(33, np.full(33, 1 / 33), size=30)
    expected = [scipy.stats.wasserstein_distance(np.repeat(X1, u), np.repeat(Y1, v))
                for u, v in zip(ca, cb, strict=True)]
    np.testing.assert_allclose(res.bootstrap_distribution, expected, rtol=1e-10)
    assert res.statistic == pytest.approx(wasserstein(X1, Y1), rel=1e-12)
    assert res.standard_error == pytest.approx(np.std(expected, ddof=1), rel=1e-9)


def test_wasserstein_ci_in_3d_and_methods():
    res = wasserstein_ci(X3, Y3, p=2, n_resamples=40, seed=1)
    rng = np.random.default_rng(1)
    ca = rng.multinomial(30, np.full(30, 1 / 30), size=40)[0]
    cb = rng.multinomial(25, np.full(25, 1 / 25), size=40)[0]
    first = ot.emd2(ca / 30, cb / 25, ot.dist(X3, Y3)) ** 0.5
    assert res.bootstrap_distribution[0] == pytest.approx(first, rel=1e-9)
    assert res.statistic == pytest.approx(wasserstein(X3, Y3, p=2), rel=1e-12)
    basic = wasserstein_ci(X3, Y3, p=2, n_resamples=40, seed=1, method="basic")
    lo, hi = np.percentile(res.bootstrap_distribution, [2.5, 97.5])
    assert res.confidence_interval == pytest.approx((lo, hi))
    assert basic.confidence_interval == pytest.approx((2 * res.statistic - hi,
                                                       2 * res.statistic - lo))


def test_wasserstein_ci_agrees_with_scipy_bootstrap():
    """Same resampling scheme as scipy.stats.bootstrap on two samples: the percentile
    intervals agree within Monte Carlo error."""
    ours = wasserstein_ci(X1, Y1, n_resamples=4000, seed=0).confidence_interval
    ref = scipy.stats.bootstrap((X1, Y1), scipy.stats.wasserstein_distance, vectorized=False,
                                n_resamples=4000, method="percentile",
                                random_state=np.random.default_rng(1)).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.03)
    assert ours.high == pytest.approx(ref.high, abs=0.03)


def test_wasserstein_ci_covers_a_shift():
    x = np.arange(20.0)
    res = wasserstein_ci(x, x + 5.0, n_resamples=999, seed=0, confidence_level=0.9)
    assert res.confidence_interval.low < 5.0 < res.confidence_interval.high


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(statistic="ks"), ValueError, "statistic='ks' is not one of"),
    (dict(n_permutations=0), ValueError, "n_permutations must be >= 1"),
    (dict(n_permutations=2.5), TypeError, "n_permutations must be an integer"),
    (dict(seed="a"), TypeError, "seed must be"),
    (dict(p=0.5), ValueError, "p must be >= 1"),
    (dict(statistic="js", bins="knuth"), ValueError, "bins='knuth' is not one of"),
    (dict(statistic="js", bins=0), ValueError, "bins must be >= 1"),
])
def test_bad_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        two_sample_test(X1, Y1, **kwargs)


def test_bad_samples_and_sizes(monkeypatch):
    with pytest.raises(ValueError, match="same dimension"):
        two_sample_test(X1, Y3)
    with pytest.raises(ValueError, match="x contains NaN"):
        two_sample_test(np.r_[X1, np.nan], Y1)
    with pytest.raises(ValueError, match="confidence_level must be in"):
        wasserstein_ci(X1, Y1, confidence_level=1.0)
    with pytest.raises(ValueError, match="method='bca' is not one of"):
        wasserstein_ci(X1, Y1, method="bca")
    monkeypatch.setattr(two_sample, "MAX_MATRIX_BYTES", 1000)
    with pytest.raises(ValueError, match="55 x 55 distance matrix .24200 bytes.*sliced"):
        two_sample_test(X3, Y3, statistic="energy")
