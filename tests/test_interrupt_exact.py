"""A long ``emd`` can be interrupted by Ctrl-C (issue 12, defect 17, the exact part).

The network simplex runs in blocks of about 0.05 s (:func:`network_simplex` is a Python
loop over the kernel ``_pivots``), with its whole state in arrays local to the call: SIGINT
raises ``KeyboardInterrupt`` between two blocks, the pivot sequence does not depend on the
blocks, and an interrupted solve leaves nothing behind for the next one.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import divergences._kernels.network_simplex as ns
from divergences import emd, transport

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# n = m = 6000 random costs: ~12 s of pivots on the 2-core test machine (6000 x 6000 takes
# ~1.5 x the 7.5 s of 5000 x 5000), so well beyond 3 s on a machine a few times faster.
_CHILD = textwrap.dedent(
    """
    import time
    import numpy as np
    from divergences import emd

    emd([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])  # compile or load the kernels
    rng = np.random.default_rng(0)
    n = 6000
    cost, a, b = rng.random((n, n)), rng.random(n), rng.random(n)
    print("started", flush=True)
    start = time.perf_counter()
    res = emd(a, b, cost)
    print("finished", time.perf_counter() - start, res.status, flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX only")
def test_sigint_interrupts_a_long_emd():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "started"
        time.sleep(3.0)
        assert proc.poll() is None, "the solve should take more than 3 s without the signal"
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "finished" not in out
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    assert elapsed < 2.0, f"the process exited {elapsed:.2f} s after SIGINT"


def _problem(seed, n=60, m=45, zeros=False):
    rng = np.random.default_rng(seed)
    a, b, cost = rng.random(n), rng.random(m), rng.random((n, m))
    if zeros:
        a[::7] = 0.0
        b[::5] = 0.0
    return a / a.sum(), b / b.sum(), cost


def _same(r0, r1):
    assert r0.n_iter == r1.n_iter and r0.status == r1.status
    np.testing.assert_array_equal(r0.plan, r1.plan)
    for u, v in zip(r0.potentials, r1.potentials, strict=True):
        np.testing.assert_array_equal(u, v)
    assert r0.cost == r1.cost


def _tiny_blocks(monkeypatch, budget):
    """Every block of ``budget`` units of work (one block of pricing at least)."""
    monkeypatch.setattr(ns, "FIRST_BUDGET", budget)
    monkeypatch.setattr(ns, "_next_budget", lambda old, seconds: budget)


@pytest.mark.parametrize("shape", [(60, 45), (45, 60), (80, 80), (1, 30), (30, 1)])
@pytest.mark.parametrize("zeros", [False, True])
def test_blocks_do_not_change_the_result(monkeypatch, shape, zeros):
    a, b, cost = _problem(sum(shape), *shape, zeros=zeros and min(shape) > 1)
    whole = emd(a, b, cost)
    _tiny_blocks(monkeypatch, 1)
    _same(whole, emd(a, b, cost))


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.integers(1, 50),
       st.integers(1, 5000), st.booleans())
def test_any_block_size_gives_the_same_pivots(seed, n, m, budget, uniform):
    """The whole class: any problem, any work budget per block, the same solve."""
    a, b, cost = _problem(seed, n, m)
    if uniform:  # the most degenerate problems
        a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    whole = emd(a, b, cost)
    with pytest.MonkeyPatch.context() as mp:
        _tiny_blocks(mp, budget)
        _same(whole, emd(a, b, cost))


def test_interrupted_then_rerun_gives_the_right_answer(monkeypatch):
    """SIGINT arriving during a block (here: sent by the process to itself before the
    third block) raises KeyboardInterrupt when the block returns; the inputs are intact
    and the next solve in the same process is right (no state shared between calls)."""
    a, b, cost = _problem(7, 300, 250)
    copies = a.copy(), b.copy(), cost.copy()
    _tiny_blocks(monkeypatch, 2000)
    pivots = ns._pivots
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # pending while the kernel runs
        return pivots(*args)

    monkeypatch.setattr(ns, "_pivots", interrupted)
    with pytest.raises(KeyboardInterrupt):
        emd(a, b, cost)
    assert len(calls) == 3
    for before, after in zip(copies, (a, b, cost), strict=True):
        np.testing.assert_array_equal(before, after)
    monkeypatch.setattr(ns, "_pivots", pivots)
    res = emd(a, b, cost)
    assert res.status == "optimal"
    assert res.cost == pytest.approx(ot.emd2(a, b, cost, numItermax=10**7), rel=1e-12)
    monkeypatch.undo()
    _same(res, emd(a, b, cost))


def test_transport_is_interruptible_too(monkeypatch):
    """``transport``/``wasserstein`` (method "exact") go through the same blocks."""
    rng = np.random.default_rng(3)
    x, y = rng.random((200, 2)), rng.random((150, 2))
    pivots = ns._pivots
    calls = []

    def interrupted(*args):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(ns, "_pivots", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transport(x, y, method="exact")
    assert calls == [1]
    monkeypatch.setattr(ns, "_pivots", pivots)
    res = transport(x, y, method="exact")
    ref = ot.emd2(np.full(200, 1 / 200), np.full(150, 1 / 150), ot.dist(x, y, "euclidean"))
    assert res.cost == pytest.approx(ref, rel=1e-12)
