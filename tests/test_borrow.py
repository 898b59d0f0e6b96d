"""``borrowed``: the same array without reference counting (serial kernels' hot loops)."""

import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences._jit import kernel
from divergences._kernels.borrow import borrowed


def _row_sums(A, out):
    for i in range(A.shape[0]):
        row = A[i]  # with a borrowed A: a view without a memory record to count
        s = 0.0
        for k in range(row.shape[0]):
            s += row[k]
        out[i] = s


_row_sums_owned = kernel(_row_sums)


@kernel
def _row_sums_borrowed(A, out):
    _row_sums_owned(borrowed(A), borrowed(out))


@kernel
def _strided_total(A):
    B = borrowed(A)
    return B.sum(), B.shape[0], B.strides[0]


@settings(deadline=None, max_examples=25)
@given(n=st.integers(0, 30), m=st.integers(0, 30), seed=st.integers(0, 2**32 - 1))
def test_borrowed_rows_are_the_rows(n, m, seed):
    A = np.random.default_rng(seed).random((n, m))
    out, want = np.full(n, np.nan), np.full(n, np.nan)
    _row_sums_borrowed(A, out)
    _row_sums_owned(A, want)  # the same kernel on the counted arrays: the same bits
    np.testing.assert_array_equal(out, want)
    np.testing.assert_allclose(out, A.sum(axis=1), rtol=1e-14)


def test_borrowed_keeps_data_shape_strides_and_owner_refcount():
    A = np.arange(12.0)[::3]  # strided: layout A
    before = sys.getrefcount(A)
    total, n, stride = _strided_total(A)
    assert (total, n, stride) == (A.sum(), 4, 24)
    assert sys.getrefcount(A) == before  # nothing taken or released on the owner
