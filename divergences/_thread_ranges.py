"""Serial compiled kernels over ranges of independent work, in Python threads.

The kernels of the package release the GIL (``nogil``), so a range of rows, pairs or
blocks handed to each of a few Python threads runs in parallel without a ``prange``
kernel, which is slow to compile (seconds of a first call; issue 12, cold start). Used by
the information-divergence matrices, the Wasserstein matrices and the multiscale
certificate: each writes disjoint parts of its outputs per range, so the result does not
depend on the number of threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

__all__ = ["run_in_ranges"]

#: ranges per thread: the work of a range can vary (pruning, problem sizes), and threads
#: that finish early take the next one
RANGES_PER_THREAD = 8


def run_in_ranges(kernel: Callable[..., Any], args: tuple, count: int,
                  threads: int | None = None) -> None:
    """``kernel(*args, lo, hi)`` over ``0..count-1`` in consecutive ranges.

    ``threads``: ``None`` for numba's thread count of the calling thread (what the user,
    or a Dask task, set with ``numba.set_num_threads``); ``1`` (or ``count < 2``) runs the
    whole range in the calling thread. The first exception raised in a thread is raised
    here.
    """
    threads = numba.get_num_threads() if threads is None else threads
    if threads <= 1 or count < 2:
        kernel(*args, 0, count)
        return
    step = max(1, -(-count // (RANGES_PER_THREAD * threads)))
    ranges = [(lo, min(count, lo + step)) for lo in range(0, count, step)]
    from concurrent.futures import ThreadPoolExecutor  # only when threads run

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(lambda r: kernel(*args, *r), ranges):
            pass
