"""Gaussian closed forms: gaussian_wasserstein, frechet_distance, gaussian_map.

References: closed forms (1-D, commuting covariances, identical Gaussians), POT's
``ot.gaussian`` on well-conditioned inputs, and mpmath at 50 digits on ill-conditioned
and singular covariances, where the pytorch-fid formula (``scipy.linalg.sqrtm`` of the
product) and POT's ``bures_wasserstein_distance`` are shown to fail.
"""

import warnings

import mpmath
import numpy as np
import ot
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import frechet_distance, gaussian_map, gaussian_wasserstein

finite = st.floats(-1e3, 1e3, allow_nan=False)
positive = st.floats(1e-6, 1e3)


def random_cov(rng, d, scale=1.0):
    a = rng.normal(size=(d, d + 2)) * scale
    return a @ a.T / (d + 2)


@settings(deadline=None, max_examples=40)
@given(finite, finite, positive, positive)
def test_one_dimensional_closed_form(mx, my, sx, sy):
    got = gaussian_wasserstein(mx, sx**2, my, sy**2)
    want = np.hypot(mx - my, sx - sy)
    # cancellation in sx^2 + sy^2 - 2 sx sy: absolute accuracy eps * (sx + sy)
    assert abs(got - want) <= 1e-12 * want + 1e-7 * (sx + sy)


def test_commuting_covariances_closed_form():
    rng = np.random.default_rng(0)
    d = 6
    q = np.linalg.qr(rng.normal(size=(d, d)))[0]
    lx, ly = rng.random(d) * 5, rng.random(d) * 5
    sx, sy = q @ np.diag(lx) @ q.T, q @ np.diag(ly) @ q.T
    mx, my = rng.normal(size=d), rng.normal(size=d)
    want = np.sqrt(np.sum((mx - my) ** 2) + np.sum((np.sqrt(lx) - np.sqrt(ly)) ** 2))
    assert gaussian_wasserstein(mx, sx, my, sy) == pytest.approx(want, rel=1e-12)
    a, b = gaussian_map(mx, sx, my, sy)
    np.testing.assert_allclose(a, q @ np.diag(np.sqrt(ly / lx)) @ q.T, atol=1e-10)
    np.testing.assert_allclose(b, my - a @ mx, atol=1e-12)


def test_gaussian_against_itself_is_zero():
    rng = np.random.default_rng(1)
    s = random_cov(rng, 5)
    m = rng.normal(size=5)
    assert gaussian_wasserstein(m, s, m, s) == 0.0
    x = rng.normal(size=(20, 5))
    assert frechet_distance(x, x) == 0.0
    assert frechet_distance(x[:3], x[:3]) == 0.0  # n < d
    a, b = gaussian_map(m, s, m, s)
    np.testing.assert_allclose(a, np.eye(5), atol=1e-10)
    np.testing.assert_allclose(b, 0.0, atol=1e-10)


@pytest.mark.parametrize("d", [1, 2, 7, 20])
def test_against_pot_well_conditioned(d):
    rng = np.random.default_rng(d)
    for _ in range(3):
        mx, my = rng.normal(size=d), rng.normal(size=d)
        sx, sy = random_cov(rng, d), random_cov(rng, d, 2.0)
        want = float(ot.gaussian.bures_wasserstein_distance(mx, my, sx, sy))
        assert gaussian_wasserstein(mx, sx, my, sy) == pytest.approx(want, rel=1e-9)
        a, b = gaussian_map(mx, sx, my, sy)
        pa, pb = ot.gaussian.bures_wasserstein_mapping(mx, my, sx, sy)
        np.testing.assert_allclose(a, pa, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(b, pb, rtol=1e-8, atol=1e-9)
        # the map pushes N(mx, Sx) onto N(my, Sy) at cost W2^2
        np.testing.assert_allclose(a @ sx @ a, sy, rtol=1e-8, atol=1e-9)
        cost = np.sum((b + a @ mx - mx) ** 2) + np.trace((a - np.eye(d)) @ sx @ (a - np.eye(d)))
        assert cost == pytest.approx(gaussian_wasserstein(mx, sx, my, sy) ** 2, rel=1e-8)


def test_batched_matches_loop():
    rng = np.random.default_rng(3)
    d = 4
    mx, my = rng.normal(size=(3, 1, d)), rng.normal(size=(2, d))
    sx = np.stack([random_cov(rng, d) for _ in range(3)])[:, None]
    sy = np.stack([random_cov(rng, d) for _ in range(2)])
    got = gaussian_wasserstein(mx, sx, my, sy)
    assert got.shape == (3, 2)
    a, b = gaussian_map(mx, sx, my, sy)
    assert a.shape == (3, 2, d, d) and b.shape == (3, 2, d)
    for i in range(3):
        for j in range(2):
            assert got[i, j] == pytest.approx(
                gaussian_wasserstein(mx[i, 0], sx[i, 0], my[j], sy[j]), rel=1e-13)
            np.testing.assert_allclose(a[i, j], gaussian_map(mx[i, 0], sx[i, 0], my[j],
                                                             sy[j])[0], rtol=1e-12)


def test_frechet_matches_covariances_and_fid_convention():
    rng = np.random.default_rng(4)
    for n, m, d in [(50, 40, 8), (5, 300, 8), (4, 6, 30), (200, 3, 10)]:
        x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.5 + 0.3
        want = gaussian_wasserstein(x.mean(0), np.cov(x, rowvar=False), y.mean(0),
                                    np.cov(y, rowvar=False)) ** 2
        assert frechet_distance(x, y) == pytest.approx(want, rel=1e-9)


def test_frechet_against_pytorch_fid_formula_where_accurate():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(400, 16)), rng.normal(size=(300, 16)) @ rng.normal(size=(16, 16))
    assert frechet_distance(x, y) == pytest.approx(naive_fid(x, y), rel=1e-9)


def test_scaling_and_float32():
    rng = np.random.default_rng(6)
    mx, my, sx, sy = rng.normal(size=3), rng.normal(size=3), random_cov(rng, 3), random_cov(
        rng, 3)
    base = gaussian_wasserstein(mx, sx, my, sy)
    for k in (-300, 300):
        s = 2.0**k
        assert gaussian_wasserstein(mx * s, sx * s * s if k < 0 else sx * 2.0**500,
                                    my * s, sy * s * s if k < 0 else sy * 2.0**500) > 0
    s = 2.0**-300
    assert gaussian_wasserstein(mx * s, sx * s * s, my * s, sy * s * s) == pytest.approx(
        base * s, rel=1e-12)
    tiny = np.array([5e-240, -5e-240, 3e-239])  # zero covariances, tiny means
    assert gaussian_wasserstein(tiny, np.zeros((3, 3)), 0 * tiny, np.zeros((3, 3))) == (
        pytest.approx(np.sqrt(np.sum(tiny**2)), rel=1e-12))
    a, b = gaussian_map(tiny, np.zeros((3, 3)), 0 * tiny, np.eye(3) * 1e-300)
    assert np.isfinite(a).all() and np.isfinite(b).all()
    s = 2.0**250
    assert gaussian_wasserstein(mx * s, sx * s * s, my * s, sy * s * s) == pytest.approx(
        base * s, rel=1e-12)
    # a float32 covariance is judged at float32 rounding (not rejected as non-symmetric)
    x32 = rng.normal(size=(10, 3)).astype(np.float32)
    c32 = (x32.T @ x32 / 9).astype(np.float32)
    c32[0, 1] += np.float32(1e-7) * c32[0, 1]
    assert np.isfinite(gaussian_wasserstein(np.zeros(3), c32, np.zeros(3), sy))


def test_invalid_inputs_name_the_argument():
    s = np.eye(2)
    m = np.zeros(2)
    with pytest.raises(ValueError, match="cov_x is not symmetric"):
        gaussian_wasserstein(m, [[1.0, 0.5], [0.0, 1.0]], m, s)
    with pytest.raises(ValueError, match="cov_y is not positive semidefinite"):
        gaussian_wasserstein(m, s, m, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="cov_x is not positive semidefinite"):
        gaussian_map(m, -s, m, s)
    with pytest.raises(ValueError, match="cov_y must have shape"):
        gaussian_wasserstein(m, s, m, np.eye(3))
    with pytest.raises(ValueError, match="mean_x and mean_y"):
        gaussian_wasserstein(m, s, np.zeros(3), s)
    with pytest.raises(ValueError, match="cov_x contains NaN"):
        gaussian_wasserstein(m, [[np.nan, 0], [0, 1]], m, s)
    with pytest.raises(ValueError, match="batch"):
        gaussian_wasserstein(np.zeros((3, 2)), s, np.zeros((4, 2)), s)
    with pytest.raises(ValueError, match="x needs at least 2 samples"):
        frechet_distance(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    # a PSD matrix with a rounding-size negative eigenvalue is accepted
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    singular = q @ np.diag([1.0, 0.5, 0.0, 0.0]) @ q.T
    assert np.isfinite(gaussian_wasserstein(np.zeros(4), singular, np.zeros(4), np.eye(4)))


# --- mpmath at 50 digits: ill-conditioned and singular covariances ---


def naive_w2sq(mx, sx, my, sy):
    """The pytorch-fid formula: trace of scipy.linalg.sqrtm of the product (no offset)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        root = scipy.linalg.sqrtm(sx @ sy)
    return np.sum((mx - my) ** 2) + np.trace(sx) + np.trace(sy) - 2.0 * np.trace(root)


def naive_fid(x, y):
    return naive_w2sq(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))


def pot_w2sq(mx, sx, my, sy):
    """POT's bures_wasserstein_distance squared; NaN when it fails (LinAlgError on NaN)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return float(ot.gaussian.bures_wasserstein_distance(mx, my, sx, sy)) ** 2
    except np.linalg.LinAlgError:
        return np.nan


def mp_w2sq_psd_part(mx, sx, my, sy):
    """W2^2 at 50 digits of the float inputs: eigendecomposition of the PSD part of Sx
    (negative eigenvalues set to 0), then the eigenvalues of Sx^1/2 Sy Sx^1/2."""
    with mpmath.workdps(50):
        a, b = mpmath.matrix(sx.tolist()), mpmath.matrix(sy.tolist())
        w, q = mpmath.eigsy(a)
        root = q * mpmath.diag([mpmath.sqrt(max(v, 0)) for v in w]) * q.T
        mu = mpmath.eigsy(root * b * root, eigvals_only=True)
        fid = sum(mpmath.sqrt(max(v, 0)) for v in mu)
        tr = sum(max(v, 0) for v in w) + sum(b[i, i] for i in range(b.rows))
        shift = sum((mpmath.mpf(u) - mpmath.mpf(v)) ** 2 for u, v in zip(mx, my, strict=True))
        return shift + tr - 2 * fid


def dyadic_factor(rng, d, rank, kmax):
    """An integer matrix (d, rank) and column exponents: L = B * 2^-k has L L^T exact in
    float64 (at most 50 significant bits), of exact rank ``rank``, condition ~ 4^kmax."""
    return rng.integers(-3, 4, size=(d, rank)), np.round(np.linspace(0, kmax, rank)).astype(int)


def exact_cov(b, k):
    """``(S, L_int, e)``: S = L L^T in float64, checked exact against integer arithmetic
    with ``L = L_int 2^-e``."""
    e = int(k.max())
    lint = np.array([[int(b[i, j]) << int(e - k[j]) for j in range(b.shape[1])]
                     for i in range(b.shape[0])], dtype=object)
    s = (b * np.ldexp(1.0, -k)) @ (b * np.ldexp(1.0, -k)).T
    assert (np.ldexp(s, 2 * e).astype(object) == lint.dot(lint.T)).all()  # exact input
    return s, lint, e


def mp_w2sq_factors(mx, my, lx, ex, ly, ey):
    """W2^2 at 50 digits from exact factors: the singular values of Lx^T Ly are the roots
    of the eigenvalues of the exact integer Gram matrix (K^T K or K K^T)."""
    with mpmath.workdps(50):
        k = mpmath.matrix(lx.T.dot(ly).tolist()) * mpmath.ldexp(1, -ex - ey)
        gram = k.T * k if k.cols <= k.rows else k * k.T
        fid = sum(mpmath.sqrt(max(v, 0)) for v in mpmath.eigsy(gram, eigvals_only=True))
        tr = (mpmath.ldexp(int((lx * lx).sum()), -2 * ex)
              + mpmath.ldexp(int((ly * ly).sum()), -2 * ey))
        shift = sum((mpmath.mpf(u) - mpmath.mpf(v)) ** 2 for u, v in zip(mx, my, strict=True))
        return shift + tr - 2 * fid


def condition(lint, e):
    """Ratio of the largest to the smallest non-zero eigenvalue of L L^T (full column
    rank L), from L^T L."""
    w = np.linalg.eigvalsh((lint.T.dot(lint)).astype(float))
    return w[-1] / w[0]


def test_ten_dim_with_three_zero_eigenvalues_pot_nan_pytorch_fid_complex():
    """Eigenvalues 10 ... 1e-12 and three zeros (the issue's case), equal means: ours
    within 1e-8 of mpmath; POT returns NaN (or fails), pytorch-fid's sqrtm is complex."""
    rng = np.random.default_rng(0)
    d = 10
    spectrum = np.r_[np.logspace(1, -12, 7), 0.0, 0.0, 0.0]
    sx, sy = ((q := np.linalg.qr(rng.normal(size=(d, d)))[0]) @ np.diag(spectrum) @ q.T
              for _ in range(2))
    sx, sy = (sx + sx.T) / 2, (sy + sy.T) / 2
    m = np.zeros(d)
    ref = float(mp_w2sq_psd_part(m, sx, m, sy))
    ours = gaussian_wasserstein(m, sx, m, sy) ** 2
    assert abs(ours - ref) <= 1e-8 * ref
    assert np.isnan(pot_w2sq(m, sx, m, sy))
    naive = naive_w2sq(m, sx, m, sy)
    assert np.iscomplexobj(naive) and naive.imag != 0
    print(f"d=10: ours {abs(ours - ref) / ref:.1e}, pytorch-fid {naive} "
          f"({abs(naive - ref) / ref:.1e}), POT nan")


CASES = [  # d, rank_x, rank_y, kmax (condition ~ 4**kmax), Sy close to Sx
    (16, 16, 16, 20, False),
    (16, 10, 16, 20, False),
    (32, 20, 32, 20, False),
    (32, 32, 32, 20, True),
    (64, 40, 40, 20, True),
    (64, 64, 48, 20, False),
]


@pytest.mark.parametrize(("d", "rx", "ry", "kmax", "close"), CASES)
def test_ill_conditioned_and_singular_against_mpmath(d, rx, ry, kmax, close):
    rng = np.random.default_rng(d + rx + ry)
    bx, kx = dyadic_factor(rng, d, rx, kmax)
    by, ky = dyadic_factor(rng, d, ry, kmax)
    if close:  # Sy a small perturbation of Sx's factor: W2 << traces (FID of near sets);
        # perturbed columns of moderate scale (a relative change of an eigenvalue near
        # 1e-12 is beyond what a float64 eigendecomposition of the input resolves)
        by, ky = bx.copy(), kx.copy()
        by = np.c_[by, rng.integers(-3, 4, size=(d, ry - rx))]
        ky = np.r_[ky, np.full(ry - rx, kmax)]
        by[rng.integers(0, d, 3), rng.integers(0, rx // 2, 3)] += 1
    sx, lx, ex = exact_cov(bx, kx)
    sy, ly, ey = exact_cov(by, ky)
    assert max(condition(lx, ex), condition(ly, ey)) > 1e11  # condition up to ~1e12
    m = np.zeros(d)
    ref = float(mp_w2sq_factors(m, m, lx, ex, ly, ey))
    ours = gaussian_wasserstein(m, sx, m, sy) ** 2
    assert abs(ours - ref) <= 1e-8 * ref, (ours, ref)
    naive = naive_w2sq(m, sx, m, sy)
    naive_err = abs(naive - ref) / ref
    pot = pot_w2sq(m, sx, m, sy)
    # the comparison: the pytorch-fid formula gives a complex number, NaN or an error
    # beyond 1e-8; POT's is NaN or off too (rank-deficient cases)
    assert (np.iscomplexobj(naive) and naive.imag != 0) or not naive_err <= 1e-8
    if rx < d or ry < d:
        assert np.isnan(pot) or abs(pot - ref) > 1e-8 * ref
    print(f"d={d} ranks {rx},{ry}: ours {abs(ours - ref) / ref:.1e}, pytorch-fid "
          f"{naive_err:.1e}, POT {abs(pot - ref) / ref:.1e}")


def test_frechet_fewer_samples_than_dimensions_against_mpmath():
    """n < d: the covariances have rank n - 1; the trace term comes from the small Gram
    matrix of the data. Dyadic samples with an exact mean keep the reference exact."""
    rng = np.random.default_rng(9)
    n, m, d = 8, 12, 40
    x = rng.integers(-8, 9, size=(n, d)) * 0.5
    y = rng.integers(-8, 9, size=(m, d)) * 0.25
    x -= x.mean(0)  # exact: the column sums are multiples of 1/2 and n = 8
    y[:4] -= y.sum(0) / 4  # exact mean 0 (m = 12: fix it with four rows)
    assert (y.sum(0) == 0).all() and (x.sum(0) == 0).all()
    lx, ly = ((v * 16).astype(int).astype(object).T for v in (x, y))  # v^T = l / 16
    assert all((f / 16.0 == v.T.astype(object)).all() for f, v in ((lx, x), (ly, y)))
    with mpmath.workdps(50):
        k = mpmath.matrix(lx.T.dot(ly).tolist()) / 256 / mpmath.sqrt((n - 1) * (m - 1))
        fid = sum(mpmath.sqrt(max(v, 0)) for v in mpmath.eigsy(k * k.T, eigvals_only=True))
        tr = (mpmath.mpf(int((lx * lx).sum())) / 256 / (n - 1)
              + mpmath.mpf(int((ly * ly).sum())) / 256 / (m - 1))
        ref = float(tr - 2 * fid)
    assert frechet_distance(x, y) == pytest.approx(ref, rel=1e-10)
    naive = naive_fid(x, y)
    print(f"n < d: ours {abs(frechet_distance(x, y) - ref) / ref:.1e}, pytorch-fid {naive}")


@st.composite
def gaussians(draw, d=3):
    seed = draw(st.integers(0, 2**32 - 1))
    rank = draw(st.integers(0, d))
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(d, rank)) * draw(st.floats(1e-3, 1e3))
    return rng.normal(size=d) * draw(st.floats(0, 10)), factor @ factor.T


@settings(deadline=None, max_examples=40)
@given(gaussians(), gaussians(), gaussians())
def test_metric_properties(g1, g2, g3):
    """A metric on Gaussians (singular ones included): symmetric, triangle inequality,
    translation invariant, homogeneous; finite and never NaN."""
    d12, d21 = gaussian_wasserstein(*g1, *g2), gaussian_wasserstein(*g2, *g1)
    d13, d23 = gaussian_wasserstein(*g1, *g3), gaussian_wasserstein(*g2, *g3)
    scale = 1.0 + max(np.sqrt(np.trace(g[1])) + np.abs(g[0]).max() for g in (g1, g2, g3))
    assert np.isfinite([d12, d13, d23]).all()
    assert d12 == pytest.approx(d21, rel=1e-7, abs=1e-7 * scale)
    assert d13 <= d12 + d23 + 1e-7 * scale
    shift = np.arange(3.0)
    assert gaussian_wasserstein(g1[0] + shift, g1[1], g2[0] + shift, g2[1]) == pytest.approx(
        d12, rel=1e-7, abs=1e-7 * scale)
    assert gaussian_wasserstein(3 * g1[0], 9 * g1[1], 3 * g2[0], 9 * g2[1]) == pytest.approx(
        3 * d12, rel=1e-7, abs=3e-7 * scale)


def test_map_with_singular_source_reaches_the_projection():
    """Sx singular: the map sends N(mx, Sx) onto N(my, P Sy P), P the projector on range
    Sx; when range Sy lies in range Sx this is Sy (the optimal map exists)."""
    rng = np.random.default_rng(7)
    d = 5
    fx = rng.normal(size=(d, 3))
    sx = fx @ fx.T
    proj = fx @ np.linalg.pinv(fx)
    sy = random_cov(rng, d)
    a, _ = gaussian_map(np.zeros(d), sx, np.zeros(d), sy)
    np.testing.assert_allclose(a, a.T, atol=0)
    np.testing.assert_allclose(a @ sx @ a, proj @ sy @ proj, atol=1e-9)
    fy = fx @ rng.normal(size=(3, 2))  # range Sy inside range Sx: the map is optimal
    sy = fy @ fy.T
    a, b = gaussian_map(np.ones(d), sx, np.zeros(d), sy)
    np.testing.assert_allclose(a @ sx @ a, sy, atol=1e-9)
    cost = np.sum((b + a @ np.ones(d) - np.ones(d)) ** 2) + np.trace(
        (a - np.eye(d)) @ sx @ (a - np.eye(d)))
    assert cost == pytest.approx(gaussian_wasserstein(np.ones(d), sx, np.zeros(d), sy) ** 2,
                                 rel=1e-9)


def test_frechet_more_samples_than_dimensions_ill_conditioned_against_mpmath():
    """n > d (pivoted Cholesky factors), spectra down to 1e-12: mpmath on the exact
    sample means and covariances of the float data."""
    rng = np.random.default_rng(11)
    n, d = 40, 6
    spectrum = np.logspace(0, -12, d)
    qx, qy = (np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(2))
    x = rng.normal(size=(n, d)) * np.sqrt(spectrum) @ qx.T
    y = rng.normal(size=(n, d)) * np.sqrt(spectrum) @ qy.T + 0.01
    with mpmath.workdps(50):
        def stats(v):
            rows = [[mpmath.mpf(float(e)) for e in r] for r in v]
            mean = [sum(r[k] for r in rows) / n for k in range(d)]
            cov = mpmath.matrix(d, d)
            for i in range(d):
                for j in range(i, d):
                    cov[i, j] = cov[j, i] = sum((r[i] - mean[i]) * (r[j] - mean[j])
                                                for r in rows) / (n - 1)
            return mean, cov

        (mx, sx), (my, sy) = stats(x), stats(y)
        w, q = mpmath.eigsy(sx)
        root = q * mpmath.diag([mpmath.sqrt(max(v, 0)) for v in w]) * q.T
        mu = mpmath.eigsy(root * sy * root, eigvals_only=True)
        ref = float(sum((u - v) ** 2 for u, v in zip(mx, my, strict=True))
                    + sum(sx[i, i] + sy[i, i] for i in range(d))
                    - 2 * sum(mpmath.sqrt(max(v, 0)) for v in mu))
    assert frechet_distance(x, y) == pytest.approx(ref, rel=1e-8)
