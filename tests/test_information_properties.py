"""Hypothesis property tests of the identities, and bad input for every argument."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import histogram_pairs, histograms

from divergences import chi2, hellinger, js, js_distance, kl, pairwise, renyi, tv

LOG2 = math.log(2.0)
EPS = 1e-12


@st.composite
def triples(draw, max_bins=20):
    n = draw(st.integers(1, max_bins))
    return tuple(draw(histograms(n=n)) for _ in range(3))


@given(histogram_pairs())
def test_kl_nonnegative_zero_iff_equal(pq):
    p, q = pq
    d = kl(p, q)
    assert d >= 0.0
    assert kl(p, p) == 0.0
    a, b = p / p.sum(), q / q.sum()
    if not np.allclose(a, b, rtol=1e-6, atol=1e-9):
        assert d > 0.0


@given(histogram_pairs())
def test_js_symmetric_bounded(pq):
    p, q = pq
    d = js(p, q)
    assert 0.0 <= d <= LOG2
    assert d == pytest.approx(js(q, p), abs=1e-15)
    assert 0.0 <= js(p, q, base=2) <= 1.0
    assert 0.0 <= tv(p, q) <= 1.0 and tv(p, q) == pytest.approx(tv(q, p), abs=1e-15)
    assert 0.0 <= hellinger(p, q) <= 1.0


@given(histogram_pairs())
def test_pinsker_and_js_tv_bounds(pq):
    p, q = pq
    t = tv(p, q)
    k = kl(p, q)
    assert t <= math.sqrt(k / 2) + EPS  # Pinsker (inf on the right is fine)
    assert js(p, q) <= t * LOG2 + EPS
    h = hellinger(p, q)
    assert h * h <= t + EPS and t <= math.sqrt(2) * h + EPS  # Le Cam's inequalities
    assert k <= math.log1p(chi2(p, q)) + 1e-9  # KL <= log(1 + chi2)


@given(triples())
def test_js_distance_triangle_inequality(pqr):
    p, q, r = pqr
    assert js_distance(p, r) <= js_distance(p, q) + js_distance(q, r) + 1e-9


@given(histogram_pairs(min_bins=2), st.randoms(use_true_random=False))
def test_permutation_invariance(pq, rnd):
    p, q = pq
    perm = np.arange(p.size)
    rnd.shuffle(perm)
    for f in (kl, js, tv, hellinger, chi2):
        a, b = f(p, q), f(p[perm], q[perm])
        assert a == b or a == pytest.approx(b, rel=1e-12, abs=1e-15)
    assert renyi(p, q, 2.0) == pytest.approx(renyi(p[perm], q[perm], 2.0), rel=1e-12, abs=1e-15)


@given(histogram_pairs())
def test_gan_value_at_optimal_discriminator(pq):
    # V(D) = E_p log D + E_q log(1 - D); at D* = p / (p + q), V = -2 log 2 + 2 JS.
    p, q = pq
    a, b = p / p.sum(), q / q.sum()
    m = a + b
    on_p, on_q = a > 0, b > 0
    value = np.sum(a[on_p] * np.log(a[on_p] / m[on_p]))
    value += np.sum(b[on_q] * np.log(b[on_q] / m[on_q]))
    assert value == pytest.approx(-2 * LOG2 + 2 * js(p, q), abs=1e-12)


@given(histograms(max_bins=10), histograms(max_bins=10))
def test_disjoint_supports(h1, h2):
    p = np.concatenate([h1, np.zeros(h2.size)])
    q = np.concatenate([np.zeros(h1.size), h2])
    assert kl(p, q) == np.inf
    assert js(p, q) == LOG2 and js(p, q, base=2) == 1.0
    assert tv(p, q) == 1.0


@given(histogram_pairs(), st.floats(0.0, 20.0))
def test_renyi_nonnegative_and_bounded_by_inf_order(pq, alpha):
    p, q = pq
    d = renyi(p, q, alpha)
    assert 0.0 <= d <= renyi(p, q, np.inf) + 1e-9


def test_no_runtime_warning_on_valid_tiny_input():
    rng = np.random.default_rng(0)
    p = rng.random((5, 12)) * 1e-300
    q = rng.random((5, 12)) * 1e-310
    p[:, ::3] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (kl, js, js_distance, tv, hellinger, chi2):
            assert not np.isnan(f(p, q)).any()
        for m in ("kl", "js", "tv", "hellinger", "chi2"):
            assert not np.isnan(pairwise(p, q, metric=m)).any()


# --- bad input ------------------------------------------------------------------------

GOOD = np.array([1.0, 2.0, 3.0])
BAD_HISTOGRAMS = [
    ([1.0, np.nan, 1.0], ValueError, "NaN"),
    ([1.0, np.inf, 1.0], ValueError, "infinite"),
    ([1.0, -np.inf, 1.0], ValueError, "infinite"),
    ([1.0, -1.0, 3.0], ValueError, "negative"),
    ([], ValueError, "empty"),
    ([0.0, 0.0, 0.0], ValueError, "zero total mass"),
    (["a", "b", "c"], TypeError, "real numbers"),
    ([1 + 1j, 1, 1], TypeError, "complex"),
    (np.array([None, 1, 2], dtype=object), TypeError, "real numbers"),
    (3.0, ValueError, "scalar"),
    ([1e308, 1e308, 1e308], ValueError, "overflows"),
    ([[1.0, 2.0], [1.0]], TypeError, "real numbers"),  # ragged
    (None, TypeError, "real numbers"),
    (np.array([1, 2, 3], dtype="timedelta64[s]"), TypeError, "real numbers"),
]
FUNCS = [kl, js, js_distance, tv, hellinger, chi2, lambda p, q, **kw: renyi(p, q, 2.0, **kw)]


@pytest.mark.parametrize("bad, exc, words", BAD_HISTOGRAMS)
@pytest.mark.parametrize("f", FUNCS)
def test_bad_histograms_name_the_argument(f, bad, exc, words):
    with pytest.raises(exc, match=rf"^p\b.*{words}"):
        f(bad, GOOD)
    with pytest.raises(exc, match=rf"^q\b.*{words}"):
        f(GOOD, bad)


@pytest.mark.parametrize("f", FUNCS)
def test_bad_shapes_base_axis(f):
    with pytest.raises(ValueError, match="^p and q .*bins"):
        f([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="^p and q .*broadcast"):
        f(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="^axis"):
        f(GOOD, GOOD, axis=1)
    with pytest.raises(TypeError, match="^axis"):
        f(GOOD, GOOD, axis=0.5)


@pytest.mark.parametrize("f", [kl, js, js_distance, lambda p, q, **kw: renyi(p, q, 0.5, **kw)])
def test_bad_base(f):
    for base in (0, -2.0, 1, 1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="^base"):
            f(GOOD, GOOD, base=base)
    for base in ("2", [2], True):
        with pytest.raises(TypeError, match="^base"):
            f(GOOD, GOOD, base=base)
    with pytest.raises(TypeError):
        tv(GOOD, GOOD, base=2)  # no base for TV


def test_js_distance_rejects_base_below_one_and_kl_allows_it():
    with pytest.raises(ValueError, match="^base"):
        js_distance(GOOD, GOOD[::-1], base=0.5)
    assert kl([1, 3], [3, 1], base=0.5) == pytest.approx(-kl([1, 3], [3, 1], base=2))


def test_bad_alpha():
    for alpha in (-1.0, np.nan, -np.inf):
        with pytest.raises(ValueError, match="^alpha"):
            renyi(GOOD, GOOD, alpha)
    for alpha in ("2", None, True):
        with pytest.raises(TypeError, match="^alpha"):
            renyi(GOOD, GOOD, alpha)


@given(histogram_pairs(), st.sampled_from([0.0, 0.5, 0.99, 2.0, math.inf]))
# a Renyi quotient whose reciprocal LLVM hoists out of a combining loop (arcp) when the
# family's finish is inlined there: the pair alone differed by an ulp
@example((np.array([1.0, 0.0]), np.array([1e-300, 1e-300])), 0.99)
def test_one_pair_equals_its_row_in_a_batch(pq, alpha):
    """One pair of at most CHUNK bins runs its chunk kernel directly; the same pair as a row
    of a batch runs through the tasks and the combining pass: the same bits."""
    p, q = pq
    P, Q = np.stack([p, q, p]), np.stack([q, p, q])
    for f in (kl, js, tv, hellinger, chi2):
        assert f(p, q) == f(P, Q, axis=1)[0] == f(P, Q, axis=1)[2]
        assert f(q, p) == f(P, Q, axis=1)[1]
    assert renyi(p, q, alpha) == renyi(P, Q, alpha, axis=1)[0]


@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.sampled_from([0.9, 0.99, 1.1]))
def test_a_few_chunks_agree_with_their_row_in_a_batch(seed, chunks, alpha):
    """One row of up to 8 chunks calls its chunk kernel from Python and combines in Python;
    the same row in a batch of more chunks goes through the compiled task loop and
    combining pass: the same value to rounding (a chunk kernel compiled alone or inlined in
    the task loop may sum its vectorised lanes in another order), with and without
    threads, and exactly 0 where the batch gives 0."""
    from divergences._kernels import elementwise as ew

    rng = np.random.default_rng(seed)
    n = (chunks - 1) * ew.CHUNK + int(rng.integers(1, ew.CHUNK))
    p, q = rng.random((1, n)), rng.random((1, n))
    p[rng.random((1, n)) < 0.1] = 0.0
    q[:, :: int(rng.integers(5, 50))] *= 1e-30
    ps, qs = p.sum(1), q.sum(1)
    one = np.zeros(1, dtype=np.int64)
    rows = np.zeros(ew.FEW_CHUNKS // chunks + 1, dtype=np.int64)  # > FEW_CHUNKS chunks
    for code, a in ((ew.KL, 1.0), (ew.JS, 1.0), (ew.TV, 1.0), (ew.HELLINGER, 1.0),
                    (ew.CHI2, 1.0), (ew.RENYI, 2.5), (ew.RENYI0, 0.0), (ew.RENYIINF, math.inf),
                    (ew.RENYI1, alpha)):
        run = ew.rows_kernel(code)
        want = run(code, a, p, q, ps, qs, rows, rows, 1)
        assert np.all(want == want[0])
        for threads in (1, 2):
            got = run(code, a, p, q, ps, qs, one, one, threads)[0]
            assert got == pytest.approx(want[0], rel=4e-15, abs=0.0)
