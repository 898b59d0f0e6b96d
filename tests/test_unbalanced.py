"""Unbalanced entropic transport: sinkhorn(..., reg_m=), transport(..., reg_m=) and the
unbalanced sinkhorn_divergence (issue 14).

References: POT's ``ot.unbalanced.sinkhorn_unbalanced`` (its stabilised variant, and its
plain kernel variant where the stabilised one breaks down), a log-domain NumPy iteration
written here from the definition, the dual objective (strong duality), closed forms.

POT's objective convention: its ``log["total_cost"]`` is ``<P, C> + reg KL + reg_m KL +
reg_m KL`` with KL *without* the mass terms (``sum p log(p/q + 1e-16)``); ours is the
generalised KL (``sum p log(p/q) - p + q``) of the problem that both solve. The two differ by
``reg (sum a sum b - sum P) + rho_a (sum a - sum P) + rho_b (sum b - sum P)``
(:func:`_pot_objective` adds it back).
"""

import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import ot
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import kl_div, logsumexp

from divergences import sinkhorn, sinkhorn_divergence, transport, wasserstein
from divergences._jit import serial_twin
from divergences._kernels import sinkhorn_log as KL
from divergences._kernels import sinkhorn_scaling as K
from divergences._warnings import ConvergenceWarning

INF = np.inf
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _problem(seed, n=9, m=7, zeros=False):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    a, b = rng.random(n) * 2 + 0.05, rng.random(m) + 0.05  # masses ~ n and ~ m / 2
    if zeros:
        a[0], b[-1] = 0.0, 0.0
    C = ot.dist(x, y)
    return x, y, a, b, C / C.max()


def _pot(a, b, C, reg, reg_m, method="sinkhorn_stabilized"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # POT's own log(0) and convergence chatter
        return ot.unbalanced.sinkhorn_unbalanced(a, b, C, reg, reg_m, method=method,
                                                 stopThr=1e-16, numItermax=200_000, log=True)


def _pot_objective(P, log, a, b, reg, rho):
    """POT's total_cost plus the mass terms it leaves out (the module's docstring)."""
    m = P.sum()
    extra = reg * (a.sum() * b.sum() - m)
    extra += sum(r * (w.sum() - m) for r, w in zip(rho, (a, b), strict=True) if r < INF)
    return log["total_cost"] + extra


def _objective(P, C, a, b, reg, rho):
    """The unbalanced objective straight from its definition (generalised KL)."""
    val = np.sum(P * C) + reg * kl_div(P, np.outer(a, b)).sum()
    for r, marg, w in zip(rho, (P.sum(axis=1), P.sum(axis=0)), (a, b), strict=True):
        if r < INF:
            val += r * kl_div(marg, w).sum()
    return val


def _dual(f, g, C, a, b, reg, rho):
    """The dual objective at (f, g): equals the primal optimum (strong duality)."""
    val = -reg * np.sum(np.outer(a, b) * np.expm1((f[:, None] + g[None, :] - C) / reg))
    for r, pot, w in zip(rho, (f, g), (a, b), strict=True):
        val += w @ pot if r == INF else -r * (w @ np.expm1(-pot / r))
    return val


def _pair(reg_m):
    return (reg_m, reg_m) if np.ndim(reg_m) == 0 else tuple(reg_m)


CASES = [(reg, reg_m) for reg in (1.0, 0.1, 0.02) for reg_m in
         (0.05, 1.0, 30.0, (0.5, INF), (INF, 2.0), (0.2, 3.0))]


@pytest.mark.parametrize("reg, reg_m", CASES)
@pytest.mark.parametrize("seed", [0, 2])
def test_matches_pot_stabilised(seed, reg, reg_m):
    _, _, a, b, C = _problem(seed, zeros=seed == 2)
    rho = _pair(reg_m)
    res = sinkhorn(a, b, C, reg, reg_m=reg_m, tol=1e-12, max_iter=10**6)
    # POT stops at its first iteration on zero weights (a zero column sum is its "numerical
    # error"): it solves the problem without those points, whose plan is ours without the
    # (empty) zero-weight rows and columns
    pa, pb = a > 0, b > 0
    P, log = _pot(a[pa], b[pb], C[np.ix_(pa, pb)], reg, reg_m)
    assert res.converged and res.marginal_error <= 1e-12
    assert (res.plan[~pa] == 0).all() and (res.plan[:, ~pb] == 0).all()
    np.testing.assert_allclose(res.plan[np.ix_(pa, pb)], P, atol=1e-7 * P.max(), rtol=0)
    np.testing.assert_allclose(res.cost, log["cost"], rtol=1e-7)
    np.testing.assert_allclose(res.objective, _pot_objective(P, log, a, b, reg, rho),
                               rtol=1e-7, atol=1e-10)
    # the objective: from the definition on our plan, and the dual value of our potentials
    np.testing.assert_allclose(res.objective, _objective(res.plan, C, a, b, reg, rho),
                               rtol=1e-10)
    f, g = res.potentials
    np.testing.assert_allclose(_dual(f, g, C, a, b, reg, rho), res.objective, rtol=1e-9)
    # the potentials are absolute (no constant to choose): POT's log-scalings times reg
    np.testing.assert_allclose(f[pa], reg * log["logu"], atol=1e-7)
    np.testing.assert_allclose(g[pb], reg * log["logv"], atol=1e-7)
    np.testing.assert_allclose(res.cost, np.sum(res.plan * C), rtol=1e-12)
    assert res.distance == res.cost and res.reg == reg and res.p == 1


@pytest.mark.slow
def test_pot_stabilised_breaks_down_where_its_plain_variant_agrees_with_us():
    """Seed 1, reg = 0.02: POT's stabilised unbalanced Sinkhorn returns entries of 1e15 (its
    absorption by max(u) overflows); its plain kernel variant, run to 1e-16, agrees with ours
    to 1e-14, and our plan satisfies the first-order conditions and beats the broken one."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(7, 2))
    a, b = rng.random(9) * 2, rng.random(7)
    C = ot.dist(x, y)
    C /= C.max()
    reg, rho = 0.02, (1.0, 1.0)
    res = sinkhorn(a, b, C, reg, reg_m=1.0, tol=1e-12)
    broken, _ = _pot(a, b, C, reg, 1.0)
    plain, log = _pot(a, b, C, reg, 1.0, method="sinkhorn")
    assert broken.max() > 1e10
    np.testing.assert_allclose(res.plan, plain, atol=1e-12, rtol=0)
    np.testing.assert_allclose(res.objective, _pot_objective(plain, log, a, b, reg, rho),
                               rtol=1e-12)
    assert _objective(res.plan, C, a, b, reg, rho) < _objective(broken, C, a, b, reg, rho)


def _log_reference(a, b, C, reg, rho, iters):
    """Unbalanced Sinkhorn in the log domain, from the definition (f = lam T(g), ...)."""
    la, lb = np.log(a), np.log(b)
    lam = [1.0 if r == INF else r / (r + reg) for r in rho]
    f, g = np.zeros(len(a)), np.zeros(len(b))
    for _ in range(iters):
        f = -lam[0] * reg * logsumexp((g[None, :] - C) / reg + lb[None, :], axis=1)
        g = -lam[1] * reg * logsumexp((f[:, None] - C) / reg + la[:, None], axis=0)
    return np.exp((f[:, None] + g[None, :] - C) / reg + la[:, None] + lb[None, :]), f, g


@pytest.mark.slow
@pytest.mark.parametrize("reg, reg_m", [(1e-3, 1.0), (1e-4, 0.01), (1e-3, (INF, 0.3))])
def test_small_reg_against_a_log_domain_reference(reg, reg_m):
    """Small reg (epsilon-scaling, absorption): a plain log-domain iteration run to its fixed
    point (30000 iterations) is the reference."""
    rng = np.random.default_rng(5)
    x, y = rng.random((30, 2)), rng.random((25, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    C /= C.max()
    a, b = rng.random(30) + 0.1, (rng.random(25) + 0.1) * 3
    rho = _pair(reg_m)
    res = sinkhorn(a, b, C, reg, reg_m=reg_m, tol=1e-12)
    P, f, g = _log_reference(a, b, C, reg, rho, 30_000)
    assert res.converged
    np.testing.assert_allclose(res.plan, P, atol=1e-9 * P.max(), rtol=0)
    np.testing.assert_allclose(res.potentials[0], f, atol=1e-9)
    np.testing.assert_allclose(res.potentials[1], g, atol=1e-9)


@pytest.mark.parametrize("reg_m", [1.0, (INF, 0.3), 1e3])
def test_reg_1e4_times_max_cost_is_a_fixed_point(reg_m):
    """reg = 1e-4 max C, where plain iterations need far more than 30000 steps: our
    potentials are a fixed point of the reference map (ten more steps move them < 1e-9)."""
    rng = np.random.default_rng(12)
    x, y = rng.random((40, 2)), rng.random((35, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    C /= C.max()
    a, b = rng.random(40) + 0.1, (rng.random(35) + 0.1) * 2
    res = sinkhorn(a, b, C, 1e-4, reg_m=reg_m, tol=1e-11)
    assert res.converged
    rho = _pair(reg_m)
    lam = [1.0 if r == INF else r / (r + 1e-4) for r in rho]
    f, g = res.potentials
    for _ in range(10):
        f = -lam[0] * 1e-4 * logsumexp((g[None, :] - C) / 1e-4 + np.log(b)[None, :], axis=1)
        g = -lam[1] * 1e-4 * logsumexp((f[:, None] - C) / 1e-4 + np.log(a)[:, None], axis=0)
    np.testing.assert_allclose(f, res.potentials[0], atol=1e-9)
    np.testing.assert_allclose(g, res.potentials[1], atol=1e-9)


@pytest.mark.parametrize("reg_m", [1.0, (0.3, INF)])
def test_first_order_conditions(reg_m):
    """(P 1) exp(f / rho_a) = a, (P^T 1) exp(g / rho_b) = b, P = a b exp((f + g - C)/reg), and
    the reported marginal_error is that residual, each side relative to its mass."""
    _, _, a, b, C = _problem(3, 40, 30, zeros=True)
    rho = _pair(reg_m)
    res = sinkhorn(a, b, C, 0.01, reg_m=reg_m, tol=1e-11)
    f, g = res.potentials
    P = res.plan
    np.testing.assert_allclose(P, np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / 0.01),
                               atol=1e-14, rtol=1e-10)
    r, c = P.sum(axis=1), P.sum(axis=0)
    ra = r * np.exp(f / rho[0]) if rho[0] < INF else r
    cb = c * np.exp(g / rho[1]) if rho[1] < INF else c
    err = np.abs(ra - a).sum() / a.sum() + np.abs(cb - b).sum() / b.sum()
    np.testing.assert_allclose(res.marginal_error, err, rtol=1e-6, atol=1e-15)
    assert res.converged and err <= 1e-11
    assert (P[0] == 0).all() and (P[:, -1] == 0).all()  # zero weights: no mass
    # a zero weight's potential is the damped soft c-transform
    lam = rho[0] / (rho[0] + 0.01) if rho[0] < INF else 1.0
    soft = -0.01 * logsumexp((g - C[0]) / 0.01, b=b)
    np.testing.assert_allclose(f[0], lam * soft, rtol=1e-10)
    if rho[1] == INF:
        np.testing.assert_allclose(c, b, atol=1e-11 * b.sum())


def test_reg_m_to_infinity_recovers_the_balanced_solver():
    _, _, a, b, C = _problem(4, 12, 10)
    a, b = a / a.sum(), b / b.sum()
    bal = sinkhorn(a, b, C, 0.05, tol=1e-12)
    gaps = []
    for rho in (1e1, 1e3, 1e5, 1e7):
        res = sinkhorn(a, b, C, 0.05, reg_m=rho, tol=1e-12)
        # the translation step: as fast as the balanced solver (the mode (f + c, g - c)
        # alone would decay by 1 - 1e-8 per iteration at rho = 1e7)
        assert res.converged and res.n_iter <= 2 * bal.n_iter
        gaps.append(np.abs(res.plan - bal.plan).max())
    # the gap closes as 1 / rho
    assert all(g1 < g0 / 50 for g0, g1 in zip(gaps[:-1], gaps[1:], strict=True)), gaps
    assert gaps[-1] < 1e-8
    # inf on both sides with equal masses (counts): the balanced plan times the mass
    res = sinkhorn(3 * a, 3 * b, C, 0.05, reg_m=INF, tol=1e-12)
    np.testing.assert_allclose(res.plan, 3 * bal.plan, atol=1e-11, rtol=0)
    np.testing.assert_allclose(res.cost, 3 * bal.cost, rtol=1e-9)


@pytest.mark.parametrize("reg_m", [0.5, (INF, 0.2), (0.2, INF), (INF, INF)])
def test_constant_cost_closed_form(reg_m):
    """Constant costs: P = s a b^T with s in closed form, checked by the first-order
    conditions and against POT."""
    a, b = np.array([0.5, 1.0, 0.25]), np.array([0.75, 1.0])
    if reg_m == (INF, INF):
        b = b * a.sum() / b.sum()
    C = np.full((3, 2), 0.7)
    res = sinkhorn(a, b, C, 0.1, reg_m=reg_m)
    P, _ = _pot(a, b, C, 0.1, reg_m, method="sinkhorn")
    assert res.converged and res.n_iter == 0 and res.marginal_error < 1e-14
    np.testing.assert_allclose(res.plan, P, rtol=1e-10)
    f, g = res.potentials
    np.testing.assert_allclose(f[:, None] + g[None, :], 0.7 + 0.1 * np.log(P / np.outer(a, b)),
                               rtol=1e-12)


def test_several_targets_equal_single_solves():
    _, _, a, b, C = _problem(6, 10, 8)
    B = np.stack([b, b[::-1] * 3, np.roll(b, 2) / 4], axis=1)
    res = sinkhorn(a, B, C, 0.05, reg_m=(0.5, 2.0))
    assert res.plan.shape == (3, 10, 8) and res.converged.all()
    for k in range(3):
        one = sinkhorn(a, B[:, k], C, 0.05, reg_m=(0.5, 2.0))
        np.testing.assert_allclose(res.plan[k], one.plan, rtol=1e-12, atol=1e-15)
        assert res.objective[k] == one.objective
        np.testing.assert_allclose(res.potentials[1][:, k], one.potentials[1], rtol=1e-12)


def test_parallel_chunks_against_pot():
    """n m >= 2**17 cost entries: row-parallel sweeps (2 chunks) against POT's plain variant."""
    _, _, a, b, C = _problem(7, 420, 400)
    res = sinkhorn(a, b, C, 0.05, reg_m=(0.4, 1.5), tol=1e-12)
    P, log = _pot(a, b, C, 0.05, (0.4, 1.5), method="sinkhorn")
    assert res.converged
    np.testing.assert_allclose(res.plan, P, atol=1e-9 * P.max(), rtol=0)
    np.testing.assert_allclose(res.objective, _pot_objective(P, log, a, b, 0.05, (0.4, 1.5)),
                               rtol=1e-9)


@pytest.mark.parametrize("omega", [1.0, 1.6])
def test_scaling_and_log_passes_with_damping_against_numpy(omega):
    """The generalised sweeps (lam < 1) against NumPy, parallel and serial builds."""
    rng = np.random.default_rng(8)
    n, m, eps, rho = 13, 11, 0.2, (0.5, 3.0)
    lam = [r / (r + eps) for r in rho]
    a, b = rng.random(n) + 0.1, rng.random(m) * 5 + 0.1
    f0, g0 = rng.normal(size=n) * 0.1, rng.normal(size=m) * 0.1
    C = rng.random((n, m))
    Kmat = np.outer(a, b) * np.exp((f0[:, None] + g0[None, :] - C) / eps)
    at, bt = a * np.exp(-f0 / rho[0]), b * np.exp(-g0 / rho[1])
    u, v = rng.random(n) + 0.5, rng.random(m) + 0.5
    s = Kmat @ v
    un = u * ((at / s) ** lam[0] / u) ** omega
    t = Kmat.T @ un
    vn = v * ((bt / t) ** lam[1] / v) ** omega
    # residuals (P 1) exp(f / rho) - a with f = f0 + eps log u, before / after the update
    rerr = np.abs(u * s * np.exp((f0 + eps * np.log(u)) / rho[0]) - a).sum()
    cerr = np.abs(vn * t * np.exp((g0 + eps * np.log(vn)) / rho[1]) - b).sum()
    for sweep in (K.scaling_sweep, serial_twin(K.scaling_sweep)):
        fn = functools.partial(K.scaling_pass, sweep=sweep)
        u2, v2, parts = np.empty(n), np.empty(m), np.zeros((3, m))
        e1, e2, nonfinite, outside = fn(Kmat, a, b, at, bt, u, v, u2, v2, parts, 1e10, omega,
                                        lam[0], lam[1])
        np.testing.assert_allclose(u2, un, rtol=1e-13)
        np.testing.assert_allclose(v2, vn, rtol=1e-13)
        np.testing.assert_allclose(e1, rerr, rtol=1e-11)
        np.testing.assert_allclose(e2, cerr if omega != 1.0 else 0.0, rtol=1e-11, atol=1e-14)
        assert (nonfinite, outside) == (0, 0)
    # the log-domain f-update: f <- f - omega (f - lam T(g)), columns of the new plan
    f = f0 * 3
    T = -eps * logsumexp((g0[None, :] - C) / eps + np.log(b)[None, :], axis=1)
    f_ref = f + omega * (lam[0] * T - f)
    r_old = a * np.exp(f / eps - T / eps)
    e_ref = np.abs(r_old * np.exp(f / rho[0]) - a).sum()
    P = np.outer(a, b) * np.exp((f_ref[:, None] + g0[None, :] - C) / eps)
    for fn in (functools.partial(KL.log_row_pass, threads=2),
               functools.partial(KL.log_row_pass, threads=1)):
        fk, parts = f.copy(), np.zeros((2, m))
        e = fn((C,), a, fk, g0, np.log(b), eps, omega, lam[0], parts, np.empty((2, m)),
               np.empty((2, m)))
        np.testing.assert_allclose(fk, f_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(parts.sum(axis=0), P.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(e, e_ref, rtol=1e-11)


# --- points: transport(..., reg_m=) and the unbalanced Sinkhorn divergence ------------------

@pytest.mark.parametrize("online", [False, True])
def test_transport_points_dense_and_online(online):
    x, y, a, b, _ = _problem(9, 30, 20)
    C = ot.dist(x, y)  # p=2, euclidean: squared distances
    ref = sinkhorn(a, b, C, 0.1, reg_m=(0.5, 0.8), tol=1e-12)
    res = transport(x, y, a, b, p=2, method="sinkhorn", reg=0.1, reg_m=(0.5, 0.8), tol=1e-12,
                    online=online)
    assert res.converged and (res.plan is None) == online
    np.testing.assert_allclose(res.cost, ref.cost, rtol=1e-9)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-10)
    np.testing.assert_allclose(res.potentials[0], ref.potentials[0], atol=1e-9)
    np.testing.assert_allclose(res.potentials[1], ref.potentials[1], atol=1e-9)
    assert res.distance == pytest.approx(res.cost ** 0.5)


def test_divergence_definition_zero_symmetry_and_positivity():
    x, y, a, b, _ = _problem(10, 15, 12)
    reg, rho = 0.2, 0.7
    ot_ = {}
    for k, (u, wu, v, wv) in {"ab": (x, a, y, b), "aa": (x, a, x, a),
                              "bb": (y, b, y, b)}.items():
        ot_[k] = sinkhorn(wu, wv, ot.dist(u, v, metric="euclidean"), reg, reg_m=rho,
                          tol=1e-12).objective
    expect = ot_["ab"] - 0.5 * (ot_["aa"] + ot_["bb"]) + 0.5 * reg * (a.sum() - b.sum()) ** 2
    s = sinkhorn_divergence(x, y, a, b, reg=reg, reg_m=rho, p=1, tol=1e-12)
    np.testing.assert_allclose(s, expect, rtol=1e-8)
    assert s > 0
    assert sinkhorn_divergence(y, x, b, a, reg=reg, reg_m=rho, p=1, tol=1e-12) == \
        pytest.approx(s, rel=1e-8)
    assert sinkhorn_divergence(x, x, a, a, reg=reg, reg_m=rho, p=1) == 0.0
    # same points, different masses: positive, and the mass term matters
    assert sinkhorn_divergence(x, x, a, 2 * a, reg=reg, reg_m=rho, p=1) > 0
    # large reg_m: the balanced divergence of normalised inputs
    bal = sinkhorn_divergence(x, y, a, b, reg=reg, p=1, tol=1e-12)
    big = sinkhorn_divergence(x, y, a / a.sum(), b / b.sum(), reg=reg, reg_m=1e7, p=1,
                              tol=1e-12)
    assert big == pytest.approx(bal, rel=1e-5)


# --- input checks, convergence, interrupts ---------------------------------------------------

@pytest.mark.parametrize("reg_m, exc, msg", [
    (0.0, ValueError, "reg_m must be > 0"), (-1.0, ValueError, "reg_m must be > 0"),
    (np.nan, ValueError, "reg_m must be > 0"), ("1", TypeError, "reg_m"),
    ((1.0, 2.0, 3.0), ValueError, "pair"), ((1.0, -2.0), ValueError, r"reg_m\[1\]"),
    (True, TypeError, "reg_m"), ((INF, INF), ValueError, "same mass")])
def test_bad_reg_m(reg_m, exc, msg):
    with pytest.raises(exc, match=msg):
        sinkhorn([1.0, 2.0], [1.0, 1.0], [[0.0, 1.0], [1.0, 0.0]], 0.1, reg_m=reg_m)


def test_reg_m_misuse_is_refused():
    x = [[0.0], [1.0]]
    with pytest.raises(ValueError, match="only used by method='sinkhorn'"):
        transport(x, x, method="exact", reg_m=1.0)
    with pytest.raises(TypeError, match="wasserstein takes no reg_m"):
        wasserstein(x, x, method="sinkhorn", reg=0.1, reg_m=1.0)
    with pytest.raises(ValueError, match="one value"):
        sinkhorn_divergence(x, x, reg=0.1, reg_m=(1.0, 2.0))


def test_non_convergence_warns():
    _, _, a, b, C = _problem(11, 30, 30)
    with pytest.warns(ConvergenceWarning, match="raise max_iter"):
        res = sinkhorn(a, b, C, 1e-3, reg_m=1.0, max_iter=5)
    assert not res.converged and res.status == "max_iter"
    assert np.isfinite(res.plan).all() and np.isfinite(res.objective)


masses = st.sampled_from([1e-100, 1e-20, 1e-3, 1.0, 1e3, 1e20, 1e100])


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 8), m=st.integers(1, 8),
       reg=st.sampled_from([1e-6, 1e-4, 1e-2, 1.0, 1e3]),
       rho_a=st.sampled_from([1e-3, 0.1, 10.0, 1e4, INF]),
       rho_b=st.sampled_from([1e-3, 1.0, 1e4, INF]), ma=masses, mb=masses,
       zeros=st.booleans())
@example(seed=0, n=2, m=1, reg=1e-6, rho_a=1e-3, rho_b=1e-3, ma=1e-100, mb=1e-100, zeros=True)
@example(seed=0, n=2, m=3, reg=1e-6, rho_a=1e-3, rho_b=1e-3, ma=1e100, mb=1e-3, zeros=False)
@example(seed=1, n=1, m=2, reg=1e-6, rho_a=1e-3, rho_b=1e-3, ma=1e20, mb=1e-100, zeros=False)
def test_no_nan_or_inf_property(seed, n, m, reg, rho_a, rho_b, ma, mb, zeros):
    """Tiny reg, zero weights, masses from 1e-100 to 1e100 (products within float64): every
    returned number is finite, the plan is non-negative with empty zero-weight rows, and a
    solve that reports convergence meets its stopping rule. (Examples: a plan whose sums
    underflow, 1e-322 against masses 1e100, gave a NaN-free but -inf objective and an
    overflowing residual; it now reports a finite objective and converged=False.)"""
    rng = np.random.default_rng(seed)
    a, b = rng.random(n) + 0.01, rng.random(m) + 0.01
    if zeros and n > 1:
        a[0] = 0.0
    if zeros and m > 1:
        b[-1] = 0.0
    a, b = a * ma / a.sum(), b * mb / b.sum()
    if rho_a == INF and rho_b == INF:
        b = b * a.sum() / b.sum()
    C = rng.random((n, m)) * 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sinkhorn(a, b, C, reg, reg_m=(rho_a, rho_b), max_iter=3000)
    f, g = res.potentials
    for v in (res.plan, f, g, res.cost, res.objective, res.marginal_error):
        assert np.isfinite(v).all()
    assert (res.plan >= 0).all()
    assert (res.plan[a == 0] == 0).all() and (res.plan[:, b == 0] == 0).all()
    assert res.converged == (res.marginal_error <= 1e-9)


_CHILD = textwrap.dedent("""
    import time, warnings
    import numpy as np
    from divergences import sinkhorn
    rng = np.random.default_rng(0)
    x, y = rng.random((600, 2)), rng.random((600, 2)) + 0.3
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = np.full(600, 1.0 / 600), np.full(600, 2.0 / 600)
    warnings.simplefilter("ignore")
    sinkhorn(a, b, C, 1e-3, reg_m=1.0, tol=1e-300, max_iter=3)  # compile
    print("start", flush=True)
    try:
        sinkhorn(a, b, C, 1e-3, reg_m=1.0, tol=1e-300, max_iter=10**9)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", repr(time.perf_counter()), flush=True)
""")


@pytest.mark.slow
def test_sigint_interrupts_a_long_unbalanced_solve():
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()
        time.sleep(1.5)
        assert proc.poll() is None
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    line = out.split()
    assert line and line[0] == "interrupted", (out, err)
    assert float(line[1]) - sent < 1.5
