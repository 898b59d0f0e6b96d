"""Shared checks for transport results: every solver's output goes through here."""

import numpy as np
import scipy.sparse


def dense_plan(plan):
    """The plan as a dense ndarray, whether it came dense or scipy.sparse."""
    return plan.toarray() if scipy.sparse.issparse(plan) else np.asarray(plan)


def check_transport(res, a, b, cost, *, atol=1e-10, marginal_atol=None, optimal=True,
                    allowed=None):
    """Assert that ``res`` is a valid transport between ``a`` and ``b`` for ``cost``.

    ``allowed`` (bool (n, m), or a scipy.sparse cost whose stored entries are the arcs):
    the plan must vanish elsewhere and dual feasibility is checked only there. A sparse
    ``cost`` gives its own ``allowed`` (its missing entries are then not arcs).

    Checks: the plan's shape and non-negativity, its marginals, ``cost == sum(plan*C)``,
    ``distance == cost**(1/p)``, and for ``optimal=True`` (exact solvers) dual feasibility
    ``f_i + g_j <= C_ij`` on the supports and a zero duality gap.
    ``a`` and ``b`` are the normalised weights.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if scipy.sparse.issparse(cost):
        allowed = cost if allowed is None else allowed
        cost = cost.toarray()
    if scipy.sparse.issparse(allowed):
        coo = scipy.sparse.coo_array(allowed)
        allowed = np.zeros(coo.shape, bool)
        allowed[coo.row, coo.col] = True
    cost = np.asarray(cost, float)
    marginal_atol = atol if marginal_atol is None else marginal_atol
    scale = max(1.0, np.abs(cost).max())
    plan = dense_plan(res.plan)
    assert plan.shape == cost.shape, (plan.shape, cost.shape)
    assert np.isfinite(plan).all()
    assert (plan >= -atol).all(), plan.min()
    if allowed is not None:
        assert (plan[~allowed] == 0).all(), "mass on an arc that is not allowed"
    np.testing.assert_allclose(plan.sum(axis=1), a, atol=marginal_atol, rtol=0)
    np.testing.assert_allclose(plan.sum(axis=0), b, atol=marginal_atol, rtol=0)
    np.testing.assert_allclose(res.cost, (plan * cost).sum(), atol=atol * scale, rtol=1e-12)
    if res.p != 1:
        np.testing.assert_allclose(res.distance, max(res.cost, 0.0) ** (1 / res.p),
                                   rtol=1e-12, atol=1e-15)
    assert np.isfinite(res.cost)
    if not optimal:
        return
    assert res.converged
    f, g = (np.asarray(v, float) for v in res.potentials)
    assert f.shape == a.shape and g.shape == b.shape
    assert np.isfinite(f).all() and np.isfinite(g).all()
    support = np.outer(a > 0, b > 0)
    if allowed is not None:
        support &= allowed
    slack = cost - f[:, None] - g[None, :]
    assert (slack[support] >= -atol * scale).all(), slack[support].min()
    dual = a @ f + b @ g
    np.testing.assert_allclose(dual, res.cost, atol=atol * scale, rtol=1e-10)
    # complementary slackness: mass only where the reduced cost is zero
    assert (plan[slack > 1e-7 * scale] <= atol).all()


def check_partial_transport(res, a, b, cost, mass, *, atol=1e-10):
    """Assert that ``res`` is an optimal partial transport of ``mass`` between ``a`` and
    ``b`` (as given): plan and cost through :func:`check_transport` against the plan's own
    marginals, then ``plan 1 <= a``, ``plan^T 1 <= b``, total ``mass``, and the partial
    dual certificate: ``f <= 0``, ``g <= 0``, ``f_i + g_j + lam <= C_ij`` with
    ``lam = min(C - f - g)``, ``sum a f + sum b g + mass lam = cost``, and mass only on
    tight pairs, rows ``f_i < 0`` exhausted, columns ``g_j < 0`` exhausted."""
    a, b, cost = (np.asarray(v, float) for v in (a, b, cost))
    plan = dense_plan(res.plan)
    scale = max(1.0, np.abs(cost).max())
    check_transport(res, plan.sum(axis=1), plan.sum(axis=0), cost, atol=atol, optimal=False)
    assert (plan.sum(axis=1) <= a + atol).all() and (plan.sum(axis=0) <= b + atol).all()
    np.testing.assert_allclose(plan.sum(), mass, rtol=1e-12, atol=atol)
    assert res.converged and res.status == "optimal"
    f, g = (np.asarray(v, float) for v in res.potentials)
    assert f.shape == a.shape and g.shape == b.shape
    assert (f <= 0).all() and (g <= 0).all()
    slack = cost - f[:, None] - g[None, :]
    lam = slack.min()
    dual = a @ f + b @ g + mass * lam
    np.testing.assert_allclose(dual, res.cost, atol=atol * scale * max(1.0, a.sum()), rtol=1e-9)
    assert (plan[slack - lam > 1e-7 * scale] <= atol).all()
    assert (np.abs(plan.sum(axis=1) - a)[f < -1e-7 * scale] <= 1e-9).all()
    assert (np.abs(plan.sum(axis=0) - b)[g < -1e-7 * scale] <= 1e-9).all()
