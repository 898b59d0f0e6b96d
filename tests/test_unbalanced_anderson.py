"""Anderson-accelerated kernel-domain iterations of large unbalanced problems
(:mod:`divergences._anderson`).

The solver uses them from ``ANDERSON_MIN`` cost entries; here the threshold is also set to 0
so that the reference checks of ``test_unbalanced.py`` (POT's stabilised variant, the
first-order conditions, reg_m -> inf, no NaN/inf across tiny reg, zero weights and extreme
masses: the under/overflow fallbacks) run through the Anderson path on small problems, and a
problem above the threshold is checked against POT as it is. Solves with epsilon-scaling
(reg < 1e-2 range(C)) keep over-relaxation: the small-reg tests of ``test_unbalanced.py``
would not reach the Anderson path.
"""

from unittest import mock

import numpy as np
import ot
import pytest
import test_unbalanced as T

import divergences._entropic_solve as solve_layer
from divergences import sinkhorn
from divergences._anderson import ANDERSON_MIN, AndersonBlock


def _anderson_everywhere():
    return mock.patch.object(solve_layer, "ANDERSON_MIN", 0)


@pytest.mark.parametrize("reg, reg_m", T.CASES)
@pytest.mark.parametrize("seed", [0, 2])
def test_matches_pot_stabilised(seed, reg, reg_m):
    with _anderson_everywhere():
        T.test_matches_pot_stabilised(seed, reg, reg_m)


@pytest.mark.parametrize("reg_m", [1.0, (0.3, T.INF)])
def test_first_order_conditions(reg_m):
    with _anderson_everywhere():
        T.test_first_order_conditions(reg_m)


def test_reg_m_to_infinity_recovers_the_balanced_solver():
    with _anderson_everywhere():
        T.test_reg_m_to_infinity_recovers_the_balanced_solver()


@pytest.mark.slow
def test_no_nan_or_inf_property():
    with _anderson_everywhere():
        T.test_no_nan_or_inf_property()


def test_above_the_threshold_against_pot_and_fewer_iterations():
    """1000 x 1050 points (above ANDERSON_MIN): POT's plain variant to 1e-9 of the plan's
    largest entry, the stopping rule met, and fewer iterations than over-relaxation."""
    rng = np.random.default_rng(3)
    x, y = rng.random((1000, 2)), rng.random((1050, 2)) + np.array([0.2, 0.0])
    C = ot.dist(x, y)
    C /= C.max()
    a, b = rng.random(1000) + 0.1, (rng.random(1050) + 0.1) * 1.5
    a, b = a / a.sum(), b / b.sum() * 1.5
    assert C.size >= ANDERSON_MIN
    rho = (0.4, 1.5)
    res = sinkhorn(a, b, C, 0.05, reg_m=rho, tol=1e-12)
    P, log = T._pot(a, b, C, 0.05, rho, method="sinkhorn")
    assert res.converged and res.marginal_error <= 1e-12
    np.testing.assert_allclose(res.plan, P, atol=1e-9 * P.max(), rtol=0)
    np.testing.assert_allclose(res.objective, T._pot_objective(P, log, a, b, 0.05, rho),
                               rtol=1e-9)
    f, g = res.potentials
    np.testing.assert_allclose(T._dual(f, g, C, a, b, 0.05, rho), res.objective, rtol=1e-9)
    with mock.patch.object(solve_layer, "ANDERSON_MIN", np.inf):  # over-relaxation
        sor = sinkhorn(a, b, C, 0.05, reg_m=rho, tol=1e-12)
    np.testing.assert_allclose(res.plan, sor.plan, atol=1e-10 * P.max(), rtol=0)
    assert res.n_iter < sor.n_iter, (res.n_iter, sor.n_iter)


def test_mixing_solves_a_linear_fixed_point_in_few_steps():
    """On an affine map x -> M x + c (M symmetric, spectrum in [0, 0.9]) of dimension 6,
    Anderson mixing of depth >= 6 is GMRES: exact after dimension + 1 steps, where the
    plain iteration is still at 0.9**7 of its start."""
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    M = Q @ np.diag([0.9, 0.8, 0.5, 0.3, 0.1, 0.0]) @ Q.T
    c = rng.normal(size=6)
    fixed = np.linalg.solve(np.eye(6) - M, c)
    mixer = AndersonBlock(np.ones(6))
    x = np.zeros(6)
    for _ in range(8):
        x = mixer._mix(x, M @ x + c)
    np.testing.assert_allclose(x, fixed, atol=1e-8)


def _solve_counting_plan_passes(a, b, C, reg, rho, tol, **patches):
    """The solve with the given constants of _anderson patched, and the number of passes
    that wrote the plan (1 when no prediction failed)."""
    import divergences._anderson as anderson

    calls = []
    original = solve_layer._dense_result

    def counting(*args):
        calls.append(1)
        return original(*args)

    with _anderson_everywhere(), mock.patch.object(solve_layer, "_dense_result", counting):
        with mock.patch.multiple(anderson, **patches) if patches else mock.patch.object(
                anderson, "DEPTH", anderson.DEPTH):
            res = sinkhorn(a, b, C, reg, reg_m=rho, tol=tol)
    return res, len(calls)


def test_predicted_last_sweep_returns_the_plan_the_sweep_would_have():
    """The last sweep skipped on a prediction (module docstring of _anderson): the returned
    plan is the one the solve without predictions stops on (to rounding), one sweep fewer,
    the rule met; both against POT's stabilised solver. (A problem where the prediction is
    made: on others the residual is not yet under its threshold one sweep before the end.)"""
    x, y, a, b, C = T._problem(3, n=60, m=50)
    rho = (0.8, 2.0)
    res, passes = _solve_counting_plan_passes(a, b, C, 0.05, rho, 1e-10)
    off, _ = _solve_counting_plan_passes(a, b, C, 0.05, rho, 1e-10, PREDICT_MARGIN=-1.0)
    assert passes == 1 and res.converged and off.converged
    assert res.n_iter == off.n_iter - 1
    np.testing.assert_allclose(res.plan, off.plan, rtol=1e-12, atol=0)
    P = T._pot(a, b, C, 0.05, rho)[0]
    np.testing.assert_allclose(res.plan, P, atol=1e-9 * P.max(), rtol=0)


def test_a_wrong_prediction_goes_on_from_the_written_plan():
    """Predictions forced far too early (every column residual qualifies): each wrong one
    writes the plan into the kernel and the solve goes on from it; the result still meets
    the rule and agrees with POT's stabilised solver."""
    x, y, a, b, C = T._problem(6, n=60, m=50)
    rho = (0.5, 1.5)
    res, passes = _solve_counting_plan_passes(a, b, C, 0.05, rho, 1e-10,
                                              PREDICT_MARGIN=1e12, PREDICT_BELOW=np.inf)
    assert passes > 2 and res.converged and res.marginal_error <= 1e-10
    P, log = T._pot(a, b, C, 0.05, rho)
    np.testing.assert_allclose(res.plan, P, atol=1e-9 * P.max(), rtol=0)
    np.testing.assert_allclose(res.objective, T._pot_objective(P, log, a, b, 0.05, rho),
                               rtol=1e-9)
