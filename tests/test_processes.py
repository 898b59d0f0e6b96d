"""Parallel kernels in worker processes and threads (issue 12, defect 13).

Each check runs in a fresh interpreter: a parallel kernel runs first in the parent, then
workers started by ``fork`` (the Linux default of :mod:`multiprocessing`), by ``spawn``,
and by threads call parallel kernels too. With GNU OpenMP as numba's threading layer the
forked workers abort and the pool never returns; the package makes numba choose TBB.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")

_SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing as mp, sys
    from concurrent.futures import ThreadPoolExecutor
    import numpy as np
    from divergences import kl, pairwise, sinkhorn_divergence, wasserstein, wasserstein_1d

    rng = np.random.default_rng(0)
    X = rng.random((400, 64))
    x, y = rng.normal(size=(2, 600, 2))            # 360,000 costs: the parallel sweeps
    p, q = rng.random((2, 2_000_000))
    A, B = rng.normal(size=(2, 2000, 600))

    def work(i):
        return [float(wasserstein(x[:5], y[:5] + i)),             # exact LP
                float(pairwise(X + i).sum()),                      # parallel pairwise kernel
                float(kl(p + i, q)),                               # parallel row kernel
                float(wasserstein_1d(A + i, B).sum()),             # parallel batch of 1-D
                float(sinkhorn_divergence(x, y + i, reg=0.1))]     # parallel Sinkhorn sweeps

    if __name__ == "__main__":
        parent = [work(i) for i in range(3)]                  # parallel kernels start here
        out = {"parent": parent}
        for method in sys.argv[1:]:
            if method == "threads":
                with ThreadPoolExecutor(3) as ex:
                    out[method] = list(ex.map(work, range(3)))
            else:
                with mp.get_context(method).Pool(2) as pool:
                    out[method] = pool.map_async(work, range(3)).get(timeout=120)
        import numba
        out["layer"] = numba.threading_layer()  # raises unless a parallel kernel ran
        print(json.dumps(out))
    """
)


def _run(tmp_path, *methods):
    import json

    script = tmp_path / "workers.py"  # a file: forkserver and spawn import the main module
    script.write_text(_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, str(script), *methods],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1]), proc.stderr


def _tbb_installed():
    from divergences import _threads

    return any(os.path.isfile(p) for p in _threads._tbb_candidates())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork default on Linux")
def test_forked_pool_after_a_parallel_kernel_returns_the_same_values(tmp_path):
    if not _tbb_installed():  # GNU OpenMP: the forked children abort (see docs/guide.rst)
        pytest.skip("no TBB library: numba's GNU OpenMP layer is not fork-safe")
    out, _ = _run(tmp_path, "fork", "forkserver", "threads")
    for method in ("fork", "forkserver", "threads"):
        np.testing.assert_allclose(out[method], out["parent"], rtol=1e-12, err_msg=method)
    assert out["layer"] == "tbb"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="GNU OpenMP is Linux")
def test_a_chosen_layer_is_respected_and_gnu_openmp_warns_in_the_forked_child():
    """NUMBA_THREADING_LAYER wins over the preference for TBB; where the layer is GNU
    OpenMP a forked child gets a warning naming the remedies (here the children run no
    parallel kernel: the parent only checks the warning reaches stderr)."""
    script = textwrap.dedent(
        """
        import multiprocessing as mp, warnings
        import numpy as np, numba
        from divergences import wasserstein_1d
        wasserstein_1d(np.zeros((2000, 600)), np.ones((2000, 600)))  # a parallel kernel runs
        print(numba.threading_layer())
        def child(_):
            return 0
        with mp.get_context("fork").Pool(1) as pool:
            pool.map(child, [0])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", script], capture_output=True, text=True,
        timeout=300, env=dict(os.environ, NUMBA_THREADING_LAYER="omp"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == "omp"
    assert "pip install tbb" in proc.stderr
