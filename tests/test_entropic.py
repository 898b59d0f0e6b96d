"""Entropic OT: sinkhorn, sinkhorn_divergence, transport(method='sinkhorn'), online mode.

References: POT's log-domain Sinkhorn (``ot.sinkhorn(method="sinkhorn_log")``) with a tight
threshold, POT's exact ``ot.emd2``, and direct evaluation of the entropic objective.
"""

import functools
import warnings

import numpy as np
import ot
import pytest
from checks import check_transport
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import histograms

from divergences import sinkhorn, sinkhorn_divergence, transport, wasserstein
from divergences._entropic_batch import _LAST_BATCH
from divergences._jit import serial_twin
from divergences._kernels import sinkhorn_log as KL
from divergences._kernels import sinkhorn_scaling as K
from divergences._warnings import ConvergenceWarning
from divergences.entropic import _point_problem


def _problem(seed, n, m, zeros=False):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
    if zeros:
        a[0], b[-1] = 0.0, 0.0
    return x, y, a / a.sum(), b / b.sum(), ot.dist(x, y)


def _pot_log(a, b, C, reg):
    """POT's log-domain Sinkhorn, run to a tight threshold (its log(0) warns: silenced)."""
    with np.errstate(divide="ignore"):
        return ot.sinkhorn(a, b, C, reg, method="sinkhorn_log", stopThr=1e-15,
                           numItermax=200_000)


def _entropic_objective(P, C, a, b, reg):
    """<P, C> + reg KL(P || a b^T), straight from the definition (0 log 0 = 0)."""
    ab = np.outer(a, b)
    pos = P > 0
    kl = np.sum(P[pos] * np.log(P[pos] / ab[pos])) - P.sum() + ab.sum()
    return np.sum(P * C) + reg * kl


@pytest.mark.parametrize("seed, reg", [(0, 1.0), (1, 0.2), (2, 0.05), (3, 0.2)])
def test_matches_pot_log_domain(seed, reg):
    x, y, a, b, C = _problem(seed, 9, 7, zeros=seed == 3)
    reg = reg * C.max()
    res = sinkhorn(a, b, C, reg, tol=1e-12, max_iter=200_000)
    ref = _pot_log(a, b, C, reg)
    assert res.converged and res.status == "converged"
    np.testing.assert_allclose(res.plan, ref, atol=1e-7, rtol=0)
    np.testing.assert_allclose(res.cost, np.sum(ref * C), rtol=1e-7)
    check_transport(res, a, b, C, atol=1e-9, marginal_atol=1e-11, optimal=False)
    assert res.marginal_error <= 1e-11
    # objective: definition, dual value, and POT's plan evaluated the same way
    obj = _entropic_objective(res.plan, C, a, b, reg)
    np.testing.assert_allclose(res.objective, obj, rtol=1e-9, atol=1e-12)
    f, g = res.potentials
    np.testing.assert_allclose(a @ f + b @ g, res.objective, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_entropic_objective(ref, C, a, b, reg), obj, rtol=1e-7)
    # zero weights: zero rows/columns, finite soft-c-transform potentials
    assert np.isfinite(f).all() and np.isfinite(g).all()
    if seed == 3:
        assert (res.plan[0] == 0).all() and (res.plan[:, -1] == 0).all()
        soft = -reg * np.log(np.sum(b * np.exp((g - C[0]) / reg)))
        np.testing.assert_allclose(f[0], soft, rtol=1e-10)


def test_default_tolerance_and_counts():
    _, _, a, b, C = _problem(4, 12, 10)
    res = sinkhorn(3 * a, 5 * b, C, 0.1)  # counts are normalised
    assert res.converged and res.marginal_error <= 1e-9
    check_transport(res, a, b, C, atol=1e-9, marginal_atol=1e-9, optimal=False)
    assert res.p == 1 and res.distance == res.cost and res.reg == 0.1


@pytest.mark.parametrize("rel", [1e-1, 1e-2, 1e-3])
def test_approaches_emd(rel):
    x, y, a, b, C = _problem(5, 10, 12)
    reg = rel * C.max()
    res = sinkhorn(a, b, C, reg, max_iter=100_000)
    exact = ot.emd2(a, b, C)
    assert res.converged
    assert -1e-9 <= res.cost - exact <= reg * (np.log(10) + np.log(12))


@settings(max_examples=40)
@given(
    a=histograms(n=5),
    b=histograms(n=4),
    scale=st.sampled_from([1e-8, 1e-3, 1.0, 1e3, 1e8]),
    rel=st.sampled_from([1e-4, 1e-3, 1e-2, 1.0, 100.0]),
    seed=st.integers(0, 2**16),
)
def test_never_nan_or_inf(a, b, scale, rel, seed):
    C = np.random.default_rng(seed).random((5, 4)) * scale
    reg = rel * max(C.max(), 1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sinkhorn(a, b, C, reg, max_iter=3000)
    an, bn = a / a.sum(), b / b.sum()
    for arr in (res.plan, *res.potentials, res.cost, res.objective, res.marginal_error):
        assert np.isfinite(arr).all()
    assert (res.plan >= 0).all()
    assert (res.plan[an == 0] == 0).all() and (res.plan[:, bn == 0] == 0).all()
    if res.converged:
        check_transport(res, an, bn, C, atol=1e-9, marginal_atol=1e-9, optimal=False)


@pytest.mark.parametrize("scale, rel", [(1e300, 1e-3), (1e-300, 1e-3), (1e-300, 1e-12)])
def test_extreme_cost_magnitudes(scale, rel):
    _, _, a, b, C = _problem(15, 6, 5)
    C = C / C.max()
    ref = sinkhorn(a, b, C, 0.1)
    res = sinkhorn(a, b, C * scale, 0.1 * scale)
    np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(res.cost, ref.cost * scale, rtol=1e-10)
    np.testing.assert_allclose(res.objective, ref.objective * scale, rtol=1e-10)
    tiny = sinkhorn(a, b, C * scale, rel * scale, max_iter=100_000)
    assert np.isfinite(tiny.plan).all() and np.isfinite(tiny.cost) and tiny.converged


def test_reg_too_small_for_the_costs():
    with pytest.raises(ValueError, match="^reg=.* is too small"):
        sinkhorn([0.5, 0.5], [0.5, 0.5], [[0.0, 1e300], [1e300, 0.0]], 1e-10)


def test_online_is_chosen_automatically(monkeypatch):
    import divergences._entropic_points as E

    x, y, a, b, _ = _problem(16, 20, 15)
    monkeypatch.setattr(E, "ONLINE_BYTES", 1000)
    assert transport(x, y, a, b, p=2, method="sinkhorn", reg=1.0).plan is None
    monkeypatch.setattr(E, "ONLINE_BYTES", 1 << 30)
    assert transport(x, y, a, b, p=2, method="sinkhorn", reg=1.0).plan.shape == (20, 15)


def test_small_reg_is_stable_and_converges():
    _, _, a, b, C = _problem(6, 30, 25)
    C /= C.max()
    res = sinkhorn(a, b, C, 1e-4, max_iter=100_000)
    assert res.converged
    assert np.isfinite(res.plan).all() and np.isfinite(res.potentials[0]).all()
    exact = ot.emd2(a, b, C)
    assert 0 <= res.cost - exact <= 1e-4 * np.log(30 * 25)


def test_not_converged_is_flagged():
    _, _, a, b, C = _problem(7, 8, 8)
    with pytest.warns(ConvergenceWarning, match="raise max_iter, raise reg or loosen tol"):
        res = sinkhorn(a, b, C, 0.01 * C.max(), max_iter=3)
    assert not res.converged and res.status == "max_iter" and res.n_iter == 3
    assert res.marginal_error > 1e-9 and np.isfinite(res.plan).all()


def _same_as_one_by_one(res, a, B, C, reg, **kw):
    """Every target of a batched result equals its own single solve: plan, cost, objective
    to 1e-12 (times max|C| when above 1), potentials to 1e-10 up to the gauge
    ``(f + c, g - c)``."""
    scale = max(1.0, float(np.abs(C).max()))
    for k in range(B.shape[1]):
        one = sinkhorn(a, B[:, k], C, reg, **kw)
        np.testing.assert_allclose(res.plan[k], one.plan, rtol=0, atol=1e-12)
        assert abs(res.cost[k] - one.cost) < 1e-12 * scale
        assert abs(res.objective[k] - one.objective) < 1e-12 * scale
        assert res.converged[k] == one.converged
        f, g = res.potentials[0][:, k], res.potentials[1][:, k]
        c = np.mean(f - one.potentials[0])
        np.testing.assert_allclose(f - c, one.potentials[0], rtol=0, atol=1e-10)
        np.testing.assert_allclose(g + c, one.potentials[1], rtol=0, atol=1e-10)
        check_transport(one, a, B[:, k] / B[:, k].sum(), C, atol=1e-8, optimal=False)


def test_several_targets_equal_one_by_one():
    _, _, a, _, C = _problem(8, 9, 6)
    B = np.random.default_rng(8).random((6, 3))
    B[2, 1] = 0.0  # a zero weight in one target only
    res = sinkhorn(a, B, C, 0.3, tol=1e-13)
    assert res.plan.shape == (3, 9, 6)
    assert res.potentials[0].shape == (9, 3) and res.potentials[1].shape == (6, 3)
    assert res.converged.all() and res.status == "converged"
    assert _LAST_BATCH == {"shared": 3, "fallback": []}  # one shared kernel
    _same_as_one_by_one(res, a, B, C, 0.3, tol=1e-13)
    P = res.plan[1]
    np.testing.assert_allclose(P.sum(0), B[:, 1] / B[:, 1].sum(), atol=1e-13)
    assert (P[:, 2] == 0.0).all() and np.isfinite(res.potentials[1]).all()


def test_several_targets_fallback_for_a_far_target():
    """A target concentrated on one far point at reg = range/90: its scalings leave
    [1e-10, 1e10] on the shared kernel (centred on the mean target), so it is solved alone;
    the others stay on the shared kernel. All agree with one-by-one solves."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(9, 2))
    y[-1] = [8.0, 8.0]
    C = ot.dist(x, y)
    a = rng.random(12) + 0.1
    B = rng.random((9, 3)) + 0.1
    B[-1, :2] = 0.0
    B[:, 2] = 0.0
    B[-1, 2] = 1.0
    reg = (C.max() - C.min()) / 90
    # tol 1e-12: plans of two different solves (shared kernel, alone) agree to 1e-12 when
    # both are converged that far, not at the default tol (1e-9)
    res = sinkhorn(a, B, C, reg, tol=1e-12)
    assert _LAST_BATCH == {"shared": 2, "fallback": [2]}
    assert res.converged.all() and np.isfinite(res.plan).all()
    _same_as_one_by_one(res, a / a.sum(), B, C, reg, tol=1e-12)
    np.testing.assert_allclose(res.plan[2][:, -1], a / a.sum(), atol=1e-12)


@pytest.mark.parametrize("spread, shared", [(1e-3, 3), (1.0, None)])
def test_several_targets_under_epsilon_scaling(spread, shared):
    """reg = range/500 (epsilon-scaling): the shared kernel is the plan of the mean target
    solved at reg; nearby targets (1e-3 relative perturbations) all stay on it, unrelated
    random ones may fall back. Either way every target equals its own solve."""
    rng = np.random.default_rng(21)
    x, y = rng.normal(size=(14, 2)), rng.normal(size=(10, 2))
    C = ot.dist(x, y)
    a = rng.random(14) + 0.1
    base = rng.random(10) + 0.1
    B = base[:, None] * (1.0 + spread * rng.random((10, 3)))
    reg = (C.max() - C.min()) / 500
    res = sinkhorn(a, B, C, reg, tol=1e-13)
    assert res.converged.all()
    if shared is not None:
        assert _LAST_BATCH == {"shared": shared, "fallback": []}
    assert _LAST_BATCH["shared"] + len(_LAST_BATCH["fallback"]) == 3
    _same_as_one_by_one(res, a / a.sum(), B, C, reg, tol=1e-13)


def test_several_targets_not_converged_falls_back():
    _, _, a, _, C = _problem(8, 9, 6)
    B = np.random.default_rng(8).random((6, 2))
    with pytest.warns(ConvergenceWarning):
        res = sinkhorn(a, B, C, 0.05 * C.max(), max_iter=2)
    assert _LAST_BATCH == {"shared": 0, "fallback": [0, 1]}
    assert not res.converged.any() and (res.n_iter == 2).all() and res.status == "max_iter"


@pytest.mark.parametrize("metric, p", [("euclidean", 2), ("euclidean", 1), ("cityblock", 1.5)])
def test_transport_sinkhorn_against_pot(metric, p):
    x, y, a, b, _ = _problem(9, 11, 8)
    C = ot.dist(x, y, metric=metric) ** p
    reg = 0.1 * C.max()
    res = transport(x, y, a, b, p=p, metric=metric, method="sinkhorn", reg=reg, tol=1e-12,
                    max_iter=100_000)
    ref = _pot_log(a, b, C, reg)
    np.testing.assert_allclose(res.plan, ref, atol=1e-7, rtol=0)
    check_transport(res, a, b, C, atol=1e-9, marginal_atol=1e-11, optimal=False)
    assert res.p == p
    w = wasserstein(x, y, a, b, p=p, metric=metric, method="sinkhorn", reg=reg, tol=1e-12)
    np.testing.assert_allclose(w, np.sum(ref * C) ** (1 / p), rtol=1e-7)


@pytest.mark.parametrize("rel, zeros", [(0.5, False), (0.01, True)])
def test_online_equals_dense(rel, zeros):
    x, y, a, b, C = _problem(10, 40, 30, zeros=zeros)
    reg = rel * C.max()
    dense = transport(x, y, a, b, p=2, method="sinkhorn", reg=reg, online=False)
    online = transport(x, y, a, b, p=2, method="sinkhorn", reg=reg, online=True)
    assert online.plan is None and online.converged and dense.converged
    np.testing.assert_allclose(online.cost, dense.cost, rtol=1e-9)
    np.testing.assert_allclose(online.objective, dense.objective, rtol=1e-9)
    (fo, go), (fd, gd) = online.potentials, dense.potentials
    shift = fo[1] - fd[1]  # potentials are defined up to (f + c, g - c)
    np.testing.assert_allclose(fo - shift, fd, atol=1e-7 * C.max())
    np.testing.assert_allclose(go + shift, gd, atol=1e-7 * C.max())
    assert online.marginal_error <= 1e-9


@pytest.mark.parametrize("omega", [1.0, 1.5])
def test_scaling_pass_against_numpy(omega):
    """The 8-row grouped sweep against its definition: new scalings, both errors, the
    counts of non-finite and out-of-range scalings, zero weights; sizes that leave partial
    groups in each chunk."""
    rng = np.random.default_rng(30)
    n, m = 45, 29
    a, b = rng.random(n), rng.random(m)
    a[[3, 17]] = 0.0
    b[5] = 0.0
    a, b = a / a.sum(), b / b.sum()
    Kmat = rng.random((n, m)) * np.outer(a, b)
    u, v = rng.random(n) + 0.5, rng.random(m) + 0.5
    u[a == 0], v[b == 0] = 0.0, 0.0
    s = Kmat @ v
    with np.errstate(divide="ignore", invalid="ignore"):
        un = np.where(a > 0, u * (a / (u * s)) ** omega, 0.0)
        t = Kmat.T @ un
        vn = np.where(b > 0, v * (b / (v * t)) ** omega, 0.0)
    rerr = np.abs(u * s - a)[a > 0].sum()
    cerr = np.abs(vn * t - b).sum() if omega != 1.0 else 0.0
    for sweep in (K.scaling_sweep, serial_twin(K.scaling_sweep)):
        fn = functools.partial(K.scaling_pass, sweep=sweep)
        for nch in (1, 3):
            u2, v2, parts = np.empty(n), np.empty(m), np.zeros((nch, m))
            e1, e2, nonfinite, outside = fn(Kmat, a, b, a, b, u, v, u2, v2, parts, 1e10, omega,
                                            1.0, 1.0)
            np.testing.assert_allclose(u2, un, rtol=1e-13)
            np.testing.assert_allclose(v2, vn, rtol=1e-13)
            np.testing.assert_allclose([e1, e2], [rerr, cerr], rtol=1e-12, atol=1e-300)
            assert (nonfinite, outside) == (0, 0)
            # a tight range flags the scalings outside it; a zero row of K with a_i > 0
            # gives a non-finite u_i, which adds nothing to the column sums
            big = 1.0 + 1e-9
            _, _, _, outside = fn(Kmat, a, b, a, b, u, v, u2, v2, parts, big, omega, 1.0, 1.0)
            expect = ((un > big) | (un < 1 / big))[a > 0].sum()
            expect += ((vn > big) | (vn < 1 / big))[b > 0].sum()
            assert outside == expect > 0
            K0 = Kmat.copy()
            K0[7] = 0.0
            _, _, nonfinite, _ = fn(K0, a, b, a, b, u, v, u2, v2, parts, 1e10, omega, 1.0, 1.0)
            assert nonfinite == 1 and not np.isfinite(u2[7])
            t0 = np.delete(K0, 7, axis=0).T @ np.delete(u2, 7)
            np.testing.assert_allclose(parts.sum(axis=0), t0, rtol=1e-13)


def test_parallel_equals_serial():
    _, _, a, b, C = _problem(11, 50, 37)
    Kmat = np.exp(-C / C.max()) * np.outer(a, b)
    u, v = np.full(50, 1.1), np.full(37, 0.9)
    out = []
    for sweep in (K.scaling_sweep, serial_twin(K.scaling_sweep)):
        fn = functools.partial(K.scaling_pass, sweep=sweep)
        u2, v2, parts = np.empty(50), np.empty(37), np.zeros((2, 37))
        errs = fn(Kmat, a, b, a, b, u, v, u2, v2, parts, 1e10, 1.5, 1.0, 1.0)
        out.append((errs, u2, v2))
    # parallel and serial builds vectorise differently: equal to rounding, not bitwise
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-13, atol=1e-15)
    res = []
    for fn in (functools.partial(KL.log_row_pass, threads=2),
               functools.partial(KL.log_row_pass, threads=1)):
        f, parts = np.zeros(50), np.zeros((2, 37))
        e = fn((C,), a, f, np.zeros(37), np.log(b), 0.3, 1.0, 1.0, parts, np.empty((2, 37)),
               np.empty((2, 37)))
        res.append((e, f, parts))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-13, atol=1e-15)


def test_multi_pass_and_scaled_plan_against_numpy():
    """The multi-target sweep against numpy (the error sums, the over-relaxed updates, the
    zero weights, the flags), and the fused plan builder against its definition."""
    _, _, a, _, C = _problem(12, 50, 37)
    rng = np.random.default_rng(12)
    Bt = rng.random((3, 37))
    Bt[1, 4] = 0.0
    Bt /= Bt.sum(axis=1, keepdims=True)
    Km = np.exp(-C / C.max()) / (50 * 37)
    U, V = rng.random((3, 50)) + 0.5, rng.random((3, 37)) + 0.5
    V[1, 4] = 0.0
    omega = np.array([1.0, 1.0, 1.5])
    active = np.array([True, True, True])
    S = V @ Km.T  # (3, n)
    Un = U * (a / (U * S)) ** omega[:, None]
    T = Un @ Km  # (3, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        Vn = np.where(Bt > 0, V * (Bt / (V * T)) ** omega[:, None], 0.0)
    rerr = np.abs(U * S - a).sum(axis=1)
    cerr = np.abs(Vn * T - Bt).sum(axis=1) * (omega != 1.0)
    Un2, Vn2, W = np.empty((3, 50)), np.empty((3, 37)), np.zeros((3, 50))
    r, c, fl = np.empty(3), np.empty(3), np.empty(3, dtype=np.int64)
    K.multi_pass(Km, a, Bt, U, V, Un2, Vn2, W, omega, active, 1e10, r, c, fl)
    np.testing.assert_allclose(Un2, Un, rtol=1e-12)
    np.testing.assert_allclose(Vn2, Vn, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(r, rerr, rtol=1e-10)
    np.testing.assert_allclose(c, cerr, rtol=1e-10, atol=1e-300)
    assert (fl == 0).all()
    K.multi_pass(Km, a, Bt, U, V, Un2, Vn2, W, omega, active, 1.5, r, c, fl)
    assert (fl == 1).all()  # scalings outside [1/1.5, 1.5] are flagged
    for fn in (K.scaled_plan, lambda *args: K.scaled_plan(*args, threads=1)):
        P, parts, rows = np.empty((50, 37)), np.zeros((2, 37)), np.empty(50)
        cost = fn(Km, C, U[0], V[0], P, parts, rows)
        ref = U[0][:, None] * Km * V[0][None, :]
        np.testing.assert_allclose(P, ref, rtol=1e-14)
        np.testing.assert_allclose(rows, ref.sum(1), rtol=1e-13)
        np.testing.assert_allclose(parts.sum(0), ref.sum(0), rtol=1e-13)
        assert abs(cost - np.sum(ref * C)) < 1e-13 * np.sum(ref * C)


def test_divergence_properties():
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(15, 2)), rng.normal(size=(12, 2)) + 0.5
    a, b = rng.random(15), rng.random(12)
    s_xy = sinkhorn_divergence(x, y, a, b, reg=0.5)
    s_yx = sinkhorn_divergence(y, x, b, a, reg=0.5)
    assert s_xy > 0
    np.testing.assert_allclose(s_xy, s_yx, rtol=1e-8)
    assert sinkhorn_divergence(x, x, a, a, reg=0.5) == 0.0  # same computation thrice
    # the general path on the same measure in another order is ~0 without any shortcut
    perm = rng.permutation(15)
    assert sinkhorn_divergence(x, x[perm], a, a[perm], reg=0.5) < 1e-9
    # reference: the three entropic objectives from POT's log-domain plans
    an, bn = a / a.sum(), b / b.sum()

    def ot_eps(u, w, pu, pw):
        C = ot.dist(u, w)
        P = _pot_log(pu, pw, C, 0.5)
        return _entropic_objective(P, C, pu, pw, 0.5)

    ref = ot_eps(x, y, an, bn) - 0.5 * ot_eps(x, x, an, an) - 0.5 * ot_eps(y, y, bn, bn)
    np.testing.assert_allclose(s_xy, ref, rtol=1e-7)


def test_divergence_online_equals_dense():
    rng = np.random.default_rng(17)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2))
    dense = sinkhorn_divergence(x, y, reg=0.5, online=False)
    online = sinkhorn_divergence(x, y, reg=0.5, online=True)
    np.testing.assert_allclose(online, dense, rtol=1e-8)


def test_divergence_of_a_translation_is_its_squared_length():
    # S_eps(alpha, alpha + t) = |t|^2 for the squared Euclidean cost, for every eps
    rng = np.random.default_rng(14)
    x, a = rng.normal(size=(12, 2)), rng.random(12)
    t = np.array([0.3, -0.4])
    for reg in (1.0, 5.0):
        np.testing.assert_allclose(sinkhorn_divergence(x, x + t, a, a, reg=reg), 0.25,
                                   rtol=1e-7)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), reg=st.sampled_from([0.05, 0.5, 5.0]))
def test_divergence_nonnegative_raw(seed, reg):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(5, 2))
    a, b = rng.random(6) + 0.01, rng.random(5) + 0.01
    a, b = a / a.sum(), b / b.sum()
    # as sinkhorn_divergence does (it normalises again: a last-ulp change of the weights
    # moves a slowly converging solve, e.g. 700 iterations at seed 38756, by 1e-11)
    an, bn = a / a.sum(), b / b.sum()
    objs = [_point_problem(u, w, pu, pw, 2.0, 0, reg, {}, "test", sym)["objective"]
            for u, w, pu, pw, sym in ((x, y, an, bn, False), (x, x, an, an, True),
                                      (y, y, bn, bn, True))]
    raw = objs[0] - 0.5 * (objs[1] + objs[2])
    assert raw >= -1e-10
    np.testing.assert_allclose(sinkhorn_divergence(x, y, a, b, reg=reg), max(raw, 0.0),
                               rtol=1e-12, atol=1e-15)


def test_bad_input():
    _, _, a, b, C = _problem(13, 4, 3)
    with pytest.raises(ValueError, match="^reg must be > 0"):
        sinkhorn(a, b, C, 0.0)
    with pytest.raises(ValueError, match="^reg must be > 0"):
        sinkhorn(a, b, C, -1.0)
    with pytest.raises(TypeError, match="^reg"):
        sinkhorn(a, b, C, "0.1")
    with pytest.raises(ValueError, match="^cost must have shape"):
        sinkhorn(a, b, C.T, 0.1)
    with pytest.raises(ValueError, match="^a contains NaN"):
        sinkhorn(np.array([np.nan, 1, 1, 1]), b, C, 0.1)
    with pytest.raises(ValueError, match="^b has negative"):
        sinkhorn(a, -b, C, 0.1)
    with pytest.raises(ValueError, match="^b must have shape"):
        sinkhorn(a, np.ones((3, 2, 2)), C, 0.1)
    with pytest.raises(ValueError, match="^cost must have shape"):
        sinkhorn(a, np.ones((4, 2)), C, 0.1)
    with pytest.raises(ValueError, match="^b has zero total mass"):
        sinkhorn(a, np.zeros((3, 2)), C, 0.1)
    with pytest.raises(ValueError, match="^a must be 1-D"):
        sinkhorn(np.ones((4, 2)), b, C, 0.1)
    with pytest.raises(ValueError, match="^tol must be > 0"):
        sinkhorn(a, b, C, 0.1, tol=0)
    with pytest.raises(TypeError, match="^max_iter"):
        sinkhorn(a, b, C, 0.1, max_iter=1.5)
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="^reg is required"):
        transport(x, x, method="sinkhorn")
    with pytest.raises(TypeError, match="unexpected option"):
        transport(x, x, method="sinkhorn", reg=0.1, maxiter=3)
    with pytest.raises(TypeError, match="^online"):
        transport(x, x, method="sinkhorn", reg=0.1, online="yes")
    with pytest.raises(ValueError, match="^reg must be > 0"):
        sinkhorn_divergence(x, x, reg=-1)
    with pytest.raises(ValueError, match="^x and y must have the same dimension"):
        sinkhorn_divergence(x, np.zeros((3, 3)), reg=1.0)
