"""pairwise on dask arrays, on a LocalCluster of 2 worker processes started here: the same
numbers as in process (bit for bit), a worker killed mid-computation costs time only, the
numba threads of the workers, spawn- and fork-started workers."""

import os
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

# functions of this module run on the workers: pickled by value, not imported there
import cloudpickle  # noqa: E402

from divergences import pairwise  # noqa: E402
from divergences.distributed._pairwise import numba_threads, task_threads  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def histograms(seed, n, bins):
    rng = np.random.default_rng(seed)
    X = rng.random((n, bins))
    X[rng.random(X.shape) < 0.3] = 0
    X[:, 0] += 0.1
    X[5] = X[4]  # a duplicate row: ties in the k-nearest
    return X


RNG = np.random.default_rng(0)
S2 = RNG.random((12, 2))
CASES = [
    {"metric": "js"},
    {"metric": "kl"},
    {"metric": "wasserstein", "support": S2},
    {"metric": "wasserstein", "support": np.arange(12.0) ** 1.5, "p": 2},
    {"metric": "sliced", "support": S2, "seed": 0, "n_projections": 10},
]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    X = histograms(0, 30, 12)
    for kw in CASES:  # compiled here first: the workers load the kernels from the cache
        pairwise(X, **kw)
        pairwise(X[:4], X, k=2, **kw)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


@pytest.mark.parametrize("case", range(len(CASES)))
def test_dask_equals_in_process(client, case):
    kw = CASES[case]
    X = histograms(1, 30, 12)
    Y = histograms(2, 9, 12)
    dX = da.from_array(X, chunks=(7, -1))
    dY = da.from_array(Y, chunks=(4, 6))  # columns in two chunks: rechunked to rows
    got = client.compute([pairwise(dX, **kw), pairwise(dX, dY, **kw), *pairwise(dX, k=4, **kw),
                          *pairwise(dX, Y, k=3, **kw)], sync=True)
    np.testing.assert_array_equal(got[0], pairwise(X, **kw))
    np.testing.assert_array_equal(got[1], pairwise(X, Y, **kw))
    for g, ref in zip(got[2:4], pairwise(X, k=4, **kw), strict=True):
        np.testing.assert_array_equal(g, ref)
    for g, ref in zip(got[4:], pairwise(X, Y, k=3, **kw), strict=True):
        np.testing.assert_array_equal(g, ref)


def _die_once(block, marker, block_info=None):
    """The first time block 2 is computed, its worker process dies (os._exit)."""
    if block_info[0]["chunk-location"][0] == 2 and not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(1)
    return block


def test_a_killed_worker_costs_time_not_results(client, tmp_path):
    X = histograms(3, 48, 12)
    kw = {"metric": "wasserstein", "support": S2}
    before = set(client.run(os.getpid).values())
    marker = str(tmp_path / "died")
    dX = da.from_array(X, chunks=(6, -1)).map_blocks(_die_once, marker, dtype=float)
    D, (idx, dist) = client.compute([pairwise(dX, **kw), pairwise(dX, k=5, **kw)], sync=True)
    assert os.path.exists(marker)  # a worker did die
    client.wait_for_workers(2, timeout=60)
    assert set(client.run(os.getpid).values()) != before  # and was replaced
    np.testing.assert_array_equal(D, pairwise(X, **kw))
    ref = pairwise(X, k=5, **kw)
    np.testing.assert_array_equal(idx, ref[0])
    np.testing.assert_array_equal(dist, ref[1])


def _threads_in_a_task(hosts):
    with numba_threads(task_threads(hosts)):
        import numba

        return numba.get_num_threads()


def test_numba_threads_times_workers_fit_the_cores(client):
    from divergences.distributed._pairwise import host_threads

    hosts = host_threads()
    assert sum(hosts.values()) == 2  # 2 workers x 1 thread, one host
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    got = client.run(_threads_in_a_task, hosts)
    assert set(got.values()) == {max(1, cores // 2)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_fork_started_workers(client):
    import dask
    from distributed import Client, LocalCluster

    X = histograms(4, 120, 64)  # 120 x 120 x 64 bins: the parallel kernel, here and there
    ref = pairwise(X)
    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster, Client(cluster) as fork_client:
        got = fork_client.compute(pairwise(da.from_array(X, chunks=(120, -1))), sync=True)
    np.testing.assert_array_equal(got, ref)


def test_chunks_across_the_parallel_threshold_give_the_same_bits():
    """Chunks of 530 rows of 256 bins are validated by the threaded scan, the last of 70
    rows by the serial one; the row sums (hence every value) must not depend on that."""
    import dask

    rng = np.random.default_rng(9)
    X = rng.gamma(0.5, size=(600, 256))
    with dask.config.set(scheduler="sync"):
        dX = da.from_array(X, chunks=(530, -1))
        np.testing.assert_array_equal(pairwise(dX, metric="js").compute(), pairwise(X))
        got = da.compute(*pairwise(dX, metric="js", k=3))
    for g, ref in zip(got, pairwise(X, k=3), strict=True):
        np.testing.assert_array_equal(g, ref)
