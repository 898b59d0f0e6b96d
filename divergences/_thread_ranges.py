"""Serial compiled kernels over ranges of independent work, in Python threads.

The kernels of the package release the GIL (``nogil``), so a range of rows, pairs or
blocks handed to each of a few Python threads runs in parallel without a ``prange``
kernel, which is slow to compile (seconds of a first call; issue 12, cold start). Used by
the information divergences and their matrices, the validation scan of histograms, the
Wasserstein matrices, the batches of 1-D problems, the multiscale certificate, the cost
checks, the one-shot passes of the dense Sinkhorn solver, its log-domain passes (each a
millisecond or more where threads are used) and the critic: each writes disjoint parts of
its outputs per range, so the result does not depend on the number of threads. (The
kernel-domain Sinkhorn iterations use a ``prange`` sweep: waking a pool thread takes about
90 us, too long once per iteration of a 600 x 600 kernel.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numba

__all__ = ["chunk_rows", "run_in_ranges", "run_per_chunk"]

#: ranges per thread: the work of a range can vary (pruning, problem sizes), and threads
#: that finish early take the next one
RANGES_PER_THREAD = 8

#: one pool per thread count, kept: starting and joining threads at every call cost about
#: a millisecond, as much as a pass over a 2000 x 2000 matrix
_pools: dict[int, Any] = {}
_pools_lock = threading.Lock()


def _pool(threads):
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only when threads run

            pool = _pools[threads] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="divergences")
        return pool


def _forget_pools():
    """In a forked child: the parent's pool threads do not exist there (a new pool is made
    on first use); the lock may have been held by another thread at the fork."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def run_in_ranges(kernel: Callable[..., Any], args: tuple, count: int,
                  threads: int | None = None, per_thread: int = RANGES_PER_THREAD) -> None:
    """``kernel(*args, lo, hi)`` over ``0..count-1`` in consecutive ranges.

    ``threads``: ``None`` for numba's thread count of the calling thread (what the user,
    or a Dask task, set with ``numba.set_num_threads``); ``1`` (or ``count < 2``) runs the
    whole range in the calling thread. The ranges run in a pool of ``threads`` threads kept
    between calls (and dropped in a forked child); with one range per thread the calling
    thread runs the first (one hand-off fewer). ``per_thread``: ranges per thread (1 for
    work spread evenly over the indices, e.g. the rows of a dense matrix: fewer calls).
    Every range has ended when this returns or raises; an exception of the calling
    thread's range is raised first, else the first of the pool's in range order.
    """
    threads = numba.get_num_threads() if threads is None else threads
    if threads <= 1 or count < 2:
        kernel(*args, 0, count)
        return
    step = max(1, -(-count // (per_thread * threads)))
    ranges = [(lo, min(count, lo + step)) for lo in range(0, count, step)]
    own = ranges.pop(0) if len(ranges) <= threads else None
    pool = _pool(threads)
    from concurrent.futures import wait  # imported by _pool already
    futures = []
    try:
        for lo, hi in ranges:
            futures.append(pool.submit(kernel, *args, lo, hi))
        if own is not None:
            kernel(*args, *own)
    finally:
        wait(futures)  # no range still writing when the caller goes on (or unwinds)
    for future in futures:
        future.result()


def chunk_rows(c, n, nch):
    """Rows ``lo .. hi-1`` of chunk ``c`` of ``nch`` over ``n`` rows."""
    return c * n // nch, (c + 1) * n // nch


def run_per_chunk(call: Callable[[int], Any], count: int, threads: int | None = None) -> None:
    """``call(c)`` for every chunk ``c`` in ``0..count-1``, the chunks spread over the
    threads as by :func:`run_in_ranges`.

    For a compiled kernel over rows called with per-chunk buffers (``call`` a Python
    closure): no compiled wrapper over the chunks is needed, which a first call would
    compile, generating the kernel's code once more (issue 12, cold start).
    """

    def chunks(c0, c1):
        for c in range(c0, c1):
            call(c)

    run_in_ranges(chunks, (), count, threads)
