"""Issue 12 (hardening), the Sinkhorn items: each defect's example call, and beside it a
property of its whole class.

References are closed forms (constant costs, the product plan), POT's log-domain solver and
the solver's own invariances (scale of the weights), never a value computed by this code.
"""

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
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences import sinkhorn, sinkhorn_divergence, transport, wasserstein
from divergences._warnings import ConvergenceWarning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with every warning turned into an error except ConvergenceWarning, which
    is returned (the flag/message agreement is checked by the callers)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = fn(*args, **kwargs)
    return res, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


# --- defect 3: weights near the top of the float64 range ------------------------------------

def test_defect3_counts_near_1e308_example():
    C = np.arange(12.0).reshape(3, 4) % 5
    res = sinkhorn([1e308] * 3, np.ones(4) / 4, C, 0.1)
    ref = sinkhorn(np.ones(3), np.ones(4) / 4, C, 0.1)
    assert res.converged and np.isfinite(res.objective)
    assert np.isfinite(res.potentials[0]).all() and np.isfinite(res.potentials[1]).all()
    np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-12, atol=1e-300)
    assert res.objective == pytest.approx(ref.objective, rel=1e-12)
    x, y = np.array([[0.0], [1.0], [2.0]]), np.array([[0.5], [1.5], [3.0]])
    s = sinkhorn_divergence(x, y, b=[1e308] * 3, reg=0.5)
    assert s == pytest.approx(sinkhorn_divergence(x, y, reg=0.5), rel=1e-12)


weights = st.lists(st.floats(1e-320, 1e308), min_size=2, max_size=6)


@settings(max_examples=40)
@given(a=weights, b=weights, seed=st.integers(0, 2**16))
def test_defect3_weights_spanning_the_float64_range_property(a, b, seed):
    """No NaN, inf or warning for weights anywhere in [1e-320, 1e308] (their sum may
    overflow); the result is that of the weights divided by their largest entry (exact up
    to rounding of the normalisation)."""
    a, b = np.array(a), np.array(b)
    C = np.random.default_rng(seed).random((a.size, b.size))
    res, caught = _quiet(sinkhorn, a, b, C, 0.5)
    ref, _ = _quiet(sinkhorn, a / a.max(), b / b.max(), C, 0.5)
    assert not caught and res.converged
    for v in (res.plan, *res.potentials, res.cost, res.objective):
        assert np.all(np.isfinite(v))
    np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-9, atol=1e-300)
    assert res.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-300)


# --- defect 12: q validated as in the exact path --------------------------------------------

X = np.random.default_rng(3).random((6, 2))
Y = np.random.default_rng(4).random((5, 2))


@pytest.mark.parametrize("fn", ["transport", "divergence"])
def test_defect12_q_example(fn):
    call = (lambda **kw: transport(X, Y, method="sinkhorn", reg=0.1, **kw)) \
        if fn == "transport" else (lambda **kw: sinkhorn_divergence(X, Y, reg=0.1, **kw))
    with pytest.raises(ValueError, match=r"^q must be >= 1"):
        call(metric="minkowski", q=0.5)
    with pytest.raises(ValueError, match=r"^q is only used by metric='minkowski'"):
        call(q=3)
    # the same messages as the exact path
    with pytest.raises(ValueError, match=r"^q is only used by metric='minkowski'"):
        transport(X, Y, q=3)


@given(q=st.floats(-1e300, 1e300, allow_nan=False),
       metric=st.sampled_from(["euclidean", "sqeuclidean", "cityblock", "chebyshev",
                               "minkowski"]),
       online=st.booleans())
def test_defect12_q_property(q, metric, online):
    """Every Sinkhorn entry point accepts exactly the q the exact solver accepts."""
    def outcome(call):
        try:
            call()
        except ValueError as exc:
            return str(exc)
        return None

    exact = outcome(lambda: transport(X, Y, metric=metric, q=q))
    entropic = outcome(lambda: transport(X, Y, metric=metric, q=q, method="sinkhorn",
                                         reg=0.5, online=online))
    assert entropic == exact
    assert (exact is None) == (metric == "minkowski" and q >= 1)


# --- defects 19 and 20: symmetric problems, flag agreeing with the numbers ------------------

@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")  # POT at stopThr=1e-14
@pytest.mark.parametrize("n", [10, 30])
def test_defect19_20_symmetric_grid_example(n):
    x = np.arange(float(n))
    C = (x[:, None] - x) ** 2
    a = np.full(n, 1.0 / n)
    res, caught = _quiet(sinkhorn, a, a, C, reg=0.1)
    assert not caught and res.converged and res.marginal_error <= 1e-9
    assert res.n_iter < 100
    P = ot.sinkhorn(a, a, C, 0.1, method="sinkhorn_log", stopThr=1e-14, numItermax=10**5)
    np.testing.assert_allclose(res.plan, P, atol=1e-10)


@settings(max_examples=30)
@given(n=st.integers(2, 25), d=st.integers(1, 3), seed=st.integers(0, 2**16),
       rel=st.floats(1e-4, 1.0), power=st.sampled_from([1.0, 2.0]))
def test_defect19_symmetric_problems_converge_property(n, d, seed, rel, power):
    """OT(a, a) on a symmetric cost converges well within the budget for every reg
    (plain alternating updates crawled on nearly diagonal plans), to POT's plan."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)) * 10
    C = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)) ** power
    a = rng.random(n) + 0.1
    a /= a.sum()
    reg = rel * max(C.max(), 1e-3)
    res, caught = _quiet(sinkhorn, a, a, C, reg)
    assert not caught and res.converged and res.n_iter <= 2000
    np.testing.assert_allclose(res.plan, res.plan.T, atol=1e-12)
    np.testing.assert_allclose(res.plan.sum(axis=1), a, atol=1e-9)


@settings(max_examples=40)
@given(n=st.integers(2, 12), m=st.integers(2, 12), seed=st.integers(0, 2**16),
       rel=st.floats(1e-4, 1.0), max_iter=st.integers(1, 60),
       tol=st.sampled_from([1e-3, 1e-6, 1e-9]), online=st.booleans())
def test_defect20_flag_and_warning_agree_with_the_numbers_property(n, m, seed, rel, max_iter,
                                                                   tol, online):
    """``converged`` is ``marginal_error <= tol`` of the returned result; a warning exactly
    when not converged, quoting that marginal error."""
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2))
    for res, caught in (
            _quiet(sinkhorn, rng.random(n), rng.random(m), rng.random((n, m)), rel,
                   tol=tol, max_iter=max_iter),
            _quiet(transport, x, y, method="sinkhorn", reg=rel, tol=tol, max_iter=max_iter,
                   online=online)):
        assert res.converged == (res.marginal_error <= tol)
        assert res.status == ("converged" if res.converged else "max_iter")
        assert len(caught) == (0 if res.converged else 1)
        if caught:
            assert f"marginal error {res.marginal_error:.3g}" in str(caught[0].message)


# --- defect 23 (part): constant costs, any reg ----------------------------------------------

def test_defect23_zero_costs_tiny_reg_example():
    res = sinkhorn(np.ones(3), np.ones(4), np.zeros((3, 4)), 1e-251)
    assert res.converged and res.cost == 0.0 and res.objective == 0.0
    np.testing.assert_allclose(res.plan, np.full((3, 4), 1 / 12), rtol=1e-15)
    pts = np.zeros((3, 2))
    assert wasserstein(pts, pts[:2], method="sinkhorn", reg=1e-300) == 0.0
    # a real scale problem still names the argument and the range of the costs
    with pytest.raises(ValueError, match=r"^reg=1e-300 is too small for costs spanning a "
                                         r"range of 1"):
        sinkhorn(np.ones(2), np.ones(2), [[0.0, 1.0], [1.0, 0.0]], 1e-300)


@given(c=st.one_of(st.just(0.0), st.floats(-1e308, 1e308)), n=st.integers(1, 5),
       m=st.integers(1, 5), reg=st.floats(5e-324, 1e308), seed=st.integers(0, 2**16))
def test_defect23_constant_costs_property(c, n, m, reg, seed):
    """Every constant cost has the exact answer: plan a b^T, cost = objective = c."""
    rng = np.random.default_rng(seed)
    a, b = rng.random(n) + 0.01, rng.random(m) + 0.01
    res, caught = _quiet(sinkhorn, a, b, np.full((n, m), c), reg)
    a, b = a / a.sum(), b / b.sum()
    assert not caught and res.converged
    np.testing.assert_allclose(res.plan, np.outer(a, b), rtol=1e-14)
    assert res.cost == pytest.approx(c, rel=1e-14)
    assert res.objective == pytest.approx(c, rel=1e-14)
    f, g = res.potentials
    np.testing.assert_allclose(f[:, None] + g[None, :], c, rtol=1e-14)


# --- defect 17: Ctrl-C during a long solve ---------------------------------------------------

_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from divergences import sinkhorn, sinkhorn_divergence
    mode = sys.argv[1]
    rng = np.random.default_rng(0)
    n = int(sys.argv[2])
    x, y = rng.random((n, 2)), rng.random((n, 2)) + 0.3
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = np.full(n, 1.0 / n), np.full(n, 1.0 / n)
    keep = (a.copy(), b.copy(), C.copy())
    def run(max_iter):
        if mode == "dense":
            return sinkhorn(a, b, C, 1e-3, tol=1e-300, max_iter=max_iter)
        if mode == "online":
            from divergences import transport
            return transport(x, y, method="sinkhorn", reg=1e-3, tol=1e-300,
                             max_iter=max_iter, online=True)
        return sinkhorn_divergence(x, y, reg=1e-3, tol=1e-300, max_iter=max_iter)
    import warnings
    warnings.simplefilter("ignore")
    run(3)  # compile (warm-up)
    print("start", flush=True)
    try:
        run(10**9)
        print("finished", flush=True)
    except KeyboardInterrupt:
        t = time.perf_counter()
        same = all(np.array_equal(u, v) for u, v in zip(keep, (a, b, C)))
        print("interrupted", repr(t), same, flush=True)
""")


@pytest.mark.parametrize("mode, n", [("dense", 600), ("online", 400), ("divergence", 400)])
def test_defect17_sigint_interrupts_a_long_sinkhorn_within_a_second(mode, n):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, mode, str(n)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start", proc.stderr.read()
        time.sleep(1.5)  # well into the long solve
        assert proc.poll() is None
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)  # a solve deaf to SIGINT fails here
    finally:
        proc.kill()
    line = out.split()
    assert line and line[0] == "interrupted", (out, err)
    # perf_counter is CLOCK_MONOTONIC on Linux: comparable across processes
    assert float(line[1]) - sent < 1.5
    assert line[2] == "True"  # inputs untouched, no half-written result
