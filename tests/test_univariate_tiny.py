"""Tiny weights (1e-10 .. 1e-300 of the others) on shared points: the exact normalisation
of the 1-D walk (divergences/_univariate_exact.py), against the mpmath monotone coupling
``mp_w1d`` (masses normalised exactly from the weights as given), through every public
1-D path."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from divergences import sliced_wasserstein, transport, wasserstein, wasserstein_1d
from divergences._univariate_exact import TINY_RATIO, exact_staircase, has_tiny_weights
from tests.checks import check_transport, dense_plan
from tests.test_hardening_transport import close, mp_w1d

# one big (1) or tiny (10^-e) weight; e >= 10 is always below TINY_RATIO of the largest
_WEIGHT = st.one_of(st.just(0), st.integers(10, 300))


def _side(values):
    """Points drawn from a set of 3 values (duplicates likely), each with a weight."""
    return st.lists(st.tuples(st.sampled_from(values), _WEIGHT), min_size=1, max_size=6)


def _exact_normalised(w):
    """``w / sum(w)`` with the sum exact, each entry rounded once."""
    f = [Fraction(float(v)) for v in w]
    total = sum(f)
    return np.array([float(v / total) for v in f])


@settings(max_examples=60, deadline=None)
@given(_side([0.0, 0.0, 0.25, 3.0]), _side([0.0, 1.0, -2.0]),
       st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.booleans())
@example([(0.0, 0), (0.0, 17)], [(0.0, 0), (1.0, 18)], 1.0, False)  # the defect's input
@example([(0.0, 0), (0.25, 17)], [(0.0, 0), (1.0, 18)], 1.0, False)  # no shared point
@example([(0.0, 0), (0.0, 17), (0.0, 300)], [(0.0, 0), (0.0, 17), (1.0, 40)], 2.0, False)
@example([(0.0, 0), (3.0, 17)], [(0.0, 0)], 1.0, True)  # the last-cell rule's case
def test_tiny_weights_on_shared_points(xa, yb, p, swap):
    """W_p of every public 1-D path equals mpmath's to 1e-9 relative; the plan's marginals
    are the exactly normalised weights (relative 1e-12, tiny ones included) and the
    potentials are feasible with a zero duality gap (tests/checks.py)."""
    if swap:
        xa, yb = yb, xa
    x = np.array([v for v, _ in xa])
    y = np.array([v for v, _ in yb])
    a = np.array([10.0**-e for _, e in xa])
    b = np.array([10.0**-e for _, e in yb])
    if a.max() < 1.0 or b.max() < 1.0:
        return
    ref = mp_w1d(x, y, a, b, p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert close(wasserstein(x, y, a, b, p=p), ref, 1e-9)
        assert close(wasserstein_1d(x, y, a, b, p=p), ref, 1e-9)
        # a batch of two problems, the second with the weights reversed on the same points
        both = wasserstein_1d(np.c_[x, x], np.c_[y, y], np.c_[a, a], np.c_[b, b[::-1]], p=p)
        assert close(both[0], ref, 1e-9)
        assert close(both[1], mp_w1d(x, y, a, b[::-1], p), 1e-9)
        res = transport(x, y, a, b, p=p)
    assert close(res.distance, ref, 1e-9)
    an, bn = _exact_normalised(a), _exact_normalised(b)
    C = np.abs(np.subtract.outer(x, y)) ** p
    check_transport(res, an, bn, C, atol=1e-12)
    plan = dense_plan(res.plan)
    np.testing.assert_allclose(plan.sum(axis=1), an, rtol=1e-12, atol=0)
    np.testing.assert_allclose(plan.sum(axis=0), bn, rtol=1e-12, atol=0)
    # the tiny masses pay: the plan's cost is the reference, relatively
    assert close(float((plan * C).sum()) ** (1 / p), ref, 1e-9)


def test_the_defect_and_its_mirror():
    """x = [0, 0] (1, 1e-17), y = [0, 1] (1, 1e-18): W1 = 1e-18/(1 + 1e-18) (all of x's
    mass is at 0); and x = [0, 1] (1, 1e-17), y = [0] (1): the tiny weight still moves,
    1e-17/(1 + 1e-17). Every public 1-D path, sliced_wasserstein's included."""
    for x, y, a, b, want in (([0.0, 0.0], [0.0, 1.0], [1.0, 1e-17], [1.0, 1e-18],
                              Fraction(1, 10**18) / (1 + Fraction(1, 10**18))),
                             ([0.0, 1.0], [0.0], [1.0, 1e-17], [1.0],
                              Fraction(1, 10**17) / (1 + Fraction(1, 10**17)))):
        ref = mp_w1d(x, y, a, b, 1.0)
        assert close(float(want), ref, 1e-15)  # the closed form, up to 1e-17 vs 10**-17
        assert close(wasserstein(x, y, a, b, p=1), ref, 1e-12)
        assert close(wasserstein_1d(x, y, a, b, p=1), ref, 1e-12)
        assert close(transport(x, y, a, b, p=1).distance, ref, 1e-12)
        # sliced, in 1-D (every direction is +-1: each projection is the problem itself),
        # with and without the gradient's walk
        xc, yc = np.array(x)[:, None], np.array(y)[:, None]
        for grad in (False, True):
            sw = sliced_wasserstein(xc, yc, a, b, p=1, n_projections=3, seed=0,
                                    return_gradient=grad)
            assert close(sw[0] if grad else sw, ref, 1e-12)


@pytest.mark.parametrize("w, tiny", [
    ([1.0, 1.0], False),
    ([1.0, 0.0, 1e-9], False),  # zero weights do not count
    ([1.0, 0.0, 1e-10], True),
    ([0.5, 0.5 * TINY_RATIO], False),
    ([0.5, 0.5 * TINY_RATIO * 0.99], True),
])
def test_has_tiny_weights(w, tiny):
    """The switch to the exact walk: a positive weight below TINY_RATIO times the largest
    weight of either side; rows of a batch are judged one by one."""
    w = np.array(w)
    half = np.array([0.5, 0.5])
    assert has_tiny_weights(w, half) is tiny
    assert has_tiny_weights(half, w) is tiny
    rows = has_tiny_weights(np.stack([w, np.full_like(w, 0.5)]), half[None, :])
    assert rows.tolist() == [tiny, False]


def _fraction_walk(wa, wb):
    """The monotone staircase of ``wa / sum(wa)`` and ``wb / sum(wb)`` in fractions:
    ``(i, j, mass)`` per cell, ties advancing the row first (as the kernels do)."""
    a = [Fraction(float(w)) for w in wa]
    b = [Fraction(float(w)) for w in wb]
    a = [w / sum(a) for w in a]
    b = [w / sum(b) for w in b]
    i = j = 0
    ra, rb = a[0], b[0]
    cells = []
    while True:
        step = min(ra, rb)
        cells.append((i, j, step))
        a_done = ra <= rb
        ra, rb = (0, rb - ra) if a_done else (ra - rb, 0)
        if i == len(a) - 1 and j == len(b) - 1:
            return cells
        if (a_done and i < len(a) - 1) or j == len(b) - 1:
            i += 1
            ra = a[i]
        else:
            j += 1
            rb = b[j]


# weights over the whole float64 range: 1, 10^-e, subnormals, zeros
_ANY_WEIGHT = st.one_of(st.just(1.0), st.just(0.0),
                        st.builds(lambda m, e: m * 10.0**-e, st.floats(0.1, 1.0),
                                  st.integers(1, 300)),
                        st.floats(5e-324, 1e-308))


@settings(max_examples=150, deadline=None)
@given(st.lists(_ANY_WEIGHT, min_size=1, max_size=9), st.lists(_ANY_WEIGHT, min_size=1,
                                                                  max_size=9))
@example([1.0, 1e-17], [1.0, 1e-18])
@example([1.0, 5e-324, 1e-300], [1e-310, 1.0, 0.0])
def test_exact_walk_cell_by_cell(a, b):
    """The exact walk's cells are the fraction walk's, masses to 4 units of rounding of
    themselves (subnormal ones to one unit 2^-1074), the potentials tight on every cell."""
    a, b = np.array(a), np.array(b)
    if a.max() == 0 or b.max() == 0:
        return
    wa, wb = a / a.sum(), b / b.sum()
    n, m = wa.size, wb.size
    x, y = np.arange(n, dtype=float), np.arange(m, dtype=float) * 0.7
    rows, cols = np.empty(n + m - 1, np.int64), np.empty(n + m - 1, np.int64)
    mass, f, g = np.empty(n + m - 1), np.empty(n), np.empty(m)
    cost, _ = exact_staircase(x, wa, y, wb, 1.0, 1.0, True, rows, cols, mass, f, g)
    cells = _fraction_walk(wa, wb)
    assert [(i, j) for i, j, _ in cells] == list(zip(rows.tolist(), cols.tolist(),
                                                     strict=True))
    want = np.array([float(s) for _, _, s in cells])
    assert (np.abs(mass - want) <= 9e-16 * want + 5e-324).all(), (mass, want)
    np.testing.assert_allclose(f[rows] + g[cols], np.abs(x[rows] - y[cols]), atol=1e-12)


def _rows_with_tiny_weights(base, tiny):
    """Four histograms on ``len(base) + 2`` bins: ``base`` with nothing, ``tiny[0]`` or
    ``tiny[-1]`` on the two extra bins (pairs that differ only by weights far below eps
    of the others), and ``base`` reversed with ``tiny[0]`` on the first extra bin."""
    n = len(base)
    X = np.zeros((4, n + 2))
    X[:3, :n] = base
    X[1, n] = tiny[0]
    X[2, n + 1] = tiny[-1]
    X[3, :n] = base[::-1]
    X[3, n] = tiny[0]
    return X


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=1, max_size=5),
       st.lists(st.integers(13, 300).map(lambda k: 10.0**-k), min_size=1, max_size=2),
       st.sampled_from([1.0, 2.0, 3.0]), st.sampled_from([1.0, 1e10]), st.booleans())
@example([1.0], [1e-16], 1.0, 1e10, False)  # sliced W_1 of [1, 1e-16] vs [1, 0]: half
def test_pairwise_entries_with_tiny_weights_equal_the_one_problem_functions(base, tiny, p,
                                                                          spread, inside):
    """pairwise(metric="wasserstein" on a 1-D support, or "sliced") with weights far below
    eps of the others: every entry equals wasserstein / sliced_wasserstein of its pair
    (which use the exact walk); the fast pair kernels lost such weights."""
    from divergences import pairwise

    X = _rows_with_tiny_weights(base, tiny)
    n = X.shape[1]
    s = np.concatenate([[0.0], np.cumsum(np.linspace(1.0, 2.0, n - 1))]) * spread / n
    if inside:  # the extra bins between the others
        s = np.concatenate([s[:1], s[-2:], s[1:-2]])
    D = pairwise(X, metric="wasserstein", support=s, p=p)
    S = np.stack([s, np.linspace(0.0, 1.0, n)], axis=1)
    E = pairwise(X, metric="sliced", support=S, p=p, n_projections=7, seed=1)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            ref = wasserstein(s, s, X[i], X[j], p=p)
            assert D[i, j] == pytest.approx(ref, rel=1e-9, abs=0.0)
            ref = sliced_wasserstein(S, S, X[i], X[j], p=p, n_projections=7, seed=1)
            assert E[i, j] == pytest.approx(ref, rel=1e-9, abs=0.0)
