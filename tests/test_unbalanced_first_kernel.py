"""The first pass of large unbalanced solves (:func:`divergences._anderson.first_kernel`,
:func:`divergences._entropic_solve._first_kernel`): one pass over the costs gives their
range, their finiteness, the kernel of the row-minimum potentials and the row half of the
first iteration. Checked against NumPy (the pass itself), against POT (the solves it starts,
and those where it is dropped: epsilon-scaling, extreme magnitudes), and for the errors it
must still raise.
"""

from unittest import mock

import numpy as np
import ot
import pytest
import test_unbalanced as T

import divergences._entropic_solve as solve_layer
from divergences import sinkhorn
from divergences._anderson import ANDERSON_MIN, first_kernel
from divergences._kernels.sinkhorn_scaling import first_kernel_rows


def _costs(n, m, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2)) + np.array([0.2, 0.0])
    C = ot.dist(x, y)
    return C / C.max()


@pytest.mark.parametrize("threads", [1, 2])
def test_pass_against_numpy(threads):
    """Range, finiteness, row-minimum potentials, kernel, targets and the row half of the
    first iteration (scalings 1) as NumPy computes them from their definitions, zero weights
    included (their rows and columns of K are 0, their costs still checked)."""
    rng = np.random.default_rng(1)
    n, m, reg, rho, lam = 70, 29, 0.3, 0.7, 0.7 / (0.7 + 0.3)
    C = _costs(n, m) * 3.0 + 0.5
    a, b = rng.random(n), rng.random(m)
    a[4], b[7] = 0.0, 0.0
    with np.errstate(divide="ignore"):
        la, lb = np.log(a), np.log(b)
    parts = np.empty((threads, m))
    K, f, at, u_new, ranges, stats = first_kernel_rows(C, a, la, lb, reg, rho, lam, 1e10,
                                                       np.inf, parts, threads=threads)
    np.testing.assert_array_equal(ranges[:, 0], C.min(axis=1))
    np.testing.assert_array_equal(ranges[:, 1], C.max(axis=1))
    assert np.all(ranges[:, 2] == 0.0)
    np.testing.assert_array_equal(f, C.min(axis=1))
    ref = np.outer(a, b) * np.exp((C.min(axis=1)[:, None] - C) / reg)
    np.testing.assert_allclose(K, ref, rtol=1e-14, atol=0)
    assert np.all(K[4] == 0.0) and np.all(K[:, 7] == 0.0)
    at_ref = a * np.exp(-f / rho)
    np.testing.assert_allclose(at, at_ref, rtol=1e-15, atol=0)
    s = ref.sum(axis=1)
    pa = a > 0
    u_ref = np.zeros(n)
    u_ref[pa] = (at_ref[pa] / s[pa]) ** lam
    np.testing.assert_allclose(u_new, u_ref, rtol=1e-13, atol=0)
    np.testing.assert_allclose(parts.sum(axis=0), ref.T @ u_ref, rtol=1e-13, atol=0)
    err_ref = (np.abs(s[pa] - at_ref[pa]) * a[pa] / at_ref[pa]).sum()
    np.testing.assert_allclose(stats[:, 0].sum(), err_ref, rtol=1e-12)
    assert np.all(stats[:, 1:] == 0.0)
    fk, lo, hi, finite = first_kernel(C, a, b, reg, (rho, 2.0), 1e10, np.inf, threads)
    np.testing.assert_array_equal(fk.K, K)
    assert (lo, hi, finite) == (C.min(), C.max(), True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_pass_flags_every_non_finite_entry(bad):
    C = _costs(40, 11)
    a, b = np.full(40, 1 / 40), np.full(11, 1 / 11)
    for i, j in [(0, 0), (39, 10), (33, 3)]:
        Cb = C.copy()
        Cb[i, j] = bad
        assert not first_kernel(Cb, a, b, 0.1, (1.0, 1.0), 1e10, np.inf, 2)[3]


def test_rows_beyond_the_limit_are_not_built():
    """A row whose range exceeds limit * reg is left as it was and not swept (the solve
    drops the kernel); the other rows are built and swept."""
    C = _costs(40, 6)
    C[35] *= 100.0  # range > 20 * 0.1
    a, b = np.full(40, 1 / 40), np.full(6, 1 / 6)
    fk = first_kernel(C, a, b, 0.1, (1.0, 1.0), 1e10, 20.0, 1)[0]
    rows = np.arange(40) != 35
    assert np.all(fk.K[rows] > 0.0) and np.all(fk.u_new[rows] > 0.0) and fk.u_new[35] == 0.0
    ref = np.outer(a, b)[rows] * np.exp((C[rows].min(axis=1)[:, None] - C[rows]) / 0.1)
    np.testing.assert_allclose(fk.parts[0], ref.T @ fk.u_new[rows], rtol=1e-13)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_large_unbalanced_solve_names_a_non_finite_cost(bad):
    n = 1024
    assert n * n >= ANDERSON_MIN
    C = _costs(n, n)
    C[500, 3] = bad
    a = np.full(n, 1.0 / n)
    with pytest.raises(ValueError, match="cost contains"):
        sinkhorn(a, 1.5 * a, C, 0.05, reg_m=1.0)


@pytest.mark.parametrize("offset, scale, reg", [
    (0.0, 1.0, 0.05),     # the folded pass starts the solve
    (5.0, 1.0, 0.05),     # offset of 100 reg: row-minimum potentials, no underflow
    (0.0, 1.0, 0.004),    # epsilon-scaling: the folded kernel is dropped
    (0.0, 1e120, 0.05),   # costs rescaled by max|C|: the folded kernel is dropped
])
def test_solves_started_or_not_by_the_folded_pass_match_pot(offset, scale, reg):
    """Small problems through the folded path (threshold patched to 0) against POT (its
    kernel-domain solver at reg = 0.004, where its stabilised one breaks down); the costs,
    reg and reg_m multiplied by ``scale`` (the same plan), POT on the unscaled problem."""
    rng = np.random.default_rng(5)
    C = _costs(30, 25, seed=2) + offset
    a, b = rng.random(30) + 0.1, rng.random(25) + 0.1
    rho = (0.5, 2.0)
    with mock.patch.object(solve_layer, "ANDERSON_MIN", 0):
        res = sinkhorn(a, b, C * scale, reg * scale, reg_m=(rho[0] * scale, rho[1] * scale),
                       tol=1e-11)
    method = "sinkhorn_stabilized" if reg > 0.01 else "sinkhorn"
    P = T._pot(a, b, C, reg, rho, method=method)[0]
    assert res.converged
    np.testing.assert_allclose(res.plan, P, atol=1e-8 * P.max(), rtol=0)
    np.testing.assert_allclose(res.objective / scale, T._objective(P, C, a, b, reg, rho),
                               rtol=1e-8)


def test_above_the_threshold_against_pot():
    """1024 x 1100 (above ANDERSON_MIN, no patch), uneven weights, a zero weight per side:
    POT's stabilised solver on the problem without the zero-weight points (its own handling
    of zero weights breaks down here), whose rows and columns of our plan are 0."""
    n, m = 1024, 1100
    rng = np.random.default_rng(7)
    C = _costs(n, m, seed=3) + 2.0
    a, b = rng.random(n) + 0.1, (rng.random(m) + 0.1) * 2.0
    a[10], b[20] = 0.0, 0.0
    a, b, rho = a / a.sum(), b / b.sum() * 1.5, (0.7, 1.3)
    res = sinkhorn(a, b, C, 0.05, reg_m=rho, tol=1e-11)
    pa, pb = a > 0, b > 0
    P = T._pot(a[pa], b[pb], C[np.ix_(pa, pb)], 0.05, rho)[0]
    assert res.converged
    assert np.all(res.plan[10] == 0.0) and np.all(res.plan[:, 20] == 0.0)
    np.testing.assert_allclose(res.plan[np.ix_(pa, pb)], P, atol=1e-9 * P.max(), rtol=0)
    np.testing.assert_allclose(res.objective, T._objective(P, C[np.ix_(pa, pb)], a[pa], b[pb],
                                                           0.05, rho), rtol=1e-8)
