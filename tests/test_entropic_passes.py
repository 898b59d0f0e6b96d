"""The whole-matrix passes around the Sinkhorn iterations, against NumPy: the validation scan
of the cost (range and finiteness), the hard initialisation (row and column minima over
positive weights, compiled and in NumPy), on shapes that exercise the eight-way unrolled
loops and their tails."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import weight

from divergences._kernels import sinkhorn_log as KL
from divergences._kernels.scan import value_range

shapes = st.tuples(st.integers(1, 21), st.integers(1, 37))
finite = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes)
def test_value_range_against_numpy(data, shape):
    C = data.draw(hnp.arrays(np.float64, shape, elements=finite))
    lo, hi, ok = value_range(C)
    assert (lo, hi) == (C.min(), C.max())
    # ``ok`` may be False for huge finite values (the products v * 0 may be summed as
    # (sum v) * 0 under reassociation, which overflows); the validator then checks
    # finiteness exactly: a False here is a slower path, never a wrong verdict on
    # non-finite input (next test)
    if np.abs(C).max() < 1e280:
        assert ok


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes, bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_value_range_flags_every_non_finite_position(data, shape, bad):
    C = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)))
    i = data.draw(st.integers(0, shape[0] - 1))
    j = data.draw(st.integers(0, shape[1] - 1))
    C[i, j] = bad
    assert not value_range(C)[2]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes)
def test_hard_init_minima_against_numpy(data, shape):
    n, m = shape
    C = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e6, 1e6)))
    a = data.draw(hnp.arrays(np.float64, n, elements=weight))
    b = data.draw(hnp.arrays(np.float64, m, elements=weight))
    b[data.draw(st.integers(0, m - 1))] = 1.0  # some column carries mass
    f, acc = np.empty(n), np.empty(m)
    KL.min_rows((C,), a, b, f, acc, np.empty(m), 0, n)
    ref_f = np.where(b > 0, C, np.inf).min(axis=1)
    np.testing.assert_array_equal(f, ref_f)
    rows = a > 0
    ref_acc = (C[rows] - ref_f[rows, None]).min(axis=0) if rows.any() else np.full(m, np.inf)
    np.testing.assert_array_equal(acc, ref_acc)
    if rows.any():  # (a solve's weights carry mass) the NumPy twin of one chunk: same bits
        from divergences._entropic_work import _hard_init_serial

        f2, g2 = np.empty(n), np.empty(m)
        _hard_init_serial((C,), a, b, f2, g2, None, None)
        np.testing.assert_array_equal(f2, f)
        np.testing.assert_array_equal(g2, acc)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(9, 60), m=st.integers(9, 60),
       rel=st.sampled_from([0.05, 0.002]),
       rho=st.sampled_from([None, (1.0, 1.0), (0.5, np.inf)]))
def test_the_threaded_block_loop_equals_the_one_thread_kernel(seed, n, m, rel, rho):
    """Two row chunks (the iteration loop in Python around the prange sweep,
    _scaling_block_threads) against one (the compiled scaling_block): the same iterations
    and the same solution to rounding, balanced and unbalanced, with and without
    epsilon-scaling."""
    from divergences._entropic_solve import _run, _schedule

    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
    a, b = (a / a.sum(), b / b.sum()) if rho is None else (a, 1.5 * b)
    span = C.max() - C.min()
    reg = rel * span
    out = [_run((C,), a, b, _schedule(reg, span), 1e-11, 5000, nch, rho, C.min())
           for nch in (1, 2)]
    assert out[0]["n_iter"] == out[1]["n_iter"]
    for key in ("cost", "objective"):
        assert out[1][key] == pytest.approx(out[0][key], rel=1e-12, abs=1e-15)
    for key in ("f", "g", "plan"):
        np.testing.assert_allclose(out[1][key], out[0][key], rtol=1e-11, atol=1e-14 * span)


def _log_state(n, m, nch, rho, seed, eps=0.05):
    """The arguments of the log-domain block loops on a random dense problem, ``nch`` row
    chunks (a fresh copy per call: the loops work in place)."""
    from divergences._kernels import sinkhorn as K
    from divergences._unbalanced import damping

    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
    a[::7] = 0.0  # zero weights: the flagged columns and -inf logs
    a, b = a / a.sum(), b / b.sum()
    marg = np.array([*damping(rho, eps), 1.0 / a.sum(), 1.0 / b.sum()])
    st = np.zeros(K.STATE)
    K.relax_init(st, 1.9)
    with np.errstate(divide="ignore"):
        la, lb = np.log(a), np.log(b)
    return dict(geom=(C,), a=a, b=b, la=la, lb=lb, f=np.zeros(n), g=np.zeros(m),
                f_old=np.empty(n), g_old=np.empty(m), eps=eps, marg=marg,
                parts=np.zeros((nch, m)), buf=np.empty((nch, m)), cbuf=np.empty((nch, m)),
                bad=np.zeros(m, dtype=np.bool_), st=st)


@pytest.mark.parametrize("rho", [None, (0.5, 2.0)])
def test_threaded_log_loops_equal_their_compiled_twins(rho):
    """The Python loops of divergences._log_threads (row chunks in threads) against the
    compiled one-thread loops: the same statuses, iterations, controller state and
    potentials to rounding (log_block with and without the unbalanced translation,
    symmetric_block)."""
    from divergences._kernels import sinkhorn as K
    from divergences._log_threads import log_block_threads, symmetric_block_threads

    unbal = None if rho is None else True
    out = []
    for block, nch in ((K.log_block, 1), (log_block_threads, 3)):
        s = _log_state(40, 33, nch, rho, seed=5)
        args = (s["geom"], s["a"], s["b"], s["la"], s["lb"], s["f"], s["g"], s["f_old"],
                s["g_old"], s["eps"], s["marg"], s["parts"], s["buf"], s["cbuf"], s["bad"],
                s["st"], 1e-300, unbal)  # a target never met: every iteration runs
        status, it = block(*args, 0, 25)
        out.append((status, it, s["st"].copy(), s["f"].copy(), s["g"].copy()))
    assert out[0][:2] == out[1][:2] == (K.BLOCK_END, 25)
    # the controller's errors (1e-9 and below after 25 iterations) to rounding of the sums
    np.testing.assert_allclose(out[1][2], out[0][2], rtol=1e-9, atol=1e-15)
    for k in (3, 4):
        np.testing.assert_allclose(out[1][k], out[0][k], rtol=1e-12, atol=1e-14)
    out = []
    for block, nch in ((K.symmetric_block, 1), (symmetric_block_threads, 3)):
        s = _log_state(40, 40, nch, None if rho is None else (rho[0], rho[0]), seed=6)
        ft, gl = np.empty(40), np.empty(40)
        args = (s["geom"], s["a"], s["la"], s["f"], ft, gl, s["eps"], s["marg"], s["parts"],
                s["buf"], s["cbuf"], s["st"], 1e-300)
        status, it = block(*args, 0, 20)
        out.append((status, it, s["st"][K.ERR], s["f"].copy()))
    assert out[0][:2] == out[1][:2] == (K.BLOCK_END, 20)
    assert out[1][2] == pytest.approx(out[0][2], rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(out[1][3], out[0][3], rtol=1e-12, atol=1e-14)


def test_symmetric_terms_at_once_equal_one_after_the_other(monkeypatch):
    """sinkhorn_divergence of two clouds of similar sizes large enough for threads solves
    OT(a, a) and OT(b, b) at once, one thread each, each on one chunk of rows: the same
    numbers as the two solves one after the other on one thread (the same one-chunk
    solves; the cross term is threaded with two threads, so the total agrees to rounding),
    and the concurrent path is the one taken."""
    import numba

    from divergences import _entropic_points as points
    from divergences import sinkhorn_divergence

    rng = np.random.default_rng(4)
    x, y = rng.random((380, 2)), rng.random((400, 2)) + 0.1
    calls = []
    real = points.run_in_ranges
    monkeypatch.setattr(points, "run_in_ranges",
                        lambda *args, **kw: (calls.append(args[2]), real(*args, **kw)))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        both = sinkhorn_divergence(x, y, reg=0.05)
        numba.set_num_threads(1)
        alone = sinkhorn_divergence(x, y, reg=0.05)
    finally:
        numba.set_num_threads(threads)
    assert calls == [2]  # one concurrent run of the two symmetric solves
    assert both == pytest.approx(alone, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(5, 60), m=st.integers(5, 60),
       rel=st.sampled_from([3e-3, 3e-4]), offset=st.sampled_from([0.0, 100.0, -1e4]),
       rows=st.booleans(), nch=st.sampled_from([1, 2]))
def test_epsilon_scaling_from_the_cost_minimum_equals_the_hard_start(seed, n, m, rel, offset,
                                                                     rows, nch):
    """A dense epsilon-scaling solve starts from f = min C, g = 0 (its first eps covers
    range(C): no underflow), not from the row and column minima (hard_init, which _run
    takes without lo): the same verdict and the same solution to the tolerance, with
    offsets of the whole cost and of each row. (Iteration counts of both starts:
    ``python benchmarks/iterations_start.py``.)"""
    from divergences._entropic_solve import _run, _schedule, _span

    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1) + offset
    if rows:
        C += 3.0 * rng.random(n)[:, None]
    a, b = rng.random(n) + 0.05, rng.random(m) + 0.05
    a, b = a / a.sum(), b / b.sum()
    lo, hi = C.min(), C.max()
    reg = rel * (hi - lo)
    schedule = _schedule(reg, _span(lo, hi, reg))
    assert len(schedule) > 1
    hard, cheap = (_run((C,), a, b, schedule, 1e-10, 20000, nch, None, start)
                   for start in (None, lo))
    assert np.isfinite(cheap["cost"]) and np.isfinite(cheap["f"]).all()
    assert cheap["converged"] == hard["converged"]
    if hard["converged"]:  # marginal errors <= 1e-10: costs within about that of range(C)
        assert abs(cheap["cost"] - hard["cost"]) <= 1e-9 * (hi - lo)
        np.testing.assert_allclose(cheap["plan"], hard["plan"], rtol=0, atol=1e-9)
