"""Issue 12 (hardening), the information divergences and samples: for each defect the
example call of the issue, and beside it a hypothesis property of its whole class.

References are independent of the library: mpmath at 100 digits on the exact float inputs,
closed forms, and the k-NN estimator written out with 1-D distances ``|x_i - y_j|``.
"""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from divergences import (
    aligned_histograms,
    chi2,
    hellinger,
    js,
    js_distance,
    kl,
    kl_knn,
    pairwise,
    renyi,
    tv,
    wasserstein,
)
from divergences.samples import MAX_BINS

mp.mp.dps = 100
LOG2 = math.log(2.0)


# --- mpmath references on the exact float inputs ---


def _normalised(v):
    v = [mp.mpf(float(t)) for t in np.asarray(v, dtype=np.float64)]
    total = mp.fsum(v)
    return [t / total for t in v]


def ref_js(p, q):
    a, b = _normalised(p), _normalised(q)
    s = mp.mpf(0)
    for x, y in zip(a, b, strict=True):
        m = (x + y) / 2
        if x > 0:
            s += x * mp.log(x / m)
        if y > 0:
            s += y * mp.log(y / m)
    return s / 2


def ref_kl(p, q):
    a, b = _normalised(p), _normalised(q)
    if any(x > 0 and y == 0 for x, y in zip(a, b, strict=True)):
        return mp.inf
    return mp.fsum(x * mp.log(x / y) for x, y in zip(a, b, strict=True) if x > 0)


def ref_chi2(p, q):
    a, b = _normalised(p), _normalised(q)
    if any(x > 0 and y == 0 for x, y in zip(a, b, strict=True)):
        return mp.inf
    return mp.fsum((x - y) ** 2 / y for x, y in zip(a, b, strict=True) if y > 0)


def ref_renyi(p, q, alpha):
    a, b = _normalised(p), _normalised(q)
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x > 0]
    if alpha == 0:  # log(1 / on) = log1p(off / on): no 1 - tiny to round
        on = mp.fsum(y for _, y in pairs)
        off = mp.fsum(y for x, y in zip(a, b, strict=True) if x == 0)
        return mp.inf if on == 0 else mp.log1p(off / on)
    if alpha == math.inf:
        if any(y == 0 for _, y in pairs):
            return mp.inf
        return max(mp.log(x / y) for x, y in pairs)
    if alpha > 1 and any(y == 0 for _, y in pairs):
        return mp.inf
    al = mp.mpf(alpha)
    s = mp.fsum(x**al * y ** (1 - al) for x, y in pairs if y > 0)
    return mp.inf if s == 0 else mp.log(s) / (al - 1)


def close(value, reference, rel, abs_=0.0):
    if reference == mp.inf:
        return value == math.inf
    return abs(value - float(reference)) <= rel * abs(float(reference)) + abs_


# --- strategies: weights spanning 1e-320..1e307 ---

wide_weight = st.one_of(
    st.just(0.0),
    st.floats(min_value=5e-324, max_value=1e307, allow_subnormal=True),
)


@st.composite
def wide_pairs(draw, max_bins=8, positive=False):
    """Two histograms over the same bins, weights anywhere in 1e-320..1e307 (zeros too)."""
    n = draw(st.integers(1, max_bins))
    elements = wide_weight.filter(lambda w: w > 0) if positive else wide_weight
    p = draw(hnp.arrays(np.float64, n, elements=elements))
    q = draw(hnp.arrays(np.float64, n, elements=elements))
    for h in (p, q):
        if h.sum() <= 0:
            h[draw(st.integers(0, n - 1))] = 1.0
    return p, q


@st.composite
def nearly_equal_pairs(draw, max_bins=6):
    """``p`` with one weight 1 and the others anywhere in 1e-320..1, ``q`` = ``p`` with
    relative perturbations of 1e-12..1e-6 (the nearly equal histograms of defect 10)."""
    n = draw(st.integers(1, max_bins))
    tiny = hnp.arrays(np.float64, n, elements=st.floats(5e-324, 1.0, allow_subnormal=True))
    p = np.concatenate([[1.0], draw(tiny)])
    size = 10.0 ** draw(st.floats(-12, -6))
    eps = draw(hnp.arrays(np.float64, n + 1, elements=st.floats(-1.0, 1.0)))
    return p, p * (1.0 + size * eps)


# --- defect 2: js of subnormal mixtures was nan (2/m overflowed) ---


def test_js_of_a_subnormal_mixture_is_finite_and_right():
    p, q = [1e-310, 1.0], [2e-310, 1.0]
    reference = ref_js(p, q)  # ~8.5e-312
    assert close(js(p, q), reference, 1e-9, 1e-322)
    assert close(pairwise([p], [q])[0, 0], reference, 1e-3, 1e-322)
    assert close(js_distance(p, q), mp.sqrt(reference), 1e-9)


@given(wide_pairs())
def test_js_no_nan_on_weights_spanning_the_whole_range(pq):
    p, q = pq
    reference = ref_js(p, q)
    d = js(p, q)
    assert 0.0 <= d <= LOG2
    # 1e-30 absolute: the normalisation rounds each weight (e.g. 249 * (1 / 249) != 1),
    # and JS is quadratic in that ~1e-16 relative error
    assert close(d, reference, 1e-12, 1e-30)
    # pairwise works from per-row logarithms: accurate to ~1e-16 absolute (documented)
    assert close(pairwise([p], [q])[0, 0], reference, 1e-12, 1e-15)


@given(wide_pairs(), st.integers(1, 3))
def test_kl_on_weights_spanning_the_whole_range(pq, chunks):
    """KL's lanes whose ratio over/underflows are summed apart (kljs.rare_terms) from the
    vectorised ones, in one chunk or spread over several (zero bins in between)."""
    from divergences._kernels.elementwise import CHUNK

    p, q = pq
    reference = ref_kl(p, q)
    if chunks > 1:  # the bins spread over `chunks` chunks of the kernel
        at = np.linspace(0, chunks * CHUNK - 1, p.shape[0]).astype(np.int64)
        p, q = np.zeros(chunks * CHUNK), np.zeros(chunks * CHUNK)
        p[at], q[at] = pq
    # 1e-30 absolute: the normalisation rounds each weight, and the terms are quadratic in
    # that ~1e-16 relative error (as JS's, above)
    assert close(kl(p, q), reference, 1e-12, 1e-30)


def _rare_batch(metric, B, n, seed):
    """Rows whose value is dominated by rare bins (kljs.rare_terms), in a third of the
    rows at random bins (so at random chunks of long rows)."""
    rng = np.random.default_rng(seed)
    P, Q = rng.random((B, n)), rng.random((B, n))
    rows = rng.choice(B, size=max(1, B // 3), replace=False)
    cols = rng.integers(0, n, size=rows.size)
    if metric == "js":  # the rows equal but for a subnormal mixture: JS is that term alone
        Q[rows] = P[rows]
        P[rows, cols], Q[rows, cols] = 1e-310, 3e-310
    elif metric == "chi2":  # a subnormal q under a tiny p: a term of ~1e100
        P[rows, cols], Q[rows, cols] = 1e-100, 1e-310
    else:  # a ratio that overflows: a term of ~700 a
        Q[rows, cols] = 1e-310
    return P, Q


@pytest.mark.parametrize("B, n", [(300, 100), (3, 5 * 32768 + 7)])
@pytest.mark.parametrize("metric", ["kl", "js", "chi2"])
def test_rare_lanes_in_a_batch_equal_each_pair_alone(metric, B, n):
    """The rare bins of a batch are added to the right chunk of the right row (grouped short
    rows, long rows of several chunks), with and without threads."""
    from divergences._kernels import elementwise as ew

    f = {"kl": kl, "js": js, "chi2": chi2}[metric]
    P, Q = _rare_batch(metric, B, n, seed=B)
    batch = f(P, Q, axis=1)
    assert np.all(np.isfinite(batch)) and np.all(batch > 0)
    for b in range(B):
        assert batch[b] == pytest.approx(f(P[b], Q[b]), rel=4e-15, abs=0.0)
    code = {"kl": ew.KL, "js": ew.JS, "chi2": ew.CHI2}[metric]
    idx = np.arange(B, dtype=np.int64)
    run = ew.rows_kernel(code)
    args = (code, 1.0, P, Q, P.sum(axis=1), Q.sum(axis=1), idx, idx)
    np.testing.assert_array_equal(run(*args, 2), run(*args, 1))


# --- defect 5: renyi near alpha = 1 lost S when the overlap S was tiny ---


def test_renyi_near_one_with_a_tiny_overlap():
    p, q = [1.0, 1e-20], [0.0, 1.0]
    reference = ref_renyi(p, q, 0.99)  # 4559.12
    assert close(renyi(p, q, 0.99), reference, 1e-13)
    assert close(pairwise([p], [q], metric="renyi", alpha=0.99)[0, 0], reference, 1e-13)


@given(wide_pairs(), st.floats(0.875, 1.125).filter(lambda a: a != 1.0))
def test_renyi_near_one_on_weights_spanning_the_whole_range(pq, alpha):
    p, q = pq
    reference = ref_renyi(p, q, alpha)
    d = renyi(p, q, alpha)
    assert close(d, reference, 1e-10, 1e-30)  # 1e-30: the normalisation (see JS)
    assert close(pairwise([p], [q], metric="renyi", alpha=alpha)[0, 0], reference, 1e-10,
                 1e-14)


# --- defect 6: renyi of order 0 underflowed the mass on the support ---


def test_renyi_order_zero_does_not_underflow():
    p, q = [1.0, 0.0], [1e-300, 1e30]
    reference = ref_renyi(p, q, 0.0)  # 759.853
    assert close(renyi(p, q, 0.0), reference, 1e-14)
    assert close(pairwise([p], [q], metric="renyi", alpha=0.0)[0, 0], reference, 1e-14)
    assert renyi(p, q, 0.0) <= kl(p, q)


@given(wide_pairs())
def test_renyi_order_zero_against_mpmath_and_below_kl(pq):
    p, q = pq
    reference = ref_renyi(p, q, 0.0)
    d = renyi(p, q, 0.0)
    assert close(d, reference, 1e-13)
    assert close(pairwise([p], [q], metric="renyi", alpha=0.0)[0, 0], reference, 1e-13)
    k = kl(p, q)
    assert d <= k * (1 + 1e-12) + 1e-300  # D_0 <= D_1 (Renyi divergences grow with alpha)


# --- defect 10: renyi(alpha=inf) lost digits on nearly equal histograms with tiny weights ---


def test_renyi_inf_nearly_equal_with_weights_near_1e_308():
    p = np.array([1.0, 1.3e-308, 2.1e-308, 0.7e-308])
    q = p * (1.0 + np.array([0.0, 1e-9, -2e-9, 3e-9]))
    reference = ref_renyi(p, q, math.inf)
    assert close(renyi(p, q, math.inf), reference, 1e-6)
    assert close(pairwise([p], [q], metric="renyi", alpha=math.inf)[0, 0], reference, 1e-6)


@given(nearly_equal_pairs())
def test_renyi_inf_nearly_equal_is_accurate_to_1e16_absolute(pq):
    p, q = pq
    reference = ref_renyi(p, q, math.inf)
    # log(a / b) of normalised weights near 1: the row sums, 1 / sum, a, b and a / b are
    # each rounded (<= 7 half-ulps of 1 in all: 8e-16 absolute); it was ~1e-13 for tiny
    # weights (log a - log b with log a ~ -709)
    assert close(renyi(p, q, math.inf), reference, 1e-14, 8e-16)
    assert close(pairwise([p], [q], metric="renyi", alpha=math.inf)[0, 0], reference, 1e-14,
                 8e-16)


# --- defect 11: kl_knn rescaled both samples by one factor and underflowed x's distances ---


def knn_reference(x, y, k=1):
    """The estimator with distances from ``np.hypot`` of coordinate differences (nothing
    squared, so nothing over/underflows), logs summed in mpmath; 1-D or 2-D samples."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    d = x.shape[1]

    def dist(points, p):
        diff = points - p
        return np.abs(diff[:, 0]) if d == 1 else np.hypot(diff[:, 0], diff[:, 1])

    total = mp.mpf(0)
    for i, xi in enumerate(x):
        rho = np.sort(dist(np.delete(x, i, axis=0), xi))[k - 1]
        nu = np.sort(dist(y, xi))[k - 1]
        total += mp.log(mp.mpf(float(nu)) / mp.mpf(float(rho)))
    return d * total / len(x) + mp.log(mp.mpf(len(y)) / (len(x) - 1))


def test_kl_knn_samples_of_very_different_magnitudes():
    x, y = [0.0, 1.0, 3.0], [1e200, 3e200]
    assert close(kl_knn(x, y), knn_reference(x, y), 1e-14)  # 460.29
    x2 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]])
    assert close(kl_knn(x2, x2[:2] * 1e200 + 1e200), knn_reference(x2, x2[:2] * 1e200 + 1e200),
                 1e-14)


@given(
    st.integers(1, 2),
    st.lists(st.floats(-1.0, 1.0), min_size=8, max_size=16, unique=True),
    st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=16, unique=True),
    st.integers(-1000, 1000),
    st.integers(-1000, 1000),
)
def test_kl_knn_samples_at_any_magnitudes(d, xs, ys, ex, ey):
    """x and y at any magnitudes 2**-1000..2**1000, the estimator against its definition.

    1-D: any distances at all. 2-D (the k-d tree squares distances): the distances within
    x at least 1e-150 of x's largest value, those from x to y at least 1e-150 of the
    largest of both (beyond that, a ValueError says so: next test).
    """
    x = np.ldexp(np.array(xs[: len(xs) // d * d]).reshape(-1, d), ex)
    y = np.ldexp(np.array(ys[: len(ys) // d * d]).reshape(-1, d), ey)
    if len(x) < 3 or len(y) < 2 or np.isin(x, y).any() or len(np.unique(x, axis=0)) < len(x):
        return  # (ldexp may underflow distinct values to the same one)
    if d == 2:
        def gaps(u, v):
            diff = u[:, None] - v[None]
            return np.hypot(diff[..., 0], diff[..., 1])

        own = gaps(x, x)[np.triu_indices(len(x), 1)].min() / np.abs(x).max()
        cross = gaps(x, y).min() / max(np.abs(x).max(), np.abs(y).max())
        if min(own, cross) < 1e-150:
            return
    assert close(kl_knn(x, y), knn_reference(x, y), 1e-12, 1e-12)


def test_kl_knn_distances_beyond_the_squared_range_are_an_error_not_a_duplicate():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="^x: its nearest-neighbour distances are below"):
        kl_knn(np.vstack([x, [[1e-200, 0.0]]]), x + 0.5)
    with pytest.raises(ValueError, match="^x and y: some distances between them"):
        kl_knn(x, np.array([[1e-200, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="^x has duplicate points"):
        kl_knn(np.vstack([x, x[:1]]), x + 0.5)


# --- defect 21: row sums were accurate to ~1e-14 only (js_distance(p, c p) was 7.8e-15) ---


def test_js_distance_of_proportional_histograms():
    p = np.random.default_rng(0).random(1000)
    q = 3.7 * p
    reference = mp.sqrt(ref_js(p, q))  # ~2e-17: c * p is rounded bin by bin
    assert abs(js_distance(p, q) - float(reference)) <= 2.5e-16  # was 8.4e-16 (7.8e-15)


@given(st.integers(1, 20_000), st.floats(1e-6, 1e6), st.integers(0, 2**32 - 1))
def test_js_distance_of_proportional_histograms_is_at_rounding_level(n, c, seed):
    p = np.random.default_rng(seed).random(n)
    # the rounding of c * p alone gives JS ~ 1e-33; the normalisations of p and c * p then
    # differ by a few ulps (delta), and js_distance ~ delta / sqrt(8) <= 5e-16 (it was up
    # to 4e-15 with the row sums of before)
    assert js_distance(p, c * p) <= 5e-16
    assert js_distance(p, c * p, axis=-1) == pytest.approx(
        pairwise([p], [c * p], metric="js_distance")[0, 0], abs=2e-8)


# --- defect 22: chi2 of equal subnormal weights was a^2/b, not 0 ---


def test_chi2_of_identical_histograms_with_subnormal_weights_is_zero():
    p = [1.0, 1e-310]
    assert chi2(p, p) == 0.0
    assert pairwise([p], [p], metric="chi2")[0, 0] == 0.0


@given(wide_pairs())
def test_chi2_on_weights_spanning_the_whole_range(pq):
    p, q = pq
    assert chi2(p, p) == 0.0 and pairwise([p], [p], metric="chi2")[0, 0] == 0.0
    reference = ref_chi2(p, q)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = chi2(p, q)
    if reference != mp.inf and reference > 1e300:
        return  # beyond float64: inf or huge, both fine
    assert close(d, reference, 1e-10, 1e-30)  # 1e-30: the normalisation (see JS)


# --- defect 7 and 23: masked arrays and scipy.sparse input are TypeErrors naming the argument ---


MASKED = np.ma.masked_array([0.2, 0.3, 0.5], mask=[0, 1, 0])
SPARSE = scipy.sparse.csr_array([[0.2, 0.8]])


@pytest.mark.parametrize("call, name", [
    (lambda m: kl(m, [0.1, 0.6, 0.3]), "p"),
    (lambda m: js([0.1, 0.6, 0.3], m), "q"),
    (lambda m: tv(m, m), "p"),
    (lambda m: hellinger([1, 1, 1], m), "q"),
    (lambda m: pairwise(m[None, :]), "X"),
    (lambda m: aligned_histograms(m, [1.0]), "x"),
    (lambda m: kl_knn([0.0, 1.0, 2.0], m), "y"),
    (lambda m: wasserstein([0.0, 1.0, 2.0], [0.0, 1.0], m), "a"),
])
def test_masked_arrays_are_rejected_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=f"^{name} is a masked array"):
        call(MASKED)
    # a masked array without masked entries is plain data
    call(np.ma.masked_array(MASKED.data))


@pytest.mark.parametrize("call, name", [
    (lambda s: kl(s, [[0.5, 0.5]]), "p"),
    (lambda s: js([[0.5, 0.5]], s), "q"),
    (lambda s: pairwise(s), "X"),
    (lambda s: pairwise([[1.0, 1.0]], s), "Y"),
    (lambda s: aligned_histograms(s, [[1.0, 2.0]]), "x"),
    (lambda s: kl_knn([[0.0, 1.0], [1.0, 0.0]], s), "y"),
])
@pytest.mark.parametrize("kind", [scipy.sparse.csr_array, scipy.sparse.coo_matrix])
def test_sparse_input_is_rejected_naming_the_argument(call, name, kind):
    with pytest.raises(TypeError, match=f"^{name} is a scipy.sparse .*toarray"):
        call(kind(SPARSE))


# --- defect 23: aligned_histograms on a span that overflows float64 ---


def test_aligned_histograms_of_data_spanning_the_float_range():
    h = aligned_histograms([-1e308, 1e308], [0.0])
    assert np.isfinite(h.support).all() and h.support[0] == -1e308 and h.support[-1] == 1e308
    assert h.p.sum() == 2 and h.q.sum() == 1 and h.p[0] == 1 and h.p[-1] == 1


@given(
    hnp.arrays(np.float64, st.integers(2, 30), elements=st.floats(-1.0, 1.0)),
    st.integers(-1000, 1000),
    st.sampled_from(["auto", "fd", "sturges", "doane", "scott", "rice", "sqrt", 5]),
)
def test_aligned_histogram_edges_are_scale_equivariant(data, e, bins):
    """Edges of 2**e * data are 2**e times the edges of data, at every magnitude (so they
    are NumPy's wherever NumPy's are finite), and the counts do not change."""
    data = data[(data == 0) | (np.abs(data) >= 2.0**-20)]  # 2**e * data and edges: normal
    if data.size < 2 or data.min() == data.max():
        return
    x, y = data[: data.size // 2], data[data.size // 2:]
    base = aligned_histograms(x, y, bins=bins)
    scaled = aligned_histograms(np.ldexp(x, e), np.ldexp(y, e), bins=bins)
    np.testing.assert_array_equal(scaled.support, np.ldexp(base.support, e))
    np.testing.assert_array_equal(scaled.p, base.p)
    np.testing.assert_array_equal(scaled.q, base.q)
    np.testing.assert_array_equal(
        base.support, np.histogram_bin_edges(np.concatenate([x, y]), bins=bins))


# --- defect 15: aligned_histograms(bins=10**9) was killed by the OOM killer ---


def test_aligned_histograms_refuses_a_billion_bins():
    with pytest.raises(ValueError, match=r"^bins: 1000000000 bins would need about 40 GB"):
        aligned_histograms([0.0, 1.0], [0.5], bins=10**9)


@pytest.mark.parametrize("kwargs", [
    dict(bins=MAX_BINS + 1),
    dict(bins=[2**14, 2**13]),  # the product of the dimensions counts
    dict(bins="fd"),  # a rule that asks for ~1e12 bins: refused before NumPy builds them
])
def test_aligned_histograms_bounds_the_number_of_bins(kwargs):
    rng = np.random.default_rng(0)
    d = len(kwargs["bins"]) if isinstance(kwargs["bins"], list) else 1
    x = np.concatenate([rng.normal(size=(1000, d)), np.full((1, d), 1e12)])
    with pytest.raises(ValueError, match="^bins: .* bins would need about .* GB"):
        aligned_histograms(x, x[:10], **kwargs)
    assert aligned_histograms([0.0, 1.0], [0.5], bins=MAX_BINS // 64).p.size == MAX_BINS // 64


# --- defect 16 (cold start): the per-family entry points agree with the generic kernels ---


@pytest.mark.parametrize("code, alpha", [
    ("KL", 1.0), ("JS", 1.0), ("TV", 1.0), ("HELLINGER", 1.0), ("CHI2", 1.0), ("RENYI", 2.5),
    ("RENYI0", 0.0), ("RENYIINF", math.inf), ("RENYI1", 0.95),
])
def test_family_entry_points_equal_the_generic_kernels(code, alpha):
    """kl/js/... compile one family each (a constant family code selects it when they are
    compiled): with and without threads they give what the all-metric kernels give."""
    from divergences._kernels import elementwise as ew
    from divergences._kernels import pairwise as pw

    code = getattr(ew, code)
    rng = np.random.default_rng(3)
    n = 2 * ew.CHUNK + 5
    p, q = rng.random((3, n)), rng.random((2, n))
    p[:, ::7] = 0.0
    ps, qs = p.sum(1), q.sum(1)
    ip, iq = np.array([0, 1, 2], dtype=np.int64), np.array([1, 0, 1], dtype=np.int64)
    want = ew.divergence_rows(code, alpha, p, q, ps, qs, ip, iq, 1)
    for threads in (1, 2):
        got = ew.rows_kernel(code)(code, alpha, p, q, ps, qs, ip, iq, threads)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    X, Y = p[:, :300], q[:, :300]
    xs, ys = X.sum(1), Y.sum(1)
    want = pw.pairwise_matrix_serial(code, alpha, X, Y, xs, ys, False)
    for parallel in (False, True):
        got = pw.matrix_kernel(code, parallel)(code, alpha, X, Y, xs, ys, False)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


# --- defect 22: pairwise JS differed by an ulp between a compiling and a cache-loading process ---

_PROBE = """
import sys
import numpy as np
from divergences import js, pairwise
rng = np.random.default_rng(0)
X = rng.random((40, 300))
X[:, ::5] = 0.0
values = [pairwise(X), pairwise(X[:6, :50]), np.array([js(X[0], X[1]), js(X[2], X[3])])]
sys.stdout.write(" ".join(v.tobytes().hex() for v in values))
"""


@pytest.mark.slow
def test_results_are_the_same_whether_compiled_or_loaded_from_the_cache(tmp_path):
    """The same calls in a process that compiles (empty cache), one that loads everything
    from the cache, and one that compiles pairwise after loading the rest: bit for bit.
    (Before the kernels were split by family, 244 of the 1600 entries of the first matrix
    differed by up to 2.4e-16 between the first two.)"""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=root)
    partial = dict(env, NUMBA_CACHE_DIR=str(tmp_path / "partial"))

    def run(code, environ):
        return subprocess.run([sys.executable, "-c", code], env=environ, cwd=root, check=True,
                              capture_output=True, text=True).stdout

    fresh = run(_PROBE, env)
    assert run(_PROBE, env) == fresh  # loaded from the cache
    run("from divergences import js, kl; js([1, 2], [2, 1]); kl([1, 2], [2, 1])", partial)
    assert run(_PROBE, partial) == fresh  # pairwise compiled beside cached kernels
