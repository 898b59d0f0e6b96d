"""TransportResult.gradient against central finite differences, for every solver.

The costs are recomputed by the solvers themselves at shifted inputs (the finite
differences), and by POT for the exact cost of the shifted problems: nothing the
gradient code computes is used as a reference.
"""

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from divergences import emd, sinkhorn, sinkhorn_divergence, sliced_wasserstein, transport

H = 1e-6


def _rel(got, want):
    return np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)


def _problem(rng, n, m, d):
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.3
    a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m))  # non-degenerate plans
    return x, y, a, b


def _fd_points(value, x, h=H):
    """Central finite differences of ``value`` at every coordinate of ``x``."""
    out = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (value(up) - value(down)) / (2 * h)
    return out


def _fd_weights(value, w, rng, k=3, t=1e-7):
    """Directional derivatives of ``value`` along ``k`` random directions tangent to the
    simplex, with those directions."""
    dirs = rng.normal(size=(k, w.shape[0]))
    dirs -= dirs.mean(axis=1, keepdims=True)
    return np.array([(value(w + t * v) - value(w - t * v)) / (2 * t) for v in dirs]), dirs


CASES_EXACT = [("euclidean", 1.0, {}), ("euclidean", 2.0, {}), ("euclidean", 3.0, {}),
               ("sqeuclidean", 1.0, {}), ("cityblock", 1.0, {}), ("cityblock", 2.0, {}),
               ("chebyshev", 1.5, {}), ("minkowski", 1.0, {"q": 3.0})]


@pytest.mark.parametrize(("metric", "p", "opts"), CASES_EXACT)
def test_exact_point_gradients_match_finite_differences(metric, p, opts):
    rng = np.random.default_rng(7)
    x, y, a, b = _problem(rng, 6, 5, 2)

    def cost(u, v):
        return transport(u, v, a, b, p=p, metric=metric, method="exact", **opts).cost

    res = transport(x, y, a, b, p=p, metric=metric, method="exact", **opts)
    assert _rel(res.gradient("x"), _fd_points(lambda u: cost(u, y), x)) < 1e-6
    assert _rel(res.gradient("y"), _fd_points(lambda v: cost(x, v), y)) < 1e-6


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_closed_form_gradients_match_finite_differences(p):
    rng = np.random.default_rng(int(10 * p))
    x, y, a, b = _problem(rng, 7, 5, 1)

    def cost(u, v, wa=a, wb=b):
        return transport(u, v, wa, wb, p=p).cost

    res = transport(x[:, 0], y[:, 0], a, b, p=p)
    gx = res.gradient("x")
    assert gx.shape == (7, 1)
    assert _rel(gx, _fd_points(lambda u: cost(u, y), x)) < 1e-6
    assert _rel(res.gradient("y"), _fd_points(lambda v: cost(x, v), y)) < 1e-6
    # the same as the exact solver's gradient (unique plan)
    ex = transport(x, y, a, b, p=p, method="exact")
    np.testing.assert_allclose(gx, ex.gradient("x"), rtol=1e-9, atol=1e-12)
    for wrt, w, value in (("a", a, lambda w: cost(x, y, wa=w)),
                          ("b", b, lambda w: cost(x, y, wb=w))):
        fd, dirs = _fd_weights(value, w, rng)
        grad = res.gradient(wrt)
        assert abs(grad.sum()) < 1e-12
        np.testing.assert_allclose(dirs @ grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean"])
def test_exact_weight_gradients_are_the_potentials_change_along_the_simplex(metric):
    rng = np.random.default_rng(3)
    x, y, a, b = _problem(rng, 8, 6, 3)
    C = cdist(x, y, metric)

    def cost_pot(wa, wb):  # the independent reference: POT's exact LP
        return float(ot.emd2(wa / wa.sum(), wb / wb.sum(), C))

    res = transport(x, y, a, b, metric=metric)
    for wrt, w, value in (("a", a, lambda w: cost_pot(w, b)),
                          ("b", b, lambda w: cost_pot(a, w))):
        fd, dirs = _fd_weights(value, w, rng)
        grad = res.gradient(wrt)
        assert abs(grad.sum()) < 1e-12
        np.testing.assert_allclose(dirs @ grad, fd, rtol=1e-6, atol=1e-9)
    # emd on the bare cost matrix: the same weights' gradients, and no point gradients
    bare = emd(a, b, C)
    np.testing.assert_allclose(bare.gradient("a"), res.gradient("a"), atol=1e-12)
    with pytest.raises(ValueError, match="support points"):
        bare.gradient("x")
    with pytest.raises(ValueError, match="wrt"):
        res.gradient("z")


@pytest.mark.parametrize(("metric", "p", "online"), [("euclidean", 2.0, False),
                                                     ("euclidean", 1.0, False),
                                                     ("cityblock", 1.5, True)])
def test_sinkhorn_gradients_match_finite_differences_of_the_objective(metric, p, online):
    rng = np.random.default_rng(11)
    x, y, a, b = _problem(rng, 6, 5, 2)
    kw = dict(p=p, metric=metric, method="sinkhorn", reg=0.5, tol=1e-13, online=online)

    def objective(u, v, wa=a, wb=b):
        return transport(u, v, wa, wb, **kw).objective

    res = transport(x, y, a, b, **kw)
    assert (res.plan is None) == online
    assert _rel(res.gradient("x"), _fd_points(lambda u: objective(u, y), x, 1e-5)) < 1e-6
    assert _rel(res.gradient("y"), _fd_points(lambda v: objective(x, v), y, 1e-5)) < 1e-6
    for wrt, w, value in (("a", a, lambda w: objective(x, y, wa=w)),
                          ("b", b, lambda w: objective(x, y, wb=w))):
        fd, dirs = _fd_weights(value, w, rng, t=1e-5)
        np.testing.assert_allclose(dirs @ res.gradient(wrt), fd, rtol=1e-6, atol=1e-9)
    # sinkhorn on the bare matrix: same potentials, same weights' gradient
    bare = sinkhorn(a, b, cdist(x, y, metric) ** p, reg=0.5, tol=1e-14)
    np.testing.assert_allclose(bare.gradient("b"), res.gradient("b"), atol=1e-8)


@settings(max_examples=25)
@given(st.integers(2, 9), st.integers(2, 9), st.sampled_from([1.0, 2.0]),
       st.integers(0, 2**31))
def test_point_gradients_of_any_plan_are_superdifferential_elements(n, m, p, seed):
    """Even where the cost is not differentiable (here: uniform weights, degenerate plans,
    ties), moving along the gradient at the returned plan bounds the new cost from
    above to first order: W(x + t h) <= W(x) + t <grad, h> + O(t^2) (a smooth ground
    cost: the metric's own kinks are convex and bound it from below instead)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, 2)).astype(float)  # ties and coincident points
    y = rng.integers(-2, 3, size=(m, 2)).astype(float)
    res = transport(x, y, p=p, metric="sqeuclidean")  # a smooth ground cost |u|^(2p)
    h = rng.normal(size=x.shape)
    t = 1e-6
    moved = transport(x + t * h, y, p=p, metric="sqeuclidean")
    assert moved.cost <= res.cost + t * np.sum(res.gradient("x") * h) + 1e-9


def test_segments_w1_gradient_is_sign_theta():
    """P0 = (0, Z), Ptheta = (theta, Z): dW1/dtheta = sign(theta) from the plan."""
    z = np.random.default_rng(0).uniform(size=50)
    x = np.column_stack([np.zeros(50), z])
    for theta in (-0.7, -1e-3, 0.25, 2.0):
        y = np.column_stack([np.full(50, theta), z])
        res = transport(x, y, method="exact")
        dtheta = res.gradient("y")[:, 0].sum()  # theta moves every y along the first axis
        assert dtheta == pytest.approx(np.sign(theta), abs=1e-12)
        np.testing.assert_allclose(res.gradient("x").sum(axis=0), [-np.sign(theta), 0.0],
                                   atol=1e-12)
    y = x.copy()  # theta = 0: the metric's kink, the subgradient 0
    assert np.all(transport(x, y, method="exact").gradient("y") == 0.0)


def test_chain_rule_for_the_distance():
    rng = np.random.default_rng(5)
    x, y, a, b = _problem(rng, 5, 4, 2)
    p = 3.0
    res = transport(x, y, a, b, p=p)
    grad = res.gradient("x") / (p * res.distance ** (p - 1))
    fd = _fd_points(lambda u: transport(u, y, a, b, p=p).distance, x)
    assert _rel(grad, fd) < 1e-6


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_sliced_gradients_match_finite_differences(p):
    rng = np.random.default_rng(int(p))
    x, y, a, b = _problem(rng, 7, 6, 3)

    def value(u=x, v=y, wa=a, wb=b):
        return sliced_wasserstein(u, v, wa, wb, p=p, n_projections=20, seed=4)

    sw, grad = sliced_wasserstein(x, y, a, b, p=p, n_projections=20, seed=4,
                                  return_gradient=True)
    assert sw == value()  # the same directions, the same value
    assert grad.x.shape == x.shape and grad.y.shape == y.shape
    assert _rel(grad.x, _fd_points(lambda u: value(u=u), x)) < 1e-6
    assert _rel(grad.y, _fd_points(lambda v: value(v=v), y)) < 1e-6
    for w, g, fun in ((a, grad.a, lambda w: value(wa=w)), (b, grad.b, lambda w: value(wb=w))):
        fd, dirs = _fd_weights(fun, w, rng)
        assert abs(g.sum()) < 1e-12
        np.testing.assert_allclose(dirs @ g, fd, rtol=1e-6, atol=1e-9)


def test_sliced_gradient_in_1d_is_the_closed_form_chain_rule():
    rng = np.random.default_rng(2)
    x, y, a, b = _problem(rng, 6, 4, 1)
    sw, grad = sliced_wasserstein(x, y, a, b, p=2, n_projections=3, seed=0,
                                  return_gradient=True)
    res = transport(x, y, a, b, p=2)
    assert sw == pytest.approx(res.distance, rel=1e-12)
    np.testing.assert_allclose(grad.x, res.gradient("x") / (2 * res.distance), rtol=1e-10)
    np.testing.assert_allclose(grad.a, res.gradient("a") / (2 * res.distance), rtol=1e-10)
    _, zero = sliced_wasserstein(x, x, p=2, return_gradient=True, seed=0)
    assert not np.any(zero.x) and not np.any(zero.a)
    with pytest.raises(TypeError, match="return_gradient"):
        sliced_wasserstein(x, y, return_gradient="yes")


@pytest.mark.parametrize(("metric", "p"), [("euclidean", 2.0), ("euclidean", 1.0)])
def test_sinkhorn_divergence_gradients_match_finite_differences(metric, p):
    rng = np.random.default_rng(8)
    x, y, a, b = _problem(rng, 6, 5, 2)
    kw = dict(reg=0.5, p=p, metric=metric, tol=1e-13)

    def value(u=x, v=y, wa=a, wb=b):
        return sinkhorn_divergence(u, v, wa, wb, **kw)

    s, grad = sinkhorn_divergence(x, y, a, b, return_gradient=True, **kw)
    assert s == value()
    assert _rel(grad.x, _fd_points(lambda u: value(u=u), x, 1e-5)) < 1e-6
    assert _rel(grad.y, _fd_points(lambda v: value(v=v), y, 1e-5)) < 1e-6
    for w, g, fun in ((a, grad.a, lambda w: value(wa=w)), (b, grad.b, lambda w: value(wb=w))):
        fd, dirs = _fd_weights(fun, w, rng, t=1e-5)
        np.testing.assert_allclose(dirs @ g, fd, rtol=1e-6, atol=1e-9)
    # online (no plans kept): the same gradients
    _, online = sinkhorn_divergence(x, y, a, b, return_gradient=True, online=True, **kw)
    for got, want in zip(online, grad, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_sinkhorn_divergence_translation_gradient():
    """p = 2, beta = alpha + t: S = |t|^2 for every reg, so dS/dy summed is 2t."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 2))
    t = np.array([0.4, -0.2])
    _, grad = sinkhorn_divergence(x, x + t, reg=0.3, return_gradient=True, tol=1e-12)
    np.testing.assert_allclose(grad.y.sum(axis=0), 2 * t, rtol=1e-7)
    np.testing.assert_allclose(grad.x.sum(axis=0), -2 * t, rtol=1e-7)
