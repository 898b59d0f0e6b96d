"""The whole-matrix passes around the Sinkhorn iterations, against NumPy: the validation scan
of the cost (range and finiteness), the hard initialisation (row and column minima over
positive weights), on shapes that exercise the eight-way unrolled loops and their tails."""

import numpy as np
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
