"""The shared driver of serial kernels over ranges in threads."""

import multiprocessing
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences._thread_ranges import chunk_rows, run_in_ranges, run_per_chunk


def _mark(hits, lo, hi):
    hits[lo:hi] += 1


@settings(deadline=None, max_examples=40)
@given(count=st.integers(0, 300), threads=st.sampled_from([None, 1, 2, 3, 8]),
       per_thread=st.sampled_from([1, 2, 8]))
def test_every_index_is_covered_exactly_once(count, threads, per_thread):
    hits = np.zeros(count, np.int64)
    run_in_ranges(_mark, (hits,), count, threads, per_thread)
    assert (hits == 1).all()


def _in_child(queue):
    hits = np.zeros(50, np.int64)
    run_in_ranges(_mark, (hits,), 50, 2)
    queue.put(int(hits.sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork start method only")
def test_the_kept_pool_works_in_a_forked_child():
    """The pool's threads exist in the parent only: a forked child makes its own (with the
    parent's pool reused in a child, the child's first threaded call would hang)."""
    run_in_ranges(_mark, (np.zeros(50, np.int64),), 50, 2)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) == 50
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


def test_an_exception_in_a_thread_is_raised():
    def boom(lo, hi):
        if lo > 0:
            raise ValueError("range")

    with pytest.raises(ValueError, match="range"):
        run_in_ranges(boom, (), 100, 4)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(0, 300), nch=st.integers(1, 9), threads=st.sampled_from([None, 1, 2, 3]))
def test_every_chunk_runs_once_and_the_chunks_cover_the_rows(n, nch, threads):
    rows = np.zeros(n, np.int64)
    calls = np.zeros(nch, np.int64)

    def call(c):
        calls[c] += 1
        lo, hi = chunk_rows(c, n, nch)
        rows[lo:hi] += 1

    run_per_chunk(call, nch, threads)
    assert (calls == 1).all() and (rows == 1).all()


def test_an_exception_in_the_calling_threads_range_is_raised_after_the_others_end():
    done = []

    def boom(lo, hi):
        if lo == 0:  # the calling thread's range
            raise ValueError("first")
        done.append(lo)

    with pytest.raises(ValueError, match="first"):
        run_in_ranges(boom, (), 2, 2, per_thread=1)
    assert done == [1]
