"""kl, js, js_distance, tv, hellinger, chi2, renyi: SciPy agreement, identities, edge cases."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr
from scipy.stats import entropy
from strategies import histograms

from divergences import chi2, hellinger, js, js_distance, kl, pairwise, renyi, tv
from divergences._kernels import elementwise as ew
from divergences._kernels import scan

LOG2 = math.log(2.0)
BASES = [None, 2, 10, math.e, 0.5]


def random_hist(rng, shape, zero_frac=0.3):
    h = rng.random(shape) * rng.integers(1, 100, shape)
    h[rng.random(shape) < zero_frac] = 0.0
    return h


def normalise(h, axis=-1):
    return h / h.sum(axis=axis, keepdims=True)


# --- agreement with SciPy -------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("seed", range(4))
def test_kl_matches_scipy_entropy(base, seed):
    rng = np.random.default_rng(seed)
    p = random_hist(rng, 40)
    q = random_hist(rng, 40, zero_frac=0.0) + 0.01 * (seed % 2)
    p[0] = 1.0
    expected = entropy(p, q, base=base)
    assert kl(p, q, base=base) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    nats = rel_entr(normalise(p), normalise(q)).sum()
    assert kl(p, q) == pytest.approx(nats, rel=1e-12, abs=1e-14)


def test_kl_inf_where_q_vanishes_like_scipy():
    rng = np.random.default_rng(5)
    p, q = random_hist(rng, 30, 0.0), random_hist(rng, 30, 0.4)
    assert kl(p, q) == entropy(p, q) == np.inf
    assert isinstance(kl(p, q), float)


@pytest.mark.parametrize("base", BASES[:-1])
@pytest.mark.parametrize("seed", range(4))
def test_js_matches_scipy_jensenshannon(base, seed):
    rng = np.random.default_rng(10 + seed)
    p, q = random_hist(rng, 50), random_hist(rng, 50)
    p[0] = q[1] = 1.0
    expected = jensenshannon(p, q, base=base)
    assert js_distance(p, q, base=base) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert js(p, q, base=base) == pytest.approx(expected**2, rel=1e-10, abs=1e-14)
    a, b = normalise(p), normalise(q)
    m = 0.5 * (a + b)
    nats = 0.5 * rel_entr(a, m).sum() + 0.5 * rel_entr(b, m).sum()
    assert js(p, q) == pytest.approx(nats, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("base", [None, 2])
def test_batched_axis_conventions_match_scipy(base):
    rng = np.random.default_rng(3)
    P = random_hist(rng, (4, 3, 20)) + 0.01
    Q = random_hist(rng, (3, 20)) + 0.01  # broadcast against the batch (4, 3)
    got = kl(P, Q, base=base)
    assert got.shape == (4, 3)
    ref = entropy(P, np.broadcast_to(Q, P.shape), base=base, axis=-1)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    # SciPy's default axis=0: bins along the first axis
    Pt, Qt = P[0].T, Q.T  # (20, 3)
    np.testing.assert_allclose(kl(Pt, Qt, base=base, axis=0), entropy(Pt, Qt, base=base),
                               rtol=1e-12)
    np.testing.assert_allclose(js_distance(Pt, Qt, base=base, axis=0),
                               jensenshannon(Pt, Qt, base=base), rtol=1e-10)
    np.testing.assert_allclose(js_distance(P, Q, axis=-1, base=base),
                               jensenshannon(P, np.broadcast_to(Q, P.shape), axis=-1, base=base),
                               rtol=1e-10)


def test_one_against_many_and_output_types():
    rng = np.random.default_rng(4)
    p = random_hist(rng, 16) + 0.1
    Q = random_hist(rng, (5, 16)) + 0.1
    for f in (kl, js, js_distance, tv, hellinger, chi2):
        batch = f(p, Q)
        assert isinstance(batch, np.ndarray) and batch.shape == (5,)
        loop = [f(p, row) for row in Q]
        assert all(isinstance(v, float) for v in loop)
        np.testing.assert_allclose(batch, loop, rtol=0, atol=0)
    np.testing.assert_allclose(renyi(p, Q, 3.0), [renyi(p, r, 3.0) for r in Q], rtol=0)


def test_tv_hellinger_chi2_match_numpy_formulas():
    rng = np.random.default_rng(6)
    p, q = random_hist(rng, (8, 30)), random_hist(rng, (8, 30), 0.0) + 0.01
    a, b = normalise(p), normalise(q)
    np.testing.assert_allclose(tv(p, q), 0.5 * np.abs(a - b).sum(-1), rtol=1e-13)
    np.testing.assert_allclose(
        hellinger(p, q), np.sqrt(0.5 * ((np.sqrt(a) - np.sqrt(b)) ** 2).sum(-1)), rtol=1e-12
    )
    np.testing.assert_allclose(chi2(p, q), ((a - b) ** 2 / b).sum(-1), rtol=1e-12)
    assert chi2([1, 1], [1, 0]) == np.inf
    assert chi2([0, 1], [1, 1]) == pytest.approx(1.0)  # (1/2)^2/(1/2) * 2


def test_renyi_against_direct_formula_and_limits():
    rng = np.random.default_rng(7)
    p, q = random_hist(rng, 25) + 0.001, random_hist(rng, 25, 0.0) + 0.01
    a, b = normalise(p), normalise(q)
    for alpha in (0.25, 0.5, 0.875, 0.9, 1.1, 1.125, 1.13, 2.0, 7.5):
        direct = math.log((a**alpha * b ** (1 - alpha)).sum()) / (alpha - 1)
        assert renyi(p, q, alpha) == pytest.approx(direct, rel=1e-12)
        assert renyi(p, q, alpha, base=2) == pytest.approx(direct / LOG2, rel=1e-12)
    # alpha -> 1 tends to KL, alpha = 1 is KL; the special orders are the limits
    assert renyi(p, q, 1.0) == kl(p, q)
    assert renyi(p, q, 1 + 1e-6) == pytest.approx(kl(p, q), rel=1e-4)
    assert renyi(p, q, np.inf) == pytest.approx(math.log((a / b).max()), rel=1e-12)
    assert renyi(p, q, 300.0) == pytest.approx(renyi(p, q, np.inf), rel=0.05)
    pz = p.copy()
    pz[:10] = 0
    assert renyi(pz, q, 0.0) == pytest.approx(-math.log(b[10:].sum()), rel=1e-12)
    assert renyi(pz, q, 1e-7) == pytest.approx(renyi(pz, q, 0.0), rel=1e-4)
    # order: non-decreasing in alpha
    values = [renyi(p, q, al) for al in (0.0, 0.5, 1.0, 2.0, 10.0, np.inf)]
    assert all(x <= y + 1e-12 for x, y in zip(values, values[1:], strict=False))
    # supports: p > 0 = q gives inf for alpha >= 1 only; disjoint gives inf for all
    assert renyi([1, 1], [1, 0], 2.0) == np.inf
    assert renyi([1, 1], [1, 0], 0.5) == pytest.approx(-2 * math.log(math.sqrt(0.5)), rel=1e-12)
    assert renyi([1, 0], [0, 1], 0.5) == np.inf and renyi([1, 0], [0, 1], 0.0) == np.inf
    assert renyi(1e300 * a, b, 50.0) == pytest.approx(renyi(a, b, 50.0), rel=1e-12)


def test_parallel_equals_serial_kernel():
    rng = np.random.default_rng(8)
    n = 3 * ew.CHUNK + 17  # several chunks per row
    p, q = random_hist(rng, (3, n)), random_hist(rng, (2, n))
    ps, qs = p.sum(1), q.sum(1)
    ip = np.array([0, 1, 2, 0], dtype=np.int64)
    iq = np.array([1, 0, 1, 1], dtype=np.int64)
    for code, alpha in ((ew.KL, 1.0), (ew.JS, 1.0), (ew.TV, 1.0), (ew.RENYI, 2.5)):
        par = ew.divergence_rows(code, alpha, p, q, ps, qs, ip, iq, 2)
        ser = ew.divergence_rows(code, alpha, p, q, ps, qs, ip, iq, 1)
        # same chunks, same order; only LLVM's vectorisation of a chunk may differ
        np.testing.assert_allclose(par, ser, rtol=1e-14, atol=0)
    # the validation scan: the same chunks whatever the threads; NumPy's sums agree
    threaded, one = scan.scan_rows(p, threads=2), scan.scan_rows(p, threads=1)
    np.testing.assert_array_equal(threaded[0], one[0])
    np.testing.assert_array_equal(threaded[1], one[1])
    np.testing.assert_allclose(scan.scan_rows_serial(p)[0], one[0], rtol=1e-14, atol=0)
    np.testing.assert_array_equal(scan.scan_rows_serial(p)[1], one[1])
    xs, xm, ys, ym = scan.scan_pair(p, q, threads=2)
    np.testing.assert_array_equal(xs, one[0])
    np.testing.assert_array_equal(ys, scan.scan_rows(q, threads=1)[0])
    np.testing.assert_array_equal(ym, q.min(axis=1))
    # short rows grouped several per task
    u, v = random_hist(rng, (300, 700)) + 0.5, random_hist(rng, (300, 700)) + 0.5
    idx = np.arange(300, dtype=np.int64)
    for code in (ew.KL, ew.JS, ew.CHI2):
        args = (code, 1.0, u, v, u.sum(1), v.sum(1), idx, idx)
        np.testing.assert_allclose(ew.divergence_rows(*args, 2), ew.divergence_rows(*args, 1),
                                   rtol=1e-14, atol=0)
    # and the chunked sum is right
    assert js(p[0], q[1]) == pytest.approx(jensenshannon(p[0], q[1]) ** 2, rel=1e-9)


# --- exactness and edge cases ----------------------------------------------------------


@given(histograms(max_bins=12), st.integers(1, 4), st.randoms(use_true_random=False))
@settings(max_examples=40)
def test_disjoint_supports_are_exact(h, shift, rnd):
    # p on the first bins, q on bins after them: disjoint
    p = np.concatenate([h, np.zeros(shift + h.size)])
    q = np.concatenate([np.zeros(h.size + shift), np.roll(h, rnd.randint(0, h.size))])
    assert kl(p, q) == np.inf and kl(q, p) == np.inf
    assert js(p, q) == LOG2 and js(p, q, base=2) == 1.0
    assert js_distance(p, q, base=2) == 1.0
    assert tv(p, q) == 1.0 and hellinger(p, q) == 1.0
    assert chi2(p, q) == np.inf


@given(histograms(max_bins=20))
@settings(max_examples=40)
def test_identical_inputs_give_exact_zero(h):
    for f in (kl, js, tv, hellinger, chi2):
        assert f(h, h) == 0.0
    assert renyi(h, h, np.inf) == 0.0 and renyi(h, h, 0.0) == 0.0
    for alpha in (0.3, 0.95, 1.05, 2.0, 7.5):  # exactly +0.0, not eps nor -0.0
        assert math.copysign(1.0, renyi(h, h, alpha)) == 1.0 and renyi(h, h, alpha) == 0.0
        d = pairwise([h], [h], metric="renyi", alpha=alpha)[0, 0]
        assert math.copysign(1.0, d) == 1.0 and d == 0.0


def test_tiny_and_subnormal_values_no_warning():
    tiny = np.array([1e-300, 2e-300, 0.0, 5e-324, 1e-310])
    other = np.array([3e-300, 1e-300, 4e-300, 1e-320, 2e-310])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (kl, js, js_distance, tv, hellinger, chi2):
            for a, b in ((tiny, other), (other, tiny), (tiny, tiny), (tiny, [1, 1, 1, 1, 1])):
                v = f(a, b)
                assert not np.isnan(v)
        for alpha in (0.0, 0.5, 2.0, np.inf):
            assert not np.isnan(renyi(tiny, other, alpha))
    # subnormal totals are lifted exactly: the same as the rescaled histograms
    scale = 2.0**1000
    a, b = np.array([5e-324, 1e-323, 0.0]), np.array([1e-323, 5e-324, 1.5e-323])
    assert kl(a, b) == pytest.approx(kl(a * scale, b * scale), rel=1e-15)
    assert js(a, b) == pytest.approx(js(a * scale, b * scale), rel=1e-15)
    assert tv(a, b) == pytest.approx(tv(a * scale, b * scale), rel=1e-15)
    assert kl([1.0, 1e-300], [1e-300, 1.0]) == pytest.approx(
        (1 - 1e-300) * math.log(1e300) + 1e-300 * math.log(1e-300), rel=1e-12
    )
    # quotients that overflow or underflow double precision are still right
    assert kl([1.0, 1.0], [1.0, 1e-320]) == pytest.approx(
        math.log(0.5) - 0.5 * math.log(1e-320), rel=1e-12
    )
    assert kl([1e-320, 1.0], [1.0, 1.0]) == pytest.approx(math.log(2.0), rel=1e-12)


def test_counts_and_probabilities_agree():
    counts = np.array([3, 0, 5, 2])
    probs = counts / counts.sum()
    q = np.array([1, 1, 1, 1])
    for f in (kl, js, tv, hellinger, chi2):
        assert f(counts, q) == pytest.approx(f(probs, q / 4), rel=1e-14)
    assert kl(np.array([True, False]), [1, 1]) == pytest.approx(LOG2)
    assert kl(np.float32([1, 3]), [2, 2]) == pytest.approx(entropy([1, 3], [2, 2]), rel=1e-14)


def test_large_inputs_parallel_path_validates_and_agrees():
    rng = np.random.default_rng(9)
    n = ew.PARALLEL_MIN + 5
    p, q = random_hist(rng, n), random_hist(rng, n, 0.0) + 0.1
    assert kl(p, q) == pytest.approx(entropy(p, q), rel=1e-11)
    assert js(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-10)
    assert tv(p, q) == pytest.approx(0.5 * np.abs(normalise(p) - normalise(q)).sum(), rel=1e-12)
    bad = q.copy()
    bad[-1] = np.nan
    with pytest.raises(ValueError, match="^q contains NaN"):
        kl(p, bad)
    bad[-1] = -1.0
    with pytest.raises(ValueError, match="^p has negative"):
        js(bad, q)
    with pytest.raises(ValueError, match="^q has zero total mass"):
        tv(p, np.zeros(n))


def test_supports_are_those_of_the_raw_weights_when_normalising_underflows():
    # p_2 / sum(p) = 1e-600 underflows to 0, but p_2 > 0 = q_2: KL (and kin) are +inf
    p, q = [1e300, 1e-300], [1.0, 0.0]
    assert kl(p, q) == np.inf and chi2(p, q) == np.inf
    assert renyi(p, q, 2.0) == np.inf and renyi(p, q, np.inf) == np.inf
    # q_2 / sum(q) = 1e-330 underflows to 0, but q_2 > 0: finite values, from the raw weights
    p, q = [1.0, 1e-150], [1e300, 1e-30]
    assert kl(p, q) == pytest.approx(1e-150 * math.log(1e180) - 1e-150, rel=1e-12, abs=0)
    assert chi2(p, q) == pytest.approx(1e30, rel=1e-12)
    assert renyi(p, q, 2.0) == pytest.approx(math.log1p(1e30), rel=1e-12)
    assert renyi(p, q, np.inf) == pytest.approx(math.log(1e180), rel=1e-12)
    assert renyi(p, q, 0.5) == pytest.approx(1e-150, abs=1e-15)  # -2 log(1 - 5e-151)


def kl_reference_close(p, q):
    """KL of the normalised ``p``, ``q`` as a sum of ``b * phi(u)``, ``u = (a - b) / b`` and
    ``phi(u) = (1 + u) log1p(u) - u`` by its series (``|u| << 1``): ``u`` is formed exactly
    with fractions, every term is >= 0, so the sum is accurate to a few ulps."""
    from fractions import Fraction

    P, Q = sum(map(Fraction, p)), sum(map(Fraction, q))
    u = np.array([float((Fraction(x) / P) / (Fraction(y) / Q) - 1)
                  for x, y in zip(p, q, strict=True)])
    phi = sum((-1) ** k * u**k / (k * (k - 1)) for k in range(2, 14))
    return math.fsum(q / q.sum() * phi)


def js_reference_close(p, q):
    """JS of the normalised ``p``, ``q`` for ``p ~ q``: per bin, with ``u = (a - b) / (a + b)``
    formed exactly with fractions, ``a log(2a/m) + b log(2b/m) = (m/2) sum_k u^2k / (k(2k-1))``."""
    from fractions import Fraction

    P, Q = sum(map(Fraction, p)), sum(map(Fraction, q))
    a = [Fraction(x) / P for x in p]
    b = [Fraction(y) / Q for y in q]
    u = np.array([float((x - y) / (x + y)) for x, y in zip(a, b, strict=True)])
    half_m = np.array([float((x + y) / 2) for x, y in zip(a, b, strict=True)])
    series = sum(u ** (2 * k) / (k * (2 * k - 1)) for k in range(1, 8))
    return 0.5 * math.fsum(half_m * series)


# relative errors seen over the 20 draws (SciPy's in brackets):
#   KL  4e-15, 2e-13, 3e-11, 3e-9   (3e-11, 3e-7, 3e-3, 3)
#   JS  5e-15, 5e-13, 2e-11         (5e-13, 7e-9, 4e-5)
@pytest.mark.parametrize("f, ref, spread, rel", [
    (kl, kl_reference_close, 1e-2, 1e-13), (kl, kl_reference_close, 1e-4, 1e-11),
    (kl, kl_reference_close, 1e-6, 1e-9), (kl, kl_reference_close, 1e-8, 1e-7),
    (js, js_reference_close, 1e-2, 5e-14), (js, js_reference_close, 1e-4, 1e-11),
    (js, js_reference_close, 1e-6, 1e-9),
])
def test_nearly_equal_histograms_keep_their_digits(f, ref, spread, rel):
    # KL, JS ~ spread^2 are sums of terms ~ +-spread that cancel, and KL is sensitive to the
    # rounding of the normalisations (d KL / d a_i ~ 1): the kernels sum a g(a/b) (JS: with
    # 2a/m and 2b/m), g(r) = log r + (1 - r) / r ~ (r - 1)^2 / 2, flat at r = 1, instead
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = rng.random(300)
        q = p * (1 + spread * rng.standard_normal(300))
        assert f(p, q) == pytest.approx(ref(p, q), rel=rel, abs=0)


@pytest.mark.parametrize("delta", [1e-3, 1e-6, -1e-6, 1e-10, -1e-10, 1e-14])
def test_renyi_near_order_one_tends_to_kl(delta):
    # D_alpha = KL + (alpha - 1) Var_p[log(p/q)] / 2 + O((alpha - 1)^2); log(S) / (alpha - 1)
    # with S ~ 1 lost ~1e-16 / |alpha - 1| (0.3 instead of 0.366 at alpha = 1 + 1e-15)
    rng = np.random.default_rng(13)
    p, q = random_hist(rng, 30) + 0.01, random_hist(rng, 30) + 0.01
    p[:5] = 0.0
    a, b = normalise(p), normalise(q)
    on = a > 0
    lr = np.log(a[on] / b[on])
    k = kl(p, q)
    var = np.sum(a[on] * (lr - k) ** 2)
    expected = k + delta * var / 2
    assert renyi(p, q, 1 + delta) == pytest.approx(expected, rel=1e-12 + delta**2 * 10)
    assert renyi(p, q, 0.5) < renyi(p, q, 1 + delta) < renyi(p, q, 2.0)
    # pairwise uses the same form
    assert pairwise([p], [q], metric="renyi", alpha=1 + delta)[0, 0] == pytest.approx(
        expected, rel=1e-12 + delta**2 * 10)


def test_normalised_weights_that_round_to_subnormals_keep_their_digits():
    # q / sum(q) = [1, 1e-318]: the second weight, rounded to a subnormal, has ~6 digits;
    # the logarithms are then taken from the raw weight and the total instead
    p, q = [1.0, 1.0], [3.0, 3e-318]
    big = math.log(3.0) - math.log(3e-318)  # -log b_2 (3e-318 is itself a subnormal)
    assert kl(p, q) == pytest.approx(math.log(0.5) + 0.5 * big, rel=1e-14)
    assert chi2(p, q) == pytest.approx(0.25e318, rel=1e-13)
    assert renyi(p, q, 2.0) == pytest.approx(math.log(0.25) + big, rel=1e-14)
    assert renyi(p, q, np.inf) == pytest.approx(math.log(0.5) + big, rel=1e-14)
    for metric, f in (("kl", kl), ("chi2", chi2)):
        assert pairwise([p], [q], metric=metric)[0, 0] == pytest.approx(f(p, q), rel=1e-13)
