r"""``pairwise`` on ``dask.array`` inputs: a graph of the in-process blocks.

The rows of ``X`` (and ``Y``) are chunked by rows (the bins of a row stay together: the
columns are rechunked to one chunk). Each task computes one block of the result with the
in-process plan (:mod:`divergences.transport_matrices`, :class:`divergences.matrices.
Information`): the block of rows ``i`` of ``X`` against the rows ``j`` of ``Y``. With
``Y=None`` a diagonal block is the symmetric matrix of its chunk, a block above the
diagonal is computed in the "canonical" order (each pair ``g < h`` as ``(X_g, X_h)``) and,
for the symmetric metrics, a block below the diagonal is the transpose of its mirror; so
every entry is the in-process value bit for bit. With ``k`` each block keeps its ``k``
nearest columns and one task per row chunk merges them (by distance, then index), so no
task holds more than one block of the matrix.

The plan (the support's sorted order, the projections of ``metric="sliced"``, the ground
cost matrix) is built once on the client and is one node of the graph, shipped once to
each worker.

Threads: each task sets numba's thread count for its own thread to
``max(1, cores // busy)``, ``cores`` the CPUs the worker process may use and ``busy`` the
dask threads of all the workers of its host (learnt from the scheduler when the graph is
built); on the local threaded scheduler ``busy`` is the thread pool (one numba thread per
task) and on the synchronous one 1. So ``numba threads x dask threads`` stays within the
cores and nothing is oversubscribed. The kernels are compiled once per worker process
(numba's disk cache: a worker loads the machine code written by the first process that
compiled it), not once per task.
"""

from __future__ import annotations

import operator
import os
import uuid
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlparse

import numpy as np

__all__ = ["dask_pairwise"]


def _cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _host(address):
    return urlparse(address if "://" in address else f"tcp://{address}").hostname


def host_threads():
    """Dask threads per host of the default ``distributed`` client's workers (``{host:
    threads}``), or ``None`` without a client."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        return None
    try:  # all the workers (recent releases list the first few by default)
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # older releases: no n_workers, every worker listed
        workers = client.scheduler_info()["workers"]
    threads = Counter()
    for address, info in workers.items():
        threads[_host(address)] += int(info.get("nthreads", 1))
    return dict(threads)


def task_threads(hosts):
    """The numba threads of one task (see the module docstring)."""
    cores = _cores()
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        worker = None
    if worker is not None:
        own = int(getattr(worker.state, "nthreads", 1))
        busy = (hosts or {}).get(_host(worker.address), own)
        return max(1, cores // max(busy, own))
    import dask

    if dask.config.get("scheduler", None) in ("sync", "synchronous", "single-threaded"):
        return cores
    pool = dask.config.get("num_workers", None) or cores
    return max(1, cores // pool)


@contextmanager
def numba_threads(n):
    """numba's thread count for the calling thread set to ``n`` for the block."""
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def block_task(plan, hosts, xb, yb, x0, y0, mode):
    """One block of the matrix (``yb`` None: the chunk against itself)."""
    with numba_threads(task_threads(hosts)):
        PX = plan.rows(xb, "X")
        PY = PX if yb is None else plan.rows(yb, "Y")
        plan.fit(PX, PY)
        return plan.block(PX, x0, PY, y0, mode)


def nearest_task(plan, hosts, xb, yb, x0, y0, k, same):
    """The ``k`` nearest columns of one block (global indices)."""
    from .._nearest import block_nearest

    with numba_threads(task_threads(hosts)):
        PX = plan.rows(xb, "X")
        PY = PX if yb is None else plan.rows(yb, "Y")
        plan.fit(PX, PY)
        return block_nearest(plan, PX, x0, PY, y0, k, same)


def merge_task(k, *parts):
    from .._nearest import merge

    return merge(list(parts), k)


def _as_rows(da, x, name, chunk_rows=None):
    """``x`` as a dask array of histograms chunked by rows only."""
    if not isinstance(x, da.Array):
        arr = np.asarray(x)
        x = da.from_array(arr, chunks=(chunk_rows or max(1, arr.shape[0]), -1)
                          if arr.ndim == 2 else -1)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one histogram per row), got "
                         f"{x.ndim} dimensions")
    return x.rechunk({1: -1}) if len(x.chunks[1]) > 1 else x


def _offsets(chunks):
    return np.concatenate([[0], np.cumsum(chunks)]).astype(int).tolist()


def dask_pairwise(plan, X, Y, k):
    """:func:`divergences.pairwise` of dask arrays: the matrix as a dask array, or with
    ``k`` the dask arrays ``(indices, distances)``."""
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    from ..transport_matrices import PointSets

    if isinstance(plan, PointSets):
        raise TypeError("dask input holds histograms (rows); point sets are not supported "
                        "on dask, pass lists of arrays in process")
    X = _as_rows(da, X, "X")
    Y = None if Y is None else _as_rows(da, Y, "Y", X.chunks[0][0])
    if Y is not None and Y.shape[1] != X.shape[1]:
        raise ValueError(f"X and Y must have the same number of bins, got {X.shape[1]} "
                         f"and {Y.shape[1]}")
    same = Y is None
    Yd = X if same else Y
    if k is not None:
        from .._validation_pairwise import check_k

        k = check_k(k, Yd.shape[0] - 1 if same else Yd.shape[0])
    token = uuid.uuid4().hex
    plan_key = f"divergences-plan-{token}"
    hosts = host_threads()
    dsk = {plan_key: plan}
    xo, yo = _offsets(X.chunks[0]), _offsets(Yd.chunks[0])
    nbx, nby = len(X.chunks[0]), len(Yd.chunks[0])
    symmetric = getattr(plan, "symmetric", True)

    def chunks(bi, bj):
        xb = (X.name, bi, 0)
        if same and bi == bj:
            return xb, None
        return xb, (Yd.name, bj, 0)

    if k is None:
        name = f"pairwise-{token}"
        for bi in range(nbx):
            for bj in range(nby):
                if same and symmetric and bj < bi:
                    dsk[(name, bi, bj)] = (np.transpose, (name, bj, bi))
                    continue
                mode = ("symmetric" if bi == bj else "canonical") if same else "full"
                dsk[(name, bi, bj)] = (block_task, plan_key, hosts, *chunks(bi, bj), xo[bi],
                                       yo[bj], mode)
        graph = HighLevelGraph.from_collections(name, dsk, dependencies=[X, Yd])
        return da.Array(graph, name, chunks=(X.chunks[0], Yd.chunks[0]), dtype=float)
    part, merged = f"pairwise-part-{token}", f"pairwise-merge-{token}"
    idx_name, dist_name = f"pairwise-indices-{token}", f"pairwise-distances-{token}"
    for bi in range(nbx):
        for bj in range(nby):
            dsk[(part, bi, bj)] = (nearest_task, plan_key, hosts, *chunks(bi, bj), xo[bi],
                                   yo[bj], k, same)
        dsk[(merged, bi)] = (merge_task, k, *[(part, bi, bj) for bj in range(nby)])
        dsk[(idx_name, bi, 0)] = (operator.getitem, (merged, bi), 0)
        dsk[(dist_name, bi, 0)] = (operator.getitem, (merged, bi), 1)
    out = []
    for name, dtype in ((idx_name, np.int64), (dist_name, float)):
        graph = HighLevelGraph.from_collections(name, dsk, dependencies=[X, Yd])
        out.append(da.Array(graph, name, chunks=(X.chunks[0], (k,)), dtype=dtype))
    return tuple(out)
