"""The averaged solve of ``OT_eps(a, a)`` (divergences._entropic_symmetric): its kernel-domain
iterations on a dense cost against the log-domain ones of the online geometry (the same
update, costs recomputed on the fly), one row chunk against two, the log-domain fallback of
a stage whose kernel underflows, and the potentials of zero weights (exact soft
c-transforms, checked with SciPy's logsumexp)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from divergences import _entropic_symmetric as sym
from divergences._entropic_solve import _schedule
from divergences._kernels.cost import SQEUCLIDEAN
from divergences._kernels.sinkhorn_log import online_geometry


def _problem(seed, n, zeros, d=2):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    a = rng.random(n) + 0.05
    if zeros:
        a[rng.random(n) < 0.3] = 0.0
        a[0] = max(a[0], 0.1)  # some mass
    a /= a.sum()
    C = ((x[:, None] - x[None]) ** 2).sum(-1)
    return x, a, C


def _solve(geom, a, C, rel, nch=1, tol=1e-11, max_iter=5000):
    span = C.max() - C.min()
    return sym._run_symmetric(geom, a, a, _schedule(rel * span, span), tol, max_iter, nch)


def _soft_transform(f, a, C, eps):
    """``T(f)_i = -eps log sum_j a_j exp((f_j - C_ij)/eps)`` over the support of ``a``."""
    s = a > 0
    return -eps * logsumexp((f[s][None, :] - C[:, s]) / eps + np.log(a[s])[None, :], axis=1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 40), zeros=st.booleans(),
       rel=st.sampled_from([0.5, 0.05, 0.003]))
def test_the_kernel_domain_equals_the_log_domain(seed, n, zeros, rel):
    """Dense costs (kernel domain, scalings absorbed into the potentials) against the online
    geometry of the same points (log-domain blocks): the same iterations, the same
    potentials and objective to the tolerance, with and without epsilon-scaling."""
    x, a, C = _problem(seed, n, zeros)
    dense = _solve((C,), a, C, rel)
    online = _solve(online_geometry(np.ascontiguousarray(x.T), x, x, SQEUCLIDEAN, 2.0, 1.0),
                    a, C, rel)
    assert dense["converged"] and online["converged"]
    assert abs(dense["n_iter"] - online["n_iter"]) <= 1
    span = C.max() - C.min()
    assert dense["objective"] == pytest.approx(online["objective"], rel=1e-9, abs=1e-12 * span)
    np.testing.assert_allclose(dense["f"], online["f"], rtol=0, atol=1e-8 * span)
    np.testing.assert_array_equal(dense["f"], dense["g"])


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(9, 60), zeros=st.booleans(),
       rel=st.sampled_from([0.05, 0.003]))
def test_two_row_chunks_equal_one(seed, n, zeros, rel):
    """The threaded sweep (two chunks of rows) against the one-thread one: the same
    iterations and the same solution to rounding."""
    _, a, C = _problem(seed, n, zeros)
    one, two = (_solve((C,), a, C, rel, nch) for nch in (1, 2))
    assert one["n_iter"] == two["n_iter"]
    assert two["objective"] == pytest.approx(one["objective"], rel=1e-12)
    np.testing.assert_allclose(two["f"], one["f"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(two["plan"], one["plan"], rtol=1e-11, atol=1e-16)


@pytest.mark.parametrize("rel", [0.05, 0.003])
def test_an_underflowing_stage_goes_on_in_the_log_domain(monkeypatch, rel):
    """A sweep that reports a non-finite scaling hands its stage to the log-domain blocks,
    from the potentials absorbed so far: the same solution (a sweep is replaced by a
    failing one at the third iteration of every stage)."""
    _, a, C = _problem(3, 30, True)
    ref = _solve((C,), a, C, rel)
    real = sym._averaged_sweep
    calls = []

    def failing(w, K, u, u_new):
        out = real(w, K, u, u_new)
        calls.append(1)
        return (out[0], 1, out[2]) if len(calls) % 3 == 0 else out

    monkeypatch.setattr(sym, "_averaged_sweep", failing)
    fell = _solve((C,), a, C, rel)
    assert calls and fell["converged"]
    assert fell["objective"] == pytest.approx(ref["objective"], rel=1e-9)
    np.testing.assert_allclose(fell["f"], ref["f"], atol=1e-8 * C.max())


@pytest.mark.parametrize("online", [False, True])
def test_zero_weight_potentials_are_exact_soft_transforms(online):
    """A point of zero weight carries no mass; its potential is the soft c-transform of the
    others' (the averaged iterates only tended to it: 6% off on this grid before)."""
    x = np.arange(30.0)[:, None]
    C = (x - x.T) ** 2
    a = np.full(30, 1.0)
    a[[3, 7]] = 0.0
    a /= a.sum()
    geom = online_geometry(np.ascontiguousarray(x.T), x, x, SQEUCLIDEAN, 2.0, 1.0) \
        if online else (C,)
    for reg in (0.1, 1.0):
        out = sym._run_symmetric(geom, a, a, np.array([reg]), 1e-12, 5000, 1)
        assert out["converged"]
        np.testing.assert_allclose(out["f"], _soft_transform(out["f"], a, C, reg),
                                   rtol=0, atol=1e-9)


# --- review findings (each failed before its fix) --------------------------------------------

@pytest.mark.parametrize("reg, symmetric", [(1e-12, True), (1e-22, True), (1e-30, True),
                                            (1e-12, False), (1e-16, False)])
def test_zero_weights_under_a_tiny_reg_keep_finite_potentials(reg, symmetric):
    """|C| / reg ~ 1e21 and beyond: the soft c-transform of a zero weight recomputed its
    largest exponent hundreds below 0, its sum underflowed and the potential was +inf (the
    next plan NaN). The symmetric solver, and the alternating one (which does not converge
    on this problem beyond range(C) / reg ~ 1e18, zero weights or not)."""
    from divergences import sinkhorn

    x = np.linspace(0, 1, 6)[:, None]
    C = np.abs(x - x.T)
    a = np.array([1.0, 1, 0, 1, 1, 1]) / 5
    b = a if symmetric else np.array([1.0, 1, 1, 1, 0, 1]) / 5
    res = sinkhorn(a, b, C, reg=reg)
    f, g = res.potentials
    assert res.converged and np.isfinite(res.cost) and np.isfinite(res.plan).all()
    assert np.isfinite(f).all() and np.isfinite(g).all()
    s = b > 0  # the zero weight's potential: (nearly, at this reg) the hard c-transform
    assert f[2] == pytest.approx(np.min(C[2, s] - g[s]), abs=1e-9)


def test_a_sweep_that_really_underflows_hands_over_to_the_log_domain():
    """A point far from the others with a weight of 1e-100: its row of K u underflows in
    the kernel domain (a non-finite scaling), and the stage goes on in the log domain; the
    result equals the online (log-domain) solve of the same points."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.random((19, 1)), [[10.0]]])
    a = np.full(20, 1.0)
    a[-1] = 1e-100
    a /= a.sum()
    C = (x - x.T) ** 2
    for rel in (1e-2 / C.max(), 1e-4 / C.max()):
        dense = _solve((C,), a, C, rel, tol=1e-9)
        online = _solve(online_geometry(np.ascontiguousarray(x.T), x, x, SQEUCLIDEAN, 2.0, 1.0),
                        a, C, rel, tol=1e-9)
        assert dense["converged"] and online["converged"]
        assert dense["objective"] == pytest.approx(online["objective"], rel=1e-8)


def test_the_flag_is_that_of_the_returned_plan():
    """The rule is met on diag(u) K diag(u); rebuilding the plan from the absorbed
    potentials could round its error just over tol (converged=False, a warning that
    max_iter ran out, after 67755 of 200000 iterations)."""
    import warnings

    from divergences import sinkhorn

    rng = np.random.default_rng(34)
    n = int(rng.integers(5, 60))
    R = rng.random((n, n))
    a = rng.random(n) + 0.05
    a /= a.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sinkhorn(a, a, R + R.T, reg=1e-3, tol=1e-9, max_iter=200_000)
    assert res.converged and res.marginal_error <= 1e-9 and res.n_iter < 200_000


@pytest.mark.parametrize("b", [[0.5, 0.5], [0.4, 0.6]])
def test_costs_so_small_that_reg_over_them_overflows(b):
    """Costs of 1e-310 and reg = 1: reg / max|C| overflowed to inf in the rescaling of
    tiny costs, and every potential was NaN. The plan is the product a b^T."""
    from divergences import sinkhorn

    a = [0.5, 0.5]
    C = np.array([[0.0, 1e-310], [1e-310, 0.0]])
    res = sinkhorn(a, b, C, reg=1.0)
    assert res.converged and np.isfinite(res.objective)
    np.testing.assert_allclose(res.plan, np.outer(a, b), atol=1e-15)
    assert all(np.isfinite(p).all() for p in res.potentials)
