"""The shared driver of serial kernels over ranges in threads."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences._thread_ranges import run_in_ranges


def _mark(hits, lo, hi):
    hits[lo:hi] += 1


@settings(deadline=None, max_examples=40)
@given(count=st.integers(0, 300), threads=st.sampled_from([None, 1, 2, 3, 8]))
def test_every_index_is_covered_exactly_once(count, threads):
    hits = np.zeros(count, np.int64)
    run_in_ranges(_mark, (hits,), count, threads)
    assert (hits == 1).all()


def test_an_exception_in_a_thread_is_raised():
    def boom(lo, hi):
        if lo > 0:
            raise ValueError("range")

    with pytest.raises(ValueError, match="range"):
        run_in_ranges(boom, (), 100, 4)
